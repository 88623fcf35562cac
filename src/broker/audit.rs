//! The audit log: one JSON line per broker decision, appended to a file the caller names (the
//! CLI passes `$AGENT_VAULT_HOME/audit.jsonl`), and the reader behind `agent-vault audit`.
//!
//! ```json
//! {"time":"2026-05-01T10:00:00.123Z","actor":"agent:deploy-bot","secret":"openai/key","method":"POST","host":"api.openai.com","path":"/v1/chat/completions","outcome":"sent","status":200,"bytes_in":5120,"bytes_out":312,"via":"proxy"}
//! ```
//!
//! * `outcome` is `sent` (upstream answered; `status` is its status; `reason` is
//!   `body-not-read-to-end` when the caller dropped the body early), `refused` (`reason` is a
//!   [`RefusalReason`](super::RefusalReason) such as `host`, `path`, `no-policy`, `proxy-token`,
//!   or a source "no": `not-found`, `access-denied`, `integrity`) or `error` (`reason`: `connect`,
//!   `timeout`, `network`, `response-body`, `response-too-large`, `response-encoding`,
//!   `source-error`). `status` is also set when upstream had answered a request that was then
//!   refused (`redirect-off-origin`) or failed.
//! * `bytes_out` is the request body sent upstream, `bytes_in` the response body received
//!   (before redaction). A streamed response is logged when its body ends or is dropped.
//! * `host` is `host[:port]` (for a proxy request refused before its upstream is known — token,
//!   policy, route — the route name), `path` the path without the query string. Never a value,
//!   never a header value, never a query string (it may hold the injected credential).
//!
//! The file is created `0600` (tightened if it was looser); each line is one `write` on a file
//! opened with `O_APPEND`, under an exclusive `flock`, so concurrent writers (several proxies,
//! `request` commands) never interleave. The reader skips a torn last line (a writer killed
//! mid-line) and counts other unparsable lines.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How the request reached the broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    /// `agent-vault request`.
    Request,
    /// `agent-vault proxy`.
    Proxy,
    /// An MCP tool call.
    Mcp,
}

/// What became of the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Sent; upstream answered.
    Sent,
    /// Refused before sending (or a redirect refused before following).
    Refused,
    /// Failed: network, response too large, source failure.
    Error,
}

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// When the decision was made (RFC 3339, UTC, milliseconds).
    #[serde(serialize_with = "ser_time", deserialize_with = "de_time")]
    pub time: DateTime<Utc>,
    /// `owner` or `agent:NAME`.
    pub actor: String,
    /// The secret path.
    pub secret: String,
    /// The HTTP method.
    pub method: String,
    /// `host[:port]` (empty when the URL could not be parsed).
    pub host: String,
    /// The path, without query string.
    pub path: String,
    /// The outcome.
    pub outcome: Outcome,
    /// Upstream's status, when it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Why it was refused or failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Response body bytes received from upstream.
    #[serde(default)]
    pub bytes_in: u64,
    /// Request body bytes sent upstream.
    #[serde(default)]
    pub bytes_out: u64,
    /// How the request arrived.
    pub via: Via,
}

fn ser_time<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Millis, true))
}

fn de_time<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    let s = String::deserialize(d)?;
    DateTime::parse_from_rfc3339(&s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(serde::de::Error::custom)
}

/// An append-only audit log file.
#[derive(Debug, Clone)]
pub struct AuditLog {
    path: PathBuf,
}

impl AuditLog {
    /// Opens (creating it `0600`, and its folder, if needed) the log at `path`, checking that
    /// it can be appended to.
    pub fn open(path: impl Into<PathBuf>) -> io::Result<AuditLog> {
        let log = AuditLog { path: path.into() };
        if let Some(parent) = log.path.parent()
            && !parent.as_os_str().is_empty()
        {
            fs::create_dir_all(parent)?;
        }
        log.open_file()?;
        Ok(log)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn open_file(&self) -> io::Result<File> {
        let mut options = OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&self.path).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot open the audit log {}: {e}", self.path.display()),
            )
        })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = file.metadata()?.permissions().mode();
            if mode & 0o077 != 0 {
                file.set_permissions(fs::Permissions::from_mode(0o600))?;
            }
        }
        Ok(file)
    }

    /// Appends one record as one line, atomically with respect to other writers.
    pub fn append(&self, record: &AuditRecord) -> io::Result<()> {
        let mut line = serde_json::to_vec(record).map_err(io::Error::other)?;
        line.push(b'\n');
        let mut file = self.open_file()?;
        file.lock()?;
        let written = file.write_all(&line);
        let unlocked = file.unlock();
        written.and(unlocked)
    }
}

/// Which records [`read_audit`] returns.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only records at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only records for this secret path.
    pub secret: Option<String>,
}

/// What [`read_audit`] found.
#[derive(Debug, Clone, Default)]
pub struct AuditEntries {
    /// The matching records, oldest first.
    pub records: Vec<AuditRecord>,
    /// Unparsable lines other than a torn last line.
    pub malformed: usize,
}

/// Reads the log at `path` (a missing file is an empty log).
pub fn read_audit(path: &Path, filter: &AuditFilter) -> io::Result<AuditEntries> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(AuditEntries::default()),
        Err(e) => return Err(e),
    };
    let mut entries = AuditEntries::default();
    let complete = bytes.ends_with(b"\n");
    let lines: Vec<&[u8]> = bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let count = lines.len();
    for (i, line) in lines.into_iter().enumerate() {
        let record: AuditRecord = match serde_json::from_slice(line) {
            Ok(r) => r,
            Err(_) if i + 1 == count && !complete => continue,
            Err(_) => {
                entries.malformed += 1;
                continue;
            }
        };
        if filter.since.is_some_and(|since| record.time < since)
            || filter.secret.as_ref().is_some_and(|s| *s != record.secret)
        {
            continue;
        }
        entries.records.push(record);
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(secret: &str, time: &str) -> AuditRecord {
        AuditRecord {
            time: DateTime::parse_from_rfc3339(time)
                .unwrap()
                .with_timezone(&Utc),
            actor: "agent:bot".into(),
            secret: secret.into(),
            method: "GET".into(),
            host: "api.example.com".into(),
            path: "/v1/x".into(),
            outcome: Outcome::Sent,
            status: Some(200),
            reason: None,
            bytes_in: 10,
            bytes_out: 0,
            via: Via::Request,
        }
    }

    #[test]
    fn appends_lines_0600_and_reads_them_back_filtered() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("home/audit.jsonl");
        let log = AuditLog::open(&path).unwrap();
        log.append(&record("a/k", "2026-01-01T00:00:00Z")).unwrap();
        log.append(&record("b/k", "2026-02-01T00:00:00Z")).unwrap();
        log.append(&record("a/k", "2026-03-01T00:00:00.5Z"))
            .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 3);
        assert!(text.starts_with(r#"{"time":"2026-01-01T00:00:00.000Z","actor":"agent:bot""#));
        let all = read_audit(&path, &AuditFilter::default()).unwrap();
        assert_eq!(all.records.len(), 3);
        assert_eq!(all.records[2], record("a/k", "2026-03-01T00:00:00.5Z"));
        let filter = AuditFilter {
            since: Some(
                DateTime::parse_from_rfc3339("2026-01-15T00:00:00Z")
                    .unwrap()
                    .into(),
            ),
            secret: Some("a/k".into()),
        };
        let some = read_audit(&path, &filter).unwrap();
        assert_eq!(some.records.len(), 1);
        assert_eq!(
            some.records[0].time.to_rfc3339(),
            "2026-03-01T00:00:00.500+00:00"
        );
    }

    #[test]
    fn a_torn_last_line_is_skipped_other_garbage_counted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let good = serde_json::to_string(&record("a/k", "2026-01-01T00:00:00Z")).unwrap();
        fs::write(&path, format!("{good}\nnot json\n{good}\n{}", &good[..20])).unwrap();
        let read = read_audit(&path, &AuditFilter::default()).unwrap();
        assert_eq!(read.records.len(), 2);
        assert_eq!(read.malformed, 1);
        assert!(
            read_audit(&dir.path().join("none"), &AuditFilter::default())
                .unwrap()
                .records
                .is_empty()
        );
    }

    #[test]
    fn a_looser_existing_file_is_tightened() {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("audit.jsonl");
            fs::write(&path, "").unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
            AuditLog::open(&path).unwrap();
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
