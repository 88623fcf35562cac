//! The library's error type. Every variant says what went wrong and what to do next, never
//! carries secret material, and belongs to one [`ErrorKind`] that the CLI maps to an exit code.

use std::path::PathBuf;
use std::time::Duration;

/// Coarse classes of failure; each maps to one documented exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Usage or invalid input (exit 2).
    Invalid,
    /// A vault, secret, agent, group or key does not exist (exit 3).
    NotFound,
    /// The available key cannot decrypt the data (exit 4).
    AccessDenied,
    /// The vault's contents fail an integrity check (exit 5).
    Integrity,
    /// The vault is locked by another command, has diverged, or has uncommitted changes (exit 6).
    Busy,
    /// Anything else: I/O, git, unreadable files (exit 1).
    Other,
}

/// Shorthand for results carrying [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the vault logic.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A secret path, agent or group name that the format does not allow.
    #[error("invalid {what} '{value}': {reason}")]
    InvalidName {
        what: &'static str,
        value: String,
        reason: String,
    },
    /// Some other invalid input; the message carries the hint.
    #[error("{0}")]
    Invalid(String),
    /// Something the user asked to create already exists.
    #[error("{what} already exists: {hint}")]
    AlreadyExists { what: String, hint: String },
    /// No `.agent-vault/` at or above the starting directory.
    #[error(
        "no vault found in {0} or its parents: run `agent-vault init` there, or pass --vault DIR"
    )]
    VaultNotFound(PathBuf),
    /// The secret path is not in the vault.
    #[error("secret '{0}' not found: `agent-vault list` shows the stored secrets")]
    SecretNotFound(String),
    /// The agent is not registered.
    #[error("agent '{0}' not found: `agent-vault list-agents` shows the registered agents")]
    AgentNotFound(String),
    /// The group does not exist.
    #[error("group '{0}' not found: `agent-vault list` shows the groups in use")]
    GroupNotFound(String),
    /// A key that was named (or is needed) does not exist.
    #[error("key not found: {0}")]
    KeyNotFound(String),
    /// The key cannot decrypt this ciphertext.
    #[error(
        "access denied: {key} cannot decrypt '{what}'; ask the vault owner to run `agent-vault grant <agent> <group>`"
    )]
    AccessDenied { what: String, key: String },
    /// The owner key on this machine does not belong to this vault.
    #[error(
        "the owner key {key} is not an owner of this vault ({vault_owner}); use the owner's machine or set AGENT_VAULT_HOME to the directory holding its owner.key"
    )]
    NotOwner { key: String, vault_owner: String },
    /// A vault file cannot be parsed or is of an unsupported version.
    #[error("{path}: {reason}")]
    Corrupt { path: String, reason: String },
    /// A key file cannot be parsed.
    #[error("{origin}: {reason}")]
    BadKey { origin: String, reason: String },
    /// The vault's contents failed an integrity check.
    #[error("integrity failure: {0}")]
    Integrity(String),
    /// Another agent-vault command holds the vault's lock.
    #[error(
        "vault busy: another agent-vault command holds {lock} (waited {waited:?}); retry when it finishes, or raise AGENT_VAULT_LOCK_TIMEOUT"
    )]
    Busy { lock: PathBuf, waited: Duration },
    /// The vault's files have uncommitted changes.
    #[error(
        "the vault has uncommitted changes in: {}; commit or discard them (`git status .agent-vault`) before changing the vault",
        .0.join(", ")
    )]
    Dirty(Vec<String>),
    /// The repository is in a state the vault cannot be written in.
    #[error("{0}")]
    RepoState(String),
    /// A git operation failed.
    #[error("git: {context}: {source}")]
    Git {
        context: String,
        #[source]
        source: git2::Error,
    },
    /// A filesystem operation failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// The class of this error, which decides the CLI's exit code.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidName { .. } | Error::Invalid(_) | Error::AlreadyExists { .. } => {
                ErrorKind::Invalid
            }
            Error::VaultNotFound(_)
            | Error::SecretNotFound(_)
            | Error::AgentNotFound(_)
            | Error::GroupNotFound(_)
            | Error::KeyNotFound(_) => ErrorKind::NotFound,
            Error::AccessDenied { .. } | Error::NotOwner { .. } => ErrorKind::AccessDenied,
            Error::Integrity(_) => ErrorKind::Integrity,
            Error::Busy { .. } | Error::Dirty(_) | Error::RepoState(_) => ErrorKind::Busy,
            Error::Corrupt { .. } | Error::BadKey { .. } | Error::Git { .. } | Error::Io { .. } => {
                ErrorKind::Other
            }
        }
    }

    /// Wraps an I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// Wraps a git error with what was being done.
    pub fn git(context: impl Into<String>, source: git2::Error) -> Self {
        Error::Git {
            context: context.into(),
            source,
        }
    }

    /// A vault file that cannot be understood.
    pub fn corrupt(path: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        Error::Corrupt {
            path: path.into(),
            reason: reason.to_string(),
        }
    }
}

/// Adds context to `std::io::Result`s.
pub(crate) trait IoContext<T> {
    fn io_context(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn io_context(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::io(context(), e))
    }
}

/// Adds context to `git2` results.
pub(crate) trait GitContext<T> {
    fn git_context(self, context: &str) -> Result<T>;
}

impl<T> GitContext<T> for std::result::Result<T, git2::Error> {
    fn git_context(self, context: &str) -> Result<T> {
        self.map_err(|e| Error::git(context, e))
    }
}
