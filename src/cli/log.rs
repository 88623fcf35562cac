//! `agent-vault log`: who changed the vault (or one secret), and when.

use agent_vault::error::escape;
use agent_vault::names::SecretPath;
use agent_vault::vault::HistoryOptions;

use super::{Exit, Globals, output};

/// Show who changed what and when, from git history (never values).
///
/// Lists the commits of the current branch that changed the vault, or with PATH that secret's
/// files (following `mv`), newest first: time, commit, author and summary. This is the history
/// git holds, not what the owner signed: anyone who can push can write commits under any name.
/// `agent-vault verify` checks the current state.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  agent-vault log\n  agent-vault log stripe/api-key\n  agent-vault log -n 20 --json"
)]
pub struct Args {
    /// Only the changes of this secret.
    #[arg(add = super::complete::secrets())]
    path: Option<SecretPath>,
    /// At most this many entries.
    #[arg(short = 'n', long, value_name = "N")]
    limit: Option<usize>,
    /// Print JSON instead of a table (an array of `agent-vault/log-entry@1`, docs/json.md).
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args, globals: &Globals) -> anyhow::Result<Exit> {
    let entries = globals.open()?.history(&HistoryOptions {
        path: args.path.clone(),
        limit: args.limit,
    })?;
    if args.json {
        let entries = entries
            .iter()
            .map(|e| output::with_schema("agent-vault/log-entry@1", e))
            .collect::<anyhow::Result<Vec<_>>>()?;
        output::stdout_json(&entries)?;
        return Ok(Exit::Ok);
    }
    if entries.is_empty() {
        output::info(match &args.path {
            Some(path) => format!("no commit changed '{path}'"),
            None => "no commit changed the vault".into(),
        });
        return Ok(Exit::Ok);
    }
    let author_width = output::column_width("AUTHOR", entries.iter().map(|e| e.author.as_str()));
    output::stdout_line(format!(
        "{:20}  {:10}  {:author_width$}  SUMMARY",
        "TIME", "COMMIT", "AUTHOR"
    ))?;
    for e in &entries {
        let moved = match (&args.path, &e.path) {
            (Some(asked), Some(then)) if asked.as_str() != then => format!(" [as {then}]"),
            _ => String::new(),
        };
        output::stdout_line(format!(
            "{:20}  {:10}  {:author_width$}  {}{moved}",
            e.time,
            &e.commit[..10.min(e.commit.len())],
            escape(&e.author),
            escape(&e.summary),
        ))?;
    }
    Ok(Exit::Ok)
}
