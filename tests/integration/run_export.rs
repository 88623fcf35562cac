//! `run`: names, references, collisions, env files, masking, exec, exit codes and signals,
//! and what stops a command from starting. (`export` and `inject`: `export_formats.rs`.)

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::Stdio;

use crate::common::*;

/// Quotes, newlines, `$`, backticks, backslashes, a tab, command and variable syntax.
pub const HOSTILE: &[u8] =
    b"it's \"dq\" $HOME `id` $(echo pwned) ${PATH} \\back\\slash \\n\nsecond line\ttab '' end";
pub const TOKEN: &[u8] = b"tok-1234567890";

/// A vault with app/api-token, app/db-url (recorded as DATABASE_URL, hostile value) and
/// other/key; agent `bot` reads only `other`.
pub fn fixture() -> Env {
    let env = Env::with_vault();
    env.set("app/api-token", TOKEN);
    env.av_stdin(
        &[
            "set",
            "app/db-url",
            "--from-file",
            "-",
            "--env",
            "DATABASE_URL",
        ],
        HOSTILE,
    )
    .ok();
    env.set("other/key", b"other-value");
    env.av(&["add-agent", "bot"]).ok();
    env.av(&["grant", "bot", "other"]).ok();
    env
}

/// A file path in the environment's temp dir.
pub fn file(env: &Env, name: &str) -> PathBuf {
    env.root().join(name)
}

/// Runs `agent-vault run ARGS -- sh -c SCRIPT` with `$OUT` naming a file the script may write.
fn run_sh(env: &Env, args: &[&str], script: &str) -> (Run, PathBuf) {
    let out = file(env, "out");
    let _ = std::fs::remove_file(&out);
    let mut all: Vec<&str> = vec!["run"];
    all.extend(args);
    all.extend(["--", "sh", "-c", script]);
    let run = env.av_env(&all, &[("OUT", out.to_str().unwrap())]);
    (run, out)
}

#[test]
fn names_come_from_paths_recorded_names_and_explicit_names() {
    let env = fixture();
    let (run, out) = run_sh(
        &env,
        &["--group", "app", "--secret", "other/key=OTHER"],
        r#"printf '%s|%s|%s|%s' "$APP_API_TOKEN" "$DATABASE_URL" "$OTHER" "${OTHER_KEY-unset}" > "$OUT""#,
    );
    run.ok();
    let mut want = TOKEN.to_vec();
    want.push(b'|');
    want.extend_from_slice(HOSTILE);
    want.extend_from_slice(b"|other-value|unset");
    assert_eq!(std::fs::read(out).unwrap(), want);
    // --no-env gives the path's name back.
    env.av_stdin(
        &["set", "app/db-url", "--from-file", "-", "--no-env"],
        b"v2",
    )
    .ok();
    let (run, out) = run_sh(
        &env,
        &["--secret", "app/db-url"],
        r#"printf %s "$APP_DB_URL" > "$OUT""#,
    );
    run.ok();
    assert_eq!(std::fs::read(out).unwrap(), b"v2");
}

#[test]
fn two_secrets_for_one_name_is_an_error_naming_both() {
    let env = fixture();
    env.set("app/db_url", b"x");
    env.av_stdin(&["set", "app/db-url", "--from-file", "-", "--no-env"], b"y")
        .ok();
    let (run, out) = run_sh(&env, &["--group", "app"], "touch \"$OUT\"");
    let run = run
        .code(2)
        .stderr_has("'app/db-url'")
        .stderr_has("'app/db_url'");
    run.stderr_has("APP_DB_URL");
    assert!(!out.exists(), "the command ran");
    let (run, out) = run_sh(
        &env,
        &["--group", "app", "--secret", "app/db_url=OTHER"],
        r#"printf '%s/%s' "$APP_DB_URL" "$OTHER" > "$OUT""#,
    );
    run.ok();
    assert_eq!(std::fs::read(out).unwrap(), b"y/x");
}

#[test]
fn references_in_the_environment_and_env_files_are_replaced() {
    let env = fixture();
    let env_file = file(&env, "app.env");
    std::fs::write(
        &env_file,
        "# comment\nTOKEN=agent-vault://app/api-token\nPLAIN='not $a secret'\nexport DB=\"agent-vault://app/db-url\"\n",
    )
    .unwrap();
    let out = file(&env, "out");
    env.av_env(
        &[
            "run",
            "--env-file",
            env_file.to_str().unwrap(),
            "--",
            "sh",
            "-c",
            r#"printf '%s|%s|%s|%s' "$TOKEN" "$PLAIN" "$DB" "$FROM_ENV" > "$OUT""#,
        ],
        &[
            ("OUT", out.to_str().unwrap()),
            ("FROM_ENV", "agent-vault://other/key"),
        ],
    )
    .ok();
    let mut want = TOKEN.to_vec();
    want.extend_from_slice(b"|not $a secret|");
    want.extend_from_slice(HOSTILE);
    want.extend_from_slice(b"|other-value");
    assert_eq!(std::fs::read(&out).unwrap(), want);
    // A bad reference and a missing secret stop everything before the command runs.
    for (value, code) in [
        ("agent-vault://../etc", 2),
        ("agent-vault://app/missing", 3),
    ] {
        let _ = std::fs::remove_file(&out);
        env.av_env(
            &["run", "--", "sh", "-c", "touch \"$OUT\""],
            &[("OUT", out.to_str().unwrap()), ("X", value)],
        )
        .code(code);
        assert!(!out.exists(), "the command ran with {value}");
    }
    // A reference and a selected secret for one variable is a collision.
    env.av_env(
        &["run", "--secret", "app/api-token", "--", "true"],
        &[("APP_API_TOKEN", "agent-vault://other/key")],
    )
    .code(2)
    .stderr_has("'other/key'")
    .stderr_has("'app/api-token'");
}

#[test]
fn output_is_masked_across_reads_overlaps_and_binary() {
    let env = fixture();
    env.set("ov/left", b"abcdef");
    env.set("ov/right", b"defghi");
    env.set("ov/bin", b"\xff\xfe\x01bin\x80");
    let script = "printf 'start tok-1234'; sleep 0.3; printf '567890 end\\n'; \
                  printf 'xxabcdefghiyy\\n'; printf 'b:\\377\\376\\001bin\\200:b\\n'; \
                  printf 'err tok-' >&2; sleep 0.3; printf '1234567890\\n' >&2; printf '%s' \"$APP_API_TOKEN\" >&2";
    let run = env
        .av(&[
            "run", "--group", "app", "--group", "ov", "--", "sh", "-c", script,
        ])
        .ok();
    assert_eq!(
        run.stdout,
        b"start <concealed:app/api-token> end\nxx<concealed:ov/left><concealed:ov/right>yy\nb:<concealed:ov/bin>:b\n"
    );
    assert!(
        run.stderr
            .contains("<concealed:app/api-token>\n<concealed:app/api-token>"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("tok-"), "{}", run.stderr);
    // --no-masking shows them as they are.
    let run = env
        .av(&[
            "run",
            "--no-masking",
            "--secret",
            "app/api-token",
            "--",
            "sh",
            "-c",
            "printf %s \"$APP_API_TOKEN\"",
        ])
        .ok();
    assert_eq!(run.stdout, TOKEN);
}

#[test]
fn stdin_passes_through_to_the_command() {
    let env = fixture();
    let run = env
        .av_stdin(
            &["run", "--secret", "app/api-token", "--", "cat"],
            b"hello tok-1234567890!",
        )
        .ok();
    assert_eq!(run.stdout, b"hello <concealed:app/api-token>!");
    let run = env
        .av_stdin(
            &[
                "run",
                "--no-masking",
                "--secret",
                "app/api-token",
                "--",
                "cat",
            ],
            b"raw",
        )
        .ok();
    assert_eq!(run.stdout, b"raw");
}

#[test]
fn no_masking_replaces_agent_vault_with_the_command() {
    let env = fixture();
    for (flags, same) in [(&["--no-masking"][..], true), (&[][..], false)] {
        let mut args = vec!["run", "--secret", "app/api-token"];
        args.extend(flags);
        args.extend(["--", "sh", "-c", "echo $$ $PPID"]);
        let child = env
            .av_cmd(&env.repo, &args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id().to_string();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        let (shell, parent) = text.trim().split_once(' ').unwrap();
        if same {
            // exec: the shell *is* the process we started; nothing of ours is its parent.
            assert_eq!(shell, pid, "no exec happened");
            assert_ne!(parent, pid);
        } else {
            assert_ne!(shell, pid);
            assert_eq!(parent, pid, "the masked command is our child");
        }
    }
}

#[test]
fn exit_statuses_propagate() {
    let env = fixture();
    let script = env.root().join("not-executable.sh");
    std::fs::write(&script, "#!/bin/sh\n").unwrap();
    for masking in [true, false] {
        let base: &[&str] = if masking {
            &["run"]
        } else {
            &["run", "--no-masking"]
        };
        let with = |extra: &[&str]| -> Vec<String> {
            base.iter().chain(extra).map(|s| s.to_string()).collect()
        };
        let av = |args: Vec<String>| env.av(&args.iter().map(String::as_str).collect::<Vec<_>>());
        av(with(&["--", "sh", "-c", "exit 42"])).code(42);
        av(with(&["--", "sh", "-c", "kill -TERM $$"])).code(143);
        av(with(&["--", "sh", "-c", "kill -KILL $$"])).code(137);
        av(with(&["--", "no-such-command-here"]))
            .code(127)
            .stderr_has("not found");
        av(with(&["--", script.to_str().unwrap()])).code(126);
    }
}

/// Starts `run` with a command that traps SIGINT/TERM/HUP, reporting each, then waits.
fn trapping(
    env: &Env,
    extra: &[&str],
) -> (std::process::Child, BufReader<std::process::ChildStdout>) {
    let mut args = vec!["run"];
    args.extend(extra);
    args.extend([
        "--secret",
        "app/api-token",
        "--",
        "sh",
        "-c",
        "for s in INT TERM HUP; do trap \"echo got $s; exit 7\" $s; done; echo ready; \
         i=0; while [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; exit 1",
    ]);
    // A process started in the background by a non-interactive shell (as a CI runner may start
    // the tests) has SIGINT and SIGQUIT ignored, and `exec` passes that on: a shell cannot trap
    // a signal ignored on entry. The command starts from default dispositions, as from a
    // terminal.
    let bin = assert_cmd::cargo::cargo_bin("agent-vault");
    let mut all = vec![
        "-c",
        "import os, signal, sys\n\
         for s in (signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGHUP):\n    \
         signal.signal(s, signal.SIG_DFL)\n\
         os.execv(sys.argv[1], sys.argv[1:])",
        bin.to_str().unwrap(),
    ];
    all.extend(&args);
    let mut child = env
        .cmd_in(&env.repo, "python3", &all)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    (child, out)
}

#[test]
fn signals_sent_to_agent_vault_reach_the_command() {
    let env = fixture();
    for signal in ["INT", "TERM", "HUP"] {
        for extra in [&[][..], &["--no-masking"][..]] {
            let (mut child, mut out) = trapping(&env, extra);
            let status = std::process::Command::new("kill")
                .args([&format!("-{signal}"), &child.id().to_string()])
                .status()
                .unwrap();
            assert!(status.success());
            let mut rest = String::new();
            out.read_to_string(&mut rest).unwrap();
            assert_eq!(rest, format!("got {signal}\n"), "{signal} {extra:?}");
            assert_eq!(child.wait().unwrap().code(), Some(7), "{signal} {extra:?}");
        }
    }
}

/// Runs `agent-vault run -- python3 -c COMMAND` on a pseudo-terminal, types Ctrl-C once the
/// command prints `ready`, and returns what the terminal showed and the exit status (`None`:
/// no pty here).
fn ctrl_c_on_a_terminal(env: &Env, command: &str) -> Option<(String, i32)> {
    let args = [
        "run",
        "--secret",
        "app/api-token",
        "--",
        "python3",
        "-c",
        command,
    ];
    let (text, code) = on_a_terminal(env, &args, "ready", b"\x03")?;
    assert!(text.contains("ready"), "the command did not start: {text}");
    Some((text, code))
}

/// The command takes SIGINT with sigtimedwait for two seconds and prints the origin of each
/// (`si_code`: 128 the terminal, 0 a process); with `leave`, it first leaves the terminal's
/// foreground process group.
fn sigint_probe(leave: bool) -> String {
    format!(
        r#"
import os, signal, time
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGINT])
if {leave}:
    os.setpgid(0, 0)
print('ready', flush=True)
got, end = [], time.time() + 2
while time.time() < end:
    info = signal.sigtimedwait([signal.SIGINT], max(0.01, end - time.time()))
    if info:
        got.append(info.si_code)
print('got', got, flush=True)
"#,
        leave = if leave { "True" } else { "False" }
    )
}

/// A terminal's Ctrl-C reaches the whole foreground process group, the command included:
/// agent-vault does not send it again. (A command that left the group gets nothing from
/// agent-vault, which proves no copy is sent: in the group, a copy could merge with the
/// terminal's while it is pending.)
#[test]
fn ctrl_c_on_a_terminal_reaches_the_command_once() {
    let env = fixture();
    let Some((text, code)) = ctrl_c_on_a_terminal(&env, &sigint_probe(false)) else {
        return;
    };
    assert!(
        text.contains("got [128]\n"),
        "the command did not get the terminal's Ctrl-C: {text}"
    );
    assert_eq!(code, 0, "{text}");
    let Some((text, _)) = ctrl_c_on_a_terminal(&env, &sigint_probe(true)) else {
        return;
    };
    assert!(
        text.contains("got []\n"),
        "agent-vault forwarded the terminal's Ctrl-C: {text}"
    );
}

#[test]
fn an_unreadable_secret_stops_everything_before_the_command_starts() {
    let env = fixture();
    let bot = env.agent_key("bot");
    let out = file(&env, "ran");
    // Each refusal names what could not be read (the group, or the secret).
    let cases: [(&[&str], i32, &str); 3] = [
        (&["--agent", "bot", "--group", "app"], 4, "app"),
        (
            &[
                "--agent",
                "bot",
                "--secret",
                "other/key",
                "--secret",
                "app/api-token",
            ],
            4,
            "app/api-token",
        ),
        (&["--secret", "app/nope"], 3, "app/nope"),
    ];
    for (args, code, named) in cases {
        let mut all = vec!["run"];
        all.extend(args);
        all.extend(["--", "sh", "-c", "touch \"$OUT\""]);
        let run = env
            .av_env(&all, &[("OUT", out.to_str().unwrap())])
            .code(code);
        assert!(run.stderr.contains(named), "{args:?}: {}", run.stderr);
        assert!(!out.exists(), "{args:?}: the command ran");
        let mut all = vec!["export"];
        all.extend(args);
        let export = env.av(&all).code(code);
        assert!(export.stdout.is_empty());
        assert!(export.stderr.contains(named), "{args:?}: {}", export.stderr);
    }
    env.av(&["run", "--group", "nope", "--", "true"]).code(3);
    // The agent reads what it may.
    env.av_env(
        &[
            "run",
            "--secret",
            "other/key",
            "--",
            "sh",
            "-c",
            "printf %s \"$OTHER_KEY\" > \"$OUT\"",
        ],
        &[
            ("AGENT_VAULT_KEY", bot.to_str().unwrap()),
            ("OUT", out.to_str().unwrap()),
        ],
    )
    .ok();
    assert_eq!(std::fs::read(&out).unwrap(), b"other-value");
    // A tampered vault: exit 5, nothing runs.
    std::fs::remove_file(&out).unwrap();
    let owner = std::fs::read_to_string(env.vault_dir().join("owner.pub")).unwrap();
    let evil = env.age(&["-r", owner.trim()], b"evil").ok().stdout;
    std::fs::write(env.vault_dir().join("secrets/app/api-token.enc"), evil).unwrap();
    env.git(&["commit", "-qam", "swap", "--no-verify"]);
    env.av_env(
        &["run", "--group", "app", "--", "sh", "-c", "touch \"$OUT\""],
        &[("OUT", out.to_str().unwrap())],
    )
    .code(5);
    assert!(!out.exists());
}

#[test]
fn values_never_reach_argv_and_the_key_is_not_passed_on() {
    let env = fixture();
    let out = file(&env, "out");
    let owner = env.owner_key();
    let run = env.av_env(
        &["run", "--group", "app", "--", "sh", "-c",
          r#"{ tr '\0' ' ' < /proc/$$/cmdline; echo; tr '\0' ' ' < /proc/$PPID/cmdline; echo; env | grep -c '^AGENT_VAULT_KEY='; true; } > "$OUT""#],
        &[("OUT", out.to_str().unwrap()), ("AGENT_VAULT_KEY", owner.to_str().unwrap())],
    );
    run.ok();
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("agent-vault run --group app"), "{text}");
    assert!(
        text.ends_with("0\n"),
        "AGENT_VAULT_KEY reached the command: {text}"
    );
    assert!(
        !text.contains("tok-1234567890") && !text.contains("pwned"),
        "{text}"
    );
}

#[test]
fn nul_bytes_cannot_become_variables() {
    let env = fixture();
    env.set("bin/nul", b"a\0b");
    env.av(&["run", "--secret", "bin/nul", "--", "true"])
        .code(2)
        .stderr_has("'bin/nul'");
    env.av(&["export", "--secret", "bin/nul", "--format", "shell"])
        .code(2)
        .stderr_has("NUL");
}
