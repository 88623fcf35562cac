//! Machine-readable output: every `--json` document says its schema, and scripts written for
//! agent-vault 0.1.0 (`jq '.[].name'`, `jq '.warnings[]'`) run unchanged, through the real
//! `jq`.

use crate::common::*;

/// Runs `agent-vault ARGS | jq -r FILTER` in the default repo; returns jq's output lines.
fn jq(env: &Env, args: &str, filter: &str) -> Vec<String> {
    let bin = assert_cmd::cargo::cargo_bin("agent-vault");
    let script = format!(
        "set -o pipefail; '{}' {args} | jq -r '{filter}'",
        bin.display()
    );
    let out = env
        .cmd_in(&env.repo, "bash", &["-c", &script])
        .output()
        .unwrap();
    if !out.status.success() {
        let what = format!("{args} | jq {filter}");
        skip_unless_jq(&what, &out);
    }
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[track_caller]
fn skip_unless_jq(what: &str, out: &std::process::Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("jq: command not found") || stderr.contains("jq: not found"),
        "`{what}` failed: {stderr}"
    );
    skip("jq is not installed (apt: jq)");
}

#[test]
fn scripts_written_for_0_1_0_keep_working() {
    let env = Env::with_vault();
    env.av(&["add-agent", "bot1"]).ok();
    env.set("stripe/api-key", b"v1");
    env.set("token", b"v2");
    let names = jq(&env, "list --json --offline", ".[].name");
    if names.is_empty() {
        return; // skipped: no jq
    }
    assert_eq!(names, ["stripe/api-key", "token"]);
    // check: an agent with no access is a warning; errors is an empty list.
    let warnings = jq(&env, "check --json", ".warnings[]");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("bot1") && w.contains("cannot read any secret")),
        "{warnings:?}"
    );
    assert!(jq(&env, "check --json", ".errors[]").is_empty());
    assert_eq!(jq(&env, "list-agents --json", ".[].name"), ["bot1"]);
}

#[test]
fn every_json_document_names_its_schema() {
    let env = Env::new();
    let init = env.av(&["init", "--json"]).ok().json();
    assert_eq!(init["schema"], "agent-vault/init@1", "{init}");
    assert!(init["vault_id"].is_string(), "a fresh init: {init}");
    let again = env.av(&["init", "--json"]).ok().json();
    assert_eq!(again["schema"], "agent-vault/init@1", "{again}");
    assert_eq!(again["already"], true, "{again}");
    env.av(&["add-agent", "bot"]).ok();
    env.set("app/token", b"v");
    for (args, expected) in [
        (&["check", "--json"][..], "agent-vault/check@1"),
        (
            &["verify", "--offline", "--json"][..],
            "agent-vault/verify@1",
        ),
        (&["scan", "--json", "."][..], "agent-vault/scan@1"),
        (
            &["hook", "status", "--json"][..],
            "agent-vault/hook-status@1",
        ),
        (
            &["policy", "app/token", "--json", "--offline"][..],
            "agent-vault/policy@1",
        ),
    ] {
        let json = env.av(args).json();
        assert_eq!(json["schema"], expected, "{args:?}: {json}");
    }
    let list = env.av(&["list", "--json", "--offline"]).ok().json();
    assert_eq!(list[0]["schema"], "agent-vault/secret@1");
    assert_eq!(list[0]["name"], list[0]["path"]);
    let agents = env.av(&["list-agents", "--json"]).ok().json();
    assert_eq!(agents[0]["schema"], "agent-vault/agent@1");
    let added = env.av(&["add-agent", "ci", "--json"]).ok().json();
    assert_eq!(added["schema"], "agent-vault/add-agent@1");
    let log = env.av(&["log", "--json"]).ok().json();
    let entries = log.as_array().unwrap();
    assert_eq!(entries.len(), env.commit_count(), "{log}");
    assert!(
        entries
            .iter()
            .all(|e| e["schema"] == "agent-vault/log-entry@1"),
        "{log}"
    );
    let one = env.av(&["log", "app/token", "--json"]).ok().json();
    assert_eq!(one[0]["schema"], "agent-vault/log-entry@1", "{one}");

    // audit --json prints JSON lines, each with its schema. A request for a secret without a
    // use policy is refused before anything is sent, and logged.
    env.av(&["request", "app/token", "https://api.example.com/x"])
        .code(4);
    env.av(&["request", "app/token", "https://api.example.com/y"])
        .code(4);
    let audit = env.av(&["audit", "--json"]).ok().out();
    let lines: Vec<serde_json::Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 2, "{audit}");
    for line in &lines {
        assert_eq!(line["schema"], "agent-vault/audit-entry@1", "{line}");
        assert_eq!(line["reason"], "no-policy", "{line}");
    }
}
