use agent_vault::names::GroupName;
use agent_vault::vault::ReadOptions;

use super::{Exit, Globals, falsey, output};

/// List secrets with their group, agents and dates. Needs no key; values are never shown.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  agent-vault list\n  agent-vault list --group stripe --json")]
pub struct Args {
    /// Only this group's secrets.
    #[arg(long, value_name = "GROUP", add = super::complete::groups())]
    group: Option<GroupName>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
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
    let vault = globals.open()?;
    let (secrets, warnings) = vault.list(
        args.group.as_ref(),
        &ReadOptions {
            offline: args.offline,
            verify_key: args.verify_key,
        },
    )?;
    for warning in warnings {
        output::warn(warning);
    }
    if args.json {
        output::stdout_json(&secrets.iter().map(json_of).collect::<Vec<_>>())?;
        return Ok(Exit::Ok);
    }
    if secrets.is_empty() {
        output::info("no secrets yet: `agent-vault set PATH` stores one");
        return Ok(Exit::Ok);
    }
    let path_width = output::column_width("SECRET", secrets.iter().map(|s| s.path.as_str()));
    let shown = |t: &Option<String>| match t {
        Some(t) => agent_vault::time::parse_stored(t)
            .map(agent_vault::time::format)
            .unwrap_or_else(|| t.clone()),
        None => "-".into(),
    };
    let group_width = output::column_width("GROUP", secrets.iter().map(|s| s.group.as_str()));
    output::stdout_line(format!(
        "{:path_width$}  {:group_width$}  {:20}  {:30}  AGENTS",
        "SECRET", "GROUP", "ROTATED", "EXPIRES"
    ))?;
    for s in &secrets {
        let expires = match s.expired {
            true => format!("{} (expired)", shown(&s.expires)),
            false => shown(&s.expires),
        };
        let agents = if s.authorized_agents.is_empty() {
            "-".into()
        } else {
            s.authorized_agents.join(",")
        };
        let uses = match &s.policy {
            Some(policy) => format!(
                "  (usable via request/proxy for {})",
                policy
                    .hosts
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => String::new(),
        };
        output::stdout_line(format!(
            "{:path_width$}  {:group_width$}  {:20}  {:30}  {agents}{uses}",
            s.path,
            s.group,
            shown(&s.rotated),
            expires
        ))?;
    }
    Ok(Exit::Ok)
}

/// One secret in `list --json`: the fields of agent-vault 0.1.0 (`name`, `group`, `created`,
/// `rotated`, `expires`, `authorized_agents`) with their old meaning, and ours (docs/json.md).
fn json_of(s: &agent_vault::vault::SecretInfo) -> serde_json::Value {
    serde_json::json!({
        "schema": "agent-vault/secret@1",
        "name": s.path,
        "path": s.path,
        "group": s.group,
        "created": s.created,
        "rotated": s.rotated,
        "expires": s.expires,
        "authorized_agents": s.authorized_agents,
        "extra_agents": s.extra_agents,
        "expired": s.expired,
        "policy": s.policy,
    })
}
