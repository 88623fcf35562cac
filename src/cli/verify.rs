use agent_vault::vault::ReadOptions;

use super::{Exit, Globals, falsey, output};

/// Check that the vault is exactly what its owner signed: every file, every secret, and a
/// sequence number not older than this machine has seen. Needs no private key.
///
/// After a git merge of two owners' changes the signed statement conflicts or no longer
/// matches: resolve the merge, review the listed differences, then run `agent-vault sign`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  agent-vault verify\n  agent-vault verify --verify-key ed25519:… --offline"
)]
pub struct Args {
    /// The vault's verify key (ed25519:…); default: AGENT_VAULT_VERIFY_KEY or the pinned key.
    #[arg(long, value_name = "KEY")]
    verify_key: Option<agent_vault::integrity::VerifyKey>,
    /// Do not fetch the upstream branch first.
    #[arg(long, env = "AGENT_VAULT_OFFLINE", value_parser = falsey())]
    offline: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args, globals: &Globals) -> anyhow::Result<Exit> {
    let vault = globals.open()?;
    let report = vault.verify(&ReadOptions {
        offline: args.offline,
        verify_key: args.verify_key,
    })?;
    for warning in &report.warnings {
        output::warn(warning);
    }
    if args.json {
        output::stdout_json(&serde_json::json!({
            "schema": "agent-vault/verify@1",
            "signed": report.statement.is_some(),
            "vault": report.statement.as_ref().and_then(|s| s.vault.map(|v| v.to_string())),
            "verify_key": report.statement.as_ref().map(|s| s.verify_key.to_string()),
            "seq": report.statement.as_ref().map(|s| s.seq),
            "problems": report.problems.iter().map(ToString::to_string).collect::<Vec<_>>(),
        }))?;
    } else {
        for problem in &report.problems {
            output::stdout_line(format!("tampered: {problem}"))?;
        }
    }
    match (&report.statement, report.problems.is_empty()) {
        (None, _) => {
            output::info(
                "the vault is unsigned: review it (`git log -p -- .agent-vault`), then run `agent-vault sign`",
            );
            Ok(Exit::Integrity)
        }
        (Some(statement), true) => {
            output::done(format!(
                "vault matches signed state {} (verify key {})",
                statement.seq, statement.verify_key
            ));
            Ok(Exit::Ok)
        }
        (Some(_), false) => {
            output::error(format!(
                "{} difference(s) from the signed state; review them (`git log -p -- .agent-vault`). If they are legitimate (e.g. a merge), re-sign with `agent-vault sign`",
                report.problems.len()
            ));
            Ok(Exit::Integrity)
        }
    }
}
