//! `agent-vault export`: secrets as dotenv, JSON, shell or GitHub Actions variables, on stdout.

use agent_vault::environ::export::{self, Format, Var};
use std::io::Write;

use super::select::{ReadArgs, SelectArgs, value_of};
use super::{Exit, Globals, UsageError, output};

/// The formats, for clap (and completions).
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum FormatArg {
    /// NAME='value' lines for `run --env-file`, docker compose, python-dotenv.
    Dotenv,
    /// One JSON object of names to values.
    Json,
    /// `export NAME='value'` lines, safe to eval or source in any POSIX shell.
    Shell,
    /// NAME<<DELIMITER blocks for $GITHUB_ENV on stdout, ::add-mask:: commands on stderr.
    Github,
}

/// Write secrets as variables to stdout: dotenv, json, shell or github.
///
/// One fetch, one key load, one signature check and one pass of decryption; a secret that
/// cannot be read is an error naming it, and nothing is written. Variables are named like
/// `run` names them. Values with quotes, newlines, `$`, backticks and backslashes survive
/// every format; a value a format cannot carry (a NUL byte; bytes that are not UTF-8 in
/// dotenv, json and github) is an error naming the secret. Nothing is written to a file:
/// redirect stdout where you need it.
///
/// --format github writes the NAME<<DELIMITER form of $GITHUB_ENV to stdout and one
/// ::add-mask:: workflow command per value (and per line of a multi-line value) to stderr,
/// which the Actions runner reads commands from: `agent-vault export --format github --group
/// deploy >> "$GITHUB_ENV"` masks the values in the log of every later step.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  agent-vault export --group stripe --format dotenv > .env   # mind where you write it\n  eval \"$(agent-vault export --secret db/url=DATABASE_URL --format shell)\"\n  agent-vault export --group deploy --format json | jq -r .DEPLOY_TOKEN\n  agent-vault export --group deploy --format github >> \"$GITHUB_ENV\""
)]
pub struct Args {
    #[command(flatten)]
    select: SelectArgs,
    /// The output format.
    #[arg(long, value_enum, default_value = "dotenv")]
    format: FormatArg,
    #[command(flatten)]
    read: ReadArgs,
}

pub fn run(args: Args, globals: &Globals) -> anyhow::Result<Exit> {
    let selection = args.select.selection([]);
    if selection.is_empty() {
        return Err(UsageError(
            "choose the secrets to export with --group GROUP or --secret PATH[=NAME] (`agent-vault list` shows them)".into(),
        )
        .into());
    }
    let bulk = args.read.read(&globals.open()?, &selection)?;
    let bindings = args.select.bindings(&bulk, &[])?;
    let mut vars = Vec::with_capacity(bindings.len());
    for binding in &bindings {
        vars.push(Var {
            name: &binding.name,
            path: binding.path.as_str(),
            value: value_of(&bulk, &binding.path)
                .ok_or_else(|| agent_vault::Error::SecretNotFound(binding.path.to_string()))?,
        });
    }
    let format = match args.format {
        FormatArg::Dotenv => Format::Dotenv,
        FormatArg::Json => Format::Json,
        FormatArg::Shell => Format::Shell,
        FormatArg::Github => Format::Github,
    };
    let rendered = export::render(format, &vars)?;
    if !rendered.masks.is_empty() {
        let mut stderr = std::io::stderr().lock();
        stderr.write_all(&rendered.masks)?;
        stderr.flush()?;
    }
    output::stdout_bytes(&rendered.data)?;
    Ok(Exit::Ok)
}
