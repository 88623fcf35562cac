//! Agent keys on one machine: kept per vault, found per vault, a key of another vault named
//! as such, moved aside (never deleted) by remove-agent and recover-agent; access-denied
//! hints that fit the key; warnings about key files others can read; a read that creates
//! nothing where there is no home.

use std::fs;

use crate::common::*;

/// Two vaults of one owner in `<tmp>/one` and `<tmp>/two`, each with an agent `deploy-bot`
/// granted a secret of its own.
fn two_vaults() -> (Env, std::path::PathBuf, std::path::PathBuf) {
    let env = Env::new();
    let one = env.root().join("one");
    let two = env.root().join("two");
    for (dir, secret, value) in [
        (&one, "stripe/key", "one-value"),
        (&two, "db/pw", "two-value"),
    ] {
        env.av_in(env.root(), &["init", dir.to_str().unwrap()]).ok();
        env.av_in(dir, &["add-agent", "deploy-bot"]).ok();
        env.av_stdin_in(dir, &["set", secret], value.as_bytes())
            .ok();
        let group = secret.split('/').next().unwrap();
        env.av_in(dir, &["grant", "deploy-bot", group]).ok();
    }
    (env, one, two)
}

fn vault_id(env: &Env, dir: &std::path::Path) -> String {
    env.git_in(dir, &["show", "HEAD:.agent-vault/integrity/statement"])
        .lines()
        .find_map(|l| l.strip_prefix("vault "))
        .unwrap()
        .to_owned()
}

#[test]
fn each_vault_has_its_own_agent_key_and_another_vaults_key_is_named_as_such() {
    let (env, one, two) = two_vaults();
    let (id_one, id_two) = (vault_id(&env, &one), vault_id(&env, &two));
    let key_one = env.av_home.join(format!("agents/{id_one}/deploy-bot.key"));
    let key_two = env.av_home.join(format!("agents/{id_two}/deploy-bot.key"));
    assert_eq!(mode(&key_one), 0o600);
    let text = fs::read_to_string(&key_two).unwrap();
    assert!(
        text.contains(&format!("# agent-vault vault: {id_two}")),
        "{text}"
    );
    assert!(
        text.contains("# agent-vault verify-key: ed25519:"),
        "{text}"
    );

    let get = |dir: &std::path::Path, args: &[&str]| env.av_in(dir, args);
    assert_eq!(
        get(&one, &["get", "stripe/key", "--agent", "deploy-bot"])
            .ok()
            .stdout,
        b"one-value"
    );
    assert_eq!(
        get(&two, &["get", "db/pw", "--agent", "deploy-bot"])
            .ok()
            .stdout,
        b"two-value"
    );

    // Vault one's key given to vault two: not "someone replaced the signing key".
    let wrong = get(&two, &["get", "db/pw", "--key", key_one.to_str().unwrap()]).code(4);
    let wrong = wrong.stderr_has(&format!("is a key of vault {id_one}"));
    assert!(
        !wrong.stderr.contains("replaced the signing key"),
        "{}",
        wrong.stderr
    );
    assert!(
        !wrong.stderr.contains("integrity failure"),
        "{}",
        wrong.stderr
    );
    // But a verify key the caller names (flag or variable) is the anchor: vault two not being
    // signed by it is an integrity failure, whatever the key file says.
    let verify_one = fs::read_to_string(&key_one)
        .unwrap()
        .lines()
        .find_map(|l| {
            l.strip_prefix("# agent-vault verify-key: ")
                .map(str::to_owned)
        })
        .unwrap();
    let key_one_arg = key_one.to_str().unwrap();
    for named in [
        env.av_in(
            &two,
            &[
                "get",
                "db/pw",
                "--key",
                key_one_arg,
                "--verify-key",
                &verify_one,
            ],
        ),
        {
            let mut cmd = env.av_cmd(&two, &["get", "db/pw", "--key", key_one_arg]);
            cmd.env("AGENT_VAULT_VERIFY_KEY", &verify_one);
            Run::from(
                cmd.output().unwrap(),
                "get with AGENT_VAULT_VERIFY_KEY".into(),
            )
        },
    ] {
        let named = named.code(5).stderr_has("integrity failure");
        assert!(
            !named.stderr.contains("is a key of vault"),
            "{}",
            named.stderr
        );
    }

    // A key in the 0.2 place is still read for its own vault ...
    let legacy = env.av_home.join("agents/deploy-bot.key");
    fs::rename(&key_one, &legacy).unwrap();
    assert_eq!(
        get(&one, &["get", "stripe/key", "--agent", "deploy-bot"])
            .ok()
            .stdout,
        b"one-value"
    );
    // ... and named as another vault's key when it is not this vault's.
    fs::rename(&key_two, env.root().join("two-bot.key")).unwrap();
    get(&two, &["get", "db/pw", "--agent", "deploy-bot"])
        .code(4)
        .stderr_has(&format!("is a key of vault {id_one}"))
        .stderr_has(&format!("agents/{id_two}/"));
    // With no key of the agent at all: where it belongs, and how to get it.
    fs::rename(&legacy, env.root().join("one-bot.key")).unwrap();
    get(&two, &["get", "db/pw", "--agent", "deploy-bot"])
        .code(3)
        .stderr_has(&format!("agents/{id_two}/deploy-bot.key"))
        .stderr_has("restore-agent deploy-bot");
    // restore-agent puts this vault's key where --agent looks for it.
    let expected = env.av_home.join(format!("agents/{id_two}/deploy-bot.key"));
    get(
        &two,
        &[
            "restore-agent",
            "deploy-bot",
            "--to",
            expected.to_str().unwrap(),
        ],
    )
    .ok();
    assert_eq!(
        get(&two, &["get", "db/pw", "--agent", "deploy-bot"])
            .ok()
            .stdout,
        b"two-value"
    );
}

#[test]
fn remove_agent_moves_its_key_aside_and_the_name_can_be_added_again() {
    let env = Env::with_vault();
    env.av(&["add-agent", "bot"]).ok();
    let key = env.agent_key("bot");
    let before = fs::read(&key).unwrap();
    let run = env
        .av(&["remove-agent", "bot"])
        .ok()
        .stderr_has("moved the key file of 'bot'");
    assert!(!key.exists());
    let aside: Vec<_> = fs::read_dir(key.parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains("bot.key.removed-"))
        .collect();
    assert_eq!(aside.len(), 1, "{}", run.stderr);
    assert_eq!(
        fs::read(&aside[0]).unwrap(),
        before,
        "the key is kept, unchanged"
    );
    assert!(
        run.stderr.contains(&format!("rm {}", aside[0].display())),
        "{}",
        run.stderr
    );
    env.av(&["add-agent", "bot"]).ok();
    assert!(key.is_file());

    // recover-agent replaces the key at the same place, keeping the old one aside.
    let old = fs::read(&key).unwrap();
    env.av(&["recover-agent", "bot"])
        .ok()
        .stderr_has("moved the key file of 'bot'");
    assert_ne!(fs::read(&key).unwrap(), old);
    env.av(&["check"]).ok();
}

#[test]
fn access_denied_names_the_group_and_only_suggests_grant_to_an_agent_of_this_vault() {
    let env = Env::with_vault();
    env.set("stripe/api-key", b"v");
    env.av(&["add-agent", "web-bot"]).ok();
    let key = env.agent_key("web-bot");
    env.av(&["get", "stripe/api-key", "--agent", "web-bot"])
        .code(4)
        .stderr_has("(group 'stripe')")
        .stderr_has("agent-vault grant web-bot stripe");
    let kept = env.root().join("web-bot.key");
    fs::copy(&key, &kept).unwrap();
    env.av(&["remove-agent", "web-bot"]).ok();
    let run = env
        .av(&["get", "stripe/api-key", "--key", kept.to_str().unwrap()])
        .code(4)
        .stderr_has("belongs to no agent of this vault");
    assert!(!run.stderr.contains("agent-vault grant"), "{}", run.stderr);
}

#[test]
fn key_files_other_users_can_read_are_warned_about() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::with_vault();
    env.set("app/x", b"v");
    fs::set_permissions(env.owner_key(), fs::Permissions::from_mode(0o644)).unwrap();
    for args in [&["get", "app/x"][..], &["rm", "app/x"][..]] {
        env.av(args)
            .ok()
            .stderr_has("can be read by other users (mode 644)")
            .stderr_has("chmod 600");
    }
    let check = env.av(&["check"]).code(1);
    assert!(
        check.all().contains("readable by others"),
        "{}",
        check.all()
    );
    fs::set_permissions(env.owner_key(), fs::Permissions::from_mode(0o600)).unwrap();

    // A key home others can list is a warning; a per-vault agents folder others can write,
    // or a key there others can read, is an error.
    fs::set_permissions(&env.av_home, fs::Permissions::from_mode(0o755)).unwrap();
    let check = env.av(&["check"]).ok();
    assert!(check.all().contains("home-permissions"), "{}", check.all());
    env.av(&["add-agent", "bot"]).ok();
    let folder = env.agent_key("bot").parent().unwrap().to_path_buf();
    fs::set_permissions(&folder, fs::Permissions::from_mode(0o777)).unwrap();
    let check = env.av(&["check"]).code(1);
    assert!(
        check.all().contains(&folder.display().to_string()),
        "{}",
        check.all()
    );
    fs::set_permissions(&folder, fs::Permissions::from_mode(0o700)).unwrap();
    fs::set_permissions(env.agent_key("bot"), fs::Permissions::from_mode(0o640)).unwrap();
    env.av(&["check"]).code(1);
}

#[test]
fn a_read_without_a_home_creates_nothing() {
    let env = Env::with_vault();
    env.set("app/x", b"value");
    env.av(&["add-agent", "bot"]).ok();
    env.av(&["grant", "bot", "app"]).ok();
    let key = fs::read_to_string(env.agent_key("bot")).unwrap();
    let missing = env.root().join("no-such-home");
    let out = env
        .av_cmd(&env.repo, &["get", "app/x"])
        .env_remove("AGENT_VAULT_HOME")
        .env("HOME", &missing)
        .env("AGENT_VAULT_KEY", &key)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"value");
    assert!(!missing.exists(), "a read created {}", missing.display());
}

#[test]
fn a_ci_owner_gives_the_owner_key_in_agent_vault_owner_key() {
    let env = Env::with_vault();
    let owner_text = fs::read_to_string(env.owner_key()).unwrap();
    let ci_home = env.root().join("ci-home");
    let as_ci = |args: &[&str], owner_key: &str, input: &[u8]| {
        let mut cmd = env.av_cmd(&env.repo, args);
        cmd.env("AGENT_VAULT_HOME", &ci_home)
            .env("AGENT_VAULT_OWNER_KEY", owner_key)
            .env(
                "AGENT_VAULT_VERIFY_KEY",
                env.av(&["verify"]).ok().out().trim(),
            );
        run_with_stdin(cmd, input, format!("(ci) agent-vault {}", args.join(" ")))
    };
    as_ci(&["set", "app/token"], &owner_text, b"rotated")
        .ok()
        .no_leak(&owner_text);
    assert_eq!(
        as_ci(&["get", "app/token"], &owner_text, b"").ok().stdout,
        b"rotated"
    );
    // Its path works too; set but empty is an error, never another key.
    let path = env.owner_key();
    as_ci(&["rm", "app/token"], path.to_str().unwrap(), b"").ok();
    as_ci(&["set", "app/x"], "", b"v")
        .code(3)
        .stderr_has("AGENT_VAULT_OWNER_KEY is set but empty");
    // init with it never makes an owner key of its own.
    let fresh = env.root().join("fresh");
    let mut cmd = env.av_cmd(env.root(), &["init", fresh.to_str().unwrap()]);
    cmd.env("AGENT_VAULT_HOME", &ci_home)
        .env("AGENT_VAULT_OWNER_KEY", "");
    assert_eq!(cmd.output().unwrap().status.code(), Some(3));
    assert!(!ci_home.join("owner.key").exists());
    // `run` does not pass it on.
    env.set("app/y", b"v");
    let run = as_ci(
        &[
            "run",
            "--secret",
            "app/y",
            "--",
            "sh",
            "-c",
            "echo ${AGENT_VAULT_OWNER_KEY:-unset}",
        ],
        &owner_text,
        b"",
    )
    .ok();
    assert_eq!(run.out().trim(), "unset");
}
