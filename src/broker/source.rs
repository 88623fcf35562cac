//! The seam between the broker and wherever values come from. The broker does not know the
//! vault: the CLI implements [`CredentialSource`] over it (policy from the owner-signed `.meta`,
//! value decrypted with the caller's key, both from the newest verified state).

use secrecy::SecretSlice;

use super::policy::UsePolicy;

/// Where the broker gets policies and values, for one caller (one identity).
///
/// The broker calls [`policy`](CredentialSource::policy) first and decides; only for an allowed
/// request does it call [`credential`](CredentialSource::credential), so an implementation
/// should answer `policy` without decrypting anything. Both are called from a blocking thread
/// (`tokio::task::spawn_blocking`), so they may do file and git I/O. They are called on every
/// request: an implementation that re-reads the vault (the proxy re-reads at most once a
/// second) makes a revoke, rotation or policy change take effect without a restart.
pub trait CredentialSource: Send + Sync {
    /// The use policy of `secret` from the newest verified state, `None` when it has none.
    /// Must not decrypt the value.
    fn policy(&self, secret: &str) -> Result<Option<UsePolicy>, SourceError>;

    /// The use policy and value of `secret` for this caller, from the newest verified state.
    fn credential(&self, secret: &str) -> Result<Credential, SourceError>;

    /// Who is asking, for the audit log: `owner` or `agent:NAME`.
    fn actor(&self) -> String;
}

/// A decrypted value and the policy that came with it.
pub struct Credential {
    /// The value; never logged, never in errors.
    pub value: SecretSlice<u8>,
    /// The policy read together with the value. When it differs from the one
    /// [`CredentialSource::policy`] returned (the vault changed in between), the broker decides
    /// again with this one; `None` refuses (`no-policy`).
    pub policy: Option<UsePolicy>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("value", &"[redacted]")
            .field("policy", &self.policy)
            .finish()
    }
}

/// Why a source could not answer. Messages say what to do next and never hold a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// The secret does not exist (CLI exit 3).
    #[error("{0}")]
    NotFound(String),
    /// This caller may not read it, e.g. a group it was not granted (CLI exit 4).
    #[error("{0}")]
    AccessDenied(String),
    /// The vault, or this secret's policy, is not what its owner signed (CLI exit 5).
    #[error("{0}")]
    Integrity(String),
    /// Anything else (CLI exit 1).
    #[error("{0}")]
    Other(String),
}

impl SourceError {
    /// The reason as written in the audit log and the proxy's JSON errors.
    pub fn reason(&self) -> &'static str {
        match self {
            SourceError::NotFound(_) => "not-found",
            SourceError::AccessDenied(_) => "access-denied",
            SourceError::Integrity(_) => "integrity",
            SourceError::Other(_) => "source-error",
        }
    }
}
