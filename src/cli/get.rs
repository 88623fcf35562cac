use std::io::IsTerminal;
use std::path::PathBuf;

use agent_vault::keys::KeyChoice;
use agent_vault::names::{AgentName, SecretPath};
use agent_vault::vault::ReadOptions;
use secrecy::ExposeSecret;

use super::{Exit, Globals, falsey, output};

/// Decrypt a secret and write its exact bytes to stdout (on a terminal, a newline follows a
/// value that does not end in one).
///
/// The key is, in order: --key, --agent (its default key file), AGENT_VAULT_KEY (a key file's
/// path or a raw AGE-SECRET-KEY-1…), then the owner key. A key that is named but missing is an
/// error. When the branch has an upstream it is fetched first and read from git objects if it
/// is ahead; the working tree, index and branches are never changed.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  agent-vault get stripe/api-key\n  AGENT_VAULT_KEY=\"$(cat bot.key)\" agent-vault get stripe/api-key --offline\n  DB_URL=\"$(agent-vault get db/url --agent deploy-bot)\""
)]
pub struct Args {
    /// The secret's path.
    #[arg(add = super::complete::secrets())]
    path: SecretPath,
    /// Decrypt with this identity file.
    #[arg(long, value_name = "FILE", conflicts_with = "agent")]
    key: Option<PathBuf>,
    /// Decrypt with this agent's key of this vault, $AGENT_VAULT_HOME/agents/<vault id>/NAME.key
    /// (or agents/NAME.key, where agent-vault 0.2 kept it).
    #[arg(long, value_name = "NAME", add = super::complete::agents())]
    agent: Option<AgentName>,
    /// Do not fetch the upstream branch first.
    #[arg(long, env = "AGENT_VAULT_OFFLINE", value_parser = falsey())]
    offline: bool,
    /// The vault's verify key (ed25519:…), as printed by `agent-vault verify`; default:
    /// AGENT_VAULT_VERIFY_KEY, the key file's `# agent-vault verify-key:` line, or the key
    /// pinned on first use.
    #[arg(long, value_name = "KEY")]
    verify_key: Option<agent_vault::integrity::VerifyKey>,
}

pub fn run(args: Args, globals: &Globals) -> anyhow::Result<Exit> {
    let key = match (args.key, args.agent) {
        (Some(path), _) => KeyChoice::Path(path),
        (None, Some(agent)) => KeyChoice::Agent(agent),
        (None, None) => KeyChoice::Auto,
    };
    let vault = globals.open()?;
    let secret = vault.get(
        &args.path,
        &key,
        &ReadOptions {
            offline: args.offline,
            verify_key: args.verify_key,
        },
    )?;
    for warning in &secret.warnings {
        output::warn(warning);
    }
    let value = secret.value.expose_secret();
    output::stdout_bytes(value)?;
    // On a terminal, end the line so the shell's prompt does not stick to the value; a pipe
    // or file gets the exact bytes.
    if std::io::stdout().is_terminal() && !value.ends_with(b"\n") {
        output::stdout_bytes(b"\n")?;
    }
    Ok(Exit::Ok)
}
