//! The command-line interface: one module per subcommand, each with an `Args` struct whose
//! doc comment is its help text and a `run` function. Errors become exit codes in [`exit`].

mod add_agent;
mod audit;
mod brokered;
mod check;
mod complete;
mod completions;
mod env;
mod exit;
mod get;
mod grant;
mod hints;
mod hook;
mod init;
mod list;
mod list_agents;
mod mcp;
mod output;
mod policy;
mod progress;
mod proxy;
mod recover_agent;
mod remove_agent;
mod request;
mod restore_agent;
mod revoke;
mod rm;
mod scan;
mod set;
mod sign;
mod suggest;
mod verify;
// Secrets into processes and CI (run, export, inject) and the everyday owner verbs.
mod child;
mod edit;
mod export;
mod generate;
mod import;
mod inject;
mod log;
mod mv;
mod run;
mod select;

use std::path::PathBuf;
use std::process::ExitCode;

use agent_vault::vault::Vault;
use clap::{Parser, Subcommand};

pub use exit::{Exit, UsageError};

/// Git-backed, age-encrypted secrets for AI agents and CI jobs.
///
/// Secrets live encrypted in `.agent-vault/` of a git repository, each readable by the owner
/// and by the agents granted its group. Git is only the untrusted store and the sync layer.
#[derive(Debug, Parser)]
#[command(
    name = "agent-vault",
    version,
    propagate_version = true,
    after_help = "Quick start:\n  agent-vault init\n  agent-vault add-agent deploy-bot\n  printf %s \"$STRIPE_KEY\" | agent-vault set stripe/api-key\n  agent-vault grant deploy-bot stripe\n  agent-vault get stripe/api-key --agent deploy-bot\n\nExit codes: 0 ok, 1 failure, 2 usage or invalid input, 3 not found, 4 access denied,\n5 integrity failure, 6 vault busy, diverged or dirty."
)]
pub struct Cli {
    /// Use the vault in the git repository at DIR instead of the current directory's.
    #[arg(long, global = true, value_name = "DIR", env = "AGENT_VAULT_DIR")]
    vault: Option<PathBuf>,

    /// Draw no progress bars (they appear only on a terminal, for work that takes a while).
    #[arg(long, short = 'q', global = true)]
    quiet: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Init(init::Args),
    AddAgent(add_agent::Args),
    RemoveAgent(remove_agent::Args),
    ListAgents(list_agents::Args),
    Grant(grant::Args),
    Revoke(revoke::Args),
    Set(set::Args),
    Get(get::Args),
    List(list::Args),
    Rm(rm::Args),
    Check(check::Args),
    Scan(scan::Args),
    Hook(hook::Args),
    RecoverAgent(recover_agent::Args),
    RestoreAgent(restore_agent::Args),
    Verify(verify::Args),
    Sign(sign::Args),
    Policy(policy::Args),
    Request(request::Args),
    Proxy(proxy::Args),
    Audit(audit::Args),
    Mcp(mcp::Args),
    Completions(completions::Args),
    // Secrets into processes and CI, and the everyday owner verbs.
    Run(run::Args),
    Export(export::Args),
    Inject(inject::Args),
    Edit(edit::Args),
    Import(import::Args),
    Generate(generate::Args),
    Mv(mv::Args),
    Log(log::Args),
}

/// What every command may need besides its own arguments.
pub struct Globals {
    vault: Option<PathBuf>,
}

impl Globals {
    /// The directory commands start from.
    fn start_dir(&self) -> PathBuf {
        self.vault.clone().unwrap_or_else(|| PathBuf::from("."))
    }

    /// Opens the vault, with the settings the environment gives.
    fn open(&self) -> anyhow::Result<Vault> {
        Ok(Vault::discover(&self.start_dir(), env::settings()?)?)
    }
}

/// The clap command, for completions and tests.
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

/// Runs the CLI and returns the process exit code.
pub fn main() -> ExitCode {
    complete::answer_if_asked();
    // libgit2 re-hashes (SHA-1, with collision detection) every object it reads. Nothing here
    // relies on that: what is trusted is checked against the signed statement's SHA-256
    // digests, and objects from others arrive through git, which checks each one it receives
    // (docs/threat-model.md). Skipping it makes reading a vault ~10% cheaper. It is a
    // process-wide libgit2 setting, so the binary makes it, not the library.
    git2::opts::strict_hash_verification(false);
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => Exit::Usage.into(),
            };
        }
    };
    progress::set_quiet(cli.quiet);
    let globals = Globals { vault: cli.vault };
    let reader = matches!(
        cli.command,
        Command::Get(_)
            | Command::List(_)
            | Command::ListAgents(_)
            | Command::Verify(_)
            | Command::Check(_)
            | Command::Request(_)
            | Command::Proxy(_)
            | Command::Mcp(_)
            | Command::Run(_)
            | Command::Export(_)
            | Command::Inject(_)
    );
    let result = match cli.command {
        Command::Init(args) => init::run(args, &globals),
        Command::AddAgent(args) => add_agent::run(args, &globals),
        Command::RemoveAgent(args) => remove_agent::run(args, &globals),
        Command::ListAgents(args) => list_agents::run(args, &globals),
        Command::Grant(args) => grant::run(args, &globals),
        Command::Revoke(args) => revoke::run(args, &globals),
        Command::Set(args) => set::run(args, &globals),
        Command::Get(args) => get::run(args, &globals),
        Command::List(args) => list::run(args, &globals),
        Command::Rm(args) => rm::run(args, &globals),
        Command::Check(args) => check::run(args, &globals),
        Command::Scan(args) => scan::run(args, &globals),
        Command::Hook(args) => hook::run(args, &globals),
        Command::RecoverAgent(args) => recover_agent::run(args, &globals),
        Command::RestoreAgent(args) => restore_agent::run(args, &globals),
        Command::Verify(args) => verify::run(args, &globals),
        Command::Sign(args) => sign::run(args, &globals),
        Command::Policy(args) => policy::run(args, &globals),
        Command::Request(args) => request::run(args, &globals),
        Command::Proxy(args) => proxy::run(args, &globals),
        Command::Audit(args) => audit::run(args),
        Command::Mcp(args) => mcp::run(args, &globals),
        Command::Completions(args) => completions::run(args),
        Command::Run(args) => run::run(args, &globals),
        Command::Export(args) => export::run(args, &globals),
        Command::Inject(args) => inject::run(args, &globals),
        Command::Edit(args) => edit::run(args, &globals),
        Command::Import(args) => import::run(args, &globals),
        Command::Generate(args) => generate::run(args, &globals),
        Command::Mv(args) => mv::run(args, &globals),
        Command::Log(args) => log::run(args, &globals),
    };
    match result {
        Ok(exit) => exit.into(),
        Err(error) => {
            // A program `run` ran: its status is ours, and it has said what it had to say.
            if let Some(status) = error.downcast_ref::<exit::ChildStatus>() {
                return ExitCode::from(status.0);
            }
            output::error(render(&error));
            let names = || globals.open().ok()?.names().ok();
            if let Some(hint) = hints::hint(&error, reader, names) {
                output::info(hint);
            }
            exit::code_for(&error)
        }
    }
}

/// The error and its causes joined by `: `, skipping a cause whose text its parent's message
/// already ends with (our I/O and git errors print their source themselves).
fn render(error: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if out.ends_with(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

/// Parses `--offline` style booleans from the environment (`1`, `true`, `yes`).
fn falsey() -> clap::builder::FalseyValueParser {
    clap::builder::FalseyValueParser::new()
}
