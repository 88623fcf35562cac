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
    let env = Env::with_vault();
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
}
