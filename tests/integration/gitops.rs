//! Git as the database: one commit per command, authored as the git identity, with the
//! documented message; staged unrelated files untouched; concurrency; crash safety.

use std::process::Stdio;
use std::time::Duration;

use crate::common::*;

#[test]
fn commits_are_one_per_command_scoped_and_authored() {
    let env = Env::with_vault();
    assert_eq!(env.commit_count(), 1);
    assert_eq!(
        env.git(&[
            "log",
            "-1",
            "--format=%(trailers:key=Agent-Vault-Operation,valueonly)"
        ])
        .trim(),
        "init"
    );
    // an unrelated file staged by the user
    std::fs::write(env.repo.join("README.md"), "hello\n").unwrap();
    std::fs::write(env.repo.join("notes.txt"), "unstaged\n").unwrap();
    env.git(&["add", "README.md"]);

    let steps: &[(&[&str], &str)] = &[
        (&["add-agent", "bot"], "add-agent"),
        (&["set", "stripe/api-key", "v1"], "set"),
        (&["set", "stripe/api-key", "v2"], "set"),
        (&["grant", "bot", "stripe"], "grant"),
        (&["revoke", "bot", "stripe"], "revoke"),
        (&["recover-agent", "bot"], "recover-agent"),
        (&["rm", "stripe/api-key"], "rm"),
        (&["remove-agent", "bot"], "remove-agent"),
    ];
    for (i, (args, op)) in steps.iter().enumerate() {
        if *op == "recover-agent" {
            // the lost key: recovery never overwrites a key file
            std::fs::remove_file(env.agent_key("bot")).unwrap();
        }
        env.av(args).ok();
        assert_eq!(
            env.commit_count(),
            2 + i,
            "`{}` made not exactly one commit",
            args.join(" ")
        );
        let stat = env.git(&["show", "--stat", "--format=", "HEAD"]);
        assert!(
            !stat.contains("README.md") && !stat.contains("notes.txt"),
            "{stat}"
        );
        let files = env.git(&["show", "--name-only", "--format=", "HEAD"]);
        for f in files.lines() {
            assert!(f.starts_with(".agent-vault/"), "commit touched {f}");
        }
        assert_eq!(env.git(&["diff", "--cached", "--name-only"]), "README.md");
        assert_eq!(
            env.git(&["log", "-1", "--format=%an <%ae>|%cn <%ce>"]),
            format!("{AUTHOR_NAME} <{AUTHOR_EMAIL}>|{AUTHOR_NAME} <{AUTHOR_EMAIL}>")
        );
        let subject = env.git(&["log", "-1", "--format=%s"]);
        assert!(subject.starts_with("agent-vault: "), "{subject}");
        let body = env.git(&["log", "-1", "--format=%B"]);
        let lines: Vec<&str> = body.lines().collect();
        assert_eq!(lines[0], subject);
        assert_eq!(lines[1], "", "the subject is one line: {body}");
        assert!(
            lines[2..].iter().all(|l| l.starts_with("Agent-Vault-")),
            "body is not only trailers: {body}"
        );
        let trailers = env.git(&[
            "log",
            "-1",
            "--format=%(trailers:key=Agent-Vault-Operation,valueonly)",
        ]);
        assert_eq!(trailers.trim(), *op);
    }
    // the user's staged file and unstaged file are untouched
    assert_eq!(
        std::fs::read_to_string(env.repo.join("README.md")).unwrap(),
        "hello\n"
    );
    let status = env.git(&["status", "--porcelain"]);
    assert_eq!(status, "A  README.md\n?? notes.txt");
}

#[test]
fn no_op_grant_and_revoke_make_no_commit() {
    let env = Env::with_vault();
    env.av(&["add-agent", "bot"]).ok();
    env.av(&["set", "stripe/api-key", "v"]).ok();
    env.av(&["grant", "bot", "stripe"]).ok();
    let head = env.head();
    env.av(&["grant", "bot", "stripe"]).ok();
    assert_eq!(env.head(), head, "a repeated grant made a commit");
    env.av(&["revoke", "bot", "stripe"]).ok();
    let head = env.head();
    env.av(&["revoke", "bot", "stripe"]).ok();
    assert_eq!(env.head(), head, "a repeated revoke made a commit");
    env.av(&["revoke", "bot", "nothing-here"]).ok();
    assert_eq!(env.head(), head);
    assert_eq!(env.git(&["status", "--porcelain"]), "");
}

#[test]
fn twenty_concurrent_sets_all_land() {
    let env = Env::with_vault();
    let before = env.commit_count();
    let children: Vec<_> = (0..20)
        .map(|i| {
            let mut cmd = env.av_cmd(
                &env.repo,
                &["set", &format!("conc/s{i:02}"), "--from-file", "-"],
            );
            cmd.env("AGENT_VAULT_LOCK_TIMEOUT", "120")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            let mut child = cmd.spawn().unwrap();
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(format!("value-{i}").as_bytes())
                .unwrap();
            child
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "set #{i} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(env.commit_count(), before + 20);
    let list = env.av(&["list", "--json", "--offline"]).ok().json();
    assert_eq!(list.as_array().unwrap().len(), 20);
    for i in 0..20 {
        assert_eq!(
            env.get(&format!("conc/s{i:02}")),
            format!("value-{i}").as_bytes()
        );
    }
    assert_eq!(env.git(&["status", "--porcelain"]), "");
    env.av(&["check"]).ok();
}

/// Where a SIGKILL landed in a writer's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before the branch moved (re-encrypting, writing objects): nothing happened.
    BeforeCommit,
    /// After the branch moved, while the working tree was being updated (the pending marker
    /// is still there): the next writer completes the update.
    MidUpdate,
}

/// Runs `grant bot big` and SIGKILLs it in `phase`; returns whether the kill landed there.
fn kill_grant_in(env: &Env, phase: Phase) -> bool {
    let head_before = env.head();
    let pending = env.repo.join(".git/agent-vault.pending");
    let branch = env.repo.join(".git/refs/heads/main");
    let moved = || std::fs::read_to_string(&branch).is_ok_and(|text| text.trim() != head_before);
    let mut child = env
        .av_cmd(&env.repo, &["grant", "bot", "big"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    loop {
        let ready = match phase {
            // Well into the re-encryption of 300 secrets, long before the commit.
            Phase::BeforeCommit => started.elapsed() > Duration::from_millis(150),
            // The branch has moved and the working tree is being updated.
            Phase::MidUpdate => pending.exists() && moved(),
        };
        if ready || child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::yield_now();
    }
    let _ = child.kill(); // SIGKILL
    let status = child.wait().unwrap();
    let killed = status.code().is_none();

    killed
        && match phase {
            Phase::BeforeCommit => env.head() == head_before && !pending.exists(),
            Phase::MidUpdate => env.head() != head_before && pending.exists(),
        }
}

#[test]
fn kill_9_during_a_large_grant_loses_nothing() {
    let env = Env::with_vault();
    env.av(&["add-agent", "bot"]).ok();
    // 300 secrets in group `big`, each through the real write path
    let n = 300;
    for i in 0..n {
        env.set(&format!("big/s{i:03}"), format!("value-{i}").as_bytes());
    }
    for phase in [Phase::BeforeCommit, Phase::MidUpdate] {
        // The kill must land in the phase under test; a writer too fast for it is retried.
        let landed = (0..20).any(|_| {
            let landed = kill_grant_in(&env, phase);
            if !landed {
                env.av(&["revoke", "bot", "big"]).ok();
            }
            landed
        });
        assert!(landed, "no SIGKILL landed in {phase:?} in 20 attempts");
        // every secret still decrypts with the owner key
        for i in (0..n).step_by(37) {
            assert_eq!(
                env.get(&format!("big/s{i:03}")),
                format!("value-{i}").as_bytes(),
                "{phase:?}: secret {i} lost"
            );
        }
        // re-running completes and the vault is consistent
        env.av(&["grant", "bot", "big"]).ok();
        env.av(&["check"]).ok();
        assert_eq!(
            env.av(&["get", "big/s299", "--agent", "bot", "--offline"])
                .ok()
                .stdout,
            b"value-299"
        );
        assert_eq!(
            env.git(&["status", "--porcelain"]),
            "",
            "{phase:?}: dirty tree"
        );
        env.av(&["revoke", "bot", "big"]).ok();
    }
    // all of them, with the stock age CLI and the owner key
    for i in 0..n {
        let enc = env.vault_dir().join(format!("secrets/big/s{i:03}.enc"));
        let out = env
            .age(
                &[
                    "-d",
                    "-i",
                    env.owner_key().to_str().unwrap(),
                    enc.to_str().unwrap(),
                ],
                b"",
            )
            .ok();
        assert_eq!(out.stdout, format!("value-{i}").as_bytes());
    }
}

#[test]
fn the_next_writer_completes_an_interrupted_working_tree_update() {
    // The state a writer killed after moving the branch leaves (docs/format.md, Writers):
    // `<git dir>/agent-vault.pending` = "<old> <new>", the working tree and index still at
    // <old> for the changed paths, and a half-written temporary file.
    let env = Env::with_vault();
    env.set("app/one", b"1");
    let old = env.head();
    env.set("app/two", b"2");
    let new = env.head();
    let v = env.vault_dir();
    let enc = v.join("secrets/app/two.enc");
    let committed = std::fs::read(&enc).unwrap();
    std::fs::remove_file(&enc).unwrap();
    std::fs::remove_file(v.join("secrets/app/two.meta")).unwrap();
    env.git(&[
        "rm",
        "-q",
        "--cached",
        ".agent-vault/secrets/app/two.enc",
        ".agent-vault/secrets/app/two.meta",
    ]);
    std::fs::write(v.join("secrets/app/.agent-vault-tmpAbC123"), b"partial").unwrap();
    std::fs::write(
        env.repo.join(".git/agent-vault.pending"),
        format!("{old} {new}\n"),
    )
    .unwrap();

    env.set("app/three", b"3");
    assert_eq!(std::fs::read(&enc).unwrap(), committed);
    assert!(!v.join("secrets/app/.agent-vault-tmpAbC123").exists());
    assert!(!env.repo.join(".git/agent-vault.pending").exists());
    assert_eq!(env.git(&["status", "--porcelain"]), "");
    assert_eq!(env.get("app/two"), b"2");
    env.av(&["check"]).ok();
}

#[test]
fn readers_read_what_git_holds_whatever_the_working_tree_holds() {
    // A writer has moved the branch and is still updating the working tree (or someone edits
    // files without committing): the working tree mixes states. Readers read HEAD's objects,
    // which are consistent and signed, with or without a writer at work.
    let env = Env::with_vault();
    env.set("app/one", b"first value");
    let old = env.head();
    env.set("app/one", b"rotated value");
    for file in ["secrets/app/one.enc", "secrets/app/one.meta"] {
        let bytes = env.git_bytes(&["show", &format!("{old}:.agent-vault/{file}")], None);
        std::fs::write(env.vault_dir().join(file), bytes).unwrap();
    }
    let check = |env: &Env| {
        env.av(&["verify", "--offline"])
            .ok()
            .stderr_has("uncommitted changes");
        let list = env.av(&["list", "--offline", "--json"]).ok().json();
        assert_eq!(list.as_array().unwrap().len(), 1);
        env.av(&["list-agents", "--offline"]).ok();
        assert_eq!(env.get("app/one"), b"rotated value");
    };
    check(&env);
    // The writer holds the vault lock (this test process plays it): nothing changes.
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(env.repo.join(".git/agent-vault.lock"))
        .unwrap();
    lock.lock().unwrap();
    check(&env);
    drop(lock);
    // An owner command refuses the dirty working tree rather than commit over it.
    env.av_stdin(&["set", "app/two", "--from-file", "-"], b"2")
        .code(6)
        .stderr_has("uncommitted changes");
}

#[test]
fn readers_name_the_git_operation_in_progress() {
    let env = Env::with_vault();
    env.set("app/token", b"v");
    let head = env.git(&["rev-parse", "HEAD"]);
    let git_dir = env.repo.join(".git");
    let clean = env.av(&["get", "app/token", "--offline"]).ok();
    assert!(!clean.stderr.contains("in progress"), "{}", clean.stderr);
    for (marker, operation) in [
        ("MERGE_HEAD", "merge"),
        ("REVERT_HEAD", "revert"),
        ("CHERRY_PICK_HEAD", "cherry-pick"),
        ("rebase-merge", "rebase"),
        ("BISECT_LOG", "git operation"),
    ] {
        let path = git_dir.join(marker);
        if marker == "rebase-merge" {
            std::fs::create_dir(&path).unwrap();
        } else {
            std::fs::write(&path, format!("{head}\n")).unwrap();
        }
        let run = env.av(&["get", "app/token", "--offline"]).ok();
        assert_eq!(run.stdout, b"v");
        run.stderr_has(&format!("a {operation} is in progress in this clone"));
        if marker == "rebase-merge" {
            std::fs::remove_dir(&path).unwrap();
        } else {
            std::fs::remove_file(&path).unwrap();
        }
    }
}
