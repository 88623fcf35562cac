//! README.md's quickstart works verbatim: every line of its first `sh` block after
//! "## Quickstart" runs, in order, in a fresh environment with the built binary on PATH.

use crate::common::*;

fn quickstart() -> Vec<String> {
    let readme = include_str!("../../README.md");
    let section = readme
        .split("## Quickstart")
        .nth(1)
        .expect("README has a Quickstart section");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("the Quickstart section has an sh block");
    block
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn readme_quickstart_runs_verbatim() {
    let env = Env::new();
    let bin_dir = assert_cmd::cargo::cargo_bin("agent-vault")
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let lines = quickstart();
    assert!(lines.len() >= 5, "{lines:?}");
    let mut outputs = String::new();
    for line in &lines {
        let mut cmd = env.cmd_in(&env.repo, "sh", &["-c", line]);
        cmd.env("PATH", &path);
        let out = cmd.output().expect("sh runs");
        assert!(
            out.status.success(),
            "README quickstart line failed: {line}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        outputs.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    // The two `get`s print the value the quickstart stored.
    assert_eq!(outputs.matches("sk_live_example").count(), 2, "{outputs}");
}
