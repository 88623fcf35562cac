//! [`VaultSource`]: the [`CredentialSource`] over a vault, for `request`, `proxy` and `mcp`.
//!
//! * **Policy without decryption.** [`CredentialSource::policy`] is [`Vault::use_policy`]: the
//!   owner-signed `.meta` of the newest verified state, nothing decrypted.
//! * **Value and policy together.** [`CredentialSource::credential`] is [`Vault::credential`],
//!   decrypting with the caller's key; a group it was not granted is
//!   [`SourceError::AccessDenied`].
//! * **Fresh, but not on every request.** Answers are kept for [`VaultSource::cache_for`]
//!   (default one second) per secret path — the policy, and the value in a zeroizing
//!   [`SecretSlice`] — and dropped when that time is up (a background thread drops values no one
//!   asked for again). So a revoke, rotation or policy change takes effect within about a
//!   second, without a restart. The upstream is fetched at most every
//!   [`VaultSource::fetch_every`] (default five seconds); in between the state fetched last is
//!   read, like `get --offline`.
//! * **Errors say what to do next** and never hold a value (the vault's errors never do).
//! * **Warnings** (first use of a vault, stale upstream, unsigned vault) go to the sink given
//!   with [`VaultSource::on_warning`], each distinct message once; without a sink they are
//!   dropped.
//! * **Actor** for the audit log: `agent:NAME` (`--agent`), `owner` (the owner key),
//!   `key:FILE-NAME` (`--key`), `key:AGENT_VAULT_KEY` (the key in the environment); see
//!   [`actor_for`].

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretSlice};
use serde::Serialize;

use super::policy::UsePolicy;
use super::source::{Credential, CredentialSource, SourceError};
use crate::keys::KeyChoice;
use crate::names::{GroupName, SecretPath};
use crate::settings::{KeyEnv, Settings};
use crate::vault::{ReadOptions, Vault};
use crate::{Error, ErrorKind};

/// Where warnings go (the CLI prints them on stderr).
pub type WarningSink = Arc<dyn Fn(&str) + Send + Sync>;

/// The audit log's name for the key `key` selects, given the environment's `AGENT_VAULT_KEY`.
pub fn actor_for(key: &KeyChoice, key_env: &KeyEnv) -> String {
    match key {
        KeyChoice::Agent(name) => format!("agent:{name}"),
        KeyChoice::Path(path) => {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.display().to_string());
            format!("key:{name}")
        }
        KeyChoice::Auto => match key_env {
            KeyEnv::Unset => "owner".to_string(),
            KeyEnv::Set(_) | KeyEnv::NotUnicode => format!("key:{}", crate::keys::KEY_ENV),
        },
    }
}

/// One cached answer.
struct Cached {
    at: Instant,
    policy: Option<UsePolicy>,
    value: Option<SecretSlice<u8>>,
}

/// The cache, shared with the thread that drops expired entries.
#[derive(Default)]
struct Cache {
    entries: HashMap<String, Cached>,
    janitor: bool,
}

/// A [`CredentialSource`] over one vault, for one key. See the module docs.
pub struct VaultSource {
    vault: Mutex<Vault>,
    key: KeyChoice,
    options: ReadOptions,
    actor: String,
    ttl: Duration,
    fetch_every: Duration,
    last_fetch: Mutex<Option<Instant>>,
    cache: Arc<Mutex<Cache>>,
    sink: Option<WarningSink>,
    warned: Mutex<HashSet<String>>,
}

/// A secret as `agent_vault_list` (MCP) shows it: metadata and how it may be used, never the
/// value.
#[derive(Debug, Clone, Serialize)]
pub struct ListedSecret {
    /// The secret path.
    pub path: String,
    /// Its group.
    pub group: String,
    /// When it expires, if it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// Whether it has expired.
    pub expired: bool,
    /// Whether this key can decrypt it (`None` when the key is not an agent or the owner).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readable: Option<bool>,
    /// Whether it has a use policy, i.e. can be used through the broker.
    pub usable: bool,
    /// The policy's hosts (empty without a policy).
    pub hosts: Vec<String>,
    /// How the broker injects it (`bearer`, `header:NAME`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<String>,
    /// Allowed methods (`None`: any).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub methods: Option<Vec<String>>,
    /// Allowed path prefixes (`None`: any path).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_prefixes: Option<Vec<String>>,
    /// Why the policy could not be read, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl VaultSource {
    /// Opens the vault of the repository containing `dir`.
    pub fn open(
        dir: &Path,
        settings: Settings,
        key: KeyChoice,
        options: ReadOptions,
    ) -> crate::Result<VaultSource> {
        Ok(VaultSource::new(
            Vault::discover(dir, settings)?,
            key,
            options,
        ))
    }

    /// A source over `vault` reading with `key`.
    pub fn new(vault: Vault, key: KeyChoice, options: ReadOptions) -> VaultSource {
        let actor = actor_for(&key, &vault.settings().key_env);
        VaultSource {
            vault: Mutex::new(vault),
            key,
            options,
            actor,
            ttl: Duration::from_secs(1),
            fetch_every: Duration::from_secs(5),
            last_fetch: Mutex::new(None),
            cache: Arc::new(Mutex::new(Cache::default())),
            sink: None,
            warned: Mutex::new(HashSet::new()),
        }
    }

    /// Names the caller in the audit log (default: [`actor_for`] the key).
    pub fn with_actor(mut self, actor: impl Into<String>) -> Self {
        self.actor = actor.into();
        self
    }

    /// Sends warnings to `sink` (each distinct message once).
    pub fn on_warning(mut self, sink: WarningSink) -> Self {
        self.sink = Some(sink);
        self
    }

    /// How long answers are kept (default 1 s; zero keeps nothing).
    pub fn cache_for(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// How often the upstream may be fetched (default 5 s).
    pub fn fetch_every(mut self, interval: Duration) -> Self {
        self.fetch_every = interval;
        self
    }

    /// Every secret (optionally of one group) with its metadata and use policy, from the newest
    /// state, verified as a whole. Decrypts nothing.
    pub fn list(&self, group: Option<&GroupName>) -> Result<Vec<ListedSecret>, SourceError> {
        let vault = self.lock_vault();
        let options = self.read_options();
        let (infos, warnings) = vault
            .list(group, &options)
            .map_err(|e| self.list_error(e))?;
        self.warn_all(&warnings);
        // The fetch (if any) was just made: read the same state for the policies.
        let same_state = ReadOptions {
            offline: true,
            ..options
        };
        let agent = self.actor.strip_prefix("agent:");
        let mut out = Vec::with_capacity(infos.len());
        for info in infos {
            let readable = match (agent, self.actor.as_str()) {
                (Some(name), _) => Some(
                    info.authorized_agents.iter().any(|a| a == name)
                        || info.extra_agents.iter().any(|a| a == name),
                ),
                (None, "owner") => Some(true),
                _ => None,
            };
            let mut listed = ListedSecret {
                path: info.path.clone(),
                group: info.group.clone(),
                expires: info.expires.clone(),
                expired: info.expired,
                readable,
                usable: false,
                hosts: Vec::new(),
                auth: None,
                methods: None,
                path_prefixes: None,
                note: None,
            };
            let policy = SecretPath::parse(&info.path)
                .and_then(|path| vault.use_policy(&path, &self.key, &same_state));
            match policy {
                Ok((Some(policy), _)) => {
                    listed.usable = true;
                    listed.hosts = policy.hosts.iter().map(|h| h.to_string()).collect();
                    listed.auth = Some(policy.auth.to_string());
                    listed.methods = policy.methods;
                    listed.path_prefixes = policy.path_prefixes;
                }
                Ok((None, _)) => {}
                Err(e) if e.kind() == ErrorKind::Integrity => return Err(self.list_error(e)),
                Err(e) => listed.note = Some(format!("its use policy cannot be read: {e}")),
            }
            out.push(listed);
        }
        Ok(out)
    }

    fn list_error(&self, err: Error) -> SourceError {
        match err.kind() {
            ErrorKind::Integrity => integrity(&err),
            ErrorKind::NotFound => SourceError::NotFound(err.to_string()),
            _ => SourceError::Other(err.to_string()),
        }
    }

    fn lock_vault(&self) -> MutexGuard<'_, Vault> {
        // A panic while reading leaves nothing half-done in a `Vault`: keep using it.
        self.vault.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_cache(&self) -> MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The read options for the next read: fetch only when the last fetch is old enough.
    fn read_options(&self) -> ReadOptions {
        let mut options = self.options.clone();
        if !options.offline {
            let mut last = self.last_fetch.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            match *last {
                Some(at) if now.duration_since(at) < self.fetch_every => options.offline = true,
                _ => *last = Some(now),
            }
        }
        options
    }

    fn warn_all(&self, warnings: &[String]) {
        let Some(sink) = &self.sink else {
            return;
        };
        let mut warned = self.warned.lock().unwrap_or_else(|p| p.into_inner());
        for warning in warnings {
            if warned.insert(warning.clone()) {
                sink(warning);
            }
        }
    }

    /// The fresh cached entry for `secret`, through `read`.
    fn cached<T>(&self, secret: &str, read: impl FnOnce(&Cached) -> Option<T>) -> Option<T> {
        let cache = self.lock_cache();
        let entry = cache.entries.get(secret)?;
        if entry.at.elapsed() >= self.ttl {
            return None;
        }
        read(entry)
    }

    fn cached_policy(&self, secret: &str) -> Option<Option<UsePolicy>> {
        self.cached(secret, |e| Some(e.policy.clone()))
    }

    fn cached_credential(&self, secret: &str) -> Option<Credential> {
        self.cached(secret, |e| {
            let value = e.value.as_ref()?;
            Some(Credential {
                value: SecretSlice::from(value.expose_secret().to_vec()),
                policy: e.policy.clone(),
            })
        })
    }

    fn store(&self, secret: &str, policy: Option<UsePolicy>, value: Option<SecretSlice<u8>>) {
        if self.ttl.is_zero() {
            return;
        }
        let mut cache = self.lock_cache();
        let holds_value = value.is_some();
        cache.entries.insert(
            secret.to_string(),
            Cached {
                at: Instant::now(),
                policy,
                value,
            },
        );
        if holds_value && !cache.janitor {
            // Without a thread, entries are still replaced on the next read after their time.
            cache.janitor = spawn_janitor(Arc::downgrade(&self.cache), self.ttl);
        }
    }

    fn parse_path(&self, secret: &str) -> Result<SecretPath, SourceError> {
        SecretPath::parse(secret).map_err(|e| {
            SourceError::NotFound(format!(
                "{e}; no secret can have that path (`agent-vault list` shows the stored secrets)"
            ))
        })
    }

    /// What to tell the caller about a vault error while reading `secret`.
    fn source_error(&self, secret: &str, err: Error) -> SourceError {
        match (&err, err.kind()) {
            (Error::SecretNotFound(_), _) => SourceError::NotFound(format!(
                "secret '{secret}' is not in the vault; check the path (`agent-vault list` shows the stored secrets) or ask the vault owner to store it"
            )),
            (_, ErrorKind::NotFound) => SourceError::NotFound(err.to_string()),
            (Error::OtherVaultKey { .. }, _) => SourceError::AccessDenied(err.to_string()),
            (_, ErrorKind::AccessDenied) => SourceError::AccessDenied(format!(
                "{} may not read '{secret}': this key was not granted the secret's group; if it should be, the vault owner runs `agent-vault grant AGENT GROUP` (`agent-vault list` shows the group)",
                self.actor
            )),
            (_, ErrorKind::Integrity) => integrity(&err),
            (_, ErrorKind::Invalid) => SourceError::NotFound(err.to_string()),
            _ => SourceError::Other(err.to_string()),
        }
    }
}

fn integrity(err: &Error) -> SourceError {
    SourceError::Integrity(format!(
        "{err}. Nothing was decrypted or sent; do not use this vault until its owner has checked it (`agent-vault verify`)"
    ))
}

/// Drops cache entries when their time is up; stops when the cache is empty or gone. Called
/// with the cache locked; false when no thread could be started.
fn spawn_janitor(cache: Weak<Mutex<Cache>>, ttl: Duration) -> bool {
    std::thread::Builder::new()
        .name("agent-vault-cache".into())
        .spawn(move || {
            loop {
                let wait = {
                    let Some(cache) = cache.upgrade() else {
                        return;
                    };
                    let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
                    cache.entries.retain(|_, e| e.at.elapsed() < ttl);
                    let next = cache
                        .entries
                        .values()
                        .map(|e| ttl.saturating_sub(e.at.elapsed()))
                        .min();
                    match next {
                        Some(wait) => wait,
                        None => {
                            cache.janitor = false;
                            return;
                        }
                    }
                };
                std::thread::sleep(wait + Duration::from_millis(5));
            }
        })
        .is_ok()
}

impl CredentialSource for VaultSource {
    fn policy(&self, secret: &str) -> Result<Option<UsePolicy>, SourceError> {
        if let Some(policy) = self.cached_policy(secret) {
            return Ok(policy);
        }
        let path = self.parse_path(secret)?;
        let vault = self.lock_vault();
        // Another caller may have read it while this one waited for the vault.
        if let Some(policy) = self.cached_policy(secret) {
            return Ok(policy);
        }
        let (policy, warnings) = vault
            .use_policy(&path, &self.key, &self.read_options())
            .map_err(|e| self.source_error(secret, e))?;
        self.warn_all(&warnings);
        self.store(secret, policy.clone(), None);
        Ok(policy)
    }

    fn credential(&self, secret: &str) -> Result<Credential, SourceError> {
        if let Some(hit) = self.cached_credential(secret) {
            return Ok(hit);
        }
        let path = self.parse_path(secret)?;
        let vault = self.lock_vault();
        if let Some(hit) = self.cached_credential(secret) {
            return Ok(hit);
        }
        let (value, policy) = vault
            .credential(&path, &self.key, &self.read_options())
            .map_err(|e| self.source_error(secret, e))?;
        self.warn_all(&value.warnings);
        let copy = SecretSlice::from(value.value.expose_secret().to_vec());
        self.store(secret, policy.clone(), Some(copy));
        Ok(Credential {
            value: value.value,
            policy,
        })
    }

    fn actor(&self) -> String {
        self.actor.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn actors_name_the_key_never_its_content() {
        let secret = KeyEnv::Set(secrecy::SecretString::from("AGE-SECRET-KEY-1XYZ"));
        assert_eq!(
            actor_for(&KeyChoice::Agent("bot".parse().unwrap()), &secret),
            "agent:bot"
        );
        assert_eq!(actor_for(&KeyChoice::Auto, &KeyEnv::Unset), "owner");
        assert_eq!(actor_for(&KeyChoice::Auto, &secret), "key:AGENT_VAULT_KEY");
        assert_eq!(
            actor_for(&KeyChoice::Path(PathBuf::from("/x/ci.key")), &KeyEnv::Unset),
            "key:ci.key"
        );
    }
}
