//! `export` and `inject`: every export format read back by its consumer (`sh` and `bash`
//! sourcing, `run --env-file`, python-dotenv, `jq`, a `$GITHUB_ENV` parser as the Actions
//! runner reads it), and templates filled from stdin to stdout.

use crate::common::*;
use crate::run_export::{HOSTILE, TOKEN, file, fixture};

fn export(env: &Env, format: &str) -> Run {
    env.av(&[
        "export",
        "--group",
        "app",
        "--secret",
        "other/key",
        "--format",
        format,
    ])
    .ok()
}

/// The expected variables.
fn expected() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("APP_API_TOKEN", TOKEN.to_vec()),
        ("DATABASE_URL", HOSTILE.to_vec()),
        ("OTHER_KEY", b"other-value".to_vec()),
    ]
}

#[test]
fn shell_format_survives_sourcing_in_sh_and_bash() {
    let env = fixture();
    let script = file(&env, "vars.sh");
    std::fs::write(&script, export(&env, "shell").stdout).unwrap();
    for shell in ["sh", "bash"] {
        for (name, value) in expected() {
            let out = env
                .cmd_in(
                    env.root(),
                    shell,
                    &["-c", &format!(". ./vars.sh && printf %s \"${name}\"")],
                )
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{shell}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(out.stdout, value, "{shell} {name}");
        }
    }
    // Bytes that are not UTF-8 survive too.
    env.set("bin/raw", b"\xff\xfe'x");
    let out = env
        .av(&["export", "--secret", "bin/raw", "--format", "shell"])
        .ok()
        .stdout;
    std::fs::write(&script, out).unwrap();
    let out = env
        .cmd_in(
            env.root(),
            "sh",
            &["-c", ". ./vars.sh && printf %s \"$BIN_RAW\""],
        )
        .output()
        .unwrap();
    assert_eq!(out.stdout, b"\xff\xfe'x");
    env.av(&["export", "--secret", "bin/raw", "--format", "json"])
        .code(2)
        .stderr_has("--format shell");
}

#[test]
fn dotenv_format_survives_run_env_file_and_python_dotenv() {
    let env = fixture();
    let dotenv = file(&env, "app.env");
    std::fs::write(&dotenv, export(&env, "dotenv").stdout).unwrap();
    for (name, value) in expected() {
        let out = file(&env, "out");
        env.av_env(
            &[
                "run",
                "--env-file",
                dotenv.to_str().unwrap(),
                "--",
                "sh",
                "-c",
                &format!("printf %s \"${name}\" > \"$OUT\""),
            ],
            &[("OUT", out.to_str().unwrap())],
        )
        .ok();
        assert_eq!(std::fs::read(&out).unwrap(), value, "{name}");
    }
    let py = "import json, sys\nfrom dotenv import dotenv_values\nsys.stdout.write(json.dumps(dotenv_values(sys.argv[1], interpolate=False)))";
    let out = env
        .cmd_in(env.root(), "python3", &["-c", py, dotenv.to_str().unwrap()])
        .output()
        .unwrap();
    if !out.status.success() {
        skip(&format!(
            "python-dotenv is not installed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
        return;
    }
    let parsed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for (name, value) in expected() {
        assert_eq!(
            parsed[name].as_str().unwrap().as_bytes(),
            value,
            "python-dotenv {name}"
        );
    }
}

#[test]
fn json_format_survives_jq() {
    let env = fixture();
    let json = file(&env, "vars.json");
    std::fs::write(&json, export(&env, "json").stdout).unwrap();
    for (name, value) in expected() {
        let out = env
            .cmd_in(
                env.root(),
                "jq",
                &["-j", &format!(".{name}"), json.to_str().unwrap()],
            )
            .output();
        let Ok(out) = out else {
            skip("jq is not installed");
            return;
        };
        assert!(out.status.success());
        assert_eq!(out.stdout, value, "{name}");
    }
}

/// `$GITHUB_ENV` read as the Actions runner reads it (lines split on LF; `NAME=VALUE` or
/// `NAME<<DELIMITER` … `DELIMITER`, the newline before the delimiter not part of the value).
fn parse_github_env(text: &str) -> Vec<(String, String)> {
    let mut vars = Vec::new();
    let mut lines = text.split_inclusive('\n');
    while let Some(line) = lines.next() {
        let line = line.strip_suffix('\n').unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let (eq, heredoc) = (line.find('='), line.find("<<"));
        match (eq, heredoc) {
            (Some(e), h) if h.is_none_or(|h| e < h) => {
                vars.push((line[..e].to_owned(), line[e + 1..].to_owned()));
            }
            (_, Some(h)) => {
                let (name, delimiter) = (&line[..h], &line[h + 2..]);
                assert!(!name.is_empty() && !delimiter.is_empty());
                let mut value = String::new();
                loop {
                    let next = lines.next().expect("Matching delimiter not found");
                    if next.strip_suffix('\n').unwrap_or(next) == delimiter {
                        break;
                    }
                    value.push_str(next);
                }
                let value = value.strip_suffix('\n').unwrap_or(&value).to_owned();
                vars.push((name.to_owned(), value));
            }
            _ => panic!("Invalid format '{line}'"),
        }
    }
    vars
}

#[test]
fn github_format_survives_github_env_and_masks_every_value() {
    let env = fixture();
    let run = export(&env, "github");
    let vars = parse_github_env(&run.out());
    assert_eq!(vars.len(), 3);
    for ((name, value), (want_name, want)) in vars.iter().zip(expected()) {
        assert_eq!(name, want_name);
        assert_eq!(value.as_bytes(), want, "{name}");
    }
    // The masks, as the runner reads `::add-mask::` commands (data unescaped).
    let masks: Vec<String> = run
        .stderr
        .lines()
        .filter_map(|l| l.strip_prefix("::add-mask::"))
        .map(|d| {
            d.replace("%0A", "\n")
                .replace("%0D", "\r")
                .replace("%25", "%")
        })
        .collect();
    for (_, value) in expected() {
        let value = String::from_utf8(value).unwrap();
        assert!(masks.contains(&value), "{value:?} is not masked: {masks:?}");
        for line in value.lines().filter(|l| !l.trim().is_empty()) {
            assert!(
                masks.iter().any(|m| m == line),
                "line {line:?} is not masked"
            );
        }
    }
    assert!(!run.out().contains("::add-mask::"));
}

#[test]
fn export_needs_a_selection() {
    let env = fixture();
    env.av(&["export", "--format", "json"])
        .code(2)
        .stderr_has("--group");
    env.av(&["export", "--group", "app", "--format", "yaml"])
        .code(2);
}

// ---- inject ----

#[test]
fn inject_fills_placeholders_from_stdin_to_stdout() {
    let env = fixture();
    let template = b"token: {{ agent-vault://app/api-token }}\nhelm: {{ .Values.x }}\nagain: {{agent-vault://app/api-token}}\n";
    let run = env.av_stdin(&["inject"], template).ok();
    assert_eq!(
        run.stdout,
        b"token: tok-1234567890\nhelm: {{ .Values.x }}\nagain: tok-1234567890\n"
    );
    let run = env
        .av_stdin(&["inject"], b"a\n{{ agent-vault://app/missing }}\n")
        .code(3);
    assert!(run.stdout.is_empty());
    env.av_stdin(&["inject"], b"a\nb\n{{ agent-vault://app/../x }}")
        .code(2)
        .stderr_has("line 3");
    let run = env.av_stdin(&["inject"], b"plain {{ x }}").ok();
    assert_eq!(run.stdout, b"plain {{ x }}");
    env.av_stdin(
        &["inject", "--agent", "bot"],
        b"{{ agent-vault://app/api-token }}",
    )
    .code(4);
}
