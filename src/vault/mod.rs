//! The vault operations, composed from the format, manifest, crypto, keys, integrity and git
//! modules. One way in, one way out:
//!
//! * **Reading** goes through a [`snapshot::Snapshot`], which only [`trust`] can build: it
//!   picks the commit to read (HEAD, or the upstream when it is ahead), checks the signed
//!   statement against the anchors and pins, and hands out a file's bytes only after their
//!   digest matched. Nothing is parsed, printed or decrypted before that.
//! * **Changing** goes through a [`change::Change`]: take the lock, refuse a dirty vault,
//!   open an owner snapshot of HEAD (whole vault verified, signing key confirmed as the
//!   owner's), compute the new files in memory, re-sign, commit them as one commit.
//!
//! The operations live in rooms of their own: [`read`] (get, list, verify), [`secrets`] (set,
//! rm), [`agents`] (add, remove, recover, restore), [`access`] (grant, revoke), [`sign`],
//! [`init`], [`usage`] (use policies and credentials for the broker), [`bulk`] (many secrets
//! in one pass: `run`/`export`/`inject`, `import`), [`edit`] (`edit`, `generate`), [`rename`]
//! (`mv`), [`history`] (`log`).

mod access;
mod agents;
pub mod audit;
mod change;
mod init;
mod read;
mod restate;
mod secrets;
mod sign;
pub mod snapshot;
mod trust;
mod usage;
// Secrets into processes and the everyday owner verbs (run/export/inject, import, edit,
// generate, mv, log).
mod bulk;
mod edit;
mod history;
mod rename;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use git2::Oid;
use secrecy::SecretSlice;
use serde::Serialize;

use crate::environ::EnvName;
use crate::error::Problem;
use crate::git::VaultRepo;
use crate::integrity::{Statement, VerifyKey};
use crate::keys::KeyHome;
use crate::names::{AgentName, GroupName};
use crate::settings::Settings;
use crate::{Error, Result};

pub use bulk::{Bulk, BulkSecret, ImportEntry, ImportPlan, Selection};
pub use change::check_leaks;
pub use edit::{EditSession, Replace};
pub use history::{HistoryEntry, HistoryOptions};
pub use init::InitOutcome;
pub use read::{Audit, KnownValues, Names};
pub use sign::SignOutcome;

/// An opened vault: a repository with `.agent-vault/` in HEAD, and this machine's settings.
pub struct Vault {
    repo: VaultRepo,
    settings: Settings,
    location: String,
}

/// How readers pick and check the state they read.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Do not fetch the upstream branch first.
    pub offline: bool,
    /// The verify key the vault must be signed with (`--verify-key`); else
    /// `AGENT_VAULT_VERIFY_KEY`, the key file's comments, pins, endorsements.
    pub verify_key: Option<VerifyKey>,
}

/// A decrypted secret with its metadata. The value is zeroized on drop.
pub struct SecretValue {
    /// The exact bytes stored.
    pub value: SecretSlice<u8>,
    /// Its metadata, if the `.meta` file exists.
    pub info: Option<SecretInfo>,
    /// Things the user should know (expired, stale upstream, first use, …).
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
    /// The owner-signed use policy (hosts, auth), when the secret can be used via the broker.
    pub policy: Option<crate::policy::UsePolicy>,
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
    pub problems: Vec<Problem>,
    /// Warnings (unsigned vault, stale upstream, …).
    pub warnings: Vec<String>,
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
    pub expires: Option<Expiry>,
    /// Agents granted this secret beyond its group; `None` keeps the existing ones.
    pub agents: Option<Vec<AgentName>>,
    /// The environment variable name `run` and `export` use; `None` keeps the existing one.
    pub env: Option<EnvChange>,
}

/// A new environment variable name for `set --env` / `--no-env`.
#[derive(Debug, Clone)]
pub enum EnvChange {
    /// Record this name.
    Set(EnvName),
    /// Remove the recorded name (the name derived from the path applies again).
    Remove,
}

/// A new expiry for `set`.
#[derive(Debug, Clone, Copy)]
pub enum Expiry {
    /// Expires at this time.
    At(DateTime<Utc>),
    /// Never expires (removes an existing expiry).
    Never,
}

impl Vault {
    /// Opens the vault of the repository containing `start`: HEAD must hold `.agent-vault`.
    pub fn discover(start: &Path, settings: Settings) -> Result<Self> {
        let repo = VaultRepo::discover(start, settings.git.clone())?;
        let vault = Vault::from_repo(repo, settings)?;
        if vault.repo.head_tree()?.is_none() {
            return Err(if vault.repo.vault_dir().exists() {
                Error::Invalid(format!(
                    "{} exists but is not committed: agent-vault reads the vault from git, so commit it (or run `agent-vault init` for a new vault)",
                    vault.repo.vault_dir().display()
                ))
            } else {
                Error::VaultNotFound(start.to_path_buf())
            });
        }
        Ok(vault)
    }

    fn from_repo(repo: VaultRepo, settings: Settings) -> Result<Self> {
        // Pins are keyed by this path: it must be the same however the vault is reached.
        let location = std::fs::canonicalize(repo.workdir())
            .map_err(|e| Error::io(format!("cannot resolve {}", repo.workdir().display()), e))?
            .display()
            .to_string();
        let mut vault = Vault {
            repo,
            settings,
            location,
        };
        let id = vault.peek_vault_id();
        vault.settings.home = vault.settings.home.clone().for_vault(id);
        Ok(vault)
    }

    /// The repository.
    pub fn repo(&self) -> &VaultRepo {
        &self.repo
    }

    /// The settings this vault was opened with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The key home.
    pub fn home(&self) -> &KeyHome {
        &self.settings.home
    }

    /// Where this vault is, as pins record it: the canonical path of the working tree.
    pub fn location(&self) -> &str {
        &self.location
    }
}
