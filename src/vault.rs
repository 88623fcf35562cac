//! The vault operations the CLI exposes, composed from the format, manifest, crypto, keys
//! and git modules.
//!
//! Every operation that changes the vault runs as one [`Change`]: take the lock, refuse a
//! dirty vault, check the owner key, compute the new files in memory, commit them as one
//! commit. Nothing is written to the working tree before the commit exists.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use age::x25519;
use chrono::{DateTime, Utc};
use git2::Oid;
use rayon::prelude::*;
use secrecy::{ExposeSecret, SecretSlice};
use serde::Serialize;

use crate::crypto::{self, DecryptFailure};
use crate::error::IoContext;
use crate::format::{
    self, CONFIG_PATH, ConfigFile, GITATTRIBUTES_CONTENT, GITATTRIBUTES_PATH, GITIGNORE_CONTENT,
    GITIGNORE_PATH, MANIFEST_PATH, OWNER_PUB_PATH, SecretMetaFile, VAULT_DIR, agent_escrow_path,
    agent_public_key_path, secret_enc_path, secret_meta_path,
};
use crate::git::{ChangeSet, CommitMessage, Freshness, Source, VaultLock, VaultRepo};
use crate::integrity::{self, SIGNING_KEY_PATH, STATEMENT_PATH, SigningKey, Statement, VerifyKey};
use crate::keys::{self, Identities, KeyChoice, KeyHome};
use crate::manifest::Manifest;
use crate::names::{AgentName, GroupName, SecretPath};
use crate::pins::{Pin, Pins};
use crate::{Error, Result, time};

/// An opened vault: a repository with `.agent-vault/`, and the keys on this machine.
pub struct Vault {
    repo: VaultRepo,
    home: KeyHome,
}

/// How readers pick the state they read.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Do not fetch the upstream branch first.
    pub offline: bool,
    /// The verify key the vault must be signed with (`--verify-key`); else
    /// `AGENT_VAULT_VERIFY_KEY`, the key file's comment, or the pinned key.
    pub verify_key: Option<VerifyKey>,
}

/// A decrypted secret with its metadata. The value is zeroized on drop.
pub struct SecretValue {
    /// The exact bytes stored.
    pub value: SecretSlice<u8>,
    /// Its metadata, if the `.meta` file is readable.
    pub info: Option<SecretInfo>,
    /// Things the user should know (expired, stale upstream, …).
    pub warnings: Vec<String>,
}

/// A secret's metadata as reported by `list`.
#[derive(Debug, Clone, Serialize)]
pub struct SecretInfo {
    pub path: String,
    pub group: String,
    pub created: Option<String>,
    pub rotated: Option<String>,
    pub expires: Option<String>,
    pub authorized_agents: Vec<String>,
    pub extra_agents: Vec<String>,
    pub expired: bool,
}

/// An agent as reported by `list-agents`.
#[derive(Debug, Clone, Serialize)]
pub struct AgentInfo {
    pub name: String,
    pub groups: Vec<String>,
    pub public_key: Option<String>,
    pub escrow: bool,
}

/// What a changing operation did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The commit made, or `None` when nothing changed.
    pub commit: Option<Oid>,
    /// Informational lines for the user.
    pub notes: Vec<String>,
    /// Secrets whose values should be rotated at their source (after revoke/remove).
    pub rotate: Vec<String>,
    /// Secrets that were re-encrypted.
    pub reencrypted: Vec<String>,
}

impl Outcome {
    /// Nothing was changed (no commit), for the reason in `note`.
    fn unchanged(note: String) -> Self {
        Outcome {
            notes: vec![note],
            ..Outcome::default()
        }
    }
}

/// What `verify` found.
#[derive(Debug)]
pub struct VerifyReport {
    /// The verified statement; `None` for an unsigned vault.
    pub statement: Option<Statement>,
    /// Every difference between the vault and the statement.
    pub problems: Vec<String>,
    /// Warnings (unsigned vault, stale upstream, …).
    pub warnings: Vec<String>,
}

/// What `init` did.
#[derive(Debug)]
pub struct InitOutcome {
    pub vault_dir: PathBuf,
    pub verify_key: VerifyKey,
    pub owner_public_key: String,
    pub owner_key_path: PathBuf,
    pub owner_key_created: bool,
    pub repo_created: bool,
    pub commit: Option<Oid>,
    pub hook: std::result::Result<crate::hook::HookStatus, Error>,
}

/// What `add-agent` did.
#[derive(Debug)]
pub struct AddAgentOutcome {
    pub public_key: String,
    /// Where the new private key was written; `None` for `--public-key`.
    pub key_path: Option<PathBuf>,
    pub commit: Option<Oid>,
    /// The vault's verify key (a signed vault), which the agent's readers must trust.
    pub verify_key: Option<VerifyKey>,
}

/// Options for `set`.
#[derive(Debug, Default, Clone)]
pub struct SetOptions {
    /// The group; default: the existing secret's group, else the path's default group.
    pub group: Option<GroupName>,
    /// When the secret expires; default: keep the existing expiry.
    pub expires: Option<DateTime<Utc>>,
    /// Agents granted this secret beyond its group; `None` keeps the existing ones.
    pub agents: Option<Vec<AgentName>>,
}

/// The parts of the vault every owner operation needs.
struct State {
    manifest: Manifest,
    owners: Vec<x25519::Recipient>,
}

/// One change in progress: holds the lock, the state read under it, the owner's identity
/// and the files to commit.
struct Change<'v> {
    vault: &'v Vault,
    lock: VaultLock,
    state: State,
    owner: Identities,
    files: ChangeSet,
    agent_keys: HashMap<String, x25519::Recipient>,
    reencrypted: Vec<String>,
    /// The verified statement and the key to sign the next one; `None` for an unsigned vault.
    signing: Option<(Statement, SigningKey)>,
    notes: Vec<String>,
}

impl Vault {
    /// Opens the vault of the repository containing `start`.
    pub fn discover(start: &Path, home: KeyHome) -> Result<Self> {
        let repo = VaultRepo::discover(start)?;
        let vault = Vault { repo, home };
        if !vault.repo.vault_dir().join("config.yaml").exists() && !vault.head_has_vault()? {
            return Err(Error::VaultNotFound(start.to_path_buf()));
        }
        Ok(vault)
    }

    fn head_has_vault(&self) -> Result<bool> {
        Ok(match self.repo.head_commit()? {
            Some(head) => self
                .repo
                .commit_source(head, "HEAD".into())?
                .read(CONFIG_PATH)?
                .is_some(),
            None => false,
        })
    }

    /// The repository.
    pub fn repo(&self) -> &VaultRepo {
        &self.repo
    }

    /// The key home.
    pub fn home(&self) -> &KeyHome {
        &self.home
    }

    /// Creates a vault in the repository containing `dir` (creating the repository, and
    /// `dir`, if needed). Reuses this machine's owner key if there is one.
    pub fn init(dir: &Path, home: KeyHome, owner_name: Option<&str>) -> Result<InitOutcome> {
        let mut cleanup = InitCleanup::default();
        let result = Self::init_inner(dir, home, owner_name, &mut cleanup);
        if result.is_err() {
            cleanup.undo();
        }
        result
    }

    fn init_inner(
        dir: &Path,
        home: KeyHome,
        owner_name: Option<&str>,
        cleanup: &mut InitCleanup,
    ) -> Result<InitOutcome> {
        if !dir.exists() {
            let mut top = dir.to_path_buf();
            while let Some(parent) = top
                .parent()
                .filter(|p| !p.as_os_str().is_empty() && !p.exists())
            {
                top = parent.to_path_buf();
            }
            std::fs::create_dir_all(dir)
                .io_context(|| format!("cannot create {}", dir.display()))?;
            cleanup.dir = Some(top);
        }
        tempfile::tempfile_in(dir).map_err(|e| {
            Error::io(
                format!("cannot write in {} (check its permissions)", dir.display()),
                e,
            )
        })?;
        let (repo, repo_created) = VaultRepo::open_or_init(dir, cleanup.dir.is_some())?;
        if repo_created {
            cleanup.git_dir = Some(repo.repo().path().to_path_buf());
        }
        let vault = Vault { repo, home };
        if vault.repo.vault_dir().join("config.yaml").exists() || vault.head_has_vault()? {
            return Err(Error::AlreadyExists {
                what: format!("a vault in {}", vault.repo.workdir().display()),
                hint: "use it as it is; `agent-vault check` reports its state".into(),
            });
        }
        let lock = vault.lock_clean()?;

        let owner_key_path = vault.home.owner_key_path();
        let (owner_public_key, owner_key_created) = match keys::load_owner(&vault.home) {
            Ok(existing) => (existing.recipients()[0].to_string(), false),
            Err(Error::KeyNotFound(_)) => {
                let key = keys::generate(&["agent-vault owner key: back this file up; it decrypts every secret and escrowed agent key".into()]);
                keys::write_key_file(
                    &owner_key_path,
                    key.file_text.as_bytes(),
                    "it was just checked to be absent; retry",
                )?;
                cleanup.key_file = Some(owner_key_path.clone());
                (key.recipient.to_string(), true)
            }
            Err(other) => return Err(other),
        };

        let owner_name = owner_name
            .map(str::to_owned)
            .or_else(|| {
                vault
                    .repo
                    .signature()
                    .ok()
                    .and_then(|s| s.name().ok().map(str::to_owned))
            })
            .unwrap_or_else(|| "owner".into());
        let mut files = ChangeSet::new();
        files.put(
            CONFIG_PATH,
            serde_yaml::to_string(&ConfigFile::new())
                .unwrap_or_default()
                .into_bytes(),
        );
        files.put(OWNER_PUB_PATH, format!("{owner_public_key}\n").into_bytes());
        files.put(MANIFEST_PATH, Manifest::new(&owner_name).to_yaml());
        files.put(GITIGNORE_PATH, GITIGNORE_CONTENT.as_bytes().to_vec());
        files.put(
            GITATTRIBUTES_PATH,
            GITATTRIBUTES_CONTENT.as_bytes().to_vec(),
        );
        let owner_recipient = keys::parse_recipient(&owner_public_key, OWNER_PUB_PATH)?;
        let signing_key = SigningKey::generate()?;
        files.put(
            SIGNING_KEY_PATH,
            crypto::encrypt(signing_key.to_text().as_bytes(), &[owner_recipient])
                .map_err(|e| Error::Invalid(e.to_string()))?,
        );
        let signature = integrity::restate(&vault.repo.worktree(), None, &files, &signing_key, 1)?;
        files.extend(signature);
        let commit = vault.repo.commit(
            &lock,
            files,
            &CommitMessage::new("init", "initialize vault").trailer("Owner-Key", &owner_public_key),
        )?;
        vault.remember_signed_head(&signing_key.verify_key(), 1)?;
        drop(lock);
        Pins::new(&vault.home).record(
            &vault.location(),
            Pin {
                verify_key: signing_key.verify_key().to_string(),
                seq: 1,
            },
        )?;
        let hook = crate::hook::install(vault.repo.repo());
        Ok(InitOutcome {
            vault_dir: vault.repo.vault_dir(),
            verify_key: signing_key.verify_key(),
            owner_public_key,
            owner_key_path,
            owner_key_created,
            repo_created,
            commit,
            hook,
        })
    }

    /// Takes the vault lock and refuses a vault whose files differ from HEAD.
    fn lock_clean(&self) -> Result<VaultLock> {
        let lock = self.repo.lock()?;
        let dirty = self.repo.dirty_vault_paths()?;
        if !dirty.is_empty() {
            return Err(Error::Dirty(dirty));
        }
        Ok(lock)
    }

    fn begin(&self) -> Result<Change<'_>> {
        let lock = self.lock_clean()?;
        let source = self.repo.worktree();
        let state = load_state(&source)?;
        let owner = keys::load_owner(&self.home)?;
        let mut notes = Vec::new();
        // Integrity first: a swapped owner.pub must be reported as tampering, not as "you
        // are not the owner".
        let signing = match self.owner_trust(&source, &owner, &mut notes) {
            Err(Error::AccessDenied { .. }) => None, // not an owner: reported just below
            other => other?,
        };
        if !owner.matches_any(&state.owners) {
            return Err(not_owner(&owner, &state));
        }
        Ok(Change {
            vault: self,
            lock,
            state,
            owner,
            files: ChangeSet::new(),
            agent_keys: HashMap::new(),
            reencrypted: Vec::new(),
            signing,
            notes,
        })
    }

    /// Where this vault is, as pins record it: the canonical path of the working tree.
    pub fn location(&self) -> String {
        std::fs::canonicalize(self.repo.workdir())
            .unwrap_or_else(|_| self.repo.workdir().to_path_buf())
            .display()
            .to_string()
    }

    /// The owner's view of the signature: the statement must verify with the pinned key (or,
    /// on first use, with the signing key only the owners can decrypt), nothing may differ
    /// from it, and the signing key must open. Returns `None` for an unsigned vault.
    fn owner_trust(
        &self,
        source: &Source<'_>,
        owner: &Identities,
        notes: &mut Vec<String>,
    ) -> Result<Option<(Statement, SigningKey)>> {
        let pins = Pins::new(&self.home);
        let location = self.location();
        let pin = pins.get(&location)?;
        let Some(bytes) = source.read(STATEMENT_PATH)? else {
            if let Some(pin) = pin {
                return Err(Error::Integrity(format!(
                    "this vault was signed (key {}, sequence {}) but its signature is gone; someone with push access removed it. Review the history (`git log -p -- .agent-vault`), restore it, or re-sign after review with `agent-vault sign`",
                    pin.verify_key, pin.seq
                )));
            }
            notes.push("this vault is unsigned (made by an older agent-vault?); review it, then run `agent-vault sign` to make it tamper-evident".into());
            return Ok(None);
        };
        let statement = Statement::parse_and_verify(&bytes)?;
        let encrypted_key = source.read(SIGNING_KEY_PATH)?.ok_or_else(|| {
            Error::Integrity(format!(
                "{SIGNING_KEY_PATH} is missing; restore it from git history"
            ))
        })?;
        integrity::verify_file(&statement, SIGNING_KEY_PATH, Some(&encrypted_key))?;
        let key_text = decrypt_secret(
            SIGNING_KEY_PATH,
            &encrypted_key,
            owner,
            "the vault signing key",
        )?;
        let key = SigningKey::from_text(key_text.expose_secret())?;
        if key.verify_key() != statement.verify_key {
            return Err(Error::Integrity(format!(
                "the statement is signed by {} but the vault's signing key is {}; run `agent-vault verify`",
                statement.verify_key,
                key.verify_key()
            )));
        }
        check_pin(pin.as_ref(), &statement)?;
        // The working tree is clean (`lock_clean`), so it is HEAD's tree; if this clone's
        // owner signed exactly that tree, hashing every file again proves nothing new. (A
        // refused command records nothing: only commits made here are recorded.)
        let record = self.verified_record(&statement.verify_key, statement.seq)?;
        if record.is_none() || record != self.repo.verified_record() {
            let problems = integrity::verify_all(source, &statement)?;
            if !problems.is_empty() {
                return Err(Error::Integrity(format!(
                    "the vault differs from what the owner last signed (sequence {}):\n  {}\nNothing was changed. Review these changes (`agent-vault verify`, `git log -p -- .agent-vault`); if they are legitimate (e.g. a merge of two owners' changes), re-sign with `agent-vault sign`",
                    statement.seq,
                    problems.join("\n  ")
                )));
            }
        }
        if pin.is_none() {
            notes.push(format!(
                "trusting this vault's signing key {} from now on (first use on this machine)",
                statement.verify_key
            ));
        }
        pins.record(
            &location,
            Pin {
                verify_key: statement.verify_key.to_string(),
                seq: statement.seq,
            },
        )?;
        Ok(Some((statement, key)))
    }

    /// Describes HEAD's vault as signed by `key` at `seq`, for [`VaultRepo::record_verified`]:
    /// the `.agent-vault` tree id (which covers every byte of every vault file), key and
    /// sequence. `None` when HEAD has no vault yet.
    fn verified_record(&self, key: &VerifyKey, seq: u64) -> Result<Option<String>> {
        Ok(self
            .repo
            .head_vault_tree()?
            .map(|tree| format!("{tree} {key} {seq}")))
    }

    /// Remembers that HEAD's vault is a state this owner signed: it was just written from a
    /// verified state plus this command's own changes.
    fn remember_signed_head(&self, key: &VerifyKey, seq: u64) -> Result<()> {
        if let Some(record) = self.verified_record(key, seq)? {
            self.repo.record_verified(&record);
        }
        Ok(())
    }

    /// A reader's view of the signature. Returns the verified statement, or `None` for an
    /// unsigned vault (with a warning) when no verify key is expected for it.
    fn reader_trust(
        &self,
        source: &Source<'_>,
        options: &ReadOptions,
        identities: Option<&Identities>,
        warnings: &mut Vec<String>,
    ) -> Result<Option<Statement>> {
        let pins = Pins::new(&self.home);
        let location = self.location();
        let pin = pins.get(&location)?;
        // The keys this vault may be signed with: explicit, else the environment or the key
        // file's comments (one per vault the key is used with), else the pin.
        let mut expected: Vec<String> = match &options.verify_key {
            Some(key) => vec![key.to_string()],
            None => expected_verify_keys(identities)?
                .iter()
                .map(ToString::to_string)
                .collect(),
        };
        if expected.is_empty()
            && let Some(pin) = &pin
        {
            expected.push(pin.verify_key.clone());
        }
        let Some(bytes) = source.read(STATEMENT_PATH)? else {
            if !expected.is_empty() {
                return Err(Error::Integrity(format!(
                    "this vault should be signed by {} but has no signature; someone with push access removed it. Do not trust its contents; ask the owner to run `agent-vault verify`",
                    expected.join(" or ")
                )));
            }
            warnings.push("this vault is unsigned, so tampering by anyone with push access would go unnoticed; ask the owner to run `agent-vault sign`".into());
            return Ok(None);
        };
        let statement = Statement::parse_and_verify(&bytes)?;
        if !expected.is_empty() && !expected.contains(&statement.verify_key.to_string()) {
            return Err(Error::Integrity(format!(
                "this vault is signed by {} but {} was expected; someone may have replaced the signing key. Do not trust its contents; ask the owner to run `agent-vault verify`. (If this key is also used with another vault, add that vault's `# agent-vault verify-key: …` line, which its owner's `add-agent` prints, to the key file, or set AGENT_VAULT_VERIFY_KEY.)",
                statement.verify_key,
                expected.join(" or ")
            )));
        }
        if pin
            .as_ref()
            .is_some_and(|p| p.verify_key == statement.verify_key.to_string())
        {
            check_pin(pin.as_ref(), &statement)?;
        }
        if pin.as_ref().is_none_or(|p| {
            p.verify_key != statement.verify_key.to_string() || p.seq < statement.seq
        }) {
            // The statement verified; failing to remember it (a read-only home in a
            // container) only weakens rollback protection on this machine.
            if let Err(e) = pins.record(
                &location,
                Pin {
                    verify_key: statement.verify_key.to_string(),
                    seq: statement.seq,
                },
            ) {
                warnings.push(format!(
                    "cannot remember this vault's signed state ({e}); rollback protection needs a writable {}: set {} to a writable folder",
                    self.home.root().display(),
                    keys::HOME_ENV
                ));
            }
        }
        Ok(Some(statement))
    }

    /// Chooses the state readers should read: the working tree, or the upstream branch's
    /// tree when it is ahead (fetched first unless offline; as last fetched otherwise).
    pub fn read_source(&self, options: &ReadOptions) -> (Source<'_>, Vec<String>) {
        let mut warnings = Vec::new();
        let (freshness, fetch_warning) = self.repo.fetch_upstream(options.offline);
        warnings.extend(fetch_warning);
        match freshness {
            Freshness::Ahead { commit, label } => match self.repo.commit_source(commit, label) {
                Ok(source) => return (source, warnings),
                Err(e) => warnings.push(format!(
                    "cannot read the upstream state ({e}); reading the local state"
                )),
            },
            Freshness::Diverged(why) => warnings.push(why),
            Freshness::LocalOnly | Freshness::UpToDate => {}
        }
        if self.repo.update_pending()
            && let Ok(Some(head)) = self.repo.head_source()
        {
            return (head, warnings);
        }
        (self.repo.worktree(), warnings)
    }

    /// Decrypts one secret with the chosen key.
    pub fn get(
        &self,
        path: &SecretPath,
        key: &KeyChoice,
        options: &ReadOptions,
    ) -> Result<SecretValue> {
        let (source, warnings) = self.read_source(options);
        match self.get_from(&source, warnings.clone(), path, key, options) {
            // A writer may be updating the working tree right now: its files can mix two
            // signed states. HEAD's tree is consistent; if it verifies, it is the truth.
            Err(Error::Integrity(why)) if matches!(source, Source::Worktree { .. }) => {
                match self.repo.head_source()? {
                    Some(head) => self.get_from(&head, warnings, path, key, options),
                    None => Err(Error::Integrity(why)),
                }
            }
            other => other,
        }
    }

    fn get_from(
        &self,
        source: &Source<'_>,
        mut warnings: Vec<String>,
        path: &SecretPath,
        key: &KeyChoice,
        options: &ReadOptions,
    ) -> Result<SecretValue> {
        match source.read(CONFIG_PATH)? {
            None => return Err(Error::VaultNotFound(self.repo.workdir().to_path_buf())),
            Some(config) => {
                ConfigFile::parse(&config)?;
            }
        }
        let identities = keys::load(key, &self.home)?;
        let enc_path = secret_enc_path(path.as_str());
        let meta_path = secret_meta_path(path.as_str());
        let ciphertext = source.read(&enc_path)?;
        let meta = source.read(&meta_path)?;
        // Verify before trusting anything, including the absence of the secret: a signed
        // secret that disappeared is tampering, not "not found".
        if let Some(statement) =
            self.reader_trust(source, options, Some(&identities), &mut warnings)?
        {
            integrity::verify_policy(source, &statement)?;
            integrity::verify_secret(
                source,
                &statement,
                path.as_str(),
                ciphertext.as_deref(),
                meta.as_deref(),
            )?;
        }
        let Some(ciphertext) = ciphertext else {
            return Err(Error::SecretNotFound(path.to_string()));
        };
        let info = match &meta {
            Some(bytes) => Some(secret_info(
                path.as_str(),
                &SecretMetaFile::parse(&meta_path, bytes)?,
            )),
            None => None,
        };
        let value = decrypt_secret(&enc_path, &ciphertext, &identities, path.as_str())?;
        if let Some(info) = &info
            && info.expired
        {
            warnings.push(format!(
                    "secret '{path}' expired on {}; ask the owner to rotate it (`agent-vault set {path} --expires …`)",
                    info.expires.as_deref().unwrap_or("?")
                ));
        }
        Ok(SecretValue {
            value,
            info,
            warnings,
        })
    }

    /// Lists secrets (optionally of one group) with their metadata.
    pub fn list(
        &self,
        group: Option<&GroupName>,
        options: &ReadOptions,
    ) -> Result<(Vec<SecretInfo>, Vec<String>)> {
        let (source, warnings) = self.verified_listing_source(options)?;
        let manifest = read_manifest(&source)?;
        if let Some(group) = group
            && !manifest.has_group(group.as_str())
        {
            return Err(Error::GroupNotFound(group.to_string()));
        }
        let mut out = Vec::new();
        for (path, listed_group) in manifest.all_secrets() {
            if group.is_some_and(|g| g.as_str() != listed_group) {
                continue;
            }
            let meta_path = secret_meta_path(&path);
            let info = match source.read(&meta_path)? {
                Some(bytes) => secret_info(&path, &SecretMetaFile::parse(&meta_path, &bytes)?),
                None => SecretInfo {
                    path: path.clone(),
                    group: listed_group,
                    created: None,
                    rotated: None,
                    expires: None,
                    authorized_agents: Vec::new(),
                    extra_agents: Vec::new(),
                    expired: false,
                },
            };
            out.push(info);
        }
        Ok((out, warnings))
    }

    /// The state listings read (see [`Vault::read_source`]), checked as a whole against the
    /// signed statement when the vault is signed.
    fn verified_listing_source(&self, options: &ReadOptions) -> Result<(Source<'_>, Vec<String>)> {
        let (source, warnings) = self.read_source(options);
        let verify = |source: &Source<'_>, mut warnings: Vec<String>| -> Result<Vec<String>> {
            if let Some(statement) = self.reader_trust(source, options, None, &mut warnings)? {
                let problems = integrity::verify_all(source, &statement)?;
                if !problems.is_empty() {
                    return Err(Error::Integrity(format!(
                        "the vault differs from what the owner signed:\n  {}\nDo not trust it; ask the owner to run `agent-vault verify`",
                        problems.join("\n  ")
                    )));
                }
            }
            Ok(warnings)
        };
        match verify(&source, warnings.clone()) {
            Ok(warnings) => Ok((source, warnings)),
            // A writer is updating the working tree right now; HEAD's tree is consistent
            // and, if it verifies, the truth.
            Err(Error::Integrity(why))
                if matches!(source, Source::Worktree { .. }) && self.repo.writer_active() =>
            {
                match self.repo.head_source()? {
                    Some(head) => {
                        let warnings = verify(&head, warnings)?;
                        Ok((head, warnings))
                    }
                    None => Err(Error::Integrity(why)),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Lists agents with their groups.
    pub fn list_agents(&self, options: &ReadOptions) -> Result<(Vec<AgentInfo>, Vec<String>)> {
        let (source, warnings) = self.verified_listing_source(options)?;
        let manifest = read_manifest(&source)?;
        let agents = manifest
            .agents()
            .into_iter()
            .map(|agent| {
                let public_key = source
                    .read(&agent_public_key_path(&agent.name))?
                    .map(|b| String::from_utf8_lossy(&b).trim().to_owned());
                let mut groups = agent.groups.clone();
                groups.sort();
                Ok(AgentInfo {
                    name: agent.name.clone(),
                    groups,
                    public_key,
                    escrow: source.read(&agent_escrow_path(&agent.name))?.is_some(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((agents, warnings))
    }

    /// Stores a secret (new or rotated).
    pub fn set(
        &self,
        path: &SecretPath,
        value: &SecretSlice<u8>,
        options: &SetOptions,
    ) -> Result<Outcome> {
        let mut change = self.begin()?;
        let meta_path = secret_meta_path(path.as_str());
        let existing = change.read_meta(&meta_path)?;
        let group = match (&options.group, &existing) {
            (Some(g), _) => g.to_string(),
            (None, Some(meta)) => change
                .state
                .manifest
                .group_of(path.as_str())
                .unwrap_or(&meta.group)
                .to_owned(),
            (None, None) => path.default_group()?.to_string(),
        };
        let extra_agents: Vec<String> = match (&options.agents, &existing) {
            (Some(agents), _) => {
                for agent in agents {
                    if change.state.manifest.agent(agent.as_str()).is_none() {
                        return Err(Error::AgentNotFound(agent.to_string()));
                    }
                }
                agents.iter().map(|a| a.to_string()).collect()
            }
            (None, Some(meta)) => meta.extra_agents.clone(),
            (None, None) => Vec::new(),
        };
        let now = time::format(time::now());
        let mut notes = Vec::new();
        let mut meta = existing.clone().unwrap_or_else(|| SecretMetaFile {
            name: path.to_string(),
            group: group.clone(),
            created: now.clone(),
            rotated: None,
            expires: None,
            authorized_agents: Vec::new(),
            extra_agents: Vec::new(),
            recipients: None,
            extra: Default::default(),
        });
        meta.name = path.to_string();
        meta.group = group.clone();
        meta.rotated = Some(now);
        meta.extra_agents = extra_agents;
        if let Some(expires) = options.expires {
            meta.expires = Some(time::format(expires));
        } else if let Some(kept) = meta.expires.as_deref().and_then(time::parse_stored)
            && kept <= time::now()
        {
            notes.push(format!(
                "kept the expiry {} which has already passed; pass --expires to set a new one",
                time::format(kept)
            ));
        }
        change.state.manifest.put_secret(path.as_str(), &group);
        let (recipients, agents) = change.recipients_for(&group, &meta.extra_agents)?;
        meta.authorized_agents = agents;
        meta.recipients = Some(crypto::recipients_fingerprint(&recipient_strings(
            &recipients,
        )));
        let ciphertext = crypto::encrypt(value.expose_secret(), &recipients)
            .map_err(|e| Error::Invalid(e.to_string()))?;
        change.files.put(secret_enc_path(path.as_str()), ciphertext);
        change.files.put(meta_path, meta.to_yaml());
        change.put_manifest();
        let verb = if existing.is_some() { "rotate" } else { "add" };
        let message = CommitMessage::new("set", format!("{verb} secret {path}"))
            .trailer("Secret", path)
            .trailer("Group", &group);
        let mut outcome = change.commit(message)?;
        outcome.notes.extend(notes);
        Ok(outcome)
    }

    /// Deletes a secret.
    pub fn remove_secret(&self, path: &SecretPath) -> Result<Outcome> {
        let mut change = self.begin()?;
        let enc = secret_enc_path(path.as_str());
        let meta = secret_meta_path(path.as_str());
        let source = self.repo.worktree();
        if source.read(&enc)?.is_none()
            && source.read(&meta)?.is_none()
            && change.state.manifest.group_of(path.as_str()).is_none()
        {
            return Err(Error::SecretNotFound(path.to_string()));
        }
        change.files.delete(enc);
        change.files.delete(meta);
        change.state.manifest.remove_secret(path.as_str());
        change.put_manifest();
        change.commit(
            CommitMessage::new("rm", format!("remove secret {path}")).trailer("Secret", path),
        )
    }

    /// Registers an agent: generates its key (written to `key_out` or its default path, and
    /// escrowed to the owner) or records a public key made elsewhere.
    pub fn add_agent(
        &self,
        name: &AgentName,
        key_out: Option<&Path>,
        public_key: Option<&str>,
    ) -> Result<AddAgentOutcome> {
        let mut change = self.begin()?;
        if change.state.manifest.agent(name.as_str()).is_some() {
            return Err(Error::AlreadyExists {
                what: format!("agent '{name}'"),
                hint: "pick another name, or `agent-vault recover-agent` to give it a new key"
                    .into(),
            });
        }
        let mut written_key = None;
        let recipient = match public_key {
            Some(text) => keys::parse_recipient(text, "--public-key")?,
            None => {
                let key_path = key_out
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| self.home.agent_key_path(name));
                let key = keys::generate(&change.key_file_header(name));
                let escrow = crypto::encrypt(key.file_text.as_bytes(), &change.state.owners)
                    .map_err(|e| Error::Invalid(e.to_string()))?;
                keys::write_key_file(
                    &key_path,
                    key.file_text.as_bytes(),
                    "choose another path with --key-out, or remove the old file if it is no longer needed",
                )?;
                written_key = Some(key_path);
                change.files.put(agent_escrow_path(name.as_str()), escrow);
                key.recipient
            }
        };
        change.files.put(
            agent_public_key_path(name.as_str()),
            format!("{recipient}\n").into_bytes(),
        );
        change.state.manifest.add_agent(name.as_str());
        change.put_manifest();
        let message =
            CommitMessage::new("add-agent", format!("add agent {name}")).trailer("Agent", name);
        let verify_key = change.signing.as_ref().map(|(s, _)| s.verify_key);
        match change.commit(message) {
            Ok(outcome) => Ok(AddAgentOutcome {
                public_key: recipient.to_string(),
                key_path: written_key,
                commit: outcome.commit,
                verify_key,
            }),
            Err(e) => {
                if let Some(path) = written_key {
                    let _ = std::fs::remove_file(path);
                }
                Err(e)
            }
        }
    }

    /// Removes an agent and re-encrypts every secret it could read without its key.
    pub fn remove_agent(&self, name: &AgentName) -> Result<Outcome> {
        let mut change = self.begin()?;
        let agent = name.as_str();
        let Some(groups) = change.state.manifest.remove_agent(agent) else {
            return Err(Error::AgentNotFound(name.to_string()));
        };
        // Every secret whose ciphertext may include the agent: its groups, and any secret
        // naming it as an extra or authorized agent.
        let mut affected: BTreeSet<String> = groups
            .iter()
            .flat_map(|g| change.state.manifest.group_secrets(g))
            .collect();
        for (path, _) in change.state.manifest.all_secrets() {
            if affected.contains(&path) {
                continue;
            }
            if let Some(meta) = change.read_meta(&secret_meta_path(&path))?
                && meta
                    .authorized_agents
                    .iter()
                    .chain(&meta.extra_agents)
                    .any(|a| a == agent)
            {
                affected.insert(path);
            }
        }
        change.files.delete(agent_public_key_path(agent));
        change.files.delete(agent_escrow_path(agent));
        change.put_manifest();
        let affected: Vec<String> = affected.into_iter().collect();
        change.reencrypt(&affected, Some(agent))?;
        let message = CommitMessage::new("remove-agent", format!("remove agent {name}"))
            .trailer("Agent", name);
        let mut outcome = change.commit(message)?;
        outcome.rotate = affected;
        Ok(outcome)
    }

    /// Grants a group to an agent and re-encrypts the group's secrets for it.
    pub fn grant(&self, name: &AgentName, group: &GroupName) -> Result<Outcome> {
        let mut change = self.begin()?;
        if change.state.manifest.agent(name.as_str()).is_none() {
            return Err(Error::AgentNotFound(name.to_string()));
        }
        let mut notes = Vec::new();
        if !change.state.manifest.has_group(group.as_str()) {
            notes.push(format!("group '{group}' has no secrets yet; secrets set in it later will be readable by '{name}'"));
        }
        if !change.state.manifest.grant(name.as_str(), group.as_str()) {
            return Ok(Outcome::unchanged(format!(
                "agent '{name}' already has access to group '{group}'; nothing changed"
            )));
        }
        change.put_manifest();
        let secrets = change.state.manifest.group_secrets(group.as_str());
        change.reencrypt(&secrets, None)?;
        let message = CommitMessage::new("grant", format!("grant {name} access to {group}"))
            .trailer("Agent", name)
            .trailer("Group", group);
        let mut outcome = change.commit(message)?;
        outcome.notes.splice(0..0, notes);
        Ok(outcome)
    }

    /// Revokes a group from an agent and re-encrypts the group's secrets without it.
    pub fn revoke(&self, name: &AgentName, group: &GroupName) -> Result<Outcome> {
        let mut change = self.begin()?;
        if change.state.manifest.agent(name.as_str()).is_none() {
            return Err(Error::AgentNotFound(name.to_string()));
        }
        if !change.state.manifest.revoke(name.as_str(), group.as_str()) {
            return Ok(Outcome::unchanged(format!(
                "agent '{name}' has no access to group '{group}'; nothing changed"
            )));
        }
        change.put_manifest();
        let secrets = change.state.manifest.group_secrets(group.as_str());
        change.reencrypt(&secrets, None)?;
        // Secrets it still reads as an extra agent were not taken away.
        let mut rotate = Vec::new();
        for path in &secrets {
            let still = change
                .staged_meta(path)?
                .is_some_and(|m| m.authorized_agents.iter().any(|a| a == name.as_str()));
            if !still {
                rotate.push(path.clone());
            }
        }
        let message = CommitMessage::new("revoke", format!("revoke {name} access to {group}"))
            .trailer("Agent", name)
            .trailer("Group", group);
        let mut outcome = change.commit(message)?;
        outcome.rotate = rotate;
        Ok(outcome)
    }

    /// Gives an agent a new key (after its key was lost or exposed), escrows it, and
    /// re-encrypts every secret it reads for the new key.
    pub fn recover_agent(
        &self,
        name: &AgentName,
        key_out: Option<&Path>,
    ) -> Result<(Outcome, PathBuf)> {
        let mut change = self.begin()?;
        let agent = name.as_str();
        if change.state.manifest.agent(agent).is_none() {
            return Err(Error::AgentNotFound(name.to_string()));
        }
        // Opening the escrow proves the old key was ours to recover.
        self.open_escrow(name, &change.owner)?;
        let key_path = key_out
            .map(Path::to_path_buf)
            .unwrap_or_else(|| self.home.agent_key_path(name));
        let key = keys::generate(&change.key_file_header(name));
        let escrow = crypto::encrypt(key.file_text.as_bytes(), &change.state.owners)
            .map_err(|e| Error::Invalid(e.to_string()))?;
        change.files.put(agent_escrow_path(agent), escrow);
        change.files.put(
            agent_public_key_path(agent),
            format!("{}\n", key.recipient).into_bytes(),
        );
        change
            .agent_keys
            .insert(agent.to_owned(), key.recipient.clone());
        let mut affected = Vec::new();
        for (path, _) in change.state.manifest.all_secrets() {
            if let Some(meta) = change.read_meta(&secret_meta_path(&path))?
                && meta.authorized_agents.iter().any(|a| a == agent)
            {
                affected.push(path);
            }
        }
        change.reencrypt_forced(&affected)?;
        keys::write_key_file(
            &key_path,
            key.file_text.as_bytes(),
            "move the old key file away first (it is replaced by this recovery), or choose another path with --key-out",
        )?;
        let message = CommitMessage::new("recover-agent", format!("give agent {name} a new key"))
            .trailer("Agent", name);
        match change.commit(message) {
            Ok(mut outcome) => {
                outcome.rotate = affected;
                Ok((outcome, key_path))
            }
            Err(e) => {
                let _ = std::fs::remove_file(&key_path);
                Err(e)
            }
        }
    }

    /// Writes an agent's original key, from escrow, to a new file at `to`.
    pub fn restore_agent(&self, name: &AgentName, to: &Path) -> Result<()> {
        let source = self.repo.worktree();
        let state = load_state(&source)?;
        if state.manifest.agent(name.as_str()).is_none() {
            return Err(Error::AgentNotFound(name.to_string()));
        }
        let owner = keys::load_owner(&self.home)?;
        let mut warnings = Vec::new();
        if let Some(statement) =
            self.reader_trust(&source, &ReadOptions::default(), None, &mut warnings)?
        {
            let escrow_path = agent_escrow_path(name.as_str());
            integrity::verify_file(
                &statement,
                &escrow_path,
                source.read(&escrow_path)?.as_deref(),
            )?;
        }
        let key = self.open_escrow(name, &owner)?;
        keys::write_key_file(
            to,
            key.expose_secret(),
            "choose a path that does not exist yet",
        )
    }

    /// Checks the whole vault against its signed statement, as a reader would (with the
    /// pinned or given verify key). Returns the statement and every difference found.
    pub fn verify(&self, options: &ReadOptions) -> Result<VerifyReport> {
        let (source, warnings) = self.read_source(options);
        let report = self.verify_source(&source, options, warnings.clone());
        let worktree_failed = match &report {
            Ok(report) => !report.problems.is_empty(),
            Err(Error::Integrity(_)) => true,
            Err(_) => false,
        };
        if worktree_failed
            && matches!(source, Source::Worktree { .. })
            && self.repo.writer_active()
            && let Some(head) = self.repo.head_source()?
            && let Ok(mut at_head) = self.verify_source(&head, options, warnings)
            && at_head.problems.is_empty()
        {
            // A writer is updating the working tree right now: what git holds verifies.
            at_head.warnings.push(
                "another agent-vault command is writing the vault right now; verified HEAD".into(),
            );
            return Ok(at_head);
        }
        report
    }

    fn verify_source(
        &self,
        source: &Source<'_>,
        options: &ReadOptions,
        mut warnings: Vec<String>,
    ) -> Result<VerifyReport> {
        let statement = self.reader_trust(source, options, None, &mut warnings)?;
        let problems = match &statement {
            Some(statement) => integrity::verify_all(source, statement)?,
            None => Vec::new(),
        };
        Ok(VerifyReport {
            statement,
            problems,
            warnings,
        })
    }

    /// Signs the vault's current state after the owner has reviewed it: adopts an unsigned
    /// vault (creating its signing key), or re-signs after a merge or a reviewed change.
    /// `new_key` replaces the signing key (agents must then trust the new verify key).
    pub fn sign(&self, new_key: bool) -> Result<(Outcome, VerifyKey)> {
        let lock = self.lock_clean()?;
        let source = self.repo.worktree();
        let state = load_state(&source)?;
        let owner = keys::load_owner(&self.home)?;
        if !owner.matches_any(&state.owners) {
            return Err(not_owner(&owner, &state));
        }
        let pins = Pins::new(&self.home);
        let location = self.location();
        let pin = pins.get(&location)?;
        let mut files = ChangeSet::new();
        if source.read(GITATTRIBUTES_PATH)?.is_none() {
            files.put(
                GITATTRIBUTES_PATH,
                GITATTRIBUTES_CONTENT.as_bytes().to_vec(),
            );
        }
        let existing = match source.read(SIGNING_KEY_PATH)? {
            Some(bytes) if !new_key => {
                let text =
                    decrypt_secret(SIGNING_KEY_PATH, &bytes, &owner, "the vault signing key")?;
                Some(SigningKey::from_text(text.expose_secret())?)
            }
            _ => None,
        };
        let key = match existing {
            Some(key) => {
                if let Some(pin) = &pin
                    && pin.verify_key != key.verify_key().to_string()
                {
                    return Err(Error::Integrity(format!(
                        "the signing key in the vault ({}) is not the one this machine trusts ({}); someone may have replaced it. If you replaced it yourself, run `agent-vault sign --new-key`",
                        key.verify_key(),
                        pin.verify_key
                    )));
                }
                key
            }
            None => {
                let key = SigningKey::generate()?;
                files.put(
                    SIGNING_KEY_PATH,
                    crypto::encrypt(key.to_text().as_bytes(), &state.owners)
                        .map_err(|e| Error::Invalid(e.to_string()))?,
                );
                key
            }
        };
        let previous_seq = source
            .read(STATEMENT_PATH)?
            .and_then(|b| Statement::parse_and_verify(&b).ok())
            .map(|s| s.seq)
            .unwrap_or(0);
        let seq = previous_seq.max(pin.as_ref().map(|p| p.seq).unwrap_or(0)) + 1;
        let signature = integrity::restate(&source, None, &files, &key, seq)?;
        files.extend(signature);
        let message = CommitMessage::new("sign", format!("sign vault state {seq}"))
            .trailer("Verify-Key", key.verify_key());
        let commit = self.repo.commit(&lock, files, &message)?;
        pins.record(
            &location,
            Pin {
                verify_key: key.verify_key().to_string(),
                seq,
            },
        )?;
        self.remember_signed_head(&key.verify_key(), seq)?;
        Ok((
            Outcome {
                commit,
                ..Outcome::default()
            },
            key.verify_key(),
        ))
    }

    fn open_escrow(&self, name: &AgentName, owner: &Identities) -> Result<SecretSlice<u8>> {
        let path = agent_escrow_path(name.as_str());
        let Some(escrow) = self.repo.worktree().read(&path)? else {
            return Err(Error::KeyNotFound(format!(
                "agent '{name}' has no escrowed key (it was registered with --public-key); its key exists only where it was made. Use `agent-vault remove-agent {name}` and `add-agent` to replace it"
            )));
        };
        decrypt_secret(&path, &escrow, owner, &format!("escrow of agent {name}"))
    }
}

impl Change<'_> {
    /// The comment lines of a new agent key file: who it is for and, for a signed vault, the
    /// verify key the agent should trust.
    fn key_file_header(&self, name: &AgentName) -> Vec<String> {
        let mut header = vec![format!("agent-vault agent key for '{name}'")];
        if let Some((statement, _)) = &self.signing {
            header.push(format!(
                "{} {}",
                integrity::KEY_FILE_COMMENT,
                statement.verify_key
            ));
        }
        header
    }

    fn read_meta(&self, meta_path: &str) -> Result<Option<SecretMetaFile>> {
        match self.vault.repo.worktree().read(meta_path)? {
            Some(bytes) => SecretMetaFile::parse(meta_path, &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// The metadata as it will be after this change.
    fn staged_meta(&self, secret: &str) -> Result<Option<SecretMetaFile>> {
        let meta_path = secret_meta_path(secret);
        match self.files.get(&meta_path) {
            Some(Some(bytes)) => SecretMetaFile::parse(&meta_path, bytes).map(Some),
            Some(None) => Ok(None),
            None => self.read_meta(&meta_path),
        }
    }

    fn put_manifest(&mut self) {
        self.files.put(MANIFEST_PATH, self.state.manifest.to_yaml());
    }

    fn agent_recipient(&mut self, agent: &str) -> Result<x25519::Recipient> {
        if let Some(r) = self.agent_keys.get(agent) {
            return Ok(r.clone());
        }
        let path = agent_public_key_path(agent);
        let bytes = self.vault.repo.worktree().read(&path)?.ok_or_else(|| {
            Error::corrupt(&path, format!("agent '{agent}' is in the manifest but its public key is missing; restore it from git history or `agent-vault remove-agent {agent}`"))
        })?;
        let recipient = keys::parse_recipient(&String::from_utf8_lossy(&bytes), &path)?;
        self.agent_keys.insert(agent.to_owned(), recipient.clone());
        Ok(recipient)
    }

    /// The recipients of a secret in `group` with `extra` agents: owners first, then agents
    /// in name order. Also returns the agent names.
    fn recipients_for(
        &mut self,
        group: &str,
        extra: &[String],
    ) -> Result<(Vec<x25519::Recipient>, Vec<String>)> {
        let mut agents: BTreeSet<String> = self
            .state
            .manifest
            .agents_in_group(group)
            .into_iter()
            .collect();
        agents.extend(
            extra
                .iter()
                .filter(|a| self.state.manifest.agent(a).is_some())
                .cloned(),
        );
        let mut recipients = self.state.owners.clone();
        for agent in &agents {
            recipients.push(self.agent_recipient(agent)?);
        }
        Ok((recipients, agents.into_iter().collect()))
    }

    /// Re-encrypts `secrets` for their current recipients, skipping those whose recorded
    /// recipient set is already right. `dropped_agent` is removed from extra grants.
    fn reencrypt(&mut self, secrets: &[String], dropped_agent: Option<&str>) -> Result<()> {
        self.reencrypt_where(secrets, dropped_agent, false)
    }

    /// Re-encrypts `secrets` even if the recorded recipient set looks right (a key changed).
    fn reencrypt_forced(&mut self, secrets: &[String]) -> Result<()> {
        self.reencrypt_where(secrets, None, true)
    }

    fn reencrypt_where(
        &mut self,
        secrets: &[String],
        dropped_agent: Option<&str>,
        force: bool,
    ) -> Result<()> {
        struct Job {
            path: String,
            enc_path: String,
            meta_path: String,
            ciphertext: Vec<u8>,
            meta: SecretMetaFile,
            recipients: Vec<x25519::Recipient>,
        }
        let source = self.vault.repo.worktree();
        let mut jobs = Vec::new();
        for path in secrets {
            let meta_path = secret_meta_path(path);
            let enc_path = secret_enc_path(path);
            let Some(mut meta) = self.read_meta(&meta_path)? else {
                return Err(Error::corrupt(
                    &meta_path,
                    format!(
                        "secret '{path}' is listed in the manifest but its metadata is missing; run `agent-vault check`"
                    ),
                ));
            };
            let Some(ciphertext) = source.read(&enc_path)? else {
                return Err(Error::corrupt(
                    &enc_path,
                    format!(
                        "secret '{path}' is listed in the manifest but its ciphertext is missing; run `agent-vault check`"
                    ),
                ));
            };
            if let Some(dropped) = dropped_agent {
                meta.extra_agents.retain(|a| a != dropped);
            }
            let group = self
                .state
                .manifest
                .group_of(path)
                .unwrap_or(&meta.group)
                .to_owned();
            let (recipients, agents) = self.recipients_for(&group, &meta.extra_agents)?;
            let fingerprint = crypto::recipients_fingerprint(&recipient_strings(&recipients));
            if !force
                && meta.recipients.as_deref() == Some(fingerprint.as_str())
                && meta.authorized_agents == agents
            {
                continue;
            }
            meta.authorized_agents = agents;
            meta.recipients = Some(fingerprint);
            jobs.push(Job {
                path: path.clone(),
                enc_path,
                meta_path,
                ciphertext,
                meta,
                recipients,
            });
        }
        let owner = &self.owner;
        let results: Vec<Result<(Job, Vec<u8>)>> = jobs
            .into_par_iter()
            .map(|job| {
                let plaintext = decrypt_secret(&job.enc_path, &job.ciphertext, owner, &job.path)?;
                let ciphertext = crypto::encrypt(plaintext.expose_secret(), &job.recipients)
                    .map_err(|e| Error::Invalid(e.to_string()))?;
                Ok((job, ciphertext))
            })
            .collect();
        for result in results {
            let (job, ciphertext) = result?;
            self.reencrypted.push(job.path);
            self.files.put(job.enc_path, ciphertext);
            self.files.put(job.meta_path, job.meta.to_yaml());
        }
        Ok(())
    }

    fn commit(mut self, message: CommitMessage) -> Result<Outcome> {
        let mut signed_seq = None;
        if let Some((statement, key)) = &self.signing
            && !self.files.is_empty()
        {
            let source = self.vault.repo.worktree();
            let seq = statement.seq + 1;
            let signature = integrity::restate(&source, Some(statement), &self.files, key, seq)?;
            self.files.extend(signature);
            signed_seq = Some((key.verify_key(), seq));
        }
        let commit = self.vault.repo.commit(&self.lock, self.files, &message)?;
        if let (Some(_), Some((key, seq))) = (commit, signed_seq) {
            self.vault.remember_signed_head(&key, seq)?;
            Pins::new(&self.vault.home).record(
                &self.vault.location(),
                Pin {
                    verify_key: key.to_string(),
                    seq,
                },
            )?;
        }
        Ok(Outcome {
            commit,
            reencrypted: self.reencrypted,
            notes: self.notes,
            ..Outcome::default()
        })
    }
}

/// Refuses a statement older than the newest this machine has seen for the vault.
fn check_pin(pin: Option<&Pin>, statement: &Statement) -> Result<()> {
    if let Some(pin) = pin
        && pin.verify_key == statement.verify_key.to_string()
        && statement.seq < pin.seq
    {
        return Err(Error::Integrity(format!(
            "rollback: the vault is at signed state {} but this machine has already seen state {}; someone may have restored old files to undo a rotation or revocation. If you moved to an older commit yourself (checkout, reset, revert), return to the newest state (`git pull`, `git checkout <branch>`); if the owner reverted on purpose, the owner re-signs with `agent-vault sign`. Otherwise ask the owner to run `agent-vault verify`",
            statement.seq, pin.seq
        )));
    }
    Ok(())
}

/// The verify keys a reader accepts: `AGENT_VAULT_VERIFY_KEY`, else every
/// `# agent-vault verify-key: …` comment in the key file (one per vault it is used with).
fn expected_verify_keys(identities: Option<&Identities>) -> Result<Vec<VerifyKey>> {
    if let Ok(value) = std::env::var(integrity::VERIFY_KEY_ENV)
        && !value.trim().is_empty()
    {
        return Ok(vec![value.parse()?]);
    }
    let Some(identities) = identities else {
        return Ok(Vec::new());
    };
    identities
        .comments
        .iter()
        .filter_map(|c| c.strip_prefix(integrity::KEY_FILE_COMMENT))
        .map(|key| key.trim().parse())
        .collect()
}

fn not_owner(owner: &Identities, state: &State) -> Error {
    Error::NotOwner {
        key: owner.origin.clone(),
        vault_owner: recipient_strings(&state.owners).join(", "),
    }
}

fn recipient_strings(recipients: &[x25519::Recipient]) -> Vec<String> {
    recipients.iter().map(|r| r.to_string()).collect()
}

fn read_manifest(source: &Source<'_>) -> Result<Manifest> {
    let bytes = source.read(MANIFEST_PATH)?.ok_or_else(|| {
        Error::corrupt(
            MANIFEST_PATH,
            format!(
                "missing from the {}; restore it from git history",
                source.label()
            ),
        )
    })?;
    Manifest::parse(&bytes)
}

fn load_state(source: &Source<'_>) -> Result<State> {
    let config = source.read(CONFIG_PATH)?.ok_or_else(|| {
        Error::corrupt(
            CONFIG_PATH,
            format!(
                "missing from the {}; restore it from git history",
                source.label()
            ),
        )
    })?;
    ConfigFile::parse(&config)?;
    let manifest = read_manifest(source)?;
    let owners = read_owner_recipients(source, &manifest)?;
    Ok(State { manifest, owners })
}

/// The owners' recipients named by the manifest (falling back to `owner.pub`).
pub(crate) fn read_owner_recipients(
    source: &Source<'_>,
    manifest: &Manifest,
) -> Result<Vec<x25519::Recipient>> {
    let mut refs: Vec<&str> = manifest.owner_key_refs();
    if refs.is_empty() {
        refs.push("owner.pub");
    }
    let mut owners = Vec::new();
    for reference in refs {
        if reference.starts_with("age1") {
            owners.push(keys::parse_recipient(reference, MANIFEST_PATH)?);
            continue;
        }
        if reference.is_empty()
            || reference.contains('/')
            || reference.contains('\\')
            || reference.starts_with('.')
        {
            return Err(Error::corrupt(
                MANIFEST_PATH,
                format!(
                    "owner public_key '{}' must name a file inside {VAULT_DIR}/",
                    reference.escape_debug()
                ),
            ));
        }
        let path = format!("{VAULT_DIR}/{reference}");
        let bytes = source.read(&path)?.ok_or_else(|| {
            Error::corrupt(
                &path,
                "the owner's public key file is missing; restore it from git history",
            )
        })?;
        owners.extend(keys::parse_recipients_file(
            &String::from_utf8_lossy(&bytes),
            &path,
        )?);
    }
    Ok(owners)
}

fn decrypt_secret(
    file: &str,
    ciphertext: &[u8],
    identities: &Identities,
    what: &str,
) -> Result<SecretSlice<u8>> {
    crypto::decrypt(ciphertext, &identities.identities).map_err(|e| match e {
        DecryptFailure::NotARecipient => Error::AccessDenied {
            what: what.to_owned(),
            key: identities.origin.clone(),
        },
        DecryptFailure::Malformed(reason) => Error::corrupt(
            file,
            format!("{reason}; restore it from git history (`git log -- {file}`) or set the secret again"),
        ),
    })
}

fn secret_info(path: &str, meta: &SecretMetaFile) -> SecretInfo {
    let expired = meta
        .expires
        .as_deref()
        .and_then(time::parse_stored)
        .is_some_and(|t| t <= time::now());
    let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    SecretInfo {
        path: path.to_owned(),
        group: meta.group.clone(),
        created: non_empty(&meta.created),
        rotated: meta.rotated.clone(),
        expires: meta.expires.clone(),
        authorized_agents: meta.authorized_agents.clone(),
        extra_agents: meta.extra_agents.clone(),
        expired,
    }
}

/// What `init` created and must remove if it fails.
#[derive(Default)]
struct InitCleanup {
    dir: Option<PathBuf>,
    git_dir: Option<PathBuf>,
    key_file: Option<PathBuf>,
}

impl InitCleanup {
    fn undo(self) {
        if let Some(key) = self.key_file {
            let _ = std::fs::remove_file(key);
        }
        if let Some(git_dir) = self.git_dir {
            let _ = std::fs::remove_dir_all(git_dir);
        }
        if let Some(dir) = self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Reads every `.meta` under `secrets/` as a map from secret path to parsed metadata.
pub(crate) fn read_all_metas(
    source: &Source<'_>,
) -> Result<BTreeMap<String, Result<SecretMetaFile>>> {
    let prefix = format!("{}/", format::SECRETS_DIR);
    let mut out = BTreeMap::new();
    for file in source.list_files(format::SECRETS_DIR)? {
        let Some(secret) = file
            .strip_prefix(&prefix)
            .and_then(|s| s.strip_suffix(format::META_SUFFIX))
        else {
            continue;
        };
        let parsed = match source.read(&file)? {
            Some(bytes) => SecretMetaFile::parse(&file, &bytes),
            None => continue,
        };
        out.insert(secret.to_owned(), parsed);
    }
    Ok(out)
}
