//! Moving over from agent-vault 0.1.0: a vault in 0.1.0's layout (written here from the
//! format, with the stock `age` CLI) reads byte-exact for the owner and every agent, is adopted
//! by `sign` in one commit, and then lives on: grant, revoke, set, rm, add/remove/recover
//! agents, fresh clones and clones that are behind — no value lost, no false tamper report,
//! and no old key opening anything it should not.

use std::fs;
use std::path::PathBuf;

use crate::common::*;

struct Old {
    env: Env,
    bot1: PathBuf,
    bot2: PathBuf,
}

/// 0.1.0's layout: its `.gitignore` (`*.key`, with the public keys committed anyway), the
/// single-segment `token` under `secrets/default/`, a secret `set --agents bot2` gave to an
/// agent outside its group without recording it, nanosecond timestamps, no `recipients`.
fn old_vault() -> Old {
    let env = Env::new();
    fs::create_dir_all(&env.av_home).unwrap();
    let owner = env.age_keygen(&env.owner_key());
    let bot1 = env.root().join("bot1.key");
    let bot2 = env.root().join("bot2.key");
    let (pub1, pub2) = (env.age_keygen(&bot1), env.age_keygen(&bot2));
    let v = env.vault_dir();
    let write = |rel: &str, bytes: &[u8]| {
        let path = v.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    };
    write("config.yaml", b"version: 1\nencryption:\n  format: age\n");
    write("owner.pub", format!("{owner}\n").as_bytes());
    write(".gitignore", b"*.key\n*.pem\n**/private.*\n!*.escrow\n");
    write(
        "manifest.yaml",
        b"version: 1\nowners:\n- name: Old Owner\n  public_key: owner.pub\nagents:\n- name: bot1\n  groups:\n  - stripe\n- name: bot2\n  groups: []\ngroups:\n- name: default\n  secrets:\n  - token\n- name: stripe\n  secrets:\n  - stripe/api-key\n",
    );
    for (name, public, key) in [("bot1", &pub1, &bot1), ("bot2", &pub2, &bot2)] {
        write(
            &format!("agents/{name}/public.key"),
            format!("{public}\n").as_bytes(),
        );
        let escrow = env
            .age(&["-r", &owner], &fs::read(key).unwrap())
            .ok()
            .stdout;
        write(&format!("agents/{name}/private.key.escrow"), &escrow);
    }
    let enc = env
        .age(
            &["-r", &owner, "-r", &pub1, "-r", &pub2],
            b"sk_live_old\x00bytes",
        )
        .ok()
        .stdout;
    write("secrets/stripe/api-key.enc", &enc);
    write(
        "secrets/stripe/api-key.meta",
        b"name: stripe/api-key\ngroup: stripe\ncreated: 2025-03-04T05:06:07.123456789Z\nrotated: 2025-03-04T05:06:07.123456789Z\nauthorized_agents:\n- bot1\n- bot2\n",
    );
    let enc = env.age(&["-r", &owner], b"tok-value").ok().stdout;
    write("secrets/default/token.enc", &enc);
    write(
        "secrets/default/token.meta",
        b"name: token\ngroup: default\ncreated: 2025-03-04T05:06:07.987654321Z\nauthorized_agents: []\n",
    );
    env.git(&["add", "-A"]);
    env.git(&["add", "-f", ".agent-vault/agents"]);
    env.git(&["commit", "-q", "-m", "vault written by agent-vault 0.1.0"]);
    Old { env, bot1, bot2 }
}

impl Old {
    fn get_with(&self, secret: &str, key: &[(&str, &str)], args: &[&str]) -> Vec<u8> {
        let mut argv = vec!["get", secret, "--offline"];
        argv.extend_from_slice(args);
        self.env.av_env(&argv, key).ok().stdout
    }

    /// Every reader gets every value it should, byte-exact.
    fn reads_everything(&self) {
        let (b1, b2) = (self.bot1.to_str().unwrap(), self.bot2.to_str().unwrap());
        let key2 = fs::read_to_string(&self.bot2).unwrap();
        assert_eq!(self.get_with("token", &[], &[]), b"tok-value");
        assert_eq!(
            self.get_with("stripe/api-key", &[], &[]),
            b"sk_live_old\x00bytes"
        );
        assert_eq!(
            self.get_with("stripe/api-key", &[], &["--key", b1]),
            b"sk_live_old\x00bytes"
        );
        assert_eq!(
            self.get_with("stripe/api-key", &[("AGENT_VAULT_KEY", b2)], &[]),
            b"sk_live_old\x00bytes"
        );
        assert_eq!(
            self.get_with("stripe/api-key", &[("AGENT_VAULT_KEY", &key2)], &[]),
            b"sk_live_old\x00bytes"
        );
    }
}

#[test]
fn owner_commands_wait_for_adoption_so_no_old_file_is_left_behind() {
    let old = old_vault();
    let env = &old.env;
    env.av(&["rm", "token"]).code(6); // (creates the lock file, which stays)
    let before = env.snapshot_all();
    let commits = env.commit_count();
    // each would write secrets/token.* and leave secrets/default/token.* behind
    for args in [
        &["revoke", "bot1", "stripe"][..],
        &["grant", "bot2", "default"][..],
        &["set", "token", "new"][..],
        &["rm", "token"][..],
    ] {
        env.av(args)
            .code(6)
            .stderr_has("0.1.0's layout")
            .stderr_has("agent-vault sign");
    }
    assert_eq!(env.commit_count(), commits);
    let after = env.snapshot_all();
    assert_same_tree(&before.0, &after.0, "refused owner commands");
    // after adoption they work, and nothing under secrets/default remains
    env.av(&["sign"]).ok();
    env.av(&["revoke", "bot1", "stripe"]).ok();
    env.av(&["set", "token", "new"]).ok();
    assert!(!env.vault_dir().join("secrets/default").exists());
    assert_eq!(old.get_with("token", &[], &[]), b"new");
}

#[test]
fn a_0_1_0_vault_reads_adopts_and_lives_on() {
    let old = old_vault();
    let env = &old.env;
    old.reads_everything();
    let list = env.av(&["list", "--json", "--offline"]).ok().json();
    let token = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "token")
        .unwrap();
    assert_eq!(
        token["created"], "2025-03-04T05:06:07.987654321Z",
        "{token}"
    );
    let table = env.av(&["list", "--offline"]).ok().out();
    assert!(table.contains("2025-03-04T05:06:07Z"), "{table}");
    // check: no errors (0.1.0's history shows as warnings)
    let check = env.av(&["check", "--json"]).ok().json();
    assert_eq!(check["error_count"], 0, "{check}");

    // Adoption: one commit, saying what it moved and recorded.
    let before = env.commit_count();
    let sign = env.av(&["sign"]).ok();
    assert_eq!(env.commit_count(), before + 1);
    for expected in [
        "moved 'token'",
        "!public.key",
        "extra agents of 'stripe/api-key'",
    ] {
        assert!(
            sign.stderr.contains(expected),
            "{expected}: {}",
            sign.stderr
        );
    }
    assert!(env.vault_dir().join("secrets/token.enc").exists());
    assert!(!env.vault_dir().join("secrets/default").exists());
    env.av(&["verify", "--offline"]).ok();
    old.reads_everything();
    env.av(&["hook", "install"]).ok();
    let check = env.av(&["check", "--json"]).ok().json();
    assert_eq!(check["error_count"], 0, "{check}");

    // Life goes on: bot2 keeps its extra grant through a grant/revoke of the group.
    env.av(&["grant", "bot2", "default"]).ok();
    env.av(&["revoke", "bot1", "stripe"]).ok();
    let b2 = old.bot2.to_str().unwrap();
    assert_eq!(
        old.get_with("stripe/api-key", &[("AGENT_VAULT_KEY", b2)], &[]),
        b"sk_live_old\x00bytes"
    );
    assert_eq!(
        old.get_with("token", &[("AGENT_VAULT_KEY", b2)], &[]),
        b"tok-value"
    );
    env.set("token", b"tok-rotated");
    env.set("app/new", b"new-value");
    env.av(&["rm", "app/new"]).ok();
    env.set("ops/db", b"db-value"); // a group no agent is granted
    env.av(&["add-agent", "bot3"]).ok();
    env.av(&["grant", "bot3", "default"]).ok();
    let bot3 = env.agent_key("bot3");
    env.av(&["remove-agent", "bot1"]).ok();
    let recovered = env.root().join("bot2-new.key");
    env.av(&[
        "recover-agent",
        "bot2",
        "--key-out",
        recovered.to_str().unwrap(),
    ])
    .ok();
    let check = env.av(&["check", "--json"]).ok().json();
    assert_eq!(check["error_count"], 0, "{check}");

    // A fresh clone on another machine of the owner's, and a clone that is behind.
    let fresh = env.root().join("fresh");
    env.git_in(
        env.root(),
        &[
            "clone",
            "-q",
            env.repo.to_str().unwrap(),
            fresh.to_str().unwrap(),
        ],
    );
    let home = env.root().join("fresh-home");
    fs::create_dir_all(&home).unwrap();
    fs::copy(env.owner_key(), home.join("owner.key")).unwrap();
    // Every value, byte-exact, for the owner and each current agent (bot2 with its recovered
    // key, bot3); what an agent was not granted is refused (exit 4).
    let values: [(&str, &[u8]); 3] = [
        ("token", b"tok-rotated"),
        ("stripe/api-key", b"sk_live_old\x00bytes"),
        ("ops/db", b"db-value"),
    ];
    let readers: [(&str, Option<&PathBuf>, &[&str]); 3] = [
        ("owner", None, &["token", "stripe/api-key", "ops/db"]),
        ("bot2", Some(&recovered), &["token", "stripe/api-key"]),
        ("bot3", Some(&bot3), &["token"]),
    ];
    for (reader, key, granted) in readers {
        for (secret, value) in values {
            let mut args = vec!["get", secret, "--offline"];
            if let Some(key) = key {
                args.extend(["--key", key.to_str().unwrap()]);
            }
            let mut cmd = env.av_cmd(&fresh, &args);
            cmd.env("AGENT_VAULT_HOME", &home);
            let out = cmd.output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            if granted.contains(&secret) {
                assert!(out.status.success(), "{reader} {secret}: {stderr}");
                assert!(out.stdout == value, "{reader} {secret}: another value");
                assert!(out.stderr.is_empty(), "{reader} {secret}: {stderr}");
            } else {
                assert_eq!(out.status.code(), Some(4), "{reader} {secret}: {stderr}");
                assert!(out.stdout.is_empty(), "{reader} {secret}");
            }
        }
    }
    let behind = env.root().join("behind");
    env.git_in(
        env.root(),
        &[
            "clone",
            "-q",
            env.repo.to_str().unwrap(),
            behind.to_str().unwrap(),
        ],
    );
    env.git_in(&behind, &["reset", "-q", "--hard", "HEAD~3"]);
    let mut cmd = env.av_cmd(&behind, &["verify"]);
    cmd.env("AGENT_VAULT_HOME", env.root().join("behind-home"));
    assert!(
        cmd.output().unwrap().status.success(),
        "a clone that is behind verifies"
    );

    // A swapped public key is refused now that the vault is signed.
    let attacker = env.root().join("attacker.key");
    let attacker_pub = env.age_keygen(&attacker);
    fs::write(
        env.vault_dir().join("agents/bot3/public.key"),
        format!("{attacker_pub}\n"),
    )
    .unwrap();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "--no-verify", "-m", "swap"]);
    env.av(&["grant", "bot3", "stripe"]).code(5);
    env.git(&["reset", "-q", "--hard", "HEAD~1"]);

    // With the stock age CLI: the owner opens everything; each current agent's key opens
    // exactly what it was granted; bot1's key (removed) and bot2's old key (recovered) open
    // nothing in HEAD.
    let mut opened = Vec::new();
    for file in env.git(&["ls-files", ".agent-vault/secrets"]).lines() {
        if !file.ends_with(".enc") {
            continue;
        }
        let secret = file
            .strip_prefix(".agent-vault/secrets/")
            .and_then(|f| f.strip_suffix(".enc"))
            .unwrap();
        opened.push(secret.to_string());
        let bytes = fs::read(env.repo.join(file)).unwrap();
        let owner = env.age(&["-d", "-i", env.owner_key().to_str().unwrap()], &bytes);
        assert_eq!(owner.code, 0, "{file}");
        let value = values.iter().find(|(s, _)| *s == secret).unwrap().1;
        assert!(owner.stdout == value, "{file}: another value");
        for (agent, key, granted) in &readers[1..] {
            let run = env.age(&["-d", "-i", key.unwrap().to_str().unwrap()], &bytes);
            if granted.contains(&secret) {
                assert_eq!(run.code, 0, "{agent} cannot open {file}");
                assert!(run.stdout == owner.stdout, "{agent}: {file} differs");
            } else {
                assert_ne!(run.code, 0, "{agent} opens {file}, not granted");
            }
        }
        for old_key in [&old.bot1, &old.bot2] {
            let run = env.age(&["-d", "-i", old_key.to_str().unwrap()], &bytes);
            assert_ne!(run.code, 0, "{file} opens with {}", old_key.display());
        }
    }
    opened.sort();
    assert_eq!(opened, ["ops/db", "stripe/api-key", "token"]);
}
