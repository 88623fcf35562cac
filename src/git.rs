//! Git as the vault's database.
//!
//! * Every change is one commit that holds only `.agent-vault/` paths. It is built from
//!   objects (blobs → tree → commit) without touching the user's index, so whatever the user
//!   had staged stays staged and out of our commit.
//! * Moving the branch to the new commit is the atomic point. Before it, an interruption
//!   leaves only unreferenced objects; after it, a marker file in the git dir lets the next
//!   command finish bringing the working tree and index up to date.
//! * Commands that change the vault hold an exclusive lock on a file in the git dir, so
//!   concurrent commands are serialized; the wait is bounded.
//! * Readers read files through a [`Source`]: the working tree, or a tree object (HEAD, or an
//!   upstream branch that is ahead) — never by checking anything out.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use git2::{ErrorCode, FileMode, ObjectType, Oid, Repository, Signature, StatusOptions, Tree};

use crate::error::{GitContext, IoContext};
use crate::format::VAULT_DIR;
use crate::{Error, Result};

/// Seconds to wait for another command's lock (`AGENT_VAULT_LOCK_TIMEOUT`).
pub const LOCK_TIMEOUT_ENV: &str = "AGENT_VAULT_LOCK_TIMEOUT";
/// Seconds to wait for `git fetch` (`AGENT_VAULT_FETCH_TIMEOUT`).
pub const FETCH_TIMEOUT_ENV: &str = "AGENT_VAULT_FETCH_TIMEOUT";
const LOCK_FILE: &str = "agent-vault.lock";
const PENDING_FILE: &str = "agent-vault.pending";
const VERIFIED_FILE: &str = "agent-vault.verified";

/// A path to bring up to date in the working tree and index: its new blob and contents, or
/// `None` to delete it.
type PathUpdate<'a> = (String, Option<(Oid, Cow<'a, [u8]>)>);

/// The repository's git configuration as `git` itself would read it: libgit2 does not know
/// `GIT_CONFIG_GLOBAL` and `GIT_CONFIG_SYSTEM`, so they are applied here (each replaces the
/// file at its level, as in git).
pub fn git_config(repo: &Repository) -> std::result::Result<git2::Config, git2::Error> {
    let mut config = repo.config()?;
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    for (name, level) in [
        ("GIT_CONFIG_GLOBAL", git2::ConfigLevel::Global),
        ("GIT_CONFIG_SYSTEM", git2::ConfigLevel::System),
    ] {
        if let Some(path) = var(name) {
            config.add_file(Path::new(&path), level, true)?;
        }
    }
    Ok(config)
}

/// A git repository with a working tree that holds (or will hold) a vault.
pub struct VaultRepo {
    repo: Repository,
    workdir: PathBuf,
}

/// The lock serializing commands that change one vault. Released on drop.
pub struct VaultLock {
    _file: fs::File,
}

/// File contents to write (`Some`) or delete (`None`), keyed by repository-relative path.
#[derive(Debug, Default)]
pub struct ChangeSet {
    files: BTreeMap<String, Option<Vec<u8>>>,
}

impl ChangeSet {
    /// An empty change set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes `contents` to `path`.
    pub fn put(&mut self, path: impl Into<String>, contents: Vec<u8>) {
        self.files.insert(path.into(), Some(contents));
    }

    /// Deletes `path`.
    pub fn delete(&mut self, path: impl Into<String>) {
        self.files.insert(path.into(), None);
    }

    /// Whether nothing is to change.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The paths that change, sorted.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// Adds every change of `other`, which wins where both name a path.
    pub fn extend(&mut self, other: ChangeSet) {
        self.files.extend(other.files);
    }

    /// The contents staged for `path`: `Some(None)` if it is to be deleted.
    pub fn get(&self, path: &str) -> Option<Option<&[u8]>> {
        self.files.get(path).map(|c| c.as_deref())
    }
}

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

/// Where reads come from.
pub enum Source<'r> {
    /// Files in the working tree under `root`. With `repo`, files git ignores (never part
    /// of the vault: they are not committed) are not listed.
    Worktree {
        root: PathBuf,
        repo: Option<&'r Repository>,
    },
    /// Blobs in a tree object.
    Tree {
        repo: &'r Repository,
        tree: Tree<'r>,
        /// What the tree is, for messages (`HEAD`, `origin/main`).
        label: String,
    },
}

impl Source<'_> {
    /// Reads a repository-relative file; `None` if it does not exist.
    pub fn read(&self, path: &str) -> Result<Option<Vec<u8>>> {
        match self {
            Source::Worktree { root, .. } => match fs::read(root.join(path)) {
                Ok(bytes) => Ok(Some(bytes)),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                    ) =>
                {
                    Ok(None)
                }
                Err(e) => Err(Error::io(format!("cannot read {path}"), e)),
            },
            Source::Tree { repo, tree, label } => {
                let entry = match tree.get_path(Path::new(path)) {
                    Ok(entry) => entry,
                    Err(e) if e.code() == ErrorCode::NotFound => return Ok(None),
                    Err(e) => return Err(Error::git(format!("reading {path} in {label}"), e)),
                };
                if entry.kind() != Some(ObjectType::Blob) {
                    return Ok(None);
                }
                let blob = repo
                    .find_blob(entry.id())
                    .git_context(&format!("reading {path} in {label}"))?;
                Ok(Some(blob.content().to_vec()))
            }
        }
    }

    /// Every file path below `dir` (repository-relative, `/`-separated), sorted.
    pub fn list_files(&self, dir: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        match self {
            Source::Worktree { root, repo } => walk_worktree(root, *repo, dir, &mut out)?,
            Source::Tree { repo, tree, label } => {
                let sub = match tree.get_path(Path::new(dir)) {
                    Ok(entry) => entry,
                    Err(e) if e.code() == ErrorCode::NotFound => return Ok(out),
                    Err(e) => return Err(Error::git(format!("listing {dir} in {label}"), e)),
                };
                let Ok(sub) = repo.find_tree(sub.id()) else {
                    return Ok(out);
                };
                sub.walk(git2::TreeWalkMode::PreOrder, |parent, entry| {
                    if entry.kind() == Some(ObjectType::Blob)
                        && let Ok(name) = entry.name()
                    {
                        out.push(format!("{dir}/{parent}{name}"));
                    }
                    git2::TreeWalkResult::Ok
                })
                .git_context(&format!("listing {dir} in {label}"))?;
            }
        }
        out.sort();
        Ok(out)
    }

    /// A short description for messages.
    pub fn label(&self) -> &str {
        match self {
            Source::Worktree { .. } => "working tree",
            Source::Tree { label, .. } => label,
        }
    }
}

/// Lists the files under `dir`; with `repo`, leaves out the untracked files git ignores.
fn walk_worktree(
    root: &Path,
    repo: Option<&Repository>,
    dir: &str,
    out: &mut Vec<String>,
) -> Result<()> {
    let start = out.len();
    walk_dir(root, dir, out)?;
    if let Some(repo) = repo {
        // Asking libgit2 whether a path is ignored costs ~15 µs; for many files it is
        // cheaper to ask only about those missing from the index (only they can be ignored).
        let index = if out.len() - start > 64 {
            Some(repo.index().git_context("opening the index")?)
        } else {
            None
        };
        let mut kept = start;
        for i in start..out.len() {
            let tracked = index
                .as_ref()
                .is_some_and(|index| index.get_path(Path::new(&out[i]), 0).is_some());
            if tracked || !repo.is_path_ignored(&out[i]).unwrap_or(false) {
                out.swap(kept, i);
                kept += 1;
            }
        }
        out.truncate(kept);
    }
    Ok(())
}

fn walk_dir(root: &Path, dir: &str, out: &mut Vec<String>) -> Result<()> {
    let entries = match fs::read_dir(root.join(dir)) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(format!("cannot list {dir}"), e)),
    };
    for entry in entries {
        let entry = entry.io_context(|| format!("cannot list {dir}"))?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let path = format!("{dir}/{name}");
        let kind = entry
            .file_type()
            .io_context(|| format!("cannot stat {path}"))?;
        if kind.is_dir() {
            walk_dir(root, &path, out)?;
        } else if kind.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

/// What `fetch_upstream` found.
pub enum Freshness {
    /// No upstream, or fetching is switched off.
    LocalOnly,
    /// The upstream was fetched and is not ahead of the local branch.
    UpToDate,
    /// The upstream is ahead: read from this commit.
    Ahead { commit: Oid, label: String },
    /// Local and upstream have both moved on, or cannot be compared; the warning says why.
    Diverged(String),
}

impl VaultRepo {
    /// Finds the repository containing `start` (a file or directory).
    pub fn discover(start: &Path) -> Result<Self> {
        let repo = Repository::discover(start).map_err(|e| {
            if e.code() == ErrorCode::NotFound {
                Error::VaultNotFound(start.to_path_buf())
            } else {
                Error::git(format!("opening the repository at {}", start.display()), e)
            }
        })?;
        Self::from_repo(repo)
    }

    /// Opens the repository containing `dir`, creating one at `dir` if there is none.
    /// Returns whether it was created.
    pub fn open_or_init(dir: &Path, new_folder: bool) -> Result<(Self, bool)> {
        // A folder created for the vault gets its own repository, even inside another
        // repository's working tree (never a vault in some enclosing repository).
        let found = if new_folder {
            Err(git2::Error::new(
                ErrorCode::NotFound,
                git2::ErrorClass::Repository,
                "new folder",
            ))
        } else {
            Repository::discover(dir)
        };
        match found {
            Ok(repo) => Ok((Self::from_repo(repo)?, false)),
            Err(e) if e.code() == ErrorCode::NotFound => {
                let repo = Repository::init(dir)
                    .git_context(&format!("creating a git repository in {}", dir.display()))?;
                Ok((Self::from_repo(repo)?, true))
            }
            Err(e) => Err(Error::git(
                format!("opening the repository at {}", dir.display()),
                e,
            )),
        }
    }

    fn from_repo(repo: Repository) -> Result<Self> {
        let Some(workdir) = repo.workdir().map(Path::to_path_buf) else {
            return Err(Error::Invalid(format!(
                "{} is a bare repository: a vault needs a working tree; clone it (`git clone {0} DIR`) and run agent-vault in the clone",
                repo.path().display()
            )));
        };
        // Tree building checks that each referenced object exists; ours were just written.
        git2::opts::strict_object_creation(false);
        Ok(VaultRepo { repo, workdir })
    }

    /// The underlying repository.
    pub fn repo(&self) -> &Repository {
        &self.repo
    }

    /// The root of the working tree.
    pub fn workdir(&self) -> &Path {
        &self.workdir
    }

    /// The vault folder in the working tree.
    pub fn vault_dir(&self) -> PathBuf {
        self.workdir.join(VAULT_DIR)
    }

    /// Reads from the working tree.
    pub fn worktree(&self) -> Source<'_> {
        Source::Worktree {
            root: self.workdir.clone(),
            repo: Some(&self.repo),
        }
    }

    /// Reads from a commit's tree.
    pub fn commit_source(&self, commit: Oid, label: String) -> Result<Source<'_>> {
        let tree = self
            .repo
            .find_commit(commit)
            .and_then(|c| c.tree())
            .git_context(&format!("reading {label}"))?;
        Ok(Source::Tree {
            repo: &self.repo,
            tree,
            label,
        })
    }

    /// Takes the vault lock, waiting at most `AGENT_VAULT_LOCK_TIMEOUT` seconds (default 30).
    pub fn lock(&self) -> Result<VaultLock> {
        let path = self.repo.commondir().join(LOCK_FILE);
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .io_context(|| format!("cannot open the vault lock {}", path.display()))?;
        let timeout = env_seconds(LOCK_TIMEOUT_ENV, 30.0);
        let start = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(fs::TryLockError::WouldBlock) => {
                    if start.elapsed() >= timeout {
                        return Err(Error::Busy {
                            lock: path,
                            waited: start.elapsed(),
                        });
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(fs::TryLockError::Error(e)) => {
                    return Err(Error::io(format!("cannot lock {}", path.display()), e));
                }
            }
        }
        let lock = VaultLock { _file: file };
        self.finish_interrupted(&lock)?;
        Ok(lock)
    }

    /// Paths under `.agent-vault/` whose working-tree or index state differs from HEAD.
    pub fn dirty_vault_paths(&self) -> Result<Vec<String>> {
        let mut options = StatusOptions::new();
        options
            .pathspec(VAULT_DIR)
            .include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_ignored(false)
            .exclude_submodules(true);
        let statuses = self
            .repo
            .statuses(Some(&mut options))
            .git_context("reading the status of .agent-vault")?;
        Ok(statuses
            .iter()
            .filter(|s| s.status() != git2::Status::CURRENT && !s.status().is_ignored())
            .filter_map(|s| s.path().ok().map(str::to_owned))
            .collect())
    }

    /// The commit HEAD points at, or `None` on an unborn branch.
    pub fn head_commit(&self) -> Result<Option<Oid>> {
        match self.repo.head() {
            Ok(head) => Ok(head.target()),
            Err(e) if matches!(e.code(), ErrorCode::UnbornBranch | ErrorCode::NotFound) => Ok(None),
            Err(e) => Err(Error::git("reading HEAD", e)),
        }
    }

    /// Commits `changes` as one commit on the current branch and brings the working tree and
    /// index up to date for exactly those paths. Returns `None` if nothing changed.
    pub fn commit(
        &self,
        _lock: &VaultLock,
        changes: ChangeSet,
        message: &CommitMessage,
    ) -> Result<Option<Oid>> {
        let repo = &self.repo;
        if repo.state() != git2::RepositoryState::Clean {
            return Err(Error::RepoState(format!(
                "the repository is in the middle of a {:?}; finish or abort it first",
                repo.state()
            )));
        }
        crate::scan::check_commit(
            changes
                .files
                .iter()
                .filter_map(|(path, bytes)| Some((path.as_str(), bytes.as_deref()?))),
        )?;
        let head_ref = self.head_ref_name()?;
        let parent = self.head_commit()?;
        let parent_commit = parent
            .map(|oid| repo.find_commit(oid))
            .transpose()
            .git_context("reading HEAD")?;
        let baseline = match &parent_commit {
            Some(c) => c.tree().git_context("reading HEAD's tree")?,
            None => {
                let empty = repo
                    .treebuilder(None)
                    .and_then(|b| b.write())
                    .git_context("writing an empty tree")?;
                repo.find_tree(empty).git_context("writing an empty tree")?
            }
        };

        let mut update = git2::build::TreeUpdateBuilder::new();
        let mut applied: Vec<PathUpdate<'_>> = Vec::new();
        let odb = repo.odb().git_context("opening the object database")?;
        // One lookup per folder: libgit2 does not cache large trees, so resolving each path
        // from the root would inflate and parse a big folder's tree once per changed file.
        let mut folders: HashMap<&str, HashMap<Vec<u8>, Oid>> = HashMap::new();
        for (path, contents) in &changes.files {
            debug_assert!(path.starts_with(VAULT_DIR));
            let (folder, name) = path.rsplit_once('/').unwrap_or(("", path.as_str()));
            let entries = folders
                .entry(folder)
                .or_insert_with(|| folder_entries(repo, &baseline, folder).unwrap_or_default());
            let current = entries.get(name.as_bytes()).copied();
            match contents {
                Some(bytes) => {
                    let oid =
                        Oid::hash_object(ObjectType::Blob, bytes).git_context("hashing a blob")?;
                    if current == Some(oid) {
                        continue;
                    }
                    odb.write(ObjectType::Blob, bytes)
                        .git_context(&format!("writing {path}"))?;
                    update.upsert(path.as_str(), oid, FileMode::Blob);
                    applied.push((path.clone(), Some((oid, Cow::Borrowed(bytes.as_slice())))));
                }
                None => {
                    if current.is_none() {
                        continue;
                    }
                    update.remove(path.as_str());
                    applied.push((path.clone(), None));
                }
            }
        }
        if applied.is_empty() {
            return Ok(None);
        }
        let tree_id = update
            .create_updated(repo, &baseline)
            .git_context("writing the new tree")?;
        let tree = repo
            .find_tree(tree_id)
            .git_context("reading the new tree")?;
        let signature = self.signature()?;
        let parents: Vec<&git2::Commit<'_>> = parent_commit.iter().collect();
        let commit = repo
            .commit(
                None,
                &signature,
                &signature,
                &message.render(),
                &tree,
                &parents,
            )
            .git_context("writing the commit")?;

        let pending = self.pending_path();
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
        self.sync_paths(applied)?;
        fs::remove_file(&pending).io_context(|| format!("cannot remove {}", pending.display()))?;
        Ok(Some(commit))
    }

    /// The ref HEAD names (`refs/heads/main`), or `HEAD` itself when detached.
    fn head_ref_name(&self) -> Result<String> {
        let head = self
            .repo
            .find_reference("HEAD")
            .git_context("reading HEAD")?;
        Ok(head
            .symbolic_target()
            .ok()
            .flatten()
            .unwrap_or("HEAD")
            .to_owned())
    }

    /// The user's git identity: `GIT_AUTHOR_NAME`/`GIT_AUTHOR_EMAIL`, then git config, then
    /// `agent-vault`.
    pub fn signature(&self) -> Result<Signature<'static>> {
        let config = git_config(&self.repo).ok();
        let lookup = |env: &str, key: &str| {
            std::env::var(env)
                .ok()
                .filter(|v| !v.is_empty())
                .or_else(|| config.as_ref().and_then(|c| c.get_string(key).ok()))
        };
        let name = lookup("GIT_AUTHOR_NAME", "user.name").unwrap_or_else(|| "agent-vault".into());
        let email = lookup("GIT_AUTHOR_EMAIL", "user.email")
            .unwrap_or_else(|| "agent-vault@localhost".into());
        Signature::now(&name, &email)
            .or_else(|_| Signature::now("agent-vault", "agent-vault@localhost"))
            .git_context("making the commit signature")
    }

    /// Whether a writer is between its commit and the end of its working-tree update (or was
    /// interrupted there): the working tree may then mix old and new files.
    pub fn update_pending(&self) -> bool {
        self.pending_path().exists()
    }

    /// Whether a writer is at work on this vault right now (it holds the lock) or was
    /// interrupted in its working-tree update: the working tree may mix two states.
    pub fn writer_active(&self) -> bool {
        if self.update_pending() {
            return true;
        }
        let path = self.repo.commondir().join(LOCK_FILE);
        match fs::OpenOptions::new().read(true).open(&path) {
            Ok(file) => matches!(file.try_lock_shared(), Err(fs::TryLockError::WouldBlock)),
            Err(_) => false,
        }
    }

    /// Reads from HEAD's tree, or `None` on an unborn branch.
    pub fn head_source(&self) -> Result<Option<Source<'_>>> {
        match self.head_commit()? {
            Some(head) => self.commit_source(head, "HEAD".into()).map(Some),
            None => Ok(None),
        }
    }

    /// The id of the `.agent-vault` tree in HEAD, or `None` when there is none yet.
    pub fn head_vault_tree(&self) -> Result<Option<Oid>> {
        let Some(head) = self.head_commit()? else {
            return Ok(None);
        };
        let tree = self
            .repo
            .find_commit(head)
            .and_then(|c| c.tree())
            .git_context("reading HEAD")?;
        match tree.get_path(Path::new(VAULT_DIR)) {
            Ok(entry) => Ok(Some(entry.id())),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(Error::git("reading HEAD", e)),
        }
    }

    /// What this clone last recorded as verified (see [`Self::record_verified`]); `None` when
    /// nothing is recorded or the record is unreadable.
    pub fn verified_record(&self) -> Option<String> {
        fs::read_to_string(self.repo.path().join(VERIFIED_FILE))
            .ok()
            .map(|text| text.trim().to_owned())
    }

    /// Records, inside this clone's git directory (never in the working tree or in git),
    /// a line describing a vault state the owner has verified, so that the next owner
    /// command can skip re-hashing an unchanged vault. Best effort: a failure only costs
    /// the next command a full verification.
    pub fn record_verified(&self, record: &str) {
        let path = self.repo.path().join(VERIFIED_FILE);
        if write_atomically(&path, format!("{record}\n").as_bytes()).is_err() {
            let _ = fs::remove_file(&path);
        }
    }

    fn pending_path(&self) -> PathBuf {
        self.repo.path().join(PENDING_FILE)
    }

    /// Completes a command that was interrupted after its commit: brings the working tree
    /// and index in line with the commit for the paths it changed.
    fn finish_interrupted(&self, _lock: &VaultLock) -> Result<()> {
        let pending = self.pending_path();
        let Ok(text) = fs::read_to_string(&pending) else {
            return Ok(());
        };
        let mut parts = text.split_whitespace();
        let (old, new) = match (parts.next(), parts.next()) {
            (Some(new), None) => (None, Oid::from_str(new).ok()),
            (Some(old), Some(new)) => (Oid::from_str(old).ok(), Oid::from_str(new).ok()),
            _ => (None, None),
        };
        if let (Some(new), Some(head)) = (new, self.head_commit()?)
            && head == new
        {
            let new_tree = self.repo.find_commit(new).and_then(|c| c.tree());
            let old_tree = old
                .map(|o| self.repo.find_commit(o).and_then(|c| c.tree()))
                .transpose();
            if let (Ok(new_tree), Ok(old_tree)) = (new_tree, old_tree) {
                let mut options = git2::DiffOptions::new();
                options.pathspec(VAULT_DIR);
                let diff = self
                    .repo
                    .diff_tree_to_tree(old_tree.as_ref(), Some(&new_tree), Some(&mut options))
                    .git_context("finishing an interrupted command")?;
                let mut paths = Vec::new();
                for delta in diff.deltas() {
                    let file = delta.new_file();
                    let Some(path) = file.path().and_then(Path::to_str) else {
                        continue;
                    };
                    if delta.status() == git2::Delta::Deleted {
                        paths.push((path.to_owned(), None));
                    } else {
                        let blob = self
                            .repo
                            .find_blob(file.id())
                            .git_context("finishing an interrupted command")?;
                        paths.push((
                            path.to_owned(),
                            Some((file.id(), Cow::Owned(blob.content().to_vec()))),
                        ));
                    }
                }
                self.sync_paths(paths)?;
            }
        }
        // A writer killed inside `write_atomically` leaves its temporary file behind, which
        // would make the vault look dirty forever; under the lock no writer is running.
        remove_temp_files(&self.vault_dir());
        fs::remove_file(&pending).io_context(|| format!("cannot remove {}", pending.display()))
    }

    /// Writes (atomically) or deletes each path in the working tree and updates its index
    /// entry, leaving every other index entry as it was.
    fn sync_paths(&self, paths: Vec<PathUpdate<'_>>) -> Result<()> {
        let mut index = self.repo.index().git_context("opening the index")?;
        for (path, contents) in paths {
            let full = self.workdir.join(&path);
            match contents {
                Some((oid, bytes)) => {
                    write_atomically(&full, &bytes)?;
                    let metadata =
                        fs::metadata(&full).io_context(|| format!("cannot stat {path}"))?;
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
                    remove_empty_parents(&full, &self.vault_dir());
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

    /// Works out whether the current branch's upstream is ahead, fetching it first with the
    /// system `git` (bounded by `AGENT_VAULT_FETCH_TIMEOUT`, default 10 s) unless `offline`.
    /// When the fetch fails (returned as a warning) or is skipped, the upstream as last
    /// fetched still counts: a reader that has seen a newer state must not fall back to an
    /// older one, which its pin would rightly call a rollback. Spawns nothing without an
    /// upstream.
    pub fn fetch_upstream(&self, offline: bool) -> (Freshness, Option<String>) {
        let Ok(head) = self.repo.head() else {
            return (Freshness::LocalOnly, None);
        };
        let Some(branch_ref) = head.name().ok().filter(|n| n.starts_with("refs/heads/")) else {
            return (Freshness::LocalOnly, None);
        };
        let (Ok(remote), Ok(upstream)) = (
            self.repo.branch_upstream_remote(branch_ref),
            self.repo.branch_upstream_name(branch_ref),
        ) else {
            return (Freshness::LocalOnly, None);
        };
        let (Some(remote), Some(upstream)) = (remote.as_str().ok(), upstream.as_str().ok()) else {
            return (Freshness::LocalOnly, None);
        };
        let label = upstream.trim_start_matches("refs/remotes/").to_owned();
        let warning = if offline || remote == "." {
            None
        } else {
            self.run_fetch(remote).err()
        };
        let (Ok(theirs), Some(ours)) = (self.repo.refname_to_id(upstream), head.target()) else {
            return (Freshness::LocalOnly, warning);
        };
        let freshness = if theirs == ours {
            Freshness::UpToDate
        } else {
            match self.repo.graph_ahead_behind(ours, theirs) {
                Ok((_, 0)) => Freshness::UpToDate,
                Ok((0, _)) => Freshness::Ahead {
                    commit: theirs,
                    label,
                },
                Ok(_) => Freshness::Diverged(format!(
                    "your branch and {label} have diverged; reading the local state (run `git pull` to combine them)"
                )),
                Err(e) => Freshness::Diverged(format!(
                    "cannot compare with {label} ({}); reading the local state",
                    e.message()
                )),
            }
        };
        (freshness, warning)
    }

    fn run_fetch(&self, remote: &str) -> std::result::Result<(), String> {
        let timeout = env_seconds(FETCH_TIMEOUT_ENV, 10.0);
        let mut command = Command::new("git");
        command
            .arg("-C")
            .arg(&self.workdir)
            .args(["fetch", "--quiet", "--no-tags", "--", remote])
            .env("GIT_TERMINAL_PROMPT", "0");
        // Never a prompt for a passphrase or host key: ssh reads those from the terminal,
        // not stdin. A user's own ssh command (environment or core.sshCommand) is kept.
        let own_ssh = ["GIT_SSH_COMMAND", "GIT_SSH"]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty()))
            || git_config(&self.repo).is_ok_and(|c| c.get_string("core.sshCommand").is_ok());
        if !own_ssh {
            command.env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run `git fetch` ({e}); reading the state fetched last"))?;
        match wait_timeout::ChildExt::wait_timeout(&mut child, timeout) {
            Ok(Some(status)) if status.success() => Ok(()),
            Ok(Some(status)) => Err(format!(
                "`git fetch {remote}` failed ({status}); reading the state fetched last, which may be stale"
            )),
            Ok(None) | Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!(
                    "`git fetch {remote}` did not finish within {timeout:?}; reading the state fetched last, which may be stale"
                ))
            }
        }
    }
}

/// The blob entries of `folder` in `tree`, by name (empty if the folder does not exist).
fn folder_entries(
    repo: &Repository,
    tree: &Tree<'_>,
    folder: &str,
) -> Option<HashMap<Vec<u8>, Oid>> {
    let sub = if folder.is_empty() {
        tree.clone()
    } else {
        repo.find_tree(tree.get_path(Path::new(folder)).ok()?.id())
            .ok()?
    };
    Some(
        sub.iter()
            .filter(|e| e.kind() == Some(ObjectType::Blob))
            .map(|e| (e.name_bytes().to_vec(), e.id()))
            .collect(),
    )
}

fn env_seconds(name: &str, default: f64) -> Duration {
    let seconds = std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .unwrap_or(default);
    Duration::from_secs_f64(seconds.min(86_400.0))
}

/// Writes a file by renaming a fully written temporary file over it.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let parent = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(parent).io_context(|| format!("cannot create {}", parent.display()))?;
    let mut temp = tempfile::Builder::new()
        .prefix(".agent-vault-tmp")
        .tempfile_in(parent)
        .io_context(|| format!("cannot create a temporary file in {}", parent.display()))?;
    temp.write_all(bytes)
        .io_context(|| format!("cannot write {}", path.display()))?;
    temp.persist(path)
        .map_err(|e| Error::io(format!("cannot write {}", path.display()), e.error))?;
    Ok(())
}

/// Removes the `write_atomically` temporary files (`.agent-vault-tmp*`) under `dir`.
fn remove_temp_files(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => remove_temp_files(&path),
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
