use std::path::PathBuf;

use agent_vault::names::AgentName;

use super::{Exit, Globals, output};

/// Write an agent's current private key — the one `add-agent` made, or the last
/// `recover-agent` — decrypted from its escrow with the owner key, to a new file (mode 0600).
/// Nothing in the vault changes.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  agent-vault restore-agent deploy-bot --to ./deploy-bot.key")]
pub struct Args {
    /// The agent.
    #[arg(add = super::complete::agents())]
    name: AgentName,
    /// The file to create; it must not exist.
    #[arg(long, value_name = "FILE")]
    to: PathBuf,
}

pub fn run(args: Args, globals: &Globals) -> anyhow::Result<Exit> {
    globals.open()?.restore_agent(&args.name, &args.to)?;
    output::done(format!(
        "restored the key of '{}' to {} (mode 0600)",
        args.name,
        args.to.display()
    ));
    Ok(Exit::Ok)
}
