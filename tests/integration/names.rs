//! Traversal-style and malformed names are rejected with exit 2 and no change on disk.

use crate::common::*;

const BAD_PATHS: &[&str] = &[
    "../../x",
    "../x",
    "/abs",
    "/etc/passwd",
    "a//b",
    "a/../b",
    "a/./b",
    ".hidden",
    "a/.hidden",
    "a b",
    "a/",
    "",
    "a\nb",
    "a\\b",
    "caf\u{e9}",
    "\u{202e}evil",
    "x/\u{ff0e}\u{ff0e}/y",
    "a/b.enc",
    "a/b.meta",
];

fn bad_agents() -> Vec<String> {
    let mut v: Vec<String> = [
        "../../x",
        "/abs",
        "a//b",
        "a/../b",
        ".hidden",
        "a b",
        "Bot",
        "UPPER",
        "a\nb",
        "-dash",
        "",
        "caf\u{e9}",
        "a/b",
        "\u{202e}x",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push("a".repeat(65));
    v
}

#[test]
fn malformed_names_exit_2_and_change_nothing() {
    let env = Env::with_vault();
    env.av(&["add-agent", "bot"]).ok();
    env.set("stripe/api-key", b"sk_names");
    env.av(&["grant", "bot", "stripe"]).ok();
    // a victim file the traversal would hit
    std::fs::write(env.root().join("x"), "victim").unwrap();
    let (repo_before, home_before) = env.snapshot_all();
    let root_before = snapshot(env.root());

    let mut cases: Vec<Vec<String>> = Vec::new();
    for p in BAD_PATHS {
        for cmd in [&["set"][..], &["get"], &["rm"]] {
            let mut args: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
            args.push(p.to_string());
            if cmd[0] == "set" {
                args.push("sk_should_not_be_stored".into());
            }
            if cmd[0] == "get" {
                args.push("--offline".into());
            }
            cases.push(args);
        }
    }
    for a in bad_agents() {
        cases.push(vec!["add-agent".into(), a.clone()]);
        cases.push(vec!["grant".into(), a.clone(), "stripe".into()]);
        cases.push(vec!["revoke".into(), a.clone(), "stripe".into()]);
        cases.push(vec!["remove-agent".into(), a.clone()]);
        // as a group name too
        cases.push(vec!["grant".into(), "bot".into(), a.clone()]);
        cases.push(vec!["revoke".into(), "bot".into(), a.clone()]);
        cases.push(vec![
            "get".into(),
            "stripe/api-key".into(),
            "--agent".into(),
            a.clone(),
            "--offline".into(),
        ]);
    }
    // a 65-byte group, a too-long path and a too-long segment
    cases.push(vec![
        "set".into(),
        format!("{}/x", "g".repeat(65)),
        "v".into(),
    ]);
    cases.push(vec!["set".into(), "s".repeat(101), "v".into()]);
    cases.push(vec![
        "set".into(),
        vec!["abcdefghij"; 21].join("/"),
        "v".into(),
    ]);
    cases.push(vec![
        "set".into(),
        "ok/path".into(),
        "v".into(),
        "--group".into(),
        "Bad".into(),
    ]);
    cases.push(vec![
        "set".into(),
        "ok/path".into(),
        "v".into(),
        "--agents".into(),
        "../x".into(),
    ]);

    for args in &cases {
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = env.av(&argv).code(2).no_leak("sk_names");
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
    let (repo_after, home_after) = env.snapshot_all();
    assert_same_tree(&repo_before, &repo_after, "repo");
    assert_same_tree(&home_before, &home_after, "AGENT_VAULT_HOME");
    assert_same_tree(&root_before, &snapshot(env.root()), "test root");
    assert_eq!(
        std::fs::read_to_string(env.root().join("x")).unwrap(),
        "victim"
    );
}

#[test]
fn valid_edge_names_work() {
    let env = Env::with_vault();
    let max_agent = "a".repeat(64);
    env.av(&["add-agent", &max_agent]).ok();
    // uppercase is fine in secret paths, but then the first segment is no group name
    env.av(&["set", "A_b.c-d/E.f_G-1", "v1"])
        .code(2)
        .stderr_has("--group");
    env.av(&["set", "A_b.c-d/E.f_G-1", "v1", "--group", "misc"])
        .ok();
    env.av(&["set", "Dotted.Name", "v2"]).ok();
    assert_eq!(env.get("A_b.c-d/E.f_G-1"), b"v1");
    assert_eq!(env.get("Dotted.Name"), b"v2");
}
