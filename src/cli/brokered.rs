//! What `request`, `proxy` and `mcp` share: the key flags, the [`VaultSource`] with warnings on
//! stderr, the broker's configuration from the environment, and exit codes for broker errors.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use agent_vault::broker::{BrokerConfig, BrokerError, SourceError, VaultSource};
use agent_vault::integrity::VerifyKey;
use agent_vault::keys::{self, KeyChoice};
use agent_vault::names::AgentName;
use agent_vault::settings::{KeyEnv, Settings};
use agent_vault::vault::{ReadOptions, Vault};
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use super::{Exit, Globals, env, falsey, output};

/// The key and trust flags of the brokering commands.
#[derive(Debug, clap::Args)]
pub struct KeyArgs {
    /// Decrypt with this identity file.
    #[arg(long, value_name = "FILE", conflicts_with = "agent")]
    key: Option<PathBuf>,
    /// Decrypt with this agent's key of this vault, $AGENT_VAULT_HOME/agents/<vault id>/NAME.key
    /// (or agents/NAME.key, where agent-vault 0.2 kept it).
    #[arg(long, value_name = "NAME", add = super::complete::agents())]
    agent: Option<AgentName>,
    /// Do not fetch the upstream branch.
    #[arg(long, env = "AGENT_VAULT_OFFLINE", value_parser = falsey())]
    offline: bool,
    /// The vault's verify key (ed25519:…); default: AGENT_VAULT_VERIFY_KEY, the key file's
    /// `# agent-vault verify-key:` line, or the key pinned on first use.
    #[arg(long, value_name = "KEY")]
    verify_key: Option<VerifyKey>,
}

impl KeyArgs {
    fn choice(&self) -> KeyChoice {
        match (&self.key, &self.agent) {
            (Some(path), _) => KeyChoice::Path(path.clone()),
            (None, Some(agent)) => KeyChoice::Agent(agent.clone()),
            (None, None) => KeyChoice::Auto,
        }
    }

    fn read_options(&self) -> ReadOptions {
        ReadOptions {
            offline: self.offline,
            verify_key: self.verify_key,
        }
    }
}

/// How long the key is read for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyLoading {
    /// Read from its file on every vault read (`request`: there is only one).
    PerRead,
    /// Read once at start and kept in memory only (`proxy`, `mcp`): the file may go away.
    Once,
}

/// The vault source for these flags, printing its warnings on stderr.
pub fn open_source(
    globals: &Globals,
    args: &KeyArgs,
    loading: KeyLoading,
) -> anyhow::Result<VaultSource> {
    let mut settings = env::settings()?;
    let mut choice = args.choice();
    let actor = agent_vault::broker::vault_source::actor_for(&choice, &settings.key_env);
    if loading == KeyLoading::Once {
        // The key home as seen from this vault: agent keys are kept per vault.
        let home = Vault::discover(&globals.start_dir(), env::settings()?)?
            .home()
            .clone();
        keep_key_in_memory(&choice, &home, &mut settings)?;
        choice = KeyChoice::Auto;
    }
    let vault = Vault::discover(&globals.start_dir(), settings)?;
    let sink: agent_vault::broker::WarningSink = Arc::new(|w: &str| output::warn(w));
    Ok(VaultSource::new(vault, choice, args.read_options())
        .with_actor(actor)
        .on_warning(sink))
}

/// Reads the identity `choice` names once and puts its text in `settings` as if it came from
/// `AGENT_VAULT_KEY` (comments included, so its verify-key lines still anchor the vault).
fn keep_key_in_memory(
    choice: &KeyChoice,
    home: &keys::KeyHome,
    settings: &mut Settings,
) -> anyhow::Result<()> {
    // Loading it first gives the usual errors (missing, unreadable, not a key).
    keys::load(choice, home, &settings.key_env)?;
    let text = match choice {
        KeyChoice::Path(path) => read_key_text(path)?,
        KeyChoice::Agent(agent) => read_key_text(&home.agent_key_path(agent))?,
        KeyChoice::Auto => match &settings.key_env {
            KeyEnv::Set(value) if is_key_text(value.expose_secret()) => {
                Zeroizing::new(value.expose_secret().to_string())
            }
            KeyEnv::Set(value) => read_key_text(Path::new(value.expose_secret().trim()))?,
            KeyEnv::Unset | KeyEnv::NotUnicode => read_key_text(&settings.home.owner_key_path())?,
        },
    };
    let mut text = text;
    settings.key_env = KeyEnv::Set(SecretString::from(std::mem::take(&mut *text)));
    Ok(())
}

fn is_key_text(value: &str) -> bool {
    value.lines().any(|l| {
        l.trim_start()
            .get(..15)
            .is_some_and(|p| p.eq_ignore_ascii_case("AGE-SECRET-KEY-"))
    })
}

fn read_key_text(path: &Path) -> anyhow::Result<Zeroizing<String>> {
    use agent_vault::fsutil::{CappedReadError, read_capped};
    let bytes = read_capped(path, keys::MAX_KEY_FILE).map_err(|e| match e {
        CappedReadError::TooLarge => {
            anyhow::anyhow!("the key file {} is too large to be a key", path.display())
        }
        CappedReadError::Io(e) => {
            anyhow::anyhow!("cannot read the key file {}: {e}", path.display())
        }
    })?;
    String::from_utf8(bytes).map(Zeroizing::new).map_err(|e| {
        drop(Zeroizing::new(e.into_bytes()));
        anyhow::anyhow!("the key file {} is not UTF-8 text", path.display())
    })
}

/// The broker's configuration: system roots plus `SSL_CERT_FILE`, the audit log in the key
/// home, the library's defaults for the rest.
pub fn broker_config() -> anyhow::Result<BrokerConfig> {
    Ok(BrokerConfig {
        extra_roots_pem: env::extra_roots_pem()?,
        audit_log: Some(env::audit_log_path()?),
        ..BrokerConfig::default()
    })
}

/// The exit code for a broker error (see README "Exit codes").
pub fn exit_for(err: &BrokerError) -> Exit {
    match err {
        BrokerError::Refused(_) => Exit::AccessDenied,
        BrokerError::Source(SourceError::NotFound(_)) => Exit::NotFound,
        BrokerError::Source(SourceError::AccessDenied(_)) => Exit::AccessDenied,
        BrokerError::Source(SourceError::Integrity(_)) => Exit::Integrity,
        _ => Exit::Failure,
    }
}

/// Prints a broker error on stderr and returns its exit code.
pub fn report(err: &BrokerError) -> Exit {
    output::error(err);
    exit_for(err)
}
