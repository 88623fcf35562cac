//! Human messages on stderr (coloured only on a terminal and never with `NO_COLOR`); data on
//! stdout, where a closed pipe is not an error.

use std::io::{IsTerminal, Write};

fn colour(code: &str, text: &str) -> String {
    let enabled = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    if enabled {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

/// `warning: …` on stderr.
pub fn warn(message: impl std::fmt::Display) {
    eprintln!("{} {message}", colour("1;33", "warning:"));
}

/// `error: …` on stderr.
pub fn error(message: impl std::fmt::Display) {
    eprintln!("{} {message}", colour("1;31", "error:"));
}

/// A plain informational line on stderr.
pub fn info(message: impl std::fmt::Display) {
    eprintln!("{message}");
}

/// A success line on stderr.
pub fn done(message: impl std::fmt::Display) {
    eprintln!("{} {message}", colour("32", "✓"));
}

/// Writes data to stdout, treating a closed pipe as success.
pub fn stdout_bytes(bytes: &[u8]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Writes a line of data to stdout.
pub fn stdout_line(line: impl std::fmt::Display) -> std::io::Result<()> {
    stdout_bytes(format!("{line}\n").as_bytes())
}

/// The width of a table column: its widest cell, at least as wide as its `header`.
pub fn column_width<'a>(header: &str, cells: impl IntoIterator<Item = &'a str>) -> usize {
    cells
        .into_iter()
        .map(str::len)
        .max()
        .unwrap_or(0)
        .max(header.len())
}

/// Writes a value as pretty JSON to stdout.
pub fn stdout_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    Ok(stdout_bytes(text.as_bytes())?)
}

/// `value` (a struct serialising to a JSON object) with a `schema` field added, for `--json`
/// documents whose data comes from a library type (docs/json.md).
pub fn with_schema<T: serde::Serialize>(
    schema: &str,
    value: &T,
) -> anyhow::Result<serde_json::Value> {
    let mut json = serde_json::to_value(value)?;
    let object = json
        .as_object_mut()
        .ok_or_else(|| anyhow::anyhow!("internal error: {schema} is not a JSON object"))?;
    object.insert("schema".into(), schema.into());
    Ok(json)
}

/// Prints the outcome of a changing command: notes, re-encryptions, rotation advice.
pub fn outcome(outcome: &agent_vault::vault::Outcome, done_message: &str) {
    for note in &outcome.notes {
        info(format!("note: {note}"));
    }
    if !outcome.reencrypted.is_empty() {
        info(format!(
            "re-encrypted {} secret(s)",
            outcome.reencrypted.len()
        ));
    }
    match outcome.commit {
        Some(commit) => done(format!(
            "{done_message} (commit {})",
            &commit.to_string()[..10]
        )),
        None if outcome.notes.is_empty() => info("nothing changed"),
        None => {}
    }
    if !outcome.rotate.is_empty() {
        warn(format!(
            "the removed key could read these secrets, and git history keeps their old ciphertexts; rotate them at their source and store the new values with `agent-vault set`:\n  {}",
            outcome.rotate.join("\n  ")
        ));
    }
}
