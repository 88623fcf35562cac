//! Tamper evidence: the owner signs the vault's state; readers verify before they trust.
//!
//! The signed **statement** (`.agent-vault/integrity/statement`) is a short text file holding
//! a sequence number, the SHA-256 of every vault file that is not a secret (config, manifest,
//! owner keys, agents' keys and escrows, the encrypted signing key), and the SHA-256 of each
//! non-empty **shard**. Shards (`.agent-vault/integrity/shards/<xx>`) list, for the secrets whose
//! path hashes to prefix `xx`, the SHA-256 of the secret's `.enc` and `.meta`. So:
//!
//! * one `set` rewrites the secret's two files, one shard (about 1/256 of the secrets) and the
//!   statement (bounded by the number of agents and shards, not secrets);
//! * a reader verifies one secret by checking one signature and hashing the statement, one
//!   shard and the secret's two files — never the whole vault.
//!
//! See `docs/format.md` for the byte-level format and `docs/threat-model.md` for what this
//! protects against.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, Signer as _, SigningKey as DalekSigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::format::{ENC_SUFFIX, META_SUFFIX, SECRETS_DIR, VAULT_DIR};
use crate::git::{ChangeSet, Source};
use crate::{Error, Result};

/// The signed statement.
pub const STATEMENT_PATH: &str = ".agent-vault/integrity/statement";
/// Folder of shard files.
pub const SHARDS_DIR: &str = ".agent-vault/integrity/shards";
/// The vault signing key, age-encrypted to the owners.
pub const SIGNING_KEY_PATH: &str = ".agent-vault/signing.key.age";
/// Environment variable with the expected verify key.
pub const VERIFY_KEY_ENV: &str = "AGENT_VAULT_VERIFY_KEY";
/// The comment prefix in identity files that names the vault's verify key.
pub const KEY_FILE_COMMENT: &str = "agent-vault verify-key:";

const HEADER: &str = "agent-vault-statement v1";
const SIGNING_KEY_PREFIX: &str = "AGENT-VAULT-SIGNING-KEY-ED25519-";

/// A SHA-256 digest.
pub type Digest256 = [u8; 32];

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> Digest256 {
    Sha256::digest(bytes).into()
}

/// The public half of the vault signing key, written `ed25519:<base64>`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct VerifyKey(VerifyingKey);

impl fmt::Display for VerifyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ed25519:{}", BASE64.encode(self.0.to_bytes()))
    }
}

impl fmt::Debug for VerifyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifyKey({self})")
    }
}

impl FromStr for VerifyKey {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let invalid = || {
            Error::Invalid(format!(
                "'{}' is not a vault verify key (expected ed25519:<base64>, as printed by `agent-vault verify`)",
                s.chars().take(80).collect::<String>().escape_debug()
            ))
        };
        let b64 = s.trim().strip_prefix("ed25519:").ok_or_else(invalid)?;
        let bytes: [u8; 32] = BASE64
            .decode(b64)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(invalid)?;
        VerifyingKey::from_bytes(&bytes)
            .map(VerifyKey)
            .map_err(|_| invalid())
    }
}

/// The private half of the vault signing key. Zeroized on drop.
pub struct SigningKey(DalekSigningKey);

impl SigningKey {
    /// A new random key.
    pub fn generate() -> Result<Self> {
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(seed.as_mut())
            .map_err(|e| Error::Invalid(format!("the system random generator failed: {e}")))?;
        Ok(SigningKey(DalekSigningKey::from_bytes(&seed)))
    }

    /// Its public half.
    pub fn verify_key(&self) -> VerifyKey {
        VerifyKey(self.0.verifying_key())
    }

    /// The text stored (encrypted) in the vault: one line, zeroized on drop.
    pub fn to_text(&self) -> Zeroizing<String> {
        let seed = Zeroizing::new(self.0.to_bytes());
        Zeroizing::new(format!(
            "{SIGNING_KEY_PREFIX}{}\n",
            BASE64.encode(&seed[..])
        ))
    }

    /// Parses the text made by [`SigningKey::to_text`].
    pub fn from_text(text: &[u8]) -> Result<Self> {
        let bad = || {
            Error::Integrity(format!(
                "{SIGNING_KEY_PATH} does not hold a signing key; restore it from git history"
            ))
        };
        let text = std::str::from_utf8(text).map_err(|_| bad())?;
        let b64 = text
            .trim()
            .strip_prefix(SIGNING_KEY_PREFIX)
            .ok_or_else(bad)?;
        let seed = Zeroizing::new(BASE64.decode(b64).map_err(|_| bad())?);
        let seed: &[u8; 32] = seed.as_slice().try_into().map_err(|_| bad())?;
        Ok(SigningKey(DalekSigningKey::from_bytes(seed)))
    }
}

/// The signed statement of a vault state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The key that signed it.
    pub verify_key: VerifyKey,
    /// Increases by one with every owner operation.
    pub seq: u64,
    /// SHA-256 of every non-secret vault file, keyed by path relative to `.agent-vault/`.
    pub files: BTreeMap<String, Digest256>,
    /// SHA-256 of every non-empty shard file, keyed by shard name (`00`…`ff`).
    pub shards: BTreeMap<String, Digest256>,
}

impl Statement {
    fn body(&self) -> String {
        let mut body = format!(
            "{HEADER}\nverify-key {}\nseq {}\n",
            self.verify_key, self.seq
        );
        for (path, digest) in &self.files {
            body.push_str(&format!("file {} {path}\n", hex::encode(digest)));
        }
        for (shard, digest) in &self.shards {
            body.push_str(&format!("shard {} {shard}\n", hex::encode(digest)));
        }
        body
    }

    /// The file's bytes: the body and its signature line.
    pub fn sign(&self, key: &SigningKey) -> Vec<u8> {
        debug_assert_eq!(key.verify_key(), self.verify_key);
        let body = self.body();
        let signature = key.0.sign(body.as_bytes());
        format!("{body}signature {}\n", BASE64.encode(signature.to_bytes())).into_bytes()
    }

    /// Parses a statement and checks its signature against the key it names. Whether that
    /// key is the *right* one is the caller's decision (see [`Anchor`]).
    pub fn parse_and_verify(bytes: &[u8]) -> Result<Self> {
        let bad = |why: &str| {
            Error::Integrity(format!(
                "{STATEMENT_PATH} {why}; run `agent-vault verify` for details"
            ))
        };
        let text = std::str::from_utf8(bytes).map_err(|_| bad("is not text"))?;
        if text
            .lines()
            .any(|l| l.starts_with("<<<<<<< ") || l.starts_with(">>>>>>> "))
        {
            return Err(Error::Integrity(format!(
                "{STATEMENT_PATH} has git merge conflict markers: two owners changed the vault at the same time. Finish the merge (resolve the other files; for the statement and shards take either side, e.g. `git checkout --theirs .agent-vault/integrity`), commit it, review the result with `agent-vault verify`, then re-sign with `agent-vault sign`"
            )));
        }
        let split = text
            .rfind("signature ")
            .ok_or_else(|| bad("has no signature"))?;
        let (body, signature_line) = text.split_at(split);
        if !body.is_empty() && !body.ends_with('\n') {
            return Err(bad("has no signature"));
        }
        let signature_b64 = signature_line["signature ".len()..].trim_end_matches('\n');
        if signature_b64.contains('\n') {
            return Err(bad("has text after its signature"));
        }
        let signature: [u8; 64] = BASE64
            .decode(signature_b64)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| bad("has a malformed signature"))?;
        let mut lines = body.lines();
        if lines.next() != Some(HEADER) {
            return Err(bad("is not an agent-vault v1 statement"));
        }
        let verify_key: VerifyKey = lines
            .next()
            .and_then(|l| l.strip_prefix("verify-key "))
            .ok_or_else(|| bad("names no verify key"))?
            .parse()
            .map_err(|_| bad("names an invalid verify key"))?;
        let seq: u64 = lines
            .next()
            .and_then(|l| l.strip_prefix("seq "))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("has no sequence number"))?;
        let mut files = BTreeMap::new();
        let mut shards = BTreeMap::new();
        // Canonical form, checked line by line: lowercase hex digests, `file` lines before
        // `shard` lines, each kind strictly sorted by name (so no duplicates).
        let mut last_file: Option<&str> = None;
        let mut last_shard: Option<&str> = None;
        for line in lines {
            let malformed = || bad("has a malformed line");
            let mut parts = line.splitn(3, ' ');
            let (kind, digest, name) = (parts.next(), parts.next(), parts.next());
            let digest = digest.and_then(parse_digest).ok_or_else(malformed)?;
            let name = name.filter(|n| !n.is_empty()).ok_or_else(malformed)?;
            match kind {
                Some("file") if last_shard.is_none() && last_file.is_none_or(|l| l < name) => {
                    last_file = Some(name);
                    files.insert(name.to_owned(), digest);
                }
                Some("shard") if last_shard.is_none_or(|l| l < name) => {
                    last_shard = Some(name);
                    shards.insert(name.to_owned(), digest);
                }
                _ => return Err(bad("is not in canonical form")),
            }
        }
        if !body.starts_with(&format!("{HEADER}\nverify-key {verify_key}\nseq {seq}\n")) {
            return Err(bad("is not in canonical form"));
        }
        let statement = Statement {
            verify_key,
            seq,
            files,
            shards,
        };
        verify_key
            .0
            .verify_strict(body.as_bytes(), &Signature::from_bytes(&signature))
            .map_err(|_| {
                bad("has a signature that does not match its contents (forged or edited)")
            })?;
        Ok(statement)
    }
}

/// Parses a digest written as exactly 64 lowercase hex characters.
fn parse_digest(text: &str) -> Option<Digest256> {
    if text.len() != 64
        || !text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    let mut digest = [0u8; 32];
    hex::decode_to_slice(text, &mut digest).ok()?;
    Some(digest)
}

/// One shard: secret path → (SHA-256 of `.enc`, SHA-256 of `.meta`).
pub type Shard = BTreeMap<String, (Digest256, Digest256)>;

/// The shard a secret belongs to: the hex of the first byte of SHA-256 of its path.
pub fn shard_name(secret: &str) -> String {
    hex::encode(&sha256(secret.as_bytes())[..1])
}

/// Repository-relative path of a shard file.
pub fn shard_path(name: &str) -> String {
    format!("{SHARDS_DIR}/{name}")
}

/// Serializes a shard: one `<enc sha256> <meta sha256> <path>` line per secret, by path.
pub fn shard_to_bytes(shard: &Shard) -> Vec<u8> {
    let mut out = String::new();
    for (path, (enc, meta)) in shard {
        out.push_str(&format!(
            "{} {} {path}\n",
            hex::encode(enc),
            hex::encode(meta)
        ));
    }
    out.into_bytes()
}

/// Parses a shard file.
pub fn shard_from_bytes(name: &str, bytes: &[u8]) -> Result<Shard> {
    let bad = || {
        Error::Integrity(format!(
            "shard {} is malformed; run `agent-vault verify`",
            shard_path(name)
        ))
    };
    let text = std::str::from_utf8(bytes).map_err(|_| bad())?;
    let mut shard = Shard::new();
    for line in text.lines() {
        let mut parts = line.splitn(3, ' ');
        let mut digest =
            || -> Option<Digest256> { hex::decode(parts.next()?).ok()?.try_into().ok() };
        let (enc, meta) = (digest().ok_or_else(bad)?, digest().ok_or_else(bad)?);
        let path = parts.next().ok_or_else(bad)?;
        shard.insert(path.to_owned(), (enc, meta));
    }
    if shard_to_bytes(&shard) != bytes {
        return Err(bad());
    }
    Ok(shard)
}

/// Whether a repository-relative path is covered by the statement's `files` (everything in
/// the vault except secrets and the integrity folder itself).
fn is_policy_file(path: &str) -> Option<&str> {
    let rel = path.strip_prefix(VAULT_DIR)?.strip_prefix('/')?;
    if rel.starts_with("secrets/") || rel.starts_with("integrity/") {
        return None;
    }
    Some(rel)
}

/// The secret a file under `secrets/` belongs to, if any.
fn secret_of(path: &str) -> Option<&str> {
    let rest = path.strip_prefix(SECRETS_DIR)?.strip_prefix('/')?;
    rest.strip_suffix(ENC_SUFFIX)
        .or_else(|| rest.strip_suffix(META_SUFFIX))
}

fn read_shard(source: &Source<'_>, statement: &Statement, name: &str) -> Result<Shard> {
    let path = shard_path(name);
    let Some(expected) = statement.shards.get(name) else {
        return Ok(Shard::new());
    };
    let bytes = source.read(&path)?.ok_or_else(|| {
        Error::Integrity(format!(
            "{path} is missing but the signed statement lists it; run `agent-vault verify`"
        ))
    })?;
    if sha256(&bytes) != *expected {
        return Err(Error::Integrity(format!(
            "{path} was changed after it was signed; run `agent-vault verify`"
        )));
    }
    shard_from_bytes(name, &bytes)
}

/// Checks one non-secret file (e.g. `.agent-vault/manifest.yaml`) against the statement.
pub fn verify_file(statement: &Statement, path: &str, bytes: Option<&[u8]>) -> Result<()> {
    let rel = is_policy_file(path).unwrap_or(path);
    match (statement.files.get(rel), bytes) {
        (Some(expected), Some(bytes)) if sha256(bytes) == *expected => Ok(()),
        (Some(_), Some(_)) => Err(Error::Integrity(format!(
            "{path} was changed after the owner signed the vault; run `agent-vault verify`"
        ))),
        (Some(_), None) => Err(Error::Integrity(format!(
            "{path} was deleted after the owner signed the vault; run `agent-vault verify`"
        ))),
        (None, Some(_)) => Err(Error::Integrity(format!(
            "{path} was added after the owner signed the vault; run `agent-vault verify`"
        ))),
        (None, None) => Ok(()),
    }
}

/// Checks that every signed non-secret file (config, manifest, owner and agent keys,
/// escrows, signing key) is exactly as signed and that no agent files were added. Costs one
/// read and hash per file: a handful plus two per agent.
pub fn verify_policy(source: &Source<'_>, statement: &Statement) -> Result<()> {
    for rel in statement.files.keys() {
        let path = format!("{VAULT_DIR}/{rel}");
        verify_file(statement, &path, source.read(&path)?.as_deref())?;
    }
    for path in source.list_files(crate::format::AGENTS_DIR)? {
        let rel = is_policy_file(&path).unwrap_or(&path);
        if !statement.files.contains_key(rel) {
            verify_file(statement, &path, Some(b""))?;
        }
    }
    Ok(())
}

/// Checks one secret's files against the statement. `None` means the file is absent.
pub fn verify_secret(
    source: &Source<'_>,
    statement: &Statement,
    secret: &str,
    enc: Option<&[u8]>,
    meta: Option<&[u8]>,
) -> Result<()> {
    let shard = read_shard(source, statement, &shard_name(secret))?;
    match (shard.get(secret), enc, meta) {
        (None, None, None) => Ok(()),
        (None, _, _) => Err(Error::Integrity(format!(
            "secret '{secret}' was added after the owner signed the vault (not in the signed state); run `agent-vault verify`"
        ))),
        (Some(_), None, _) | (Some(_), _, None) => Err(Error::Integrity(format!(
            "secret '{secret}' was deleted after the owner signed the vault; run `agent-vault verify`"
        ))),
        (Some((enc_hash, meta_hash)), Some(enc), Some(meta)) => {
            if sha256(enc) != *enc_hash {
                return Err(Error::Integrity(format!(
                    "the ciphertext of '{secret}' is not the one the owner signed (replaced or rolled back); do not use it, run `agent-vault verify`"
                )));
            }
            if sha256(meta) != *meta_hash {
                return Err(Error::Integrity(format!(
                    "the metadata of '{secret}' is not what the owner signed (edited or rolled back); run `agent-vault verify`"
                )));
            }
            Ok(())
        }
    }
}

/// A secret's `.enc` and `.meta` contents, each absent or present.
type SecretFiles = (Option<Vec<u8>>, Option<Vec<u8>>);

/// Every difference between `source` and `statement`, as human-readable lines. Empty means
/// the vault is exactly what was signed.
pub fn verify_all(source: &Source<'_>, statement: &Statement) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let all = source.list_files(VAULT_DIR)?;
    let mut seen_files = BTreeMap::new();
    let mut secrets: BTreeMap<String, SecretFiles> = BTreeMap::new();
    let mut shard_files = Vec::new();
    for path in &all {
        if let Some(rel) = is_policy_file(path) {
            seen_files.insert(rel.to_owned(), path.clone());
        } else if let Some(secret) = secret_of(path) {
            let entry = secrets.entry(secret.to_owned()).or_default();
            let bytes = source.read(path)?;
            if path.ends_with(ENC_SUFFIX) {
                entry.0 = bytes;
            } else {
                entry.1 = bytes;
            }
        } else if let Some(name) = path
            .strip_prefix(SHARDS_DIR)
            .and_then(|p| p.strip_prefix('/'))
        {
            shard_files.push(name.to_owned());
        } else if path != STATEMENT_PATH {
            problems.push(format!(
                "{path}: unexpected file in the vault (not covered by the signature)"
            ));
        }
    }
    for path in seen_files.values() {
        if let Err(e) = verify_file(statement, path, source.read(path)?.as_deref()) {
            problems.push(
                e.to_string()
                    .trim_start_matches("integrity failure: ")
                    .to_owned(),
            );
        }
    }
    for rel in statement.files.keys() {
        if !seen_files.contains_key(rel) {
            problems.push(format!(
                "{VAULT_DIR}/{rel} was deleted after the owner signed the vault"
            ));
        }
    }
    let mut signed_secrets = BTreeMap::new();
    for name in statement.shards.keys() {
        match read_shard(source, statement, name) {
            Ok(shard) => signed_secrets.extend(shard),
            Err(e) => problems.push(
                e.to_string()
                    .trim_start_matches("integrity failure: ")
                    .to_owned(),
            ),
        }
    }
    for name in shard_files {
        if !statement.shards.contains_key(&name) {
            problems.push(format!(
                "{}: shard not listed in the signed statement",
                shard_path(&name)
            ));
        }
    }
    for (secret, (enc, meta)) in &secrets {
        match signed_secrets.get(secret) {
            None => problems.push(format!(
                "secret '{secret}' was added after the owner signed the vault"
            )),
            Some((enc_hash, meta_hash)) => {
                match enc {
                    Some(enc) if sha256(enc) == *enc_hash => {}
                    Some(_) => problems.push(format!("the ciphertext of '{secret}' is not the one the owner signed (replaced or rolled back)")),
                    None => problems.push(format!("the ciphertext of '{secret}' was deleted")),
                }
                match meta {
                    Some(meta) if sha256(meta) == *meta_hash => {}
                    Some(_) => problems.push(format!("the metadata of '{secret}' is not what the owner signed (edited or rolled back)")),
                    None => problems.push(format!("the metadata of '{secret}' was deleted")),
                }
            }
        }
    }
    for secret in signed_secrets.keys() {
        if !secrets.contains_key(secret) {
            problems.push(format!(
                "secret '{secret}' was deleted after the owner signed the vault"
            ));
        }
    }
    Ok(problems)
}

/// The statement (and shard files) describing `source` with `changes` applied, signed with
/// `key` at sequence `seq`. With `previous`, only the shards touched by `changes` are rebuilt;
/// without it, everything is hashed from scratch.
pub fn restate(
    source: &Source<'_>,
    previous: Option<&Statement>,
    changes: &ChangeSet,
    key: &SigningKey,
    seq: u64,
) -> Result<ChangeSet> {
    let current = |path: &str| -> Result<Option<Vec<u8>>> {
        match changes.get(path) {
            Some(staged) => Ok(staged.map(<[u8]>::to_vec)),
            None => source.read(path),
        }
    };
    let mut statement = Statement {
        verify_key: key.verify_key(),
        seq,
        files: BTreeMap::new(),
        shards: BTreeMap::new(),
    };
    let mut touched_shards: BTreeMap<String, Shard> = BTreeMap::new();
    match previous {
        Some(previous) => {
            statement.files = previous.files.clone();
            statement.shards = previous.shards.clone();
            for path in changes.paths() {
                if let Some(rel) = is_policy_file(path) {
                    match current(path)? {
                        Some(bytes) => statement.files.insert(rel.to_owned(), sha256(&bytes)),
                        None => statement.files.remove(rel),
                    };
                } else if let Some(secret) = secret_of(path) {
                    let name = shard_name(secret);
                    if !touched_shards.contains_key(&name) {
                        let shard = read_shard(source, previous, &name)?;
                        touched_shards.insert(name.clone(), shard);
                    }
                    let shard = touched_shards.get_mut(&name).expect("inserted above");
                    update_shard_entry(shard, secret, &current)?;
                }
            }
        }
        None => {
            let mut paths: Vec<String> = source.list_files(VAULT_DIR)?;
            paths.extend(changes.paths().map(str::to_owned));
            paths.sort();
            paths.dedup();
            for path in &paths {
                if let Some(rel) = is_policy_file(path) {
                    if let Some(bytes) = current(path)? {
                        statement.files.insert(rel.to_owned(), sha256(&bytes));
                    }
                } else if let Some(secret) = secret_of(path) {
                    let shard = touched_shards.entry(shard_name(secret)).or_default();
                    update_shard_entry(shard, secret, &current)?;
                }
            }
        }
    }
    let mut out = ChangeSet::new();
    for (name, shard) in touched_shards {
        if shard.is_empty() {
            statement.shards.remove(&name);
            out.delete(shard_path(&name));
        } else {
            let bytes = shard_to_bytes(&shard);
            statement.shards.insert(name.clone(), sha256(&bytes));
            out.put(shard_path(&name), bytes);
        }
    }
    out.put(STATEMENT_PATH, statement.sign(key));
    Ok(out)
}

fn update_shard_entry(
    shard: &mut Shard,
    secret: &str,
    current: &impl Fn(&str) -> Result<Option<Vec<u8>>>,
) -> Result<()> {
    let enc = current(&format!("{SECRETS_DIR}/{secret}{ENC_SUFFIX}"))?;
    let meta = current(&format!("{SECRETS_DIR}/{secret}{META_SUFFIX}"))?;
    match (enc, meta) {
        (None, None) => {
            shard.remove(secret);
        }
        (enc, meta) => {
            // A half-present secret is signed as such (an all-zero digest for the missing
            // file), so `check` still reports it as missing rather than as tampered.
            let digest = |b: Option<Vec<u8>>| b.map(|b| sha256(&b)).unwrap_or([0; 32]);
            shard.insert(secret.to_owned(), (digest(enc), digest(meta)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(key: &SigningKey) -> Statement {
        Statement {
            verify_key: key.verify_key(),
            seq: 7,
            files: [("manifest.yaml".to_owned(), sha256(b"m"))].into(),
            shards: [("0a".to_owned(), sha256(b"s"))].into(),
        }
    }

    #[test]
    fn statement_round_trips_and_detects_tampering() {
        let key = SigningKey::generate().unwrap();
        let signed = statement(&key).sign(&key);
        assert_eq!(
            Statement::parse_and_verify(&signed).unwrap(),
            statement(&key)
        );

        let text = String::from_utf8(signed.clone()).unwrap();
        for forged in [
            text.replace("seq 7", "seq 8"),
            text.replace(&hex::encode(sha256(b"m")), &hex::encode(sha256(b"x"))),
            text[..text.len() - 10].to_owned(),
            text.replace("signature ", "signature A"),
            format!("{text}extra\n"),
        ] {
            assert!(
                matches!(
                    Statement::parse_and_verify(forged.as_bytes()),
                    Err(Error::Integrity(_))
                ),
                "{forged}"
            );
        }
        // Re-signed by another key: valid on its own, but names a different key.
        let other = SigningKey::generate().unwrap();
        let mut resigned = statement(&key);
        resigned.verify_key = other.verify_key();
        let parsed = Statement::parse_and_verify(&resigned.sign(&other)).unwrap();
        assert_ne!(parsed.verify_key, key.verify_key());
    }

    #[test]
    fn signing_key_text_round_trips_and_verify_key_parses() {
        let key = SigningKey::generate().unwrap();
        let again = SigningKey::from_text(key.to_text().as_bytes()).unwrap();
        assert_eq!(again.verify_key(), key.verify_key());
        let shown = key.verify_key().to_string();
        assert_eq!(shown.parse::<VerifyKey>().unwrap(), key.verify_key());
        assert!("ed25519:AAAA".parse::<VerifyKey>().is_err());
    }

    #[test]
    fn shards_round_trip_canonically() {
        let mut shard = Shard::new();
        shard.insert("b/x".into(), (sha256(b"1"), sha256(b"2")));
        shard.insert("a y".into(), (sha256(b"3"), sha256(b"4")));
        let bytes = shard_to_bytes(&shard);
        assert_eq!(shard_from_bytes("00", &bytes).unwrap(), shard);
        let mut reordered = String::from_utf8(bytes)
            .unwrap()
            .lines()
            .rev()
            .collect::<Vec<_>>()
            .join("\n");
        reordered.push('\n');
        assert!(shard_from_bytes("00", reordered.as_bytes()).is_err());
    }
}
