//! `agent-vault run`: a command with secrets in its environment, its output masked.

use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;

use agent_vault::environ::dotenv;
use agent_vault::environ::mask::Masker;
use agent_vault::environ::{Binding, EnvName, reference};
use agent_vault::names::SecretPath;
use agent_vault::vault::Bulk;
use anyhow::Context;
use secrecy::ExposeSecret;
use zeroize::Zeroizing;

use super::child::{Late, Supervisor, cannot_start, exit_code};
use super::exit::ChildStatus;
use super::select::{ReadArgs, SelectArgs, value_of};
use super::{Exit, Globals, UsageError, env, output};

/// The largest env file read.
const MAX_ENV_FILE: u64 = 16 << 20;

/// Run a command with secrets in its environment.
///
/// One fetch, one key load, one signature check and one pass of decryption for every secret,
/// before the command starts: a secret that cannot be read is an error naming it, and nothing
/// runs. Variables are named after the secret's path (app/api-token → APP_API_TOKEN), or the
/// name recorded with `set --env`, or the one given as --secret PATH=NAME; two secrets for one
/// name is an error. A variable of the environment or of an --env-file whose value is
/// `agent-vault://PATH` gets that secret's value. AGENT_VAULT_KEY is not passed on.
///
/// By default the command's stdout and stderr are relayed with every secret value replaced by
/// <concealed:PATH> (its output is then a pipe, not the terminal); stdin is the command's.
/// With --no-masking, agent-vault replaces itself with the command (exec): nothing of it stays
/// running and the command has the terminal. Signals sent to agent-vault reach the command, and
/// its exit status is agent-vault's (128+N when signal N ended it; 127 when it is not found,
/// 126 when it cannot be executed).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  agent-vault run --group stripe -- ./deploy.sh\n  agent-vault run --secret db/url=DATABASE_URL --secret app/api-token -- npm start\n  DATABASE_URL=agent-vault://db/url agent-vault run -- ./migrate.sh   # the reference is replaced\n  agent-vault run --env-file .env.tpl --no-masking -- bash"
)]
pub struct Args {
    #[command(flatten)]
    select: SelectArgs,
    /// Read variables from this .env file too (repeatable; later files win); its
    /// `agent-vault://PATH` values are replaced.
    #[arg(long = "env-file", value_name = "FILE")]
    env_files: Vec<PathBuf>,
    /// Do not mask values in the command's output: agent-vault replaces itself with the
    /// command (exec), which gets the terminal.
    #[arg(long)]
    no_masking: bool,
    #[command(flatten)]
    read: ReadArgs,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    command: Vec<OsString>,
}

/// A variable for the command: its name and value (secret or not, handled as secret).
type Var = (OsString, Zeroizing<Vec<u8>>);

pub fn run(args: Args, globals: &Globals) -> anyhow::Result<Exit> {
    let mut vars = env::child_environment()
        .into_iter()
        .map(|(name, value)| (name, Zeroizing::new(value.as_bytes().to_vec())))
        .collect::<Vec<Var>>();
    for file in &args.env_files {
        overlay(&mut vars, read_env_file(file)?);
    }
    let references = references(&vars)?;
    let selection = args
        .select
        .selection(references.iter().map(|(_, path)| path.clone()));
    let (bulk, bindings) = if selection.is_empty() {
        output::warn(
            "no secrets selected (--group, --secret, or agent-vault://PATH in a variable): the command runs without any",
        );
        (
            Bulk {
                secrets: Vec::new(),
                warnings: Vec::new(),
            },
            Vec::new(),
        )
    } else {
        let bulk = args.read.read(&globals.open()?, &selection)?;
        let bindings = args.select.bindings(&bulk, &references)?;
        (bulk, bindings)
    };
    apply(&mut vars, &bindings, &bulk)?;
    let mut command = Command::new(&args.command[0]);
    command.args(&args.command[1..]).env_clear();
    for (name, value) in &vars {
        command.env(name, OsStr::from_bytes(value));
    }
    drop(vars);
    if args.no_masking {
        drop(bulk);
        let error = command.exec();
        return Err(cannot_start(&args.command[0], &error).into());
    }
    let masker = Arc::new(Masker::new(
        bulk.secrets
            .iter()
            .map(|s| (s.path.as_str(), s.value.expose_secret())),
    ));
    drop(bulk);
    supervise(&mut command, &args.command[0], &masker)
}

/// Reads an env file (`-` is stdin).
fn read_env_file(file: &std::path::Path) -> anyhow::Result<Vec<dotenv::Entry>> {
    let mut text = Zeroizing::new(Vec::new());
    let shown = file.display().to_string();
    if file.as_os_str() == "-" {
        std::io::stdin()
            .lock()
            .take(MAX_ENV_FILE + 1)
            .read_to_end(&mut text)
            .context("cannot read the env file from stdin")?;
    } else {
        std::fs::File::open(file)
            .and_then(|f| f.take(MAX_ENV_FILE + 1).read_to_end(&mut text))
            .with_context(|| format!("cannot read the env file {shown}"))?;
    }
    if text.len() as u64 > MAX_ENV_FILE {
        return Err(UsageError(format!(
            "the env file {shown} is larger than 16 MiB; is it the right file?"
        ))
        .into());
    }
    Ok(dotenv::parse(&text, &shown)?)
}

/// Adds `entries` to `vars`, replacing variables of the same name.
fn overlay(vars: &mut Vec<Var>, entries: Vec<dotenv::Entry>) {
    for entry in entries {
        let name = OsString::from(entry.name.as_str());
        vars.retain(|(n, _)| n != &name);
        vars.push((name, entry.value));
    }
}

/// The variables whose value is `agent-vault://PATH`, and the secrets they name.
fn references(vars: &[Var]) -> anyhow::Result<Vec<(EnvName, SecretPath)>> {
    let mut found = Vec::new();
    for (name, value) in vars {
        let Some(path) = reference(value) else {
            continue;
        };
        let shown = name.to_string_lossy();
        let name = name
            .to_str()
            .and_then(|n| EnvName::parse(n).ok())
            .ok_or_else(|| {
                UsageError(format!(
                    "the variable {shown} holds an agent-vault:// reference but its name is not a portable variable name (letters, digits and `_`); rename it"
                ))
            })?;
        let path = path.map_err(|e| {
            UsageError(format!(
                "the variable {name} holds an agent-vault:// reference to an invalid secret path ({e}); fix the reference"
            ))
        })?;
        found.push((name, path));
    }
    Ok(found)
}

/// Sets every bound variable to its secret's value.
fn apply(vars: &mut Vec<Var>, bindings: &[Binding], bulk: &Bulk) -> anyhow::Result<()> {
    for binding in bindings {
        let value = value_of(bulk, &binding.path)
            .ok_or_else(|| agent_vault::Error::SecretNotFound(binding.path.to_string()))?;
        if value.contains(&0) {
            return Err(UsageError(format!(
                "secret '{}' holds a NUL byte, which no environment variable can carry; nothing was run",
                binding.path
            ))
            .into());
        }
        let name = OsString::from(binding.name.as_str());
        vars.retain(|(n, _)| n != &name);
        vars.push((name, Zeroizing::new(value.to_vec())));
    }
    Ok(())
}

/// Runs the command with its stdout and stderr relayed through the masker; its status is
/// ours.
fn supervise(command: &mut Command, program: &OsStr, masker: &Arc<Masker>) -> anyhow::Result<Exit> {
    command
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let supervisor = Supervisor::install().context("cannot install signal handlers")?;
    let mut running = supervisor
        .spawn(command, Late::Die)
        .map_err(|e| cannot_start(program, &e))?;
    let stdout = running.child().stdout.take();
    let stderr = running.child().stderr.take();
    let relays = [
        stdout.map(|r| relay(r, std::io::stdout(), masker)),
        stderr.map(|r| relay(r, std::io::stderr(), masker)),
    ];
    let status = running.wait().context("cannot wait for the command")?;
    for relay in relays.into_iter().flatten() {
        let _ = relay.join();
    }
    running.finish();
    match exit_code(status) {
        0 => Ok(Exit::Ok),
        code => Err(ChildStatus(code).into()),
    }
}

/// Copies `from` to `to` through a mask stream until the end (or until `to` is closed: then
/// `from` is closed too, so the command sees its output closed, as without us).
fn relay(
    mut from: impl Read + Send + 'static,
    mut to: impl Write + Send + 'static,
    masker: &Arc<Masker>,
) -> std::thread::JoinHandle<()> {
    let mut stream = masker.stream();
    std::thread::spawn(move || {
        let mut buf = Zeroizing::new(vec![0u8; 64 * 1024]);
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            };
            let out = stream.push(&buf[..n]);
            if to.write_all(&out).and_then(|()| to.flush()).is_err() {
                return;
            }
        }
        let _ = to.write_all(&stream.finish()).and_then(|()| to.flush());
    })
}
