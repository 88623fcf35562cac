//! Unit tests of key files, key variables and the key home.

use super::*;

#[test]
fn age_keygen_files_with_comments_and_several_keys_parse() {
    let a = generate(&["first".into()]);
    let b = generate(&[]);
    let text = format!("{}\n\n{}", a.file_text.as_str(), b.file_text.as_str());
    let ids = parse_identities(&text, "test").unwrap();
    assert_eq!(ids.identities.len(), 2);
    assert!(ids.comments.iter().any(|c| c == "first"));
    assert!(ids.matches_any(std::slice::from_ref(&b.recipient)));
}

#[test]
fn errors_never_echo_key_material() {
    let bad = "AGE-SECRET-KEY-1NOTAVALIDKEYATALLXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX";
    let err = parse_identities(bad, "test")
        .expect_err("rejected")
        .to_string();
    assert!(!err.contains("NOTAVALIDKEY"), "{err}");
    let err = parse_identities("hunter2-password", "test")
        .expect_err("rejected")
        .to_string();
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn key_env_accepts_a_whole_key_file_and_never_echoes_other_text() {
    let key = generate(&["a comment before the key".into()]);
    let loaded =
        load_key_env(key.file_text.as_str(), KEY_ENV).expect("a whole key file is key text");
    assert!(loaded.matches_any(std::slice::from_ref(&key.recipient)));
    let secret_line = key.file_text.lines().last().unwrap();
    let mangled = format!("# copied badly\nx{secret_line}");
    match load_key_env(&mangled, KEY_ENV) {
        Err(err @ Error::KeyNotFound(_)) => {
            let shown = err.to_string();
            assert!(!shown.contains(&secret_line[20..]), "{shown}");
            assert!(!shown.contains("copied badly"), "{shown}");
        }
        Err(other) => panic!("expected KeyNotFound, got {other}"),
        Ok(_) => panic!("expected KeyNotFound"),
    }
}

#[test]
fn key_files_are_private_and_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/owner.key");
    write_key_file(&path, b"x", "hint").unwrap();
    assert!(matches!(
        write_key_file(&path, b"y", "hint"),
        Err(Error::AlreadyExists { .. })
    ));
    assert_eq!(fs::read(&path).unwrap(), b"x");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let parent = fs::metadata(path.parent().unwrap()).unwrap();
        assert_eq!(parent.permissions().mode() & 0o777, 0o700);
    }
}

fn key_file(dir: &Path, name: &str, text: &str, mode: u32) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
    }
    let _ = mode;
    path
}

#[test]
fn an_identity_matches_only_its_own_recipients() {
    let a = generate(&[]);
    let b = generate(&[]);
    let ids = parse_identities(a.file_text.as_str(), "test").unwrap();
    assert!(ids.matches_any(std::slice::from_ref(&a.recipient)));
    assert!(!ids.matches_any(std::slice::from_ref(&b.recipient)));
    assert!(!ids.matches_any(&[]));
    let debug = format!("{ids:?}");
    assert!(
        debug.contains("Identities") && debug.contains("count: 1"),
        "{debug}"
    );
    assert!(!debug.contains("AGE-SECRET-KEY"), "{debug}");
}

#[test]
fn vault_and_verify_key_comments_are_read_and_malformed_ones_judged() {
    let vault = crate::integrity::VaultId::generate().unwrap().to_string();
    let verify = crate::integrity::SigningKey::generate()
        .unwrap()
        .verify_key();
    let key = generate(&[
        format!("{} {vault}", crate::integrity::VAULT_COMMENT),
        format!("{} not-a-vault-id", crate::integrity::VAULT_COMMENT),
        format!("{} {verify}", crate::integrity::KEY_FILE_COMMENT),
        "an ordinary comment".into(),
    ]);
    let ids = parse_identities(key.file_text.as_str(), "test").unwrap();
    assert_eq!(ids.vault_comments(), [vault]);
    let keys = ids.verify_key_comments().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].to_string(), verify.to_string());
    let bad = generate(&[format!("{} nonsense", crate::integrity::KEY_FILE_COMMENT)]);
    let ids = parse_identities(bad.file_text.as_str(), "test").unwrap();
    assert!(ids.verify_key_comments().is_err());
}

#[test]
fn errors_name_the_line_and_what_kind_of_key_it_looks_like() {
    let err = |text: &str| parse_identities(text, "test").unwrap_err().to_string();
    assert!(
        err("# c\n\nbogus").contains("line 3 is neither"),
        "{}",
        err("# c\n\nbogus")
    );
    for other in [
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIexample",
        "-----BEGIN OPENSSH PRIVATE KEY-----",
    ] {
        assert!(
            err(other).contains("line 1 looks like an SSH or PEM key"),
            "{}",
            err(other)
        );
    }
    assert!(err("AGE-PLUGIN-YUBIKEY-1XYZ").contains("plugin identity"));
    assert!(err("# only a comment").contains("holds no AGE-SECRET-KEY-1"));
}

#[test]
fn key_files_are_read_and_missing_or_unreadable_ones_are_told_apart() {
    let dir = tempfile::tempdir().unwrap();
    let key = generate(&[]);
    let private = key_file(dir.path(), "private.key", key.file_text.as_str(), 0o600);
    let ids = read_identity_file(&private, "hint").unwrap();
    assert!(ids.matches_any(std::slice::from_ref(&key.recipient)));
    assert!(ids.warnings.is_empty(), "{:?}", ids.warnings);
    for (mode, name) in [(0o640, "group.key"), (0o604, "other.key")] {
        let path = key_file(dir.path(), name, key.file_text.as_str(), mode);
        let warnings = read_identity_file(&path, "hint").unwrap().warnings;
        assert_eq!(warnings.len(), 1, "{mode:o}");
        assert!(
            warnings[0].contains(&format!("mode {mode:o}")),
            "{warnings:?}"
        );
    }
    let missing = read_identity_file(&dir.path().join("missing.key"), "do this");
    assert!(
        matches!(&missing, Err(Error::KeyNotFound(m)) if m.ends_with("does not exist; do this")),
        "{missing:?}"
    );
    // A folder is there but cannot be read as a file: not "missing".
    let folder = read_identity_file(dir.path(), "hint");
    assert!(matches!(folder, Err(Error::Io { .. })), "{folder:?}");
}

#[test]
fn key_variables_are_key_text_or_an_existing_files_path_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let key = generate(&[]);
    let path = key_file(dir.path(), "bot.key", key.file_text.as_str(), 0o600);
    let path_text = path.to_str().unwrap();
    let loaded = load_env(&KeyEnv::Set(path_text.to_owned().into()), KEY_ENV).unwrap();
    assert!(loaded.matches_any(std::slice::from_ref(&key.recipient)));
    assert!(matches!(
        load_env(&KeyEnv::NotUnicode, KEY_ENV),
        Err(Error::KeyNotFound(m)) if m.contains("not valid UTF-8")
    ));
    // An existing file's path with a line break, or a file whose name holds the key
    // prefix, is never read as a path (it may be a mangled key).
    let odd = key_file(
        dir.path(),
        "age-secret-key-x.key",
        key.file_text.as_str(),
        0o600,
    );
    for value in [format!("{path_text}\nmore"), odd.display().to_string()] {
        let err = load_key_env(&value, KEY_ENV).unwrap_err();
        assert!(matches!(err, Error::KeyNotFound(_)), "{err}");
        assert!(!err.to_string().contains(path_text), "{err}");
    }
    let missing = load_key_env(&format!("{path_text}.gone"), KEY_ENV).unwrap_err();
    assert!(matches!(missing, Error::KeyNotFound(_)), "{missing}");
    for unexpanded in ["~/bot.key", "'/keys/bot.key'"] {
        let err = load_key_env(unexpanded, KEY_ENV).unwrap_err().to_string();
        assert!(err.contains("the shell did not expand it"), "{err}");
    }
    let err = load_key_env("/no/such/bot.key", KEY_ENV)
        .unwrap_err()
        .to_string();
    assert!(!err.contains("did not expand"), "{err}");
}

#[test]
fn a_key_file_that_cannot_be_created_is_an_io_error_not_already_exists() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain");
    fs::write(&file, b"x").unwrap();
    let result = write_key_file(&file.join("owner.key"), b"key", "hint");
    assert!(matches!(result, Err(Error::Io { .. })), "{result:?}");
    // The folder is there, the file cannot be created (its name is too long).
    let result = write_key_file(&dir.path().join("k".repeat(300)), b"key", "hint");
    assert!(matches!(result, Err(Error::Io { .. })), "{result:?}");
}

#[test]
fn recipients_files_hold_age_recipients_between_comments_and_blank_lines() {
    let a = generate(&[]);
    let b = generate(&[]);
    let text = format!("# team\n\n{}\n  # old\n{}\n", a.recipient, b.recipient);
    let parsed = parse_recipients_file(&text, "test").unwrap();
    let parsed: Vec<String> = parsed.iter().map(ToString::to_string).collect();
    assert_eq!(parsed, [a.recipient.to_string(), b.recipient.to_string()]);
    assert!(parse_recipients_file("# nobody\n\n", "test").is_err());
    assert!(parse_recipients_file("age1nope\n", "test").is_err());
}

#[test]
fn a_key_home_knows_its_places_and_where_the_owner_key_comes_from() {
    let dir = tempfile::tempdir().unwrap();
    let home = KeyHome::at(dir.path().to_path_buf());
    assert!(!home.owner_key_from_env());
    assert_eq!(home.vault(), None);
    assert_eq!(home.owner_key_path(), dir.path().join("owner.key"));
    let bot = AgentName::parse("bot").unwrap();
    assert_eq!(home.agent_key_path(&bot), dir.path().join("agents/bot.key"));
    let vault = crate::integrity::VaultId::generate().unwrap().to_string();
    let home = home
        .for_vault(Some(vault.clone()))
        .with_owner_key(KeyEnv::Set(String::new().into()));
    assert!(home.owner_key_from_env());
    assert_eq!(home.vault(), Some(vault.as_str()));
    let per_vault = dir.path().join("agents").join(&vault).join("bot.key");
    assert_eq!(home.agent_key_path(&bot), per_vault);
    // The 0.2 place is read while the per-vault one does not exist.
    fs::create_dir_all(dir.path().join("agents")).unwrap();
    fs::write(dir.path().join("agents/bot.key"), b"").unwrap();
    assert_eq!(home.agent_key_path(&bot), dir.path().join("agents/bot.key"));
}
