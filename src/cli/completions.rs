use clap_complete::Shell;

use super::{Exit, output};

/// Print a shell completion script. It completes subcommands and flags, and secret, agent and
/// group names from the vault of the current directory (or AGENT_VAULT_DIR): on each Tab the
/// shell asks agent-vault, which reads the names offline from the verified vault, quietly.
#[derive(Debug, clap::Args)]
#[command(
    term_width = 0,
    after_help = "Examples (installing; each creates the folder it writes to):
  bash:  mkdir -p ~/.local/share/bash-completion/completions && agent-vault completions bash > ~/.local/share/bash-completion/completions/agent-vault
  zsh:   mkdir -p ~/.zfunc && agent-vault completions zsh > ~/.zfunc/_agent-vault
         then in ~/.zshrc, before `compinit`: fpath=(~/.zfunc $fpath); autoload -Uz compinit && compinit
  fish:  mkdir -p ~/.config/fish/completions && agent-vault completions fish > ~/.config/fish/completions/agent-vault.fish
  elvish: in ~/.config/elvish/rc.elv: eval (agent-vault completions elvish | slurp)
  PowerShell: in the file $PROFILE names: agent-vault completions powershell | Out-String | Invoke-Expression
Open a new shell afterwards."
)]
pub struct Args {
    /// The shell: bash, zsh, fish, powershell or elvish.
    shell: Shell,
}

pub fn run(args: Args) -> anyhow::Result<Exit> {
    output::stdout_bytes(&super::complete::registration(args.shell)?)?;
    Ok(Exit::Ok)
}
