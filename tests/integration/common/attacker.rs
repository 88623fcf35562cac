//! What a repository writer can do without any private key of the vault: read every public
//! file, make an Ed25519 key of its own and sign a complete, well-formed statement over the
//! vault's files as they are in its checkout. (Any Ed25519 library does; the library's public
//! format types are used here only to write the bytes.)

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use agent_vault::integrity::{
    Shard, SigningKey, Statement, StatementVersion, VaultId, sha256, shard_name,
};

/// A secret's `.enc` and `.meta` as found.
type SecretFiles = (Option<Vec<u8>>, Option<Vec<u8>>);

/// Signs, with `key`, a statement describing every file under `vault_dir` (a checkout's
/// `.agent-vault`), claiming sequence number `seq` and vault identity `vault` (the genuine
/// one, copied from the real statement, or any). Writes the shards and the statement into the
/// checkout; returns the statement's bytes.
pub fn resign(vault_dir: &Path, key: &SigningKey, seq: u64, vault: Option<VaultId>) -> Vec<u8> {
    let mut files = BTreeMap::new();
    let mut shards: BTreeMap<String, Shard> = BTreeMap::new();
    let _ = fs::remove_dir_all(vault_dir.join("integrity"));
    let mut stack = vec![vault_dir.to_path_buf()];
    let mut secrets: BTreeMap<String, SecretFiles> = BTreeMap::new();
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path
                .strip_prefix(vault_dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let bytes = fs::read(&path).unwrap();
            if let Some(rest) = rel.strip_prefix("secrets/") {
                if let Some(secret) = rest.strip_suffix(".enc") {
                    secrets.entry(secret.into()).or_default().0 = Some(bytes);
                } else if let Some(secret) = rest.strip_suffix(".meta") {
                    secrets.entry(secret.into()).or_default().1 = Some(bytes);
                }
            } else {
                files.insert(rel, sha256(&bytes));
            }
        }
    }
    for (secret, (enc, meta)) in secrets {
        let digest = |b: &Option<Vec<u8>>| b.as_deref().map_or([0; 32], sha256);
        shards
            .entry(shard_name(&secret))
            .or_default()
            .0
            .insert(secret, (digest(&enc), digest(&meta)));
    }
    let mut statement = Statement {
        version: StatementVersion::V2,
        vault: Some(vault.unwrap_or_else(|| VaultId::generate().unwrap())),
        verify_key: key.verify_key(),
        seq,
        key_changes: Vec::new(),
        owners: BTreeMap::new(),
        files,
        shards: BTreeMap::new(),
    };
    for (name, shard) in &shards {
        let bytes = shard.to_bytes();
        statement.shards.insert(name.clone(), sha256(&bytes));
        let path = vault_dir.join("integrity/shards").join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    }
    let bytes = statement.sign(key);
    fs::write(vault_dir.join("integrity/statement"), &bytes).unwrap();
    bytes
}

/// The vault identity named by a checkout's statement.
pub fn vault_id(vault_dir: &Path) -> VaultId {
    let text = fs::read_to_string(vault_dir.join("integrity/statement")).unwrap();
    let line = text.lines().find(|l| l.starts_with("vault ")).unwrap();
    VaultId::parse(&line["vault ".len()..]).unwrap()
}

/// The sequence number named by a checkout's statement.
pub fn seq(vault_dir: &Path) -> u64 {
    let text = fs::read_to_string(vault_dir.join("integrity/statement")).unwrap();
    let line = text.lines().find(|l| l.starts_with("seq ")).unwrap();
    line["seq ".len()..].parse().unwrap()
}
