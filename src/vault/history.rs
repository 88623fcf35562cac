//! Who changed what and when (`log`), from the git history of `.agent-vault/` on the current
//! branch: commit, author, time and the `agent-vault: …` summary with its `Agent-Vault-*`
//! trailers. No value is ever read: only which files changed.
//!
//! History is what git holds, not what the owner signed: anyone with push access can write
//! commits with any author and message. The signed statement vouches for the current state
//! only (`verify`).
//!
//! A commit is listed when it changed the vault (for one secret: its `.enc` or `.meta`)
//! compared with each of its parents, as `git log` simplifies merges. For one secret, a move
//! (`Agent-Vault-Operation: mv` with `Agent-Vault-From`) is followed to the older path.

use std::path::Path;

use git2::{Commit, Oid, Sort};
use serde::Serialize;

use super::Vault;
use crate::error::GitContext;
use crate::format::{VAULT_DIR, secret_enc_path, secret_meta_path};
use crate::names::SecretPath;
use crate::{Result, time};

/// What `log` lists.
#[derive(Debug, Clone, Default)]
pub struct HistoryOptions {
    /// Only the commits that changed this secret (following moves).
    pub path: Option<SecretPath>,
    /// At most this many entries, newest first.
    pub limit: Option<usize>,
}

/// One commit that changed the vault.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    pub commit: String,
    /// Author time, RFC 3339 UTC.
    pub time: String,
    pub author: String,
    pub email: String,
    /// The commit message's first line.
    pub summary: String,
    /// `Agent-Vault-Operation` (absent for commits not made by agent-vault).
    pub operation: Option<String>,
    /// `Agent-Vault-Secret` trailers.
    pub secrets: Vec<String>,
    /// For one secret: the path it had in this commit (differs before a move).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

impl Vault {
    /// The commits of HEAD's history that changed the vault (or one secret), newest first.
    pub fn history(&self, options: &HistoryOptions) -> Result<Vec<HistoryEntry>> {
        let repo = self.repo.repo();
        let Some(head) = self.repo.head_commit()? else {
            return Ok(Vec::new());
        };
        let mut walk = repo.revwalk().git_context("walking the history")?;
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)
            .git_context("walking the history")?;
        walk.push(head).git_context("walking the history")?;
        let mut following = options.path.as_ref().map(|p| p.to_string());
        let mut entries = Vec::new();
        for oid in walk {
            if options.limit.is_some_and(|limit| entries.len() >= limit) {
                break;
            }
            let commit = repo
                .find_commit(oid.git_context("walking the history")?)
                .git_context("reading a commit")?;
            let paths = match &following {
                Some(secret) => vec![secret_enc_path(secret), secret_meta_path(secret)],
                None => vec![VAULT_DIR.to_owned()],
            };
            if !changed(&commit, &paths)? {
                continue;
            }
            let entry = entry(&commit, following.clone());
            if let (Some(secret), Some("mv")) = (&following, entry.operation.as_deref())
                && entry.secrets.iter().any(|s| s == secret)
                && let Some(from) = trailer(&commit, "Agent-Vault-From")
            {
                following = Some(from);
            }
            entries.push(entry);
        }
        Ok(entries)
    }
}

/// The blob or tree ids at `paths` in a commit's tree (`None` where absent).
fn ids(commit: &Commit<'_>, paths: &[String]) -> Result<Vec<Option<Oid>>> {
    let tree = commit.tree().git_context("reading a commit's tree")?;
    Ok(paths
        .iter()
        .map(|p| tree.get_path(Path::new(p)).ok().map(|e| e.id()))
        .collect())
}

/// Whether `paths` differ between the commit and each of its parents (a root commit: whether
/// any of them exists).
fn changed(commit: &Commit<'_>, paths: &[String]) -> Result<bool> {
    let mine = ids(commit, paths)?;
    if commit.parent_count() == 0 {
        return Ok(mine.iter().any(Option::is_some));
    }
    for parent in commit.parents() {
        if ids(&parent, paths)? == mine {
            return Ok(false);
        }
    }
    Ok(true)
}

fn trailers<'c>(commit: &'c Commit<'_>, key: &'c str) -> impl Iterator<Item = String> + 'c {
    let message = commit.message_bytes();
    message.split(|b| *b == b'\n').filter_map(move |line| {
        let line = std::str::from_utf8(line).ok()?;
        let (k, v) = line.split_once(": ")?;
        (k == key).then(|| v.trim().to_owned())
    })
}

fn trailer(commit: &Commit<'_>, key: &str) -> Option<String> {
    trailers(commit, key).next()
}

fn entry(commit: &Commit<'_>, path: Option<String>) -> HistoryEntry {
    let author = commit.author();
    let when = author.when();
    let time = chrono::DateTime::from_timestamp(when.seconds(), 0)
        .map(time::format)
        .unwrap_or_default();
    HistoryEntry {
        commit: commit.id().to_string(),
        time,
        author: String::from_utf8_lossy(author.name_bytes()).into_owned(),
        email: String::from_utf8_lossy(author.email_bytes()).into_owned(),
        summary: String::from_utf8_lossy(
            commit
                .message_bytes()
                .split(|b| *b == b'\n')
                .next()
                .unwrap_or(b""),
        )
        .into_owned(),
        operation: trailer(commit, "Agent-Vault-Operation"),
        secrets: trailers(commit, "Agent-Vault-Secret").collect(),
        path,
    }
}
