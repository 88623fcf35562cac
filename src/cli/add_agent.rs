use std::path::PathBuf;

use agent_vault::names::AgentName;

use super::{Exit, Globals, UsageError, output};

/// Register an agent: generate its key pair, write the private key to this machine and
/// escrow a copy encrypted to the owner in the vault.
///
/// With --public-key, register a key generated elsewhere instead (nothing is escrowed, so
/// recover-agent and restore-agent cannot help with it).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  agent-vault add-agent deploy-bot\n  agent-vault add-agent ci --key-out ./ci.key\n  agent-vault add-agent laptop --public-key age1..."
)]
pub struct Args {
    /// The agent's name: lowercase letters, digits, `.`, `_`, `-`.
    name: AgentName,
    /// Where to write the new private key (default: $AGENT_VAULT_HOME/agents/<vault id>/NAME.key,
    /// which `--agent NAME` reads). Never overwritten.
    #[arg(long, value_name = "FILE", conflicts_with = "public_key")]
    key_out: Option<PathBuf>,
    /// Register this existing age recipient (age1…) instead of generating a key.
    #[arg(long, value_name = "RECIPIENT")]
    public_key: Option<String>,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args, globals: &Globals) -> anyhow::Result<Exit> {
    // A malformed --public-key is invalid input (exit 2), not a broken vault file (exit 1).
    if let Some(recipient) = &args.public_key {
        agent_vault::keys::parse_recipient(recipient, "--public-key")
            .map_err(|e| UsageError(e.to_string()))?;
    }
    let vault = globals.open()?;
    let outcome = vault.add_agent(
        &args.name,
        args.key_out.as_deref(),
        args.public_key.as_deref(),
    )?;
    output::done(format!("added agent '{}'", args.name));
    match &outcome.key_path {
        Some(path) => output::info(format!(
            "its private key is in {} (mode 0600); give it to the agent, e.g. as AGENT_VAULT_KEY, and keep it out of git",
            path.display()
        )),
        None => {
            output::info("registered its public key; nothing was escrowed");
            if let Some(verify_key) = &outcome.verify_key {
                output::info(format!(
                    "so that its readers trust this vault, add this line to the agent's key file (or set AGENT_VAULT_VERIFY_KEY):\n  # {} {verify_key}",
                    agent_vault::integrity::KEY_FILE_COMMENT
                ));
            }
        }
    }
    output::info(format!(
        "grant it access with `agent-vault grant {} <group>`",
        args.name
    ));
    if args.json {
        output::stdout_json(&serde_json::json!({
            "schema": "agent-vault/add-agent@1",
            "name": args.name.as_str(),
            "public_key": outcome.public_key,
            "key_path": outcome.key_path,
            "commit": outcome.commit.map(|c| c.to_string()),
            "verify_key": outcome.verify_key.as_ref().map(ToString::to_string),
        }))?;
    } else {
        output::stdout_line(&outcome.public_key)?;
    }
    Ok(Exit::Ok)
}
