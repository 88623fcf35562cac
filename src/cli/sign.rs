use super::{Exit, Globals, output};

/// Sign the vault's current state with the vault signing key, after you have reviewed it:
/// adopts a vault made without signatures, or re-signs after a merge of two owners' changes.
///
/// Review first: everything in `.agent-vault/` at this moment becomes trusted. The
/// differences from the last signed state are listed. Refuses while `agent-vault check`
/// reports errors (unless --force).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  agent-vault verify; git log -p -- .agent-vault; agent-vault sign\n  agent-vault sign --new-key   # replace the signing key; the old key vouches for the new one"
)]
pub struct Args {
    /// Generate a new signing key instead of using the vault's. When the old key is the one
    /// this machine trusts, it vouches for the new one and readers follow the change.
    #[arg(long)]
    new_key: bool,
    /// Sign even when `agent-vault check` reports errors.
    #[arg(long)]
    force: bool,
}

pub fn run(args: Args, globals: &Globals) -> anyhow::Result<Exit> {
    let signed = globals.open()?.sign(args.new_key, args.force)?;
    for problem in &signed.adopted {
        output::info(format!("adopted: {problem}"));
    }
    output::outcome(&signed.outcome, "signed the vault's current state");
    output::info(format!(
        "verify key: {} (vault {})",
        signed.verify_key, signed.vault
    ));
    if signed.new_key && signed.vouched {
        output::info(
            "the previous signing key vouched for the new one: readers that trust the old key follow the change",
        );
    } else if signed.new_key {
        output::warn(format!(
            "readers that trust another key will refuse this vault until they trust this one: add `# {} {}` to their key files (`agent-vault recover-agent NAME` writes a new key file with it), or set AGENT_VAULT_VERIFY_KEY",
            agent_vault::integrity::KEY_FILE_COMMENT,
            signed.verify_key
        ));
    }
    output::stdout_line(signed.verify_key)?;
    Ok(Exit::Ok)
}
