//! Installing agent-vault's pre-commit hook into a repository: in `core.hooksPath` when set,
//! chaining a hook that was already there (it keeps running, after ours, and its failure
//! still blocks the commit) and never installing twice.

use std::fs;
use std::path::{Path, PathBuf};

use git2::Repository;

use crate::error::IoContext;
use crate::settings::GitEnv;
use crate::{Error, Result};

/// The hook script, as shipped in `hooks/pre-commit`.
pub const HOOK_SCRIPT: &str = include_str!("../hooks/pre-commit");
/// A line that marks a hook file as ours.
pub const HOOK_MARKER: &str = "# agent-vault pre-commit hook";
/// Where a pre-existing hook is moved so ours can run it.
pub const CHAINED_NAME: &str = "pre-commit.agent-vault-chained";

/// The state of the hook in a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookStatus {
    /// Ours is installed at this path and current.
    Installed(PathBuf),
    /// Ours is installed and runs the previous hook, moved to the second path.
    InstalledChained(PathBuf, PathBuf),
    /// Ours is installed but older than this build's script.
    Outdated(PathBuf),
    /// Another hook is installed and ours is not.
    Foreign(PathBuf),
    /// No pre-commit hook at all.
    Missing(PathBuf),
}

/// The hooks folder git uses for this repository: `core.hooksPath` (relative paths are
/// relative to the working tree) or `<git dir>/hooks`.
pub fn hooks_dir(repo: &Repository, git: &GitEnv) -> PathBuf {
    let configured = crate::git::git_config(repo, git)
        .ok()
        .and_then(|c| c.get_path("core.hooksPath").ok());
    match configured {
        Some(path) if path.is_absolute() => path,
        Some(path) => repo.workdir().unwrap_or_else(|| repo.path()).join(path),
        None => repo.commondir().join("hooks"),
    }
}

/// Reports whether the hook is installed.
pub fn status(repo: &Repository, git: &GitEnv) -> HookStatus {
    let dir = hooks_dir(repo, git);
    let hook = dir.join("pre-commit");
    let chained = dir.join(CHAINED_NAME);
    match fs::read_to_string(&hook) {
        Ok(text) if is_ours(&text) => {
            if text != HOOK_SCRIPT {
                HookStatus::Outdated(hook)
            } else if chained.exists() {
                HookStatus::InstalledChained(hook, chained)
            } else {
                HookStatus::Installed(hook)
            }
        }
        Ok(_) => HookStatus::Foreign(hook),
        Err(_) if hook.exists() => HookStatus::Foreign(hook),
        Err(_) => HookStatus::Missing(hook),
    }
}

/// Whether a hook file is ours: our marker in its first lines. A foreign hook that merely
/// mentions agent-vault further down (e.g. an older tool's snippet appended to it) is not, so
/// it is chained rather than overwritten.
fn is_ours(text: &str) -> bool {
    text.lines().take(3).any(|line| line == HOOK_MARKER)
}

/// Installs (or updates) the hook, chaining an existing foreign hook.
pub fn install(repo: &Repository, git: &GitEnv) -> Result<HookStatus> {
    let dir = hooks_dir(repo, git);
    fs::create_dir_all(&dir)
        .io_context(|| format!("cannot create hooks folder {}", dir.display()))?;
    let hook = dir.join("pre-commit");
    let chained = dir.join(CHAINED_NAME);
    if let HookStatus::Foreign(_) = status(repo, git) {
        if chained.exists() {
            return Err(Error::AlreadyExists {
                what: format!("{}", chained.display()),
                hint: format!(
                    "a previous hook was already chained there; merge it with {} by hand, then run `agent-vault hook install` again",
                    hook.display()
                ),
            });
        }
        fs::rename(&hook, &chained)
            .io_context(|| format!("cannot move the existing hook {} aside", hook.display()))?;
    }
    write_executable(&hook, HOOK_SCRIPT)?;
    Ok(status(repo, git))
}

/// Removes our hook, putting a chained hook back in its place.
pub fn uninstall(repo: &Repository, git: &GitEnv) -> Result<HookStatus> {
    let dir = hooks_dir(repo, git);
    let hook = dir.join("pre-commit");
    let chained = dir.join(CHAINED_NAME);
    match status(repo, git) {
        HookStatus::Installed(_) | HookStatus::InstalledChained(..) | HookStatus::Outdated(_) => {
            fs::remove_file(&hook).io_context(|| format!("cannot remove {}", hook.display()))?;
            if chained.exists() {
                fs::rename(&chained, &hook)
                    .io_context(|| format!("cannot restore {}", chained.display()))?;
            }
        }
        HookStatus::Foreign(_) | HookStatus::Missing(_) => {}
    }
    Ok(status(repo, git))
}

fn write_executable(path: &Path, contents: &str) -> Result<()> {
    crate::fsutil::write_atomically(
        path,
        contents.as_bytes(),
        crate::fsutil::Durability::Atomic,
        false,
    )?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o755))
            .io_context(|| format!("cannot make {} executable", path.display()))?;
    }
    Ok(())
}
