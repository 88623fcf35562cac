//! Reading the newest state: `get` fetches an upstream that is ahead and reads it from git
//! objects without touching the working tree, index or branch.

use crate::common::*;

struct Clones {
    env: Env,
    a: std::path::PathBuf,
    b: std::path::PathBuf,
}

fn two_clones() -> Clones {
    let env = Env::with_vault();
    env.set("app/token", b"old-value");
    let remote = env.root().join("remote.git");
    env.git_in(
        env.root(),
        &[
            "init",
            "-q",
            "--bare",
            "-b",
            "main",
            remote.to_str().unwrap(),
        ],
    );
    env.git(&["remote", "add", "origin", remote.to_str().unwrap()]);
    env.git(&["push", "-q", "-u", "origin", "main"]);
    let a = env.root().join("a");
    let b = env.root().join("b");
    for c in [&a, &b] {
        env.git_in(
            env.root(),
            &["clone", "-q", remote.to_str().unwrap(), c.to_str().unwrap()],
        );
    }
    Clones { env, a, b }
}

/// Clone `b` is on another machine of the owner's: its own key home, holding a copy of the
/// owner key. (Two clones on one machine share what that machine has seen: reading the one
/// that is behind would rightly be a rollback.)
fn b_home(env: &Env) -> std::path::PathBuf {
    let home = env.root().join("b-home");
    if !home.exists() {
        std::fs::create_dir_all(&home).unwrap();
        std::fs::copy(env.owner_key(), home.join("owner.key")).unwrap();
    }
    home
}

/// Runs `agent-vault ARGS` in clone `b`, as the owner's other machine, with `input` on stdin.
fn on_b(env: &Env, b: &std::path::Path, args: &[&str], input: &[u8]) -> Run {
    let mut cmd = env.av_cmd(b, args);
    cmd.env("AGENT_VAULT_HOME", b_home(env));
    run_with_stdin(cmd, input, format!("(on b) agent-vault {}", args.join(" ")))
}

/// Like [`on_b`], offline: an owner on b changing the vault before anyone fetched what a
/// pushed (how two owners' changes come to diverge).
fn on_b_offline(env: &Env, b: &std::path::Path, args: &[&str], input: &[u8]) -> Run {
    let mut cmd = env.av_cmd(b, args);
    cmd.env("AGENT_VAULT_HOME", b_home(env));
    cmd.env("AGENT_VAULT_OFFLINE", "1");
    run_with_stdin(
        cmd,
        input,
        format!("(on b, offline) agent-vault {}", args.join(" ")),
    )
}

fn state(env: &Env, dir: &std::path::Path) -> (String, String, Vec<u8>, Tree) {
    (
        env.git_in(dir, &["status", "--porcelain"]),
        env.git_in(dir, &["rev-parse", "HEAD"]),
        std::fs::read(dir.join(".git/index")).unwrap(),
        snapshot(&dir.join(".agent-vault")),
    )
}

#[test]
fn get_reads_an_upstream_that_is_ahead_without_changing_anything() {
    let Clones { env, a, b } = two_clones();
    env.av_stdin_in(&a, &["set", "app/token", "--from-file", "-"], b"new-value")
        .ok();
    env.av_stdin_in(
        &a,
        &["set", "app/added", "--from-file", "-"],
        b"added-value",
    )
    .ok();
    env.git_in(&a, &["push", "-q"]);

    let before = state(&env, &b);
    let got = on_b(&env, &b, &["get", "app/token"], b"").ok();
    assert_eq!(got.stdout, b"new-value");
    assert_eq!(
        on_b(&env, &b, &["get", "app/added"], b"").ok().stdout,
        b"added-value"
    );
    let list = on_b(&env, &b, &["list", "--json"], b"").ok().json();
    assert_eq!(list.as_array().unwrap().len(), 2);
    let after = state(&env, &b);
    assert_eq!(before.0, after.0, "git status changed");
    assert_eq!(before.1, after.1, "HEAD moved");
    assert!(before.2 == after.2, "the index changed");
    assert_same_tree(&before.3, &after.3, "working tree of .agent-vault");
}

#[test]
fn offline_reads_the_local_state() {
    let Clones { env, a, b } = two_clones();
    env.av_stdin_in(&a, &["set", "app/token", "--from-file", "-"], b"new-value")
        .ok();
    env.git_in(&a, &["push", "-q"]);
    assert_eq!(
        on_b(&env, &b, &["get", "app/token", "--offline"], b"")
            .ok()
            .stdout,
        b"old-value"
    );
    let mut cmd = env.av_cmd(&b, &["get", "app/token"]);
    cmd.env("AGENT_VAULT_OFFLINE", "1");
    cmd.env("AGENT_VAULT_HOME", b_home(&env));
    let out = cmd.output().unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, b"old-value");
    // nothing was fetched either
    let tracking = env.git_in(&b, &["rev-parse", "origin/main"]);
    assert_eq!(tracking, env.git_in(&b, &["rev-parse", "HEAD"]));
}

#[test]
fn unreachable_remote_falls_back_to_local_state_with_a_warning() {
    let Clones { env, b, .. } = two_clones();
    env.git_in(
        &b,
        &["remote", "set-url", "origin", "/nonexistent/remote.git"],
    );
    let run = on_b(&env, &b, &["get", "app/token"], b"").ok();
    assert_eq!(run.stdout, b"old-value");
    let run = run.stderr_has("warning");
    assert!(!run.stderr.contains("old-value"));
}

#[test]
fn diverged_branches_fall_back_with_a_warning() {
    let Clones { env, a, b } = two_clones();
    env.av_stdin_in(
        &a,
        &["set", "app/token", "--from-file", "-"],
        b"remote-value",
    )
    .ok();
    env.git_in(&a, &["push", "-q"]);
    on_b_offline(
        &env,
        &b,
        &["set", "app/token", "--from-file", "-"],
        b"local-value",
    )
    .ok();
    let run = on_b(&env, &b, &["get", "app/token"], b"")
        .ok()
        .stderr_has("warning");
    assert_eq!(run.stdout, b"local-value");
}

#[test]
fn after_a_fetch_offline_and_failed_fetches_read_the_state_fetched_last() {
    // Reading the newer upstream state pins its higher sequence; falling back to the older
    // local branch afterwards would look like a rollback. Offline, or when the next fetch
    // fails, readers use the upstream as last fetched.
    let Clones { env, a, b } = two_clones();
    env.av_stdin_in(&a, &["set", "app/token", "--from-file", "-"], b"new-value")
        .ok();
    env.git_in(&a, &["push", "-q"]);
    assert_eq!(
        on_b(&env, &b, &["get", "app/token"], b"").ok().stdout,
        b"new-value"
    );

    let offline = on_b(&env, &b, &["get", "app/token", "--offline"], b"").ok();
    assert_eq!(offline.stdout, b"new-value");
    assert!(offline.stderr.is_empty(), "{}", offline.stderr);

    env.git_in(
        &b,
        &["remote", "set-url", "origin", "/nonexistent/remote.git"],
    );
    let failed = on_b(&env, &b, &["get", "app/token"], b"")
        .ok()
        .stderr_has("fetched last");
    assert_eq!(failed.stdout, b"new-value");
    on_b(&env, &b, &["list", "--offline"], b"").ok();
    on_b(&env, &b, &["verify", "--offline"], b"").ok();
}

#[test]
fn a_merge_of_two_owners_changes_is_explained_and_re_signed() {
    let Clones { env, a, b } = two_clones();
    env.av_stdin_in(&a, &["set", "app/from-a", "--from-file", "-"], b"value a")
        .ok();
    env.git_in(&a, &["push", "-q"]);
    on_b_offline(
        &env,
        &b,
        &["set", "app/from-b", "--from-file", "-"],
        b"value b",
    )
    .ok();
    let pull = env
        .cmd_in(&b, "git", &["pull", "-q", "--no-rebase", "--no-edit"])
        .output()
        .unwrap();
    assert!(!pull.status.success(), "the statements should conflict");

    // Mid-merge, readers read HEAD (a consistent, signed state) and say a merge is going on.
    on_b(&env, &b, &["verify", "--offline"], b"")
        .ok()
        .stderr_has("a merge is in progress")
        .stderr_has("agent-vault sign");
    // The owner finishes the merge, reviews, and re-signs.
    env.git_in(&b, &["checkout", "--theirs", ".agent-vault"]);
    env.git_in(&b, &["add", "-A", ".agent-vault"]);
    env.git_in(&b, &["commit", "-q", "--no-verify", "--no-edit"]);
    let review = on_b(&env, &b, &["verify", "--offline"], b"").code(5);
    let listed = String::from_utf8_lossy(&review.stdout);
    assert!(listed.contains("app/from-b"), "{listed}");
    on_b(&env, &b, &["sign"], b"").ok();
    on_b(&env, &b, &["verify", "--offline"], b"").ok();
    assert_eq!(
        on_b(&env, &b, &["get", "app/from-a", "--offline"], b"")
            .ok()
            .stdout,
        b"value a"
    );
    assert_eq!(
        on_b(&env, &b, &["get", "app/from-b", "--offline"], b"")
            .ok()
            .stdout,
        b"value b"
    );
}

#[test]
fn owner_commands_refuse_a_branch_behind_its_upstreams_vault() {
    let Clones { env, a, b } = two_clones();
    env.av_stdin_in(&a, &["set", "app/token", "--from-file", "-"], b"new-value")
        .ok();
    env.git_in(&a, &["push", "-q"]);

    // b has not pulled: the owner command fetches, sees the vault moved on, and refuses.
    let head = env.git_in(&b, &["rev-parse", "HEAD"]);
    for args in [
        &["set", "app/other", "--from-file", "-"][..],
        &["add-agent", "bot"][..],
        &["sign", "--new-key"][..],
    ] {
        on_b(&env, &b, args, b"value")
            .code(6)
            .stderr_has("behind origin/main")
            .stderr_has("git pull --ff-only")
            .stderr_has("nothing was changed");
    }
    assert_eq!(env.git_in(&b, &["rev-parse", "HEAD"]), head, "b committed");
    assert!(!b_home(&env).join("agents/bot.key").exists());

    // After the pull it works, on the newest state.
    env.git_in(&b, &["pull", "-q", "--ff-only"]);
    on_b(&env, &b, &["set", "app/other", "--from-file", "-"], b"v").ok();
    env.git_in(&b, &["push", "-q"]);

    // Behind only outside the vault: the change is made, with a note to pull.
    std::fs::write(a.join("README"), "project file\n").unwrap();
    env.git_in(&a, &["pull", "-q", "--ff-only"]);
    env.git_in(&a, &["add", "README"]);
    env.git_in(&a, &["commit", "-q", "--no-verify", "-m", "docs"]);
    env.git_in(&a, &["push", "-q"]);
    on_b(&env, &b, &["set", "app/third", "--from-file", "-"], b"v")
        .ok()
        .stderr_has("do not touch the vault");

    // Diverged, with vault changes on both sides: refused, with the merge advice.
    env.av_stdin_in(&a, &["set", "app/token", "--from-file", "-"], b"newer")
        .ok();
    env.git_in(&a, &["push", "-q"]);
    on_b(&env, &b, &["rm", "app/third"], b"")
        .code(6)
        .stderr_has("diverged")
        .stderr_has("agent-vault sign");
}
