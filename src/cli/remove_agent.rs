use agent_vault::names::AgentName;

use super::{Exit, Globals, output};

/// Remove an agent: delete its public key and escrow, and re-encrypt every secret it could
/// read without it. Prints the secrets to rotate at their source.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  agent-vault remove-agent deploy-bot")]
pub struct Args {
    /// The agent to remove.
    #[arg(add = super::complete::agents())]
    name: AgentName,
}

pub fn run(args: Args, globals: &Globals) -> anyhow::Result<Exit> {
    let outcome = globals.open()?.remove_agent(&args.name)?;
    output::outcome(&outcome, &format!("removed agent '{}'", args.name));
    Ok(Exit::Ok)
}
