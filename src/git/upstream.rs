//! The upstream branch, for readers: fetch it (bounded, never prompting, never passing our
//! keys to git) and tell whether it is ahead of HEAD, so readers read the newest state without
//! touching the working tree, index or branches.

use std::process::{Command, Stdio};
use std::time::Duration;

use git2::Oid;

use super::VaultRepo;
use crate::settings::GitEnv;
use crate::{Error, Result};

/// The current branch's upstream: its remote, its ref, and how to name it (`origin/main`).
struct Upstream {
    remote: String,
    refname: String,
    label: String,
}

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
        let Some(upstream) = self.upstream() else {
            return (Freshness::LocalOnly, None);
        };
        let label = upstream.label.clone();
        let warning = if offline || upstream.remote == "." {
            None
        } else {
            self.run_fetch(&upstream.remote, timeout).err()
        };
        let (Ok(theirs), Some(ours)) = (
            repo.refname_to_id(&upstream.refname),
            repo.head().ok().and_then(|h| h.target()),
        ) else {
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

    /// The current branch's upstream, when it has one.
    fn upstream(&self) -> Option<Upstream> {
        let repo = self.repo();
        let head = repo.head().ok()?;
        let branch_ref = head.name().ok().filter(|n| n.starts_with("refs/heads/"))?;
        let remote = repo.branch_upstream_remote(branch_ref).ok()?;
        let refname = repo.branch_upstream_name(branch_ref).ok()?;
        let (remote, refname) = (remote.as_str().ok()?, refname.as_str().ok()?);
        Some(Upstream {
            remote: remote.to_owned(),
            refname: refname.to_owned(),
            label: refname.trim_start_matches("refs/remotes/").to_owned(),
        })
    }

    /// Before an owner command commits: fetches the upstream (as readers do, unless
    /// `offline`) and refuses to build on a stale base — when the upstream holds vault
    /// changes HEAD does not have ([`Error::RepoState`], exit 6). The branch is never moved:
    /// a fast-forward would also rewrite the rest of the user's working tree, so `git pull`
    /// stays the user's. Returns notes: a failed fetch, or a branch behind only outside
    /// `.agent-vault/`.
    pub fn check_writer_base(&self, offline: bool, timeout: Duration) -> Result<Vec<String>> {
        let Some(upstream) = self.upstream() else {
            return Ok(Vec::new());
        };
        let mut notes = Vec::new();
        if !offline && upstream.remote != "." {
            notes.extend(self.run_fetch(&upstream.remote, timeout).err());
        }
        let repo = self.repo();
        let (Ok(theirs), Some(ours)) = (
            repo.refname_to_id(&upstream.refname),
            repo.head().ok().and_then(|h| h.target()),
        ) else {
            return Ok(notes);
        };
        let label = &upstream.label;
        // Histories git cannot compare here (a shallow clone, unrelated branches): say so.
        let cannot_compare = |e: git2::Error| {
            format!(
                "cannot compare your branch with {label} ({}); make sure it has the vault's newest changes (`git pull`) before you push",
                e.message()
            )
        };
        let (ahead, behind) = match repo.graph_ahead_behind(ours, theirs) {
            Ok(counts) => counts,
            Err(e) => {
                notes.push(cannot_compare(e));
                return Ok(notes);
            }
        };
        if behind == 0 {
            return Ok(notes);
        }
        let base = match repo.merge_base(ours, theirs) {
            Ok(base) => base,
            Err(e) => {
                notes.push(cannot_compare(e));
                return Ok(notes);
            }
        };
        if self.vault_tree_id(base)? == self.vault_tree_id(theirs)? {
            notes.push(format!(
                "your branch is behind {label} by {behind} commit(s) that do not touch the vault; `git pull` before you push"
            ));
            return Ok(notes);
        }
        Err(Error::RepoState(if ahead == 0 {
            format!(
                "your branch is behind {label}, which has vault changes you do not have, so this change would be built on a stale vault; run `git pull --ff-only`, then retry (nothing was changed)"
            )
        } else {
            format!(
                "your branch and {label} have diverged and {label} has vault changes you do not have; run `git pull` to merge them (for .agent-vault/integrity take either side), review with `agent-vault verify`, re-sign with `agent-vault sign`, then retry (nothing was changed)"
            )
        }))
    }

    /// The id of the `.agent-vault` tree of `commit` (`None` without one).
    fn vault_tree_id(&self, commit: Oid) -> Result<Option<Oid>> {
        let tree = self
            .repo()
            .find_commit(commit)
            .and_then(|c| c.tree())
            .map_err(|e| Error::git("reading a commit's tree", e))?;
        Ok(tree
            .get_name(crate::format::VAULT_DIR)
            .map(|entry| entry.id()))
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
