//! Key discovery order, missing named keys, key file modes, age-keygen files, and that
//! errors never print key material or secret values.

use std::fs;

use crate::common::*;

const VALUE: &str = "sk_discovery_value_42";

fn setup() -> (Env, String) {
    let env = Env::with_vault();
    env.av(&["add-agent", "bot"]).ok();
    env.av(&["add-agent", "other"]).ok();
    env.set("stripe/api-key", VALUE.as_bytes());
    env.av(&["grant", "bot", "stripe"]).ok();
    let bot_secret = secret_key_lines(&env.agent_key("bot")).remove(0);
    (env, bot_secret)
}

#[test]
fn discovery_order_and_sources() {
    let (env, bot_secret) = setup();
    let bot = env.agent_key("bot");
    let other = env.agent_key("other");
    let get = |args: &[&str], vars: &[(&str, &str)]| {
        let mut a = vec!["get", "stripe/api-key", "--offline"];
        a.extend_from_slice(args);
        env.av_env(&a, vars)
    };
    // owner fallback
    assert_eq!(get(&[], &[]).ok().stdout, VALUE.as_bytes());
    // --key
    assert_eq!(
        get(&["--key", bot.to_str().unwrap()], &[]).ok().stdout,
        VALUE.as_bytes()
    );
    // --agent
    assert_eq!(get(&["--agent", "bot"], &[]).ok().stdout, VALUE.as_bytes());
    get(&["--agent", "other"], &[]).code(4).no_leak(VALUE);
    // AGENT_VAULT_KEY as a path and as raw key text (with leading whitespace)
    assert_eq!(
        get(&[], &[("AGENT_VAULT_KEY", bot.to_str().unwrap())])
            .ok()
            .stdout,
        VALUE.as_bytes()
    );
    let raw = format!("  \n{bot_secret}\n");
    assert_eq!(
        get(&[], &[("AGENT_VAULT_KEY", &raw)]).ok().stdout,
        VALUE.as_bytes()
    );
    // AGENT_VAULT_KEY beats the owner key: `other` is denied although the owner could read
    get(&[], &[("AGENT_VAULT_KEY", other.to_str().unwrap())])
        .code(4)
        .no_leak(VALUE);
    // --key and --agent beat AGENT_VAULT_KEY
    assert_eq!(
        get(
            &["--agent", "bot"],
            &[("AGENT_VAULT_KEY", other.to_str().unwrap())]
        )
        .ok()
        .stdout,
        VALUE.as_bytes()
    );
    assert_eq!(
        get(
            &["--key", bot.to_str().unwrap()],
            &[("AGENT_VAULT_KEY", other.to_str().unwrap())]
        )
        .ok()
        .stdout,
        VALUE.as_bytes()
    );
}

#[test]
fn a_named_missing_key_is_exit_3_and_never_falls_back() {
    let (env, bot_secret) = setup();
    let missing = env.root().join("missing.key");
    let m = missing.to_str().unwrap();
    for (args, vars) in [
        (vec!["--key", m], vec![]),
        (vec!["--agent", "ghost"], vec![]),
        (vec![], vec![("AGENT_VAULT_KEY", m)]),
        // an explicit key wins even when AGENT_VAULT_KEY would work
        (
            vec!["--key", m],
            vec![("AGENT_VAULT_KEY", bot_secret.as_str())],
        ),
    ] {
        let mut a = vec!["get", "stripe/api-key", "--offline"];
        a.extend_from_slice(&args);
        env.av_env(&a, &vars)
            .code(3)
            .stderr_has("not found")
            .no_leak(VALUE)
            .no_leak(&bot_secret);
    }
    // no key at all
    fs::remove_file(env.owner_key()).unwrap();
    env.av(&["get", "stripe/api-key", "--offline"])
        .code(3)
        .no_leak(VALUE);
}

#[test]
fn key_files_are_0600_in_0700_folders() {
    let (env, _) = setup();
    assert_eq!(mode(&env.av_home), 0o700);
    assert_eq!(mode(&env.av_home.join("agents")), 0o700);
    assert_eq!(mode(&env.owner_key()), 0o600);
    assert_eq!(mode(&env.agent_key("bot")), 0o600);
    let r = env.root().join("restored.key");
    env.av(&["restore-agent", "bot", "--to", r.to_str().unwrap()])
        .ok();
    assert_eq!(mode(&r), 0o600);
}

#[test]
fn an_age_keygen_file_with_comments_and_several_keys_works() {
    let (env, bot_secret) = setup();
    let k1 = env.root().join("k1.key");
    env.age_keygen(&k1);
    let multi = env.root().join("multi.key");
    fs::write(
        &multi,
        format!(
            "# created by hand\n\n{}\n# the real one:\n{bot_secret}\n\n",
            fs::read_to_string(&k1).unwrap().trim()
        ),
    )
    .unwrap();
    let run = env
        .av(&[
            "get",
            "stripe/api-key",
            "--offline",
            "--key",
            multi.to_str().unwrap(),
        ])
        .ok();
    assert_eq!(run.stdout, VALUE.as_bytes());
    // the whole file as AGENT_VAULT_KEY text, comments first (`AGENT_VAULT_KEY="$(cat f)"`)
    let text = fs::read_to_string(&multi).unwrap();
    let run = env
        .av_env(
            &["get", "stripe/api-key", "--offline"],
            &[("AGENT_VAULT_KEY", &text)],
        )
        .ok();
    assert_eq!(run.stdout, VALUE.as_bytes());
    // agent-vault's own key file (it starts with comments) the same way, as `get --help` shows
    let text = fs::read_to_string(env.agent_key("bot")).unwrap();
    assert!(text.starts_with('#'));
    let run = env
        .av_env(
            &["get", "stripe/api-key", "--offline"],
            &[("AGENT_VAULT_KEY", &text)],
        )
        .ok();
    assert_eq!(run.stdout, VALUE.as_bytes());
}

#[test]
fn errors_never_print_key_material_or_values() {
    let (env, bot_secret) = setup();
    let owner_secret = secret_key_lines(&env.owner_key()).remove(0);
    // a corrupt key file holding a real key line next to garbage
    let bad = env.root().join("bad.key");
    fs::write(
        &bad,
        format!("{bot_secret}\nAGE-SECRET-KEY-1NOTAKEY\ngarbage\n"),
    )
    .unwrap();
    let mut runs = vec![
        env.av(&[
            "get",
            "stripe/api-key",
            "--offline",
            "--key",
            bad.to_str().unwrap(),
        ]),
        env.av_env(
            &["get", "stripe/api-key", "--offline"],
            &[("AGENT_VAULT_KEY", &format!("{bot_secret}x"))],
        ),
        env.av_env(
            &["get", "stripe/api-key", "--offline"],
            &[("AGENT_VAULT_KEY", "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQ")],
        ),
        env.av_env(
            &["get", "stripe/api-key", "--offline"],
            &[("AGENT_VAULT_KEY", &format!("# comment\n{bot_secret}Q\n"))],
        ),
        // mangled so that it is no longer key text: still never echoed as a "path"
        env.av_env(
            &["get", "stripe/api-key", "--offline"],
            &[(
                "AGENT_VAULT_KEY",
                &bot_secret.replace("AGE-SECRET-KEY-1", "AGE_SECRET_KEY_1"),
            )],
        ),
        env.av_env(
            &["get", "stripe/api-key", "--offline"],
            &[("AGENT_VAULT_KEY", "supersecret-mangled-value")],
        ),
        env.av(&["add-agent", "leaky", "--public-key", &bot_secret]),
        env.av(&["get", "stripe/api-key", "--offline", "--agent", "other"]),
        env.av(&["set", "stripe/api-key", VALUE, "--group", "Bad"]),
        env.av(&["set", "../x", VALUE]),
        env.av_stdin(&["set", "../y"], VALUE.as_bytes()),
    ];
    // a corrupt ciphertext
    let enc = env.vault_dir().join("secrets/stripe/api-key.enc");
    let mut bytes = fs::read(&enc).unwrap();
    let n = bytes.len();
    bytes[n - 5] ^= 0xff;
    fs::write(&enc, bytes).unwrap();
    env.git(&["commit", "-q", "-am", "corrupt"]);
    runs.push(env.av(&["get", "stripe/api-key", "--offline"]));
    runs.push(env.av(&["get", "stripe/api-key", "--offline", "--agent", "bot"]));
    for run in runs {
        assert_ne!(run.code, 0, "`{}` succeeded", run.what);
        assert!(
            !run.stderr.is_empty(),
            "`{}` gave no error message",
            run.what
        );
        let run = run
            .no_leak(VALUE)
            .no_leak(&bot_secret)
            .no_leak(&owner_secret);
        assert!(
            !run.stderr.contains("AGE-SECRET-KEY-1"),
            "{}: {}",
            run.what,
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        assert!(!run.stderr.contains("supersecret"), "{}", run.stderr);
        assert!(
            !run.stderr.contains(&bot_secret[20..]),
            "{}: {}",
            run.what,
            run.stderr
        );
    }
}

#[test]
fn a_lowercased_key_is_still_the_key() {
    let (env, bot_secret) = setup();
    let lower = bot_secret.to_ascii_lowercase();
    let run = env
        .av_env(
            &["get", "stripe/api-key", "--offline"],
            &[("AGENT_VAULT_KEY", &lower)],
        )
        .ok();
    assert_eq!(run.stdout, VALUE.as_bytes());
}
