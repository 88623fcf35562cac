//! Every command end to end on a real repository.

use crate::common::*;

#[test]
fn full_workflow_every_command() {
    let env = Env::new();
    let init = env.av(&["init", "--json"]).ok();
    let j = init.json();
    assert_eq!(j["owner_key_created"], true);
    assert!(j["owner_public_key"].as_str().unwrap().starts_with("age1"));
    assert!(env.owner_key().is_file());
    assert!(env.vault_dir().join("manifest.yaml").is_file());
    assert!(env.vault_dir().join("config.yaml").is_file());

    // add-agent: default key location, --key-out, --public-key
    let add = env.av(&["add-agent", "bot"]).ok();
    let bot_pub = add.out().trim().to_owned();
    assert!(bot_pub.starts_with("age1"), "{bot_pub}");
    assert_eq!(public_key_of(&env.agent_key("bot")), bot_pub);
    assert!(env.vault_dir().join("agents/bot/public.key").is_file());
    assert!(
        env.vault_dir()
            .join("agents/bot/private.key.escrow")
            .is_file()
    );

    let ci_key = env.root().join("ci.key");
    let add = env
        .av(&[
            "add-agent",
            "ci",
            "--key-out",
            ci_key.to_str().unwrap(),
            "--json",
        ])
        .ok();
    assert_eq!(add.json()["key_path"], ci_key.to_str().unwrap());
    assert_eq!(mode(&ci_key), 0o600);
    assert!(!env.agent_key("ci").exists());

    let ext_key = env.root().join("ext.key");
    let ext_pub = env.age_keygen(&ext_key);
    env.av(&["add-agent", "ext", "--public-key", &ext_pub]).ok();
    assert!(
        !env.vault_dir()
            .join("agents/ext/private.key.escrow")
            .exists()
    );

    // list-agents --json
    let agents = env.av(&["list-agents", "--json"]).ok().json();
    let names: Vec<&str> = agents
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["bot", "ci", "ext"]);
    let text = env.av(&["list-agents"]).ok().out();
    assert!(text.contains("bot") && text.contains("ext"), "{text}");

    // set: value argument warns about ps/history
    env.av(&["set", "stripe/api-key", "sk_live_argvalue"])
        .ok()
        .stderr_has("ps")
        .stderr_has("history");
    // set: stdin, exactly one trailing newline stripped
    env.av_stdin(&["set", "github/token"], b"gh-token\n\n").ok();
    assert_eq!(env.get("github/token"), b"gh-token\n");
    env.av_stdin(&["set", "github/token2"], b"plain\n").ok();
    assert_eq!(env.get("github/token2"), b"plain");
    // set: --from-file F exact bytes
    let f = env.root().join("cert.bin");
    std::fs::write(&f, b"line1\nline2\n\n").unwrap();
    env.av(&["set", "tls/cert", "--from-file", f.to_str().unwrap()])
        .ok();
    assert_eq!(env.get("tls/cert"), b"line1\nline2\n\n");
    // set: --from-file - (stdin, exact bytes)
    env.av_stdin(&["set", "solo", "--from-file", "-"], b"exact\n")
        .ok();
    assert_eq!(env.get("solo"), b"exact\n");
    assert_eq!(env.get("stripe/api-key"), b"sk_live_argvalue");

    // grant / get as the agent
    env.av(&["grant", "bot", "stripe"]).ok();
    env.av(&["grant", "ci", "github"]).ok();
    let got = env
        .av(&["get", "stripe/api-key", "--agent", "bot", "--offline"])
        .ok();
    assert_eq!(got.stdout, b"sk_live_argvalue");
    let got = env
        .av(&[
            "get",
            "github/token",
            "--key",
            ci_key.to_str().unwrap(),
            "--offline",
        ])
        .ok();
    assert_eq!(got.stdout, b"gh-token\n");
    // not granted → access denied
    env.av(&["get", "github/token", "--agent", "bot", "--offline"])
        .code(4)
        .no_leak("gh-token");

    // list --json / --group
    let list = env.av(&["list", "--json", "--offline"]).ok().json();
    let paths: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "github/token",
            "github/token2",
            "solo",
            "stripe/api-key",
            "tls/cert"
        ]
    );
    let stripe = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["path"] == "stripe/api-key")
        .unwrap();
    assert_eq!(stripe["group"], "stripe");
    assert_eq!(stripe["authorized_agents"], serde_json::json!(["bot"]));
    let solo = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["path"] == "solo")
        .unwrap();
    assert_eq!(solo["group"], "default");
    let grouped = env
        .av(&["list", "--group", "github", "--json", "--offline"])
        .ok()
        .json();
    assert_eq!(grouped.as_array().unwrap().len(), 2);
    let table = env.av(&["list", "--offline"]).ok().out();
    assert!(table.contains("tls/cert"), "{table}");
    assert!(!table.contains("sk_live_argvalue"));

    // check
    env.av(&["check"]).ok();
    let check = env.av(&["check", "--json"]).ok().json();
    assert_eq!(check["error_count"], 0);
    assert_eq!(check["errors"], serde_json::json!([]));
    // --strict fails on the warning that `ext` reads nothing, until it is granted a group
    env.av(&["check", "--strict"])
        .code(1)
        .stderr_has("1 warning");
    env.av(&["grant", "ext", "tls"]).ok();
    env.av(&["check", "--strict"]).ok();

    // revoke
    env.av(&["revoke", "bot", "stripe"])
        .ok()
        .stderr_has("rotate");
    env.av(&["get", "stripe/api-key", "--agent", "bot", "--offline"])
        .code(4)
        .no_leak("sk_live_argvalue");

    // recover-agent: new key, the old one stops working
    env.av(&["grant", "bot", "stripe"]).ok();
    let old_bot = std::fs::read(env.agent_key("bot")).unwrap();
    let old_key = env.root().join("old-bot.key");
    std::fs::write(&old_key, &old_bot).unwrap();
    let new_key = env.root().join("new-bot.key");
    env.av(&[
        "recover-agent",
        "bot",
        "--key-out",
        new_key.to_str().unwrap(),
    ])
    .ok();
    assert_eq!(mode(&new_key), 0o600);
    assert_eq!(
        env.av(&[
            "get",
            "stripe/api-key",
            "--key",
            new_key.to_str().unwrap(),
            "--offline"
        ])
        .ok()
        .stdout,
        b"sk_live_argvalue"
    );
    env.av(&[
        "get",
        "stripe/api-key",
        "--key",
        old_key.to_str().unwrap(),
        "--offline",
    ])
    .code(4);

    // restore-agent writes the escrowed (now: new) key to a new file
    let restored = env.root().join("restored.key");
    env.av(&["restore-agent", "bot", "--to", restored.to_str().unwrap()])
        .ok();
    assert_eq!(mode(&restored), 0o600);
    assert_eq!(secret_key_lines(&restored), secret_key_lines(&new_key));
    // …and never overwrites
    env.av(&["restore-agent", "bot", "--to", restored.to_str().unwrap()])
        .code(1)
        .stderr_has("already exists");

    // rm
    env.av(&["rm", "solo"]).ok();
    assert!(!env.vault_dir().join("secrets/solo.enc").exists());
    assert!(!env.vault_dir().join("secrets/solo.meta").exists());
    env.av(&["get", "solo", "--offline"]).code(3);
    env.av(&["rm", "solo"]).code(3);

    // remove-agent
    env.av(&["remove-agent", "bot"])
        .ok()
        .stderr_has("stripe/api-key");
    assert!(!env.vault_dir().join("agents/bot").exists());
    env.av(&[
        "get",
        "stripe/api-key",
        "--key",
        new_key.to_str().unwrap(),
        "--offline",
    ])
    .code(4);
    env.av(&["check", "--json"]).ok();
    assert_eq!(env.get("stripe/api-key"), b"sk_live_argvalue");
    assert_eq!(env.git(&["status", "--porcelain"]), "");
}

#[test]
fn version_and_help_of_every_subcommand() {
    let env = Env::new();
    let v = env.av(&["--version"]).ok().out();
    assert_eq!(
        v.trim(),
        format!("agent-vault {}", env!("CARGO_PKG_VERSION"))
    );
    let subcommands = [
        "init",
        "add-agent",
        "remove-agent",
        "list-agents",
        "grant",
        "revoke",
        "set",
        "get",
        "list",
        "rm",
        "check",
        "recover-agent",
        "restore-agent",
        "completions",
    ];
    let top = env.av(&["--help"]).ok().out();
    for sub in subcommands {
        assert!(top.contains(sub), "top-level help does not list {sub}");
    }
    // every listed subcommand, including ones added later
    let listed: Vec<String> = top
        .split("Commands:")
        .nth(1)
        .expect("help lists its commands")
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter(|l| !l.starts_with("   ")) // wrapped descriptions
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .filter(|c| c != "help")
        .collect();
    assert!(listed.len() >= subcommands.len(), "{listed:?}");
    for sub in &listed {
        let sub = sub.as_str();
        let help = env.av(&[sub, "--help"]).ok().out();
        assert!(
            help.contains("Example"),
            "`{sub} --help` has no Example:\n{help}"
        );
    }
}

#[test]
fn completions_for_every_shell() {
    let env = Env::new();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        // Each script calls agent-vault back, which completes from the CLI's definition.
        let out = env.av(&["completions", shell]).ok().out();
        assert!(
            out.contains(&format!("AGENT_VAULT_COMPLETE={shell:?}"))
                || out.contains(&format!("AGENT_VAULT_COMPLETE = {shell:?}"))
                || out.contains(&format!("AGENT_VAULT_COMPLETE={shell}")),
            "{shell} completion does not call agent-vault back:\n{out}"
        );
    }
    let mut cmd = env.av_cmd(&env.repo, &["--", "agent-vault", "add-"]);
    cmd.env("AGENT_VAULT_COMPLETE", "fish");
    let out = cmd.output().unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("add-agent"),
        "completion lacks subcommands"
    );
    env.av(&["completions", "tcsh"]).code(2);
}

#[test]
fn usage_errors_exit_2_and_missing_vault_exits_3() {
    let env = Env::new();
    env.av(&["frobnicate"]).code(2);
    env.av(&["get"]).code(2);
    env.av(&["get", "x/y", "--offline"])
        .code(3)
        .stderr_has("init");
    env.av(&["list"]).code(3);
}
