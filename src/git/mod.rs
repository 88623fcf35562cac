//! Git as the vault's database: the repository and its working tree, the user's identity, the
//! state of `.agent-vault/` in HEAD and in the working tree.
//!
//! * [`tree`] reads the `.agent-vault` tree of a commit as raw objects, with the structural
//!   rules of the format (modes, names, depth, size caps). Only the vault's trust module uses
//!   it: everything else gets verified bytes from a snapshot.
//! * [`commit`] turns a [`ChangeSet`] into one commit holding only `.agent-vault/` paths,
//!   moves the branch atomically and brings the working tree and index up to date.
//! * [`lock`] serializes commands that change a vault; [`upstream`] fetches and compares the
//!   upstream branch for readers.

pub mod commit;
pub mod lock;
pub mod pack;
pub mod tree;
pub mod upstream;

use std::path::{Path, PathBuf};

use git2::{ErrorCode, Oid, Repository, Signature, StatusOptions};

use crate::changeset::ChangeSet;
use crate::error::GitContext;
use crate::format::VAULT_DIR;
use crate::settings::GitEnv;
use crate::{Error, Result};

pub use commit::CommitMessage;
pub use lock::VaultLock;
pub use tree::RawTree;
pub use upstream::Freshness;

/// A git repository with a working tree that holds (or will hold) a vault.
pub struct VaultRepo {
    repo: Repository,
    workdir: PathBuf,
    git: GitEnv,
}

/// The commit author: the user's git identity.
pub struct Author {
    /// The identity to commit as.
    pub signature: Signature<'static>,
    /// Its name, for the manifest's owner entry.
    pub name: String,
}

impl VaultRepo {
    /// Finds the repository containing `start` (a file or directory).
    pub fn discover(start: &Path, git: GitEnv) -> Result<Self> {
        let repo = Repository::discover(start).map_err(|e| {
            if e.code() == ErrorCode::NotFound {
                Error::VaultNotFound(start.to_path_buf())
            } else {
                Error::git(format!("opening the repository at {}", start.display()), e)
            }
        })?;
        Self::from_repo(repo, git)
    }

    /// Opens the repository containing `dir`, creating one at `dir` if there is none (always,
    /// with `new_folder`: a folder created for the vault gets its own repository, never a
    /// vault in some enclosing repository). Returns whether it was created.
    pub fn open_or_init(dir: &Path, new_folder: bool, git: GitEnv) -> Result<(Self, bool)> {
        let found = if new_folder {
            Err(git2::Error::new(
                ErrorCode::NotFound,
                git2::ErrorClass::Repository,
                "new folder",
            ))
        } else {
            Repository::discover(dir)
        };
        match found {
            Ok(repo) => Ok((Self::from_repo(repo, git)?, false)),
            Err(e) if e.code() == ErrorCode::NotFound => {
                let repo = Repository::init(dir)
                    .git_context(&format!("creating a git repository in {}", dir.display()))?;
                Ok((Self::from_repo(repo, git)?, true))
            }
            Err(e) => Err(Error::git(
                format!("opening the repository at {}", dir.display()),
                e,
            )),
        }
    }

    fn from_repo(repo: Repository, git: GitEnv) -> Result<Self> {
        let Some(workdir) = repo.workdir().map(Path::to_path_buf) else {
            return Err(Error::Invalid(format!(
                "{} is a bare repository: a vault needs a working tree; clone it (`git clone {0} DIR`) and run agent-vault in the clone",
                repo.path().display()
            )));
        };
        Ok(VaultRepo { repo, workdir, git })
    }

    /// The underlying repository.
    pub fn repo(&self) -> &Repository {
        &self.repo
    }

    /// The root of the working tree.
    pub fn workdir(&self) -> &Path {
        &self.workdir
    }

    /// The vault folder in the working tree.
    pub fn vault_dir(&self) -> PathBuf {
        self.workdir.join(VAULT_DIR)
    }

    /// The git settings this repository was opened with.
    pub fn git_env(&self) -> &GitEnv {
        &self.git
    }

    /// The repository's git configuration as `git` itself would read it: libgit2 does not
    /// know `GIT_CONFIG_GLOBAL` and `GIT_CONFIG_SYSTEM`, so they are applied here (each
    /// replaces the file at its level, as in git).
    pub fn config(&self) -> std::result::Result<git2::Config, git2::Error> {
        git_config(&self.repo, &self.git)
    }

    /// The commit HEAD points at, or `None` on an unborn branch.
    pub fn head_commit(&self) -> Result<Option<Oid>> {
        match self.repo.head() {
            Ok(head) => Ok(head.target()),
            Err(e) if matches!(e.code(), ErrorCode::UnbornBranch | ErrorCode::NotFound) => Ok(None),
            Err(e) => Err(Error::git("reading HEAD", e)),
        }
    }

    /// The `.agent-vault` tree of HEAD, read as raw objects; `None` when HEAD has no vault.
    pub fn head_tree(&self) -> Result<Option<RawTree<'_>>> {
        match self.head_commit()? {
            Some(head) => RawTree::open(&self.repo, head, "HEAD".into()),
            None => Ok(None),
        }
    }

    /// The user's git identity: `GIT_AUTHOR_NAME`/`GIT_AUTHOR_EMAIL`, then git config. Like
    /// `git commit`, refuses to make one up.
    pub fn author(&self) -> Result<Author> {
        let config = self.config().ok();
        let lookup = |env: &Option<String>, key: &str| {
            env.clone()
                .filter(|v| !v.is_empty())
                .or_else(|| config.as_ref().and_then(|c| c.get_string(key).ok()))
                .filter(|v| !v.trim().is_empty())
        };
        let name = lookup(&self.git.author_name, "user.name");
        let email = lookup(&self.git.author_email, "user.email");
        let (Some(name), Some(email)) = (name, email) else {
            return Err(Error::Invalid(
                "git does not know who you are, and every vault change is a commit made as you: run `git config --global user.name \"Your Name\"` and `git config --global user.email you@example.com` (or set GIT_AUTHOR_NAME and GIT_AUTHOR_EMAIL), then retry".into(),
            ));
        };
        let signature = Signature::now(&name, &email).git_context("making the commit signature")?;
        Ok(Author { signature, name })
    }

    /// Paths under `.agent-vault/` whose working-tree or index state differs from HEAD
    /// (untracked files count, unless git ignores them).
    pub fn dirty_vault_paths(&self) -> Result<Vec<String>> {
        let mut options = StatusOptions::new();
        options
            .pathspec(VAULT_DIR)
            .include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_ignored(false)
            .exclude_submodules(true);
        let statuses = self
            .repo
            .statuses(Some(&mut options))
            .git_context("reading the status of .agent-vault")?;
        Ok(statuses
            .iter()
            .filter(|s| s.status() != git2::Status::CURRENT && !s.status().is_ignored())
            .map(|s| crate::error::escape(&String::from_utf8_lossy(s.path_bytes())))
            .collect())
    }

    /// Commits `changes` (see [`commit::commit`]).
    pub fn commit(
        &self,
        lock: &VaultLock,
        changes: &ChangeSet,
        message: &CommitMessage,
    ) -> Result<Option<Oid>> {
        commit::commit(self, lock, changes, message)
    }
}

/// The repository's git configuration, with `GIT_CONFIG_GLOBAL`/`GIT_CONFIG_SYSTEM` applied.
pub fn git_config(
    repo: &Repository,
    git: &GitEnv,
) -> std::result::Result<git2::Config, git2::Error> {
    let mut config = repo.config()?;
    for (path, level) in [
        (&git.config_global, git2::ConfigLevel::Global),
        (&git.config_system, git2::ConfigLevel::System),
    ] {
        if let Some(path) = path {
            config.add_file(path, level, true)?;
        }
    }
    Ok(config)
}
