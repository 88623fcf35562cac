use std::path::PathBuf;

use agent_vault::hook::HookStatus;
use agent_vault::vault::Vault;

use super::{Exit, Globals, output};

/// Create a vault: the owner key (reused if this machine has one), `.agent-vault/`, its first
/// commit and the pre-commit hook.
///
/// Creates the git repository (and DIR) when DIR is not inside one. Never overwrites a key.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  agent-vault init\n  agent-vault init ~/secrets-repo")]
pub struct Args {
    /// The directory to create the vault in (its git repository's root is used).
    #[arg(value_name = "DIR")]
    dir: Option<PathBuf>,
    /// The owner's name recorded in the manifest (default: your git user.name).
    #[arg(long, value_name = "NAME")]
    owner_name: Option<String>,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args, globals: &Globals) -> anyhow::Result<Exit> {
    let dir = args.dir.unwrap_or_else(|| globals.start_dir());
    let outcome = Vault::init(&dir, super::env::settings()?, args.owner_name.as_deref())?;
    if outcome.already {
        output::done(format!(
            "{} already holds a vault; nothing changed (`agent-vault check` reports its state)",
            outcome.vault_dir.display()
        ));
        if args.json {
            output::stdout_json(&serde_json::json!({
            "schema": "agent-vault/init@1",
                "vault": outcome.vault_dir,
                "already": true,
            }))?;
        }
        return Ok(Exit::Ok);
    }
    for note in &outcome.notes {
        output::warn(note);
    }
    if outcome.repo_created {
        output::info(format!("created a git repository in {}", dir.display()));
    }
    output::done(format!(
        "initialized vault in {}",
        outcome.vault_dir.display()
    ));
    let from_env = super::env::owner_key_from_env();
    if from_env {
        output::info("using the owner key in AGENT_VAULT_OWNER_KEY");
    } else if outcome.owner_key_created {
        output::info(format!(
            "created owner key {}",
            outcome.owner_key_path.display()
        ));
    } else {
        output::info(format!(
            "reusing owner key {}",
            outcome.owner_key_path.display()
        ));
    }
    match &outcome.hook {
        Ok(HookStatus::InstalledChained(hook, chained)) => output::info(format!(
            "installed pre-commit hook {} (the previous hook runs after it from {})",
            hook.display(),
            chained.display()
        )),
        Ok(status) => {
            if let HookStatus::Installed(hook) | HookStatus::Outdated(hook) = status {
                output::info(format!("installed pre-commit hook {}", hook.display()));
            }
        }
        Err(e) => output::warn(format!("could not install the pre-commit hook: {e}")),
    }
    if let Some(verify_key) = &outcome.verify_key {
        output::info(format!(
            "vault verify key: {verify_key} (agents' key files carry it; readers check every secret against it)"
        ));
    }
    if !from_env {
        output::warn(format!(
            "back up {} now: it is the only key that can decrypt every secret and recover agent keys",
            outcome.owner_key_path.display()
        ));
    }
    if args.json {
        output::stdout_json(&serde_json::json!({
            "schema": "agent-vault/init@1",
            "vault": outcome.vault_dir,
            "owner_public_key": outcome.owner_public_key,
            "verify_key": outcome.verify_key.map(|k| k.to_string()),
            "vault_id": outcome.vault_id.map(|v| v.to_string()),
            "owner_key": outcome.owner_key_path,
            "owner_key_created": outcome.owner_key_created,
            "repo_created": outcome.repo_created,
            "commit": outcome.commit.map(|c| c.to_string()),
        }))?;
    } else {
        output::info("owner public key:");
        output::stdout_line(&outcome.owner_public_key)?;
    }
    Ok(Exit::Ok)
}
