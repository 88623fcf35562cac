//! Vaults in the seed's (agent-vault 0.1.0) layout, written by hand with the stock `age` CLI,
//! and interoperability of our ciphertexts with the stock `age` CLI.

use std::fs;

use crate::common::*;

/// Writes a seed-style vault into `env.repo` and commits it. Returns the agent key path.
fn write_seed_vault(env: &Env) -> std::path::PathBuf {
    fs::create_dir_all(&env.av_home).unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&env.av_home, fs::Permissions::from_mode(0o700)).unwrap();
    let owner_pub = env.age_keygen(&env.owner_key());
    let bot_key = env.root().join("bot.key");
    let bot_pub = env.age_keygen(&bot_key);
    let v = env.vault_dir();
    fs::create_dir_all(v.join("agents/bot")).unwrap();
    fs::create_dir_all(v.join("secrets/stripe")).unwrap();
    fs::write(
        v.join("config.yaml"),
        "version: 1\nencryption:\n  format: age\n",
    )
    .unwrap();
    fs::write(v.join("owner.pub"), format!("{owner_pub}\n")).unwrap();
    fs::write(
        v.join(".gitignore"),
        "*.key\n*.pem\n**/private.*\n!*.escrow\n",
    )
    .unwrap();
    fs::write(
        v.join("manifest.yaml"),
        "version: 1\nowners:\n- name: Seed Owner\n  public_key: owner.pub\n  x-team: platform\nagents:\n- name: bot\n  groups:\n  - stripe\ngroups:\n- name: default\n  secrets:\n  - motd\n- name: stripe\n  secrets:\n  - stripe/api-key\nx-custom-top: keep me\n",
    )
    .unwrap();
    fs::write(v.join("agents/bot/public.key"), format!("{bot_pub}\n")).unwrap();
    let escrow = env
        .age(&["-r", &owner_pub], &fs::read(&bot_key).unwrap())
        .ok()
        .stdout;
    fs::write(v.join("agents/bot/private.key.escrow"), escrow).unwrap();
    let enc = env
        .age(&["-r", &owner_pub, "-r", &bot_pub], b"sk_seed_value")
        .ok()
        .stdout;
    fs::write(v.join("secrets/stripe/api-key.enc"), enc).unwrap();
    fs::write(
        v.join("secrets/stripe/api-key.meta"),
        "name: stripe/api-key\ngroup: stripe\ncreated: '2025-01-02T03:04:05Z'\nrotated: 2025-01-02 03:04:05+00:00\nauthorized_agents:\n- bot\nx-note: from the seed\n",
    )
    .unwrap();
    let enc = env.age(&["-r", &owner_pub], b"hello from seed").ok().stdout;
    fs::write(v.join("secrets/motd.enc"), enc).unwrap();
    fs::write(
        v.join("secrets/motd.meta"),
        "name: motd\ngroup: default\ncreated: 2025-01-02T03:04:05Z\nauthorized_agents: []\n",
    )
    .unwrap();
    // 0.1.0's own .gitignore says `*.key`; its CLI committed agents' public keys anyway.
    env.git(&["add", "-A"]);
    env.git(&["add", "-f", ".agent-vault/agents"]);
    env.git(&["commit", "-q", "-m", "seed vault"]);
    bot_key
}

#[test]
fn seed_layout_vault_reads_lists_grants_revokes_and_keeps_unknown_fields() {
    let env = Env::new();
    let bot_key = write_seed_vault(&env);
    let bot = bot_key.to_str().unwrap();

    assert_eq!(env.get("stripe/api-key"), b"sk_seed_value");
    assert_eq!(env.get("motd"), b"hello from seed");
    assert_eq!(
        env.av(&["get", "stripe/api-key", "--key", bot, "--offline"])
            .ok()
            .stdout,
        b"sk_seed_value"
    );
    let list = env.av(&["list", "--json", "--offline"]).ok().json();
    assert_eq!(list.as_array().unwrap().len(), 2);
    let agents = env.av(&["list-agents", "--json"]).ok().json();
    assert_eq!(agents[0]["name"], "bot");
    assert_eq!(agents[0]["escrow"], true);
    // check: no errors (old vaults lack recipient fingerprints: warnings only)
    env.av(&["check"]).ok();

    // grant the default group, revoke stripe
    env.av(&["grant", "bot", "default"]).ok();
    assert_eq!(
        env.av(&["get", "motd", "--key", bot, "--offline"])
            .ok()
            .stdout,
        b"hello from seed"
    );
    env.av(&["revoke", "bot", "stripe"]).ok();
    env.av(&["get", "stripe/api-key", "--key", bot, "--offline"])
        .code(4);
    assert_eq!(env.get("stripe/api-key"), b"sk_seed_value");

    // unknown YAML fields survived the rewrites
    let manifest = fs::read_to_string(env.vault_dir().join("manifest.yaml")).unwrap();
    assert!(manifest.contains("x-custom-top: keep me"), "{manifest}");
    assert!(manifest.contains("x-team: platform"), "{manifest}");
    let meta = fs::read_to_string(env.vault_dir().join("secrets/stripe/api-key.meta")).unwrap();
    assert!(meta.contains("x-note: from the seed"), "{meta}");
    assert!(meta.contains("created: 2025-01-02T03:04:05Z"), "{meta}");
    assert!(meta.contains("recipients: sha256:"), "{meta}");
    // an unsigned (seed) vault only warns; after review, `sign` adopts it
    let check = env.av(&["check"]).ok();
    assert!(String::from_utf8_lossy(&check.stdout).contains("unsigned"));
    env.av(&["sign"]).ok();
    // a hand-made clone has no leak guard until the hook is installed
    env.av(&["check", "--strict"])
        .code(1)
        .out()
        .contains("no-leak-guard");
    env.av(&["hook", "install"]).ok();
    env.av(&["check", "--strict"]).ok();
    env.av(&["verify"]).ok();

    // restore-agent opens the age-CLI escrow
    let restored = env.root().join("restored.key");
    env.av(&["restore-agent", "bot", "--to", restored.to_str().unwrap()])
        .ok();
    assert_eq!(secret_key_lines(&restored), secret_key_lines(&bot_key));
}

#[test]
fn our_ciphertexts_decrypt_with_stock_age_and_armored_ones_are_read() {
    let env = Env::with_vault();
    env.av(&["add-agent", "bot"]).ok();
    env.av(&["grant", "bot", "stripe"]).ok();
    env.set("stripe/api-key", b"sk_interop");
    let enc = env.vault_dir().join("secrets/stripe/api-key.enc");
    for key in [env.agent_key("bot"), env.owner_key()] {
        let out = env
            .age(
                &["-d", "-i", key.to_str().unwrap(), enc.to_str().unwrap()],
                b"",
            )
            .ok();
        assert_eq!(out.stdout, b"sk_interop");
    }
    // binary form, not armored
    assert!(
        fs::read(&enc)
            .unwrap()
            .starts_with(b"age-encryption.org/v1\n")
    );

    // an armored ciphertext made by `age -a` and committed by hand is read by `get`
    let owner_pub = public_key_of(&env.owner_key());
    let bot_pub = public_key_of(&env.agent_key("bot"));
    let armored = env
        .age(&["-a", "-r", &owner_pub, "-r", &bot_pub], b"armored value")
        .ok()
        .stdout;
    assert!(armored.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----"));
    fs::write(&enc, armored).unwrap();
    env.git(&["commit", "-q", "-am", "armored by hand"]);
    // a hand-made file is not what the owner signed until the owner reviews and re-signs it
    env.av(&["get", "stripe/api-key", "--offline"]).code(5);
    env.av(&["sign"]).ok();
    assert_eq!(env.get("stripe/api-key"), b"armored value");
    assert_eq!(
        env.av(&["get", "stripe/api-key", "--agent", "bot", "--offline"])
            .ok()
            .stdout,
        b"armored value"
    );
}

#[test]
fn binary_values_and_a_10_mb_value_round_trip() {
    let env = Env::with_vault();
    let all: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
    env.set("bin/all-bytes", &all);
    assert_eq!(env.get("bin/all-bytes"), all);
    // through a file too
    let f = env.root().join("all.bin");
    fs::write(&f, &all).unwrap();
    env.av(&["set", "bin/from-file", "--from-file", f.to_str().unwrap()])
        .ok();
    assert_eq!(env.get("bin/from-file"), all);

    let mut big = Vec::with_capacity(10 << 20);
    let mut x: u32 = 0x1234_5678;
    while big.len() < 10 << 20 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        big.extend_from_slice(&x.to_le_bytes());
    }
    env.set("bin/big", &big);
    let got = env.get("bin/big");
    assert_eq!(got.len(), big.len());
    assert!(got == big, "10 MB value differs after the round trip");
    let enc = env.vault_dir().join("secrets/bin/big.enc");
    let out = env
        .age(
            &[
                "-d",
                "-i",
                env.owner_key().to_str().unwrap(),
                enc.to_str().unwrap(),
            ],
            b"",
        )
        .ok();
    assert!(out.stdout == big);
}

/// The part of an age file after its header: the payload nonce and the encrypted chunks.
fn age_payload(file: &[u8]) -> Vec<u8> {
    let mac_line = file
        .windows(5)
        .position(|w| w == b"\n--- ")
        .expect("an age header");
    let end = mac_line
        + 1
        + file[mac_line + 1..]
            .iter()
            .position(|&b| b == b'\n')
            .unwrap();
    file[end + 1..].to_vec()
}

#[test]
fn grant_rewraps_for_stock_age_and_revoke_rekeys() {
    let env = Env::with_vault();
    env.av(&["add-agent", "bot"]).ok();
    env.av(&["add-agent", "zed"]).ok();
    env.av(&["add-agent", "amy"]).ok();
    env.av(&["grant", "bot", "stripe"]).ok();
    env.set("stripe/api-key", b"sk_rewrap");
    let enc = env.vault_dir().join("secrets/stripe/api-key.enc");
    let before = fs::read(&enc).unwrap();
    // amy sorts before bot, zed after: both new stanzas land in name order
    env.av(&["grant", "zed", "stripe"]).ok();
    env.av(&["grant", "amy", "stripe"]).ok();
    let after = fs::read(&enc).unwrap();
    assert_ne!(before, after);
    assert_eq!(
        age_payload(&before),
        age_payload(&after),
        "grant re-wraps: the payload is untouched"
    );
    for reader in ["amy", "bot", "zed"] {
        let key = env.agent_key(reader);
        let out = env
            .age(
                &["-d", "-i", key.to_str().unwrap(), enc.to_str().unwrap()],
                b"",
            )
            .ok();
        assert_eq!(out.stdout, b"sk_rewrap", "{reader}");
        let got = env
            .av(&["get", "stripe/api-key", "--agent", reader, "--offline"])
            .ok();
        assert_eq!(got.stdout, b"sk_rewrap", "{reader}");
    }
    let owner = env.owner_key();
    env.age(
        &["-d", "-i", owner.to_str().unwrap(), enc.to_str().unwrap()],
        b"",
    )
    .ok();
    env.av(&["verify"]).ok();

    // revoke needs a new file key: the payload changes and the revoked key reads nothing
    env.av(&["revoke", "zed", "stripe"]).ok();
    let revoked = fs::read(&enc).unwrap();
    assert_ne!(age_payload(&after), age_payload(&revoked));
    let zed = env.agent_key("zed");
    env.age(
        &["-d", "-i", zed.to_str().unwrap(), enc.to_str().unwrap()],
        b"",
    )
    .code(1);
    assert_eq!(
        env.av(&["get", "stripe/api-key", "--agent", "bot", "--offline"])
            .ok()
            .stdout,
        b"sk_rewrap"
    );
}
