//! Tamper evidence: each attack is carried out with only what a repository writer has —
//! public keys, the stock `age` CLI, file edits, git history — and committed as the attacker.
//! Every reader (an agent with its own key home, the owner's `get`, `list`, `check`,
//! `verify`) and every owner command must refuse with exit 5, decrypt nothing, and re-encrypt
//! nothing to the attacker (HEAD does not move).

use std::fs;
use std::path::{Path, PathBuf};

use agent_vault::integrity::{self, SigningKey};

use crate::common::*;

const VALUE: &[u8] = b"sk_live_original_value";

struct Fx {
    env: Env,
    agent_home: PathBuf,
    bot_key: PathBuf,
}

impl Fx {
    /// A signed vault: agent `bot` reads group `stripe`; the agent has its own key home.
    fn new() -> Fx {
        let env = Env::with_vault();
        env.av(&["add-agent", "bot"]).ok();
        env.set("stripe/api-key", VALUE);
        env.set("db/url", b"postgres://db.internal/prod");
        env.av(&["grant", "bot", "stripe"]).ok();
        let agent_home = env.root().join("agent-home");
        fs::create_dir_all(&agent_home).unwrap();
        let bot_key = env.agent_key("bot");
        let fx = Fx {
            env,
            agent_home,
            bot_key,
        };
        // Legitimate use is silent, and the agent's first read pins nothing new: its key
        // file names the verify key.
        let run = fx.agent(&["get", "stripe/api-key", "--offline"]).ok();
        assert_eq!(run.stdout, VALUE);
        assert!(run.stderr.is_empty(), "{}", run.stderr);
        fx
    }

    fn agent(&self, args: &[&str]) -> Run {
        self.env.av_env(
            args,
            &[
                ("AGENT_VAULT_HOME", self.agent_home.to_str().unwrap()),
                ("AGENT_VAULT_KEY", self.bot_key.to_str().unwrap()),
            ],
        )
    }

    fn vault(&self) -> PathBuf {
        self.env.vault_dir()
    }

    /// Commits everything as the attacker would (bypassing hooks).
    fn attacker_commit(&self, message: &str) {
        self.env.git(&["add", "-A"]);
        self.env
            .git(&["commit", "-q", "--no-verify", "-m", message]);
    }

    /// An age recipient whose identity only the attacker holds.
    fn attacker_recipient(&self) -> String {
        let path = self.env.root().join("attacker.key");
        if !path.exists() {
            self.env.age_keygen(&path);
        }
        public_key_of(&path)
    }

    /// Asserts that every reader and owner command refuses with exit 5 and that nothing is
    /// decrypted or written.
    #[track_caller]
    fn assert_detected(&self, secret: &str) {
        let head = self.env.head();
        for (who, run) in [
            ("agent get", self.agent(&["get", secret, "--offline"])),
            ("owner get", self.env.av(&["get", secret, "--offline"])),
            ("list", self.env.av(&["list", "--offline"])),
            ("agent list", self.agent(&["list", "--offline"])),
            ("check", self.env.av(&["check"])),
            ("verify", self.env.av(&["verify", "--offline"])),
        ] {
            assert_eq!(
                run.code,
                5,
                "{who} did not detect the attack: {}",
                run.all()
            );
            assert!(
                !run.stdout.windows(VALUE.len()).any(|w| w == VALUE)
                    && !run.stdout.starts_with(b"evil"),
                "{who} printed a value"
            );
        }
        let set = self
            .env
            .av_stdin(&["set", "stripe/new", "--from-file", "-"], b"another value");
        assert_eq!(set.code, 5, "owner set did not refuse: {}", set.all());
        let grant = self.env.av(&["grant", "bot", "db"]);
        assert_eq!(grant.code, 5, "owner grant did not refuse: {}", grant.all());
        assert_eq!(
            self.env.head(),
            head,
            "an owner command wrote despite the attack"
        );
    }
}

fn write(path: &Path, bytes: impl AsRef<[u8]>) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
}

fn replace_in(path: &Path, from: &str, to: &str) {
    let text = fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{from:?} not in {}", path.display());
    fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn legitimate_use_stays_silent_and_verifies() {
    let fx = Fx::new();
    let verify = fx.env.av(&["verify", "--offline"]).ok();
    assert!(
        verify.all().contains("matches signed state"),
        "{}",
        verify.all()
    );
    let check = fx.env.av(&["check"]).ok();
    assert!(!check.all().contains("integrity"), "{}", check.all());
    fx.env.av(&["revoke", "bot", "stripe"]).ok();
    fx.agent(&["get", "stripe/api-key", "--offline"]).code(4);
    let bot_key = fs::read_to_string(&fx.bot_key).unwrap();
    assert!(
        bot_key.contains("# agent-vault verify-key: ed25519:"),
        "{bot_key}"
    );
}

#[test]
fn substituted_ciphertext_is_refused() {
    let fx = Fx::new();
    let owner = fs::read_to_string(fx.vault().join("owner.pub")).unwrap();
    let bot = fs::read_to_string(fx.vault().join("agents/bot/public.key")).unwrap();
    let evil = fx
        .env
        .age(
            &["-r", owner.trim(), "-r", bot.trim()],
            b"evil://attacker.example/db",
        )
        .ok()
        .stdout;
    write(&fx.vault().join("secrets/stripe/api-key.enc"), evil);
    fx.attacker_commit("rotate key");
    fx.assert_detected("stripe/api-key");
}

#[test]
fn dropped_in_ciphertext_is_refused() {
    let fx = Fx::new();
    let bot = fs::read_to_string(fx.vault().join("agents/bot/public.key")).unwrap();
    let evil = fx.env.age(&["-r", bot.trim()], b"evil value").ok().stdout;
    write(&fx.vault().join("secrets/stripe/extra.enc"), evil);
    write(
        &fx.vault().join("secrets/stripe/extra.meta"),
        "name: stripe/extra\ngroup: stripe\ncreated: 2026-01-01T00:00:00Z\nauthorized_agents:\n- bot\n",
    );
    fx.attacker_commit("add secret");
    fx.assert_detected("stripe/extra");
}

#[test]
fn deleted_secret_is_refused_not_reported_missing() {
    let fx = Fx::new();
    fs::remove_file(fx.vault().join("secrets/stripe/api-key.enc")).unwrap();
    fs::remove_file(fx.vault().join("secrets/stripe/api-key.meta")).unwrap();
    fx.attacker_commit("cleanup");
    fx.assert_detected("stripe/api-key");
}

#[test]
fn manifest_edit_adding_an_agent_is_refused_and_nothing_is_encrypted_to_it() {
    let fx = Fx::new();
    let mallory = fx.attacker_recipient();
    write(
        &fx.vault().join("agents/mallory/public.key"),
        format!("{mallory}\n"),
    );
    replace_in(
        &fx.vault().join("manifest.yaml"),
        "agents:\n",
        "agents:\n- name: mallory\n  groups:\n  - stripe\n",
    );
    fx.attacker_commit("add helper agent");
    fx.assert_detected("stripe/api-key");
}

#[test]
fn swapped_agent_public_key_is_refused() {
    let fx = Fx::new();
    let mallory = fx.attacker_recipient();
    write(
        &fx.vault().join("agents/bot/public.key"),
        format!("{mallory}\n"),
    );
    fx.attacker_commit("update bot key");
    fx.assert_detected("stripe/api-key");
}

#[test]
fn swapped_owner_key_is_refused_before_escrowing_to_it() {
    let fx = Fx::new();
    let mallory = fx.attacker_recipient();
    write(&fx.vault().join("owner.pub"), format!("{mallory}\n"));
    fx.attacker_commit("new owner");
    fx.assert_detected("stripe/api-key");
    let head = fx.env.head();
    fx.env
        .av(&[
            "add-agent",
            "newbot",
            "--key-out",
            fx.env.root().join("nb.key").to_str().unwrap(),
        ])
        .code(5);
    assert_eq!(fx.env.head(), head);
    assert!(
        !fx.env.root().join("nb.key").exists(),
        "a key was written despite the attack"
    );
}

#[test]
fn swapped_escrow_is_refused() {
    let fx = Fx::new();
    let owner = fs::read_to_string(fx.vault().join("owner.pub")).unwrap();
    let attacker_key = fx.env.root().join("planted.key");
    fx.env.age_keygen(&attacker_key);
    let planted = fx
        .env
        .age(&["-r", owner.trim()], &fs::read(&attacker_key).unwrap())
        .ok()
        .stdout;
    write(&fx.vault().join("agents/bot/private.key.escrow"), planted);
    fx.attacker_commit("refresh escrow");
    fx.assert_detected("stripe/api-key");
    let restored = fx.env.root().join("restored.key");
    fx.env
        .av(&["restore-agent", "bot", "--to", restored.to_str().unwrap()])
        .code(5);
    assert!(!restored.exists());
}

#[test]
fn edited_meta_is_refused() {
    for (from, to) in [
        (
            "authorized_agents:\n- bot\n",
            "authorized_agents:\n- bot\n- mallory\n",
        ),
        (
            "group: stripe\n",
            "group: stripe\nexpires: 2099-01-01T00:00:00Z\n",
        ),
    ] {
        let fx = Fx::new();
        replace_in(&fx.vault().join("secrets/stripe/api-key.meta"), from, to);
        fx.attacker_commit("edit metadata");
        fx.assert_detected("stripe/api-key");
    }
}

#[test]
fn rollback_of_one_secret_is_refused() {
    let fx = Fx::new();
    let before = fx.env.head();
    fx.env.set("stripe/api-key", b"sk_live_rotated_after_leak");
    fx.env.git(&[
        "checkout",
        &before,
        "--",
        ".agent-vault/secrets/stripe/api-key.enc",
        ".agent-vault/secrets/stripe/api-key.meta",
    ]);
    fx.attacker_commit("revert key");
    fx.assert_detected("stripe/api-key");
}

#[test]
fn rollback_of_the_whole_vault_to_an_older_signed_state_is_refused() {
    let fx = Fx::new();
    let before = fx.env.head();
    fx.env.set("stripe/api-key", b"sk_live_rotated_after_leak");
    // both the agent and the owner have seen the newer state
    assert_eq!(
        fx.agent(&["get", "stripe/api-key", "--offline"])
            .ok()
            .stdout,
        b"sk_live_rotated_after_leak"
    );
    fx.env.git(&["rm", "-r", "-q", ".agent-vault"]);
    fx.env.git(&["checkout", &before, "--", ".agent-vault"]);
    fx.attacker_commit("restore vault");
    // the old state is validly signed on its own ...
    let old = fs::read(fx.vault().join("integrity/statement")).unwrap();
    assert!(integrity::Statement::parse_and_verify(&old).is_ok());
    // ... but older than what every reader has seen
    let run = fx.agent(&["get", "stripe/api-key", "--offline"]).code(5);
    assert!(run.all().contains("rollback"), "{}", run.all());
    fx.assert_detected("stripe/api-key");
}

#[test]
fn forged_truncated_or_removed_signature_is_refused() {
    for attack in ["forge", "truncate", "remove", "resign"] {
        let fx = Fx::new();
        let statement = fx.vault().join("integrity/statement");
        let text = fs::read_to_string(&statement).unwrap();
        match attack {
            "forge" => {
                let seq_line = text.lines().find(|l| l.starts_with("seq ")).unwrap();
                fs::write(&statement, text.replacen(seq_line, "seq 999", 1)).unwrap();
            }
            "truncate" => fs::write(&statement, &text[..text.len() / 2]).unwrap(),
            "remove" => fs::remove_file(&statement).unwrap(),
            _ => {
                // A complete, valid statement signed with the attacker's own key.
                let key = SigningKey::generate().unwrap();
                let id = attacker::vault_id(&fx.vault());
                attacker::resign(&fx.vault(), &key, 999, Some(id));
            }
        }
        fx.attacker_commit(attack);
        fx.assert_detected("stripe/api-key");
    }
}

#[test]
fn owner_reviews_and_resigns_after_a_legitimate_hand_edit() {
    let fx = Fx::new();
    replace_in(
        &fx.vault().join("manifest.yaml"),
        "version: 1\n",
        "version: 1\nx-note: reviewed\n",
    );
    fx.attacker_commit("owner edits the manifest by hand");
    let verify = fx.env.av(&["verify", "--offline"]).code(5);
    assert!(verify.all().contains("manifest.yaml"), "{}", verify.all());
    fx.env.av(&["sign"]).ok();
    fx.env.av(&["verify", "--offline"]).ok();
    assert_eq!(
        fx.agent(&["get", "stripe/api-key", "--offline"])
            .ok()
            .stdout,
        VALUE
    );
}

#[test]
fn owners_record_of_its_own_signed_state_never_hides_a_later_attack() {
    let fx = Fx::new();
    // After each signed commit the owner's clone records the tree it signed, inside .git
    // only: nothing of it is tracked or shows in the working tree.
    let record = fx.env.repo.join(".git/agent-vault.verified");
    let text = fs::read_to_string(&record).unwrap();
    let tree = fx.env.git(&["rev-parse", "HEAD:.agent-vault"]);
    assert!(text.starts_with(&tree), "{text} does not name {tree}");
    assert_eq!(fx.env.git(&["status", "--porcelain", "--ignored"]), "");

    // A change pulled in later (here: committed by the attacker) is a different tree, so the
    // owner's next command hashes everything again and refuses.
    replace_in(
        &fx.vault().join("secrets/db/url.meta"),
        "group: db\n",
        "group: db\nexpires: 2099-01-01T00:00:00Z\n",
    );
    fx.attacker_commit("edit metadata");
    fx.assert_detected("db/url");

    // A record that is stale, garbage or names the wrong key is only a cache miss.
    for garbage in ["", "not a record", &format!("{tree} ed25519:AAAA 1")] {
        fs::write(&record, garbage).unwrap();
        let set = fx
            .env
            .av_stdin(&["set", "stripe/new", "--from-file", "-"], b"value");
        assert_eq!(set.code, 5, "owner set did not refuse: {}", set.all());
    }
}

#[test]
fn files_git_ignores_are_neither_signed_nor_reported() {
    // A stray key file or .DS_Store inside .agent-vault is ignored by git, so it never
    // reaches another clone: signing it would break every other reader, and reporting it as
    // tampering would be a false alarm.
    let fx = Fx::new();
    fs::write(fx.env.repo.join(".gitignore"), ".DS_Store\n").unwrap();
    fx.env.git(&["add", ".gitignore"]);
    fx.env.git(&["commit", "-q", "-m", "ignore .DS_Store"]);
    fs::write(fx.vault().join("agents/bot/notes.key"), "scratch\n").unwrap();
    fs::write(fx.vault().join("secrets/.DS_Store"), "finder\n").unwrap();
    assert_eq!(fx.env.git(&["status", "--porcelain"]), "");

    fx.env.av(&["list", "--offline"]).ok();
    fx.env.av(&["verify", "--offline"]).ok();
    fx.env.av(&["sign"]).ok();
    let statement = fs::read_to_string(fx.vault().join("integrity/statement")).unwrap();
    assert!(!statement.contains("notes.key"), "{statement}");
    fx.env.set("stripe/other", b"another value");

    let clone = fx.env.root().join("clone");
    fx.env.git_in(
        fx.env.root(),
        &[
            "clone",
            "-q",
            fx.env.repo.to_str().unwrap(),
            clone.to_str().unwrap(),
        ],
    );
    let run = fx
        .env
        .av_in(&clone, &["get", "stripe/api-key", "--offline"])
        .ok();
    assert_eq!(run.stdout, VALUE);
    fx.env.av_in(&clone, &["verify", "--offline"]).ok();
}

#[test]
fn line_ending_conversion_never_breaks_the_signature() {
    // core.autocrlf=true (Git for Windows' default) or `eol=crlf` attributes would rewrite
    // the signed text files on checkout; the vault's own .gitattributes switches that off.
    let fx = Fx::new();
    fs::write(fx.env.repo.join(".gitattributes"), "* text eol=crlf\n").unwrap();
    fx.env.git(&["add", ".gitattributes"]);
    fx.env.git(&["commit", "-q", "-m", "crlf everywhere"]);
    let clone = fx.env.root().join("crlf-clone");
    fx.env.git_in(
        fx.env.root(),
        &[
            "clone",
            "-q",
            "-c",
            "core.autocrlf=true",
            fx.env.repo.to_str().unwrap(),
            clone.to_str().unwrap(),
        ],
    );
    let manifest = fs::read(clone.join(".agent-vault/manifest.yaml")).unwrap();
    assert!(!manifest.contains(&b'\r'), "the manifest was converted");
    fx.env.av_in(&clone, &["list", "--offline"]).ok();
    fx.env.av_in(&clone, &["verify", "--offline"]).ok();
    let run = fx
        .env
        .av_in(&clone, &["get", "stripe/api-key", "--offline"])
        .ok();
    assert_eq!(run.stdout, VALUE);
    fx.env
        .av_stdin_in(
            &clone,
            &["set", "stripe/new", "--from-file", "-"],
            b"from the clone",
        )
        .ok();
}

#[test]
fn a_read_only_key_home_only_costs_a_warning() {
    // A container with a read-only home: the key file anchors the verify key, so the read is
    // verified; only remembering the sequence number (rollback protection) is lost.
    let fx = Fx::new();
    let file = fx.env.root().join("not-a-folder");
    fs::write(&file, "").unwrap();
    let home = file.join("home");
    let run = fx.env.av_env(
        &["get", "stripe/api-key", "--offline"],
        &[
            ("AGENT_VAULT_HOME", home.to_str().unwrap()),
            ("AGENT_VAULT_KEY", fx.bot_key.to_str().unwrap()),
        ],
    );
    let run = run.ok().stderr_has("rollback protection");
    assert_eq!(run.stdout, VALUE);
}
