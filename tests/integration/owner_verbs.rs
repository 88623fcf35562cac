//! The everyday owner verbs: `edit` (no plaintext left behind, whatever happens), `import`,
//! `generate`, `mv`, `log`, and `set --env`.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::*;

/// A vault with app/api-token ("old-value") readable by agent `bot` (group app).
fn fixture() -> Env {
    let env = Env::with_vault();
    env.set("app/api-token", b"old-value");
    env.av(&["add-agent", "bot"]).ok();
    env.av(&["grant", "bot", "app"]).ok();
    env
}

/// An executable shell script at `<root>/name`.
fn script(env: &Env, name: &str, body: &str) -> PathBuf {
    let path = env.root().join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// The private folder base `edit` uses in these tests (via XDG_RUNTIME_DIR), and the record
/// file editor scripts write to.
struct EditFx {
    env: Env,
    xdg: PathBuf,
    record: PathBuf,
}

impl EditFx {
    fn new() -> EditFx {
        let env = fixture();
        let xdg = env.root().join("xdg");
        std::fs::create_dir(&xdg).unwrap();
        std::fs::set_permissions(&xdg, std::fs::Permissions::from_mode(0o700)).unwrap();
        let record = env.root().join("record");
        EditFx { env, xdg, record }
    }

    fn vars<'a>(&'a self, editor: &'a Path) -> Vec<(&'a str, &'a str)> {
        vec![
            ("EDITOR", editor.to_str().unwrap()),
            ("XDG_RUNTIME_DIR", self.xdg.to_str().unwrap()),
            ("RECORD", self.record.to_str().unwrap()),
        ]
    }

    fn edit(&self, path: &str, editor_body: &str) -> Run {
        let editor = script(&self.env, "editor", editor_body);
        let bin = assert_cmd::cargo::cargo_bin("agent-vault");
        let mut vars = self.vars(&editor);
        vars.push(("AV_BIN", bin.to_str().unwrap()));
        self.env.av_env(&["edit", path], &vars)
    }

    /// Nothing is left in the private folder base.
    #[track_caller]
    fn assert_no_plaintext_left(&self) {
        let left: Vec<_> = std::fs::read_dir(&self.xdg)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        assert!(left.is_empty(), "left behind: {left:?}");
    }
}

#[test]
fn edit_stores_the_change_through_a_private_file_that_is_gone_afterwards() {
    let fx = EditFx::new();
    let commits = fx.env.commit_count();
    fx.edit(
        "app/api-token",
        r#"f="$1"; { echo "$f"; stat -c %a "$(dirname "$f")"; stat -c %a "$f"; cat "$f"; echo; } > "$RECORD"
printf backup > "$f~"; printf 'new value\n' > "$f""#,
    )
    .ok();
    let record = std::fs::read_to_string(&fx.record).unwrap();
    let lines: Vec<&str> = record.lines().collect();
    assert!(lines[0].starts_with(fx.xdg.to_str().unwrap()), "{record}");
    assert_eq!(&lines[1..4], ["700", "600", "old-value"], "{record}");
    assert_eq!(fx.env.get("app/api-token"), b"new value");
    assert_eq!(fx.env.commit_count(), commits + 1);
    fx.assert_no_plaintext_left();
    // A new secret is created; an unchanged or emptied file stores nothing.
    fx.edit("app/new", "printf 'fresh' > \"$1\"").ok();
    assert_eq!(fx.env.get("app/new"), b"fresh");
    let commits = fx.env.commit_count();
    fx.edit("app/new", "true").ok().stderr_has("no change");
    fx.edit("app/new", ": > \"$1\"").ok().stderr_has("empty");
    assert_eq!(fx.env.commit_count(), commits);
    fx.assert_no_plaintext_left();
}

#[test]
fn a_failing_or_interrupted_editor_stores_nothing_and_leaves_nothing() {
    let fx = EditFx::new();
    let commits = fx.env.commit_count();
    fx.edit("app/api-token", "printf changed > \"$1\"; exit 3")
        .code(1)
        .stderr_has("nothing was stored");
    fx.assert_no_plaintext_left();
    // The editor dies of Ctrl-C (the terminal signals it directly).
    fx.edit("app/api-token", "printf changed > \"$1\"; kill -INT $$")
        .code(1)
        .stderr_has("nothing was stored");
    fx.assert_no_plaintext_left();
    assert_eq!(fx.env.get("app/api-token"), b"old-value");
    assert_eq!(fx.env.commit_count(), commits);
}

#[test]
fn edit_interrupted_by_a_signal_wipes_the_file_and_stores_nothing() {
    for (signal, code) in [("TERM", 143), ("INT", 130), ("HUP", 129)] {
        let fx = EditFx::new();
        let editor = script(
            &fx.env,
            "editor",
            r#"printf changed > "$1"; echo "$1" > "$RECORD"; exec sleep 30"#,
        );
        let mut cmd = fx.env.av_cmd(&fx.env.repo, &["edit", "app/api-token"]);
        for (k, v) in fx.vars(&editor) {
            cmd.env(k, v);
        }
        let mut child = cmd.stderr(Stdio::piped()).spawn().unwrap();
        let start = Instant::now();
        // The record is complete once its line ends (the shell creates it before writing).
        let file = loop {
            match std::fs::read_to_string(&fx.record) {
                Ok(line) if line.ends_with('\n') => break line,
                _ => {}
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the editor never started"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(Path::new(file.trim()).exists());
        std::process::Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        let status = child.wait().unwrap();
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        assert_eq!(status.code(), Some(code), "{signal}: {stderr}");
        assert!(stderr.contains("nothing was stored"), "{stderr}");
        assert!(!Path::new(file.trim()).exists());
        fx.assert_no_plaintext_left();
        assert_eq!(fx.env.get("app/api-token"), b"old-value");
    }
}

#[test]
fn edit_refuses_to_overwrite_a_value_stored_meanwhile() {
    let fx = EditFx::new();
    fx.edit(
        "app/api-token",
        r#"printf 'from elsewhere' | "$AV_BIN" set app/api-token --from-file - 2>/dev/null; printf mine > "$1""#,
    )
    .code(6)
    .stderr_has("edit app/api-token` again");
    assert_eq!(fx.env.get("app/api-token"), b"from elsewhere");
    fx.assert_no_plaintext_left();
}

const DOTENV: &str = "# settings\nDATABASE_URL='postgres://u:p@h/db'\nAPI_TOKEN=\"tok \\\"q\\\" $HOME `x`\"\nEMPTY=\nREF=agent-vault://x/y\nexport MULTI=\"line1\\nline2\"\n";

#[test]
fn import_stores_a_dotenv_file_in_one_commit_with_its_names() {
    let env = fixture();
    let file = env.root().join("app.env");
    std::fs::write(&file, DOTENV).unwrap();
    let commits = env.commit_count();
    let run = env
        .av(&[
            "import",
            file.to_str().unwrap(),
            "--group",
            "cfg",
            "--dry-run",
        ])
        .ok();
    assert!(
        run.out()
            .contains("add        cfg/database-url  (DATABASE_URL)"),
        "{}",
        run.out()
    );
    assert!(
        run.stderr.contains("EMPTY is empty") && run.stderr.contains("REF is an agent-vault://")
    );
    assert_eq!(env.commit_count(), commits);
    env.av(&["get", "cfg/api-token"]).code(3);
    env.av(&["import", file.to_str().unwrap(), "--group", "cfg"])
        .ok();
    assert_eq!(env.commit_count(), commits + 1);
    assert_eq!(env.get("cfg/api-token"), b"tok \"q\" $HOME `x`");
    assert_eq!(env.get("cfg/multi"), b"line1\nline2");
    // `run --group` gives the program the file's names back.
    let out = env.root().join("out");
    env.av_env(
        &[
            "run",
            "--group",
            "cfg",
            "--",
            "sh",
            "-c",
            r#"printf '%s|%s|%s' "$DATABASE_URL" "$API_TOKEN" "$MULTI" > "$OUT""#,
        ],
        &[("OUT", out.to_str().unwrap())],
    )
    .ok();
    assert_eq!(
        std::fs::read(&out).unwrap(),
        b"postgres://u:p@h/db|tok \"q\" $HOME `x`|line1\nline2"
    );
    // Importing the same file again changes nothing.
    let run = env
        .av(&["import", file.to_str().unwrap(), "--group", "cfg"])
        .ok();
    assert!(
        run.out().lines().all(|l| l.starts_with("unchanged")),
        "{}",
        run.out()
    );
    assert_eq!(env.commit_count(), commits + 1);
    // Two variables for one path.
    std::fs::write(&file, "_X=1\nX=2\n").unwrap();
    env.av(&["import", file.to_str().unwrap(), "--group", "cfg"])
        .code(2)
        .stderr_has("_X and X");
    std::fs::write(&file, "A='unclosed\n").unwrap();
    env.av(&["import", file.to_str().unwrap(), "--group", "cfg"])
        .code(2)
        .stderr_has("line 1");
}

#[test]
fn generate_stores_a_random_value_without_showing_it() {
    let env = fixture();
    let run = env.av(&["generate", "app/password"]).ok();
    assert!(run.stdout.is_empty());
    let value = env.get("app/password");
    assert_eq!(value.len(), 32);
    assert!(value.iter().all(u8::is_ascii_alphanumeric));
    env.av(&["generate", "app/password"])
        .code(1)
        .stderr_has("--force");
    assert_eq!(env.get("app/password"), value);
    let run = env
        .av(&[
            "generate",
            "app/password",
            "--force",
            "--length",
            "64",
            "--charset",
            "hex",
            "--print",
            "--env",
            "PW",
        ])
        .ok();
    assert_eq!(run.stdout, env.get("app/password"));
    assert_eq!(run.stdout.len(), 64);
    assert!(
        run.stdout
            .iter()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    let out = env.root().join("out");
    env.av_env(
        &[
            "run",
            "--secret",
            "app/password",
            "--",
            "sh",
            "-c",
            "printf %s \"$PW\" > \"$OUT\"",
        ],
        &[("OUT", out.to_str().unwrap())],
    )
    .ok();
    assert_eq!(std::fs::read(&out).unwrap(), run.stdout);
    env.av(&["generate", "app/x", "--charset", "emoji"]).code(2);
    env.av(&["generate", "app/x", "--length", "0"]).code(2);
    env.av(&[
        "generate",
        "app/pin",
        "--length",
        "4",
        "--charset",
        "digits",
    ])
    .ok()
    .stderr_has("bits of entropy");
}

#[test]
fn mv_keeps_the_ciphertext_and_readers_unless_the_group_changes() {
    let env = fixture();
    let blob = |path: &str| {
        env.git(&[
            "rev-parse",
            &format!("HEAD:.agent-vault/secrets/{path}.enc"),
        ])
    };
    let before = blob("app/api-token");
    let bot = env.agent_key("bot");
    let bot_get = |path: &str| {
        env.av_env(
            &["get", path, "--offline"],
            &[("AGENT_VAULT_KEY", bot.to_str().unwrap())],
        )
    };
    env.av(&["mv", "app/api-token", "app/token"]).ok();
    assert_eq!(blob("app/token"), before);
    assert_eq!(bot_get("app/token").ok().stdout, b"old-value");
    env.av(&["get", "app/api-token"]).code(3);
    env.av(&["mv", "app/token", "ops/token", "--group", "ops"])
        .ok()
        .stderr_has("re-encrypted");
    assert_ne!(blob("ops/token"), before);
    bot_get("ops/token").code(4);
    assert_eq!(env.get("ops/token"), b"old-value");
    env.av(&["mv", "ops/token", "ops/token"]).code(2);
    env.av(&["mv", "nope/x", "nope/y"]).code(3);
    env.set("ops/other", b"x");
    env.av(&["mv", "ops/token", "ops/other"])
        .code(1)
        .stderr_has("already exists");
    // `log` follows the moves back to the secret's creation.
    let log = env.av(&["log", "ops/token", "--json"]).ok().json();
    let ops: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["operation"].as_str().unwrap())
        .collect();
    // `grant` re-encrypted it for bot.
    assert_eq!(ops, ["mv", "mv", "grant", "set"]);
    assert_eq!(log[3]["path"], "app/api-token");
    let text = env.av(&["log", "ops/token"]).ok().out();
    assert!(text.contains("[as app/api-token]"), "{text}");
}

#[test]
fn log_lists_who_changed_what_without_values() {
    let env = fixture();
    let all = env.av(&["log", "--json"]).ok().json();
    let entries = all.as_array().unwrap();
    assert_eq!(entries.len(), env.commit_count());
    assert_eq!(entries[0]["operation"], "grant");
    assert_eq!(entries[0]["author"], AUTHOR_NAME);
    let one = env.av(&["log", "app/api-token", "-n", "5"]).ok().out();
    assert_eq!(
        one.lines().count(),
        3,
        "header, grant (re-encrypted), set: {one}"
    );
    assert!(one.contains("add secret app/api-token"), "{one}");
    assert!(!one.contains("old-value"));
    env.av(&["log", "-n", "1", "--json"]).ok();
}

#[test]
fn set_env_records_a_variable_name() {
    let env = fixture();
    env.av_stdin(&["set", "app/api-token", "--env", "1BAD"], b"v")
        .code(2);
    env.av_stdin(&["set", "app/api-token", "--env", "TOKEN"], b"v")
        .ok();
    let meta = std::fs::read_to_string(env.vault_dir().join("secrets/app/api-token.meta")).unwrap();
    assert!(meta.contains("env: TOKEN"), "{meta}");
    let run = env
        .av(&["export", "--secret", "app/api-token", "--format", "json"])
        .ok();
    assert_eq!(run.json()["TOKEN"], "v");
    // Rotating keeps the name; --no-env removes it.
    env.set("app/api-token", b"w");
    assert_eq!(
        env.av(&["export", "--secret", "app/api-token", "--format", "json"])
            .ok()
            .json()["TOKEN"],
        "w"
    );
    env.av_stdin(&["set", "app/api-token", "--no-env"], b"w")
        .ok();
    assert_eq!(
        env.av(&["export", "--secret", "app/api-token", "--format", "json"])
            .ok()
            .json()["APP_API_TOKEN"],
        "w"
    );
}

#[test]
fn no_value_reaches_git() {
    let env = fixture();
    let file = env.root().join("app.env");
    std::fs::write(&file, DOTENV).unwrap();
    env.av(&["import", file.to_str().unwrap(), "--group", "cfg"])
        .ok();
    let generated = env.av(&["generate", "cfg/pw", "--print"]).ok().stdout;
    env.av(&["mv", "cfg/pw", "app/pw", "--group", "app"]).ok();
    let objects = env.git_bytes(&["cat-file", "--batch-all-objects", "--batch"], None);
    let text = String::from_utf8_lossy(&objects);
    for value in [
        "old-value",
        "postgres://u:p@h/db",
        "line1",
        "tok \"q\"",
        &String::from_utf8(generated).unwrap(),
    ] {
        assert!(!text.contains(value), "{value:?} is in a git object");
    }
}
