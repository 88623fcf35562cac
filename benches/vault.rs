//! In-process costs of reading a vault at scale: `get` on a signed 10,000-secret vault versus
//! the same vault unsigned (the difference is what signature verification costs), and the
//! whole-vault verification that listings and owner commands do.
//!
//! Run with `cargo bench --bench vault`. Setup encrypts 10,000 secrets and signs the vault once
//! (a few seconds).

use std::path::Path;
use std::process::Command;

use agent_vault::crypto;
use agent_vault::format::{self, SecretMetaFile};
use agent_vault::integrity;
use agent_vault::keys::{self, KeyChoice, KeyHome};
use agent_vault::manifest::Manifest;
use agent_vault::names::SecretPath;
use agent_vault::settings::Settings;
use agent_vault::vault::{ReadOptions, Vault};
use criterion::{Criterion, criterion_group, criterion_main};

const SECRETS: usize = 10_000;

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args([
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@example.com",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_SYSTEM", "/dev/null")
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?}");
}

/// Settings as the CLI would make them in a hermetic environment.
fn settings(home: &KeyHome) -> Settings {
    let mut settings = Settings::new(home.clone());
    settings.git.author_name = Some("bench".into());
    settings.git.author_email = Some("bench@example.com".into());
    settings
}

/// A vault with `SECRETS` secrets in 100 groups, written directly and then signed by the owner.
fn build(root: &Path) -> (KeyHome, std::path::PathBuf) {
    let home = KeyHome::at(root.join("home"));
    let repo = root.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    Vault::init(&repo, settings(&home), Some("bench")).expect("init");
    let owner = keys::load_owner(&home).unwrap().recipients();
    let mut manifest =
        Manifest::parse(&std::fs::read(repo.join(format::MANIFEST_PATH)).unwrap()).unwrap();
    for i in 0..SECRETS {
        let path = format!("g{:02}/secret-{i:05}", i % 100);
        let enc =
            crypto::encrypt(format!("value-{i:05}-0123456789abcdef").as_bytes(), &owner).unwrap();
        let meta = SecretMetaFile {
            name: path.clone(),
            group: format!("g{:02}", i % 100),
            created: "2026-01-01T00:00:00Z".into(),
            rotated: Some("2026-01-01T00:00:00Z".into()),
            expires: None,
            authorized_agents: Vec::new(),
            extra_agents: Vec::new(),
            recipients: Some(crypto::recipients_fingerprint(&[owner[0].to_string()])),
            policy: None,
            extra: Default::default(),
        };
        let enc_path = repo.join(format::secret_enc_path(&path));
        std::fs::create_dir_all(enc_path.parent().unwrap()).unwrap();
        std::fs::write(&enc_path, enc).unwrap();
        std::fs::write(repo.join(format::secret_meta_path(&path)), meta.to_yaml()).unwrap();
        manifest.put_secret(&path, &format!("g{:02}", i % 100));
    }
    std::fs::write(repo.join(format::MANIFEST_PATH), manifest.to_yaml()).unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "--no-verify", "-m", "bulk load"]);
    let vault = Vault::discover(&repo, settings(&home)).unwrap();
    vault.sign(false, false).expect("sign");
    (home, repo)
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (home, repo) = build(dir.path());
    let vault = Vault::discover(&repo, settings(&home)).unwrap();
    let path = SecretPath::parse("g42/secret-04242").unwrap();
    let offline = ReadOptions {
        offline: true,
        ..ReadOptions::default()
    };
    let mut group = c.benchmark_group("10k-secrets");
    group.bench_function("get (signed: verify + decrypt)", |b| {
        b.iter(|| vault.get(&path, &KeyChoice::Auto, &offline).unwrap())
    });
    let statement_bytes =
        std::fs::read(repo.join(integrity::STATEMENT_PATH)).expect("the statement is checked out");
    group.bench_function("parse and check the statement signature", |b| {
        b.iter(|| integrity::Statement::parse_and_verify(&statement_bytes).unwrap())
    });
    let pins = agent_vault::pins::Pins::new(&home);
    group.bench_function("read the pins", |b| {
        b.iter(|| pins.state(vault.location()).unwrap())
    });
    group.sample_size(10);
    group.bench_function("verify the whole vault (listings, owner commands)", |b| {
        b.iter(|| assert!(vault.verify(&offline).unwrap().problems.is_empty()))
    });
    group.bench_function("list (whole vault verified, metadata parsed)", |b| {
        b.iter(|| assert_eq!(vault.list(None, &offline).unwrap().0.len(), SECRETS))
    });
    // The same vault without its signature: what get costs without verification.
    git(&repo, &["rm", "-rq", ".agent-vault/integrity"]);
    git(&repo, &["commit", "-q", "--no-verify", "-m", "unsign"]);
    std::fs::remove_file(home.root().join("pins.json")).unwrap();
    group.sample_size(100);
    group.bench_function("get (unsigned: decrypt only)", |b| {
        b.iter(|| vault.get(&path, &KeyChoice::Auto, &offline).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
