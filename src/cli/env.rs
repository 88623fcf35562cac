//! The process environment, read in one place: the library takes everything it needs as
//! [`Settings`], so what a variable means is decided here and documented in README.md.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use agent_vault::keys::{HOME_ENV, KEY_ENV, KeyHome, OWNER_KEY_ENV};
use agent_vault::settings::{GitEnv, KeyEnv, Settings};
use secrecy::SecretString;

/// `AGENT_VAULT_VERIFY_KEY`.
pub const VERIFY_KEY_ENV: &str = "AGENT_VAULT_VERIFY_KEY";
/// `AGENT_VAULT_LOCK_TIMEOUT`: seconds to wait for another command's lock.
pub const LOCK_TIMEOUT_ENV: &str = "AGENT_VAULT_LOCK_TIMEOUT";
/// `AGENT_VAULT_FETCH_TIMEOUT`: seconds `git fetch` may take.
pub const FETCH_TIMEOUT_ENV: &str = "AGENT_VAULT_FETCH_TIMEOUT";
/// `AGENT_VAULT_OFFLINE`: never fetch (readers: before reading; owner commands: before
/// checking that the branch is not behind its upstream's vault).
pub const OFFLINE_ENV: &str = "AGENT_VAULT_OFFLINE";
/// Seconds long work runs before its progress bar appears (default 0.3).
pub const PROGRESS_AFTER_ENV: &str = "AGENT_VAULT_PROGRESS_AFTER";
/// `AGENT_VAULT_PROXY_TOKEN`: the token `proxy` clients present (else one is generated).
pub const PROXY_TOKEN_ENV: &str = "AGENT_VAULT_PROXY_TOKEN";
/// `SSL_CERT_FILE`: extra trusted root certificates (PEM) for the broker's HTTPS requests.
pub const SSL_CERT_FILE_ENV: &str = "SSL_CERT_FILE";

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The key home: `AGENT_VAULT_HOME`, else `~/.agent-vault`.
pub fn key_home() -> anyhow::Result<KeyHome> {
    if let Some(dir) = std::env::var_os(HOME_ENV).filter(|d| !d.is_empty()) {
        return Ok(KeyHome::at(PathBuf::from(dir)));
    }
    let home = dirs::home_dir().ok_or_else(|| {
        agent_vault::Error::KeyNotFound(format!(
            "cannot find the home directory; set {HOME_ENV} to the folder holding your keys"
        ))
    })?;
    Ok(KeyHome::at(home.join(".agent-vault")))
}

fn seconds(name: &str, default: f64) -> Duration {
    let seconds = var(name)
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .unwrap_or(default);
    Duration::from_secs_f64(seconds.min(86_400.0))
}

/// A key variable as set: `AGENT_VAULT_KEY` or `AGENT_VAULT_OWNER_KEY` (set but empty is
/// kept as set: an error when used, never a fallback).
fn key_var(name: &str) -> KeyEnv {
    match std::env::var(name) {
        Ok(value) => KeyEnv::Set(SecretString::from(value)),
        Err(std::env::VarError::NotPresent) => KeyEnv::Unset,
        Err(std::env::VarError::NotUnicode(_)) => KeyEnv::NotUnicode,
    }
}

/// Whether `AGENT_VAULT_OWNER_KEY` is set (the owner key comes from it, not `owner.key`).
pub fn owner_key_from_env() -> bool {
    std::env::var_os(OWNER_KEY_ENV).is_some()
}

/// Everything the library needs from the environment.
pub fn settings() -> anyhow::Result<Settings> {
    let mut settings = Settings::new(key_home()?.with_owner_key(key_var(OWNER_KEY_ENV)));
    settings.key_env = key_var(KEY_ENV);
    settings.verify_key_env = var(VERIFY_KEY_ENV);
    settings.lock_timeout = seconds(LOCK_TIMEOUT_ENV, 30.0);
    settings.fetch_timeout = seconds(FETCH_TIMEOUT_ENV, 10.0);
    settings.offline = var(OFFLINE_ENV).is_some_and(|v| {
        !matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "0" | "false" | "no" | "off"
        )
    });
    settings.git = git_env();
    settings.progress = progress_handle();
    Ok(settings)
}

/// Git's settings from the environment, and the environment git processes get: ours
/// without any `AGENT_VAULT_*` variable.
pub fn git_env() -> GitEnv {
    let path = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    GitEnv {
        author_name: var("GIT_AUTHOR_NAME"),
        author_email: var("GIT_AUTHOR_EMAIL"),
        config_global: path("GIT_CONFIG_GLOBAL"),
        config_system: path("GIT_CONFIG_SYSTEM"),
        own_ssh_command: ["GIT_SSH_COMMAND", "GIT_SSH"]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty())),
        child_env: std::env::vars_os()
            .filter(|(name, _)| !name.to_str().is_some_and(|n| n.starts_with("AGENT_VAULT_")))
            .collect::<Vec<(OsString, OsString)>>(),
    }
}

/// The PEM certificates `SSL_CERT_FILE` names, trusted by the broker besides the system's
/// roots; empty when it is not set. An unreadable file is an error, not a silent fallback.
pub fn extra_roots_pem() -> anyhow::Result<Vec<u8>> {
    let Some(path) = std::env::var_os(SSL_CERT_FILE_ENV).filter(|p| !p.is_empty()) else {
        return Ok(Vec::new());
    };
    let path = PathBuf::from(path);
    std::fs::read(&path).map_err(|e| {
        anyhow::anyhow!(
            "{SSL_CERT_FILE_ENV} names {}, which cannot be read ({e}); point it at a PEM file of CA certificates, or unset it",
            path.display()
        )
    })
}

/// `AGENT_VAULT_PROXY_TOKEN`, when set and not empty.
pub fn proxy_token() -> Option<SecretString> {
    std::env::var(PROXY_TOKEN_ENV)
        .ok()
        .filter(|t| !t.is_empty())
        .map(SecretString::from)
}

/// The broker's audit log: `$AGENT_VAULT_HOME/audit.jsonl`.
pub fn audit_log_path() -> anyhow::Result<PathBuf> {
    Ok(key_home()?.root().join("audit.jsonl"))
}

/// The environment `run` gives its command (and `edit` its editor): ours, without
/// `AGENT_VAULT_KEY` or `AGENT_VAULT_OWNER_KEY` (the command gets the secrets it was given, not
/// the key to every secret this key can read).
pub fn child_environment() -> Vec<(OsString, OsString)> {
    std::env::vars_os()
        .filter(|(name, _)| name != KEY_ENV && name != OWNER_KEY_ENV)
        .collect()
}

/// The editor `edit` runs: `$VISUAL`, else `$EDITOR`, else `vi`.
pub fn editor() -> String {
    var("VISUAL")
        .or_else(|| var("EDITOR"))
        .unwrap_or_else(|| "vi".into())
}

/// Where `edit` makes its private folder: `$XDG_RUNTIME_DIR` (per user, in memory on most
/// systems), else `/dev/shm` (in memory), else the temporary folder (`$TMPDIR`).
pub fn scratch_base() -> PathBuf {
    std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .into_iter()
        .chain([PathBuf::from("/dev/shm")])
        .find(|d| d.is_dir())
        .unwrap_or_else(std::env::temp_dir)
}

/// Progress bars as the terminal, `--quiet` and `AGENT_VAULT_PROGRESS_AFTER` have them.
pub fn progress_handle() -> agent_vault::progress::ProgressHandle {
    super::progress::for_terminal(seconds(PROGRESS_AFTER_ENV, 0.3))
}
