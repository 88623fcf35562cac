//! One change, one commit: a [`ChangeSet`] becomes blobs, trees and a commit holding only
//! `.agent-vault/` paths, built from objects without touching the user's index (whatever the
//! user had staged stays staged and out of our commit).
//!
//! * Moving the branch to the new commit (compare-and-swap on its old value) is the atomic
//!   point. Before it, an interruption leaves only unreferenced objects; after it, a marker
//!   file in the git dir (`agent-vault.pending`) lets the next command finish bringing the
//!   working tree and index up to date.
//! * Objects of a large change (a grant over many secrets) are written as one pack, built in
//!   memory, instead of thousands of loose files; trees are rebuilt only along changed paths,
//!   and only new entries are checked for existence.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use git2::{ErrorCode, FileMode, ObjectType, Oid, Repository, Tree};

use super::{VaultLock, VaultRepo};
use crate::changeset::ChangeSet;
use crate::error::{GitContext, IoContext};
use crate::format::VAULT_DIR;
use crate::{Error, Result};

const PENDING_FILE: &str = "agent-vault.pending";
/// Above this many new objects, a change is written as one pack instead of loose objects.
const PACK_THRESHOLD: usize = 64;

/// A path to bring up to date in the working tree and index: its new blob and contents, or
/// `None` to delete it.
type PathUpdate<'a> = (String, Option<(Oid, Cow<'a, [u8]>)>);

/// Repository-relative path → its new blob and contents, or `None` to delete it.
type Edits<'e> = BTreeMap<&'e str, Option<(Oid, &'e [u8])>>;

/// A commit message: a one-line summary and `Key: value` trailers for a later audit log.
pub struct CommitMessage {
    summary: String,
    trailers: Vec<(String, String)>,
}

impl CommitMessage {
    /// `agent-vault: <what>`, with the operation recorded as a trailer.
    pub fn new(operation: &str, what: impl std::fmt::Display) -> Self {
        CommitMessage {
            summary: format!("agent-vault: {what}"),
            trailers: vec![("Agent-Vault-Operation".into(), operation.into())],
        }
    }

    /// Adds an `Agent-Vault-<key>: value` trailer.
    pub fn trailer(mut self, key: &str, value: impl std::fmt::Display) -> Self {
        self.trailers
            .push((format!("Agent-Vault-{key}"), value.to_string()));
        self
    }

    fn render(&self) -> String {
        let mut text = format!("{}\n\n", self.summary);
        for (key, value) in &self.trailers {
            text.push_str(&format!("{key}: {value}\n"));
        }
        text
    }
}

/// Commits `changes` as one commit on the current branch and brings the working tree and
/// index up to date for exactly those paths. Returns `None` if nothing changed.
pub fn commit(
    vault_repo: &VaultRepo,
    lock: &VaultLock,
    changes: &ChangeSet,
    message: &CommitMessage,
) -> Result<Option<Oid>> {
    let _ = lock;
    let repo = vault_repo.repo();
    if repo.state() != git2::RepositoryState::Clean {
        return Err(Error::RepoState(format!(
            "the repository is in the middle of a {:?}; finish or abort it first",
            repo.state()
        )));
    }
    let author = vault_repo.author()?;
    let head_ref = head_ref_name(repo)?;
    let parent = vault_repo.head_commit()?;
    let Some((commit, applied)) = write_objects(repo, parent, changes, &author, message)? else {
        return Ok(None);
    };
    let pending = pending_path(repo);
    fs::write(
        &pending,
        format!(
            "{} {commit}\n",
            parent.map(|p| p.to_string()).unwrap_or_default()
        ),
    )
    .io_context(|| format!("cannot write {}", pending.display()))?;
    let moved = match parent {
        Some(old) => repo.reference_matching(&head_ref, commit, true, old, &message.summary),
        None => repo.reference(&head_ref, commit, false, &message.summary),
    };
    if let Err(e) = moved {
        let _ = fs::remove_file(&pending);
        return Err(Error::RepoState(format!(
            "{head_ref} moved while agent-vault was writing ({}); nothing was changed, retry the command",
            e.message()
        )));
    }
    sync_paths(vault_repo, applied)?;
    fs::remove_file(&pending).io_context(|| format!("cannot remove {}", pending.display()))?;
    Ok(Some(commit))
}

/// Writes the blobs, trees and the commit of `changes` on top of `parent` (nothing is
/// referenced yet). The blobs of a large change go into one pack ([`super::pack`]); the few
/// trees and the commit are loose objects. Returns the commit and the paths it changes, or
/// `None` when the tree would not change.
fn write_objects<'c>(
    repo: &Repository,
    parent: Option<Oid>,
    changes: &'c ChangeSet,
    author: &super::Author,
    message: &CommitMessage,
) -> Result<Option<(Oid, Vec<PathUpdate<'c>>)>> {
    let puts: Vec<(&str, &[u8])> = changes
        .iter()
        .filter_map(|(path, bytes)| Some((path, bytes?)))
        .collect();
    let ids: Vec<Oid> = if puts.len() > PACK_THRESHOLD {
        let blobs: Vec<&[u8]> = puts.iter().map(|(_, b)| *b).collect();
        super::pack::write_blobs(repo, &blobs)?
    } else {
        let odb = repo.odb().git_context("opening the object database")?;
        puts.iter()
            .map(|(path, bytes)| {
                odb.write(ObjectType::Blob, bytes)
                    .git_context(&format!("writing {path}"))
            })
            .collect::<Result<_>>()?
    };
    let mut edits: Edits<'c> = BTreeMap::new();
    for ((path, bytes), id) in puts.into_iter().zip(ids) {
        debug_assert!(path.starts_with(VAULT_DIR));
        edits.insert(path, Some((id, bytes)));
    }
    for (path, contents) in changes.iter() {
        if contents.is_none() {
            edits.insert(path, None);
        }
    }
    let parent = parent
        .map(|p| repo.find_commit(p))
        .transpose()
        .git_context("reading HEAD")?;
    let baseline = parent
        .as_ref()
        .map(|c| c.tree())
        .transpose()
        .git_context("reading HEAD's tree")?;
    let mut applied: Vec<PathUpdate<'c>> = Vec::new();
    let tree_id = rebuild(repo, baseline.as_ref(), "", &edits, &mut applied)?
        .map_or_else(|| empty_tree(repo), Ok)?;
    if applied.is_empty() {
        return Ok(None);
    }
    let tree = repo
        .find_tree(tree_id)
        .git_context("reading the new tree")?;
    let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
    let signature = &author.signature;
    let commit = repo
        .commit(
            None,
            signature,
            signature,
            &message.render(),
            &tree,
            &parents,
        )
        .git_context("writing the commit")?;
    Ok(Some((commit, applied)))
}

/// Rebuilds the tree at `prefix` (repository-relative, `""` for the root) from `base` with
/// `edits` (paths below `prefix` → new blob or deletion). Returns `None` when the result is
/// empty. Only trees along changed paths are rewritten, and only new entries are inserted
/// (and so checked to exist); unchanged entries are copied as they are.
fn rebuild<'e>(
    repo: &Repository,
    base: Option<&Tree<'_>>,
    prefix: &str,
    edits: &Edits<'e>,
    applied: &mut Vec<PathUpdate<'e>>,
) -> Result<Option<Oid>> {
    let context = || {
        format!(
            "rebuilding {}",
            if prefix.is_empty() { "/" } else { prefix }
        )
    };
    let mut builder = repo.treebuilder(base).git_context(&context())?;
    let mut folders: BTreeMap<&str, Edits<'e>> = BTreeMap::new();
    for (&path, &blob) in edits {
        let rest = if prefix.is_empty() {
            path
        } else {
            &path[prefix.len() + 1..]
        };
        match rest.split_once('/') {
            Some((folder, _)) => {
                folders.entry(folder).or_default().insert(path, blob);
            }
            None => {
                let current = base
                    .and_then(|t| t.get_name(rest))
                    .filter(|e| e.filemode() == i32::from(FileMode::Blob))
                    .map(|e| e.id());
                match blob {
                    Some((oid, _)) if current == Some(oid) => {}
                    Some((oid, bytes)) => {
                        builder
                            .insert(rest, oid, FileMode::Blob.into())
                            .git_context(&context())?;
                        applied.push((path.to_owned(), Some((oid, Cow::Borrowed(bytes)))));
                    }
                    None if base.and_then(|t| t.get_name(rest)).is_some() => {
                        builder.remove(rest).git_context(&context())?;
                        applied.push((path.to_owned(), None));
                    }
                    None => {}
                }
            }
        }
    }
    for (folder, sub_edits) in folders {
        let sub_prefix = if prefix.is_empty() {
            folder.to_owned()
        } else {
            format!("{prefix}/{folder}")
        };
        let sub_base = match base.and_then(|t| t.get_name(folder)) {
            Some(entry) if entry.filemode() == i32::from(FileMode::Tree) => {
                Some(repo.find_tree(entry.id()).git_context(&context())?)
            }
            _ => None,
        };
        match rebuild(repo, sub_base.as_ref(), &sub_prefix, &sub_edits, applied)? {
            Some(oid) if sub_base.as_ref().map(|t| t.id()) == Some(oid) => {}
            Some(oid) => {
                builder
                    .insert(folder, oid, FileMode::Tree.into())
                    .git_context(&context())?;
            }
            None => {
                if builder.get(folder).git_context(&context())?.is_some() {
                    builder.remove(folder).git_context(&context())?;
                }
            }
        }
    }
    if builder.is_empty() {
        return Ok(None);
    }
    builder.write().git_context(&context()).map(Some)
}

fn empty_tree(repo: &Repository) -> Result<Oid> {
    repo.treebuilder(None)
        .and_then(|b| b.write())
        .git_context("writing an empty tree")
}

/// The ref HEAD names (`refs/heads/main`), or `HEAD` itself when detached.
fn head_ref_name(repo: &Repository) -> Result<String> {
    let head = repo.find_reference("HEAD").git_context("reading HEAD")?;
    Ok(head
        .symbolic_target()
        .ok()
        .flatten()
        .unwrap_or("HEAD")
        .to_owned())
}

fn pending_path(repo: &Repository) -> PathBuf {
    repo.path().join(PENDING_FILE)
}

/// Whether a writer is between its commit and the end of its working-tree update (or was
/// interrupted there).
pub fn update_pending(repo: &Repository) -> bool {
    pending_path(repo).exists()
}

/// Completes a command that was interrupted after its commit: brings the working tree and
/// index in line with the commit for the paths it changed. Runs under the lock.
pub fn finish_interrupted(vault_repo: &VaultRepo, _lock: &VaultLock) -> Result<()> {
    let repo = vault_repo.repo();
    let pending = pending_path(repo);
    let text = match fs::read_to_string(&pending) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(format!("cannot read {}", pending.display()), e)),
    };
    let mut parts = text.split_whitespace();
    let (old, new) = match (parts.next(), parts.next()) {
        (Some(new), None) => (None, Oid::from_str(new).ok()),
        (Some(old), Some(new)) => (Oid::from_str(old).ok(), Oid::from_str(new).ok()),
        _ => (None, None),
    };
    // Only when HEAD is the commit that was being applied: otherwise the branch never moved
    // (the command failed before its atomic point) or someone moved it since.
    if let (Some(new), Some(head)) = (new, vault_repo.head_commit()?)
        && head == new
    {
        let context = "finishing an interrupted command";
        let new_tree = repo
            .find_commit(new)
            .and_then(|c| c.tree())
            .git_context(context)?;
        let old_tree = old
            .map(|o| repo.find_commit(o).and_then(|c| c.tree()))
            .transpose()
            .git_context(context)?;
        let mut options = git2::DiffOptions::new();
        options.pathspec(VAULT_DIR);
        let diff = repo
            .diff_tree_to_tree(old_tree.as_ref(), Some(&new_tree), Some(&mut options))
            .git_context(context)?;
        let mut paths: Vec<PathUpdate<'_>> = Vec::new();
        for delta in diff.deltas() {
            let file = delta.new_file();
            let Some(path) = file.path().and_then(Path::to_str) else {
                continue;
            };
            if delta.status() == git2::Delta::Deleted {
                let old_path = delta
                    .old_file()
                    .path()
                    .and_then(Path::to_str)
                    .unwrap_or(path);
                paths.push((old_path.to_owned(), None));
            } else {
                let blob = repo.find_blob(file.id()).git_context(context)?;
                paths.push((
                    path.to_owned(),
                    Some((file.id(), Cow::Owned(blob.content().to_vec()))),
                ));
            }
        }
        sync_paths(vault_repo, paths)?;
    }
    // A writer killed inside an atomic write leaves its temporary file behind, which would
    // make the vault look dirty forever; under the lock no writer is running.
    remove_temp_files(&vault_repo.vault_dir());
    fs::remove_file(&pending).io_context(|| format!("cannot remove {}", pending.display()))
}

/// Writes or deletes each path in the working tree and updates its index entry, leaving every
/// other index entry as it was. Files are written in place: nothing reads the vault from the
/// working tree, and an interrupted update is completed from git by the next writer.
fn sync_paths(vault_repo: &VaultRepo, paths: Vec<PathUpdate<'_>>) -> Result<()> {
    let repo = vault_repo.repo();
    let workdir = vault_repo.workdir();
    let mut index = repo.index().git_context("opening the index")?;
    let mut folders = std::collections::HashSet::new();
    for (path, contents) in paths {
        let full = workdir.join(&path);
        match contents {
            Some((oid, bytes)) => {
                // Never write through what is there: a folder or a symlink is replaced. A
                // regular file is overwritten in place, never truncated to zero or renamed
                // over (ext4 flushes such a file on close, which made bulk writes wait on the
                // disk), nor unlinked and created again (a directory update per file).
                match fs::symlink_metadata(&full) {
                    Ok(meta) if meta.is_dir() => {
                        fs::remove_dir_all(&full).io_context(|| format!("cannot replace {path}"))?
                    }
                    Ok(meta) if !meta.is_file() => {
                        fs::remove_file(&full).io_context(|| format!("cannot replace {path}"))?
                    }
                    _ => {}
                }
                if let Some(folder) = full.parent()
                    && folders.insert(folder.to_path_buf())
                {
                    fs::create_dir_all(folder)
                        .io_context(|| format!("cannot create {}", folder.display()))?;
                }
                let metadata =
                    overwrite_file(&full, &bytes).io_context(|| format!("cannot write {path}"))?;
                index
                    .add(&index_entry(&path, oid, &metadata))
                    .git_context(&format!("updating the index for {path}"))?;
            }
            None => {
                match fs::remove_file(&full) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(Error::io(format!("cannot remove {path}"), e)),
                }
                remove_empty_parents(&full, &vault_repo.vault_dir());
                match index.remove_path(Path::new(&path)) {
                    Ok(()) => {}
                    Err(e) if e.code() == ErrorCode::NotFound => {}
                    Err(e) => {
                        return Err(Error::git(format!("updating the index for {path}"), e));
                    }
                }
            }
        }
    }
    index.write().git_context("writing the index")
}

/// Makes the regular file `path` (created if missing; a symlink there is refused) hold
/// exactly `bytes`, and returns its metadata.
fn overwrite_file(path: &Path, bytes: &[u8]) -> std::io::Result<fs::Metadata> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(
        &mut options,
        rustix::fs::OFlags::NOFOLLOW.bits() as i32,
    );
    let mut file = options.open(path)?;
    std::io::Write::write_all(&mut file, bytes)?;
    // Shortening to a non-zero length (or not at all) keeps ext4 from flushing on close.
    file.set_len(bytes.len() as u64)?;
    file.metadata()
}

/// Removes the atomic-write temporary files (`.agent-vault-tmp*`) under `dir`.
fn remove_temp_files(dir: &Path) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => stack.push(path),
                Ok(t)
                    if t.is_file()
                        && entry
                            .file_name()
                            .to_string_lossy()
                            .starts_with(".agent-vault-tmp") =>
                {
                    let _ = fs::remove_file(&path);
                }
                _ => {}
            }
        }
    }
}

fn remove_empty_parents(file: &Path, stop: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == stop || !d.starts_with(stop) || fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

fn index_entry(path: &str, oid: Oid, metadata: &fs::Metadata) -> git2::IndexEntry {
    #[cfg(unix)]
    use std::os::unix::fs::MetadataExt;
    #[cfg(unix)]
    let (ctime, mtime, dev, ino, uid, gid) = (
        git2::IndexTime::new(metadata.ctime() as i32, metadata.ctime_nsec() as u32),
        git2::IndexTime::new(metadata.mtime() as i32, metadata.mtime_nsec() as u32),
        metadata.dev() as u32,
        metadata.ino() as u32,
        metadata.uid(),
        metadata.gid(),
    );
    #[cfg(not(unix))]
    let (ctime, mtime, dev, ino, uid, gid) = (
        git2::IndexTime::new(0, 0),
        git2::IndexTime::new(0, 0),
        0,
        0,
        0,
        0,
    );
    git2::IndexEntry {
        ctime,
        mtime,
        dev,
        ino,
        mode: 0o100644,
        uid,
        gid,
        file_size: metadata.len() as u32,
        id: oid,
        flags: path.len().min(0xfff) as u16,
        flags_extended: 0,
        path: path.as_bytes().to_vec(),
    }
}

#[cfg(test)]
#[path = "commit_tests.rs"]
mod tests;
