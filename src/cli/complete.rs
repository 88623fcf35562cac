//! Dynamic shell completion: the scripts `completions SHELL` prints call agent-vault back
//! (`AGENT_VAULT_COMPLETE=SHELL agent-vault -- WORDS…`, clap_complete's engine), which
//! completes subcommands and flags from the CLI's definition, and secret, agent and group names
//! from the vault's verified listing ([`Vault::names`]): offline, recording nothing, printing
//! nothing — a vault that cannot be read verified completes no names.

use std::ffi::OsStr;

use agent_vault::vault::{Names, Vault};
use clap_complete::engine::{ArgValueCompleter, CompletionCandidate};

/// The variable the completion scripts set when they call agent-vault.
pub const COMPLETE_ENV: &str = "AGENT_VAULT_COMPLETE";

/// Answers a completion request and exits, when the shell made one.
pub fn answer_if_asked() {
    clap_complete::CompleteEnv::with_factory(super::command)
        .var(COMPLETE_ENV)
        .bin("agent-vault")
        .completer("agent-vault")
        .complete();
}

/// The registration script for `shell`, which calls agent-vault back on every Tab.
pub fn registration(shell: clap_complete::Shell) -> std::io::Result<Vec<u8>> {
    use clap_complete::env::{Bash, Elvish, EnvCompleter, Fish, Powershell, Zsh};
    let adapter: &dyn EnvCompleter = match shell {
        clap_complete::Shell::Bash => &Bash,
        clap_complete::Shell::Zsh => &Zsh,
        clap_complete::Shell::Fish => &Fish,
        clap_complete::Shell::PowerShell => &Powershell,
        clap_complete::Shell::Elvish => &Elvish,
        _ => &Bash,
    };
    let mut script = Vec::new();
    adapter.write_registration(
        COMPLETE_ENV,
        "agent-vault",
        "agent-vault",
        "agent-vault",
        &mut script,
    )?;
    if shell == clap_complete::Shell::Zsh {
        // Autoloaded from $fpath as `_agent-vault` (rather than sourced), the file runs on the
        // first Tab: complete that Tab too, not only the later ones.
        script.extend_from_slice(
            b"if [[ \"${funcstack[1]}\" == \"_agent-vault\" ]]; then\n    _clap_dynamic_completer_agent_vault \"$@\"\nfi\n",
        );
    }
    Ok(script)
}

/// Completes a secret path.
pub fn secrets() -> ArgValueCompleter {
    ArgValueCompleter::new(|current: &OsStr| {
        matching(current, "", |n| {
            n.secrets.iter().map(|(path, _)| path.clone()).collect()
        })
    })
}

/// Completes an agent name.
pub fn agents() -> ArgValueCompleter {
    ArgValueCompleter::new(|current: &OsStr| matching(current, "", |n| n.agents.clone()))
}

/// Completes the last name of a comma-separated list of agents.
pub fn agent_list() -> ArgValueCompleter {
    ArgValueCompleter::new(|current: &OsStr| {
        let text = current.to_string_lossy();
        let (done, last) = match text.rfind(',') {
            Some(i) => text.split_at(i + 1),
            None => ("", text.as_ref()),
        };
        matching(OsStr::new(last), done, |n| n.agents.clone())
    })
}

/// Completes a group name.
pub fn groups() -> ArgValueCompleter {
    ArgValueCompleter::new(|current: &OsStr| matching(current, "", |n| n.groups.clone()))
}

fn matching(
    current: &OsStr,
    before: &str,
    pick: impl Fn(&Names) -> Vec<String>,
) -> Vec<CompletionCandidate> {
    let Some(current) = current.to_str() else {
        return Vec::new();
    };
    let Some(names) = names() else {
        return Vec::new();
    };
    pick(&names)
        .into_iter()
        .filter(|name| name.starts_with(current))
        .map(|name| CompletionCandidate::new(format!("{before}{name}")))
        .collect()
}

/// The names of the vault of the current directory (or `AGENT_VAULT_DIR`), quietly.
fn names() -> Option<Names> {
    let start = std::env::var_os("AGENT_VAULT_DIR")
        .filter(|d| !d.is_empty())
        .map_or_else(|| std::path::PathBuf::from("."), std::path::PathBuf::from);
    let settings = super::env::settings().ok()?;
    Vault::discover(&start, settings).ok()?.names().ok()
}
