use agent_vault::names::{AgentName, GroupName};

use super::{Exit, Globals, output};

/// Let an agent read a group's secrets: re-encrypts exactly that group's secrets to include
/// the agent's key. Secrets set in the group later include it too.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  agent-vault grant deploy-bot stripe")]
pub struct Args {
    /// The agent.
    #[arg(add = super::complete::agents())]
    agent: AgentName,
    /// The group.
    #[arg(add = super::complete::groups())]
    group: GroupName,
}

pub fn run(args: Args, globals: &Globals) -> anyhow::Result<Exit> {
    let outcome = globals.open()?.grant(&args.agent, &args.group)?;
    output::outcome(
        &outcome,
        &format!("granted '{}' access to group '{}'", args.agent, args.group),
    );
    Ok(Exit::Ok)
}
