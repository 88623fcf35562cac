use std::fs;

use super::*;
use crate::settings::GitEnv;

fn repo() -> (tempfile::TempDir, VaultRepo) {
    let dir = tempfile::tempdir().unwrap();
    let git = GitEnv {
        author_name: Some("Tester".into()),
        author_email: Some("tester@example.test".into()),
        ..GitEnv::default()
    };
    let (repo, created) = VaultRepo::open_or_init(dir.path(), true, git).unwrap();
    assert!(created);
    (dir, repo)
}

fn change(pairs: &[(&str, Option<&[u8]>)]) -> ChangeSet {
    let mut set = ChangeSet::new();
    for (path, contents) in pairs {
        match contents {
            Some(bytes) => set.put(*path, bytes.to_vec()),
            None => set.delete(*path),
        }
    }
    set
}

fn head_file(repo: &VaultRepo, path: &str) -> Option<Vec<u8>> {
    let commit = repo.repo().head().ok()?.peel_to_commit().ok()?;
    let entry = commit.tree().ok()?.get_path(Path::new(path)).ok()?;
    Some(repo.repo().find_blob(entry.id()).ok()?.content().to_vec())
}

#[test]
fn the_first_commit_and_later_ones_hold_exactly_the_changed_paths() {
    let (dir, repo) = repo();
    let lock = repo.lock(std::time::Duration::from_secs(1)).unwrap();
    let message = CommitMessage::new("test", "first");
    let first = commit(
        &repo,
        &lock,
        &change(&[
            (".agent-vault/a", Some(b"1")),
            (".agent-vault/sub/b", Some(b"2")),
        ]),
        &message,
    )
    .unwrap()
    .expect("a commit");
    assert_eq!(
        head_file(&repo, ".agent-vault/sub/b").as_deref(),
        Some(&b"2"[..])
    );
    assert_eq!(fs::read(dir.path().join(".agent-vault/a")).unwrap(), b"1");
    // Nothing changes: no commit.
    let same = change(&[(".agent-vault/a", Some(b"1"))]);
    assert!(commit(&repo, &lock, &same, &message).unwrap().is_none());
    // A deletion removes the file, its index entry and the empty folder.
    let second = commit(
        &repo,
        &lock,
        &change(&[(".agent-vault/sub/b", None)]),
        &message,
    )
    .unwrap()
    .unwrap();
    assert_ne!(first, second);
    assert!(head_file(&repo, ".agent-vault/sub/b").is_none());
    assert!(!dir.path().join(".agent-vault/sub").exists());
    assert!(repo.dirty_vault_paths().unwrap().is_empty());
    let parent = repo
        .repo()
        .find_commit(second)
        .unwrap()
        .parent_id(0)
        .unwrap();
    assert_eq!(parent, first);
}

#[test]
fn a_large_change_is_written_as_one_pack() {
    let (dir, repo) = repo();
    let lock = repo.lock(std::time::Duration::from_secs(1)).unwrap();
    let files: Vec<(String, Vec<u8>)> = (0..200)
        .map(|i| {
            (
                format!(".agent-vault/s/{i:03}"),
                format!("v{i}").into_bytes(),
            )
        })
        .collect();
    let mut set = ChangeSet::new();
    for (path, bytes) in &files {
        set.put(path.clone(), bytes.clone());
    }
    commit(&repo, &lock, &set, &CommitMessage::new("test", "bulk"))
        .unwrap()
        .unwrap();
    assert_eq!(
        head_file(&repo, ".agent-vault/s/199").as_deref(),
        Some(&b"v199"[..])
    );
    let packs = fs::read_dir(dir.path().join(".git/objects/pack"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "pack")
        })
        .count();
    assert_eq!(packs, 1);
    let loose_dirs = fs::read_dir(dir.path().join(".git/objects"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().len() == 2)
        .count();
    // Only the few trees and the commit are loose objects; the 200 blobs are in the pack.
    assert!(
        loose_dirs <= 6,
        "{loose_dirs} loose objects for a bulk change"
    );
}

#[test]
fn an_interrupted_update_is_finished_by_the_next_writer() {
    let (dir, repo) = repo();
    let message = CommitMessage::new("test", "x");
    let lock = repo.lock(std::time::Duration::from_secs(1)).unwrap();
    let old = commit(
        &repo,
        &lock,
        &change(&[(".agent-vault/a", Some(b"old"))]),
        &message,
    )
    .unwrap()
    .unwrap();
    let new = commit(
        &repo,
        &lock,
        &change(&[
            (".agent-vault/a", Some(b"new")),
            (".agent-vault/gone", None),
        ]),
        &message,
    )
    .unwrap()
    .unwrap();
    drop(lock);
    // As if killed after the branch move: old bytes in the working tree, a temp file, the
    // marker.
    fs::write(dir.path().join(".agent-vault/a"), b"old").unwrap();
    fs::write(
        dir.path().join(".agent-vault/.agent-vault-tmpXYZ"),
        b"partial",
    )
    .unwrap();
    fs::write(
        repo.repo().path().join("agent-vault.pending"),
        format!("{old} {new}\n"),
    )
    .unwrap();
    let lock = repo.lock(std::time::Duration::from_secs(1)).unwrap();
    assert_eq!(fs::read(dir.path().join(".agent-vault/a")).unwrap(), b"new");
    assert!(!dir.path().join(".agent-vault/.agent-vault-tmpXYZ").exists());
    assert!(!repo.repo().path().join("agent-vault.pending").exists());
    drop(lock);
    // The first commit of a repository interrupted the same way (no old commit).
    let (dir, repo) = repo_with_first_commit_interrupted();
    let _lock = repo.lock(std::time::Duration::from_secs(1)).unwrap();
    assert_eq!(
        fs::read(dir.path().join(".agent-vault/a")).unwrap(),
        b"first"
    );
    // A marker for a commit the branch does not point at changes nothing but goes away.
    fs::write(dir.path().join(".agent-vault/a"), b"local").unwrap();
    fs::write(
        repo.repo().path().join("agent-vault.pending"),
        format!("{old} {new}\n"),
    )
    .unwrap();
    drop(_lock);
    let _lock = repo.lock(std::time::Duration::from_secs(1)).unwrap();
    assert_eq!(
        fs::read(dir.path().join(".agent-vault/a")).unwrap(),
        b"local"
    );
    assert!(!repo.repo().path().join("agent-vault.pending").exists());
}

fn repo_with_first_commit_interrupted() -> (tempfile::TempDir, VaultRepo) {
    let (dir, repo) = self::repo();
    let lock = repo.lock(std::time::Duration::from_secs(1)).unwrap();
    let first = commit(
        &repo,
        &lock,
        &change(&[(".agent-vault/a", Some(b"first"))]),
        &CommitMessage::new("test", "first"),
    )
    .unwrap()
    .unwrap();
    drop(lock);
    fs::remove_file(dir.path().join(".agent-vault/a")).unwrap();
    fs::write(
        repo.repo().path().join("agent-vault.pending"),
        format!("{first}\n"),
    )
    .unwrap();
    (dir, repo)
}

#[test]
fn a_branch_moved_by_someone_else_is_not_overwritten() {
    let (_dir, repo) = repo();
    let lock = repo.lock(std::time::Duration::from_secs(1)).unwrap();
    let message = CommitMessage::new("test", "x");
    commit(
        &repo,
        &lock,
        &change(&[(".agent-vault/a", Some(b"1"))]),
        &message,
    )
    .unwrap()
    .unwrap();
    // A repository in the middle of a merge is refused before anything is written.
    fs::write(
        repo.repo().path().join("MERGE_HEAD"),
        format!("{}\n", git2::Oid::ZERO_SHA1),
    )
    .unwrap();
    let err = commit(
        &repo,
        &lock,
        &change(&[(".agent-vault/a", Some(b"2"))]),
        &message,
    )
    .unwrap_err();
    assert!(matches!(err, Error::RepoState(_)), "{err}");
    assert_eq!(
        head_file(&repo, ".agent-vault/a").as_deref(),
        Some(&b"1"[..])
    );
}

#[test]
fn files_are_rewritten_in_place_to_their_exact_bytes_and_symlinks_are_replaced() {
    let (dir, repo) = repo();
    let lock = repo.lock(std::time::Duration::from_secs(1)).unwrap();
    let message = CommitMessage::new("test", "in place");
    let long = vec![b'x'; 5000];
    commit(
        &repo,
        &lock,
        &change(&[(".agent-vault/f", Some(&long))]),
        &message,
    )
    .unwrap();
    // shorter, then longer again: the file holds exactly the new bytes each time
    for bytes in [&b"short"[..], &[b'y'; 7000][..], &b"z"[..]] {
        commit(
            &repo,
            &lock,
            &change(&[(".agent-vault/f", Some(bytes))]),
            &message,
        )
        .unwrap();
        assert_eq!(fs::read(dir.path().join(".agent-vault/f")).unwrap(), bytes);
        assert!(repo.dirty_vault_paths().unwrap().is_empty());
    }
    // a symlink where a file goes is replaced, never written through
    let outside = dir.path().join("outside");
    fs::write(&outside, b"keep").unwrap();
    #[cfg(unix)]
    {
        fs::remove_file(dir.path().join(".agent-vault/f")).unwrap();
        std::os::unix::fs::symlink(&outside, dir.path().join(".agent-vault/f")).unwrap();
        commit(
            &repo,
            &lock,
            &change(&[(".agent-vault/f", Some(b"new"))]),
            &message,
        )
        .unwrap();
        assert_eq!(fs::read(&outside).unwrap(), b"keep");
        let meta = fs::symlink_metadata(dir.path().join(".agent-vault/f")).unwrap();
        assert!(meta.is_file());
        assert_eq!(fs::read(dir.path().join(".agent-vault/f")).unwrap(), b"new");
    }
}

#[test]
fn a_folder_tree_that_cannot_be_read_fails_the_commit_instead_of_dropping_a_deletion() {
    let (dir, repo) = repo();
    let lock = repo.lock(std::time::Duration::from_secs(1)).unwrap();
    let message = CommitMessage::new("test", "tree");
    commit(
        &repo,
        &lock,
        &change(&[
            (".agent-vault/a", Some(b"1")),
            (".agent-vault/sub/b", Some(b"2")),
            (".agent-vault/sub/c", Some(b"3")),
        ]),
        &message,
    )
    .unwrap()
    .unwrap();
    // The `sub` folder's tree object goes missing (a damaged or partial object store).
    let head = repo.repo().head().unwrap().peel_to_tree().unwrap();
    let sub = head
        .get_path(Path::new(".agent-vault/sub"))
        .unwrap()
        .id()
        .to_string();
    let loose = dir
        .path()
        .join(".git/objects")
        .join(&sub[..2])
        .join(&sub[2..]);
    fs::remove_file(&loose).unwrap();
    let before = repo.repo().head().unwrap().target();
    let result = commit(
        &repo,
        &lock,
        &change(&[(".agent-vault/sub/b", None)]),
        &message,
    );
    assert!(matches!(result, Err(Error::Git { .. })), "{result:?}");
    assert_eq!(repo.repo().head().unwrap().target(), before);
}
