use agent_vault::names::SecretPath;

use super::{Exit, Globals, output};

/// Delete a secret from the vault (git history keeps its old ciphertexts).
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  agent-vault rm stripe/old-key")]
pub struct Args {
    /// The secret's path.
    #[arg(add = super::complete::secrets())]
    path: SecretPath,
}

pub fn run(args: Args, globals: &Globals) -> anyhow::Result<Exit> {
    let outcome = globals.open()?.remove_secret(&args.path)?;
    output::outcome(&outcome, &format!("removed secret '{}'", args.path));
    Ok(Exit::Ok)
}
