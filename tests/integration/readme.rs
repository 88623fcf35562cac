//! README.md's quickstart works verbatim: the `sh` block of "## Quickstart" that creates the
//! vault runs as one script, in a fresh home with the built binary on PATH, started from a
//! project checkout that it must leave untouched.

use crate::common::*;

fn quickstart() -> String {
    let readme = include_str!("../../README.md");
    let section = readme
        .split("## Quickstart")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("README has a Quickstart section");
    section
        .split("```sh\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .find(|b| b.contains("agent-vault init"))
        .expect("the Quickstart section has an sh block running `agent-vault init`")
        .to_owned()
}

#[test]
fn readme_quickstart_runs_verbatim_and_leaves_the_checkout_alone() {
    let env = Env::new();
    // The checkout the user installed from: a git repository with a commit.
    std::fs::write(env.repo.join("Cargo.toml"), "[package]\n").unwrap();
    env.git(&["add", "Cargo.toml"]);
    env.git(&["commit", "-q", "-m", "checkout"]);
    let checkout = snapshot(&env.repo);

    let path = path_with_binary();
    let script = quickstart();
    assert!(script.lines().count() >= 5, "{script}");
    let mut cmd = env.cmd_in(&env.repo, "sh", &["-e", "-c", &script]);
    // As a new user has it: keys in ~/.agent-vault.
    cmd.env("PATH", &path).env_remove("AGENT_VAULT_HOME");
    let out = cmd.output().expect("sh runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "README quickstart failed:\n{script}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The two `get`s print the value the quickstart stored.
    assert_eq!(stdout.matches("sk_live_example").count(), 2, "{stdout}");
    let vault = env.home.join("my-vault");
    assert!(vault.join(".agent-vault/manifest.yaml").is_file());
    assert!(
        vault.join(".git").is_dir(),
        "the vault has its own repository"
    );
    assert!(env.home.join(".agent-vault/owner.key").is_file());
    assert_same_tree(&checkout, &snapshot(&env.repo), "the checkout");

    // Running `init` again is a no-op that says so.
    let mut again = env.cmd_in(&env.home, "agent-vault", &["init", "my-vault"]);
    again.env("PATH", &path).env_remove("AGENT_VAULT_HOME");
    let out = again.output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing changed"));
}
