//! Writing a new statement: the digests of a snapshot with a change applied, signed. With the
//! previous (trusted) statement, only the shards the change touches are rebuilt; without it
//! (`init`, `sign`), everything is hashed from the snapshot's files.

use std::collections::BTreeMap;

use super::snapshot::{SecretFiles, Snapshot};
use crate::Result;
use crate::changeset::ChangeSet;
use crate::format::{ENC_SUFFIX, META_SUFFIX, SECRETS_DIR, VAULT_DIR};
use crate::integrity::{
    Digest256, KeyChange, STATEMENT_PATH, Shard, SigningKey, Statement, StatementVersion, VaultId,
    sha256, shard_name, shard_path,
};
use crate::names::SecretPath;

/// What the new statement says besides digests.
pub(super) struct Header {
    pub vault: VaultId,
    pub seq: u64,
    pub key_changes: Vec<KeyChange>,
    pub owners: BTreeMap<String, Digest256>,
}

/// Whether a repository-relative path is covered by the statement's `file` lines, and its
/// name there.
fn policy_name(path: &str) -> Option<&str> {
    let rel = path.strip_prefix(VAULT_DIR)?.strip_prefix('/')?;
    (!rel.starts_with("secrets/") && !rel.starts_with("integrity/")).then_some(rel)
}

/// The secret a repository-relative file under `secrets/` belongs to.
fn secret_of(path: &str) -> Option<&str> {
    let rest = path.strip_prefix(SECRETS_DIR)?.strip_prefix('/')?;
    rest.strip_suffix(ENC_SUFFIX)
        .or_else(|| rest.strip_suffix(META_SUFFIX))
}

/// The statement of `snapshot` with `changes` applied, signed by `key`, and the files to
/// commit for it (touched shards and the statement).
pub(super) fn restate(
    snapshot: Option<&Snapshot<'_>>,
    previous: Option<&Statement>,
    changes: &ChangeSet,
    header: Header,
    key: &SigningKey,
) -> Result<(ChangeSet, Statement)> {
    let mut statement = Statement {
        version: StatementVersion::V2,
        vault: Some(header.vault),
        verify_key: key.verify_key(),
        seq: header.seq,
        key_changes: header.key_changes,
        owners: header.owners,
        files: BTreeMap::new(),
        shards: BTreeMap::new(),
    };
    let mut touched: BTreeMap<String, Shard> = BTreeMap::new();
    match previous {
        Some(previous) => {
            statement.files = previous.files.clone();
            statement.shards = previous.shards.clone();
        }
        None => {
            for (name, bytes) in snapshot.map(Snapshot::policy_files).into_iter().flatten() {
                statement.files.insert(name.clone(), sha256(bytes));
            }
            for (secret, files) in snapshot
                .and_then(Snapshot::all_secrets)
                .into_iter()
                .flatten()
            {
                update(
                    touched.entry(shard_name(secret)).or_default(),
                    secret,
                    files,
                );
            }
        }
    }
    for (path, contents) in changes.iter() {
        if let Some(name) = policy_name(path) {
            match contents {
                Some(bytes) => statement.files.insert(name.to_owned(), sha256(bytes)),
                None => statement.files.remove(name),
            };
        } else if let Some(secret) = secret_of(path) {
            let name = shard_name(secret);
            if !touched.contains_key(&name) {
                // Only an incremental restate gets here without the shard: the previous one.
                let shard = match snapshot {
                    Some(snapshot) if previous.is_some() => snapshot.shard(&name)?,
                    _ => Shard::default(),
                };
                touched.insert(name.clone(), shard);
            }
            let files = current(snapshot, changes, secret)?;
            update(
                touched.get_mut(&name).expect("inserted above"),
                secret,
                &files,
            );
        }
    }
    let mut out = ChangeSet::new();
    if previous.is_none() {
        // Shard files no secret hashes to any more (left by a merge or by hand) go.
        for name in snapshot.map(Snapshot::shard_files).into_iter().flatten() {
            if !touched.contains_key(name) {
                out.delete(shard_path(name));
            }
        }
    }
    for (name, shard) in touched {
        if shard.0.is_empty() {
            statement.shards.remove(&name);
            out.delete(shard_path(&name));
        } else {
            let bytes = shard.to_bytes();
            statement.shards.insert(name.clone(), sha256(&bytes));
            out.put(shard_path(&name), bytes);
        }
    }
    out.put(STATEMENT_PATH, statement.sign(key));
    Ok((out, statement))
}

/// A secret's files as they will be: staged in `changes`, else as the snapshot holds them.
fn current(
    snapshot: Option<&Snapshot<'_>>,
    changes: &ChangeSet,
    secret: &str,
) -> Result<SecretFiles> {
    let staged = |suffix: &str| changes.get(&format!("{SECRETS_DIR}/{secret}{suffix}"));
    let (enc, meta) = (staged(ENC_SUFFIX), staged(META_SUFFIX));
    let existing = match (
        enc.is_none() || meta.is_none(),
        snapshot,
        SecretPath::parse(secret),
    ) {
        (true, Some(snapshot), Ok(path)) => snapshot.secret(&path)?,
        _ => SecretFiles::default(),
    };
    Ok(SecretFiles {
        enc: enc.map_or(existing.enc, |e| e.map(<[u8]>::to_vec)),
        meta: meta.map_or(existing.meta, |m| m.map(<[u8]>::to_vec)),
    })
}

/// Sets a secret's entry in its shard: its two digests (all zeros for a missing file, so a
/// half-present secret is signed as such and `check` reports it as missing), or no entry.
fn update(shard: &mut Shard, secret: &str, files: &SecretFiles) {
    match (&files.enc, &files.meta) {
        (None, None) => {
            shard.0.remove(secret);
        }
        (enc, meta) => {
            let digest = |b: &Option<Vec<u8>>| b.as_deref().map_or([0; 32], sha256);
            shard
                .0
                .insert(secret.to_owned(), (digest(enc), digest(meta)));
        }
    }
}
