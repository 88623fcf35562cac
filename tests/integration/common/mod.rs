//! Hermetic environments for the integration tests: every test gets its own temp `HOME`,
//! `AGENT_VAULT_HOME`, empty git config and fixed git identity, runs the real `agent-vault`
//! binary with a cleared environment and a null stdin, and can snapshot directory trees.

#![allow(dead_code)]

pub mod attacker;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

pub const AUTHOR_NAME: &str = "Test Owner";
pub const AUTHOR_EMAIL: &str = "owner@example.test";

/// The result of running a command.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
    pub what: String,
}

impl Run {
    pub fn from(output: Output, what: String) -> Self {
        use std::os::unix::process::ExitStatusExt;
        let code = output
            .status
            .code()
            .unwrap_or_else(|| 128 + output.status.signal().unwrap_or(0));
        Run {
            code,
            stdout: output.stdout,
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            what,
        }
    }

    pub fn out(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Asserts success and returns self.
    #[track_caller]
    pub fn ok(self) -> Self {
        assert_eq!(
            self.code,
            0,
            "`{}` failed (exit {})\nstdout: {}\nstderr: {}",
            self.what,
            self.code,
            self.out(),
            self.stderr
        );
        self
    }

    /// Asserts the given exit code and returns self.
    #[track_caller]
    pub fn code(self, code: i32) -> Self {
        assert_eq!(
            self.code,
            code,
            "`{}`: expected exit {code}, got {}\nstdout: {}\nstderr: {}",
            self.what,
            self.code,
            self.out(),
            self.stderr
        );
        self
    }

    /// Asserts stderr contains `needle` (case-insensitive).
    #[track_caller]
    pub fn stderr_has(self, needle: &str) -> Self {
        assert!(
            self.stderr.to_lowercase().contains(&needle.to_lowercase()),
            "`{}`: stderr does not contain {needle:?}:\n{}",
            self.what,
            self.stderr
        );
        self
    }

    /// Asserts neither stdout nor stderr contains `secret`.
    #[track_caller]
    pub fn no_leak(self, secret: &str) -> Self {
        assert!(
            !self.stderr.contains(secret) && !self.out().contains(secret),
            "`{}` printed secret material {secret:?}\nstdout: {}\nstderr: {}",
            self.what,
            self.out(),
            self.stderr
        );
        self
    }

    /// stdout and stderr together, for assertions on messages.
    pub fn all(&self) -> String {
        format!("{}{}", self.out(), self.stderr)
    }

    /// Asserts stdout contains `needle`.
    #[track_caller]
    pub fn stdout_has(self, needle: &str) -> Self {
        assert!(
            self.out().contains(needle),
            "`{}`: stdout does not contain {needle:?}:\n{}",
            self.what,
            self.out()
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.stdout)
            .unwrap_or_else(|e| panic!("`{}`: stdout is not JSON ({e}): {}", self.what, self.out()))
    }
}

/// One hermetic test environment.
pub struct Env {
    pub tmp: TempDir,
    pub home: PathBuf,
    pub av_home: PathBuf,
    pub git_config: PathBuf,
    /// The default repository (`<tmp>/repo`), created by [`Env::new`] as an empty git repo.
    pub repo: PathBuf,
    extra_env: Vec<(String, String)>,
}

impl Env {
    /// A new environment with an empty git repository at `self.repo` (no vault yet).
    pub fn new() -> Self {
        let tmp = tempfile::Builder::new()
            .prefix("av-it-")
            .tempdir()
            .expect("tempdir");
        let root = tmp.path().to_path_buf();
        let home = root.join("home");
        let av_home = root.join("av-home");
        let git_config = root.join("gitconfig-empty");
        std::fs::create_dir_all(&home).unwrap();
        // No background `git gc --auto`: one still running makes an explicit `git gc` fail.
        std::fs::write(&git_config, "[gc]\n\tauto = 0\n").unwrap();
        let env = Env {
            tmp,
            home,
            av_home,
            git_config,
            repo: root.join("repo"),
            extra_env: Vec::new(),
        };
        std::fs::create_dir_all(&env.repo).unwrap();
        env.git_in(&env.repo, &["init", "-q", "-b", "main"]);
        env
    }

    /// A new environment with an initialized vault in `self.repo`.
    pub fn with_vault() -> Self {
        let env = Env::new();
        env.av(&["init"]).ok();
        env
    }

    pub fn root(&self) -> &Path {
        self.tmp.path()
    }

    /// Sets an extra environment variable for every later command.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.extra_env.push((key.into(), value.into()));
    }

    fn base(&self, program: impl AsRef<OsStr>, dir: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("AGENT_VAULT_HOME", &self.av_home)
            .env("GIT_CONFIG_GLOBAL", &self.git_config)
            .env("GIT_CONFIG_SYSTEM", &self.git_config)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", AUTHOR_NAME)
            .env("GIT_AUTHOR_EMAIL", AUTHOR_EMAIL)
            .env("GIT_COMMITTER_NAME", AUTHOR_NAME)
            .env("GIT_COMMITTER_EMAIL", AUTHOR_EMAIL)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("NO_COLOR", "1")
            .env("LC_ALL", "C")
            .current_dir(dir)
            .stdin(Stdio::null());
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
        cmd
    }

    /// The `agent-vault` command, configured but not run, in `dir`.
    pub fn av_cmd(&self, dir: &Path, args: &[&str]) -> Command {
        let bin = assert_cmd::cargo::cargo_bin("agent-vault");
        let mut cmd = self.base(bin, dir);
        cmd.args(args);
        cmd
    }

    /// Runs `agent-vault ARGS` in the default repo.
    pub fn av(&self, args: &[&str]) -> Run {
        self.av_in(&self.repo, args)
    }

    /// Runs `agent-vault ARGS` in `dir`.
    pub fn av_in(&self, dir: &Path, args: &[&str]) -> Run {
        let out = self.av_cmd(dir, args).output().expect("spawn agent-vault");
        Run::from(out, format!("agent-vault {}", args.join(" ")))
    }

    /// Runs `agent-vault ARGS` in the default repo with extra environment variables.
    pub fn av_env(&self, args: &[&str], vars: &[(&str, &str)]) -> Run {
        let mut cmd = self.av_cmd(&self.repo, args);
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("spawn agent-vault");
        Run::from(out, format!("agent-vault {}", args.join(" ")))
    }

    /// Runs `agent-vault ARGS` in the default repo with `input` on stdin.
    pub fn av_stdin(&self, args: &[&str], input: &[u8]) -> Run {
        run_with_stdin(
            self.av_cmd(&self.repo, args),
            input,
            format!("agent-vault {}", args.join(" ")),
        )
    }

    /// Runs `agent-vault ARGS` in `dir` with `input` on stdin.
    pub fn av_stdin_in(&self, dir: &Path, args: &[&str], input: &[u8]) -> Run {
        run_with_stdin(
            self.av_cmd(dir, args),
            input,
            format!("agent-vault {}", args.join(" ")),
        )
    }

    /// Stores a secret from stdin (exact bytes via `--from-file -`).
    pub fn set(&self, path: &str, value: &[u8]) {
        self.av_stdin(&["set", path, "--from-file", "-"], value)
            .ok();
    }

    /// Reads a secret with the owner key, offline.
    pub fn get(&self, path: &str) -> Vec<u8> {
        self.av(&["get", path, "--offline"]).ok().stdout
    }

    /// A plain command (git, age, …) in `dir` with the hermetic environment.
    pub fn cmd_in(&self, dir: &Path, program: &str, args: &[&str]) -> Command {
        let mut cmd = self.base(program, dir);
        cmd.args(args);
        cmd
    }

    /// Runs git in `dir`; panics on failure; returns trimmed stdout.
    #[track_caller]
    pub fn git_in(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.cmd_in(dir, "git", args).output().expect("spawn git");
        assert!(
            out.status.success(),
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim_end().to_owned()
    }

    /// Runs git in the default repo.
    #[track_caller]
    pub fn git(&self, args: &[&str]) -> String {
        self.git_in(&self.repo, args)
    }

    /// Runs git in the default repo returning raw stdout bytes.
    #[track_caller]
    pub fn git_bytes(&self, args: &[&str], input: Option<&[u8]>) -> Vec<u8> {
        let run = run_with_stdin(
            self.cmd_in(&self.repo, "git", args),
            input.unwrap_or(b""),
            format!("git {}", args.join(" ")),
        );
        assert_eq!(run.code, 0, "git {} failed: {}", args.join(" "), run.stderr);
        run.stdout
    }

    pub fn commit_count(&self) -> usize {
        self.git(&["rev-list", "--count", "HEAD"]).parse().unwrap()
    }

    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"])
    }

    pub fn vault_dir(&self) -> PathBuf {
        self.repo.join(".agent-vault")
    }

    pub fn owner_key(&self) -> PathBuf {
        self.av_home.join("owner.key")
    }

    /// The key file `add-agent NAME` wrote: `agents/<vault id>/NAME.key` (keys are kept per
    /// vault; a test has one vault with that agent), else `agents/NAME.key` (a vault without
    /// an identity).
    pub fn agent_key(&self, name: &str) -> PathBuf {
        let agents = self.av_home.join("agents");
        let per_vault: Vec<PathBuf> = std::fs::read_dir(&agents)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.path().join(format!("{name}.key")))
                    .filter(|p| p.is_file())
                    .collect()
            })
            .unwrap_or_default();
        match per_vault.as_slice() {
            [one] => one.clone(),
            _ => agents.join(format!("{name}.key")),
        }
    }

    /// The vault identity HEAD's statement names (32 hex characters).
    pub fn vault_id(&self) -> String {
        let statement = self.git(&["show", "HEAD:.agent-vault/integrity/statement"]);
        statement
            .lines()
            .find_map(|l| l.strip_prefix("vault "))
            .expect("a version-2 statement")
            .to_owned()
    }

    /// Where `add-agent NAME` writes the agent's key in this vault by default.
    pub fn default_agent_key(&self, name: &str) -> PathBuf {
        self.av_home
            .join("agents")
            .join(self.vault_id())
            .join(format!("{name}.key"))
    }

    /// Runs the stock `age` CLI with `input` on stdin; returns the run.
    pub fn age(&self, args: &[&str], input: &[u8]) -> Run {
        run_with_stdin(
            self.cmd_in(self.root(), "age", args),
            input,
            format!("age {}", args.join(" ")),
        )
    }

    /// Generates a key with the stock `age-keygen` into `path`; returns the public key.
    pub fn age_keygen(&self, path: &Path) -> String {
        let out = self
            .cmd_in(self.root(), "age-keygen", &["-o", path.to_str().unwrap()])
            .output()
            .unwrap_or_else(|e| spawn_failed("age-keygen", e));
        assert!(out.status.success(), "age-keygen failed");
        public_key_of(path)
    }

    /// Snapshot of the repo (with `.git`) and `AGENT_VAULT_HOME`.
    pub fn snapshot_all(&self) -> (Tree, Tree) {
        (snapshot(&self.repo), snapshot(&self.av_home))
    }
}

/// A test part that needs something this machine lacks: skipped with a note — but under CI
/// (`CI` set), where `.ci/run` installs everything, it fails the suite instead.
pub fn skip(what: &str) {
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
    assert!(
        !ci,
        "{what} (CI is set: everything the tests need must be there)"
    );
    // Written to the real stderr, not through `eprintln!`, which the test harness captures and
    // hides for a passing test: a skip must be seen.
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!("SKIPPED: {what}\n").as_bytes(),
    );
}

/// Fails the test for a program that could not be started, saying what to install when it is
/// missing (the tests use the stock `age` CLI to check interoperability; nothing replaces it).
#[track_caller]
pub fn spawn_failed(what: &str, e: std::io::Error) -> ! {
    let program = what.split_whitespace().next().unwrap_or(what);
    if e.kind() == std::io::ErrorKind::NotFound {
        let install = match program {
            "age" | "age-keygen" => {
                "install the age CLI: `apt-get install age` (Debian, Ubuntu), `brew install age` (macOS), or see https://age-encryption.org"
            }
            "python3" => "install Python 3 (>= 3.9)",
            _ => "install it (README.md, Prerequisites, lists what the tests need)",
        };
        panic!("this test needs `{program}`, which is not installed: {install}");
    }
    panic!("cannot start {what}: {e}");
}

/// Spawns `cmd`, writes `input` to its stdin, and collects the output.
pub fn run_with_stdin(mut cmd: Command, input: &[u8], what: String) -> Run {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| spawn_failed(&what, e));
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait");
    writer.join().unwrap();
    Run::from(out, what)
}

/// The `# public key: age1…` line of an age-keygen style file.
pub fn public_key_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .unwrap_or_else(|| panic!("no public key comment in {}", path.display()))
        .trim()
        .to_owned()
}

/// The `AGE-SECRET-KEY-1…` lines of an identity file.
pub fn secret_key_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .map(str::to_owned)
        .collect()
}

/// A directory tree: relative path → (mode, contents; `None` for directories).
pub type Tree = BTreeMap<PathBuf, (u32, Option<Vec<u8>>)>;

/// Snapshots `dir` recursively (missing dir → empty tree).
pub fn snapshot(dir: &Path) -> Tree {
    let mut tree = Tree::new();
    fn walk(root: &Path, dir: &Path, tree: &mut Tree) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let entry = entry.unwrap();
            let path = entry.path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let rel = path.strip_prefix(root).unwrap().to_path_buf();
            let mode = meta.permissions().mode();
            if meta.is_dir() {
                tree.insert(rel, (mode, None));
                walk(root, &path, tree);
            } else if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&path).unwrap();
                tree.insert(
                    rel,
                    (mode, Some(target.to_string_lossy().as_bytes().to_vec())),
                );
            } else {
                tree.insert(rel, (mode, Some(std::fs::read(&path).unwrap())));
            }
        }
    }
    walk(dir, dir, &mut tree);
    tree
}

/// Asserts two snapshots are equal, naming the differing paths.
#[track_caller]
pub fn assert_same_tree(before: &Tree, after: &Tree, what: &str) {
    if before == after {
        return;
    }
    let mut diffs = Vec::new();
    for (p, v) in before {
        match after.get(p) {
            None => diffs.push(format!("removed {}", p.display())),
            Some(w) if w != v => diffs.push(format!("changed {}", p.display())),
            _ => {}
        }
    }
    for p in after.keys() {
        if !before.contains_key(p) {
            diffs.push(format!("added {}", p.display()));
        }
    }
    panic!("{what}: the tree changed on disk: {diffs:?}");
}

/// `PATH` with the built `agent-vault` first, for what runs it by name (scripts, git hooks).
pub fn path_with_binary() -> String {
    let bin = assert_cmd::cargo::cargo_bin("agent-vault");
    format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Makes `path` readable by its owner only (as key files are).
pub fn chmod_600(path: &Path) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// Mode bits (permissions only) of `path`.
pub fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

pub fn is_root() -> bool {
    // the effective uid, via `id -u` (no libc dependency needed)
    let out = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

/// Runs agent-vault on a pseudo-terminal (stdin, stdout and stderr), typing `keys` after the
/// first `prompt`; returns what the terminal showed and the exit status (`None`: no pty).
pub fn on_a_terminal(env: &Env, args: &[&str], prompt: &str, keys: &[u8]) -> Option<(String, i32)> {
    let script = r#"
import os, pty, select, sys, time
prompt, keys = sys.argv[1].encode(), sys.argv[2].encode().decode("unicode_escape").encode("latin1")
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[3], sys.argv[3:])
out, sent, deadline = b"", False, time.time() + 30
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    if not sent and prompt in out:
        time.sleep(0.2)
        os.write(fd, keys)
        sent = True
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
sys.stdout.write("\nstatus %d\n" % os.waitstatus_to_exitcode(status))
"#;
    let bin = assert_cmd::cargo::cargo_bin("agent-vault");
    let keys: String = keys.iter().map(|b| format!("\\x{b:02x}")).collect();
    let mut all = vec!["-c", script, prompt, &keys, bin.to_str().unwrap()];
    all.extend(args);
    let out = env.cmd_in(&env.repo, "python3", &all).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let Some((shown, status)) = text.rsplit_once("\nstatus ") else {
        skip(&format!(
            "no pseudo-terminal here: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
        return None;
    };
    Some((shown.to_owned(), status.trim().parse().unwrap()))
}
