//! The leak guard end to end: `agent-vault scan`, `agent-vault hook`, the pre-commit hook
//! (with the binary and in its git-only fallback) and the pre-commit framework manifest, in
//! real repositories, with keys made at test time by the real tools.
//!
//! Tools that are absent (`ssh-keygen`, `openssl`, `gpg`, `puttygen`, `pre-commit`) make the
//! parts that need them skip with a message on stderr; CI installs them.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_agent-vault");

/// A hermetic environment: its own HOME, key home, empty git config, fixed identity.
struct Env {
    tmp: TempDir,
}

impl Env {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        for dir in ["home", "av-home", "gnupg", "pre-commit-home"] {
            std::fs::create_dir_all(tmp.path().join(dir)).unwrap();
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(
                tmp.path().join("gnupg"),
                std::fs::Permissions::from_mode(0o700),
            )
            .unwrap();
        }
        std::fs::write(tmp.path().join("gitconfig"), "").unwrap();
        Env { tmp }
    }

    fn root(&self) -> &Path {
        self.tmp.path()
    }

    fn av_home(&self) -> PathBuf {
        self.root().join("av-home")
    }

    /// A command with the hermetic environment; `with_binary` puts agent-vault on PATH.
    fn command(&self, program: impl AsRef<OsStr>, cwd: &Path, with_binary: bool) -> Command {
        let mut cmd = Command::new(program);
        let config = self.root().join("gitconfig");
        cmd.current_dir(cwd)
            .env("HOME", self.root().join("home"))
            .env("AGENT_VAULT_HOME", self.av_home())
            .env("GIT_CONFIG_GLOBAL", &config)
            .env("GIT_CONFIG_SYSTEM", &config)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Test Owner")
            .env("GIT_AUTHOR_EMAIL", "owner@example.com")
            .env("GIT_COMMITTER_NAME", "Test Owner")
            .env("GIT_COMMITTER_EMAIL", "owner@example.com")
            .env("GNUPGHOME", self.root().join("gnupg"))
            .env("PRE_COMMIT_HOME", self.root().join("pre-commit-home"))
            .env("PATH", search_path(with_binary))
            .env("NO_COLOR", "1")
            .env_remove("AGENT_VAULT_KEY")
            .env_remove("AGENT_VAULT_DIR")
            .env_remove("GIT_DIR")
            .env_remove("GIT_INDEX_FILE")
            .env_remove("GIT_WORK_TREE")
            .stdin(Stdio::null());
        cmd
    }

    fn repo(&self, name: &str) -> PathBuf {
        let dir = self.root().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        self.git(&dir, &["init", "-q", "-b", "main"]);
        dir
    }

    fn git(&self, repo: &Path, args: &[&str]) -> Output {
        let out = self
            .command("git", repo, false)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?} failed: {}", text(&out));
        out
    }

    /// `git commit` with the hooks, agent-vault on PATH or not.
    fn commit(&self, repo: &Path, with_binary: bool, extra_env: &[(&str, &str)]) -> Output {
        let mut cmd = self.command("git", repo, with_binary);
        cmd.args(["commit", "-q", "-m", "test commit"]);
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }

    fn av(&self, repo: &Path, args: &[&str]) -> Output {
        self.command(BIN, repo, true).args(args).output().unwrap()
    }

    fn av_stdin(&self, repo: &Path, args: &[&str], stdin: &[u8]) -> Output {
        let mut child = self
            .command(BIN, repo, true)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        child.wait_with_output().unwrap()
    }

    /// Runs the shipped hook script directly without agent-vault on PATH.
    fn fallback(&self, repo: &Path) -> Output {
        self.command("sh", repo, false)
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("hooks/pre-commit"))
            .output()
            .unwrap()
    }
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// PATH without any folder holding an `agent-vault`, plus the build's folder if asked.
fn search_path(with_binary: bool) -> String {
    let system = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&system)
        .filter(|d| !d.join("agent-vault").exists())
        .collect();
    if with_binary {
        dirs.insert(0, Path::new(BIN).parent().unwrap().to_path_buf());
    }
    std::env::join_paths(dirs).unwrap().into_string().unwrap()
}

fn have(tool: &str) -> bool {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .any(|d| d.join(tool).is_file())
}

/// A test part that needs a tool this machine lacks: skipped with a note — but under CI
/// (`CI` set), where `.ci/run` installs every tool, a missing one fails the suite.
fn skip(what: &str) {
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
    assert!(!ci, "{what} (CI is set: every tool must be installed)");
    // Written to the real stderr, not through `eprintln!`, which the test harness captures and
    // hides for a passing test: a skip must be seen.
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!("SKIPPED: {what}\n").as_bytes(),
    );
}

fn run_ok(env: &Env, dir: &Path, program: &str, args: &[&str]) -> bool {
    let out = env
        .command(program, dir, false)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            assert!(
                e.kind() != std::io::ErrorKind::NotFound || !program.starts_with("age"),
                "this test needs `{program}`, which is not installed: install the age CLI (`apt-get install age`, `brew install age`)"
            );
            panic!("cannot start {program}: {e}")
        });
    if !out.status.success() {
        eprintln!("{program} {args:?}: {}", text(&out));
    }
    out.status.success()
}

/// Makes one private key of every kind the installed tools can make, in `dir`. Returns
/// file name → expected kind.
fn make_private_keys(env: &Env, dir: &Path) -> BTreeMap<String, &'static str> {
    let mut keys = BTreeMap::new();
    assert!(run_ok(env, dir, "age-keygen", &["-o", "age.key.txt"]));
    keys.insert("age.key.txt".into(), "age-identity");
    if have("ssh-keygen") {
        for (kind, file) in [("ed25519", "id_ed25519"), ("ecdsa", "id_ecdsa")] {
            assert!(run_ok(
                env,
                dir,
                "ssh-keygen",
                &["-q", "-t", kind, "-N", "", "-f", file]
            ));
            keys.insert(file.into(), "openssh-private-key");
        }
        assert!(run_ok(
            env,
            dir,
            "ssh-keygen",
            &[
                "-q",
                "-t",
                "rsa",
                "-b",
                "2048",
                "-m",
                "PEM",
                "-N",
                "",
                "-f",
                "id_rsa_pem"
            ]
        ));
        keys.insert("id_rsa_pem".into(), "rsa-private-key");
    } else {
        skip("ssh-keygen not installed (apt: openssh-client): OpenSSH keys not tested");
    }
    if have("openssl") {
        let o = |args: &[&str]| run_ok(env, dir, "openssl", args);
        assert!(o(&[
            "genpkey",
            "-algorithm",
            "ed25519",
            "-out",
            "pkcs8.pem"
        ]));
        keys.insert("pkcs8.pem".into(), "pkcs8-private-key");
        assert!(o(&[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:1024",
            "-aes-256-cbc",
            "-pass",
            "pass:fixture",
            "-out",
            "encrypted.pem"
        ]));
        keys.insert("encrypted.pem".into(), "encrypted-private-key");
        assert!(o(&["genrsa", "-traditional", "-out", "rsa.pem", "1024"]));
        keys.insert("rsa.pem".into(), "rsa-private-key");
        assert!(o(&[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "ec.pem"
        ]));
        keys.insert("ec.pem".into(), "ec-private-key");
        assert!(o(&["dsaparam", "-out", "dsaparam.tmp", "1024"]));
        assert!(o(&["gendsa", "-out", "dsa8.tmp", "dsaparam.tmp"]));
        assert!(o(&[
            "pkey",
            "-in",
            "dsa8.tmp",
            "-traditional",
            "-out",
            "dsa.pem"
        ]));
        std::fs::remove_file(dir.join("dsaparam.tmp")).unwrap();
        std::fs::remove_file(dir.join("dsa8.tmp")).unwrap();
        keys.insert("dsa.pem".into(), "dsa-private-key");
        // A service-account style JSON file: the key inside a string with \n escapes.
        let pem = std::fs::read_to_string(dir.join("pkcs8.pem")).unwrap();
        let json = serde_json::json!({ "type": "service_account", "private_key": pem });
        std::fs::write(dir.join("service-account.json"), json.to_string()).unwrap();
        keys.insert("service-account.json".into(), "pkcs8-private-key");
    } else {
        skip("openssl not installed: PEM keys not tested");
    }
    if have("gpg") {
        let ok = run_ok(
            env,
            dir,
            "gpg",
            &[
                "--batch",
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "",
                "--quick-gen-key",
                "Fixture <fixture@example.com>",
                "ed25519",
                "sign",
                "never",
            ],
        );
        assert!(ok, "gpg key generation failed");
        let out = env
            .command("gpg", dir, false)
            .args([
                "--batch",
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "",
                "--armor",
                "--export-secret-keys",
                "fixture@example.com",
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        std::fs::write(dir.join("secret.asc"), &out.stdout).unwrap();
        keys.insert("secret.asc".into(), "pgp-private-key");
    } else {
        skip("gpg not installed (apt: gnupg): PGP keys not tested");
    }
    if have("puttygen") {
        assert!(run_ok(
            env,
            dir,
            "puttygen",
            &[
                "-t",
                "ed25519",
                "-o",
                "putty.ppk",
                "--new-passphrase",
                "/dev/null"
            ]
        ));
        keys.insert("putty.ppk".into(), "putty-private-key");
    } else {
        skip("puttygen not installed (apt: putty-tools): PuTTY keys not tested");
    }
    // No age plugin is installed here, so the plugin identity is encoded by this test: a
    // Bech32 string with HRP `age-plugin-fixture-` and a valid checksum.
    std::fs::write(
        dir.join("plugin-identity.txt"),
        format!(
            "# plugin\n{}\n",
            bech32_upper("age-plugin-fixture-", &[7u8; 40])
        ),
    )
    .unwrap();
    keys.insert("plugin-identity.txt".into(), "age-plugin-identity");
    keys
}

fn bech32_upper(hrp: &str, data: &[u8]) -> String {
    const CHARSET: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    // 8-bit → 5-bit groups.
    let (mut acc, mut bits, mut values) = (0u32, 0u32, Vec::new());
    for &b in data {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            values.push(((acc >> bits) & 31) as u8);
        }
    }
    if bits > 0 {
        values.push(((acc << (5 - bits)) & 31) as u8);
    }
    let polymod = |vals: &[u8]| {
        let generator = [
            0x3b6a57b2u32,
            0x26508e6d,
            0x1ea119fa,
            0x3d4233dd,
            0x2a1462b3,
        ];
        let mut chk = 1u32;
        for &v in vals {
            let top = chk >> 25;
            chk = ((chk & 0x1ffffff) << 5) ^ u32::from(v);
            for (i, g) in generator.iter().enumerate() {
                if (top >> i) & 1 == 1 {
                    chk ^= g;
                }
            }
        }
        chk
    };
    let mut expanded: Vec<u8> = hrp.bytes().map(|b| b >> 5).collect();
    expanded.push(0);
    expanded.extend(hrp.bytes().map(|b| b & 31));
    expanded.extend(&values);
    expanded.extend([0u8; 6]);
    let checksum = polymod(&expanded) ^ 1;
    for i in 0..6 {
        values.push(((checksum >> (5 * (5 - i))) & 31) as u8);
    }
    let data: String = values
        .iter()
        .map(|&v| CHARSET[v as usize] as char)
        .collect();
    format!("{hrp}1{data}").to_uppercase()
}

/// `scan --staged --json` findings as (path, kind) pairs.
fn staged_findings(env: &Env, repo: &Path) -> (Output, Vec<(String, String)>) {
    let out = env.av(repo, &["scan", "--staged", "--json"]);
    let json: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("bad JSON ({e}): {}", text(&out)));
    let findings = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_owned(),
                f["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    (out, findings)
}

#[test]
fn every_key_kind_is_found_by_the_binary_and_the_fallback() {
    let env = Env::new();
    let repo = env.repo("keys");
    let keys = make_private_keys(&env, &repo);
    env.git(&repo, &["add", "-A"]);

    let (out, findings) = staged_findings(&env, &repo);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let found: BTreeMap<String, String> = findings.into_iter().collect();
    for (file, kind) in &keys {
        assert_eq!(
            found.get(file).map(String::as_str),
            Some(*kind),
            "{file}: {}",
            text(&out)
        );
    }
    assert_eq!(found.len(), keys.len(), "unexpected findings: {found:?}");
    let human = env.av(&repo, &["scan", "--staged"]);
    assert_eq!(human.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&human.stdout);
    assert!(
        stdout.contains("age.key.txt:3: age-identity"),
        "{}",
        text(&human)
    );

    let fallback = env.fallback(&repo);
    assert_eq!(fallback.status.code(), Some(1), "{}", text(&fallback));
    let report = String::from_utf8_lossy(&fallback.stdout);
    for (file, kind) in &keys {
        assert!(
            report
                .lines()
                .any(|l| l.starts_with(&format!("{file}:")) && l.ends_with(kind)),
            "fallback missed {file} ({kind}): {}",
            text(&fallback)
        );
    }
    assert!(String::from_utf8_lossy(&fallback.stderr).contains("known-secret check was skipped"));
}

#[test]
fn public_keys_ciphertexts_and_mentions_pass() {
    let env = Env::new();
    let repo = env.repo("clean");
    let keys = make_private_keys(&env, &repo);
    // Derive the public halves, then remove the private keys.
    let recipient = {
        let out = env
            .command("age-keygen", &repo, false)
            .args(["-y", "age.key.txt"])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    std::fs::write(repo.join("recipients.txt"), &recipient).unwrap();
    std::fs::write(repo.join("plain.txt"), "hello").unwrap();
    assert!(run_ok(
        &env,
        &repo,
        "age",
        &["-r", recipient.trim(), "-o", "binary.age", "plain.txt"]
    ));
    assert!(run_ok(
        &env,
        &repo,
        "age",
        &[
            "-a",
            "-r",
            recipient.trim(),
            "-o",
            "armored.age",
            "plain.txt"
        ]
    ));
    if have("openssl") {
        assert!(run_ok(
            &env,
            &repo,
            "openssl",
            &["pkey", "-in", "pkcs8.pem", "-pubout", "-out", "public.pem"]
        ));
        assert!(run_ok(
            &env,
            &repo,
            "openssl",
            &[
                "req", "-x509", "-key", "rsa.pem", "-subj", "/CN=x", "-days", "1", "-out",
                "cert.pem"
            ]
        ));
    }
    if have("gpg") {
        let out = env
            .command("gpg", &repo, false)
            .args(["--batch", "--armor", "--export", "fixture@example.com"])
            .output()
            .unwrap();
        std::fs::write(repo.join("public.asc"), &out.stdout).unwrap();
    }
    for file in keys.keys() {
        std::fs::remove_file(repo.join(file)).unwrap();
    }
    std::fs::write(
        repo.join("parser.rs"),
        r#"// Recognises "-----BEGIN PRIVATE KEY-----" ... "-----END PRIVATE KEY-----".
const HEADER: &str = "-----BEGIN RSA PRIVATE KEY-----";
fn is_key(line: &str) -> bool { line.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----") }
"#,
    )
    .unwrap();
    std::fs::write(
        repo.join("README.md"),
        "Put `AGE-SECRET-KEY-1…` in your key file.\n\n```\n-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC...\n-----END PRIVATE KEY-----\n```\nPuTTY-User-Key-File-3: ssh-ed25519\n",
    )
    .unwrap();
    // A vault: its public keys, escrows and ciphertexts are committed by agent-vault itself,
    // which runs the same check on every commit.
    let init = env.av(&repo, &["init"]);
    assert!(init.status.success(), "{}", text(&init));
    let agent = env.av(&repo, &["add-agent", "bot"]);
    assert!(agent.status.success(), "{}", text(&agent));
    let set = env.av_stdin(
        &repo,
        &["set", "app/token", "--from-file", "-"],
        b"value-for-the-test",
    );
    assert!(set.status.success(), "{}", text(&set));
    let escrow = repo.join(".agent-vault/agents/bot/private.key.escrow");
    std::fs::copy(&escrow, repo.join("bot.private.key.escrow")).unwrap();
    env.git(&repo, &["add", "-A"]);

    let (out, findings) = staged_findings(&env, &repo);
    assert!(findings.is_empty(), "{}", text(&out));
    assert_eq!(out.status.code(), Some(0));
    let fallback = env.fallback(&repo);
    assert_eq!(fallback.status.code(), Some(0), "{}", text(&fallback));
    let paths = env.av(&repo, &["scan", "."]);
    assert_eq!(paths.status.code(), Some(0), "{}", text(&paths));
}

/// Puts a freshly made ed25519 PKCS#8 key (or, without openssl, an age identity) at `path`.
fn write_key(env: &Env, repo: &Path, path: &str) -> &'static str {
    let full = repo.join(path);
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    let scratch = env.root().join("scratch.key");
    let _ = std::fs::remove_file(&scratch);
    let kind = if have("openssl") {
        assert!(run_ok(
            env,
            repo,
            "openssl",
            &[
                "genpkey",
                "-algorithm",
                "ed25519",
                "-out",
                scratch.to_str().unwrap()
            ]
        ));
        "pkcs8-private-key"
    } else {
        assert!(run_ok(
            env,
            repo,
            "age-keygen",
            &["-o", scratch.to_str().unwrap()]
        ));
        "age-identity"
    };
    std::fs::copy(&scratch, &full).unwrap();
    kind
}

fn install_hook(env: &Env, repo: &Path) {
    let out = env.av(repo, &["hook", "install"]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn a_staged_key_blocks_even_after_the_working_copy_is_cleaned() {
    for with_binary in [true, false] {
        let env = Env::new();
        let repo = env.repo("r");
        install_hook(&env, &repo);
        write_key(&env, &repo, "deploy/key.pem");
        env.git(&repo, &["add", "deploy/key.pem"]);
        std::fs::write(repo.join("deploy/key.pem"), "# moved to the vault\n").unwrap();
        let out = env.commit(&repo, with_binary, &[]);
        assert!(
            !out.status.success(),
            "binary={with_binary}: {}",
            text(&out)
        );
        assert!(text(&out).contains("deploy/key.pem:1:"), "{}", text(&out));
        // Staging the clean copy unblocks it.
        env.git(&repo, &["add", "deploy/key.pem"]);
        let out = env.commit(&repo, with_binary, &[]);
        assert!(out.status.success(), "binary={with_binary}: {}", text(&out));
    }
}

#[test]
fn a_key_only_in_the_working_copy_does_not_block() {
    for with_binary in [true, false] {
        let env = Env::new();
        let repo = env.repo("r");
        install_hook(&env, &repo);
        std::fs::write(repo.join("config.txt"), "clean\n").unwrap();
        env.git(&repo, &["add", "config.txt"]);
        write_key(&env, &repo, "config.txt");
        write_key(&env, &repo, "untracked.pem");
        let out = env.commit(&repo, with_binary, &[]);
        assert!(out.status.success(), "binary={with_binary}: {}", text(&out));
        let shown = env.git(&repo, &["show", "HEAD:config.txt"]);
        assert_eq!(shown.stdout, b"clean\n");
    }
}

#[test]
fn commit_all_scans_the_index_git_hands_the_hook() {
    // `git commit -a` builds a temporary index and names it in GIT_INDEX_FILE.
    for with_binary in [true, false] {
        let env = Env::new();
        let repo = env.repo("r");
        install_hook(&env, &repo);
        std::fs::write(repo.join("settings.txt"), "clean\n").unwrap();
        env.git(&repo, &["add", "settings.txt"]);
        assert!(env.commit(&repo, with_binary, &[]).status.success());
        write_key(&env, &repo, "settings.txt");
        let out = env
            .command("git", &repo, with_binary)
            .args(["commit", "-q", "-a", "-m", "all"])
            .output()
            .unwrap();
        assert!(
            !out.status.success(),
            "binary={with_binary}: {}",
            text(&out)
        );
        assert!(text(&out).contains("settings.txt:1:"), "{}", text(&out));
    }
}

#[test]
fn renames_odd_names_and_binary_files() {
    let env = Env::new();
    let repo = env.repo("r");
    install_hook(&env, &repo);
    std::fs::write(repo.join("old-name.txt"), "harmless\n").unwrap();
    env.git(&repo, &["add", "old-name.txt"]);
    assert!(env.commit(&repo, true, &[]).status.success());
    env.git(&repo, &["mv", "old-name.txt", "new-name.txt"]);
    let kind = write_key(&env, &repo, "new-name.txt");
    env.git(&repo, &["add", "new-name.txt"]);
    let odd = [
        "with space.pem",
        "new\nline.pem",
        "quote\"and'apostrophe.pem",
        "ünïcödé/ключ.pem",
        "-leading-dash.pem",
        "1:colon.pem",
        "back\\slash.pem",
    ];
    for name in odd {
        write_key(&env, &repo, name);
    }
    // A binary file with a key in the middle.
    let mut binary = vec![0u8, 159, 146, 150, 0, 255];
    binary.extend(std::fs::read(repo.join("new-name.txt")).unwrap());
    binary.extend([0u8, 1, 2, 3]);
    std::fs::write(repo.join("blob.bin"), &binary).unwrap();
    env.git(&repo, &["add", "-A"]);

    let (out, findings) = staged_findings(&env, &repo);
    assert_eq!(out.status.code(), Some(1));
    let found: BTreeMap<String, String> = findings.into_iter().collect();
    for name in odd.iter().chain(&["new-name.txt", "blob.bin"]) {
        assert_eq!(
            found.get(*name).map(String::as_str),
            Some(kind),
            "{name:?}: {}",
            text(&out)
        );
    }
    let human = String::from_utf8_lossy(&env.av(&repo, &["scan", "--staged"]).stdout).into_owned();
    assert!(human.contains("\"new\\nline.pem\":1:"), "{human}");

    let fallback = env.fallback(&repo);
    assert_eq!(fallback.status.code(), Some(1));
    let report = String::from_utf8_lossy(&fallback.stdout);
    for name in odd.iter().chain(&["new-name.txt", "blob.bin"]) {
        assert!(
            report.contains(&format!("{name}:")),
            "fallback missed {name:?}: {}",
            text(&fallback)
        );
    }
    let out = env.commit(&repo, true, &[]);
    assert!(!out.status.success());
}

#[test]
fn core_hooks_path_is_respected() {
    let env = Env::new();
    let repo = env.repo("r");
    env.git(&repo, &["config", "core.hooksPath", ".githooks"]);
    install_hook(&env, &repo);
    assert!(repo.join(".githooks/pre-commit").is_file());
    assert!(!repo.join(".git/hooks/pre-commit").exists());
    let status = env.av(&repo, &["hook", "status", "--json"]);
    assert_eq!(status.status.code(), Some(0), "{}", text(&status));
    let json: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(json["state"], "installed");
    assert!(
        json["hook"]
            .as_str()
            .unwrap()
            .ends_with(".githooks/pre-commit")
    );
    write_key(&env, &repo, "k.pem");
    env.git(&repo, &["add", "k.pem"]);
    let out = env.commit(&repo, true, &[]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("k.pem:1:"));
}

#[test]
fn indexes_libgit2_cannot_read_are_scanned_through_git() {
    // A split index (`git update-index --split-index`) has a mandatory extension libgit2
    // does not support; the scan asks git for the staged blobs instead of failing.
    let env = Env::new();
    let repo = env.repo("r");
    std::fs::write(repo.join("README"), "hello\n").unwrap();
    env.git(&repo, &["add", "README"]);
    env.git(&repo, &["commit", "-q", "--no-verify", "-m", "first"]);
    env.git(&repo, &["update-index", "--split-index"]);
    install_hook(&env, &repo);
    let kind = write_key(&env, &repo, "deploy key.pem");
    env.git(&repo, &["add", "deploy key.pem"]);
    let (out, findings) = staged_findings(&env, &repo);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(
        findings,
        vec![("deploy key.pem".to_owned(), kind.to_owned())]
    );
    let blocked = env.commit(&repo, true, &[]);
    assert!(!blocked.status.success(), "{}", text(&blocked));
    std::fs::write(repo.join(".agent-vault-allow"), "deploy?key.pem\n").unwrap();
    env.git(&repo, &["add", ".agent-vault-allow"]);
    let allowed = env.commit(&repo, true, &[]);
    assert!(allowed.status.success(), "{}", text(&allowed));
}

#[test]
fn installing_into_a_tracked_hooks_folder_says_so() {
    let env = Env::new();
    let repo = env.repo("r");
    std::fs::create_dir_all(repo.join(".githooks")).unwrap();
    std::fs::write(repo.join(".githooks/pre-commit"), "#!/bin/sh\nexit 0\n").unwrap();
    env.git(&repo, &["add", ".githooks"]);
    env.git(&repo, &["commit", "-q", "--no-verify", "-m", "team hooks"]);
    env.git(&repo, &["config", "core.hooksPath", ".githooks"]);
    let out = env.av(&repo, &["hook", "install"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("is tracked by git"), "{}", text(&out));
}

#[test]
fn a_hooks_path_from_git_config_global_is_respected() {
    // The environment's GIT_CONFIG_GLOBAL file (not ~/.gitconfig) sets core.hooksPath, as
    // for users who keep their git config elsewhere.
    let env = Env::new();
    let global_hooks = env.root().join("global-hooks");
    env.git(
        env.root(),
        &[
            "config",
            "--global",
            "core.hooksPath",
            global_hooks.to_str().unwrap(),
        ],
    );
    let repo = env.repo("r");
    install_hook(&env, &repo);
    assert!(global_hooks.join("pre-commit").is_file());
    assert!(!repo.join(".git/hooks/pre-commit").exists());
    write_key(&env, &repo, "k.pem");
    env.git(&repo, &["add", "k.pem"]);
    let out = env.commit(&repo, true, &[]);
    assert!(
        !out.status.success(),
        "the key was committed: {}",
        text(&out)
    );
}

#[test]
fn a_dispatching_hook_such_as_huskys_still_runs_when_chained() {
    // husky (v9) sets core.hooksPath to .husky/_ where every hook is a stub that sources
    // `h`, which runs .husky/<basename of $0>. Chained under another name it would find no
    // hook and succeed silently.
    let env = Env::new();
    let repo = env.repo("r");
    let hooks = repo.join(".husky/_");
    std::fs::create_dir_all(&hooks).unwrap();
    let h = "#!/usr/bin/env sh\nn=$(basename \"$0\")\ns=$(dirname \"$(dirname \"$0\")\")/$n\n[ ! -f \"$s\" ] && exit 0\nsh -e \"$s\" \"$@\"\n";
    let stub = "#!/usr/bin/env sh\n. \"$(dirname \"$0\")/h\"\n";
    let user =
        "echo husky-ran >> \"$(git rev-parse --git-dir)/husky.log\"\nexit \"${HUSKY_EXIT:-0}\"\n";
    for (path, text) in [
        (hooks.join("h"), h),
        (hooks.join("pre-commit"), stub),
        (repo.join(".husky/pre-commit"), user),
    ] {
        std::fs::write(&path, text).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    env.git(&repo, &["config", "core.hooksPath", ".husky/_"]);
    install_hook(&env, &repo);
    let log = repo.join(".git/husky.log");
    for (i, with_binary) in [true, false].into_iter().enumerate() {
        let name = format!("f{i}.txt");
        std::fs::write(repo.join(&name), "x\n").unwrap();
        env.git(&repo, &["add", &name]);
        let out = env.commit(&repo, with_binary, &[("HUSKY_EXIT", "1")]);
        assert!(
            !out.status.success(),
            "the user's husky hook did not block (binary: {with_binary}): {}",
            text(&out)
        );
        let runs = std::fs::read_to_string(&log).unwrap().lines().count();
        assert_eq!(runs, 2 * i + 1, "the user's husky hook ran");
        let out = env.commit(&repo, with_binary, &[]);
        assert!(out.status.success(), "{}", text(&out));
    }
}

#[test]
fn an_existing_hook_is_chained_and_never_duplicated() {
    let env = Env::new();
    let repo = env.repo("r");
    let hook = repo.join(".git/hooks/pre-commit");
    let foreign = "#!/bin/sh\necho ran >> \"$(git rev-parse --git-dir)/chained.log\"\nexit \"${CHAINED_EXIT:-0}\"\n";
    std::fs::write(&hook, foreign).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    install_hook(&env, &repo);
    let ours = std::fs::read_to_string(&hook).unwrap();
    install_hook(&env, &repo);
    assert_eq!(
        std::fs::read_to_string(&hook).unwrap(),
        ours,
        "second install changed the hook"
    );
    let chained = repo.join(".git/hooks/pre-commit.agent-vault-chained");
    assert_eq!(std::fs::read_to_string(&chained).unwrap(), foreign);
    assert_eq!(
        std::fs::read_dir(repo.join(".git/hooks"))
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().contains("agent-vault"))
            .count(),
        1,
        "exactly one chained file"
    );
    let log = repo.join(".git/chained.log");
    let runs = || {
        std::fs::read_to_string(&log)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    };

    std::fs::write(repo.join("a.txt"), "a\n").unwrap();
    env.git(&repo, &["add", "a.txt"]);
    assert!(env.commit(&repo, true, &[]).status.success());
    assert_eq!(runs(), 1, "the chained hook ran");

    std::fs::write(repo.join("b.txt"), "b\n").unwrap();
    env.git(&repo, &["add", "b.txt"]);
    let out = env.commit(&repo, true, &[("CHAINED_EXIT", "1")]);
    assert!(
        !out.status.success(),
        "the chained hook's failure blocks: {}",
        text(&out)
    );
    assert_eq!(runs(), 2);

    write_key(&env, &repo, "c.pem");
    env.git(&repo, &["add", "c.pem"]);
    let out = env.commit(&repo, true, &[]);
    assert!(!out.status.success(), "{}", text(&out));
    assert_eq!(runs(), 2, "ours failed first");

    let out = env.av(&repo, &["hook", "uninstall"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), foreign);
    assert!(!chained.exists());
    assert_eq!(env.av(&repo, &["hook", "status"]).status.code(), Some(1));
}

#[test]
fn init_installs_the_hook_and_a_gitignore_that_keeps_vault_files_addable() {
    let env = Env::new();
    let repo = env.repo("r");
    let out = env.av(&repo, &["init"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(env.av(&repo, &["hook", "status"]).status.code(), Some(0));
    let ignored = |path: &str| {
        env.command("git", &repo, false)
            .args(["check-ignore", "-q", "--no-index", path])
            .status()
            .unwrap()
            .success()
    };
    for path in [
        ".agent-vault/owner.key",
        ".agent-vault/agents/bot.key",
        ".agent-vault/agents/bot/private.key",
        ".agent-vault/server.pem",
    ] {
        assert!(ignored(path), "{path} should be ignored");
    }
    for path in [
        ".agent-vault/agents/bot/public.key",
        ".agent-vault/agents/bot/private.key.escrow",
        ".agent-vault/secrets/app/token.enc",
        ".agent-vault/secrets/app/token.meta",
        ".agent-vault/owner.pub",
    ] {
        assert!(!ignored(path), "{path} must stay tracked");
    }
}

#[test]
fn a_pasted_secret_value_is_blocked_and_never_printed() {
    let env = Env::new();
    let repo = env.repo("r");
    assert!(env.av(&repo, &["init"]).status.success());
    let value = "pg-pass-Zx81-very-secret";
    let short = "1234567";
    for (path, v) in [("app/db-password", value), ("app/pin", short)] {
        let out = env.av_stdin(&repo, &["set", path, "--from-file", "-"], v.as_bytes());
        assert!(out.status.success(), "{}", text(&out));
    }
    std::fs::write(
        repo.join("app.env"),
        format!("PIN={short}\nHOST=db.internal\nPASSWORD={value}\n"),
    )
    .unwrap();
    env.git(&repo, &["add", "app.env"]);

    let out = env.av(&repo, &["scan", "--staged"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let all = text(&out);
    assert!(
        all.contains("app.env:3: known-secret (app/db-password)"),
        "{all}"
    );
    assert!(
        !all.contains(value) && !all.contains("Zx81"),
        "the value leaked: {all}"
    );
    assert!(
        !all.contains("app.env:1:"),
        "short values are skipped: {all}"
    );
    let json = env.av(&repo, &["scan", "--staged", "--json"]);
    let all = text(&json);
    assert!(!all.contains(value), "the value leaked: {all}");
    let parsed: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(parsed["findings"][0]["secrets"][0], "app/db-password");
    assert_eq!(parsed["known_secrets"]["too_short"][0], "app/pin");

    let commit = env.commit(&repo, true, &[]);
    assert!(!commit.status.success(), "{}", text(&commit));
    assert!(!text(&commit).contains(value));

    // Without a key the check is skipped with a note; --known-secrets makes that an error.
    let keyless = env.root().join("no-keys");
    std::fs::create_dir_all(&keyless).unwrap();
    let out = env
        .command(BIN, &repo, true)
        .args(["scan", "--staged"])
        .env("AGENT_VAULT_HOME", &keyless)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("known-secret check skipped"),
        "{}",
        text(&out)
    );
    let out = env
        .command(BIN, &repo, true)
        .args(["scan", "--staged", "--known-secrets"])
        .env("AGENT_VAULT_HOME", &keyless)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));

    // A stray AGENT_VAULT_KEY (an agent's key that cannot read the secret, or a missing
    // file) does not narrow the check while the owner key is at hand.
    assert!(env.av(&repo, &["add-agent", "bot"]).status.success());
    // Agent keys are kept per vault: agents/<vault id>/bot.key.
    let bot_key = std::fs::read_dir(env.av_home().join("agents"))
        .unwrap()
        .flatten()
        .map(|e| e.path().join("bot.key"))
        .find(|p| p.is_file())
        .expect("add-agent wrote bot.key");
    for key in [bot_key.as_path(), Path::new("/nonexistent/key")] {
        let out = env
            .command(BIN, &repo, true)
            .args(["scan", "--staged"])
            .env("AGENT_VAULT_KEY", key)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        assert!(text(&out).contains("known-secret (app/db-password)"));
    }
    // Only the agent's key (no owner key on this machine): it finds nothing, and says so.
    let agent_home = env.root().join("agent-home");
    std::fs::create_dir_all(&agent_home).unwrap();
    let out = env
        .command(BIN, &repo, true)
        .args(["scan", "--staged"])
        .env("AGENT_VAULT_HOME", &agent_home)
        .env("AGENT_VAULT_KEY", &bot_key)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("more it cannot read"), "{}", text(&out));
}

#[test]
fn allow_list_marks_fixtures() {
    let env = Env::new();
    let repo = env.repo("r");
    let kind = write_key(&env, &repo, "tests/fixtures/server.pem");
    env.git(&repo, &["add", "-A"]);
    assert_eq!(env.av(&repo, &["scan", "--staged"]).status.code(), Some(1));
    let allow = |text: &str| {
        std::fs::write(repo.join(".agent-vault-allow"), text).unwrap();
    };
    // A staged scan honours the allow-list being committed, not one lying in the working
    // tree; a plain scan of files honours the working tree's.
    allow("# test fixtures\ntests/fixtures/*.pem   # any key kind in these files\n");
    let out = env.av(&repo, &["scan", "--staged"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "unstaged allow-list applied: {}",
        text(&out)
    );
    let out = env.av(&repo, &["scan", "tests"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    env.git(&repo, &["add", ".agent-vault-allow"]);
    let out = env.av(&repo, &["scan", "--staged"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    allow("tests/fixtures/*.pem known-secret  # only pasted values\n");
    env.git(&repo, &["add", ".agent-vault-allow"]);
    assert_eq!(
        env.av(&repo, &["scan", "--staged"]).status.code(),
        Some(1),
        "kind {kind} is not allowed by a known-secret line"
    );
    allow("*.pem typo-kind\n");
    env.git(&repo, &["add", ".agent-vault-allow"]);
    let out = env.av(&repo, &["scan", "--staged"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("unknown kind 'typo-kind'"));
}

#[test]
fn staged_scan_reads_the_repository_being_committed_even_with_another_vault_named() {
    let env = Env::new();
    let vault = env.repo("vault");
    assert!(env.av(&vault, &["init"]).status.success());
    let value = "pg-pass-Zx81-very-secret";
    let out = env.av_stdin(
        &vault,
        &["set", "app/db", "--from-file", "-"],
        value.as_bytes(),
    );
    assert!(out.status.success(), "{}", text(&out));

    let repo = env.repo("app");
    std::fs::write(repo.join("README"), "hello\n").unwrap();
    env.git(&repo, &["add", "README"]);
    env.git(&repo, &["commit", "-q", "--no-verify", "-m", "first"]);
    write_key(&env, &repo, "id_ed25519");
    std::fs::write(repo.join("app.env"), format!("PASSWORD={value}\n")).unwrap();
    env.git(&repo, &["add", "-A"]);

    // `--vault`/`AGENT_VAULT_DIR` name the vault whose values are looked for; what is
    // scanned is still the index of the repository in which the command runs.
    let out = env
        .command(BIN, &repo, true)
        .args(["scan", "--staged"])
        .env("AGENT_VAULT_DIR", &vault)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let all = text(&out);
    assert!(all.contains("id_ed25519:"), "{all}");
    assert!(all.contains("app.env:1: known-secret (app/db)"), "{all}");
    assert!(!all.contains(value), "the value leaked: {all}");
}

#[test]
fn vault_plaintext_and_key_files_are_flagged() {
    let env = Env::new();
    let repo = env.repo("r");
    assert!(env.av(&repo, &["init"]).status.success());
    std::fs::create_dir_all(repo.join(".agent-vault/secrets/app")).unwrap();
    std::fs::write(
        repo.join(".agent-vault/secrets/app/token.enc"),
        "plaintext!",
    )
    .unwrap();
    std::fs::write(repo.join(".agent-vault/secrets/app/notes.txt"), "plaintext").unwrap();
    std::fs::copy(
        env.av_home().join("owner.key"),
        repo.join(".agent-vault/owner.key"),
    )
    .unwrap();
    env.git(&repo, &["add", "-f", ".agent-vault"]);
    let (out, findings) = staged_findings(&env, &repo);
    assert_eq!(out.status.code(), Some(1));
    let expected = [
        (".agent-vault/owner.key", "key-file"),
        (".agent-vault/owner.key", "age-identity"),
        (".agent-vault/secrets/app/notes.txt", "vault-plaintext"),
        (".agent-vault/secrets/app/token.enc", "vault-plaintext"),
    ];
    for (path, kind) in expected {
        assert!(
            findings.contains(&(path.into(), kind.into())),
            "{path} {kind}: {findings:?}"
        );
    }
    assert_eq!(findings.len(), expected.len(), "{findings:?}");
    let fallback = env.fallback(&repo);
    assert_eq!(fallback.status.code(), Some(1));
    let report = String::from_utf8_lossy(&fallback.stdout);
    for (path, kind) in expected {
        assert!(
            report.contains(&format!("{path}:")) && report.contains(kind),
            "fallback: {path} {kind}: {}",
            text(&fallback)
        );
    }
}

#[test]
fn agent_vault_refuses_to_commit_key_material_itself() {
    // Every commit agent-vault makes passes this check first (`vault::change`, `sign`, `init`).
    let env = Env::new();
    let repo = env.repo("r");
    assert!(env.av(&repo, &["init"]).status.success());
    let owner_key = std::fs::read(env.av_home().join("owner.key")).unwrap();
    let mut changes = agent_vault::changeset::ChangeSet::new();
    changes.put(".agent-vault/notes.txt", owner_key);
    let err = agent_vault::vault::check_leaks(&changes).unwrap_err();
    assert!(matches!(err, agent_vault::Error::Leak(_)), "{err}");
    assert!(err.to_string().contains("age-identity"), "{err}");
    assert!(!err.to_string().contains("AGE-SECRET-KEY"), "{err}");
    let mut changes = agent_vault::changeset::ChangeSet::new();
    changes.put(".agent-vault/secrets/x.enc", b"not a ciphertext".to_vec());
    assert!(agent_vault::vault::check_leaks(&changes).is_err());
    let mut changes = agent_vault::changeset::ChangeSet::new();
    changes.put(".agent-vault/manifest.yaml", b"version: 1\n".to_vec());
    assert!(agent_vault::vault::check_leaks(&changes).is_ok());
}

#[test]
fn scanning_paths() {
    let env = Env::new();
    let dir = env.root().join("plain-dir");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    let kind = write_key(&env, &dir, "sub/id.pem");
    std::fs::write(dir.join("ok.txt"), "nothing\n").unwrap();
    let out = env.av(&dir, &["scan"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("sub/id.pem:1: {kind}")),
        "{}",
        text(&out)
    );
    assert_eq!(env.av(&dir, &["scan", "ok.txt"]).status.code(), Some(0));
    // A symbolic link named on the command line is followed.
    std::os::unix::fs::symlink(dir.join("sub/id.pem"), dir.join("link")).unwrap();
    let link = env.av(&dir, &["scan", "link"]);
    assert_eq!(link.status.code(), Some(1), "{}", text(&link));
    let missing = env.av(&dir, &["scan", "nope.txt"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing).contains("nope.txt"));
    let usage = env.av(&dir, &["scan", "--staged"]);
    assert_eq!(usage.status.code(), Some(2), "{}", text(&usage));
}

#[test]
fn pre_commit_framework_manifest_works() {
    if !have("pre-commit") {
        skip("pre-commit not installed (pip install pre-commit): manifest not tested");
        return;
    }
    let env = Env::new();
    let manifest_repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = env
        .command("pre-commit", manifest_repo, false)
        .args(["validate-manifest", ".pre-commit-hooks.yaml"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));

    // try-repo needs a git repository holding the manifest and the hook script.
    let hooks_repo = env.repo("hooks-repo");
    std::fs::copy(
        manifest_repo.join(".pre-commit-hooks.yaml"),
        hooks_repo.join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    std::fs::create_dir_all(hooks_repo.join("hooks")).unwrap();
    std::fs::copy(
        manifest_repo.join("hooks/pre-commit"),
        hooks_repo.join("hooks/pre-commit"),
    )
    .unwrap();
    env.git(&hooks_repo, &["add", "-A"]);
    env.git(&hooks_repo, &["commit", "-q", "-m", "hooks"]);

    let repo = env.repo("user-repo");
    std::fs::write(repo.join("clean.txt"), "clean\n").unwrap();
    env.git(&repo, &["add", "clean.txt"]);
    for (hook, with_binary) in [
        ("agent-vault", false),
        ("agent-vault", true),
        ("agent-vault-system", true),
    ] {
        let out = env
            .command("pre-commit", &repo, with_binary)
            .args(["try-repo", hooks_repo.to_str().unwrap(), hook])
            .output()
            .unwrap();
        assert!(out.status.success(), "{hook}, clean: {}", text(&out));
    }
    write_key(&env, &repo, "leak.pem");
    env.git(&repo, &["add", "leak.pem"]);
    for (hook, with_binary) in [
        ("agent-vault", false),
        ("agent-vault", true),
        ("agent-vault-system", true),
    ] {
        let out = env
            .command("pre-commit", &repo, with_binary)
            .args(["try-repo", hooks_repo.to_str().unwrap(), hook])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{hook}, key staged: {}", text(&out));
        assert!(text(&out).contains("leak.pem:1:"), "{}", text(&out));
    }
}

#[test]
fn the_projects_own_tracked_files_scan_clean() {
    let env = Env::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let listed = env
        .command("git", root, false)
        .args(["ls-files", "-z"])
        .output()
        .unwrap();
    if !listed.status.success() {
        skip("the source tree is not a git checkout");
        return;
    }
    let files: Vec<&OsStr> = listed
        .stdout
        .split(|&b| b == 0)
        .filter(|f| !f.is_empty())
        .map(OsStr::from_bytes)
        .collect();
    assert!(files.len() > 100, "{} tracked files", files.len());
    let out = env
        .command(env!("CARGO_BIN_EXE_agent-vault"), root, false)
        .arg("scan")
        .args(&files)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
}
