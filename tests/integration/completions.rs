//! The committed completion scripts in `completions/` match what the binary generates.

use crate::common::*;

#[test]
fn committed_completions_are_current() {
    let env = Env::new();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    let mut stale = Vec::new();
    for (shell, file) in [
        ("bash", "agent-vault.bash"),
        ("zsh", "_agent-vault"),
        ("fish", "agent-vault.fish"),
        ("powershell", "_agent-vault.ps1"),
        ("elvish", "agent-vault.elv"),
    ] {
        let generated = env.av(&["completions", shell]).ok().stdout;
        let committed = std::fs::read(dir.join(file)).unwrap_or_default();
        if generated != committed {
            stale.push(format!(
                "completions/{file}: regenerate with `cargo run -q -- completions {shell} > completions/{file}`"
            ));
        }
    }
    assert!(
        stale.is_empty(),
        "stale completion scripts:\n{}",
        stale.join("\n")
    );
}
