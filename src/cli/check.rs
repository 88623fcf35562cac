use agent_vault::check::Severity;

use super::{Exit, Globals, UsageError, output};

/// Audit the vault without decrypting anything: its signature, expired or soon-expiring
/// secrets, agents with no access, orphaned or missing files, manifest/metadata disagreement,
/// recipient drift, unparsable files; on this machine, key files others can read, a key home
/// or pins others can write, and a clone without the leak guard.
///
/// Exits 1 when it finds errors (with --strict, also warnings), 5 when the vault is not what
/// its owner signed.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  agent-vault check\n  agent-vault check --strict --soon 30d --json"
)]
pub struct Args {
    /// Also fail on warnings.
    #[arg(long)]
    strict: bool,
    /// How far ahead an expiry counts as soon.
    #[arg(long, value_name = "DURATION", default_value = "14d")]
    soon: String,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args, globals: &Globals) -> anyhow::Result<Exit> {
    let soon = humantime::parse_duration(&args.soon)
        .ok()
        .and_then(|d| chrono::Duration::from_std(d).ok())
        .ok_or_else(|| {
            UsageError(format!(
                "--soon '{}' is not a duration (e.g. 14d, 72h)",
                args.soon
            ))
        })?;
    let vault = globals.open()?;
    let audit = vault.audit(soon)?;
    for warning in &audit.warnings {
        output::warn(warning);
    }
    let findings = &audit.findings;
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings.len() - errors;
    if args.json {
        // `errors`/`warnings` are lists of messages, as agent-vault 0.1.0 printed them, so its
        // scripts (`jq -r '.warnings[]'`) keep working; the structured findings are beside them.
        let messages = |severity| -> Vec<String> {
            findings
                .iter()
                .filter(|f| f.severity == severity)
                .map(|f| format!("{}: {}", f.subject, f.message))
                .collect()
        };
        output::stdout_json(&serde_json::json!({
            "schema": "agent-vault/check@1",
            "errors": messages(Severity::Error),
            "warnings": messages(Severity::Warning),
            "error_count": errors,
            "warning_count": warnings,
            "tampered": audit.tampered,
            "findings": findings,
        }))?;
    } else {
        for f in findings {
            let label = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            output::stdout_line(format!(
                "{label}: {} [{}]: {}",
                f.subject, f.code, f.message
            ))?;
        }
        if findings.is_empty() {
            output::done("vault is healthy");
        } else {
            output::info(format!("{errors} error(s), {warnings} warning(s)"));
        }
    }
    if audit.tampered {
        return Ok(Exit::Integrity);
    }
    Ok(if errors > 0 || (args.strict && warnings > 0) {
        Exit::Failure
    } else {
        Exit::Ok
    })
}
