use clap_complete::Shell;

use super::{Exit, output};

/// Print a shell completion script.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  agent-vault completions bash > ~/.local/share/bash-completion/completions/agent-vault\n  agent-vault completions zsh > ~/.zfunc/_agent-vault"
)]
pub struct Args {
    /// The shell: bash, zsh, fish, powershell or elvish.
    shell: Shell,
}

pub fn run(args: Args) -> anyhow::Result<Exit> {
    let mut script = Vec::new();
    clap_complete::generate(
        args.shell,
        &mut super::command(),
        "agent-vault",
        &mut script,
    );
    output::stdout_bytes(&script)?;
    Ok(Exit::Ok)
}
