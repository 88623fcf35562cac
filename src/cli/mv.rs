//! `agent-vault mv`: a secret to a new path.

use agent_vault::names::{GroupName, SecretPath};

use super::{Exit, Globals, output};

/// Move (rename) a secret, keeping its value, readers, dates and policy.
///
/// One commit removes the old path and adds the new one; `agent-vault log NEW` follows the
/// history back through the move. The secret stays in its group (same readers, ciphertext
/// kept as is) unless --group moves it to another, which re-encrypts it for that group's
/// readers. NEW must not exist yet.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  agent-vault mv stripe/key stripe/api-key\n  agent-vault mv old/token ci/token --group ci"
)]
pub struct Args {
    /// The secret's current path.
    #[arg(add = super::complete::secrets())]
    from: SecretPath,
    /// Its new path.
    to: SecretPath,
    /// Move it into this group (re-encrypting it for that group's readers).
    #[arg(long, value_name = "GROUP", add = super::complete::groups())]
    group: Option<GroupName>,
}

pub fn run(args: Args, globals: &Globals) -> anyhow::Result<Exit> {
    let outcome = globals
        .open()?
        .move_secret(&args.from, &args.to, args.group.as_ref())?;
    output::outcome(&outcome, &format!("moved '{}' to '{}'", args.from, args.to));
    Ok(Exit::Ok)
}
