use super::{Exit, Globals, output};

/// Sign the vault's current state with the vault signing key, after you have reviewed it:
/// adopts a vault made without signatures, or re-signs after a merge of two owners' changes.
///
/// Review first: everything in `.agent-vault/` at this moment becomes trusted.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  agent-vault verify; git log -p -- .agent-vault; agent-vault sign\n  agent-vault sign --new-key   # replace the signing key (agents must trust the new one)"
)]
pub struct Args {
    /// Generate a new signing key instead of using the vault's (agents must then be given the
    /// new verify key, e.g. with `recover-agent` or AGENT_VAULT_VERIFY_KEY).
    #[arg(long)]
    new_key: bool,
}

pub fn run(args: Args, globals: &Globals) -> anyhow::Result<Exit> {
    let (outcome, verify_key) = globals.open()?.sign(args.new_key)?;
    output::outcome(&outcome, "signed the vault's current state");
    output::info(format!("verify key: {verify_key}"));
    if args.new_key {
        output::warn(format!(
            "agents that trust the old key will refuse this vault until they trust the new one: add `# {} {verify_key}` to their key files (`agent-vault recover-agent NAME` writes a new key file with it), or set AGENT_VAULT_VERIFY_KEY",
            agent_vault::integrity::KEY_FILE_COMMENT
        ));
    }
    output::stdout_line(verify_key)?;
    Ok(Exit::Ok)
}
