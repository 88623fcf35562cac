//! The library's error type. Every variant says what went wrong, never carries secret material
//! or repository file contents, and belongs to one [`ErrorKind`] that the CLI maps to an exit
//! code. Integrity failures are data ([`Problem`]), so a server can report them structurally and
//! the CLI can add its own advice.

use std::fmt;
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
    /// Anything else: I/O, git, unreadable files, something that already exists (exit 1).
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
    /// No vault at or above the starting directory.
    #[error("no vault found in {0} or its parents")]
    VaultNotFound(PathBuf),
    /// The secret path is not in the vault.
    #[error("secret '{0}' not found")]
    SecretNotFound(String),
    /// The agent is not registered.
    #[error("agent '{0}' not found")]
    AgentNotFound(String),
    /// The group does not exist.
    #[error("group '{0}' not found")]
    GroupNotFound(String),
    /// A key that was named (or is needed) does not exist.
    #[error("key not found: {0}")]
    KeyNotFound(String),
    /// The key cannot decrypt this ciphertext. `denied` says, for a secret read from a
    /// verified vault, its group and whose key this is.
    #[error(
        "access denied: {key} cannot decrypt '{what}'{}",
        denied.as_ref().map(|d| format!(" (group '{}')", d.group)).unwrap_or_default()
    )]
    AccessDenied {
        what: String,
        key: String,
        denied: Option<Denied>,
    },
    /// The key in use names another vault (its `# agent-vault vault:` line) and its verify
    /// keys do not vouch for the vault found here.
    #[error(
        "{origin} is a key of vault {key_vaults}, but this repository holds vault {vault}, which that key does not vouch for: use a key of this vault (`agent-vault add-agent` writes them to $AGENT_VAULT_HOME/agents/{vault}/). If this repository should hold vault {key_vaults}, it was replaced: do not trust it"
    )]
    OtherVaultKey {
        origin: String,
        key_vaults: String,
        vault: String,
    },
    /// The owner key on this machine does not belong to this vault.
    #[error("{key} is not the key of an owner of this vault (its owners: {vault_owner})")]
    NotOwner { key: String, vault_owner: String },
    /// A vault file cannot be parsed or is of an unsupported version.
    #[error("{path}: {reason}")]
    Corrupt { path: String, reason: String },
    /// A key file cannot be parsed.
    #[error("{origin}: {reason}")]
    BadKey { origin: String, reason: String },
    /// The vault is not what its owner signed.
    #[error("integrity failure: {0}")]
    Integrity(IntegrityError),
    /// Another agent-vault command holds the vault's lock.
    #[error(
        "vault busy: another agent-vault command holds {lock} (waited {:.1} s)",
        waited.as_secs_f64()
    )]
    Busy { lock: PathBuf, waited: Duration },
    /// The vault's files have uncommitted changes.
    #[error(
        "the vault has uncommitted changes in: {}; commit or discard them (`git status .agent-vault`) first",
        .0.join(", ")
    )]
    Dirty(Vec<String>),
    /// The repository is in a state the vault cannot be written in.
    #[error("{0}")]
    RepoState(String),
    /// A commit agent-vault was about to make would have leaked key material or plaintext.
    #[error(
        "agent-vault refused to commit content that would leak key material or plaintext: {0}; nothing was committed (this is a bug: please report it)"
    )]
    Leak(String),
    /// The system's random generator or the age encryptor failed.
    #[error("{0}")]
    Crypto(String),
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
            Error::InvalidName { .. } | Error::Invalid(_) => ErrorKind::Invalid,
            Error::VaultNotFound(_)
            | Error::SecretNotFound(_)
            | Error::AgentNotFound(_)
            | Error::GroupNotFound(_)
            | Error::KeyNotFound(_) => ErrorKind::NotFound,
            Error::AccessDenied { .. } | Error::NotOwner { .. } | Error::OtherVaultKey { .. } => {
                ErrorKind::AccessDenied
            }
            Error::Integrity(_) => ErrorKind::Integrity,
            Error::Busy { .. } | Error::Dirty(_) | Error::RepoState(_) => ErrorKind::Busy,
            Error::AlreadyExists { .. }
            | Error::Leak(_)
            | Error::Crypto(_)
            | Error::Corrupt { .. }
            | Error::BadKey { .. }
            | Error::Git { .. }
            | Error::Io { .. } => ErrorKind::Other,
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
    pub fn corrupt(path: impl Into<String>, reason: impl fmt::Display) -> Self {
        Error::Corrupt {
            path: path.into(),
            reason: reason.to_string(),
        }
    }

    /// An integrity failure made of one problem.
    pub fn integrity(problem: Problem) -> Self {
        Error::Integrity(IntegrityError {
            problems: vec![problem],
        })
    }

    /// The integrity problems, when this is an integrity failure.
    pub fn problems(&self) -> &[Problem] {
        match self {
            Error::Integrity(e) => &e.problems,
            _ => &[],
        }
    }
}

/// Why a key could not read a secret, from the verified vault: the secret's group, and the
/// registered agent whose key it is (`None`: no agent of this vault has this key — a removed
/// agent's, another vault's, or the owner key of another vault).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    /// The secret's group.
    pub group: String,
    /// The agent of this vault whose public key matches the key used.
    pub agent: Option<String>,
}

/// The vault is not what its owner signed: one or more [`Problem`]s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrityError {
    /// What was found, in the order it was found.
    pub problems: Vec<Problem>,
}

impl fmt::Display for IntegrityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.problems.as_slice() {
            [one] => write!(f, "{one}"),
            many => {
                write!(f, "the vault differs from what its owner signed:")?;
                for problem in many {
                    write!(f, "\n  {problem}")?;
                }
                Ok(())
            }
        }
    }
}

/// Which file of a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretFile {
    /// The ciphertext, `<path>.enc`.
    Ciphertext,
    /// The metadata, `<path>.meta`.
    Metadata,
}

/// One way in which a vault differs from what its owner signed. Paths and names are
/// repository-relative and already escaped for display where they come from the repository.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// The vault was signed (an anchor or pin says so) but has no statement now.
    SignatureRemoved { expected: String },
    /// The statement cannot be parsed, is not canonical, or its signature does not verify.
    BadStatement { why: String },
    /// The statement holds git merge conflict markers.
    ConflictMarkers,
    /// The statement is signed by a key nobody this reader trusts vouched for.
    WrongSigner {
        found: String,
        expected: Vec<String>,
    },
    /// An owner's command cannot confirm that the statement's key belongs to this vault.
    Unconfirmed { found: String },
    /// The statement is older than a state this machine has already seen.
    Rollback { seq: u64, seen: u64 },
    /// Another vault (a different identity) is at a location that held this one.
    OtherVault { found: String, expected: String },
    /// A version-1 statement where a version-2 statement was seen before.
    Downgrade,
    /// `signing.key.age` holds a key other than the one that signed.
    SigningKeyReplaced { found: String, expected: String },
    /// A policy file's contents differ from the signed digest.
    Changed { path: String },
    /// A file the statement does not list.
    Added { path: String },
    /// A file the statement lists is missing.
    Deleted { path: String },
    /// A secret not listed in its shard.
    SecretAdded { secret: String },
    /// A secret listed in its shard is missing.
    SecretDeleted { secret: String },
    /// A secret's file differs from its shard's digest.
    SecretChanged { secret: String, file: SecretFile },
    /// A shard file is malformed or not the one signed.
    BadShard { shard: String, why: String },
    /// An entry that is not a regular file or a folder (symlink, submodule, executable).
    NotRegular { path: String, mode: u32 },
    /// A tree git would not write: entries out of order, a name twice.
    BadTree { path: String, why: String },
    /// An entry whose name is not valid UTF-8 or holds control characters.
    BadName { path: String },
    /// A file larger than agent-vault ever writes there.
    TooLarge { path: String, size: u64, cap: u64 },
    /// The tree is deeper, or holds more entries, than agent-vault ever writes.
    TooBig { path: String },
    /// A file where the format allows none (e.g. not a secret file under `secrets/`).
    Unexpected { path: String },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::SignatureRemoved { expected } => write!(
                f,
                "this vault should be signed by {expected} but has no signature: someone with push access removed it"
            ),
            Problem::BadStatement { why } => write!(f, "the signed statement {why}"),
            Problem::ConflictMarkers => write!(
                f,
                "the signed statement has git merge conflict markers: two owners changed the vault at the same time"
            ),
            Problem::WrongSigner { found, expected } => write!(
                f,
                "this vault is signed by {found} but {} was expected, and that key did not vouch for it: someone may have replaced the signing key",
                expected.join(" or ")
            ),
            Problem::Unconfirmed { found } => write!(
                f,
                "this vault is signed by {found}, which this machine cannot confirm is the vault's key (no pin here, no endorsement by your owner key, no AGENT_VAULT_VERIFY_KEY)"
            ),
            Problem::Rollback { seq, seen } => write!(
                f,
                "rollback: the vault is at signed state {seq} but this machine has already seen state {seen}"
            ),
            Problem::OtherVault { found, expected } => write!(
                f,
                "this location held vault {expected} but now holds another vault ({found})"
            ),
            Problem::Downgrade => write!(
                f,
                "this location held a vault signed with statement version 2, now it shows a version-1 statement (a downgrade)"
            ),
            Problem::SigningKeyReplaced { found, expected } => write!(
                f,
                "the vault's signing key file holds {found}, not the key {expected} that signed it: someone replaced it"
            ),
            Problem::Changed { path } => write!(f, "{path} was changed after the owner signed it"),
            Problem::Added { path } => {
                write!(f, "{path} was added after the owner signed the vault")
            }
            Problem::Deleted { path } => {
                write!(f, "{path} was deleted after the owner signed the vault")
            }
            Problem::SecretAdded { secret } => write!(
                f,
                "secret '{secret}' was added after the owner signed the vault"
            ),
            Problem::SecretDeleted { secret } => write!(
                f,
                "secret '{secret}' was deleted after the owner signed the vault"
            ),
            Problem::SecretChanged { secret, file } => match file {
                SecretFile::Ciphertext => write!(
                    f,
                    "the ciphertext of '{secret}' is not the one the owner signed (replaced or rolled back)"
                ),
                SecretFile::Metadata => write!(
                    f,
                    "the metadata of '{secret}' is not what the owner signed (edited or rolled back)"
                ),
            },
            Problem::BadShard { shard, why } => write!(f, "shard {shard} {why}"),
            Problem::NotRegular { path, mode } => write!(
                f,
                "{path} is not a regular file (git mode {mode:o}: a symlink, submodule or executable); agent-vault never writes one"
            ),
            Problem::BadTree { path, why } => {
                write!(f, "{path} is not a tree git writes: {why}")
            }
            Problem::BadName { path } => write!(
                f,
                "{path} has a name that is not valid UTF-8 or holds control characters"
            ),
            Problem::TooLarge { path, size, cap } => write!(
                f,
                "{path} is {size} bytes, more than agent-vault writes there ({cap}); it was not read"
            ),
            Problem::TooBig { path } => write!(
                f,
                "{path} is deeper or holds more entries than agent-vault ever writes; it was not read"
            ),
            Problem::Unexpected { path } => write!(
                f,
                "{path} is not a file a vault holds (not covered by the signature)"
            ),
        }
    }
}

/// Escapes control characters (and backslashes) of text taken from the repository, so that a
/// terminal never interprets it.
pub fn escape(text: &str) -> String {
    if text.chars().all(|c| !c.is_control() && c != '\\') {
        return text.to_owned();
    }
    text.escape_debug().to_string()
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
