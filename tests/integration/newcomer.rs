//! What a new user trips on: typos, flags that swallow arguments, ambiguous durations, the
//! prompt and the terminal, clones without the leak guard, wording, and shell completion.

use crate::common::*;

#[test]
fn typos_get_the_nearest_names_from_the_vault() {
    let env = Env::with_vault();
    env.set("stripe/api-key", b"v");
    env.set("db/password", b"v");
    env.av(&["add-agent", "web-bot"]).ok();
    env.av(&["get", "stripe/api-kye"])
        .code(3)
        .stderr_has("did you mean 'stripe/api-key'?");
    env.av(&["get", "stripe"])
        .code(3)
        .stderr_has("'stripe' is a group, not a secret")
        .stderr_has("'stripe/api-key'");
    env.av(&["rm", "password"])
        .code(3)
        .stderr_has("did you mean 'db/password'?");
    env.av(&["grant", "web-bto", "db"])
        .code(3)
        .stderr_has("did you mean 'web-bot'?");
    env.av(&["list", "--group", "strpe"])
        .code(3)
        .stderr_has("did you mean 'stripe'?");
    env.av(&["grant", "web-bot", "newgroup"])
        .ok()
        .stderr_has("group 'newgroup' has no secrets yet");
}

#[test]
fn set_agents_takes_one_value_and_a_value_argument_says_stdin_was_not_read() {
    let env = Env::with_vault();
    env.av(&["add-agent", "web-bot"]).ok();
    env.av_stdin(&["set", "--agents", "web-bot", "db/z"], b"zzz\n")
        .ok();
    let list = env.av(&["list", "--json"]).ok().json();
    let entry = &list.as_array().unwrap()[0];
    assert_eq!(entry["path"], "db/z");
    assert_eq!(entry["extra_agents"][0], "web-bot");
    assert_eq!(env.get("db/z"), b"zzz");
    env.av(&["set", "db/z", "--agents", "", "v"]).ok();
    let list = env.av(&["list", "--json"]).ok().json();
    assert_eq!(list[0]["extra_agents"].as_array().unwrap().len(), 0);

    env.av_stdin(&["set", "db/y", "from-argument"], b"from-stdin")
        .ok()
        .stderr_has("stdin is a pipe or a file and was not read");
    assert_eq!(env.get("db/y"), b"from-argument");
}

#[test]
fn expiry_months_and_years_are_calendar_ones_and_a_bare_m_is_refused() {
    let env = Env::with_vault();
    let commits = env.commit_count();
    env.av_stdin(&["set", "app/x", "--expires", "1m"], b"v")
        .code(2)
        .stderr_has("`min` for minutes or `mo` for months");
    assert_eq!(env.commit_count(), commits, "a refused set committed");
    env.av_stdin(&["set", "app/x", "--expires", "2026-01-31T10:00:00Z"], b"v")
        .ok()
        .stderr_has("in the past");
    env.av_stdin(&["set", "app/x", "--expires", "1mo"], b"v")
        .ok();
    let list = env.av(&["list", "--json"]).ok().json();
    let expires = list[0]["expires"].as_str().unwrap().to_owned();
    let now = chrono::Utc::now();
    let expected = now.checked_add_months(chrono::Months::new(1)).unwrap();
    let got = chrono::DateTime::parse_from_rfc3339(&expires).unwrap();
    assert!(
        (got.timestamp() - expected.timestamp()).abs() < 120,
        "{expires}"
    );
    env.av_stdin(&["set", "app/x", "--expires", "never"], b"v")
        .ok();
    assert!(env.av(&["list", "--json"]).ok().json()[0]["expires"].is_null());
}

#[test]
fn none_or_an_empty_expires_removes_the_expiry() {
    let env = Env::with_vault();
    for removal in ["none", ""] {
        env.av_stdin(&["set", "app/x", "--expires", "3d"], b"v1")
            .ok();
        let list = env.av(&["list", "--json"]).ok().json();
        assert!(list[0]["expires"].is_string(), "{list}");
        env.av_stdin(&["set", "app/x", "--expires", removal], b"v2")
            .ok();
        let list = env.av(&["list", "--json"]).ok().json();
        assert!(
            list[0]["expires"].is_null(),
            "--expires {removal:?} left: {list}"
        );
        assert_eq!(list[0]["expired"], false);
        assert_eq!(env.get("app/x"), b"v2");
    }
}

#[test]
fn rotating_a_secret_whose_expiry_has_passed_keeps_it_and_warns() {
    let env = Env::with_vault();
    env.av_stdin(&["set", "app/x", "--expires", "2020-01-01"], b"old")
        .ok();
    let rotated = env
        .av_stdin(&["set", "app/x"], b"new-value")
        .ok()
        .stderr_has("kept the expiry 2020-01-01T00:00:00Z which has already passed")
        .stderr_has("--expires never")
        .no_leak("new-value");
    assert!(rotated.stdout.is_empty());
    assert_eq!(env.get("app/x"), b"new-value");
    let list = env.av(&["list", "--json"]).ok().json();
    assert_eq!(list[0]["expires"], "2020-01-01T00:00:00Z", "{list}");
    assert_eq!(list[0]["expired"], true);
    // A future expiry kept on rotation says nothing.
    env.av_stdin(&["set", "app/y", "--expires", "30d"], b"a")
        .ok();
    let quiet = env.av_stdin(&["set", "app/y"], b"b").ok();
    assert!(!quiet.all().contains("kept the expiry"), "{}", quiet.all());
}

#[test]
fn owner_commands_without_an_owner_key_suggest_only_what_owner_commands_take() {
    let env = Env::with_vault();
    env.set("app/x", b"v");
    let empty_home = env.root().join("empty-home");
    std::fs::create_dir_all(&empty_home).unwrap();
    let home = empty_home.to_str().unwrap();
    let head = env.head();
    for args in [&["set", "app/y", "value"][..], &["rm", "app/x"]] {
        let run = env
            .av_env(args, &[("AGENT_VAULT_HOME", home)])
            .code(3)
            .stderr_has("no owner key")
            .stderr_has("AGENT_VAULT_OWNER_KEY")
            .stderr_has("set AGENT_VAULT_HOME to the folder holding it");
        let stderr = run.all();
        for wrong in ["--key", "--agent", "AGENT_VAULT_KEY"] {
            assert!(
                !stderr.contains(wrong),
                "{args:?} suggests {wrong}, which owner commands do not take: {stderr}"
            );
        }
    }
    assert_eq!(env.head(), head, "nothing was committed");
    // A reader is pointed at its own ways of naming a key.
    env.av_env(&["get", "app/x"], &[("AGENT_VAULT_HOME", home)])
        .code(3)
        .stderr_has("pass --key FILE or --agent NAME, or set AGENT_VAULT_KEY");
}

#[test]
fn a_clone_without_the_hook_is_told_so_by_set_and_check() {
    let env = Env::with_vault();
    env.set("app/x", b"v");
    let clone = env.root().join("clone");
    env.git_in(
        env.root(),
        &[
            "clone",
            "-q",
            env.repo.to_str().unwrap(),
            clone.to_str().unwrap(),
        ],
    );
    env.av_stdin_in(&clone, &["set", "app/y"], b"v")
        .ok()
        .stderr_has("no pre-commit hook")
        .stderr_has("agent-vault hook install");
    let check = env.av_in(&clone, &["check"]).ok();
    assert!(check.all().contains("no-leak-guard"), "{}", check.all());
    env.av_in(&clone, &["hook", "install"]).ok();
    let run = env.av_stdin_in(&clone, &["set", "app/z"], b"v").ok();
    assert!(!run.stderr.contains("pre-commit hook"), "{}", run.stderr);
}

#[test]
fn usage_lines_and_messages_read_well() {
    let env = Env::with_vault();
    let help = env.av(&["get", "--help"]).ok().out();
    assert!(help.contains("--key <FILE>"), "{help}");
    // Another owner's key: no "the owner key key file".
    let other = env.root().join("other-home");
    std::fs::create_dir_all(&other).unwrap();
    env.age_keygen(&other.join("owner.key"));
    let mut cmd = env.av_cmd(&env.repo, &["rm", "app/x"]);
    cmd.env("AGENT_VAULT_HOME", &other);
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("key key"), "{stderr}");
}

#[test]
fn ctrl_d_at_the_prompt_stores_nothing_and_get_ends_its_line_on_a_terminal() {
    let env = Env::with_vault();
    let commits = env.commit_count();
    let Some((shown, code)) = on_a_terminal(&env, &["set", "app/x"], "value for", b"\x04") else {
        return;
    };
    assert_eq!(code, 2, "{shown}");
    assert!(shown.contains("\nerror: no value was entered"), "{shown:?}");
    assert!(shown.contains("nothing was stored"), "{shown}");
    assert_eq!(env.commit_count(), commits);

    env.set("app/x", b"no-newline");
    let (shown, code) = on_a_terminal(&env, &["get", "app/x"], "", b"").unwrap();
    assert_eq!(code, 0, "{shown}");
    assert!(shown.ends_with("no-newline\n"), "{shown:?}");
    // Through a pipe, the exact bytes.
    assert_eq!(env.get("app/x"), b"no-newline");
}

#[test]
fn completions_install_as_their_help_says_on_a_fresh_home() {
    let env = Env::new();
    let help = env.av(&["completions", "--help"]).ok().out();
    let path = path_with_binary();
    let fresh = env.root().join("fresh-home");
    std::fs::create_dir_all(&fresh).unwrap();
    for (shell, file) in [
        (
            "bash",
            ".local/share/bash-completion/completions/agent-vault",
        ),
        ("zsh", ".zfunc/_agent-vault"),
        ("fish", ".config/fish/completions/agent-vault.fish"),
    ] {
        let line = help
            .lines()
            .find_map(|l| l.trim().strip_prefix(&format!("{shell}:")))
            .unwrap_or_else(|| panic!("no {shell} line in:\n{help}"));
        let mut cmd = env.cmd_in(&fresh, "sh", &["-e", "-c", line.trim()]);
        cmd.env("PATH", &path).env("HOME", &fresh);
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{line}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let written = std::fs::read(fresh.join(file)).unwrap();
        assert_eq!(
            written,
            env.av(&["completions", shell]).ok().stdout,
            "{shell}"
        );
    }
}

/// Asks for completions as the fish script does: `AGENT_VAULT_COMPLETE=fish agent-vault --
/// WORDS…`; returns the candidates (without descriptions) and stderr.
fn complete(env: &Env, dir: &std::path::Path, words: &[&str]) -> (Vec<String>, String) {
    let mut args = vec!["--", "agent-vault"];
    args.extend(words);
    let mut cmd = env.av_cmd(dir, &args);
    cmd.env("AGENT_VAULT_COMPLETE", "fish");
    let out = cmd.output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let names = text
        .lines()
        .map(|l| l.split('\t').next().unwrap().to_owned())
        .collect();
    (names, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn completion_offers_secret_agent_and_group_names_quietly_and_offline() {
    let env = Env::with_vault();
    env.set("stripe/api-key", b"v");
    env.set("stripe/webhook", b"v");
    env.set("db/password", b"v");
    env.av(&["add-agent", "deploy-bot"]).ok();
    let (names, stderr) = complete(&env, &env.repo, &["get", "stripe/"]);
    assert_eq!(names, ["stripe/api-key", "stripe/webhook"]);
    assert!(stderr.is_empty(), "{stderr}");
    assert_eq!(
        complete(&env, &env.repo, &["grant", "dep"]).0,
        ["deploy-bot"]
    );
    assert_eq!(
        complete(&env, &env.repo, &["grant", "deploy-bot", "d"]).0,
        ["db"]
    );
    assert_eq!(
        complete(&env, &env.repo, &["set", "x/y", "--agents", "a,dep"]).0,
        ["a,deploy-bot"]
    );
    assert!(
        complete(&env, &env.repo, &["gr"])
            .0
            .contains(&"grant".to_owned())
    );
    // Outside a vault: no names, no noise.
    let (names, stderr) = complete(&env, env.root(), &["get", "s"]);
    assert!(names.is_empty() && stderr.is_empty(), "{names:?} {stderr}");

    // A clone on a machine that has never seen the vault: names, but nothing is pinned (a
    // completion never trusts on first use behind the user's back).
    let clone = env.root().join("clone");
    env.git_in(
        env.root(),
        &[
            "clone",
            "-q",
            env.repo.to_str().unwrap(),
            clone.to_str().unwrap(),
        ],
    );
    let home = env.root().join("new-machine");
    let mut cmd = env.av_cmd(&clone, &["--", "agent-vault", "rm", "db/"]);
    cmd.env("AGENT_VAULT_COMPLETE", "fish")
        .env("AGENT_VAULT_HOME", &home);
    let out = cmd.output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "db/password");
    assert!(!home.join("pins.json").exists());
}

#[test]
fn the_bash_script_completes_names_through_the_binary() {
    let env = Env::with_vault();
    env.set("stripe/api-key", b"v");
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("completions/agent-vault.bash");
    let test = format!(
        r#"source '{}'
COMP_WORDS=(agent-vault get str); COMP_CWORD=2; COMP_TYPE=9
_clap_complete_agent_vault agent-vault str get
printf '%s\n' "${{COMPREPLY[@]}}""#,
        script.display()
    );
    let mut cmd = env.cmd_in(&env.repo, "bash", &["-c", &test]);
    cmd.env("PATH", path_with_binary());
    let out = cmd.output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "stripe/api-key",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

// What main already fixed, held by tests here: items 2, 19, 21 and 25 of the newcomer issue.

#[test]
fn without_a_git_identity_nothing_is_committed_and_git_config_is_named() {
    let env = Env::new();
    let mut cmd = env.av_cmd(&env.repo, &["init"]);
    for var in [
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
    ] {
        cmd.env_remove(var);
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("git config --global user.name"), "{stderr}");
    assert!(!env.vault_dir().exists());
}

#[test]
fn sign_on_an_unchanged_signed_vault_makes_no_commit() {
    let env = Env::with_vault();
    env.set("app/x", b"v");
    let commits = env.commit_count();
    env.av(&["sign"]).ok().stderr_has("nothing to do");
    assert_eq!(env.commit_count(), commits);
}

#[test]
fn key_format_mistakes_get_a_hint() {
    let env = Env::with_vault();
    env.set("app/x", b"value");
    // A byte order mark an editor added is not part of the key.
    let with_bom = env.root().join("bom.key");
    let owner = std::fs::read_to_string(env.owner_key()).unwrap();
    std::fs::write(&with_bom, format!("\u{feff}{owner}")).unwrap();
    crate::common::chmod_600(&with_bom);
    let got = env.av(&["get", "app/x", "--key", with_bom.to_str().unwrap()]);
    assert_eq!(got.ok().stdout, b"value");
    // An SSH key given as --key.
    let ssh = env.root().join("id_ed25519");
    std::fs::write(
        &ssh,
        "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
    )
    .unwrap();
    env.av(&["get", "app/x", "--key", ssh.to_str().unwrap()])
        .code(1)
        .stderr_has("looks like an SSH or PEM key");
    // A quoted ~ the shell did not expand.
    env.av_env(&["get", "app/x"], &[("AGENT_VAULT_KEY", "'~/bot.key'")])
        .code(3)
        .stderr_has("the shell did not expand it");
}

#[test]
fn the_hook_is_quiet_on_an_ordinary_commit() {
    let env = Env::with_vault();
    env.set("app/x", b"a-long-enough-secret-value");
    env.set("app/short", b"abc");
    std::fs::write(env.repo.join("notes.txt"), "nothing secret\n").unwrap();
    env.git(&["add", "notes.txt"]);
    let mut commit = env.cmd_in(&env.repo, "git", &["commit", "-q", "-m", "notes"]);
    let out = commit.env("PATH", path_with_binary()).output().unwrap();
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(env.repo.join("more.txt"), "still nothing\n").unwrap();
    env.git(&["add", "more.txt"]);
    env.av(&["scan", "--staged", "--verbose"])
        .ok()
        .stderr_has("checked against");
}

#[test]
fn long_work_draws_a_progress_bar_on_a_terminal_and_quiet_turns_it_off() {
    let mut env = Env::with_vault();
    env.set_env("AGENT_VAULT_PROGRESS_AFTER", "0");
    // A dumb terminal (or none, as TERM is unset here) gets no bar.
    env.set_env("TERM", "xterm");
    let lines: String = (0..300).map(|i| format!("S_{i}=value-{i}\n")).collect();
    let file = env.root().join("many.env");
    std::fs::write(&file, lines).unwrap();
    env.av(&["import", file.to_str().unwrap(), "--group", "many"])
        .ok();
    env.av(&["add-agent", "bot"]).ok();
    let Some((shown, code)) = on_a_terminal(&env, &["grant", "bot", "many"], "", b"") else {
        return;
    };
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("re-encrypting ["), "{shown}");
    let (shown, code) = on_a_terminal(&env, &["verify"], "", b"").unwrap();
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("reading the vault ["), "{shown}");
    // --quiet, or stderr that is not a terminal: no bar.
    env.av(&["revoke", "bot", "many"]).ok();
    let (shown, code) = on_a_terminal(&env, &["grant", "-q", "bot", "many"], "", b"").unwrap();
    assert_eq!(code, 0, "{shown}");
    assert!(!shown.contains("re-encrypting"), "{shown}");
    env.av(&["revoke", "bot", "many"]).ok();
    let piped = env.av(&["grant", "bot", "many"]).ok();
    assert!(!piped.all().contains("re-encrypting ["), "{}", piped.all());
}
