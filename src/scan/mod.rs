//! The leak guard: finds private key material, the vault's own secret values and plaintext
//! where only ciphertexts belong, in what is about to be committed.
//!
//! * [`staged_files`] lists exactly what the next commit would contain: the index blobs of
//!   every added, copied, modified, renamed or type-changed path relative to HEAD (honouring
//!   `GIT_INDEX_FILE`, which git sets for `git commit -a` and `git commit PATH`). The working
//!   tree is never read for them.
//! * [`Scanner`] looks at one file's path and bytes: [`detect::find_keys`] for key material by
//!   structure, [`known::KnownSecrets`] for secret values, and the path rules for the vault
//!   folder and agent-vault's key-file names. An [`AllowList`] can mark deliberate fixtures.
//! * [`check_commit`] is the same check applied to every commit agent-vault makes itself.

pub mod detect;
pub mod known;
pub mod staged;

use std::fs;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

pub use detect::Kind;
pub use known::KnownSecrets;

use crate::error::IoContext;
use crate::fsutil::{self, CappedReadError};
use crate::progress::ProgressHandle;
use crate::{Error, Result};

/// The allow-list file, at the root of the working tree.
pub const ALLOW_FILE: &str = ".agent-vault-allow";
/// The largest allow-list read: it is a few lines of globs, and a file anyone can commit.
pub const MAX_ALLOW_FILE: u64 = 1 << 20;

fn too_large(origin: &str) -> Error {
    Error::Invalid(format!(
        "{origin} is larger than 1 MiB; an allow-list holds a few lines of globs, shorten it"
    ))
}

/// One thing found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The file, repository-relative for staged scans, as given for path scans.
    pub path: String,
    /// The 1-based line where it starts (`0` for findings about the file as a whole).
    pub line: usize,
    /// What it is.
    pub kind: Kind,
    /// For [`Kind::KnownSecret`]: the paths of the secrets whose value this is.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<String>,
}

impl Finding {
    /// `path:line: kind`, with the path quoted when it holds control characters, quotes or
    /// backslashes (as git quotes paths).
    pub fn render(&self) -> String {
        let mut out = format!("{}:{}: {}", quote_path(&self.path), self.line, self.kind);
        if !self.secrets.is_empty() {
            out.push_str(&format!(" ({})", self.secrets.join(", ")));
        }
        out
    }
}

/// Quotes a path for a one-line message: as is when plain, else `"…"` with C escapes.
pub fn quote_path(path: &str) -> String {
    if !path
        .chars()
        .any(|c| c.is_control() || c == '"' || c == '\\')
    {
        return path.to_owned();
    }
    let mut out = String::from("\"");
    for c in path.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Path globs (optionally with a kind) whose findings are deliberate, read from
/// [`ALLOW_FILE`].
///
/// Each line is `GLOB` or `GLOB KIND`; blank lines and `#` comments are ignored. A glob
/// without `/` matches the file name in any folder; with `/` it matches the whole
/// repository-relative path. `*` matches within one path segment, `**` across segments, `?`
/// one character. A bare `GLOB` allows key material only: a file holding one of the vault's
/// secret values, plaintext in the vault folder or a key file is allowed only when the line
/// names that kind (`known-secret`, `vault-plaintext`, `key-file`).
#[derive(Debug, Clone, Default)]
pub struct AllowList {
    entries: Vec<(String, Option<Kind>)>,
}

impl AllowList {
    /// Parses the allow-list text; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        let mut entries = Vec::new();
        for (number, line) in text.lines().enumerate() {
            // `#` starts a comment at the start of a line or after whitespace.
            let line = match line.find(" #").or_else(|| line.find("\t#")) {
                Some(at) => &line[..at],
                None => line,
            };
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (glob, kind) = match line.rsplit_once(char::is_whitespace) {
                Some((glob, last)) => match Kind::from_code(last) {
                    Some(kind) => (glob.trim_end(), Some(kind)),
                    // A second word that looks like a kind but is none is a typo, not a path.
                    None if last.contains('-')
                        && last.chars().all(|c| c.is_ascii_lowercase() || c == '-') =>
                    {
                        return Err(Error::Invalid(format!(
                            "{origin} line {}: unknown kind '{last}'; use one of: {}",
                            number + 1,
                            Kind::ALL.map(Kind::code).join(", ")
                        )));
                    }
                    None => (line, None),
                },
                None => (line, None),
            };
            entries.push((glob.trim_start_matches("./").to_owned(), kind));
        }
        Ok(AllowList { entries })
    }

    /// Reads the allow-list at the root of `workdir`; none when the file is absent.
    pub fn load(workdir: &Path) -> Result<Self> {
        let path = workdir.join(ALLOW_FILE);
        let bytes = match fsutil::read_capped_regular(&path, MAX_ALLOW_FILE) {
            Ok(bytes) => bytes,
            Err(CappedReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self::default());
            }
            Err(CappedReadError::TooLarge) => return Err(too_large(&path.display().to_string())),
            Err(CappedReadError::Io(e)) => {
                return Err(Error::io(
                    format!(
                        "cannot read {} (it must be a regular file, not a symbolic link)",
                        path.display()
                    ),
                    e,
                ));
            }
        };
        Self::from_bytes(&bytes, &path.display().to_string())
    }

    /// Parses an allow-list's bytes, which must be UTF-8 text.
    pub(crate) fn from_bytes(bytes: &[u8], origin: &str) -> Result<Self> {
        if bytes.len() as u64 > MAX_ALLOW_FILE {
            return Err(too_large(origin));
        }
        let text = std::str::from_utf8(bytes).map_err(|_| {
            Error::Invalid(format!(
                "{origin} is not UTF-8 text; fix it (and `git add` it if it is staged)"
            ))
        })?;
        Self::parse(text, origin)
    }

    /// Whether a finding of `kind` in the repository-relative `path` is allowed. A known
    /// secret never is: the allow-list is a file anyone can commit, and the vault's own values
    /// must not be silenced by it.
    pub fn allows(&self, path: &str, kind: Kind) -> bool {
        if kind == Kind::KnownSecret {
            return false;
        }
        self.entries.iter().any(|(glob, allowed)| {
            let kind_ok = match allowed {
                Some(allowed) => *allowed == kind,
                None => kind.is_key_material(),
            };
            kind_ok && glob_matches(glob, path)
        })
    }
}

/// Matches a gitignore-style glob against a `/`-separated path.
pub fn glob_matches(glob: &str, path: &str) -> bool {
    let glob = glob.trim_start_matches('/');
    if glob.contains('/') {
        glob_match_bytes(glob.as_bytes(), path.as_bytes())
    } else {
        let name = path.rsplit('/').next().unwrap_or(path);
        glob_match_bytes(glob.as_bytes(), name.as_bytes())
    }
}

fn glob_match_bytes(glob: &[u8], text: &[u8]) -> bool {
    match glob.first() {
        None => text.is_empty(),
        Some(b'*') if glob.starts_with(b"**") => match glob[2..].strip_prefix(b"/") {
            // `**/` matches zero or more whole segments.
            Some(after) => (0..=text.len())
                .any(|i| (i == 0 || text[i - 1] == b'/') && glob_match_bytes(after, &text[i..])),
            // `**` matches anything, `/` included.
            None => (0..=text.len()).any(|i| glob_match_bytes(&glob[2..], &text[i..])),
        },
        Some(b'*') => {
            let rest = &glob[1..];
            for i in 0..=text.len() {
                if glob_match_bytes(rest, &text[i..]) {
                    return true;
                }
                if i < text.len() && text[i] == b'/' {
                    return false;
                }
            }
            false
        }
        Some(b'?') => {
            !text.is_empty() && text[0] != b'/' && glob_match_bytes(&glob[1..], &text[1..])
        }
        Some(&c) => text.first() == Some(&c) && glob_match_bytes(&glob[1..], &text[1..]),
    }
}

/// Findings about a file's repository-relative path and (for vault files) its format:
/// plaintext under `.agent-vault/secrets/`, agent-vault key-file names.
pub fn path_findings(path: &str, bytes: &[u8]) -> Vec<Kind> {
    let mut out = Vec::new();
    let in_vault = path.starts_with(".agent-vault/") || path.contains("/.agent-vault/");
    let vault_rel = path
        .rsplit_once("/.agent-vault/")
        .map(|(_, rest)| rest)
        .or_else(|| path.strip_prefix(".agent-vault/"));
    if let Some(rel) = vault_rel
        && let Some(secret) = rel.strip_prefix("secrets/")
    {
        let is_meta = secret.ends_with(crate::format::META_SUFFIX);
        let is_enc = secret.ends_with(crate::format::ENC_SUFFIX);
        if !(is_meta || (is_enc && crate::crypto::looks_like_age(bytes))) {
            out.push(Kind::VaultPlaintext);
        }
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    let key_name = name == "owner.key"
        || name == "private.key"
        || (in_vault && (name.ends_with(".key") && name != "public.key" || name.ends_with(".pem")))
        || path.contains("agent-vault/agents/") && name.ends_with(".key") && name != "public.key";
    if key_name {
        out.push(Kind::KeyFile);
    }
    out
}

/// Scans files: key material always, secret values when a matcher is given, path rules.
pub struct Scanner<'a> {
    /// The vault's secret values, when the known-secret check runs.
    pub known: Option<&'a KnownSecrets>,
    /// Deliberate fixtures.
    pub allow: &'a AllowList,
    /// Where the progress of a long scan is reported.
    pub progress: ProgressHandle,
}

impl Scanner<'_> {
    /// Findings for one file, and how many the allow-list suppressed. `display` is what the
    /// report calls the file; `rel` is its repository-relative path, used for the path rules
    /// and the allow-list.
    pub fn scan(&self, display: &str, rel: &str, bytes: &[u8]) -> (Vec<Finding>, usize) {
        let mut raw: Vec<(usize, Kind, Vec<String>)> = Vec::new();
        for kind in path_findings(rel, bytes) {
            raw.push((0, kind, Vec::new()));
        }
        let mut offsets: Vec<(usize, Kind, Vec<String>)> = detect::find_keys(bytes)
            .into_iter()
            .map(|(at, kind)| (at, kind, Vec::new()))
            .collect();
        if let Some(known) = self.known {
            for (at, secrets) in known.find(bytes) {
                offsets.push((at, Kind::KnownSecret, secrets.to_vec()));
            }
        }
        offsets.sort_by_key(|(at, ..)| *at);
        // Line numbers in one forward pass.
        let (mut line, mut from) = (1usize, 0usize);
        for (at, kind, secrets) in offsets {
            line += memchr::memchr_iter(b'\n', &bytes[from..at]).count();
            from = at;
            raw.push((line, kind, secrets));
        }
        let mut out: Vec<Finding> = Vec::new();
        let mut suppressed = 0;
        for (line, kind, secrets) in raw {
            if self.allow.allows(rel, kind) {
                suppressed += 1;
                continue;
            }
            if let Some(same) = out.iter_mut().find(|f| f.line == line && f.kind == kind) {
                for s in secrets {
                    if !same.secrets.contains(&s) {
                        same.secrets.push(s);
                    }
                }
                continue;
            }
            out.push(Finding {
                path: display.to_owned(),
                line,
                kind,
                secrets,
            });
        }
        (out, suppressed)
    }
}

/// One file's findings, how many the allow-list suppressed, and its size.
type ScannedFile = ((Vec<Finding>, usize), u64);

/// What a scan found and looked at.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// The findings, in file order.
    pub findings: Vec<Finding>,
    /// How many files were scanned.
    pub files: usize,
    /// How many bytes were scanned.
    pub bytes: u64,
    /// How many findings the allow-list suppressed.
    pub suppressed: usize,
}

impl Report {
    /// The report of a scan that produced, per file, its findings and size (or an error).
    fn gather(results: Vec<Result<ScannedFile>>) -> Result<Report> {
        let mut report = Report {
            files: results.len(),
            ..Report::default()
        };
        for result in results {
            let ((findings, suppressed), bytes) = result?;
            report.findings.extend(findings);
            report.suppressed += suppressed;
            report.bytes += bytes;
        }
        Ok(report)
    }
}

/// Scans files and folders (recursively; `.git` folders, and symbolic links met while walking
/// a folder, are skipped; a link named explicitly is followed).
/// `repo_root`, when known, makes paths repository-relative for the path rules and the
/// allow-list.
pub fn scan_paths(
    paths: &[PathBuf],
    repo_root: Option<&Path>,
    scanner: &Scanner<'_>,
) -> Result<Report> {
    let mut files = Vec::new();
    for path in paths {
        let meta = fs::metadata(path)
            .io_context(|| format!("cannot read {} (check the path)", path.display()))?;
        if meta.is_dir() {
            walk(path, &mut files)?;
        } else if meta.is_file() {
            files.push(path.clone());
        }
    }
    let root = repo_root.and_then(|r| r.canonicalize().ok());
    let scanning = scanner.progress.start("scanning", files.len() as u64);
    let results: Vec<Result<ScannedFile>> = files
        .par_iter()
        .map(|file| {
            scanning.advance(1);
            let bytes = fs::read(file).io_context(|| format!("cannot read {}", file.display()))?;
            let display = file.to_string_lossy().replace('\\', "/");
            let display = display.strip_prefix("./").unwrap_or(&display).to_owned();
            let rel = root
                .as_ref()
                .and_then(|root| {
                    let full = file.canonicalize().ok()?;
                    let rel = full.strip_prefix(root).ok()?;
                    Some(rel.to_string_lossy().replace('\\', "/"))
                })
                .unwrap_or_else(|| display.clone());
            Ok((scanner.scan(&display, &rel, &bytes), bytes.len() as u64))
        })
        .collect();
    Report::gather(results)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .io_context(|| format!("cannot list {}", dir.display()))?
        .collect::<std::io::Result<_>>()
        .io_context(|| format!("cannot list {}", dir.display()))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let kind = entry
            .file_type()
            .io_context(|| format!("cannot stat {}", entry.path().display()))?;
        if kind.is_dir() {
            if entry.file_name() != ".git" {
                walk(&entry.path(), out)?;
            }
        } else if kind.is_file() {
            out.push(entry.path());
        }
    }
    Ok(())
}

/// The check every commit agent-vault makes runs before its tree is written: no private key
/// material in any file, only age ciphertexts in `.agent-vault/secrets/*.enc`, no key files.
pub fn check_commit<'a>(
    files: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> std::result::Result<(), String> {
    let allow = AllowList::default();
    let scanner = Scanner {
        known: None,
        allow: &allow,
        progress: ProgressHandle::default(),
    };
    let findings: Vec<String> = files
        .into_iter()
        .flat_map(|(path, bytes)| scanner.scan(path, path, bytes).0)
        .map(|f| f.render())
        .collect();
    if findings.is_empty() {
        Ok(())
    } else {
        Err(findings.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_matches("*.pem", "a/b/test.pem"));
        assert!(glob_matches("tests/fixtures/*", "tests/fixtures/k.pem"));
        assert!(!glob_matches(
            "tests/fixtures/*",
            "tests/fixtures/sub/k.pem"
        ));
        assert!(glob_matches("tests/**", "tests/fixtures/sub/k.pem"));
        assert!(glob_matches("**/fixtures/*.pem", "a/b/fixtures/k.pem"));
        assert!(glob_matches("**/fixtures/*.pem", "fixtures/k.pem"));
        assert!(glob_matches("k?.pem", "x/k1.pem"));
        assert!(!glob_matches("k?.pem", "x/k12.pem"));
        assert!(glob_matches("/top.pem", "top.pem"));
    }

    #[test]
    fn allow_list_kinds() {
        let allow = AllowList::parse(
            "# fixtures\ntests/fixtures/*.pem\nconfig/dev.env known-secret\n",
            "t",
        )
        .unwrap();
        assert!(allow.allows("tests/fixtures/a.pem", Kind::RsaPrivateKey));
        assert!(!allow.allows("tests/fixtures/a.pem", Kind::KnownSecret));
        // A known secret is never silenced, even when the allow-list names the kind.
        assert!(!allow.allows("config/dev.env", Kind::KnownSecret));
        assert!(
            !AllowList::parse("** known-secret\n**\n", "t")
                .unwrap()
                .allows("a", Kind::KnownSecret)
        );
        assert!(!allow.allows("config/dev.env", Kind::RsaPrivateKey));
        assert!(AllowList::parse("x.pem no-such-kind\n", "t").is_err());
    }

    #[test]
    fn vault_paths() {
        assert_eq!(
            path_findings(".agent-vault/secrets/a/b.enc", b"plain"),
            vec![Kind::VaultPlaintext]
        );
        assert!(
            path_findings(
                ".agent-vault/secrets/a/b.enc",
                b"age-encryption.org/v1\n-> X25519"
            )
            .is_empty()
        );
        assert!(path_findings(".agent-vault/secrets/a/b.meta", b"name: a/b\n").is_empty());
        assert_eq!(
            path_findings(".agent-vault/secrets/a/b", b"x"),
            vec![Kind::VaultPlaintext]
        );
        assert!(path_findings(".agent-vault/agents/bot/public.key", b"age1").is_empty());
        assert!(
            path_findings(
                ".agent-vault/agents/bot/private.key.escrow",
                b"age-encryption.org/v1\n"
            )
            .is_empty()
        );
        assert_eq!(
            path_findings(".agent-vault/agents/bot/private.key", b"x"),
            vec![Kind::KeyFile]
        );
        assert_eq!(path_findings("backup/owner.key", b"x"), vec![Kind::KeyFile]);
        assert!(path_findings("i18n/messages.key", b"x").is_empty());
    }

    #[test]
    fn quoting() {
        assert_eq!(quote_path("a b/ü.txt"), "a b/ü.txt");
        assert_eq!(quote_path("a\nb\"c"), "\"a\\nb\\\"c\"");
    }

    #[test]
    fn commit_check() {
        assert!(check_commit([(".agent-vault/manifest.yaml", b"version: 1\n".as_slice())]).is_ok());
        let err = check_commit([(
            ".agent-vault/secrets/x.enc",
            b"hunter2-plaintext".as_slice(),
        )])
        .unwrap_err();
        assert!(err.to_string().contains("vault-plaintext"));
        assert!(!err.to_string().contains("hunter2"));
    }
}
