use std::path::PathBuf;

use agent_vault::names::AgentName;

use super::{Exit, Globals, output};

/// Give an agent a new key pair after its key was lost or exposed: the owner opens its
/// escrow, a new key is generated, escrowed and written to this machine, and every secret the
/// agent reads is re-encrypted for the new key.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  agent-vault recover-agent deploy-bot --key-out ./deploy-bot.key"
)]
pub struct Args {
    /// The agent.
    #[arg(add = super::complete::agents())]
    name: AgentName,
    /// Where to write the new private key (default: $AGENT_VAULT_HOME/agents/<vault id>/NAME.key,
    /// which `--agent NAME` reads). Never overwritten.
    #[arg(long, value_name = "FILE")]
    key_out: Option<PathBuf>,
}

pub fn run(args: Args, globals: &Globals) -> anyhow::Result<Exit> {
    let (outcome, key_path) = globals
        .open()?
        .recover_agent(&args.name, args.key_out.as_deref())?;
    output::info(format!(
        "new private key for '{}' written to {} (mode 0600)",
        args.name,
        key_path.display()
    ));
    output::outcome(&outcome, &format!("gave agent '{}' a new key", args.name));
    Ok(Exit::Ok)
}
