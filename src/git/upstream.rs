//! The upstream branch, for readers: fetch it (bounded, never prompting, never passing our
//! keys to git) and tell whether it is ahead of HEAD, so readers read the newest state without
//! touching the working tree, index or branches.

use std::process::{Command, Stdio};
use std::time::Duration;

use git2::Oid;

use super::VaultRepo;
use crate::settings::GitEnv;

/// What [`VaultRepo::fetch_upstream`] found.
pub enum Freshness {
    /// No upstream.
    LocalOnly,
    /// The upstream is not ahead of HEAD.
    UpToDate,
    /// The upstream is ahead: read from this commit.
    Ahead { commit: Oid, label: String },
    /// HEAD and the upstream have both moved on, or cannot be compared; the warning says why.
    Diverged(String),
}

impl VaultRepo {
    /// Works out whether the current branch's upstream is ahead, fetching it first with the
    /// system `git` (bounded by `timeout`) unless `offline`. When the fetch fails (returned as
    /// a warning) or is skipped, the upstream as last fetched still counts: a reader that has
    /// seen a newer state must not fall back to an older one, which its pin would rightly call
    /// a rollback. Spawns nothing without an upstream.
    pub fn fetch_upstream(&self, offline: bool, timeout: Duration) -> (Freshness, Option<String>) {
        let repo = self.repo();
        let Ok(head) = repo.head() else {
            return (Freshness::LocalOnly, None);
        };
        let Some(branch_ref) = head.name().ok().filter(|n| n.starts_with("refs/heads/")) else {
            return (Freshness::LocalOnly, None);
        };
        let (Ok(remote), Ok(upstream)) = (
            repo.branch_upstream_remote(branch_ref),
            repo.branch_upstream_name(branch_ref),
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
            self.run_fetch(remote, timeout).err()
        };
        let (Ok(theirs), Some(ours)) = (repo.refname_to_id(upstream), head.target()) else {
            return (Freshness::LocalOnly, warning);
        };
        let freshness = if theirs == ours {
            Freshness::UpToDate
        } else {
            match repo.graph_ahead_behind(ours, theirs) {
                Ok((_, 0)) => Freshness::UpToDate,
                Ok((0, _)) => Freshness::Ahead {
                    commit: theirs,
                    label,
                },
                Ok(_) => Freshness::Diverged(format!(
                    "your branch and {label} have diverged; reading HEAD (run `git pull` to combine them)"
                )),
                Err(e) => Freshness::Diverged(format!(
                    "cannot compare with {label} ({}); reading HEAD",
                    e.message()
                )),
            }
        };
        (freshness, warning)
    }

    fn run_fetch(&self, remote: &str, timeout: Duration) -> Result<(), String> {
        let mut command = git_command(self.git_env());
        command
            .arg("-C")
            .arg(self.workdir())
            .args(["fetch", "--quiet", "--no-tags", "--", remote]);
        // Never a prompt for a passphrase or host key: ssh reads those from the terminal, not
        // stdin. A user's own ssh command (environment or core.sshCommand) is kept.
        let own_ssh = self.git_env().own_ssh_command
            || self
                .config()
                .is_ok_and(|c| c.get_string("core.sshCommand").is_ok());
        if !own_ssh {
            command.env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
        }
        let mut child = command
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
                    "`git fetch {remote}` did not finish within {:.0} s; reading the state fetched last, which may be stale",
                    timeout.as_secs_f64()
                ))
            }
        }
    }
}

/// A `git` command that never prompts, reads no stdin, and gets exactly the environment the
/// caller prepared ([`GitEnv::child_env`]: the user's, without `AGENT_VAULT_*` — the key must
/// never reach git, its hooks or its credential helpers).
pub fn git_command(git: &GitEnv) -> Command {
    let mut command = Command::new("git");
    command
        .env_clear()
        .envs(git.child_env.iter().map(|(k, v)| (k, v)))
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null());
    command
}
