//! `init`: a new vault in a repository (made if needed), the owner key reused or created,
//! the first signed state committed, the pre-commit hook installed. Everything `init` created
//! is removed again if it fails.

use std::path::{Path, PathBuf};

use git2::Oid;

use super::Vault;
use super::restate::{self, Header};
use crate::changeset::ChangeSet;
use crate::error::IoContext;
use crate::format::{
    CONFIG_PATH, ConfigFile, GITATTRIBUTES_CONTENT, GITATTRIBUTES_PATH, GITIGNORE_CONTENT,
    GITIGNORE_PATH, MANIFEST_PATH, OWNER_PUB_PATH,
};
use crate::git::{CommitMessage, VaultRepo};
use crate::integrity::{SIGNING_KEY_PATH, SigningKey, VaultId, VerifyKey, endorsement_tag};
use crate::keys;
use crate::manifest::Manifest;
use crate::pins::Pins;
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
        let (owner, owner_key_created) = match keys::load_owner(vault.home()) {
            Ok(existing) => (existing, false),
            Err(Error::KeyNotFound(_)) => {
                let key = keys::generate(&["agent-vault owner key: back this file up; it decrypts every secret and escrowed agent key".into()]);
                keys::write_key_file(
                    &owner_key_path,
                    key.file_text.as_bytes(),
                    "it was just checked to be absent; retry",
                )?;
                cleanup.key_file = Some(owner_key_path.clone());
                (keys::load_owner(vault.home())?, true)
            }
            Err(other) => return Err(other),
        };
        let owner_recipient = owner.recipients()[0].clone();
        let owner_name = owner_name.map_or(author.name, str::to_owned);
        let config = serde_yaml::to_string(&ConfigFile::new())
            .map_err(|e| Error::corrupt(CONFIG_PATH, e))?;
        let mut files = ChangeSet::new();
        files.put(CONFIG_PATH, config.into_bytes());
        files.put(OWNER_PUB_PATH, format!("{owner_recipient}\n").into_bytes());
        files.put(MANIFEST_PATH, Manifest::new(&owner_name).to_yaml());
        files.put(GITIGNORE_PATH, GITIGNORE_CONTENT.as_bytes().to_vec());
        files.put(
            GITATTRIBUTES_PATH,
            GITATTRIBUTES_CONTENT.as_bytes().to_vec(),
        );
        let signing_key = SigningKey::generate()?;
        files.put(
            SIGNING_KEY_PATH,
            crypto::encrypt(
                signing_key.to_text().as_bytes(),
                std::slice::from_ref(&owner_recipient),
            )?,
        );
        let vault_id = VaultId::generate()?;
        let identity = owner
            .identities
            .iter()
            .find(|i| i.to_public().to_string() == owner_recipient.to_string())
            .expect("the recipient came from these identities");
        let header = Header {
            vault: vault_id,
            seq: 1,
            key_changes: Vec::new(),
            owners: [(
                owner_recipient.to_string(),
                endorsement_tag(identity, &vault_id, &signing_key.verify_key()),
            )]
            .into(),
        };
        let (signature, statement) = restate::restate(None, None, &files, header, &signing_key)?;
        files.extend(signature);
        super::change::check_leaks(&files)?;
        let commit = vault.repo.commit(
            &lock,
            &files,
            &CommitMessage::new("init", "initialize vault")
                .trailer("Owner-Key", &owner_recipient)
                .trailer("Vault", vault_id),
        )?;
        vault.remember_signed_head(&statement)?;
        drop(lock);
        let mut notes = Vec::new();
        if let Err(e) = Pins::new(vault.home()).record(&vault.owner_pin(&statement)) {
            notes.push(format!(
                "cannot remember the vault's signing key on this machine ({e})"
            ));
        }
        let hook = crate::hook::install(vault.repo.repo(), vault.repo.git_env());
        Ok(InitOutcome {
            vault_dir: vault.repo.vault_dir(),
            already: false,
            verify_key: Some(signing_key.verify_key()),
            vault_id: Some(vault_id),
            owner_public_key: owner_recipient.to_string(),
            owner_key_path,
            owner_key_created,
            repo_created,
            commit,
            hook,
            notes,
        })
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
