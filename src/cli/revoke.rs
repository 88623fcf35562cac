use agent_vault::names::{AgentName, GroupName};

use super::{Exit, Globals, output};

/// Take a group away from an agent: re-encrypts that group's secrets without the agent's key
/// and prints the secrets to rotate at their source (the agent may have copied them).
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  agent-vault revoke deploy-bot stripe")]
pub struct Args {
    /// The agent.
    #[arg(add = super::complete::agents())]
    agent: AgentName,
    /// The group.
    #[arg(add = super::complete::groups())]
    group: GroupName,
}

pub fn run(args: Args, globals: &Globals) -> anyhow::Result<Exit> {
    let outcome = globals.open()?.revoke(&args.agent, &args.group)?;
    output::outcome(
        &outcome,
        &format!("revoked '{}' access to group '{}'", args.agent, args.group),
    );
    Ok(Exit::Ok)
}
