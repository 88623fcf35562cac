//! Leak-guard benchmark (`cargo bench --bench scan`; plain timing, no harness).
//!
//! 1. A temporary repository with 10,000 staged files / 100 MB: `git cat-file --batch` reading
//!    every staged blob, against `scan::scan_staged` (key detection, and with 1 and 1,000
//!    known secrets).
//! 2. Matching alone on a 100 MB buffer: key detection, and known-secret matching with 1 and
//!    1,000 secrets.
//!
//! Each figure is the median of several runs. `SCAN_BENCH_FILES` and `SCAN_BENCH_FILE_SIZE`
//! change the corpus (default 10,000 × 10,000 bytes).

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use agent_vault::scan::{self, AllowList, KnownSecrets, Scanner};
use secrecy::SecretSlice;

const RUNS: usize = 5;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Deterministic text that looks like source/config (not trivially compressible).
fn corpus(len: usize, seed: u64) -> Vec<u8> {
    const ALPHABET: &[u8] =
        b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _=-.:/\"'(){};,";
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        if state.is_multiple_of(61) {
            out.push(b'\n');
        } else {
            out.push(ALPHABET[(state >> 32) as usize % ALPHABET.len()]);
        }
    }
    out
}

fn secrets(n: usize) -> Vec<(String, SecretSlice<u8>)> {
    (0..n)
        .map(|i| {
            let mut value = corpus(24, 1_000_000 + i as u64);
            value.retain(|b| b.is_ascii_alphanumeric());
            value.extend(format!("-{i}").bytes());
            (format!("bench/secret-{i}"), SecretSlice::from(value))
        })
        .collect()
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn time<T>(mut f: impl FnMut() -> T) -> Duration {
    let mut times = Vec::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        std::hint::black_box(f());
        times.push(start.elapsed());
    }
    median(times)
}

fn git(repo: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("git")
        .current_dir(repo)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn cat_file_batch(repo: &Path, ids: &[u8]) -> usize {
    let mut child = Command::new("git")
        .current_dir(repo)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("git cat-file runs");
    let mut stdin = child.stdin.take().unwrap();
    let ids = ids.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&ids));
    let mut total = 0;
    let mut buf = vec![0u8; 1 << 20];
    let mut stdout = child.stdout.take().unwrap();
    loop {
        let n = stdout.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        total += n;
    }
    writer.join().unwrap().unwrap();
    assert!(child.wait().unwrap().success());
    total
}

fn mb_per_s(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / 1e6 / d.as_secs_f64()
}

fn main() {
    let files = env_usize("SCAN_BENCH_FILES", 10_000);
    let size = env_usize("SCAN_BENCH_FILE_SIZE", 10_000);
    let allow = AllowList::default();
    let one = KnownSecrets::new(&secrets(1));
    let thousand = KnownSecrets::new(&secrets(1000));

    // 2. Matching alone.
    let buffer = corpus(files * size, 42);
    let keys = time(|| scan::detect::find_keys(&buffer).len());
    let m1 = time(|| one.find(&buffer).len());
    let m1000 = time(|| thousand.find(&buffer).len());
    println!(
        "matching on {} MB in memory (median of {RUNS}):",
        buffer.len() / 1_000_000
    );
    println!(
        "  key detection               {:>8.1} ms  {:>7.0} MB/s",
        keys.as_secs_f64() * 1e3,
        mb_per_s(buffer.len(), keys)
    );
    println!(
        "  known secrets, 1 secret     {:>8.1} ms  {:>7.0} MB/s",
        m1.as_secs_f64() * 1e3,
        mb_per_s(buffer.len(), m1)
    );
    println!(
        "  known secrets, 1000 secrets {:>8.1} ms  {:>7.0} MB/s",
        m1000.as_secs_f64() * 1e3,
        mb_per_s(buffer.len(), m1000)
    );
    drop(buffer);

    // 1. A staged repository.
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path();
    git(repo, &["init", "-q"]);
    for i in 0..files {
        let dir = repo.join(format!("d{:03}", i / 100));
        if i % 100 == 0 {
            std::fs::create_dir_all(&dir).unwrap();
        }
        std::fs::write(dir.join(format!("f{i:05}.txt")), corpus(size, i as u64)).unwrap();
    }
    git(repo, &["add", "-A"]);
    let listing = git(repo, &["ls-files", "-s", "-z"]);
    let mut ids = Vec::new();
    for entry in listing.split(|&b| b == 0).filter(|e| !e.is_empty()) {
        ids.extend_from_slice(&entry[7..47]);
        ids.push(b'\n');
    }
    let repository = git2::Repository::open(repo).unwrap();
    let git = agent_vault::settings::GitEnv::default();
    let staged = scan::staged::Staged {
        repo: &repository,
        index_file: None,
        git: &git,
    };
    let total_bytes = files * size;
    let cat = time(|| cat_file_batch(repo, &ids));
    let scan_keys = time(|| {
        scan::staged::scan_staged(
            &staged,
            &Scanner {
                known: None,
                allow: &allow,
                progress: Default::default(),
            },
        )
        .unwrap()
        .files
    });
    let scan_1 = time(|| {
        scan::staged::scan_staged(
            &staged,
            &Scanner {
                known: Some(&one),
                allow: &allow,
                progress: Default::default(),
            },
        )
        .unwrap()
        .files
    });
    let scan_1000 = time(|| {
        scan::staged::scan_staged(
            &staged,
            &Scanner {
                known: Some(&thousand),
                allow: &allow,
                progress: Default::default(),
            },
        )
        .unwrap()
        .files
    });
    println!(
        "staged repository: {files} files, {} MB (median of {RUNS}):",
        total_bytes / 1_000_000
    );
    let row = |name: &str, d: Duration| {
        println!(
            "  {name:<36} {:>8.1} ms  {:>5.2}x cat-file",
            d.as_secs_f64() * 1e3,
            d.as_secs_f64() / cat.as_secs_f64()
        )
    };
    row("git cat-file --batch (all blobs)", cat);
    row("scan --staged (keys)", scan_keys);
    row("scan --staged (keys + 1 secret)", scan_1);
    row("scan --staged (keys + 1000 secrets)", scan_1000);
}
