//! The on-disk files of a vault, exactly as they are serialized, and nothing else.
//!
//! These structs mirror `docs/format.md`. Every struct keeps fields it does not know in
//! `extra`, so a vault written by a newer or older tool survives a rewrite unchanged.
//! Lists are sorted before writing, so files are deterministic and diffs minimal.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

mod fast_meta;

/// The newest format version this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// The vault's folder at the root of the repository's working tree.
pub const VAULT_DIR: &str = ".agent-vault";
/// Vault configuration.
pub const CONFIG_PATH: &str = ".agent-vault/config.yaml";
/// The owner's age recipient(s), one per line.
pub const OWNER_PUB_PATH: &str = ".agent-vault/owner.pub";
/// The access-control manifest.
pub const MANIFEST_PATH: &str = ".agent-vault/manifest.yaml";
/// The vault's own ignore file.
pub const GITIGNORE_PATH: &str = ".agent-vault/.gitignore";
/// `.agent-vault/.gitattributes`: no line-ending conversion of vault files.
pub const GITATTRIBUTES_PATH: &str = ".agent-vault/.gitattributes";
/// Folder holding one folder per agent.
pub const AGENTS_DIR: &str = ".agent-vault/agents";
/// Folder holding the secrets' ciphertexts and metadata.
pub const SECRETS_DIR: &str = ".agent-vault/secrets";
/// Suffix of a secret's ciphertext file.
pub const ENC_SUFFIX: &str = ".enc";
/// Suffix of a secret's metadata file.
pub const META_SUFFIX: &str = ".meta";

/// The `.meta` key of the environment variable name recorded with `set --env`.
pub const META_ENV_KEY: &str = "env";

/// Unknown fields, preserved on rewrite.
pub type Extra = BTreeMap<String, serde_yaml::Value>;

/// Repository-relative path of a secret's ciphertext.
pub fn secret_enc_path(secret: &str) -> String {
    format!("{SECRETS_DIR}/{secret}{ENC_SUFFIX}")
}

/// Repository-relative path of a secret's metadata.
pub fn secret_meta_path(secret: &str) -> String {
    format!("{SECRETS_DIR}/{secret}{META_SUFFIX}")
}

/// Repository-relative path of an agent's public key.
pub fn agent_public_key_path(agent: &str) -> String {
    format!("{AGENTS_DIR}/{agent}/public.key")
}

/// Repository-relative path of an agent's escrowed identity.
pub fn agent_escrow_path(agent: &str) -> String {
    format!("{AGENTS_DIR}/{agent}/private.key.escrow")
}

/// The content `init` writes to `.agent-vault/.gitignore`: key material is never added by
/// accident, while the files the vault commits itself stay addable.
pub const GITIGNORE_CONTENT: &str = "\
# Written by agent-vault: keep private key material out of git.
*.key
*.pem
**/private.*
!public.key
!*.escrow
";

/// The content `init` (and `sign`, when it is missing) writes to `.agent-vault/.gitattributes`:
/// vault files are signed byte for byte, so git must never convert their line endings
/// (`core.autocrlf`, `eol=crlf`), which would make every signed text file look tampered with.
pub const GITATTRIBUTES_CONTENT: &str = "\
# Written by agent-vault: vault files are signed byte for byte; never convert them on checkout.
* -text -filter -ident -working-tree-encoding
";

/// `.agent-vault/config.yaml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConfigFile {
    pub version: u32,
    #[serde(default)]
    pub encryption: EncryptionConfig,
    #[serde(flatten)]
    pub extra: Extra,
}

/// The `encryption:` block of the config.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EncryptionConfig {
    pub format: String,
    #[serde(flatten)]
    pub extra: Extra,
}

impl Default for EncryptionConfig {
    fn default() -> Self {
        EncryptionConfig {
            format: "age".into(),
            extra: Extra::new(),
        }
    }
}

impl ConfigFile {
    /// The config a new vault starts with.
    pub fn new() -> Self {
        ConfigFile {
            version: FORMAT_VERSION,
            encryption: EncryptionConfig::default(),
            extra: Extra::new(),
        }
    }

    /// Parses and checks the version and encryption format.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let config: ConfigFile = parse_yaml(CONFIG_PATH, bytes)?;
        check_version(CONFIG_PATH, config.version)?;
        if config.encryption.format != "age" {
            return Err(Error::corrupt(
                CONFIG_PATH,
                format!(
                    "encryption format '{}' is not supported (only 'age')",
                    config.encryption.format
                ),
            ));
        }
        Ok(config)
    }
}

impl Default for ConfigFile {
    fn default() -> Self {
        Self::new()
    }
}

/// `.agent-vault/manifest.yaml`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ManifestFile {
    pub version: u32,
    #[serde(default)]
    pub owners: Vec<OwnerEntry>,
    #[serde(default)]
    pub agents: Vec<AgentEntry>,
    #[serde(default)]
    pub groups: Vec<GroupEntry>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One owner: a name and the vault-relative file holding its recipient.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OwnerEntry {
    pub name: String,
    pub public_key: String,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One agent and the groups it is granted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AgentEntry {
    pub name: String,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One group and the secret paths in it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupEntry {
    pub name: String,
    #[serde(default)]
    pub secrets: Vec<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ManifestFile {
    /// Parses and checks the version.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let manifest: ManifestFile = parse_yaml(MANIFEST_PATH, bytes)?;
        check_version(MANIFEST_PATH, manifest.version)?;
        Ok(manifest)
    }

    /// Serializes with every list sorted and de-duplicated.
    pub fn to_yaml(&self) -> Vec<u8> {
        let mut m = self.clone();
        m.owners.sort_by(|a, b| a.name.cmp(&b.name));
        m.agents.sort_by(|a, b| a.name.cmp(&b.name));
        for agent in &mut m.agents {
            agent.groups.sort();
            agent.groups.dedup();
        }
        m.groups.sort_by(|a, b| a.name.cmp(&b.name));
        for group in &mut m.groups {
            group.secrets.sort();
            group.secrets.dedup();
        }
        to_yaml(&m)
    }
}

/// `.agent-vault/secrets/<path>.meta`: plaintext metadata about one secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SecretMetaFile {
    /// The secret's path.
    pub name: String,
    /// The group whose agents may read it.
    pub group: String,
    /// When the secret was first stored.
    #[serde(default)]
    pub created: String,
    /// When its value last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotated: Option<String>,
    /// When it should be rotated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// Every agent the ciphertext is encrypted to.
    #[serde(default)]
    pub authorized_agents: Vec<String>,
    /// Agents granted this one secret beyond its group (`set --agents`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_agents: Vec<String>,
    /// Fingerprint of the exact recipient set of the ciphertext (see `crypto::recipients_fingerprint`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipients: Option<String>,
    /// The owner-signed use policy for the broker (see [`crate::policy`]), kept as YAML here so
    /// that a policy this version cannot read never stops a secret from being read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<serde_yaml::Value>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl SecretMetaFile {
    /// The use policy, parsed and validated; `None` when the secret has none.
    pub fn use_policy(&self, path: &str) -> Result<Option<crate::policy::UsePolicy>> {
        let Some(value) = &self.policy else {
            return Ok(None);
        };
        let policy: crate::policy::UsePolicy =
            serde_yaml::from_value(value.clone()).map_err(|e| {
                Error::corrupt(
                    path,
                    format!("its use policy cannot be read ({})", yaml_error(&e)),
                )
            })?;
        policy
            .validate()
            .map_err(|e| Error::corrupt(path, format!("its use policy is not valid: {e}")))?;
        Ok(Some(policy))
    }

    /// Parses a `.meta` file.
    pub fn parse(path: &str, bytes: &[u8]) -> Result<Self> {
        match fast_meta::parse(bytes) {
            Some(meta) => Ok(meta),
            None => parse_yaml(path, bytes),
        }
    }

    /// Parses a `.meta` file with the YAML parser alone (for the fuzz target that holds the
    /// fast reader to it).
    #[doc(hidden)]
    pub fn parse_with_yaml(path: &str, bytes: &[u8]) -> Result<Self> {
        parse_yaml(path, bytes)
    }

    /// The environment variable name recorded with `set --env` (`env:`, optional), as
    /// written; `run` and `export` validate it before use. Kept among the unknown fields so that
    /// tools that do not know it preserve it.
    pub fn env_name(&self) -> Option<&str> {
        self.extra
            .get(META_ENV_KEY)
            .and_then(serde_yaml::Value::as_str)
    }

    /// Records (`Some`) or removes (`None`) the environment variable name.
    pub fn set_env_name(&mut self, name: Option<&str>) {
        match name {
            Some(name) => {
                self.extra
                    .insert(META_ENV_KEY.into(), serde_yaml::Value::from(name));
            }
            None => {
                self.extra.remove(META_ENV_KEY);
            }
        }
    }

    /// Serializes with its lists sorted.
    pub fn to_yaml(&self) -> Vec<u8> {
        let mut m = self.clone();
        m.authorized_agents.sort();
        m.authorized_agents.dedup();
        m.extra_agents.sort();
        m.extra_agents.dedup();
        to_yaml(&m)
    }
}

fn check_version(path: &str, version: u32) -> Result<()> {
    if version == 0 || version > FORMAT_VERSION {
        return Err(Error::corrupt(
            path,
            format!(
                "format version {version} is not supported by agent-vault {} (it reads version {FORMAT_VERSION}); upgrade agent-vault",
                env!("CARGO_PKG_VERSION")
            ),
        ));
    }
    Ok(())
}

fn parse_yaml<T: serde::de::DeserializeOwned>(path: &str, bytes: &[u8]) -> Result<T> {
    serde_yaml::from_slice(bytes).map_err(|e| {
        Error::corrupt(
            path,
            format!(
                "cannot parse it ({}); restore it from git history (`git log -p -- {path}`)",
                yaml_error(&e)
            ),
        )
    })
}

/// Where a YAML error is, never what the file says there: serde_yaml's messages quote the
/// scalar they read, which may be a key a symlink or a hostile file pointed us at.
pub(crate) fn yaml_error(e: &serde_yaml::Error) -> String {
    match e.location() {
        Some(at) => format!("line {}, column {}", at.line(), at.column()),
        None => "not a YAML mapping of the expected shape".into(),
    }
}

fn to_yaml<T: Serialize>(value: &T) -> Vec<u8> {
    // Serializing plain structs of strings and YAML values cannot fail.
    serde_yaml::to_string(value)
        .expect("vault files serialize to YAML")
        .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_survive_a_rewrite() {
        let text = b"version: 1\nowners:\n- name: me\n  public_key: owner.pub\n  team: ops\nagents: []\ngroups:\n- name: b\n  secrets: [b/z, b/a]\n  note: keep\nfuture: {x: 1}\n";
        let m = ManifestFile::parse(text).unwrap();
        let out = String::from_utf8(m.to_yaml()).unwrap();
        assert!(out.contains("team: ops"), "{out}");
        assert!(out.contains("note: keep"), "{out}");
        assert!(out.contains("future:"), "{out}");
        assert!(out.find("b/a").unwrap() < out.find("b/z").unwrap(), "{out}");
    }

    #[test]
    fn newer_versions_are_refused() {
        let err = ManifestFile::parse(b"version: 2\n").unwrap_err();
        assert!(err.to_string().contains("upgrade"), "{err}");
    }

    #[test]
    fn seed_style_meta_parses() {
        let meta = SecretMetaFile::parse(
            "x",
            b"name: stripe/api-key\ngroup: default\ncreated: 2025-01-01T00:00:00Z\nrotated: 2025-01-01T00:00:00Z\nauthorized_agents:\n- bot\n",
        )
        .unwrap();
        assert_eq!(meta.group, "default");
        assert!(meta.recipients.is_none());
    }

    #[test]
    fn env_name_round_trips_and_is_preserved_as_an_unknown_field() {
        let mut meta = SecretMetaFile::parse("x", b"name: a/b\ngroup: a\nfuture: 1\n").unwrap();
        assert_eq!(meta.env_name(), None);
        meta.set_env_name(Some("APP_TOKEN"));
        let text = meta.to_yaml();
        let back = SecretMetaFile::parse("x", &text).unwrap();
        assert_eq!(back.env_name(), Some("APP_TOKEN"));
        assert!(String::from_utf8_lossy(&text).contains("future: 1"));
        let mut back = back;
        back.set_env_name(None);
        assert!(!String::from_utf8_lossy(&back.to_yaml()).contains("env:"));
    }
}
