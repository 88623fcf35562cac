//! Tamper evidence, as data: the owner-signed **statement** of a vault's state, the **shards**
//! it hashes, the vault signing key and its verify key, the vault's identity, and the owners'
//! endorsements of the signing key. Pure format and cryptography — no repository access: the
//! vault's trust module (`vault::trust`) decides which statement to believe and checks files
//! against it.
//!
//! The statement (`.agent-vault/integrity/statement`) holds a sequence number, the SHA-256 of
//! every policy file (config, manifest, owner keys, agents' keys and escrows, the encrypted
//! signing key) and of each non-empty shard; shards (`integrity/shards/<xx>`) hold each secret's
//! `.enc`/`.meta` digests. So one `set` rewrites two files, one shard and the statement, and a
//! reader verifies one secret by hashing the statement, one shard and the secret's files. See
//! `docs/format.md` for the bytes and `docs/threat-model.md` for what this protects against.

mod endorse;
mod keys;
mod shard;
mod statement;

pub use endorse::endorsement_tag;
pub use keys::{SigningKey, VaultId, VerifyKey};
pub(crate) use shard::is_shard_name;
pub use shard::{Shard, shard_name};
pub use statement::{KeyChange, Statement, StatementVersion, key_change_message};

use sha2::{Digest, Sha256};

/// Folder (repository-relative) holding the statement and shards.
pub const INTEGRITY_DIR: &str = ".agent-vault/integrity";
/// The signed statement.
pub const STATEMENT_PATH: &str = ".agent-vault/integrity/statement";
/// Folder of shard files.
pub const SHARDS_DIR: &str = ".agent-vault/integrity/shards";
/// The vault signing key, age-encrypted to the owners.
pub const SIGNING_KEY_PATH: &str = ".agent-vault/signing.key.age";
/// The comment prefix in identity files that names the vault's verify key.
pub const KEY_FILE_COMMENT: &str = "agent-vault verify-key:";
/// The comment prefix in an agent's key file that names the vault it is an agent of.
pub const VAULT_COMMENT: &str = "agent-vault vault:";

/// A SHA-256 digest.
pub type Digest256 = [u8; 32];

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> Digest256 {
    Sha256::digest(bytes).into()
}

/// Repository-relative path of a shard file.
pub fn shard_path(name: &str) -> String {
    format!("{SHARDS_DIR}/{name}")
}

/// Parses a digest written as exactly 64 lowercase hex characters.
pub(crate) fn parse_digest(text: &str) -> Option<Digest256> {
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
