use super::{Exit, Globals, output};

/// List the registered agents and the groups each may read.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  agent-vault list-agents --json")]
pub struct Args {
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args, globals: &Globals) -> anyhow::Result<Exit> {
    let agents = globals.open()?.list_agents()?;
    if args.json {
        output::stdout_json(&agents)?;
        return Ok(Exit::Ok);
    }
    if agents.is_empty() {
        output::info("no agents yet: `agent-vault add-agent NAME` registers one");
        return Ok(Exit::Ok);
    }
    let width = agents
        .iter()
        .map(|a| a.name.len())
        .max()
        .unwrap_or(0)
        .max(5);
    output::stdout_line(format!("{:width$}  {:6}  GROUPS", "AGENT", "ESCROW"))?;
    for agent in agents {
        let groups = if agent.groups.is_empty() {
            "-".to_owned()
        } else {
            agent.groups.join(",")
        };
        let escrow = if agent.escrow { "yes" } else { "no" };
        output::stdout_line(format!("{:width$}  {escrow:6}  {groups}", agent.name))?;
    }
    Ok(Exit::Ok)
}
