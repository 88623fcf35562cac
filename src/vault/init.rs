//! `init`: a new vault in a repository (made if needed), the owner key reused or created,
//! the first signed state committed, the pre-commit hook installed. Everything `init` created
//! is removed again if it fails.

use std::path::{Path, PathBuf};

use git2::Oid;

use super::Vault;
use age::x25519;

use super::change::endorsements;
use super::restate::{self, Header};
use crate::changeset::ChangeSet;
use crate::error::IoContext;
use crate::format::{
    CONFIG_PATH, ConfigFile, GITATTRIBUTES_CONTENT, GITATTRIBUTES_PATH, GITIGNORE_CONTENT,
    GITIGNORE_PATH, MANIFEST_PATH, OWNER_PUB_PATH,
};
use crate::git::{CommitMessage, VaultRepo};
use crate::integrity::{SIGNING_KEY_PATH, SigningKey, Statement, VaultId, VerifyKey};
use crate::keys::{self, Identities};
use crate::manifest::Manifest;
use crate::settings::Settings;
use crate::{Error, Result, crypto};

/// What `init` did.
#[derive(Debug)]
pub struct InitOutcome {
    pub vault_dir: PathBuf,
    /// The vault already existed: nothing was changed.
    pub already: bool,
    pub verify_key: Option<VerifyKey>,
    pub vault_id: Option<VaultId>,
    pub owner_public_key: String,
    pub owner_key_path: PathBuf,
    pub owner_key_created: bool,
    pub repo_created: bool,
    pub commit: Option<Oid>,
    pub hook: std::result::Result<crate::hook::HookStatus, Error>,
    /// Things the user should know.
    pub notes: Vec<String>,
}

/// What `init` created and must remove if it fails.
#[derive(Default)]
struct Cleanup {
    dir: Option<PathBuf>,
    git_dir: Option<PathBuf>,
    key_file: Option<PathBuf>,
}

impl Cleanup {
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

impl Vault {
    /// Creates a vault in the repository containing `dir` (creating the repository, and
    /// `dir`, if needed). Reuses this machine's owner key if there is one. In a repository
    /// that already holds a vault, changes nothing and says so.
    pub fn init(dir: &Path, settings: Settings, owner_name: Option<&str>) -> Result<InitOutcome> {
        let mut cleanup = Cleanup::default();
        let result = Self::init_inner(dir, settings, owner_name, &mut cleanup);
        if result.is_err() {
            cleanup.undo();
        }
        result
    }

    fn init_inner(
        dir: &Path,
        settings: Settings,
        owner_name: Option<&str>,
        cleanup: &mut Cleanup,
    ) -> Result<InitOutcome> {
        prepare_dir(dir, cleanup)?;
        let (repo, repo_created) =
            VaultRepo::open_or_init(dir, cleanup.dir.is_some(), settings.git.clone())?;
        if repo_created {
            cleanup.git_dir = Some(repo.repo().path().to_path_buf());
        }
        let vault = Vault::from_repo(repo, settings)?;
        let owner_key_path = vault.home().owner_key_path();
        if vault.repo.head_tree()?.is_some() {
            return vault.already_initialized(owner_key_path);
        }
        if vault.repo.vault_dir().exists() {
            return Err(Error::AlreadyExists {
                what: format!("{}", vault.repo.vault_dir().display()),
                hint: "it is not committed; commit it, or move it away to start a new vault".into(),
            });
        }
        // Refuse before creating anything when git cannot say who is committing.
        let author = vault.repo.author()?;
        let lock = vault.lock_clean()?;
        let (owner, owner_key_created) = vault.owner_for_init(cleanup)?;
        let owner_name = owner_name.map_or(author.name, str::to_owned);
        let first = first_state(&owner, &owner_name)?;
        let commit = vault.repo.commit(
            &lock,
            &first.files,
            &CommitMessage::new("init", "initialize vault")
                .trailer("Owner-Key", &first.owner_recipient)
                .trailer("Vault", first.statement.vault.expect("v2")),
        )?;
        let notes: Vec<String> = vault
            .signed_committed(&first.statement)?
            .into_iter()
            .collect();
        drop(lock);
        let hook = crate::hook::install(vault.repo.repo(), vault.repo.git_env());
        Ok(InitOutcome {
            vault_dir: vault.repo.vault_dir(),
            already: false,
            verify_key: Some(first.statement.verify_key),
            vault_id: first.statement.vault,
            owner_public_key: first.owner_recipient.to_string(),
            owner_key_path,
            owner_key_created,
            repo_created,
            commit,
            hook,
            notes,
        })
    }

    /// The owner's identity: this machine's owner key, or a new one (removed again if `init`
    /// fails). Returns whether it was created.
    fn owner_for_init(&self, cleanup: &mut Cleanup) -> Result<(Identities, bool)> {
        if self.home().owner_key_from_env() {
            // AGENT_VAULT_OWNER_KEY names the owner key: use it or fail, never make another.
            return Ok((keys::load_owner(self.home())?, false));
        }
        match keys::load_owner(self.home()) {
            Ok(existing) => Ok((existing, false)),
            Err(Error::KeyNotFound(_)) => {
                let path = self.home().owner_key_path();
                let key = keys::generate(&["agent-vault owner key: back this file up; it decrypts every secret and escrowed agent key".into()]);
                keys::write_key_file(
                    &path,
                    key.file_text.as_bytes(),
                    "it was just checked to be absent; retry",
                )?;
                cleanup.key_file = Some(path);
                Ok((keys::load_owner(self.home())?, true))
            }
            Err(other) => Err(other),
        }
    }

    /// `init` where a vault exists: nothing changes; report what is there.
    fn already_initialized(&self, owner_key_path: PathBuf) -> Result<InitOutcome> {
        // Nothing of the existing vault is reported here: it is not verified yet (`verify`
        // does that).
        let owner = keys::load_owner(self.home()).ok();
        Ok(InitOutcome {
            vault_dir: self.repo.vault_dir(),
            already: true,
            verify_key: None,
            vault_id: None,
            owner_public_key: owner
                .map(|o| o.recipients()[0].to_string())
                .unwrap_or_default(),
            owner_key_path,
            owner_key_created: false,
            repo_created: false,
            commit: None,
            hook: Ok(crate::hook::status(self.repo.repo(), self.repo.git_env())),
            notes: Vec::new(),
        })
    }
}

/// Creates `dir` if needed (remembering the topmost folder created, for cleanup) and checks
/// that it can be written.
fn prepare_dir(dir: &Path, cleanup: &mut Cleanup) -> Result<()> {
    if !dir.exists() {
        let mut top = dir.to_path_buf();
        while let Some(parent) = top
            .parent()
            .filter(|p| !p.as_os_str().is_empty() && !p.exists())
        {
            top = parent.to_path_buf();
        }
        std::fs::create_dir_all(dir).io_context(|| format!("cannot create {}", dir.display()))?;
        cleanup.dir = Some(top);
    }
    tempfile::tempfile_in(dir).map_err(|e| {
        Error::io(
            format!("cannot write in {} (check its permissions)", dir.display()),
            e,
        )
    })?;
    Ok(())
}

/// A new vault's first state: its files, signed.
struct FirstState {
    files: ChangeSet,
    statement: Statement,
    owner_recipient: x25519::Recipient,
}

/// The files of a new vault owned by `owner`, with a new signing key and identity, endorsed
/// and signed at sequence number 1.
fn first_state(owner: &Identities, owner_name: &str) -> Result<FirstState> {
    let owner_recipient = owner.recipients()[0].clone();
    let config =
        serde_yaml::to_string(&ConfigFile::new()).map_err(|e| Error::corrupt(CONFIG_PATH, e))?;
    let mut files = ChangeSet::new();
    files.put(CONFIG_PATH, config.into_bytes());
    files.put(OWNER_PUB_PATH, format!("{owner_recipient}\n").into_bytes());
    files.put(MANIFEST_PATH, Manifest::new(owner_name).to_yaml());
    files.put(GITIGNORE_PATH, GITIGNORE_CONTENT.as_bytes().to_vec());
    files.put(
        GITATTRIBUTES_PATH,
        GITATTRIBUTES_CONTENT.as_bytes().to_vec(),
    );
    let signing_key = SigningKey::generate()?;
    let owners = std::slice::from_ref(&owner_recipient);
    files.put(
        SIGNING_KEY_PATH,
        crypto::encrypt(signing_key.to_text().as_bytes(), owners)?,
    );
    let vault_id = VaultId::generate()?;
    let header = Header {
        vault: vault_id,
        seq: 1,
        key_changes: Vec::new(),
        owners: endorsements(owner, owners, &vault_id, &signing_key.verify_key(), None),
    };
    let (signature, statement) = restate::restate(None, None, &files, header, &signing_key)?;
    files.extend(signature);
    super::change::check_leaks(&files)?;
    Ok(FirstState {
        files,
        statement,
        owner_recipient,
    })
}
