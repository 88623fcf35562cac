//! `sign`: the owner vouches for the vault's current state after reviewing it — adopting an
//! unsigned vault, re-signing after a merge or a reviewed hand edit, or replacing the signing
//! key (`--new-key`, vouched for by the old key when it is the trusted one).
//!
//! Only trusted sources decide the key and the sequence number: a statement this owner's rules
//! accept, or this machine's pin, or `AGENT_VAULT_VERIFY_KEY`. An unverified statement's
//! sequence number never counts (a pusher's `seq 18446744073709551615` must not wrap), and a
//! signing key nobody vouched for is never used.

use super::change::endorsements;
use super::restate::{self, Header};
use super::snapshot::{Mode, Snapshot, rel};
use super::trust::judge;
use super::{Outcome, Vault};
use crate::changeset::ChangeSet;
use crate::error::Problem;
use crate::format::{
    ENC_SUFFIX, GITATTRIBUTES_CONTENT, GITATTRIBUTES_PATH, GITIGNORE_PATH, META_SUFFIX,
    SECRETS_DIR, SecretMetaFile, secret_meta_path,
};
use crate::git::CommitMessage;
use crate::integrity::{
    KeyChange, SIGNING_KEY_PATH, SigningKey, Statement, VaultId, VerifyKey, key_change_message,
};
use crate::keys;
use crate::names::DEFAULT_GROUP;
use crate::pins::Pins;
use crate::{Error, Result, crypto};

/// What `sign` did.
#[derive(Debug)]
pub struct SignOutcome {
    /// The commit (none when the vault was already signed as it is).
    pub outcome: Outcome,
    /// The key the vault is now signed with.
    pub verify_key: VerifyKey,
    /// The vault's identity.
    pub vault: VaultId,
    /// How the signed state differs from the last trusted statement (what was adopted).
    pub adopted: Vec<Problem>,
    /// Whether the signing key changed, and whether the old key vouched for the new one.
    pub new_key: bool,
    pub vouched: bool,
}

/// What the owner's machine trusts before signing.
struct Base {
    key: Option<VerifyKey>,
    /// The key of a statement present but trusted by nothing here, when nothing else is
    /// trusted either.
    unconfirmed: Option<VerifyKey>,
    /// The key of a statement present but not trusted (replaced by this signature).
    replaced: Option<VerifyKey>,
    seq: u64,
    vault: Option<VaultId>,
    chain: Vec<KeyChange>,
    statement: Option<Statement>,
}

impl Vault {
    /// Signs the vault's current state (see the module docs). With `force`, signs even when
    /// `check` reports errors.
    pub fn sign(&self, new_key: bool, force: bool) -> Result<SignOutcome> {
        let lock = self.lock_clean()?;
        let base_notes = self.check_base()?;
        let owner = keys::load_owner(self.home())?;
        let tree = self
            .repo
            .head_tree()?
            .ok_or_else(|| Error::VaultNotFound(self.repo.workdir().to_path_buf()))?;
        let base = self.trusted_base(&owner)?;
        // Everything as it is now: this is what the owner reviewed and signs.
        let (mut snapshot, _) = Snapshot::build(tree, None, Mode::Unverified)?;
        snapshot.load_all(&self.settings.progress)?;
        let owners = self.reviewed(&snapshot, &owner, force)?;
        let adopted = match &base.statement {
            Some(statement) => self.differences(statement)?,
            None => Vec::new(),
        };
        let (mut files, migrated) = migrate_layout(&snapshot)?;
        if base.statement.is_some() && adopted.is_empty() && files.is_empty() && !new_key {
            return Ok(SignOutcome {
                outcome: Outcome::unchanged(
                    "the vault is already signed exactly as it is; nothing to do".into(),
                ),
                verify_key: base.key.expect("a trusted statement has a key"),
                vault: base.vault.expect("a trusted statement has an identity"),
                adopted,
                new_key: false,
                vouched: false,
            });
        }
        let existing = match snapshot.policy_file(rel(SIGNING_KEY_PATH)) {
            Some(_) => Some(self.signing_key(&snapshot, &owner)?),
            None => None,
        };
        let seq = base.seq.checked_add(1).ok_or_else(|| {
            Error::integrity(Problem::BadStatement {
                why: "has the largest possible sequence number".into(),
            })
        })?;
        let vault = match base.vault {
            Some(vault) => vault,
            None => VaultId::generate()?,
        };
        if snapshot.policy_file(rel(GITATTRIBUTES_PATH)).is_none() {
            files.put(
                GITATTRIBUTES_PATH,
                GITATTRIBUTES_CONTENT.as_bytes().to_vec(),
            );
        }
        let signer = choose_key(&base, existing, new_key, &vault, seq)?;
        if signer.fresh {
            let text = signer.key.to_text();
            files.put(SIGNING_KEY_PATH, crypto::encrypt(text.as_bytes(), &owners)?);
        }
        let header = Header {
            vault,
            seq,
            key_changes: signer.chain,
            owners: endorsements(&owner, &owners, &vault, &signer.key.verify_key(), None),
        };
        let (signature, statement) =
            restate::restate(Some(&snapshot), None, &files, header, &signer.key)?;
        files.extend(signature);
        super::change::check_leaks(&files)?;
        let message = CommitMessage::new("sign", format!("sign vault state {seq}"))
            .trailer("Verify-Key", signer.key.verify_key())
            .trailer("Vault", vault);
        let commit = self.repo.commit(&lock, &files, &message)?;
        let mut notes = base_notes;
        notes.extend(migrated);
        if let Some(replaced) = base.replaced {
            notes.push(format!(
                "replaced a statement signed by {replaced}, which nothing on this machine vouches for"
            ));
        }
        if commit.is_some() {
            notes.extend(self.signed_committed(&statement)?);
        }
        Ok(SignOutcome {
            outcome: Outcome {
                commit,
                notes,
                ..Outcome::default()
            },
            verify_key: signer.key.verify_key(),
            vault,
            adopted,
            new_key: base.key != Some(signer.key.verify_key()),
            vouched: signer.vouched,
        })
    }

    /// The checks on what is about to be signed: it parses, this key is one of its owners, and
    /// `check` finds no error (unless `force`). Returns the owners' recipients.
    fn reviewed(
        &self,
        snapshot: &Snapshot<'_>,
        owner: &keys::Identities,
        force: bool,
    ) -> Result<Vec<age::x25519::Recipient>> {
        snapshot.config()?;
        let manifest = snapshot.manifest()?;
        let owners = snapshot.owner_recipients(&manifest)?;
        if !owner.matches_any(&owners) {
            return Err(super::change::not_owner(owner, &owners));
        }
        let errors: Vec<String> = super::audit::run(
            snapshot,
            self.home(),
            crate::time::now(),
            chrono::Duration::zero(),
        )
        .into_iter()
        .filter(|f| f.severity == super::audit::Severity::Error && f.code != "key-permissions")
        .map(|f| format!("{}: {}", f.subject, f.message))
        .collect();
        if !errors.is_empty() && !force {
            return Err(Error::Invalid(format!(
                "`check` reports {} error(s), so the vault is not signed as it is:\n  {}\nFix them (or sign anyway with --force)",
                errors.len(),
                errors.join("\n  ")
            )));
        }
        Ok(owners)
    }

    /// The key, sequence number, identity and chain this machine trusts: from a statement the
    /// owner's rules accept, else from the pin, else from `AGENT_VAULT_VERIFY_KEY`.
    fn trusted_base(&self, owner: &keys::Identities) -> Result<Base> {
        let tree = self
            .repo
            .head_tree()?
            .ok_or_else(|| Error::VaultNotFound(self.repo.workdir().to_path_buf()))?;
        let pins = Pins::new(self.home()).state(self.location())?;
        let anchors = self.anchors(None, None)?;
        let parsed = match super::trust::read_statement(&tree)? {
            Some(bytes) => Statement::parse_and_verify(&bytes).ok(),
            None => None,
        };
        let pin = pins
            .bound
            .as_ref()
            .and_then(|id| pins.vault(id))
            .or(pins.legacy.as_ref())
            .cloned();
        if let Some(statement) = &parsed
            && judge(
                statement,
                &pins,
                &anchors,
                Some(owner),
                true,
                self.location(),
            )
            .is_ok()
        {
            return Ok(Base {
                key: Some(statement.verify_key),
                unconfirmed: None,
                replaced: None,
                seq: statement.seq.max(pin.map_or(0, |p| p.seq)),
                vault: statement.vault,
                chain: statement.key_changes.clone(),
                statement: Some(statement.clone()),
            });
        }
        let bound = pins.bound.as_deref().and_then(VaultId::parse);
        let (key, seq) = match (&pin, anchors.first()) {
            (Some(pin), _) => (VerifyKey::parse_canonical(&pin.verify_key), pin.seq),
            (None, Some(anchor)) => (Some(*anchor), 0),
            (None, None) => (None, 0),
        };
        // A genuine older statement (e.g. the side of a merge taken) keeps its chain.
        let chain = parsed
            .as_ref()
            .filter(|s| Some(s.verify_key) == key && (bound.is_none() || s.vault == bound))
            .map(|s| s.key_changes.clone())
            .unwrap_or_default();
        let vault = bound.or_else(|| {
            parsed
                .as_ref()
                .filter(|s| Some(s.verify_key) == key)
                .and_then(|s| s.vault)
        });
        Ok(Base {
            unconfirmed: parsed
                .as_ref()
                .map(|s| s.verify_key)
                .filter(|_| key.is_none()),
            replaced: parsed.as_ref().map(|s| s.verify_key),
            key,
            seq,
            vault,
            chain,
            statement: None,
        })
    }

    /// How HEAD differs from a trusted statement.
    fn differences(&self, statement: &Statement) -> Result<Vec<Problem>> {
        let tree = self
            .repo
            .head_tree()?
            .ok_or_else(|| Error::VaultNotFound(self.repo.workdir().to_path_buf()))?;
        let (mut snapshot, mut problems) =
            Snapshot::build(tree, Some(statement.clone()), Mode::Checked)?;
        problems.extend(snapshot.load_all(&self.settings.progress)?);
        Ok(problems)
    }
}

/// The key a signature is made with.
struct Signer {
    key: SigningKey,
    /// Generated now (to be encrypted into `signing.key.age`).
    fresh: bool,
    /// The key-change chain of the new statement.
    chain: Vec<KeyChange>,
    /// Whether the previous (trusted) key vouched for a new one.
    vouched: bool,
}

/// The trusted key when it is the one in `signing.key.age`; a new key (vouched for by the
/// trusted one when possible) with `new_key` or for an unsigned vault; refusal otherwise.
fn choose_key(
    base: &Base,
    existing: Option<SigningKey>,
    new_key: bool,
    vault: &VaultId,
    seq: u64,
) -> Result<Signer> {
    let mut chain = base.chain.clone();
    match (new_key, base.key, existing) {
        (false, Some(trusted), Some(existing)) if existing.verify_key() == trusted => Ok(Signer {
            key: existing,
            fresh: false,
            chain,
            vouched: false,
        }),
        (false, Some(trusted), found) => Err(Error::integrity(Problem::SigningKeyReplaced {
            found: found.map_or_else(|| "nothing".into(), |k| k.verify_key().to_string()),
            expected: trusted.to_string(),
        })),
        (false, None, _) if base.unconfirmed.is_some() => {
            Err(Error::integrity(Problem::Unconfirmed {
                found: base.unconfirmed.map(|k| k.to_string()).unwrap_or_default(),
            }))
        }
        (new_key, trusted, existing) => {
            let key = SigningKey::generate()?;
            let mut vouched = false;
            if new_key
                && let (Some(trusted), Some(old)) = (trusted, existing)
                && old.verify_key() == trusted
            {
                let message = key_change_message(vault, seq, &trusted, &key.verify_key());
                chain.push(KeyChange {
                    seq,
                    from: trusted,
                    signature: old.sign(&message),
                });
                vouched = true;
            } else {
                chain.clear();
            }
            Ok(Signer {
                key,
                fresh: true,
                chain,
                vouched,
            })
        }
    }
}

/// What adopting a vault written by agent-vault 0.1.0 changes, as files to commit with the
/// signature, and a note for each change: single-segment secrets move from `secrets/default/P`
/// to `secrets/P` (the path agents use is unchanged), `.gitignore` stops hiding agents' public
/// keys, and agents `set --agents` added are recorded as extra agents, so later grants and
/// revokes keep them.
fn migrate_layout(snapshot: &Snapshot<'_>) -> Result<(ChangeSet, Vec<String>)> {
    let mut files = ChangeSet::new();
    let mut notes = Vec::new();
    let all = snapshot.all_secrets().cloned().unwrap_or_default();
    for secret in snapshot.legacy_secrets() {
        let files_of = &all[&secret];
        let old = format!("{DEFAULT_GROUP}/{secret}");
        for (suffix, bytes) in [(ENC_SUFFIX, &files_of.enc), (META_SUFFIX, &files_of.meta)] {
            files.delete(format!("{SECRETS_DIR}/{old}{suffix}"));
            if let Some(bytes) = bytes {
                files.put(format!("{SECRETS_DIR}/{secret}{suffix}"), bytes.clone());
            }
        }
        notes.push(format!(
            "moved '{secret}' from secrets/{old}.* (agent-vault 0.1.0's place for it) to secrets/{secret}.*; its path is unchanged"
        ));
    }
    if let Some(ignore) = snapshot.policy_file(rel(GITIGNORE_PATH)) {
        let text = String::from_utf8_lossy(ignore);
        let missing: Vec<&str> = ["!public.key", "!*.escrow"]
            .into_iter()
            .filter(|rule| !text.lines().any(|l| l.trim() == *rule))
            .collect();
        if !missing.is_empty() {
            let mut fixed = text.into_owned();
            if !fixed.ends_with('\n') && !fixed.is_empty() {
                fixed.push('\n');
            }
            for rule in &missing {
                fixed.push_str(rule);
                fixed.push('\n');
            }
            files.put(GITIGNORE_PATH, fixed.into_bytes());
            notes.push(format!(
                "added {} to .agent-vault/.gitignore so that agents' public keys are never left out of git",
                missing.join(" and ")
            ));
        }
    }
    let manifest = snapshot.manifest()?;
    for (secret, group) in manifest.all_secrets() {
        let Some(bytes) = all.get(&secret).and_then(|f| f.meta.as_ref()) else {
            continue;
        };
        let meta_path = secret_meta_path(&secret);
        // An unparsable one is `check`'s to report (and `--force`'s to sign as it is).
        let Ok(mut meta) = SecretMetaFile::parse(&meta_path, bytes) else {
            continue;
        };
        let in_group = manifest.agents_in_group(&group);
        let extras: Vec<String> = meta
            .authorized_agents
            .iter()
            .filter(|a| !in_group.contains(a) && manifest.agent(a).is_some())
            .cloned()
            .collect();
        if meta.extra_agents.is_empty() && !extras.is_empty() {
            notes.push(format!(
                "recorded [{}] as extra agents of '{secret}' (granted by agent-vault 0.1.0's set --agents)",
                extras.join(", ")
            ));
            meta.extra_agents = extras;
            // (For a secret moved above, this replaces the moved bytes at the new place.)
            files.put(meta_path, meta.to_yaml());
        }
    }
    Ok((files, notes))
}
