//! Writers refuse dirty vaults and wait boundedly for the lock; the vault is found from
//! subdirectories and with --vault; nothing secret is ever written in plaintext.

use std::fs;
use std::io::{BufRead, BufReader};
use std::process::Stdio;

use crate::common::*;

#[test]
fn refuses_to_modify_a_vault_with_uncommitted_changes() {
    let env = Env::with_vault();
    env.av(&["add-agent", "bot"]).ok();
    env.set("stripe/api-key", b"v");
    let manifest = env.vault_dir().join("manifest.yaml");
    let original = fs::read(&manifest).unwrap();

    // unstaged edit
    fs::write(&manifest, [original.as_slice(), b"# edited\n"].concat()).unwrap();
    let head = env.head();
    for args in [
        &["set", "stripe/other", "v"][..],
        &["grant", "bot", "stripe"],
        &["rm", "stripe/api-key"],
        &["add-agent", "ci"],
        &["remove-agent", "bot"],
    ] {
        env.av(args).code(6).stderr_has("manifest.yaml");
        assert_eq!(env.head(), head);
    }
    // staged edit
    env.git(&["add", ".agent-vault/manifest.yaml"]);
    env.av(&["set", "stripe/other", "v"])
        .code(6)
        .stderr_has("manifest.yaml");
    env.git(&["reset", "-q", "--", ".agent-vault/manifest.yaml"]);
    fs::write(&manifest, &original).unwrap();
    // an untracked file in the vault
    fs::write(env.vault_dir().join("secrets/stray.txt"), "x").unwrap();
    env.av(&["set", "stripe/other", "v"])
        .code(6)
        .stderr_has("stray.txt");
    fs::remove_file(env.vault_dir().join("secrets/stray.txt")).unwrap();
    // reads still work on a dirty vault; writes work again once clean
    fs::write(&manifest, [original.as_slice(), b"# edited\n"].concat()).unwrap();
    assert_eq!(env.get("stripe/api-key"), b"v");
    fs::write(&manifest, &original).unwrap();
    env.av(&["set", "stripe/other", "v"]).ok();
}

#[test]
fn works_from_a_subdirectory_and_with_vault_dir() {
    let env = Env::with_vault();
    let sub = env.repo.join("src/deep/er");
    fs::create_dir_all(&sub).unwrap();
    env.av_stdin_in(&sub, &["set", "app/key", "--from-file", "-"], b"from-sub")
        .ok();
    assert_eq!(
        env.av_in(&sub, &["get", "app/key", "--offline"])
            .ok()
            .stdout,
        b"from-sub"
    );
    let elsewhere = env.root();
    let repo = env.repo.to_str().unwrap();
    env.av_in(elsewhere, &["--vault", repo, "set", "app/two", "two"])
        .ok();
    assert_eq!(
        env.av_in(elsewhere, &["get", "app/two", "--offline", "--vault", repo])
            .ok()
            .stdout,
        b"two"
    );
    let mut cmd = env.av_cmd(elsewhere, &["list", "--json", "--offline"]);
    cmd.env("AGENT_VAULT_DIR", sub.to_str().unwrap());
    let out = cmd.output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&out.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // outside any repository: not found
    env.av_in(elsewhere, &["get", "app/two", "--offline"])
        .code(3);
}

#[test]
fn a_held_lock_gives_exit_6_vault_busy() {
    let env = Env::with_vault();
    env.set("app/key", b"v");
    let lock = env.repo.join(".git/agent-vault.lock");
    let mut holder = env
        .cmd_in(
            &env.repo,
            "flock",
            &[lock.to_str().unwrap(), "sh", "-c", "echo locked; exec cat"],
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("flock(1) is needed for this test");
    let mut line = String::new();
    BufReader::new(holder.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "locked");

    let head = env.head();
    for args in [
        &["set", "app/other", "v"][..],
        &["rm", "app/key"],
        &["add-agent", "bot"],
    ] {
        let run = env
            .av_env(args, &[("AGENT_VAULT_LOCK_TIMEOUT", "0.2")])
            .code(6)
            .stderr_has("vault busy: another agent-vault command holds");
        assert_waited_in_tenths_of_seconds(&run.all());
    }
    assert_eq!(env.head(), head);
    // readers do not need the lock
    assert_eq!(env.get("app/key"), b"v");

    drop(holder.stdin.take()); // cat ends, the lock is released
    holder.wait().unwrap();
    env.av_env(
        &["set", "app/other", "v"],
        &[("AGENT_VAULT_LOCK_TIMEOUT", "0.2")],
    )
    .ok();
}

/// The busy message says how long it waited as `waited N.N s` (not `1.002759851s`); the
/// number itself depends on timing, so only its shape is checked.
#[track_caller]
fn assert_waited_in_tenths_of_seconds(stderr: &str) {
    let (_, after) = stderr
        .split_once("(waited ")
        .unwrap_or_else(|| panic!("no '(waited ' in: {stderr}"));
    let (number, _) = after
        .split_once(" s)")
        .unwrap_or_else(|| panic!("no ' s)' after the wait in: {stderr}"));
    let (whole, tenths) = number
        .split_once('.')
        .unwrap_or_else(|| panic!("{number:?} has no decimal point: {stderr}"));
    assert!(
        !whole.is_empty()
            && whole.bytes().all(|b| b.is_ascii_digit())
            && tenths.len() == 1
            && tenths.bytes().all(|b| b.is_ascii_digit()),
        "{number:?} is not seconds with one decimal: {stderr}"
    );
    assert!(
        number.parse::<f64>().unwrap() >= 0.2,
        "waited less than AGENT_VAULT_LOCK_TIMEOUT: {stderr}"
    );
}

/// Every blob git has, every file in the working tree and .git, as one haystack per file.
fn haystacks(env: &Env) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = snapshot(&env.repo)
        .into_iter()
        .filter_map(|(p, (_, c))| c.map(|c| (p.display().to_string(), c)))
        .collect();
    let all = env.git_bytes(&["cat-file", "--batch-all-objects", "--batch"], None);
    out.push(("git objects".into(), all));
    out
}

#[test]
fn no_plaintext_secret_or_private_key_anywhere_in_the_repo() {
    let env = Env::with_vault();
    env.av(&["add-agent", "bot"]).ok();
    env.av(&[
        "add-agent",
        "ci",
        "--key-out",
        env.root().join("ci.key").to_str().unwrap(),
    ])
    .ok();
    let values = [
        "sk_live_LEAKCHECK_0001",
        "multi\nline\nLEAKCHECK_0002",
        "LEAKCHECK_0003_rotated_old",
        "LEAKCHECK_0004_rotated_new",
    ];
    env.set("stripe/api-key", values[0].as_bytes());
    env.av_stdin(&["set", "db/url"], values[1].as_bytes()).ok();
    env.av(&["set", "gh/token", values[2]]).ok();
    env.set("gh/token", values[3].as_bytes());
    env.av(&["grant", "bot", "stripe"]).ok();
    env.av(&["grant", "ci", "gh"]).ok();
    env.av(&["set", "db/pw", "LEAKCHECK_0005", "--agents", "bot"])
        .ok();
    env.av(&["revoke", "bot", "stripe"]).ok();
    env.av(&[
        "recover-agent",
        "ci",
        "--key-out",
        env.root().join("ci2.key").to_str().unwrap(),
    ])
    .ok();
    env.av(&["remove-agent", "bot"]).ok();
    env.av(&["rm", "db/url"]).ok();
    env.git(&["gc", "-q"]); // packs too: cat-file reads them
    let mut needles: Vec<String> = values.iter().map(|s| s.to_string()).collect();
    needles.push("LEAKCHECK_0005".into());
    needles.extend(secret_key_lines(&env.owner_key()));
    needles.extend(secret_key_lines(&env.root().join("ci.key")));
    needles.extend(secret_key_lines(&env.root().join("ci2.key")));
    let hay = haystacks(&env);
    assert!(hay.len() > 10);
    for needle in &needles {
        for (name, bytes) in &hay {
            assert!(
                memfind(bytes, needle.as_bytes()).is_none(),
                "{name} contains plaintext material {:?}",
                &needle[..needle.len().min(20)]
            );
        }
    }
    // and no private key at all is anywhere (escrows are encrypted): `AGE-SECRET-KEY-1`
    // followed by 58 bech32 characters (the hook's grep pattern is not one)
    for (name, bytes) in &hay {
        let mut at = 0;
        while let Some(i) = memfind(&bytes[at..], b"AGE-SECRET-KEY-1") {
            let start = at + i + 16;
            let tail = &bytes[start..(start + 58).min(bytes.len())];
            assert!(
                !(tail.len() == 58
                    && tail
                        .iter()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())),
                "{name} holds a private key"
            );
            at = start;
        }
    }
}

fn memfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
