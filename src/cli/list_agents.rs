use agent_vault::vault::ReadOptions;

use super::{Exit, Globals, falsey, output};

/// List the registered agents and the groups each may read.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  agent-vault list-agents --json")]
pub struct Args {
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Do not fetch the upstream branch first.
    #[arg(long, env = "AGENT_VAULT_OFFLINE", value_parser = falsey())]
    offline: bool,
    /// The vault's verify key (ed25519:…); default: AGENT_VAULT_VERIFY_KEY or the pinned key.
    #[arg(long, value_name = "KEY")]
    verify_key: Option<agent_vault::integrity::VerifyKey>,
}

pub fn run(args: Args, globals: &Globals) -> anyhow::Result<Exit> {
    let (agents, warnings) = globals.open()?.list_agents(&ReadOptions {
        offline: args.offline,
        verify_key: args.verify_key,
    })?;
    for warning in warnings {
        output::warn(warning);
    }
    if args.json {
        let items: Vec<serde_json::Value> = agents
            .iter()
            .map(|a| {
                serde_json::json!({
                    "schema": "agent-vault/agent@1",
                    "name": a.name,
                    "groups": a.groups,
                    "public_key": a.public_key,
                    "escrow": a.escrow,
                })
            })
            .collect();
        output::stdout_json(&items)?;
        return Ok(Exit::Ok);
    }
    if agents.is_empty() {
        output::info("no agents yet: `agent-vault add-agent NAME` registers one");
        return Ok(Exit::Ok);
    }
    let width = output::column_width("AGENT", agents.iter().map(|a| a.name.as_str()));
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
