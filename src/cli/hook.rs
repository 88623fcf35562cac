use agent_vault::hook::{self, HookStatus};
use agent_vault::settings::GitEnv;
use git2::Repository;
use serde_json::json;

use super::{Exit, Globals, UsageError, output};

/// Manage the pre-commit hook that runs `agent-vault scan --staged` before every commit.
///
/// The hook goes where git looks for hooks (`core.hooksPath` when set). A pre-commit hook
/// that was already there is kept as `pre-commit.agent-vault-chained` and runs after ours;
/// either one failing blocks the commit. Installing twice changes nothing.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  agent-vault hook install\n  agent-vault hook status --json\n  agent-vault hook uninstall"
)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Install (or update) the hook, chaining an existing one.
    #[command(
        after_help = "Example:\n  agent-vault hook install   # then `git commit` runs the scan"
    )]
    Install,
    /// Remove the hook, putting a chained hook back.
    #[command(after_help = "Example:\n  agent-vault hook uninstall")]
    Uninstall,
    /// Report whether the hook is installed and current (exit 1 if not).
    #[command(
        after_help = "Examples:\n  agent-vault hook status\n  agent-vault hook status --json"
    )]
    Status {
        /// Print JSON on stdout.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: Args, globals: &Globals) -> anyhow::Result<Exit> {
    let start = globals.start_dir();
    let repo = Repository::discover(&start).map_err(|e| {
        UsageError(format!(
            "{} is not in a git repository ({}); run this inside one or pass --vault DIR",
            start.display(),
            e.message()
        ))
    })?;
    let git = super::env::git_env();
    match args.action {
        Action::Install => install(&repo, &git),
        Action::Uninstall => uninstall(&repo, &git),
        Action::Status { json } => status(&repo, &git, json),
    }
}

fn install(repo: &Repository, git: &GitEnv) -> anyhow::Result<Exit> {
    let before = hook::status(repo, git);
    let after = hook::install(repo, git)?;
    match (&before, &after) {
        (HookStatus::Installed(p) | HookStatus::InstalledChained(p, _), _) if before == after => {
            output::info(format!("the hook is already installed at {}", p.display()))
        }
        (_, HookStatus::InstalledChained(p, chained)) => output::done(format!(
            "installed the pre-commit hook at {} (the previous hook runs after it, from {})",
            p.display(),
            chained.display()
        )),
        (_, HookStatus::Installed(p)) => {
            output::done(format!("installed the pre-commit hook at {}", p.display()))
        }
        (_, other) => output::warn(format!("unexpected state after install: {other:?}")),
    }
    warn_if_tracked(repo, git);
    warn_if_not_on_path();
    Ok(Exit::Ok)
}

fn uninstall(repo: &Repository, git: &GitEnv) -> anyhow::Result<Exit> {
    let before = hook::status(repo, git);
    let after = hook::uninstall(repo, git)?;
    match (&before, &after) {
        (HookStatus::Foreign(p), _) => output::info(format!(
            "{} is not agent-vault's hook; left it alone",
            p.display()
        )),
        (HookStatus::Missing(_), _) => output::info("no pre-commit hook is installed"),
        (_, HookStatus::Foreign(p)) => output::done(format!(
            "removed the agent-vault hook; the previous hook is back at {}",
            p.display()
        )),
        _ => output::done("removed the agent-vault pre-commit hook"),
    }
    Ok(Exit::Ok)
}

fn status(repo: &Repository, git: &GitEnv, json: bool) -> anyhow::Result<Exit> {
    let status = hook::status(repo, git);
    let (state, path, chained) = match &status {
        HookStatus::Installed(p) => ("installed", p, None),
        HookStatus::InstalledChained(p, c) => ("installed", p, Some(c)),
        HookStatus::Outdated(p) => ("outdated", p, None),
        HookStatus::Foreign(p) => ("foreign", p, None),
        HookStatus::Missing(p) => ("missing", p, None),
    };
    if json {
        output::stdout_json(&json!({
            "schema": "agent-vault/hook-status@1",
            "state": state,
            "hook": path,
            "chained": chained,
            "hooks_dir": hook::hooks_dir(repo, git),
            "binary_on_path": on_path(),
        }))?;
    } else {
        let line = match &status {
            HookStatus::Installed(p) => format!("installed: {}", p.display()),
            HookStatus::InstalledChained(p, c) => {
                format!("installed: {} (chains {})", p.display(), c.display())
            }
            HookStatus::Outdated(p) => format!(
                "outdated: {} is an older agent-vault hook; run `agent-vault hook install` to update it",
                p.display()
            ),
            HookStatus::Foreign(p) => format!(
                "not installed: {} is another tool's hook; `agent-vault hook install` chains it",
                p.display()
            ),
            HookStatus::Missing(p) => format!(
                "not installed: no hook at {}; run `agent-vault hook install`",
                p.display()
            ),
        };
        output::stdout_line(line)?;
        if matches!(
            status,
            HookStatus::Installed(_) | HookStatus::InstalledChained(..)
        ) {
            warn_if_not_on_path();
        }
    }
    Ok(match status {
        HookStatus::Installed(_) | HookStatus::InstalledChained(..) => Exit::Ok,
        _ => Exit::Failure,
    })
}

fn on_path() -> bool {
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| dir.join("agent-vault").is_file())
    })
}

fn warn_if_not_on_path() {
    if !on_path() {
        output::warn(
            "agent-vault is not on PATH, so the hook falls back to a git-only scan for key material and skips the known-secret check; put agent-vault on PATH",
        );
    }
}

/// A hooks folder committed to the repository (`core.hooksPath = .githooks`) is shared with
/// the team: installing changed tracked files, which the user should know before committing.
fn warn_if_tracked(repo: &Repository, git: &GitEnv) {
    let (Some(workdir), Ok(index)) = (repo.workdir(), repo.index()) else {
        return;
    };
    let dir = hook::hooks_dir(repo, git);
    let Ok(rel) = dir.strip_prefix(workdir) else {
        return;
    };
    let tracked = ["pre-commit", "pre-commit.agent-vault-chained"]
        .iter()
        .any(|name| index.get_path(&rel.join(name), 0).is_some());
    if tracked {
        output::warn(format!(
            "{} is tracked by git: this changed files of your repository (see `git status`); commit them to give the hook to everyone who uses this hooks folder, or run `agent-vault hook uninstall`",
            dir.display()
        ));
    }
}
