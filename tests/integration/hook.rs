//! The pre-commit hook `init` installs lets ordinary commits through and blocks staged
//! private keys, whether or not `agent-vault` is on PATH.

use std::fs;

use crate::common::*;

fn commit(env: &Env, with_av_on_path: bool, file: &str, contents: &str) -> std::process::Output {
    fs::write(env.repo.join(file), contents).unwrap();
    env.git(&["add", file]);
    let mut cmd = env.cmd_in(&env.repo, "git", &["commit", "-q", "-m", file]);
    if with_av_on_path {
        let bin = assert_cmd::cargo::cargo_bin("agent-vault");
        let path = format!(
            "{}:{}",
            bin.parent().unwrap().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        cmd.env("PATH", path);
    }
    cmd.output().unwrap()
}

#[test]
fn hook_allows_ordinary_commits_and_blocks_private_keys() {
    let env = Env::with_vault();
    assert!(env.repo.join(".git/hooks/pre-commit").is_file());
    let key = fs::read_to_string(env.owner_key()).unwrap();
    for on_path in [false, true] {
        let out = commit(&env, on_path, &format!("notes-{on_path}.txt"), "hello\n");
        assert!(
            out.status.success(),
            "an ordinary commit was blocked (agent-vault on PATH: {on_path}): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let head = env.head();
        let out = commit(&env, on_path, &format!("leak-{on_path}.txt"), &key);
        assert!(
            !out.status.success(),
            "a staged private key was committed (on PATH: {on_path})"
        );
        assert_eq!(env.head(), head);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("AGE-SECRET-KEY-1"), "{stderr}");
        env.git(&["reset", "-q"]);
        fs::remove_file(env.repo.join(format!("leak-{on_path}.txt"))).unwrap();
    }
}
