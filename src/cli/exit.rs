//! Exit codes, and the mapping from errors to them. Documented in README.md.

use std::process::ExitCode;

use agent_vault::ErrorKind;

/// The process exit codes agent-vault uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// Success.
    Ok = 0,
    /// Any other failure (I/O, git, unreadable files); also `check`/`scan` findings.
    Failure = 1,
    /// Usage error or invalid input.
    Usage = 2,
    /// A vault, secret, agent, group or key does not exist.
    NotFound = 3,
    /// The key cannot decrypt the data.
    AccessDenied = 4,
    /// An integrity check failed.
    Integrity = 5,
    /// The vault is busy (locked), diverged or has uncommitted changes.
    Busy = 6,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}

impl From<ErrorKind> for Exit {
    fn from(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::Invalid => Exit::Usage,
            ErrorKind::NotFound => Exit::NotFound,
            ErrorKind::AccessDenied => Exit::AccessDenied,
            ErrorKind::Integrity => Exit::Integrity,
            ErrorKind::Busy => Exit::Busy,
            _ => Exit::Failure,
        }
    }
}

/// An invalid use of the CLI that clap cannot express (e.g. an empty value).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The status of the program `run` ran (or the editor `edit` ran), which becomes ours: no
/// message is printed for it.
#[derive(Debug, thiserror::Error)]
#[error("the command exited with status {0}")]
pub struct ChildStatus(pub u8);

/// A program that could not be started: 127 when it does not exist, 126 when it cannot be
/// executed, as shells report them.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct CannotStart {
    pub code: u8,
    pub message: String,
}

/// The process exit code for an error: a child's status as is, a program that cannot start
/// as 126/127, anything else by [`exit_for`].
pub fn code_for(error: &anyhow::Error) -> ExitCode {
    for cause in error.chain() {
        if let Some(ChildStatus(code)) = cause.downcast_ref::<ChildStatus>() {
            return ExitCode::from(*code);
        }
        if let Some(e) = cause.downcast_ref::<CannotStart>() {
            return ExitCode::from(e.code);
        }
    }
    exit_for(error).into()
}

/// The exit code for an error: the first cause in its chain that we know decides.
pub fn exit_for(error: &anyhow::Error) -> Exit {
    for cause in error.chain() {
        if let Some(e) = cause.downcast_ref::<agent_vault::Error>() {
            return e.kind().into();
        }
        if cause.downcast_ref::<UsageError>().is_some() {
            return Exit::Usage;
        }
    }
    Exit::Failure
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        assert_eq!(Exit::from(ErrorKind::Invalid) as u8, 2);
        assert_eq!(Exit::from(ErrorKind::NotFound) as u8, 3);
        assert_eq!(Exit::from(ErrorKind::AccessDenied) as u8, 4);
        assert_eq!(Exit::from(ErrorKind::Integrity) as u8, 5);
        assert_eq!(Exit::from(ErrorKind::Busy) as u8, 6);
        assert_eq!(Exit::from(ErrorKind::Other) as u8, 1);
        let err = anyhow::Error::new(agent_vault::Error::SecretNotFound("x".into()))
            .context("while reading");
        assert_eq!(exit_for(&err), Exit::NotFound);
    }

    /// A failing random-number generator or encryption, and a thing that already exists, are
    /// failures (1), not usage errors (2): the command line was right.
    #[test]
    fn crypto_failures_and_existing_things_are_failures_not_usage_errors() {
        let crypto = anyhow::Error::new(agent_vault::Error::Crypto("no randomness".into()));
        assert_eq!(exit_for(&crypto), Exit::Failure);
        let exists = anyhow::Error::new(agent_vault::Error::AlreadyExists {
            what: "agent deploy-bot".into(),
            hint: "pick another name".into(),
        });
        assert_eq!(exit_for(&exists), Exit::Failure);
    }
}
