//! A set of file changes to commit: contents to write or paths to delete, keyed by
//! repository-relative path. Shared by the vault (which computes changes), the integrity code
//! (which signs them) and git (which commits them), so none of them depends on another for it.

use std::collections::BTreeMap;

/// File contents to write (`Some`) or delete (`None`), keyed by repository-relative path.
#[derive(Debug, Default, Clone)]
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

    /// How many paths change.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// The paths that change, sorted.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// Every change, sorted by path.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Option<&[u8]>)> {
        self.files.iter().map(|(p, c)| (p.as_str(), c.as_deref()))
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
