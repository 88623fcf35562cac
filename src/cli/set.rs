use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use agent_vault::hook::HookStatus;
use agent_vault::names::{AgentName, GroupName, SecretPath};
use agent_vault::vault::{EnvChange, Expiry, SetOptions};
use anyhow::Context;
use secrecy::SecretSlice;
use zeroize::Zeroizing;

use super::{Exit, Globals, UsageError, output};

/// Store a secret, or rotate an existing one (its creation time is kept).
///
/// The value comes from, in order: --from-file (exact bytes; `-` for stdin), the VALUE
/// argument (works, but is visible in `ps` and shell history), or stdin (one trailing
/// newline stripped). On a terminal it is prompted for twice, without echo.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  agent-vault set stripe/api-key                # prompts without echo\n  printf %s \"$TOKEN\" | agent-vault set github/token --expires 90d\n  agent-vault set tls/cert --from-file cert.p12 --group tls\n  agent-vault set db/password --agents ci,deploy-bot\n  agent-vault set db/url --env DATABASE_URL      # `run` and `export` name it so"
)]
pub struct Args {
    /// The secret's path, e.g. `stripe/api-key`; its first segment is the default group.
    #[arg(add = super::complete::secrets())]
    path: SecretPath,
    /// The value (discouraged: visible in `ps` and shell history).
    #[arg(value_name = "VALUE", conflicts_with = "from_file")]
    value: Option<String>,
    /// Read the exact bytes of this file (`-` for stdin).
    #[arg(long, value_name = "FILE")]
    from_file: Option<PathBuf>,
    /// The group whose agents may read it (default: kept, else the first path segment).
    #[arg(long, value_name = "GROUP", add = super::complete::groups())]
    group: Option<GroupName>,
    /// When it expires: a date (2027-01-31), an RFC 3339 time, a duration (90d, 12h, 30min, 6mo, 1y: calendar months and years), or
    /// `never` to remove an expiry.
    #[arg(long, value_name = "WHEN")]
    expires: Option<String>,
    /// Agents that may read this secret besides its group's (comma-separated; replaces the
    /// list; `--agents ''` empties it).
    #[arg(long, value_name = "AGENTS", value_parser = agent_list, add = super::complete::agent_list())]
    agents: Option<AgentList>,
    /// The environment variable name `run` and `export` give it (default: kept, else derived
    /// from the path: app/api-token → APP_API_TOKEN).
    #[arg(long, value_name = "NAME", conflicts_with = "no_env")]
    env: Option<agent_vault::environ::EnvName>,
    /// Remove the recorded variable name (the name derived from the path applies again).
    #[arg(long)]
    no_env: bool,
}

pub fn run(args: Args, globals: &Globals) -> anyhow::Result<Exit> {
    let expires = match args.expires.as_deref().map(str::trim) {
        None => None,
        Some("never" | "none" | "") => Some(Expiry::Never),
        Some(when) => Some(Expiry::At(agent_vault::time::parse_expiry(
            when,
            agent_vault::time::now(),
        )?)),
    };
    if let Some(Expiry::At(when)) = expires
        && when <= agent_vault::time::now()
    {
        output::warn(format!(
            "--expires {} is in the past: the secret is stored as already expired (readers will warn)",
            args.expires.as_deref().unwrap_or_default()
        ));
    }
    let vault = globals.open()?;
    let value = read_value(&args)?;
    if value.is_empty() {
        return Err(UsageError(
            "the value is empty; nothing was stored (give a value, or use --from-file for a file)"
                .into(),
        )
        .into());
    }
    let options = SetOptions {
        group: args.group,
        expires,
        agents: args.agents.map(|list| list.0),
        env: match (args.env, args.no_env) {
            (Some(name), _) => Some(EnvChange::Set(name)),
            (None, true) => Some(EnvChange::Remove),
            (None, false) => None,
        },
    };
    let outcome = vault.set(&args.path, &SecretSlice::from(value.to_vec()), &options)?;
    output::outcome(&outcome, &format!("stored '{}'", args.path));
    let repo = vault.repo();
    if let HookStatus::Missing(_) = agent_vault::hook::status(repo.repo(), repo.git_env()) {
        output::info(
            "note: this clone has no pre-commit hook, so nothing stops a private key or a secret value from being committed here by hand; run `agent-vault hook install`",
        );
    }
    Ok(Exit::Ok)
}

fn read_value(args: &Args) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    if let Some(file) = &args.from_file {
        let mut bytes = Zeroizing::new(Vec::new());
        if file.as_os_str() == "-" {
            std::io::stdin()
                .lock()
                .read_to_end(&mut bytes)
                .context("cannot read the value from stdin")?;
        } else {
            let mut f = std::fs::File::open(file)
                .with_context(|| format!("cannot open {}", file.display()))?;
            f.read_to_end(&mut bytes)
                .with_context(|| format!("cannot read {}", file.display()))?;
        }
        return Ok(bytes);
    }
    if let Some(value) = &args.value {
        output::warn(
            "a value given on the command line is visible in `ps` and your shell history; prefer stdin or the prompt",
        );
        if stdin_is_data() {
            output::warn(
                "stdin is a pipe or a file and was not read: the VALUE argument is stored instead (to store stdin, leave out VALUE)",
            );
        }
        return Ok(Zeroizing::new(value.as_bytes().to_vec()));
    }
    if std::io::stdin().is_terminal() {
        let first = Zeroizing::new(prompt(&format!("value for {}: ", args.path))?);
        let second = Zeroizing::new(prompt("again: ")?);
        if *first != *second {
            return Err(UsageError("the two values differ; nothing was stored".into()).into());
        }
        return Ok(Zeroizing::new(first.as_bytes().to_vec()));
    }
    let mut bytes = Zeroizing::new(Vec::new());
    std::io::stdin()
        .lock()
        .read_to_end(&mut bytes)
        .context("cannot read the value from stdin")?;
    if bytes.ends_with(b"\r\n") {
        let n = bytes.len() - 2;
        bytes.truncate(n);
    } else if bytes.ends_with(b"\n") {
        let n = bytes.len() - 1;
        bytes.truncate(n);
    }
    Ok(bytes)
}

/// A hidden prompt on the terminal. Ctrl-D (end of input) is a usage error that says nothing
/// was stored, on a line of its own rather than after the prompt.
fn prompt(text: &str) -> anyhow::Result<String> {
    match rpassword::prompt_password(text) {
        Ok(value) => Ok(value),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            eprintln!();
            Err(UsageError("no value was entered (end of input); nothing was stored".into()).into())
        }
        Err(e) => Err(e).context("cannot read the value from the terminal"),
    }
}

/// Whether stdin is a pipe or a regular file, i.e. may carry a value (not a terminal, not
/// `/dev/null`).
fn stdin_is_data() -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::FileTypeExt;
    let Ok(fd) = std::io::stdin().as_fd().try_clone_to_owned() else {
        return false;
    };
    std::fs::File::from(fd)
        .metadata()
        .is_ok_and(|m| m.file_type().is_fifo() || m.is_file())
}

/// `--agents a,b`: one value, split on commas (so `--agents a db/z` never takes the secret's
/// path as an agent); empty entries are skipped, so `--agents ''` is the empty list.
#[derive(Debug, Clone)]
pub struct AgentList(Vec<AgentName>);

fn agent_list(value: &str) -> Result<AgentList, String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| name.parse::<AgentName>().map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()
        .map(AgentList)
}
