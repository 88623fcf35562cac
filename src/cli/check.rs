use agent_vault::check::{self, Severity};
use agent_vault::keys::KeyHome;

use super::{Exit, Globals, UsageError, output};

/// Audit the vault without decrypting anything: expired or soon-expiring secrets, agents
/// with no access, orphaned or missing files, manifest/metadata disagreement, recipient
/// drift, unparsable files, key files readable by others.
///
/// Exits 1 when it finds errors (with --strict, also warnings).
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
    let mut findings = integrity_findings(&vault);
    findings.extend(check::run(
        &vault.repo().worktree(),
        &KeyHome::from_env()?,
        agent_vault::time::now(),
        soon,
    ));
    let tampered = findings.iter().any(|f| f.code == "integrity");
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings.len() - errors;
    if args.json {
        output::stdout_json(
            &serde_json::json!({ "errors": errors, "warnings": warnings, "findings": findings }),
        )?;
    } else {
        for f in &findings {
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
    if tampered {
        return Ok(Exit::Integrity);
    }
    Ok(if errors > 0 || (args.strict && warnings > 0) {
        Exit::Failure
    } else {
        Exit::Ok
    })
}

/// The signature check as findings: tampering is an error with code `integrity` (exit 5); an
/// unsigned vault is a warning.
fn integrity_findings(vault: &agent_vault::vault::Vault) -> Vec<check::Finding> {
    let finding = |severity, code, message: String| check::Finding {
        severity,
        code,
        subject: ".agent-vault".into(),
        message,
    };
    let options = agent_vault::vault::ReadOptions {
        offline: true,
        verify_key: None,
    };
    match vault.verify(&options) {
        Ok(report) if report.statement.is_none() => vec![finding(
            Severity::Warning,
            "unsigned",
            "the vault is unsigned; review it and run `agent-vault sign`".into(),
        )],
        Ok(report) => report
            .problems
            .into_iter()
            .map(|p| finding(Severity::Error, "integrity", p))
            .collect(),
        Err(e) if e.kind() == agent_vault::ErrorKind::Integrity => {
            vec![finding(Severity::Error, "integrity", e.to_string())]
        }
        Err(e) => vec![finding(Severity::Error, "unreadable", e.to_string())],
    }
}
