//! `check` finds each kind of damage, committed by hand and signed by the owner, and exits 1
//! — or 5 when the vault is not what its owner signed, which it reports as `integrity`
//! findings (and then parses nothing of it).

use std::fs;
use std::os::unix::fs::PermissionsExt;

use crate::common::*;

fn codes(env: &Env) -> (i32, Vec<(String, String, String)>) {
    let run = env.av(&["check", "--json"]);
    let j = run.json();
    let findings = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["severity"].as_str().unwrap().to_owned(),
                f["code"].as_str().unwrap().to_owned(),
                f["subject"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    (run.code, findings)
}

#[track_caller]
fn expect(env: &Env, code: &str, subject_part: &str) {
    expect_sev(env, "error", code, subject_part)
}

/// Asserts a finding; errors fail `check`, warnings fail `check --strict`.
#[track_caller]
fn expect_sev(env: &Env, severity: &str, code: &str, subject_part: &str) {
    let (exit, findings) = codes(env);
    assert!(
        findings
            .iter()
            .any(|(sev, c, s)| sev == severity && c == code && s.contains(subject_part)),
        "check did not report {severity} {code} on {subject_part}: {findings:?}"
    );
    let args: &[&str] = if severity == "error" {
        &["check"]
    } else {
        &["check", "--strict"]
    };
    let tampered = findings.iter().any(|(_, c, _)| c == "integrity");
    let expected = match (tampered, severity) {
        (true, _) => 5,
        (false, "error") => 1,
        (false, _) => 0,
    };
    assert_eq!(exit, expected, "check --json exited {exit}: {findings:?}");
    // the text form reports it too
    let text = env.av(args).code(if tampered { 5 } else { 1 }).out();
    assert!(text.contains(code), "{text}");
}

/// Commits a hand-made damage and has the owner sign it (`--force`: `sign` itself refuses a
/// vault that `check` finds errors in): what `check` finds in a vault that verifies.
fn commit_all(env: &Env, msg: &str) {
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "--no-verify", "-m", msg]);
    env.av(&["sign", "--force"]).ok();
}

#[test]
fn check_finds_each_kind_of_damage() {
    let env = Env::with_vault();
    env.av(&["add-agent", "bot"]).ok();
    env.av(&["add-agent", "ci"]).ok();
    env.set("stripe/api-key", b"v1");
    env.set("stripe/other", b"v2");
    env.av(&["grant", "bot", "stripe"]).ok();
    env.av(&["grant", "ci", "stripe"]).ok();
    assert_eq!(codes(&env), (0, vec![]));
    let good = env.head();
    let v = env.vault_dir();
    // Going back to the good state is a revert the owner re-signs (this machine has seen the
    // later, damaged states: without a new signature that would be a rollback).
    let reset = || {
        env.git(&["reset", "-q", "--hard", &good]);
        env.git(&["clean", "-q", "-fdx", ".agent-vault"]);
        env.av(&["sign"]).ok();
        assert_eq!(codes(&env).0, 0);
    };

    // orphaned: files for a secret no group lists
    fs::copy(
        v.join("secrets/stripe/other.enc"),
        v.join("secrets/stripe/ghost.enc"),
    )
    .unwrap();
    fs::write(
        v.join("secrets/stripe/ghost.meta"),
        "name: stripe/ghost\ngroup: stripe\ncreated: 2026-01-01T00:00:00Z\nauthorized_agents: []\n",
    )
    .unwrap();
    commit_all(&env, "orphan");
    expect_sev(&env, "warning", "orphaned", "stripe/ghost");
    reset();

    // missing .enc
    fs::remove_file(v.join("secrets/stripe/other.enc")).unwrap();
    commit_all(&env, "missing enc");
    expect(&env, "missing-file", "stripe/other");
    reset();

    // manifest/meta disagreement: the meta names another group
    let meta_path = v.join("secrets/stripe/other.meta");
    let meta = fs::read_to_string(&meta_path).unwrap();
    fs::write(
        &meta_path,
        meta.replace("group: stripe", "group: elsewhere"),
    )
    .unwrap();
    commit_all(&env, "disagree");
    expect(&env, "disagreement", "stripe/other");
    reset();

    // …and an authorized_agents list that does not match the manifest
    let meta = fs::read_to_string(&meta_path).unwrap();
    fs::write(&meta_path, meta.replace("- ci\n", "")).unwrap();
    commit_all(&env, "disagree agents");
    expect(&env, "disagreement", "stripe/other");
    reset();

    // recipient drift: an agent's public key swapped by hand
    let other_pub = env.age_keygen(&env.root().join("swap.key"));
    fs::write(v.join("agents/bot/public.key"), format!("{other_pub}\n")).unwrap();
    commit_all(&env, "swap key");
    expect(&env, "recipient-drift", "stripe/api-key");
    reset();

    // unparsable files
    fs::write(&meta_path, "name: [unclosed\n").unwrap();
    commit_all(&env, "garbage meta");
    expect(&env, "unparsable", "stripe/other");
    reset();
    // A manifest nobody can parse cannot be signed (whose vault is it?): it stays a change
    // nobody signed, reported as such — and never parsed.
    fs::write(v.join("manifest.yaml"), "version: 1\nowners: {{{\n").unwrap();
    env.git(&[
        "commit",
        "-q",
        "-a",
        "--no-verify",
        "-m",
        "garbage manifest",
    ]);
    env.av(&["sign", "--force"])
        .code(1)
        .stderr_has("manifest.yaml");
    expect(&env, "integrity", ".agent-vault");
    reset();
    fs::write(v.join("agents/ci/public.key"), "not a key\n").unwrap();
    commit_all(&env, "garbage public key");
    expect(&env, "unparsable", "agents/ci/public.key");
    reset();

    // key files readable by others
    for key in [env.agent_key("bot"), env.owner_key()] {
        fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
        expect(
            &env,
            "key-permissions",
            &key.file_name().unwrap().to_string_lossy(),
        );
        fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(codes(&env).0, 0);
    }
}

#[test]
fn recover_agent_leaves_check_clean() {
    let env = Env::with_vault();
    env.av(&["add-agent", "bot"]).ok();
    env.set("stripe/api-key", b"v1");
    env.av(&["grant", "bot", "stripe"]).ok();
    let new_key = env.root().join("new.key");
    env.av(&[
        "recover-agent",
        "bot",
        "--key-out",
        new_key.to_str().unwrap(),
    ])
    .ok();
    assert_eq!(codes(&env), (0, vec![]));
    assert_eq!(
        env.av(&[
            "get",
            "stripe/api-key",
            "--key",
            new_key.to_str().unwrap(),
            "--offline"
        ])
        .ok()
        .stdout,
        b"v1"
    );
}
