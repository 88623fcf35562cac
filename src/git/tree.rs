//! The `.agent-vault` tree of one commit, read as raw git objects — never the working tree, so
//! nothing a checkout does (symlinks, filters, ignore rules, line endings) can change what is
//! read. This module applies the structural rules of the format (docs/format.md, "The vault
//! tree"): only folders and regular files, sane names, bounded depth and entry count, and a
//! size cap checked on the object header before a blob is inflated. It does not know about
//! digests or signatures: the vault's trust module is its only user, and hands out bytes only
//! after verifying them.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use git2::{ObjectType, Oid, Repository, Tree};

use crate::error::{GitContext, Problem, escape};
use crate::format::VAULT_DIR;
use crate::progress::ProgressGuard;
use crate::{Error, Result};

/// Git's mode of a folder.
const MODE_TREE: i32 = 0o040000;
/// Git's mode of a regular, non-executable file.
const MODE_FILE: i32 = 0o100644;
/// The deepest a vault tree may be.
pub const MAX_DEPTH: usize = 128;
/// The most entries a vault tree may hold.
pub const MAX_ENTRIES: usize = 1_000_000;

/// From how many files [`RawTree::read_all`] reads on several threads.
const PARALLEL_READ_MIN: usize = 512;

/// Reads the blob `oid` found at `rel` from `odb`, refusing (without inflating it) one larger
/// than `cap` or an object that is not a blob.
fn read_blob(odb: &git2::Odb<'_>, label: &str, rel: &str, oid: Oid, cap: u64) -> Result<Vec<u8>> {
    let context = || format!("reading {VAULT_DIR}/{rel} in {label}");
    let (size, kind) = odb.read_header(oid).git_context(&context())?;
    if kind != ObjectType::Blob {
        return Err(Error::integrity(Problem::NotRegular {
            path: format!("{VAULT_DIR}/{}", escape(rel)),
            mode: 0,
        }));
    }
    if size as u64 > cap {
        return Err(Error::integrity(Problem::TooLarge {
            path: format!("{VAULT_DIR}/{}", escape(rel)),
            size: size as u64,
            cap,
        }));
    }
    let object = odb.read(oid).git_context(&context())?;
    Ok(object.data().to_vec())
}

/// The `.agent-vault` tree of a commit.
pub struct RawTree<'r> {
    repo: &'r Repository,
    odb: git2::Odb<'r>,
    root: Tree<'r>,
    /// Trees already read and checked, by id: a folder of 10,000 secrets is parsed once per
    /// command, not once per secret looked up in it.
    checked: RefCell<HashMap<Oid, Rc<TreeIndex>>>,
    commit: Oid,
    label: String,
}

/// What is at a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// Nothing (or a folder on the way is missing or not a folder).
    Absent,
    /// A regular file.
    Blob(Oid),
}

/// A checked tree's entries, and their positions by name.
struct TreeIndex {
    entries: Vec<RawEntry>,
    by_name: HashMap<Vec<u8>, usize>,
}

/// A tree entry as git stores it: raw name bytes, id, raw mode.
struct RawEntry {
    name: Vec<u8>,
    id: Oid,
    mode: i32,
}

/// One file found by [`RawTree::walk`]: its path relative to `.agent-vault/` and blob id.
#[derive(Debug, Clone)]
pub struct WalkedFile {
    pub path: String,
    pub oid: Oid,
}

impl<'r> RawTree<'r> {
    /// The vault tree of `commit`; `None` when the commit has no `.agent-vault`. A
    /// `.agent-vault` that is not a folder (a symlink, a submodule, a file) is an integrity
    /// failure.
    pub fn open(repo: &'r Repository, commit: Oid, label: String) -> Result<Option<Self>> {
        let top = repo
            .find_commit(commit)
            .and_then(|c| c.tree())
            .git_context(&format!("reading {label}"))?;
        let Some(entry) = top.get_name(VAULT_DIR) else {
            return Ok(None);
        };
        if entry.filemode_raw() != MODE_TREE {
            return Err(Error::integrity(Problem::NotRegular {
                path: VAULT_DIR.into(),
                mode: entry.filemode_raw() as u32,
            }));
        }
        let root = repo
            .find_tree(entry.id())
            .git_context(&format!("reading {VAULT_DIR} in {label}"))?;
        let odb = repo.odb().git_context("opening the object database")?;
        Ok(Some(RawTree {
            repo,
            odb,
            root,
            checked: RefCell::new(HashMap::new()),
            commit,
            label,
        }))
    }

    /// The commit read.
    pub fn commit(&self) -> Oid {
        self.commit
    }

    /// The id of the `.agent-vault` tree (covers every byte below it).
    pub fn tree_id(&self) -> Oid {
        self.root.id()
    }

    /// What the tree is, for messages (`HEAD`, `origin/main`).
    pub fn label(&self) -> &str {
        &self.label
    }

    /// What is at `rel` (relative to `.agent-vault/`, `/`-separated). A file whose own entry
    /// is not a regular file is an integrity failure, not absent.
    pub fn lookup(&self, rel: &str) -> Result<Entry> {
        let mut tree = self.root.id();
        let mut parts = rel.split('/').peekable();
        let mut at = String::new();
        while let Some(name) = parts.next() {
            let index = self.index(tree, &at)?;
            let Some(entry) = index
                .by_name
                .get(name.as_bytes())
                .map(|&i| &index.entries[i])
            else {
                return Ok(Entry::Absent);
            };
            at = join(&at, name);
            if parts.peek().is_some() {
                if entry.mode != MODE_TREE {
                    return Ok(Entry::Absent);
                }
                tree = entry.id;
                continue;
            }
            return match entry.mode {
                MODE_FILE => Ok(Entry::Blob(entry.id)),
                MODE_TREE => Ok(Entry::Absent),
                other => Err(Error::integrity(Problem::NotRegular {
                    path: format!("{VAULT_DIR}/{}", escape(rel)),
                    mode: other as u32,
                })),
            };
        }
        Ok(Entry::Absent)
    }

    /// A tree's entries, checked to be as git writes them: strictly in git's order, so no name
    /// twice (two entries of one name would let a lookup and a walk see different files).
    fn index(&self, id: Oid, at: &str) -> Result<Rc<TreeIndex>> {
        if let Some(index) = self.checked.borrow().get(&id) {
            return Ok(Rc::clone(index));
        }
        let tree = self
            .repo
            .find_tree(id)
            .git_context(&format!("reading {VAULT_DIR}/{at} in {}", self.label))?;
        let mut entries: Vec<RawEntry> = Vec::with_capacity(tree.len());
        let mut by_name = HashMap::with_capacity(tree.len());
        let mut previous: Option<Vec<u8>> = None;
        for entry in tree.iter() {
            let name = entry.name_bytes().to_vec();
            let mode = entry.filemode_raw();
            let mut key = name.clone();
            if mode == MODE_TREE {
                key.push(b'/');
            }
            if previous.as_ref().is_some_and(|p| *p >= key)
                || by_name.insert(name.clone(), entries.len()).is_some()
            {
                return Err(Error::integrity(Problem::BadTree {
                    path: format!("{VAULT_DIR}/{}", escape(at)),
                    why: "its entries are out of order or a name appears twice".into(),
                }));
            }
            previous = Some(key);
            entries.push(RawEntry {
                name,
                id: entry.id(),
                mode,
            });
        }
        let index = Rc::new(TreeIndex { entries, by_name });
        self.checked.borrow_mut().insert(id, Rc::clone(&index));
        Ok(index)
    }

    /// Reads a blob found at `rel`, refusing (without inflating it) one larger than `cap`.
    pub fn read(&self, rel: &str, oid: Oid, cap: u64) -> Result<Vec<u8>> {
        read_blob(&self.odb, &self.label, rel, oid, cap)
    }

    /// Reads every file of `files` (as [`RawTree::read`], each with the cap `cap` gives its
    /// path), in order. A large set is read on every core, each thread with its own handle on
    /// the object database (libgit2's are not shared across threads).
    pub fn read_all(
        &self,
        files: &[WalkedFile],
        cap: impl Fn(&str) -> u64 + Sync,
        progress: &ProgressGuard<'_>,
    ) -> Result<Vec<Vec<u8>>> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        if files.len() < PARALLEL_READ_MIN || threads < 2 {
            return files
                .iter()
                .map(|f| {
                    progress.advance(1);
                    self.read(&f.path, f.oid, cap(&f.path))
                })
                .collect();
        }
        let chunk = files.len().div_ceil(threads);
        let git_dir = self.repo.path();
        let label = &self.label;
        let cap = &cap;
        let mut parts: Vec<Result<Vec<Vec<u8>>>> = std::thread::scope(|scope| {
            let others: Vec<_> = files
                .chunks(chunk)
                .skip(1)
                .map(|part| {
                    scope.spawn(move || {
                        let repo = Repository::open(git_dir)
                            .git_context("opening the repository for reading")?;
                        let odb = repo.odb().git_context("opening the object database")?;
                        part.iter()
                            .map(|f| {
                                progress.advance(1);
                                read_blob(&odb, label, &f.path, f.oid, cap(&f.path))
                            })
                            .collect()
                    })
                })
                .collect();
            let first = files[..chunk]
                .iter()
                .map(|f| {
                    progress.advance(1);
                    self.read(&f.path, f.oid, cap(&f.path))
                })
                .collect();
            std::iter::once(first)
                .chain(others.into_iter().map(|h| {
                    h.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                }))
                .collect()
        });
        let mut all = Vec::with_capacity(files.len());
        for part in parts.drain(..) {
            all.extend(part?);
        }
        Ok(all)
    }

    /// Every file below the folder `under` (relative to `.agent-vault/`, `""` for all), except
    /// the subfolders named in `skip` (relative paths), depth first. Enforces the tree rules:
    /// a symlink, submodule or executable, a bad name, or a tree too deep or too large is an
    /// integrity failure. Never recurses: the walk keeps its own stack.
    pub fn walk(&self, under: &str, skip: &[&str]) -> Result<Vec<WalkedFile>> {
        let start = if under.is_empty() {
            self.root.id()
        } else {
            match self.subtree(under)? {
                Some(tree) => tree,
                None => return Ok(Vec::new()),
            }
        };
        let mut files = Vec::new();
        let mut seen = 0usize;
        let depth0 = if under.is_empty() {
            0
        } else {
            under.split('/').count()
        };
        let mut stack = vec![(start, under.to_owned(), depth0)];
        while let Some((tree, prefix, depth)) = stack.pop() {
            let index = self.index(tree, &prefix)?;
            for entry in &index.entries {
                seen += 1;
                let name = std::str::from_utf8(&entry.name)
                    .ok()
                    .filter(|n| valid_name(n));
                let shown = |name: &str| join(&prefix, name);
                let Some(name) = name else {
                    let lossy = String::from_utf8_lossy(&entry.name).into_owned();
                    return Err(Error::integrity(Problem::BadName {
                        path: format!("{VAULT_DIR}/{}", escape(&shown(&lossy))),
                    }));
                };
                let path = shown(name);
                if seen > MAX_ENTRIES || depth >= MAX_DEPTH {
                    return Err(Error::integrity(Problem::TooBig {
                        path: format!("{VAULT_DIR}/{}", escape(&path)),
                    }));
                }
                match entry.mode {
                    MODE_TREE => {
                        if skip.contains(&path.as_str()) {
                            continue;
                        }
                        stack.push((entry.id, path, depth + 1));
                    }
                    MODE_FILE => {
                        files.push(WalkedFile {
                            path,
                            oid: entry.id,
                        });
                    }
                    other => {
                        return Err(Error::integrity(Problem::NotRegular {
                            path: format!("{VAULT_DIR}/{}", escape(&path)),
                            mode: other as u32,
                        }));
                    }
                }
            }
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(files)
    }

    /// The folder at `rel`, if it exists and is a folder.
    fn subtree(&self, rel: &str) -> Result<Option<Oid>> {
        let mut tree = self.root.id();
        let mut at = String::new();
        for name in rel.split('/') {
            let index = self.index(tree, &at)?;
            match index
                .by_name
                .get(name.as_bytes())
                .map(|&i| &index.entries[i])
            {
                Some(entry) if entry.mode == MODE_TREE => tree = entry.id,
                _ => return Ok(None),
            }
            at = join(&at, name);
        }
        Ok(Some(tree))
    }
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}/{name}")
    }
}

/// Whether a tree entry name is allowed in a vault: 1–255 bytes, no control characters, not
/// `.` or `..`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name != "."
        && name != ".."
        && !name.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::progress::ProgressHandle;
    use crate::progress::testing::Recorder;

    /// A repository whose one commit holds `.agent-vault/secrets/s-N.enc` for N < `count`.
    fn repo_with(count: usize) -> (tempfile::TempDir, Repository, Oid) {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let commit = {
            let folder = |entries: &[(String, Oid, git2::FileMode)]| {
                let mut builder = repo.treebuilder(None).unwrap();
                for (name, id, mode) in entries {
                    builder.insert(name, *id, (*mode).into()).unwrap();
                }
                builder.write().unwrap()
            };
            let files: Vec<_> = (0..count)
                .map(|i| {
                    let blob = repo.blob(format!("value {i}").as_bytes()).unwrap();
                    (format!("s-{i}.enc"), blob, git2::FileMode::Blob)
                })
                .collect();
            let secrets = folder(&files);
            let vault = folder(&[("secrets".into(), secrets, git2::FileMode::Tree)]);
            let top = folder(&[(VAULT_DIR.into(), vault, git2::FileMode::Tree)]);
            let top = repo.find_tree(top).unwrap();
            let who = git2::Signature::now("T", "t@example.test").unwrap();
            repo.commit(None, &who, &who, "files", &top, &[]).unwrap()
        };
        (dir, repo, commit)
    }

    #[test]
    fn reading_every_file_reports_one_step_per_file_in_order() {
        for count in [3, PARALLEL_READ_MIN + 88] {
            let (_dir, repo, commit) = repo_with(count);
            let tree = RawTree::open(&repo, commit, "test".into())
                .unwrap()
                .unwrap();
            let files = tree.walk("secrets", &[]).unwrap();
            assert_eq!(files.len(), count);
            let recorder = Arc::new(Recorder::default());
            let handle = ProgressHandle::new(recorder.clone());
            let contents = {
                let reading = handle.start("reading", files.len() as u64);
                tree.read_all(&files, |_| 1024, &reading).unwrap()
            };
            for (file, bytes) in files.iter().zip(&contents) {
                let n = &file.path["secrets/s-".len()..file.path.len() - ".enc".len()];
                assert_eq!(bytes, format!("value {n}").as_bytes());
            }
            assert_eq!(
                recorder.works(),
                [("reading".to_owned(), count as u64, count as u64)]
            );
        }
    }
}
