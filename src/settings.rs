//! What the library needs to know about its surroundings, passed in explicitly: where keys
//! live, the key and verify key the caller's environment names, timeouts and git's identity
//! settings. The library never reads process environment variables; the CLI fills this from
//! flags and the environment (`cli/env.rs`), a server fills it per request.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

pub use crate::keys::KeyEnv;
use crate::keys::KeyHome;
use crate::progress::ProgressHandle;

/// Git settings that libgit2 does not read from the environment itself.
#[derive(Debug, Clone, Default)]
pub struct GitEnv {
    /// `GIT_AUTHOR_NAME`, which wins over `user.name`.
    pub author_name: Option<String>,
    /// `GIT_AUTHOR_EMAIL`, which wins over `user.email`.
    pub author_email: Option<String>,
    /// `GIT_CONFIG_GLOBAL`: replaces the global config file.
    pub config_global: Option<PathBuf>,
    /// `GIT_CONFIG_SYSTEM`: replaces the system config file.
    pub config_system: Option<PathBuf>,
    /// Whether the user chose their own ssh command (`GIT_SSH_COMMAND`/`GIT_SSH`), which
    /// `git fetch` must then keep.
    pub own_ssh_command: bool,
    /// The environment of every git process spawned: the user's, without any `AGENT_VAULT_*`
    /// variable (empty when the caller prepared none).
    pub child_env: Vec<(OsString, OsString)>,
}

/// Everything an operation needs besides its arguments.
#[derive(Debug)]
pub struct Settings {
    /// Where keys and pins live.
    pub home: KeyHome,
    /// `AGENT_VAULT_KEY`.
    pub key_env: KeyEnv,
    /// `AGENT_VAULT_VERIFY_KEY`, unparsed (an invalid value is an error only when used).
    pub verify_key_env: Option<String>,
    /// How long to wait for another command's lock.
    pub lock_timeout: Duration,
    /// How long `git fetch` may take.
    pub fetch_timeout: Duration,
    /// Owner commands do not fetch the upstream before checking that they build on the newest
    /// vault (`AGENT_VAULT_OFFLINE`); readers take this per read (`ReadOptions::offline`).
    pub offline: bool,
    /// Git identity and configuration files.
    pub git: GitEnv,
    /// Where progress of long work is reported (nowhere by default).
    pub progress: ProgressHandle,
}

impl Settings {
    /// Defaults for a key home: no key or verify key from the environment, a 30 s lock
    /// timeout and a 10 s fetch timeout.
    pub fn new(home: KeyHome) -> Self {
        Settings {
            home,
            key_env: KeyEnv::Unset,
            verify_key_env: None,
            lock_timeout: Duration::from_secs(30),
            fetch_timeout: Duration::from_secs(10),
            offline: false,
            git: GitEnv::default(),
            progress: ProgressHandle::default(),
        }
    }
}
