//! The hostile-repository findings (issue 9), each reproduced with only what the attacker has
//! — public keys, the stock `age` CLI, an Ed25519 key of its own, git — and shown refused:
//! exit 5 (or the documented code), nothing decrypted, nothing re-encrypted or committed,
//! nothing of a private key printed.

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use agent_vault::integrity::SigningKey;

use crate::common::*;

const VALUE: &[u8] = b"sk_live_original_value";

/// A signed vault: agents `bot` (group `stripe`) and `contractor` (group `db`); each agent has
/// its own key home, the owner the default one.
struct Fx {
    env: Env,
}

impl Fx {
    fn new() -> Fx {
        let env = Env::with_vault();
        env.av(&["add-agent", "bot"]).ok();
        env.av(&["add-agent", "contractor"]).ok();
        env.set("stripe/api-key", VALUE);
        env.set("db/url", b"postgres://db.internal/prod");
        env.av(&["grant", "bot", "stripe"]).ok();
        env.av(&["grant", "contractor", "db"]).ok();
        let fx = Fx { env };
        assert_eq!(
            fx.agent("bot", &["get", "stripe/api-key"]).ok().stdout,
            VALUE
        );
        fx
    }

    fn home(&self, agent: &str) -> PathBuf {
        let home = self.env.root().join(format!("{agent}-home"));
        fs::create_dir_all(&home).unwrap();
        home
    }

    /// Runs `agent-vault ARGS --offline` as `agent`, with its key file and its own home.
    fn agent(&self, agent: &str, args: &[&str]) -> Run {
        let mut args = args.to_vec();
        args.push("--offline");
        self.env.av_env(
            &args,
            &[
                ("AGENT_VAULT_HOME", self.home(agent).to_str().unwrap()),
                (
                    "AGENT_VAULT_KEY",
                    self.env.agent_key(agent).to_str().unwrap(),
                ),
            ],
        )
    }

    fn vault(&self) -> PathBuf {
        self.env.vault_dir()
    }

    /// Commits everything in the working tree as the attacker (bypassing hooks).
    fn attacker_commit(&self, message: &str) {
        self.env.git(&["add", "-A"]);
        self.env.git(&["add", "-f", ".agent-vault"]);
        self.env
            .git(&["commit", "-q", "--no-verify", "-m", message]);
    }

    /// A key pair only the attacker holds; returns its recipient.
    fn attacker_recipient(&self) -> String {
        let path = self.env.root().join("attacker.key");
        if !path.exists() {
            self.env.age_keygen(&path);
        }
        public_key_of(&path)
    }

    /// The attacker's complete takeover: its own signing key, encrypted to `owner.pub` (so
    /// it "opens" with the owner key), the vault re-signed with it at `seq`, and `bot`'s
    /// public key swapped for the attacker's.
    fn take_over(&self, seq: u64) {
        let attacker = self.attacker_recipient();
        fs::write(
            self.vault().join("agents/bot/public.key"),
            format!("{attacker}\n"),
        )
        .unwrap();
        let key = SigningKey::generate().unwrap();
        let owner_pub = fs::read_to_string(self.vault().join("owner.pub")).unwrap();
        let encrypted = self
            .env
            .age(&["-r", owner_pub.trim()], key.to_text().as_bytes())
            .ok()
            .stdout;
        fs::write(self.vault().join("signing.key.age"), encrypted).unwrap();
        let id = attacker::vault_id(&self.vault());
        attacker::resign(&self.vault(), &key, seq, Some(id));
        self.attacker_commit("routine maintenance");
    }

    /// Asserts that the owner's changing commands refuse (exit 5) and commit nothing.
    #[track_caller]
    fn owner_refuses(&self, extra_env: &[(&str, &str)]) {
        let head = self.env.head();
        for args in [
            &["set", "stripe/new", "--from-file", "-"][..],
            &["grant", "bot", "db"][..],
            &["add-agent", "newbie"][..],
            &["remove-agent", "contractor"][..],
        ] {
            let mut cmd = self.env.av_cmd(&self.env.repo, args);
            for (k, v) in extra_env {
                cmd.env(k, v);
            }
            let run = run_with_stdin(cmd, b"a new value", args.join(" "));
            assert_eq!(
                run.code,
                5,
                "owner `{}` did not refuse: {}",
                args.join(" "),
                run.stderr
            );
        }
        assert_eq!(self.env.head(), head, "an owner command committed");
    }
}

fn seq_of(env: &Env) -> u64 {
    attacker::seq(&env.vault_dir())
}

#[test]
fn finding_1_a_statement_re_signed_by_a_pusher_is_not_the_owners() {
    for seq in [3, 999] {
        let fx = Fx::new();
        let genuine = fs::read_to_string(fx.env.av_home.join("pins.json")).unwrap();
        fx.take_over(seq);
        fx.owner_refuses(&[]);
        fx.env.av(&["verify", "--offline"]).code(5);
        // The owner's pin did not move.
        assert_eq!(
            fs::read_to_string(fx.env.av_home.join("pins.json")).unwrap(),
            genuine
        );
        // The agent that trusts the genuine key (its key file says which) refuses too.
        fx.agent("bot", &["get", "stripe/api-key"]).code(5);
        // A fresh machine with only the owner key does not take the attacker's key either:
        // no pin there, but no endorsement by the owner key for it.
        let fresh = fx.env.root().join("fresh-owner");
        fs::create_dir_all(&fresh).unwrap();
        fs::copy(fx.env.owner_key(), fresh.join("owner.key")).unwrap();
        let run = fx.env.av_env(
            &["set", "x/y", "v"],
            &[("AGENT_VAULT_HOME", fresh.to_str().unwrap())],
        );
        assert_eq!(run.code, 5, "{}", run.stderr);
        assert!(run.stderr.contains("cannot confirm"), "{}", run.stderr);
    }
}

#[test]
fn finding_1_the_genuine_verify_key_in_the_environment_is_enforced() {
    let fx = Fx::new();
    let genuine = fx.env.av(&["sign"]).ok().out().trim().to_owned();
    assert!(genuine.starts_with("ed25519:"), "{genuine}");
    fx.take_over(999);
    fx.owner_refuses(&[("AGENT_VAULT_VERIFY_KEY", &genuine)]);
    let run = fx.env.av_env(
        &["get", "stripe/api-key", "--offline"],
        &[("AGENT_VAULT_VERIFY_KEY", &genuine)],
    );
    assert_eq!(run.code, 5, "{}", run.stderr);
}

#[test]
fn finding_1_variant_an_extra_owner_recipient_gets_nothing() {
    let fx = Fx::new();
    let attacker = fx.attacker_recipient();
    let owner_pub = fx.vault().join("owner.pub");
    let text = fs::read_to_string(&owner_pub).unwrap();
    fs::write(&owner_pub, format!("{text}{attacker}\n")).unwrap();
    let key = SigningKey::generate().unwrap();
    let id = attacker::vault_id(&fx.vault());
    attacker::resign(&fx.vault(), &key, 50, Some(id));
    fx.attacker_commit("add a backup owner");
    fx.owner_refuses(&[]);
    // Nothing anywhere in HEAD opens with the attacker's key.
    let attacker_key = fx.env.root().join("attacker.key");
    for file in fx.env.git(&["ls-files", ".agent-vault"]).lines() {
        if file.ends_with(".enc") || file.ends_with(".escrow") || file.ends_with(".age") {
            let bytes = fs::read(fx.env.repo.join(file)).unwrap();
            let run = fx
                .env
                .age(&["-d", "-i", attacker_key.to_str().unwrap()], &bytes);
            assert_ne!(run.code, 0, "{file} opens with the attacker's key");
        }
    }
}

#[test]
fn finding_2_rollback_across_a_signing_key_change_is_refused() {
    let fx = Fx::new();
    let before = fx.env.head();
    fx.env.av(&["remove-agent", "contractor"]).ok();
    fx.env.av(&["sign", "--new-key"]).ok().stderr_has("vouched");
    fx.env.set("db/url", b"postgres://rotated");
    // The agent follows the key change through the chain, with its old key file.
    assert_eq!(
        fx.agent("bot", &["get", "stripe/api-key"]).ok().stdout,
        VALUE
    );
    fx.env.git(&["rm", "-r", "-q", ".agent-vault"]);
    fx.env.git(&["checkout", &before, "--", ".agent-vault"]);
    fx.attacker_commit("restore");
    fx.owner_refuses(&[]);
    let run = fx.env.av(&["get", "db/url", "--offline"]).code(5);
    assert!(run.stderr.contains("rollback"), "{}", run.stderr);
    fx.agent("bot", &["get", "stripe/api-key"]).code(5);
}

#[test]
fn finding_3_a_key_file_naming_old_and_new_verify_keys_never_reopens_old_states() {
    let fx = Fx::new();
    let before = fx.env.head();
    let new_key = fx
        .env
        .av(&["sign", "--new-key"])
        .ok()
        .out()
        .trim()
        .to_owned();
    // As the CLI used to advise: add the new line, keep the old one.
    let bot_key = fx.env.agent_key("bot");
    let text = fs::read_to_string(&bot_key).unwrap();
    fs::write(
        &bot_key,
        format!("# agent-vault verify-key: {new_key}\n{text}"),
    )
    .unwrap();
    fx.env.set("stripe/api-key", b"sk_live_rotated");
    assert_eq!(
        fx.agent("bot", &["get", "stripe/api-key"]).ok().stdout,
        b"sk_live_rotated"
    );
    fx.env.git(&["rm", "-r", "-q", ".agent-vault"]);
    fx.env.git(&["checkout", &before, "--", ".agent-vault"]);
    fx.attacker_commit("restore");
    let run = fx.agent("bot", &["get", "stripe/api-key"]).code(5);
    assert!(run.stderr.contains("rollback"), "{}", run.stderr);
    assert!(!run.stdout.starts_with(VALUE));
}

#[test]
fn finding_3_one_agent_key_for_two_vaults_cannot_make_one_stand_in_for_the_other() {
    let fx = Fx::new();
    // A staging vault with the same agent key (its public key registered there).
    let staging = fx.env.root().join("staging");
    fx.env
        .av_in(fx.env.root(), &["init", staging.to_str().unwrap()])
        .ok();
    let bot_pub = public_key_of(&fx.env.agent_key("bot"));
    fx.env
        .av_in(&staging, &["add-agent", "bot", "--public-key", &bot_pub])
        .ok();
    run_with_stdin(
        fx.env
            .av_cmd(&staging, &["set", "stripe/api-key", "--from-file", "-"]),
        b"sk_test_staging",
        "set".into(),
    )
    .ok();
    fx.env.av_in(&staging, &["grant", "bot", "stripe"]).ok();
    let staging_key = fx
        .env
        .av_in(&staging, &["verify", "--offline", "--json"])
        .ok()
        .json()["verify_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let bot_key = fx.env.agent_key("bot");
    let text = fs::read_to_string(&bot_key).unwrap();
    fs::write(
        &bot_key,
        format!("# agent-vault verify-key: {staging_key}\n{text}"),
    )
    .unwrap();
    // The agent reads both (prod already pinned at its location by Fx::new).
    let staging_get = fx
        .env
        .av_cmd(&staging, &["get", "stripe/api-key", "--offline"]);
    let mut staging_get = staging_get;
    staging_get
        .env("AGENT_VAULT_HOME", fx.home("bot"))
        .env("AGENT_VAULT_KEY", &bot_key);
    assert_eq!(staging_get.output().unwrap().stdout, b"sk_test_staging");
    // The attacker copies staging's vault over prod's.
    fs::remove_dir_all(fx.vault()).unwrap();
    copy_dir(&staging.join(".agent-vault"), &fx.vault());
    fx.attacker_commit("sync");
    let run = fx.agent("bot", &["get", "stripe/api-key"]).code(5);
    assert!(run.stderr.contains("another vault"), "{}", run.stderr);
    assert!(!run.stdout.starts_with(b"sk_test"));
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn finding_4_and_5_a_symlinked_meta_is_tampering_and_prints_no_key() {
    let fx = Fx::new();
    let owner_key = fs::read_to_string(fx.env.owner_key()).unwrap();
    let secret_line = owner_key.lines().last().unwrap().to_owned();
    // Planted for a future secret: its metadata is the owner's private key file.
    let meta = fx.vault().join("secrets/app/future.meta");
    fs::create_dir_all(meta.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(fx.env.owner_key(), &meta).unwrap();
    fx.attacker_commit("plant");
    let run = fx
        .env
        .av_stdin(&["set", "app/future", "--from-file", "-"], b"value")
        .code(5);
    assert!(run.stderr.contains("not a regular file"), "{}", run.stderr);
    for run in [
        run,
        fx.env.av(&["check"]),
        fx.env.av(&["verify", "--offline"]),
        fx.env.av(&["list", "--offline"]),
    ] {
        assert_eq!(run.code, 5, "{}", run.stderr);
        run.no_leak(&secret_line[16..]);
    }
    // Reading another secret verifies that secret (and the policy files), not the plant.
    assert_eq!(
        fx.agent("bot", &["get", "stripe/api-key"]).ok().stdout,
        VALUE
    );
}

#[test]
fn finding_5_and_6_a_symlinked_config_reads_nothing_behind_it() {
    for target in ["/dev/zero", "OWNER_KEY", "SSH_KEY"] {
        let fx = Fx::new();
        let ssh = fx.env.home.join(".ssh/id_ed25519");
        fs::create_dir_all(ssh.parent().unwrap()).unwrap();
        fs::write(
            &ssh,
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU\n-----END OPENSSH PRIVATE KEY-----\n",
        )
        .unwrap();
        let target = match target {
            "OWNER_KEY" => fx.env.owner_key(),
            "SSH_KEY" => ssh.clone(),
            other => PathBuf::from(other),
        };
        let config = fx.vault().join("config.yaml");
        fs::remove_file(&config).unwrap();
        std::os::unix::fs::symlink(&target, &config).unwrap();
        fx.attacker_commit("config");
        for run in [
            fx.agent("bot", &["get", "stripe/api-key"]),
            fx.env.av(&["get", "stripe/api-key", "--offline"]),
            fx.env.av(&["check"]),
        ] {
            assert_eq!(run.code, 5, "{}", run.stderr);
            run.no_leak("AGE-SECRET-KEY").no_leak("b3BlbnNzaC1rZXkt");
        }
    }
}

#[test]
fn finding_6_a_huge_blob_is_refused_without_being_read() {
    let fx = Fx::new();
    // 70 MiB of zeros: a few kilobytes pushed, more than any vault file agent-vault writes.
    let path = fx.vault().join("secrets/stripe/api-key.enc");
    fs::write(&path, vec![0u8; 70 << 20]).unwrap();
    fx.attacker_commit("big");
    let run = fx.agent("bot", &["get", "stripe/api-key"]).code(5);
    assert!(
        run.stderr.contains("more than agent-vault writes"),
        "{}",
        run.stderr
    );
    fx.env.av(&["verify", "--offline"]).code(5);
}

#[test]
fn finding_6_a_key_that_never_ends_is_an_error_not_an_endless_read() {
    let fx = Fx::new();
    let run = fx.env.av_env(
        &["get", "stripe/api-key", "--offline"],
        &[("AGENT_VAULT_KEY", "/dev/zero")],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("larger than 1 MiB"), "{}", run.stderr);
}

#[test]
fn finding_6_an_age_header_with_thousands_of_stanzas_is_refused_before_any_key_is_tried() {
    let env = Env::new();
    // An unsigned (0.1.0-style) vault, where nothing checks the ciphertext first.
    fs::create_dir_all(&env.av_home).unwrap();
    let owner = env.age_keygen(&env.owner_key());
    let v = env.vault_dir();
    fs::create_dir_all(v.join("secrets")).unwrap();
    fs::write(
        v.join("config.yaml"),
        "version: 1\nencryption:\n  format: age\n",
    )
    .unwrap();
    fs::write(v.join("owner.pub"), format!("{owner}\n")).unwrap();
    fs::write(
        v.join("manifest.yaml"),
        "version: 1\nowners:\n- name: o\n  public_key: owner.pub\ngroups:\n- name: default\n  secrets:\n  - bomb\n",
    )
    .unwrap();
    let mut header = String::from("age-encryption.org/v1\n");
    for _ in 0..8000 {
        header.push_str("-> X25519 TEiF0ypqr+bpvcqXNyCVJpL7OuwPdVwPL7KQEbFDOCc\nEmECAEcKN+n/Vs9SbWiV+Hu0r+E8R77DdWYyd83nw7U\n");
    }
    header.push_str("--- Vn+54jqiiUCE+WZcEVY3f1sqHjlu/z1LCQ/T7Xm7qI0\n");
    fs::write(v.join("secrets/bomb.enc"), header).unwrap();
    fs::write(v.join("secrets/bomb.meta"), "name: bomb\ngroup: default\n").unwrap();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "seed"]);
    env.av(&["get", "bomb", "--offline"])
        .code(1)
        .stderr_has("recipient stanzas");
}

#[test]
fn finding_4_names_rules_and_modes_are_what_is_signed() {
    // A legitimate secret whose name the vault's own ignore rules match is fine.
    let env = Env::with_vault();
    env.set("tls/private", b"-pem-like value-");
    assert_eq!(env.get("tls/private"), b"-pem-like value-");
    env.av(&["verify", "--offline"]).ok();
    env.av(&["check"]).ok();

    // A tracked file a .gitignore rule matches is part of the vault: unsigned, it is refused.
    let fx = Fx::new();
    fs::write(fx.vault().join("agents/bot/backup.key"), "x").unwrap();
    fx.attacker_commit("ignored but tracked");
    fx.agent("bot", &["get", "stripe/api-key"])
        .code(5)
        .stderr_has("agents/bot/backup.key");

    // A non-UTF-8 name: refused by name, not a raw libgit2 error.
    let fx = Fx::new();
    let name = std::ffi::OsStr::from_bytes(b"\xffbad.enc");
    fs::write(fx.vault().join("secrets").join(name), "x").unwrap();
    fx.attacker_commit("bytes");
    fx.env
        .av(&["verify", "--offline"])
        .code(5)
        .stderr_has("not valid UTF-8");

    // A control character in a name is escaped in the message.
    let fx = Fx::new();
    fs::write(fx.vault().join("secrets/\x1b[31mred.enc"), "x").unwrap();
    fx.attacker_commit("escape");
    let run = fx.env.av(&["verify", "--offline"]).code(5);
    assert!(!run.stderr.contains('\x1b'), "{:?}", run.stderr);

    // An executable file is not a file agent-vault writes.
    let fx = Fx::new();
    let enc = fx.vault().join("secrets/db/url.enc");
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&enc, fs::Permissions::from_mode(0o755)).unwrap();
    fx.attacker_commit("chmod");
    fx.env.av(&["get", "db/url", "--offline"]).code(5);
}

#[test]
fn finding_4_with_a_0_1_0_gitignore_public_keys_are_still_signed() {
    let fx = Fx::new();
    fs::write(
        fx.vault().join(".gitignore"),
        "*.key\n*.pem\n**/private.*\n!*.escrow\n",
    )
    .unwrap();
    fx.attacker_commit("old ignore rules");
    fx.env.av(&["sign"]).ok();
    let attacker = fx.attacker_recipient();
    fs::write(
        fx.vault().join("agents/bot/public.key"),
        format!("{attacker}\n"),
    )
    .unwrap();
    fx.attacker_commit("swap");
    fx.owner_refuses(&[]);
    fx.env
        .av(&["verify", "--offline"])
        .code(5)
        .stdout_has("public.key");
}

#[test]
fn finding_7_trust_on_first_use_is_never_silent_and_the_ci_recipe_carries_an_anchor() {
    let fx = Fx::new();
    let verify_key = fx.env.av(&["sign"]).ok().out().trim().to_owned();
    fx.take_over(999);
    let key_line = secret_key_lines(&fx.env.agent_key("bot")).remove(0);
    let ci_home = fx.env.root().join("ci-home");
    // A fresh runner with only the key line: the attacker's state is taken on first use —
    // but loudly.
    let run = fx.env.av_env(
        &["get", "stripe/api-key", "--offline"],
        &[
            ("AGENT_VAULT_HOME", ci_home.to_str().unwrap()),
            ("AGENT_VAULT_KEY", &key_line),
        ],
    );
    assert!(run.stderr.contains("first use"), "{}", run.stderr);
    // The documented recipe, with the verify key: refused.
    let run = fx.env.av_env(
        &["get", "stripe/api-key", "--offline"],
        &[
            (
                "AGENT_VAULT_HOME",
                fx.env.root().join("ci-2").to_str().unwrap(),
            ),
            ("AGENT_VAULT_KEY", &key_line),
            ("AGENT_VAULT_VERIFY_KEY", &verify_key),
        ],
    );
    assert_eq!(run.code, 5, "{}", run.stderr);
}

#[test]
fn finding_8_the_leak_guard_keeps_matching_and_the_allow_list_cannot_silence_it() {
    let fx = Fx::new();
    fx.env.av(&["hook", "install"]).ok();
    // Tampering does not switch the known-secret check off.
    fx.take_over(999);
    fs::write(
        fx.env.repo.join("config.env"),
        [b"KEY=".as_slice(), VALUE].concat(),
    )
    .unwrap();
    fx.env.git(&["add", "config.env"]);
    let run = fx.env.av(&["scan", "--staged"]).code(1);
    assert!(run.out().contains("known-secret"), "{}", run.all());
    run.no_leak(std::str::from_utf8(VALUE).unwrap());
    // An allow-list that allows everything: key material is suppressed (and counted), the
    // vault's own value is not.
    fs::write(
        fx.env.repo.join(".agent-vault-allow"),
        "**\n** known-secret\n",
    )
    .unwrap();
    fs::write(
        fx.env.repo.join("leaked.key"),
        fs::read(fx.env.owner_key()).unwrap(),
    )
    .unwrap();
    fx.env.git(&["add", ".agent-vault-allow", "leaked.key"]);
    let run = fx.env.av(&["scan", "--staged"]).code(1);
    assert!(run.out().contains("known-secret"), "{}", run.all());
    assert!(
        run.all().contains("finding(s) suppressed by"),
        "suppressed findings are counted aloud: {}",
        run.all()
    );
    let json = fx.env.av(&["scan", "--staged", "--json"]).code(1).json();
    assert!(json["suppressed"].as_u64().unwrap() >= 1, "{json}");
    let kinds: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["known-secret"], "{json}");
    // The hook (with agent-vault on PATH, as installed) blocks the commit.
    let bin = assert_cmd::cargo::cargo_bin("agent-vault");
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let commit = fx
        .env
        .cmd_in(&fx.env.repo, "git", &["commit", "-q", "-m", "config"])
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(!commit.status.success(), "the hook let the value through");
}

#[test]
fn finding_8_and_6_an_allow_list_is_read_capped_and_never_through_a_symlink() {
    let env = Env::with_vault();
    let allow = env.repo.join(".agent-vault-allow");
    let bin = assert_cmd::cargo::cargo_bin("agent-vault");
    let bin = bin.to_str().unwrap();
    // `timeout` stands between the test and a scan that would read /dev/zero forever.
    let scan = |what: &str| {
        let out = env
            .cmd_in(&env.repo, "timeout", &["60", bin, "scan", "."])
            .output()
            .unwrap();
        let code = out.status.code();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            code != Some(0) && code != Some(124),
            "{what}: exit {code:?}: {stderr}"
        );
        stderr
    };
    std::os::unix::fs::symlink("/dev/zero", &allow).unwrap();
    let stderr = scan("symlink to /dev/zero");
    assert!(stderr.contains("symbolic link"), "{stderr}");
    fs::remove_file(&allow).unwrap();
    std::os::unix::fs::symlink(env.owner_key(), &allow).unwrap();
    let stderr = scan("symlink to the owner key");
    assert!(!stderr.contains("AGE-SECRET-KEY"), "{stderr}");
    fs::remove_file(&allow).unwrap();
    fs::write(&allow, "# a comment\n".repeat(100_000)).unwrap();
    let stderr = scan("a 1.2 MB allow-list");
    assert!(stderr.contains("larger than 1 MiB"), "{stderr}");
    // Staged, the same list is refused from the blob's size alone.
    env.git(&["add", ".agent-vault-allow"]);
    let staged = env.av(&["scan", "--staged"]);
    assert!(
        staged.stderr.contains("larger than 1 MiB"),
        "{}",
        staged.all()
    );
    assert_ne!(staged.code, 0);
}

#[test]
fn finding_9_checkout_conversions_never_change_what_is_read() {
    for own_attributes in [true, false] {
        let env = Env::with_vault();
        env.set("app/token", b"line one\nline two\n");
        if !own_attributes {
            // A vault whose .gitattributes predates `-working-tree-encoding` (signed as such).
            fs::write(env.vault_dir().join(".gitattributes"), "* -text\n").unwrap();
            env.git(&["commit", "-q", "-a", "-m", "older attributes"]);
            env.av(&["sign"]).ok();
        }
        // A root .gitattributes (anyone's commit) that re-encodes text files on checkout.
        fs::write(
            env.repo.join(".gitattributes"),
            "*.yaml working-tree-encoding=UTF-16 eol=crlf\n*.meta working-tree-encoding=UTF-16 eol=crlf\n",
        )
        .unwrap();
        env.git(&["add", ".gitattributes"]);
        env.git(&["commit", "-q", "-m", "attributes"]);
        fs::remove_dir_all(env.vault_dir()).unwrap();
        env.git(&["checkout", "--", ".agent-vault"]);
        let manifest = fs::read(env.vault_dir().join("manifest.yaml")).unwrap();
        // A vault's own .gitattributes keeps its checkout byte for byte; an older one does
        // not, and readers do not care: they read git's blobs.
        assert_eq!(manifest.starts_with(b"version: 1"), own_attributes);
        assert_eq!(env.get("app/token"), b"line one\nline two\n");
        env.av(&["verify", "--offline"]).ok();
        env.av(&["list", "--offline"]).ok();
    }
}

#[test]
fn finding_9_a_tree_deeper_than_any_vault_is_refused_without_a_crash() {
    let env = Env::with_vault();
    // Building it takes deep recursion inside libgit2's pack writer (the attacker's tool,
    // not ours): a thread with room for it.
    let repo_path = env.repo.clone();
    std::thread::Builder::new()
        .stack_size(512 << 20)
        .spawn(move || plant_deep_tree(&repo_path))
        .unwrap()
        .join()
        .unwrap();
    for args in [
        &["list", "--offline"][..],
        &["verify", "--offline"][..],
        &["check"][..],
    ] {
        let run = env.av(args);
        assert_eq!(run.code, 5, "{}: {}", args[0], run.stderr);
        assert!(run.stderr.contains("deeper") || run.out().contains("deeper"));
    }
}

/// Commits, as the attacker, a folder 100,000 levels deep under `.agent-vault/secrets/`.
fn plant_deep_tree(repo_path: &Path) {
    let repo = git2::Repository::open(repo_path).unwrap();
    let odb = repo.odb().unwrap();
    let pack = odb.add_new_mempack_backend(1000).unwrap();
    let blob = repo.blob(b"x").unwrap();
    let mut builder = repo.treebuilder(None).unwrap();
    builder.insert("leaf", blob, 0o100644).unwrap();
    let mut tree = builder.write().unwrap();
    for _ in 0..100_000 {
        let mut builder = repo.treebuilder(None).unwrap();
        builder.insert("d", tree, 0o040000).unwrap();
        tree = builder.write().unwrap();
    }
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    let root = head.tree().unwrap();
    let vault = repo
        .find_tree(root.get_name(".agent-vault").unwrap().id())
        .unwrap();
    let secrets = vault
        .get_name("secrets")
        .map(|e| repo.find_tree(e.id()).unwrap());
    let mut secrets_builder = repo.treebuilder(secrets.as_ref()).unwrap();
    secrets_builder.insert("deep", tree, 0o040000).unwrap();
    let secrets = secrets_builder.write().unwrap();
    let mut vault_builder = repo.treebuilder(Some(&vault)).unwrap();
    vault_builder.insert("secrets", secrets, 0o040000).unwrap();
    let vault = vault_builder.write().unwrap();
    let mut root_builder = repo.treebuilder(Some(&root)).unwrap();
    root_builder
        .insert(".agent-vault", vault, 0o040000)
        .unwrap();
    let root = repo.find_tree(root_builder.write().unwrap()).unwrap();
    let sig = git2::Signature::now("attacker", "a@example.com").unwrap();
    let commit = repo
        .commit(None, &sig, &sig, "deep", &root, &[&head])
        .unwrap();
    let mut buf = git2::Buf::new();
    pack.dump(&repo, &mut buf).unwrap();
    let disk = git2::Repository::open(repo_path).unwrap();
    let disk_odb = disk.odb().unwrap();
    let mut writer = disk_odb.packwriter().unwrap();
    std::io::Write::write_all(&mut writer, &buf).unwrap();
    writer.commit().unwrap();
    disk.reference("refs/heads/main", commit, true, "deep")
        .unwrap();
}

#[test]
fn finding_9_git_never_sees_our_key() {
    let env = Env::with_vault();
    env.set("app/token", b"v");
    let remote = env.root().join("remote.git");
    env.git_in(
        env.root(),
        &["init", "-q", "--bare", remote.to_str().unwrap()],
    );
    env.git(&["remote", "add", "origin", remote.to_str().unwrap()]);
    env.git(&["push", "-q", "-u", "origin", "main"]);
    let record = env.root().join("upload-pack-env");
    env.git(&[
        "config",
        "remote.origin.uploadpack",
        &format!("env > {} && git-upload-pack", record.display()),
    ]);
    let key = secret_key_lines(&env.owner_key()).remove(0);
    env.av_env(&["get", "app/token"], &[("AGENT_VAULT_KEY", &key)])
        .ok();
    let seen = fs::read_to_string(&record).expect("git fetch ran upload-pack");
    assert!(!seen.contains("AGENT_VAULT"), "{seen}");
    assert!(!seen.contains(&key[20..]), "the key reached git");
}

#[test]
fn finding_9_check_reports_a_key_home_and_pins_others_can_write() {
    let env = Env::with_vault();
    use std::os::unix::fs::PermissionsExt;
    let home = &env.av_home;
    for path in [home.clone(), home.join("pins.json")] {
        let before = fs::metadata(&path).unwrap().permissions().mode();
        fs::set_permissions(&path, fs::Permissions::from_mode(before | 0o022)).unwrap();
        let run = env.av(&["check"]).code(1);
        assert!(run.out().contains("home-permissions"), "{}", run.out());
        fs::set_permissions(&path, fs::Permissions::from_mode(before)).unwrap();
    }
    env.av(&["check"]).ok();
}

#[test]
fn review_1_a_pushed_maximal_sequence_number_never_wraps() {
    let fx = Fx::new();
    let key = SigningKey::generate().unwrap();
    let id = attacker::vault_id(&fx.vault());
    attacker::resign(&fx.vault(), &key, u64::MAX, Some(id));
    fx.attacker_commit("seq");
    fx.owner_refuses(&[]);
    // The owner reviews (the statement is the attacker's, the contents are genuine) and
    // re-signs: its sequence number comes from its own pin, never from the pushed statement.
    fx.env.av(&["verify", "--offline"]).code(5);
    fx.env.av(&["sign"]).ok().stderr_has("replaced a statement");
    fx.env.av(&["verify", "--offline"]).ok();
    fx.env.set("stripe/api-key", b"sk_live_next");
    let seq = seq_of(&fx.env);
    assert!(seq < 100, "seq {seq}");
    assert_eq!(
        fx.agent("bot", &["get", "stripe/api-key"]).ok().stdout,
        b"sk_live_next"
    );
}

#[test]
fn review_3_a_key_variable_that_is_not_utf8_or_empty_never_falls_back() {
    let env = Env::with_vault();
    env.set("app/token", b"v");
    let mut cmd = env.av_cmd(&env.repo, &["get", "app/token", "--offline"]);
    cmd.env("AGENT_VAULT_KEY", std::ffi::OsStr::from_bytes(b"\xff\xfe"));
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(out.stdout.is_empty());
    let run = env.av_env(
        &["get", "app/token", "--offline"],
        &[("AGENT_VAULT_KEY", "")],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("empty"), "{}", run.stderr);
}

/// Replaces HEAD's `.agent-vault/secrets/stripe` folder with a tree written byte by byte (any
/// mode, any order, a name twice — what `git hash-object --literally` lets anyone write), and
/// commits it as the attacker.
fn plant_raw_stripe_tree(env: &Env, entries: &[(&str, &str, git2::Oid)]) {
    let mut raw = Vec::new();
    for (mode, name, oid) in entries {
        raw.extend_from_slice(format!("{mode} {name}\0").as_bytes());
        raw.extend_from_slice(oid.as_bytes());
    }
    let stripe = env.git_bytes(
        &["hash-object", "-t", "tree", "--literally", "-w", "--stdin"],
        Some(&raw),
    );
    let stripe = git2::Oid::from_str(String::from_utf8_lossy(&stripe).trim()).unwrap();
    let repo = git2::Repository::open(&env.repo).unwrap();
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    let root = head.tree().unwrap();
    let vault = repo
        .find_tree(root.get_name(".agent-vault").unwrap().id())
        .unwrap();
    let secrets = repo
        .find_tree(vault.get_name("secrets").unwrap().id())
        .unwrap();
    let mut b = repo.treebuilder(Some(&secrets)).unwrap();
    b.insert("stripe", stripe, 0o040000).unwrap();
    let secrets = b.write().unwrap();
    let mut b = repo.treebuilder(Some(&vault)).unwrap();
    b.insert("secrets", secrets, 0o040000).unwrap();
    let vault = b.write().unwrap();
    let mut b = repo.treebuilder(Some(&root)).unwrap();
    b.insert(".agent-vault", vault, 0o040000).unwrap();
    let root = repo.find_tree(b.write().unwrap()).unwrap();
    let sig = git2::Signature::now("attacker", "a@example.com").unwrap();
    repo.commit(Some("HEAD"), &sig, &sig, "raw tree", &root, &[&head])
        .unwrap();
}

#[test]
fn finding_4_modes_git_normalises_and_names_twice_are_refused() {
    let fx = Fx::new();
    let repo = git2::Repository::open(&fx.env.repo).unwrap();
    let stripe = |name: &str| {
        let head = repo.head().unwrap().peel_to_tree().unwrap();
        head.get_path(std::path::Path::new(&format!(
            ".agent-vault/secrets/stripe/{name}"
        )))
        .unwrap()
        .id()
    };
    let (enc, meta) = (stripe("api-key.enc"), stripe("api-key.meta"));
    // A group-writable mode (which libgit2 reports as 100644).
    plant_raw_stripe_tree(
        &fx.env,
        &[
            ("100664", "api-key.enc", enc),
            ("100644", "api-key.meta", meta),
        ],
    );
    fx.agent("bot", &["get", "stripe/api-key"])
        .code(5)
        .stderr_has("not a regular file");
    // The attacker's ciphertext first, the genuine one second, under one name.
    fx.env.git(&["reset", "-q", "--hard", "HEAD~1"]);
    let evil = fx
        .env
        .age(&["-r", &fx.attacker_recipient()], b"evil")
        .ok()
        .stdout;
    let evil = repo.blob(&evil).unwrap();
    plant_raw_stripe_tree(
        &fx.env,
        &[
            ("100644", "api-key.enc", evil),
            ("100644", "api-key.enc", enc),
            ("100644", "api-key.meta", meta),
        ],
    );
    for run in [
        fx.agent("bot", &["get", "stripe/api-key"]),
        fx.env.av(&["verify", "--offline"]),
    ] {
        assert_eq!(run.code, 5, "{}", run.stderr);
        assert!(run.stderr.contains("twice"), "{}", run.stderr);
        assert!(!run.stdout.starts_with(VALUE));
    }
}
