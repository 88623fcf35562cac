//! A vault state as read from one commit, and the only way to get a vault file's bytes.
//!
//! A [`Snapshot`] is built by the trust module alone ([`super::trust`]): it has decided which
//! statement to believe (or that the vault is unsigned and may be read with a warning). Every
//! accessor here hands out bytes only after checking them against that statement: policy files
//! are verified when the snapshot is built, a secret's files against its shard when asked for
//! (or all at once for listings and owner commands). Parsers (YAML, keys) and decryption only
//! ever see what these accessors return.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use age::x25519;
use git2::Oid;

use crate::error::{Problem, SecretFile, escape};
use crate::format::{
    CONFIG_PATH, ConfigFile, ENC_SUFFIX, MANIFEST_PATH, META_SUFFIX, OWNER_PUB_PATH, VAULT_DIR,
};
use crate::git::RawTree;
use crate::git::tree::{Entry, WalkedFile};
use crate::integrity::{Digest256, Shard, Statement, is_shard_name, sha256, shard_name};
use crate::manifest::Manifest;
use crate::names::{DEFAULT_GROUP, SecretPath};
use crate::progress::ProgressHandle;
use crate::{Error, Result, keys};

/// How far a snapshot's bytes are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Against a statement the trust module believes: policy files up front, each secret's
    /// files against its shard.
    Checked,
    /// A tree this owner signed itself (its id recorded after the commit): nothing re-hashed.
    Trusted,
    /// Not checked: an unsigned vault (read with a warning) or a state the owner is about to
    /// sign after review. Structural rules and size caps still apply.
    Unverified,
}

/// A secret's `.enc` and `.meta` contents, each absent or present.
#[derive(Debug, Clone, Default)]
pub struct SecretFiles {
    pub enc: Option<Vec<u8>>,
    pub meta: Option<Vec<u8>>,
}

/// One verified (or knowingly unverified) vault state. See the module docs.
pub struct Snapshot<'v> {
    tree: RawTree<'v>,
    statement: Option<Statement>,
    mode: Mode,
    /// Policy files (relative to `.agent-vault/`) → bytes, checked.
    policy: BTreeMap<String, Vec<u8>>,
    /// Shard files present in the tree (names).
    shard_files: Vec<String>,
    /// Every secret, when the whole vault was read.
    all: Option<BTreeMap<String, SecretFiles>>,
    shards: RefCell<HashMap<String, Shard>>,
}

const MIB: u64 = 1 << 20;
const ZERO: Digest256 = [0; 32];

/// The largest blob read at `rel` (relative to `.agent-vault/`).
pub(crate) fn cap_for(rel: &str) -> u64 {
    if rel == "integrity/statement" {
        4 * MIB
    } else if rel.starts_with("integrity/shards/") {
        16 * MIB
    } else if rel == "manifest.yaml" || (rel.starts_with("secrets/") && rel.ends_with(ENC_SUFFIX)) {
        64 * MIB
    } else {
        MIB
    }
}

fn shown(rel: &str) -> String {
    format!("{VAULT_DIR}/{}", escape(rel))
}

/// What a file under `secrets/` belongs to: the secret and which of its files.
fn secret_of(rel: &str) -> Option<(&str, SecretFile)> {
    let rest = rel.strip_prefix("secrets/")?;
    let (secret, file) = match rest.strip_suffix(ENC_SUFFIX) {
        Some(secret) => (secret, SecretFile::Ciphertext),
        None => (rest.strip_suffix(META_SUFFIX)?, SecretFile::Metadata),
    };
    SecretPath::parse(secret).ok().map(|_| (secret, file))
}

/// Whether `rel` is a file the integrity folder may hold; returns the shard name for shards.
fn integrity_file(rel: &str) -> Option<Option<&str>> {
    if rel == "integrity/statement" {
        return Some(None);
    }
    let name = rel.strip_prefix("integrity/shards/")?;
    is_shard_name(name).then_some(Some(name))
}

impl<'v> Snapshot<'v> {
    /// Reads the policy files of `tree` and checks them against `statement` (when `mode` is
    /// `Checked`). Returns the snapshot and the problems found; the trust module decides
    /// whether problems are fatal.
    pub(super) fn build(
        tree: RawTree<'v>,
        statement: Option<Statement>,
        mode: Mode,
    ) -> Result<(Self, Vec<Problem>)> {
        let checked = if mode == Mode::Checked {
            statement.as_ref()
        } else {
            None
        };
        let mut problems = Vec::new();
        let mut policy = BTreeMap::new();
        let mut shard_files = Vec::new();
        for WalkedFile { path, oid } in tree.walk("", &["secrets"])? {
            if path.starts_with("integrity/") {
                match integrity_file(&path) {
                    Some(Some(shard)) => shard_files.push(shard.to_owned()),
                    Some(None) => {}
                    None => problems.push(Problem::Unexpected { path: shown(&path) }),
                }
                continue;
            }
            let expected = checked.map(|s| s.files.get(&path));
            if let Some(None) = expected {
                problems.push(Problem::Added { path: shown(&path) });
                continue;
            }
            let bytes = tree.read(&path, oid, cap_for(&path))?;
            if let Some(Some(digest)) = expected
                && sha256(&bytes) != *digest
            {
                problems.push(Problem::Changed { path: shown(&path) });
                continue;
            }
            policy.insert(path, bytes);
        }
        if let Some(statement) = checked {
            for rel in statement.files.keys() {
                if !policy.contains_key(rel)
                    && !problems
                        .iter()
                        .any(|p| matches!(p, Problem::Changed { path } if *path == shown(rel)))
                {
                    problems.push(Problem::Deleted { path: shown(rel) });
                }
            }
        }
        Ok((
            Snapshot {
                tree,
                statement,
                mode,
                policy,
                shard_files,
                all: None,
                shards: RefCell::new(HashMap::new()),
            },
            problems,
        ))
    }

    /// Reads every secret and checks it (when `Checked`): afterwards [`Snapshot::secret`]
    /// answers from memory. Returns the problems found (files that no shard lists, secrets
    /// changed, added or deleted, shards not signed).
    pub(super) fn load_all(&mut self, progress: &ProgressHandle) -> Result<Vec<Problem>> {
        let mut problems = Vec::new();
        let mut all: BTreeMap<String, SecretFiles> = BTreeMap::new();
        let mut files = Vec::new();
        for walked in self.tree.walk("secrets", &[])? {
            match secret_of(&walked.path) {
                Some(_) => files.push(walked),
                None => problems.push(Problem::Unexpected {
                    path: shown(&walked.path),
                }),
            }
        }
        let contents = {
            let reading = progress.start("reading the vault", files.len() as u64);
            self.tree.read_all(&files, cap_for, &reading)?
        };
        for (WalkedFile { path, .. }, bytes) in files.iter().zip(contents) {
            let Some((secret, file)) = secret_of(path) else {
                continue;
            };
            let entry = all.entry(secret.to_owned()).or_default();
            match file {
                SecretFile::Ciphertext => entry.enc = Some(bytes),
                SecretFile::Metadata => entry.meta = Some(bytes),
            }
        }
        if self.mode == Mode::Checked
            && let Some(statement) = &self.statement
        {
            let mut signed: BTreeMap<String, (Digest256, Digest256)> = BTreeMap::new();
            for name in statement.shards.keys() {
                match self.shard(name) {
                    Ok(shard) => signed.extend(shard.0),
                    Err(Error::Integrity(e)) => problems.extend(e.problems),
                    Err(e) => return Err(e),
                }
            }
            for name in &self.shard_files {
                if !statement.shards.contains_key(name) {
                    problems.push(Problem::BadShard {
                        shard: name.clone(),
                        why: "is not listed in the signed statement".into(),
                    });
                }
            }
            for (secret, files) in &all {
                match signed.get(secret) {
                    None => problems.push(Problem::SecretAdded {
                        secret: secret.clone(),
                    }),
                    Some(digests) => problems.extend(compare(secret, files, digests)),
                }
            }
            for secret in signed.keys() {
                if !all.contains_key(secret) {
                    problems.push(Problem::SecretDeleted {
                        secret: secret.clone(),
                    });
                }
            }
        }
        if self.mode == Mode::Unverified {
            // agent-vault 0.1.0 stored a single-segment secret `P` at `secrets/default/P`.
            let legacy: Vec<String> = all
                .keys()
                .filter_map(|k| k.strip_prefix(&format!("{DEFAULT_GROUP}/")))
                .filter(|p| !p.contains('/') && !all.contains_key(*p) && self.legacy_layout(p))
                .map(str::to_owned)
                .collect();
            for secret in legacy {
                if let Some(files) = all.remove(&format!("{DEFAULT_GROUP}/{secret}")) {
                    all.insert(secret, files);
                }
            }
        }
        self.all = Some(all);
        Ok(problems)
    }

    /// A secret's files, checked against its shard. A secret the shard lists but that is
    /// missing is an integrity failure (not "not found").
    pub fn secret(&self, path: &SecretPath) -> Result<SecretFiles> {
        let secret = path.as_str();
        if let Some(all) = &self.all {
            return Ok(all.get(secret).cloned().unwrap_or_default());
        }
        let read = |stored: &str, suffix: &str| -> Result<Option<Vec<u8>>> {
            let rel = format!("secrets/{stored}{suffix}");
            match self.tree.lookup(&rel)? {
                Entry::Absent => Ok(None),
                Entry::Blob(oid) => self.tree.read(&rel, oid, cap_for(&rel)).map(Some),
            }
        };
        let mut files = SecretFiles {
            enc: read(secret, ENC_SUFFIX)?,
            meta: read(secret, META_SUFFIX)?,
        };
        if files.enc.is_none() && files.meta.is_none() && self.legacy_layout(secret) {
            let stored = format!("{DEFAULT_GROUP}/{secret}");
            files = SecretFiles {
                enc: read(&stored, ENC_SUFFIX)?,
                meta: read(&stored, META_SUFFIX)?,
            };
        }
        if self.mode == Mode::Checked && self.statement.is_some() {
            let shard = self.shard(&shard_name(secret))?;
            let problems = match shard.0.get(secret) {
                None if files.enc.is_none() && files.meta.is_none() => Vec::new(),
                None => vec![Problem::SecretAdded {
                    secret: secret.to_owned(),
                }],
                Some(digests) => compare(secret, &files, digests),
            };
            if !problems.is_empty() {
                return Err(Error::Integrity(crate::error::IntegrityError { problems }));
            }
        }
        Ok(files)
    }

    /// Whether the single-segment secret `secret` may be stored where agent-vault 0.1.0 put
    /// it, `secrets/default/<secret>`: only in an unsigned vault (adoption by `sign` moves the
    /// files), and only when the manifest lists `secret` and not `default/<secret>`.
    fn legacy_layout(&self, secret: &str) -> bool {
        if self.mode != Mode::Unverified || self.statement.is_some() || secret.contains('/') {
            return false;
        }
        let Ok(manifest) = self.manifest() else {
            return false;
        };
        let listed = |p: &str| manifest.group_of(p).is_some();
        listed(secret) && !listed(&format!("{DEFAULT_GROUP}/{secret}"))
    }

    /// Where each secret of an unsigned vault in agent-vault 0.1.0's layout is stored now,
    /// for `sign` to move: `(secret, stored path)` pairs.
    pub(super) fn legacy_secrets(&self) -> Vec<String> {
        let Some(all) = &self.all else {
            return Vec::new();
        };
        all.keys()
            .filter(|secret| !secret.contains('/') && self.legacy_layout(secret))
            .filter(|secret| {
                let rel = format!("secrets/{secret}{ENC_SUFFIX}");
                matches!(self.tree.lookup(&rel), Ok(Entry::Absent))
            })
            .cloned()
            .collect()
    }

    /// A shard, checked against the statement (empty when the statement lists none).
    pub(super) fn shard(&self, name: &str) -> Result<Shard> {
        if let Some(shard) = self.shards.borrow().get(name) {
            return Ok(shard.clone());
        }
        let Some(expected) = self.statement.as_ref().and_then(|s| s.shards.get(name)) else {
            return Ok(Shard::default());
        };
        let bad = |why: &str| {
            Error::integrity(Problem::BadShard {
                shard: name.to_owned(),
                why: why.to_owned(),
            })
        };
        let rel = format!("integrity/shards/{name}");
        let bytes = match self.tree.lookup(&rel)? {
            Entry::Absent => return Err(bad("is missing but the signed statement lists it")),
            Entry::Blob(oid) => self.tree.read(&rel, oid, cap_for(&rel))?,
        };
        if self.mode == Mode::Checked && sha256(&bytes) != *expected {
            return Err(bad("was changed after it was signed"));
        }
        let shard = Shard::parse(name, &bytes).map_err(bad)?;
        self.shards
            .borrow_mut()
            .insert(name.to_owned(), shard.clone());
        Ok(shard)
    }

    /// Every secret's files, when the whole vault was read ([`Snapshot::load_all`]).
    pub fn all_secrets(&self) -> Option<&BTreeMap<String, SecretFiles>> {
        self.all.as_ref()
    }

    /// A checked policy file (path relative to `.agent-vault/`), or `None` when absent.
    pub fn policy_file(&self, rel: &str) -> Option<&[u8]> {
        self.policy.get(rel).map(Vec::as_slice)
    }

    /// The shard files present in the tree (names, unchecked).
    pub(super) fn shard_files(&self) -> &[String] {
        &self.shard_files
    }

    /// Every checked policy file.
    pub fn policy_files(&self) -> &BTreeMap<String, Vec<u8>> {
        &self.policy
    }

    /// The parsed `config.yaml` (its version and format checked).
    pub fn config(&self) -> Result<ConfigFile> {
        let bytes = self.policy_file(rel(CONFIG_PATH)).ok_or_else(|| {
            Error::corrupt(CONFIG_PATH, "is missing; restore it from git history")
        })?;
        ConfigFile::parse(bytes)
    }

    /// The parsed manifest (every name in it validated).
    pub fn manifest(&self) -> Result<Manifest> {
        let bytes = self.policy_file(rel(MANIFEST_PATH)).ok_or_else(|| {
            Error::corrupt(MANIFEST_PATH, "is missing; restore it from git history")
        })?;
        Manifest::parse(bytes)
    }

    /// The owners' recipients named by the manifest (falling back to `owner.pub`).
    pub fn owner_recipients(&self, manifest: &Manifest) -> Result<Vec<x25519::Recipient>> {
        let mut refs: Vec<&str> = manifest.owner_key_refs();
        if refs.is_empty() {
            refs.push(rel(OWNER_PUB_PATH));
        }
        let mut owners = Vec::new();
        for reference in refs {
            if reference.starts_with("age1") {
                owners.push(keys::parse_recipient(reference, MANIFEST_PATH)?);
                continue;
            }
            if reference.is_empty()
                || reference.contains(['/', '\\'])
                || reference.starts_with('.')
                || reference.chars().any(char::is_control)
            {
                return Err(Error::corrupt(
                    MANIFEST_PATH,
                    format!(
                        "owner public_key '{}' must name a file inside {VAULT_DIR}/",
                        escape(reference)
                    ),
                ));
            }
            let path = format!("{VAULT_DIR}/{reference}");
            let bytes = self.policy_file(reference).ok_or_else(|| {
                Error::corrupt(
                    &path,
                    "the owner's public key file is missing; restore it from git history",
                )
            })?;
            let text = std::str::from_utf8(bytes)
                .map_err(|_| Error::corrupt(&path, "is not UTF-8 text"))?;
            owners.extend(keys::parse_recipients_file(text, &path)?);
        }
        Ok(owners)
    }

    /// An agent's public key, parsed; `None` when its file is absent.
    pub fn agent_recipient(&self, agent: &str) -> Result<Option<x25519::Recipient>> {
        let path = crate::format::agent_public_key_path(agent);
        match self.policy_file(rel(&path)) {
            None => Ok(None),
            Some(bytes) => {
                let text = std::str::from_utf8(bytes)
                    .map_err(|_| Error::corrupt(&path, "is not UTF-8 text"))?;
                keys::parse_recipient(text, &path).map(Some)
            }
        }
    }

    /// The statement this snapshot was checked against (`None`: unsigned).
    pub fn statement(&self) -> Option<&Statement> {
        self.statement.as_ref()
    }

    /// How far this snapshot is checked.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The commit read.
    pub fn commit(&self) -> Oid {
        self.tree.commit()
    }

    /// The id of the `.agent-vault` tree read.
    pub fn tree_id(&self) -> Oid {
        self.tree.tree_id()
    }

    /// What was read, for messages (`HEAD`, `origin/main`).
    pub fn label(&self) -> &str {
        self.tree.label()
    }
}

/// A repository-relative path as a path relative to `.agent-vault/`.
pub(crate) fn rel(path: &str) -> &str {
    path.strip_prefix(VAULT_DIR)
        .and_then(|p| p.strip_prefix('/'))
        .unwrap_or(path)
}

/// How a secret's files differ from the digests its shard lists (zeros: absent).
fn compare(secret: &str, files: &SecretFiles, digests: &(Digest256, Digest256)) -> Vec<Problem> {
    let matches = |file: &Option<Vec<u8>>, digest: &Digest256| match file {
        None => *digest == ZERO,
        Some(bytes) => sha256(bytes) == *digest,
    };
    let mut problems = Vec::new();
    if files.enc.is_none() && files.meta.is_none() {
        return vec![Problem::SecretDeleted {
            secret: secret.to_owned(),
        }];
    }
    if !matches(&files.enc, &digests.0) {
        problems.push(Problem::SecretChanged {
            secret: secret.to_owned(),
            file: SecretFile::Ciphertext,
        });
    }
    if !matches(&files.meta, &digests.1) {
        problems.push(Problem::SecretChanged {
            secret: secret.to_owned(),
            file: SecretFile::Metadata,
        });
    }
    problems
}
