//! What the next commit would contain: the index blobs git would commit (the index
//! `GIT_INDEX_FILE` names in a hook, as git sets it for `git commit -a`/`git commit PATH`), read
//! with libgit2 or, for indexes it cannot read (split or sparse), with `git` itself — which gets
//! the caller's environment without `AGENT_VAULT_*`.

use std::path::{Path, PathBuf};

use git2::{Delta, DiffOptions, FileMode, Index, Oid, Repository};
use rayon::prelude::*;

use super::{ALLOW_FILE, AllowList, MAX_ALLOW_FILE, Report, ScannedFile, Scanner};
use crate::error::{GitContext, IoContext};
use crate::settings::GitEnv;
use crate::{Error, Result};

/// Where the next commit comes from: the repository, the index file a hook was given, and how
/// to run `git`.
pub struct Staged<'r> {
    pub repo: &'r Repository,
    /// `GIT_INDEX_FILE`, when set.
    pub index_file: Option<PathBuf>,
    /// Environment for `git` processes.
    pub git: &'r GitEnv,
}

/// A file in the index that the next commit would add or change.
#[derive(Debug, Clone)]
pub struct StagedFile {
    /// Repository-relative path (lossy UTF-8 for display; the bytes are what git has).
    pub path: String,
    /// The blob in the index.
    pub blob: Oid,
}

/// Runs `git ARGS` for `repo` (its environment, such as `GIT_INDEX_FILE` in a hook, is
/// passed on) and returns its stdout.
fn git_output(staged: &Staged<'_>, args: &[&str]) -> Result<Vec<u8>> {
    let repo = staged.repo;
    let mut command = crate::git::upstream::git_command(staged.git);
    if let Some(file) = &staged.index_file {
        command.env("GIT_INDEX_FILE", file);
    }
    if let Some(workdir) = repo.workdir() {
        command.arg("-C").arg(workdir);
    } else {
        command.arg("--git-dir").arg(repo.path());
    }
    let output = command
        .args(args)
        .output()
        .io_context(|| "cannot run git (is it installed?)".to_owned())?;
    if !output.status.success() {
        return Err(Error::Invalid(format!(
            "`git {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(output.stdout)
}

/// [`staged_files`] through the `git` command, for indexes libgit2 cannot read: the raw
/// diff of the index against HEAD, `:<mode> <mode> <old> <new> <status>\0<path>\0` records.
fn staged_files_with_git(staged: &Staged<'_>) -> Result<Vec<StagedFile>> {
    let raw = git_output(
        staged,
        &[
            "diff",
            "--cached",
            "--raw",
            "-z",
            "--no-renames",
            "--no-abbrev",
            "--diff-filter=ACMT",
        ],
    )?;
    let mut out = Vec::new();
    let mut fields = raw.split(|&b| b == 0).filter(|f| !f.is_empty());
    while let (Some(header), Some(path)) = (fields.next(), fields.next()) {
        let header = String::from_utf8_lossy(header);
        let parts: Vec<&str> = header.trim_start_matches(':').split(' ').collect();
        let (Some(mode), Some(blob)) = (parts.get(1), parts.get(3)) else {
            continue;
        };
        if !matches!(*mode, "100644" | "100755" | "100664" | "120000") {
            continue;
        }
        let Ok(blob) = Oid::from_str(blob) else {
            continue;
        };
        out.push(StagedFile {
            path: String::from_utf8_lossy(path).into_owned(),
            blob,
        });
    }
    Ok(out)
}

/// Opens the index the next commit is made from: `GIT_INDEX_FILE` when set (git sets it for
/// hooks of `git commit -a` / `git commit PATH`), else the repository's index.
fn commit_index(staged: &Staged<'_>) -> Result<Index> {
    let repo = staged.repo;
    match &staged.index_file {
        Some(file) => {
            let path = file.clone();
            let path = if path.is_absolute() || path.exists() {
                path
            } else {
                repo.workdir().unwrap_or_else(|| repo.path()).join(path)
            };
            Index::open(&path).git_context(&format!("opening the index {}", path.display()))
        }
        None => repo.index().git_context("opening the index"),
    }
}

/// The paths the next commit would add, copy, modify, rename or change the type of, with
/// their staged blobs. Deletions, submodules and unmerged entries are not listed.
pub fn staged_files(staged: &Staged<'_>) -> Result<Vec<StagedFile>> {
    let repo = staged.repo;
    let index = match commit_index(staged) {
        Ok(index) => index,
        // libgit2 cannot read every index git writes (split index, sparse index): ask git.
        Err(Error::Git { .. }) => return staged_files_with_git(staged),
        Err(e) => return Err(e),
    };
    let head_tree = match repo.head() {
        Ok(head) => Some(head.peel_to_tree().git_context("reading HEAD's tree")?),
        Err(e)
            if matches!(
                e.code(),
                git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound
            ) =>
        {
            None
        }
        Err(e) => return Err(Error::git("reading HEAD", e)),
    };
    let mut options = DiffOptions::new();
    options.include_typechange(true).ignore_submodules(true);
    let diff = repo
        .diff_tree_to_index(head_tree.as_ref(), Some(&index), Some(&mut options))
        .git_context("comparing the index with HEAD")?;
    let mut out = Vec::new();
    for delta in diff.deltas() {
        if !matches!(
            delta.status(),
            Delta::Added | Delta::Modified | Delta::Renamed | Delta::Copied | Delta::Typechange
        ) {
            continue;
        }
        let file = delta.new_file();
        if !matches!(
            file.mode(),
            FileMode::Blob
                | FileMode::BlobExecutable
                | FileMode::BlobGroupWritable
                | FileMode::Link
        ) {
            continue;
        }
        let Some(bytes) = file.path_bytes() else {
            continue;
        };
        out.push(StagedFile {
            path: String::from_utf8_lossy(bytes).into_owned(),
            blob: file.id(),
        });
    }
    Ok(out)
}

impl AllowList {
    /// Reads the allow-list the next commit would contain (its index entry): a staged scan
    /// honours exactly what is being committed, not a file lying in the working tree.
    pub fn load_staged(staged: &Staged<'_>) -> Result<Self> {
        let repo = staged.repo;
        let id = match commit_index(staged) {
            Ok(index) => match index.get_path(Path::new(ALLOW_FILE), 0) {
                Some(entry) => entry.id,
                None => return Ok(Self::default()),
            },
            // An index libgit2 cannot read (see `staged_files`): ask git.
            Err(Error::Git { .. }) => {
                let listed = git_output(staged, &["ls-files", "-s", "-z", "--", ALLOW_FILE])?;
                let Some(id) = String::from_utf8_lossy(&listed)
                    .split(' ')
                    .nth(1)
                    .and_then(|id| Oid::from_str(id).ok())
                else {
                    return Ok(Self::default());
                };
                id
            }
            Err(e) => return Err(e),
        };
        let origin = format!("{ALLOW_FILE} (staged)");
        let odb = repo.odb().git_context("opening the object database")?;
        let (size, _) = odb
            .read_header(id)
            .git_context(&format!("reading the staged {ALLOW_FILE}"))?;
        if size as u64 > MAX_ALLOW_FILE {
            return Err(super::too_large(&origin));
        }
        let blob = repo
            .find_blob(id)
            .git_context(&format!("reading the staged {ALLOW_FILE}"))?;
        Self::from_bytes(blob.content(), &origin)
    }
}

/// Scans what the next commit would contain, reading blobs on all cores.
pub fn scan_staged(staged: &Staged<'_>, scanner: &Scanner<'_>) -> Result<Report> {
    let repo = staged.repo;
    let files = staged_files(staged)?;
    let git_dir = repo.path().to_path_buf();
    let scanning = scanner.progress.start("scanning", files.len() as u64);
    let results: Vec<Result<ScannedFile>> = files
        .par_iter()
        .map_init(
            || Repository::open(&git_dir),
            |repo, file| {
                scanning.advance(1);
                let repo = repo.as_ref().map_err(|e| {
                    Error::git(
                        "opening the repository",
                        git2::Error::new(e.code(), e.class(), e.message()),
                    )
                })?;
                let odb_read = repo
                    .find_blob(file.blob)
                    .git_context(&format!("reading the staged {}", file.path))?;
                let bytes = odb_read.content();
                Ok((
                    scanner.scan(&file.path, &file.path, bytes),
                    bytes.len() as u64,
                ))
            },
        )
        .collect();
    Report::gather(results)
}
