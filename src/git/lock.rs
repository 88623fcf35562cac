//! The lock serializing commands that change one vault: an exclusive `flock` on
//! `<git common dir>/agent-vault.lock`, waited for with a bound.

use std::fs;
use std::time::{Duration, Instant};

use super::VaultRepo;
use crate::error::IoContext;
use crate::{Error, Result};

const LOCK_FILE: &str = "agent-vault.lock";

/// The lock serializing commands that change one vault. Released on drop.
pub struct VaultLock {
    _file: fs::File,
}

impl VaultRepo {
    /// Takes the vault lock, waiting at most `timeout`, then completes a command that was
    /// interrupted after its commit.
    pub fn lock(&self, timeout: Duration) -> Result<VaultLock> {
        let path = self.repo().commondir().join(LOCK_FILE);
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .io_context(|| format!("cannot open the vault lock {}", path.display()))?;
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
        super::commit::finish_interrupted(self, &lock)?;
        Ok(lock)
    }

    /// Whether a writer is at work on this vault right now (it holds the lock) or was
    /// interrupted in its working-tree update.
    pub fn writer_active(&self) -> bool {
        if super::commit::update_pending(self.repo()) {
            return true;
        }
        let path = self.repo().commondir().join(LOCK_FILE);
        match fs::OpenOptions::new().read(true).open(&path) {
            Ok(file) => matches!(file.try_lock_shared(), Err(fs::TryLockError::WouldBlock)),
            Err(_) => false,
        }
    }
}
