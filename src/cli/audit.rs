//! `agent-vault audit`: the broker's log of decisions, as a table or JSON lines.

use agent_vault::broker::{AuditFilter, AuditRecord, Outcome, Via, read_audit};
use agent_vault::names::SecretPath;
use chrono::{DateTime, Utc};

use super::{Exit, UsageError, env, output};

/// Show the broker's audit log ($AGENT_VAULT_HOME/audit.jsonl).
///
/// One entry per decision of `request`, `proxy` and `mcp`: time, who (agent:NAME, owner,
/// key:FILE), via what, the secret, method, host and path, and what happened (sent with
/// upstream's status, refused with the reason, or error). Never a value, a header value or a
/// query string.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  agent-vault audit\n  agent-vault audit --since 1h --secret openai/api-key\n  agent-vault audit --since 2026-05-01 --json | jq 'select(.outcome == \"refused\")'"
)]
pub struct Args {
    /// Print JSON lines: one record per line, as stored, each with its schema
    /// (`agent-vault/audit-entry@1`, docs/json.md).
    #[arg(long)]
    json: bool,
    /// Only entries at or after WHEN: an RFC 3339 time, a date (midnight UTC), or a duration
    /// ago (30m, 1h, 2d).
    #[arg(long, value_name = "WHEN")]
    since: Option<String>,
    /// Only entries for this secret.
    #[arg(long, value_name = "PATH", add = super::complete::secrets())]
    secret: Option<SecretPath>,
}

/// `--since WHEN`: a time, a date, or a duration before `now`.
fn parse_since(value: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, UsageError> {
    if let Some(t) = agent_vault::time::parse_stored(value) {
        return Ok(t);
    }
    let bad = || {
        UsageError(format!(
            "cannot read --since '{}': give an RFC 3339 time (2026-05-01T12:00:00Z), a date (2026-05-01) or a duration ago (30m, 1h, 2d)",
            value.escape_debug()
        ))
    };
    let ago = humantime::parse_duration(value.trim()).map_err(|_| bad())?;
    chrono::Duration::from_std(ago)
        .ok()
        .and_then(|d| now.checked_sub_signed(d))
        .ok_or_else(bad)
}

pub fn run(args: Args) -> anyhow::Result<Exit> {
    let since = args
        .since
        .as_deref()
        .map(|s| parse_since(s, Utc::now()))
        .transpose()?;
    let path = env::audit_log_path()?;
    let filter = AuditFilter {
        since,
        secret: args.secret.map(|s| s.as_str().to_string()),
    };
    let entries = read_audit(&path, &filter)
        .map_err(|e| anyhow::anyhow!("cannot read the audit log {}: {e}", path.display()))?;
    if entries.malformed > 0 {
        output::warn(format!(
            "{} line(s) of {} could not be read and were skipped",
            entries.malformed,
            path.display()
        ));
    }
    if args.json {
        let mut out = String::new();
        for record in &entries.records {
            let line = output::with_schema("agent-vault/audit-entry@1", record)?;
            out.push_str(&serde_json::to_string(&line)?);
            out.push('\n');
        }
        output::stdout_bytes(out.as_bytes())?;
        return Ok(Exit::Ok);
    }
    if entries.records.is_empty() {
        output::info(format!("no audit entries in {}", path.display()));
        return Ok(Exit::Ok);
    }
    print_table(&entries.records)?;
    Ok(Exit::Ok)
}

fn print_table(records: &[AuditRecord]) -> anyhow::Result<()> {
    let rows: Vec<[String; 6]> = records
        .iter()
        .map(|r| {
            let outcome = match (r.outcome, r.status, &r.reason) {
                (Outcome::Sent, Some(status), None) => format!("sent {status}"),
                (Outcome::Sent, Some(status), Some(reason)) => format!("sent {status} ({reason})"),
                (Outcome::Refused, _, reason) => {
                    format!("refused {}", reason.as_deref().unwrap_or("?"))
                }
                (_, _, reason) => format!("error {}", reason.as_deref().unwrap_or("?")),
            };
            [
                r.time.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                r.actor.clone(),
                match r.via {
                    Via::Request => "request",
                    Via::Proxy => "proxy",
                    Via::Mcp => "mcp",
                }
                .to_string(),
                r.secret.clone(),
                format!("{} {}{}", r.method, r.host, r.path),
                outcome,
            ]
        })
        .collect();
    let headers = ["TIME", "ACTOR", "VIA", "SECRET", "REQUEST", "OUTCOME"];
    let widths: Vec<usize> = (0..5)
        .map(|i| output::column_width(headers[i], rows.iter().map(|r| r[i].as_str())))
        .collect();
    let line = |cells: [&str; 6]| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate().take(5) {
            text.push_str(&format!("{cell:w$}  ", w = widths[i]));
        }
        text.push_str(cells[5]);
        text
    };
    let mut out = line(headers);
    out.push('\n');
    for row in &rows {
        out.push_str(&line(std::array::from_fn(|i| row[i].as_str())));
        out.push('\n');
    }
    output::stdout_bytes(out.as_bytes())?;
    Ok(())
}
