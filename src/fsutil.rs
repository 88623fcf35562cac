//! Small filesystem helpers with the guarantees the rest of the crate relies on: atomic
//! replacement of a file (optionally durable), private folders, reads with a size cap, and the
//! lock-file protocol that the CLI and both SDKs share for `pins.json`.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use crate::error::IoContext;
use crate::{Error, Result};

/// Whether a write must survive a crash of the machine (`fsync` of the file and its folder).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Flushed to disk before the rename, and the folder after it.
    Durable,
    /// Atomic, but left to the page cache (files that can be rebuilt, like a checkout).
    Atomic,
}

/// Writes a file by renaming a fully written temporary file over it. With `private`, the file
/// is created with mode 0600.
pub fn write_atomically(
    path: &Path,
    bytes: &[u8],
    durability: Durability,
    private: bool,
) -> Result<()> {
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(parent).io_context(|| format!("cannot create {}", parent.display()))?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".agent-vault-tmp");
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o600));
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut temp = builder
        .tempfile_in(parent)
        .io_context(|| format!("cannot create a temporary file in {}", parent.display()))?;
    temp.write_all(bytes)
        .io_context(|| format!("cannot write {}", path.display()))?;
    if durability == Durability::Durable {
        temp.as_file()
            .sync_all()
            .io_context(|| format!("cannot write {}", path.display()))?;
    }
    temp.persist(path)
        .map_err(|e| Error::io(format!("cannot write {}", path.display()), e.error))?;
    if durability == Durability::Durable {
        sync_dir(parent);
    }
    Ok(())
}

/// Flushes a folder's entries (a rename into it) to disk; best effort.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(dir) = fs::File::open(dir) {
        let _ = dir.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Creates a folder (and its parents) with mode 0700 for the parts it creates.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .io_context(|| format!("cannot create folder {}", dir.display()))
}

/// Why [`read_capped`] failed.
#[derive(Debug)]
pub enum CappedReadError {
    /// The file is larger than the cap; nothing beyond the cap was read.
    TooLarge,
    /// The file could not be opened or read.
    Io(std::io::Error),
}

/// Reads a whole file, but never more than `cap` bytes: a larger file (or an endless one such
/// as `/dev/zero`) is [`CappedReadError::TooLarge`].
pub fn read_capped(path: &Path, cap: u64) -> std::result::Result<Vec<u8>, CappedReadError> {
    read_to_cap(fs::File::open(path).map_err(CappedReadError::Io)?, cap)
}

/// [`read_capped`] for a file in a repository's working tree, which anyone who can push may
/// have written: a symbolic link is not followed (`ELOOP`) and anything but a regular file
/// (a FIFO, a device, a folder) is refused before a byte is read.
pub fn read_capped_regular(path: &Path, cap: u64) -> std::result::Result<Vec<u8>, CappedReadError> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(
        &mut options,
        (rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK).bits() as i32,
    );
    let file = options.open(path).map_err(CappedReadError::Io)?;
    let metadata = file.metadata().map_err(CappedReadError::Io)?;
    if !metadata.is_file() {
        return Err(CappedReadError::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        )));
    }
    read_to_cap(file, cap)
}

fn read_to_cap(file: fs::File, cap: u64) -> std::result::Result<Vec<u8>, CappedReadError> {
    let mut bytes = Vec::new();
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(CappedReadError::Io)?;
    if bytes.len() as u64 > cap {
        bytes.fill(0);
        return Err(CappedReadError::TooLarge);
    }
    Ok(bytes)
}

/// A lock held by the existence of a file created with `O_CREAT|O_EXCL` — the protocol the CLI
/// and both SDKs share for `pins.json` (Node has no `flock`). Removed on drop. A lock file older
/// than [`LockFile::STALE`] belongs to a crashed holder and is taken over.
#[derive(Debug)]
pub struct LockFile {
    path: PathBuf,
}

impl LockFile {
    /// How old a lock file must be before it is considered abandoned.
    pub const STALE: Duration = Duration::from_secs(10);

    /// Takes the lock at `path`, retrying every 10 ms for up to `wait`. `Ok(None)` when another
    /// holder kept it all that time.
    pub fn acquire(path: &Path, wait: Duration) -> Result<Option<Self>> {
        let start = Instant::now();
        loop {
            let mut options = fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            match options.open(path) {
                Ok(_) => {
                    return Ok(Some(LockFile {
                        path: path.to_path_buf(),
                    }));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let stale = fs::metadata(path)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| SystemTime::now().duration_since(t).ok())
                        .is_some_and(|age| age > Self::STALE);
                    if stale {
                        let _ = fs::remove_file(path);
                        continue;
                    }
                    if start.elapsed() >= wait {
                        return Ok(None);
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => return Err(Error::io(format!("cannot create {}", path.display()), e)),
            }
        }
    }
}

impl Drop for LockFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capped_reads_stop_at_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        fs::write(&path, b"12345").unwrap();
        assert_eq!(read_capped(&path, 5).unwrap(), b"12345");
        assert!(matches!(
            read_capped(&path, 4),
            Err(CappedReadError::TooLarge)
        ));
        #[cfg(unix)]
        assert!(matches!(
            read_capped(Path::new("/dev/zero"), 1024),
            Err(CappedReadError::TooLarge)
        ));
    }

    #[test]
    fn lock_files_exclude_and_stale_ones_are_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pins.json.lock");
        let held = LockFile::acquire(&path, Duration::ZERO).unwrap().unwrap();
        assert!(
            LockFile::acquire(&path, Duration::from_millis(30))
                .unwrap()
                .is_none()
        );
        drop(held);
        assert!(!path.exists());
        fs::write(&path, b"").unwrap();
        let old = SystemTime::now() - Duration::from_secs(60);
        fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(old)
            .unwrap();
        assert!(LockFile::acquire(&path, Duration::ZERO).unwrap().is_some());
    }

    #[test]
    fn atomic_private_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/file");
        write_atomically(&path, b"one", Durability::Durable, true).unwrap();
        write_atomically(&path, b"two", Durability::Atomic, true).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }
}
