//! init edge cases, agent registration, rotation metadata, extra agents, expiry.

use std::fs;

use crate::common::*;

#[test]
fn second_init_elsewhere_reuses_the_owner_key_and_again_in_one_repo_is_a_no_op() {
    let env = Env::new();
    let first = env.av(&["init", "--json"]).ok().json();
    let key_before = fs::read(env.owner_key()).unwrap();
    let other = env.root().join("other");
    // a directory that is not a repository yet: init creates the repo too
    let second = env
        .av_in(env.root(), &["init", other.to_str().unwrap(), "--json"])
        .ok()
        .json();
    assert_eq!(second["owner_key_created"], false);
    assert_eq!(second["repo_created"], true);
    assert_eq!(first["owner_public_key"], second["owner_public_key"]);
    assert_eq!(fs::read(env.owner_key()).unwrap(), key_before);
    assert!(other.join(".agent-vault/manifest.yaml").is_file());

    let (repo_before, home_before) = env.snapshot_all();
    // Running init again where the vault is: a no-op that says so.
    env.av(&["init"]).ok().stderr_has("already holds a vault");
    let (repo_after, home_after) = env.snapshot_all();
    assert_same_tree(&repo_before, &repo_after, "repo after a second init");
    assert_same_tree(&home_before, &home_after, "key home after a second init");
}

#[test]
fn init_of_a_new_folder_inside_a_repository_makes_its_own_repository() {
    // `agent-vault init ~/my-vault` when ~ is a dotfiles repository: the vault belongs in
    // the new folder, not in the enclosing repository.
    let env = Env::new();
    let inner = env.repo.join("projects/my-vault");
    let run = env
        .av(&["init", inner.to_str().unwrap(), "--json"])
        .ok()
        .json();
    assert_eq!(run["repo_created"], true);
    assert!(inner.join(".git").is_dir());
    assert!(inner.join(".agent-vault/manifest.yaml").is_file());
    assert!(!env.repo.join(".agent-vault").exists());
    assert_eq!(env.git(&["status", "--porcelain"]), "?? projects/");
}

#[test]
fn init_on_a_bare_repo_fails_leaving_nothing() {
    let env = Env::new();
    let bare = env.root().join("bare.git");
    env.git_in(
        env.root(),
        &["init", "-q", "--bare", bare.to_str().unwrap()],
    );
    let before = snapshot(&bare);
    let run = env
        .av_in(env.root(), &["init", bare.to_str().unwrap()])
        .code(2)
        .stderr_has("bare");
    assert!(!run.stderr.contains("panicked"));
    assert_same_tree(&before, &snapshot(&bare), "bare repo");
    assert!(
        !env.av_home.exists(),
        "a failed init left {}",
        env.av_home.display()
    );
}

#[test]
fn init_on_an_unwritable_directory_fails_leaving_nothing() {
    let env = Env::new();
    // a path under a regular file can never be created, whoever we are
    let file = env.root().join("a-file");
    fs::write(&file, "x").unwrap();
    let target = file.join("sub");
    let run = env.av_in(env.root(), &["init", target.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let run = run.stderr_has("not a directory");
    assert_eq!(
        run.stderr.to_lowercase().matches("not a directory").count(),
        1,
        "the cause is repeated: {}",
        run.stderr
    );
    assert!(
        !env.av_home.exists(),
        "a failed init left {}",
        env.av_home.display()
    );

    // a real read-only directory: permissions if we are not root; as root (which ignores
    // permissions) an immutable directory via chattr, when the file system supports it
    let ro = env.root().join("ro");
    env.git_in(env.root(), &["init", "-q", ro.to_str().unwrap()]);
    struct Undo(std::path::PathBuf, bool);
    impl Drop for Undo {
        fn drop(&mut self) {
            if self.1 {
                let _ = std::process::Command::new("chattr")
                    .arg("-i")
                    .arg(&self.0)
                    .status();
            } else {
                use std::os::unix::fs::PermissionsExt;
                let _ = fs::set_permissions(&self.0, fs::Permissions::from_mode(0o755));
            }
        }
    }
    let _undo = if is_root() {
        let ok = std::process::Command::new("chattr")
            .arg("+i")
            .arg(&ro)
            .stderr(std::process::Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            skip("the read-only part: running as root and chattr +i is unavailable");
            return;
        }
        Undo(ro.clone(), true)
    } else {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&ro, fs::Permissions::from_mode(0o555)).unwrap();
        Undo(ro.clone(), false)
    };
    let before = snapshot(&ro);
    let run = env.av_in(env.root(), &["init", ro.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let run = run.stderr_has("permission");
    assert_eq!(run.stderr.matches("(os error").count(), 1, "{}", run.stderr);
    assert_same_tree(&before, &snapshot(&ro), "read-only repo");
    assert!(
        !env.av_home.exists(),
        "a failed init left {}",
        env.av_home.display()
    );
}

#[test]
fn add_agent_never_overwrites_and_public_key_agents_have_no_escrow() {
    let env = Env::with_vault();
    // an existing key file at the default location
    let default = env.default_agent_key("bot");
    fs::create_dir_all(default.parent().unwrap()).unwrap();
    fs::write(&default, "precious").unwrap();
    let (repo_before, _) = env.snapshot_all();
    env.av(&["add-agent", "bot"])
        .code(1)
        .stderr_has("already exists");
    assert_eq!(fs::read_to_string(&default).unwrap(), "precious");
    // and at --key-out
    let out = env.root().join("taken.key");
    fs::write(&out, "precious too").unwrap();
    env.av(&["add-agent", "bot", "--key-out", out.to_str().unwrap()])
        .code(1)
        .stderr_has("already exists");
    assert_eq!(fs::read_to_string(&out).unwrap(), "precious too");
    assert_same_tree(
        &repo_before,
        &snapshot(&env.repo),
        "repo after refused add-agent",
    );

    // the same agent name twice
    env.av(&["add-agent", "ok"]).ok();
    env.av(&[
        "add-agent",
        "ok",
        "--key-out",
        env.root().join("ok2.key").to_str().unwrap(),
    ])
    .code(1);

    // --public-key: no escrow, recover/restore say so
    let ext_key = env.root().join("ext.key");
    let ext_pub = env.age_keygen(&ext_key);
    // Its key file was made elsewhere: the command says which verify-key line to add.
    let statement = fs::read_to_string(env.vault_dir().join("integrity/statement")).unwrap();
    let verify_key = statement
        .lines()
        .find_map(|l| l.strip_prefix("verify-key "))
        .unwrap()
        .to_owned();
    env.av(&["add-agent", "ext", "--public-key", &ext_pub])
        .ok()
        .stderr_has(&format!("# agent-vault verify-key: {verify_key}"));
    env.av(&["add-agent", "bad", "--public-key", "age1notakey"])
        .code(2)
        .stderr_has("recipient");
    let head = env.head();
    env.av(&["recover-agent", "ext"])
        .code(3)
        .stderr_has("escrow");
    let to = env.root().join("ext-restored.key");
    env.av(&["restore-agent", "ext", "--to", to.to_str().unwrap()])
        .code(3)
        .stderr_has("escrow");
    assert!(!to.exists());
    assert_eq!(env.head(), head);
    // it can still be granted and read with its own key
    env.set("ext/token", b"for-ext");
    env.av(&["grant", "ext", "ext"]).ok();
    assert_eq!(
        env.av(&[
            "get",
            "ext/token",
            "--key",
            ext_key.to_str().unwrap(),
            "--offline"
        ])
        .ok()
        .stdout,
        b"for-ext"
    );
}

fn meta(env: &Env, path: &str) -> String {
    fs::read_to_string(env.vault_dir().join(format!("secrets/{path}.meta"))).unwrap()
}

fn field(meta: &str, key: &str) -> Option<String> {
    meta.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}: ")))
        .map(|v| v.trim_matches('\'').to_owned())
}

#[test]
fn rotation_keeps_created_and_updates_rotated() {
    let env = Env::with_vault();
    env.set("db/password", b"one");
    let m = meta(&env, "db/password");
    // pretend it was created long ago, committed by hand
    let old = m
        .replace(&field(&m, "created").unwrap(), "2020-01-01T00:00:00Z")
        .replace(&field(&m, "rotated").unwrap(), "2020-01-01T00:00:00Z");
    fs::write(env.vault_dir().join("secrets/db/password.meta"), old).unwrap();
    env.git(&["commit", "-q", "-am", "backdate"]);
    env.av(&["sign"]).ok(); // the owner reviewed the hand edit
    env.set("db/password", b"two");
    let m = meta(&env, "db/password");
    assert_eq!(field(&m, "created").unwrap(), "2020-01-01T00:00:00Z", "{m}");
    let rotated = field(&m, "rotated").unwrap();
    assert!(
        rotated.starts_with("20") && rotated != "2020-01-01T00:00:00Z",
        "{m}"
    );
    assert_eq!(env.get("db/password"), b"two");
    assert_eq!(
        env.git(&["log", "-1", "--format=%s"]),
        "agent-vault: rotate secret db/password"
    );
}

#[test]
fn extra_agents_survive_grant_and_revoke_and_go_with_remove_agent() {
    let env = Env::with_vault();
    for a in ["ci", "bot", "ops"] {
        env.av(&["add-agent", a]).ok();
    }
    env.av(&["set", "db/password", "pw", "--agents", "ci,ops"])
        .ok();
    let m = meta(&env, "db/password");
    assert!(m.contains("extra_agents:\n- ci\n- ops"), "{m}");
    env.av(&["grant", "bot", "db"]).ok();
    env.av(&["revoke", "bot", "db"]).ok();
    for a in ["ci", "ops"] {
        assert_eq!(
            env.av(&["get", "db/password", "--agent", a, "--offline"])
                .ok()
                .stdout,
            b"pw",
            "extra agent {a} lost access"
        );
    }
    env.av(&["get", "db/password", "--agent", "bot", "--offline"])
        .code(4);
    // rotation without --agents keeps the extras
    env.set("db/password", b"pw2");
    assert_eq!(
        env.av(&["get", "db/password", "--agent", "ci", "--offline"])
            .ok()
            .stdout,
        b"pw2"
    );
    env.av(&["remove-agent", "ci"])
        .ok()
        .stderr_has("db/password");
    let m = meta(&env, "db/password");
    assert!(!m.contains("- ci"), "{m}");
    assert!(m.contains("- ops"), "{m}");
    env.av(&["check"]).ok();
    // an unknown agent in --agents is not found
    env.av(&["set", "db/other", "x", "--agents", "ghost"])
        .code(3);
}

#[test]
fn expiry_warns_on_get_and_is_reported_by_check() {
    let env = Env::with_vault();
    env.av(&["set", "old/token", "still-here", "--expires", "2020-01-01"])
        .ok();
    let run = env
        .av(&["get", "old/token", "--offline"])
        .ok()
        .stderr_has("expired");
    assert_eq!(run.stdout, b"still-here");
    assert!(!run.stderr.contains("still-here"));
    let run = env.av(&["check", "--json"]).code(1);
    let j = run.json();
    assert_eq!(j["error_count"], 1);
    assert_eq!(j["errors"].as_array().unwrap().len(), 1);
    assert_eq!(j["findings"][0]["code"], "expired");
    env.av(&["check"]).code(1);

    env.av(&["rm", "old/token"]).ok();
    env.av(&["set", "new/token", "v", "--expires", "3d"]).ok();
    let j = env.av(&["check", "--json"]).ok().json();
    assert_eq!(j["warning_count"], 1, "{j}");
    assert_eq!(j["findings"][0]["code"], "expiring");
    env.av(&["check", "--strict"]).code(1);
    env.av(&["check", "--strict", "--soon", "1d"]).ok();
    env.av(&["set", "x/y", "v", "--expires", "someday"]).code(2);
}
