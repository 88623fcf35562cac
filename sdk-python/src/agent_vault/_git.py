"""Where reads come from: the working tree, or a commit's tree read through ``git cat-file``.

Local repositories are found and their upstream configuration is read from the files in
``.git`` directly, so no ``git`` process is spawned when there is no upstream. When an upstream
exists, the SDK runs ``git fetch`` (only if ``auto_pull`` is on) and then, whether the fetch
succeeded, failed or was skipped, reads the vault from the upstream commit's objects if that
commit strictly descends from HEAD; it never checks out, merges, resets or touches the index. Remote URLs are read from a bare,
ciphertext-only clone in the user's cache folder.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from ._errors import FormatError, VaultNotFoundError

logger = logging.getLogger("agent_vault")

FETCH_TIMEOUT_ENV = "AGENT_VAULT_FETCH_TIMEOUT"
OFFLINE_ENV = "AGENT_VAULT_OFFLINE"
_FALSEY = ("", "0", "n", "no", "f", "false", "off")
_REMOTE_RE = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*://|[^/\\:@\s]+@[^/\\:\s]+:)")
_USERINFO_RE = re.compile(r"(://)[^/@\s]+@")


class Source:
    """Reads repository-relative files; ``None`` when a file does not exist."""

    label = "working tree"

    def read(self, path: str) -> Optional[bytes]:
        return self.read_many([path])[path]

    def read_many(self, paths: Sequence[str]) -> Dict[str, Optional[bytes]]:
        raise NotImplementedError

    def list_files(self, folder: str) -> List[str]:
        """Every regular file under ``folder`` (repository-relative), sorted."""
        raise NotImplementedError


class WorktreeSource(Source):
    """Files in a working tree."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def read_many(self, paths: Sequence[str]) -> Dict[str, Optional[bytes]]:
        out: Dict[str, Optional[bytes]] = {}
        for path in paths:
            try:
                out[path] = (self.root / path).read_bytes()
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                out[path] = None
            except OSError as e:
                raise FormatError(f"cannot read {path} ({e.strerror}); check its permissions") from None
        return out

    def list_files(self, folder: str) -> List[str]:
        out: List[str] = []

        def walk(rel: str) -> None:
            try:
                entries = list(os.scandir(self.root / rel))
            except (FileNotFoundError, NotADirectoryError):
                return
            except OSError as e:
                raise FormatError(f"cannot list {rel} ({e.strerror}); check its permissions") from None
            for entry in entries:
                path = f"{rel}/{entry.name}"
                if entry.is_dir(follow_symlinks=False):
                    walk(path)
                elif entry.is_file(follow_symlinks=False):
                    out.append(path)

        walk(folder)
        return sorted(out)


class TreeSource(Source):
    """Blobs of one commit's tree, read with one ``git cat-file --batch`` per call."""

    def __init__(self, git_dir: Path, commit: str, label: str) -> None:
        self.git_dir = git_dir
        self.commit = commit
        self.label = label

    def read_many(self, paths: Sequence[str]) -> Dict[str, Optional[bytes]]:
        out: Dict[str, Optional[bytes]] = {}
        if not paths:
            return out
        request = "".join(f"{self.commit}:{p}\n" for p in paths).encode("utf-8")
        proc = run_git(["--git-dir", str(self.git_dir), "cat-file", "--batch"], stdin=request)
        if proc.returncode != 0:
            raise FormatError(f"cannot read the vault from {self.label}: {_stderr(proc)}")
        data, pos = proc.stdout, 0
        for path in paths:
            end = data.index(b"\n", pos)
            header = data[pos:end].split()
            pos = end + 1
            if len(header) != 3:  # "<object> missing" / "ambiguous"
                out[path] = None
                continue
            size = int(header[2])
            out[path] = data[pos : pos + size] if header[1] == b"blob" else None
            pos += size + 1
        return out

    def list_files(self, folder: str) -> List[str]:
        proc = run_git(["--git-dir", str(self.git_dir), "ls-tree", "-r", "-z", "--full-tree",
                        self.commit, "--", folder])
        if proc.returncode != 0:
            raise FormatError(f"cannot list {folder} in {self.label}: {_stderr(proc)}")
        out = []
        for record in proc.stdout.split(b"\0"):
            if not record:
                continue
            info, _, name = record.partition(b"\t")
            if info.split()[1:2] == [b"blob"]:
                out.append(name.decode("utf-8", "surrogateescape"))
        return sorted(out)


def _stderr(proc: "subprocess.CompletedProcess[bytes]") -> str:
    """The meaningful line of git's stderr, without credentials: the first ``fatal:`` line,
    else the first ``error:`` line, else the last non-empty line (git's trailing lines, such
    as "and the repository exists.", are advice, not the reason)."""
    lines = [line.strip() for line in proc.stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    for prefix in ("fatal:", "error:"):
        for line in lines:
            if line.lower().startswith(prefix):
                return redact(line[len(prefix):].strip() or line)
    return redact(lines[-1]) if lines else f"exit status {proc.returncode}"


def redact(text: str) -> str:
    """Removes credentials (``https://user:token@host``) from a URL or message."""
    return _USERINFO_RE.sub(r"\1***@", text)


def _git_env() -> Dict[str, str]:
    env = dict(os.environ)
    env["GIT_TERMINAL_PROMPT"] = "0"
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
    return env


def run_git(
    args: List[str], *, stdin: bytes = b"", timeout: Optional[float] = None
) -> "subprocess.CompletedProcess[bytes]":
    """Runs git without a terminal; a missing git or a timeout is a failed process."""
    try:
        return subprocess.run(
            ["git", *args],
            input=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_git_env(),
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        return subprocess.CompletedProcess(args, 127, b"", b"git is not installed or not on PATH")
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(
            args, 124, b"", f"git {args[2] if len(args) > 2 else ''} did not finish within {timeout}s".encode()
        )


def fetch_timeout() -> float:
    try:
        value = float(os.environ.get(FETCH_TIMEOUT_ENV, "10"))
    except ValueError:
        value = 10.0
    return min(max(value, 0.0), 86400.0) if value == value else 10.0


def offline() -> bool:
    """Whether ``AGENT_VAULT_OFFLINE`` is set to a true value, as the CLI reads it (unset,
    empty, ``0``, ``no``, ``false``, ``off``, ``n``, ``f`` are false; anything else is true)."""
    return os.environ.get(OFFLINE_ENV, "").lower() not in _FALSEY


def is_remote_url(repo: str) -> bool:
    """Whether ``repo`` is a git URL (``https://…``, ``file://…``, ``git@host:path``)."""
    return bool(_REMOTE_RE.match(repo)) and not os.path.exists(repo)


class LocalRepo:
    """A repository with a working tree, found without running git."""

    def __init__(self, workdir: Path, git_dir: Path) -> None:
        self.workdir = workdir
        self.git_dir = git_dir
        common = git_dir / "commondir"
        self.common_dir = (git_dir / common.read_text().strip()).resolve() if common.is_file() else git_dir

    @staticmethod
    def discover(start: Path) -> Optional["LocalRepo"]:
        """The repository containing ``start``, like ``git rev-parse --show-toplevel``."""
        try:
            here = start.resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if not here.is_dir():
            here = here.parent
        for d in (here, *here.parents):
            dot_git = d / ".git"
            try:
                if dot_git.is_dir():
                    return LocalRepo(d, dot_git)
                if dot_git.is_file():
                    text = dot_git.read_text()
                    if text.startswith("gitdir:"):
                        return LocalRepo(d, (d / text[len("gitdir:"):].strip()).resolve())
            except OSError:
                return None
        return None

    def worktree(self) -> WorktreeSource:
        return WorktreeSource(self.workdir)

    def head_has(self, path: str) -> bool:
        """Whether HEAD's tree holds ``path`` (spawns git; only for the rare no-vault check)."""
        proc = run_git(["--git-dir", str(self.git_dir), "cat-file", "-e", f"HEAD:{path}"])
        return proc.returncode == 0

    def head_source(self) -> Optional[TreeSource]:
        """HEAD's tree (spawns git), or None without commits."""
        proc = run_git(["--git-dir", str(self.git_dir), "rev-parse", "--verify", "--quiet", "HEAD^{commit}"])
        commit = proc.stdout.decode().strip()
        if proc.returncode != 0 or not commit:
            return None
        return TreeSource(self.git_dir, commit, "HEAD")

    def upstream(self) -> Optional[Tuple[str, str]]:
        """The current branch's (remote, merge ref) from .git/HEAD and config, or None."""
        try:
            head = (self.git_dir / "HEAD").read_text().strip()
        except OSError:
            return None
        if not head.startswith("ref: refs/heads/"):
            return None
        branch = head[len("ref: refs/heads/"):]
        values: Dict[str, str] = {}
        for config in (self.common_dir / "config", self.git_dir / "config.worktree"):
            try:
                values.update(_branch_config(config.read_text(errors="replace"), branch))
            except OSError:
                continue
        if values.get("remote") and values.get("merge"):
            return values["remote"], values["merge"]
        return None

    def fresh_source(self, fetch: bool) -> Source:
        """The newest state: the upstream commit's tree when it strictly descends from HEAD,
        else the working tree.

        With ``fetch``, the upstream is fetched first; a failed fetch is a warning and the
        upstream ref as last fetched is still used (it never goes back, so reading HEAD instead
        would look like a rollback of a state already read and pinned). Spawns git only when
        the branch has an upstream. Never changes HEAD, index or files.
        """
        upstream = self.upstream()
        if upstream is None:
            return self.worktree()
        remote, _ = upstream
        git = ["-C", str(self.workdir)]
        if fetch and remote != ".":
            proc = run_git([*git, "fetch", "--quiet", "--no-tags", "--", remote], timeout=fetch_timeout())
            if proc.returncode != 0:
                logger.warning(
                    "`git fetch %s` failed (%s); reading the last fetched state, which may be stale",
                    remote, _stderr(proc),
                )
        proc = run_git([*git, "rev-parse", "HEAD", "@{upstream}", "--symbolic-full-name", "@{upstream}"])
        lines = proc.stdout.decode().split()
        if proc.returncode != 0 or len(lines) != 3:
            return self.worktree()  # no commits yet, or the upstream ref was never fetched
        ours, theirs, name = lines
        if ours == theirs:
            return self.worktree()
        proc = run_git([*git, "rev-list", "--left-right", "--count", f"{ours}...{theirs}"])
        counts = proc.stdout.decode().split()
        if proc.returncode != 0 or len(counts) != 2:
            return self.worktree()
        ahead, behind = int(counts[0]), int(counts[1])
        label = name[len("refs/remotes/"):] if name.startswith("refs/remotes/") else name
        if ahead == 0 and behind > 0:
            return TreeSource(self.git_dir, theirs, label)
        if ahead > 0 and behind > 0:
            logger.warning(
                "your branch and %s have diverged; reading the local state (run `git pull` to combine them)",
                label,
            )
        return self.worktree()


def _branch_config(text: str, branch: str) -> Dict[str, str]:
    """``remote`` and ``merge`` of ``[branch "<branch>"]`` in a git config file."""
    out: Dict[str, str] = {}
    inside = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            m = re.match(r'\[\s*branch\s+"((?:[^"\\]|\\.)*)"\s*\]', line, re.I)
            inside = bool(m) and m is not None and re.sub(r"\\(.)", r"\1", m.group(1)) == branch
            continue
        if inside and "=" in line:
            key, value = line.split("=", 1)
            value = value.split(" #")[0].split(" ;")[0].strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            out[key.strip().lower()] = value
    return out


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/agent-vault`` or ``~/.cache/agent-vault``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "agent-vault" / "remotes"


class RemoteRepo:
    """A bare clone of a remote URL in the cache folder: git objects only, i.e. ciphertext and
    metadata, never plaintext. Refreshed with ``git fetch``."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.shown = redact(url)
        digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:24]
        self.git_dir = cache_root() / f"{digest}.git"
        self.just_cloned = False

    def ensure_clone(self) -> None:
        if (self.git_dir / "HEAD").is_file():
            return
        parent = self.git_dir.parent
        parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = Path(tempfile.mkdtemp(prefix=".clone-", dir=str(parent)))
        try:
            proc = run_git(
                ["clone", "--bare", "--quiet", "--no-tags", "--", self.url, str(tmp / "repo.git")],
                timeout=max(fetch_timeout(), 60.0),
            )
            if proc.returncode != 0:
                raise VaultNotFoundError(
                    f"cannot clone {self.shown}: {_stderr(proc)}; check the URL, your network "
                    "and your git credentials"
                )
            # Later fetches update every branch in place (a bare clone has no refspec).
            run_git(["--git-dir", str(tmp / "repo.git"), "config", "remote.origin.fetch",
                     "+refs/heads/*:refs/heads/*"])
            try:
                os.rename(tmp / "repo.git", self.git_dir)
                self.just_cloned = True
            except OSError:
                if not (self.git_dir / "HEAD").is_file():  # not a concurrent clone: a real error
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def refresh(self) -> None:
        proc = run_git(
            ["--git-dir", str(self.git_dir), "fetch", "--quiet", "--prune", "--no-tags", "origin"],
            timeout=fetch_timeout(),
        )
        if proc.returncode != 0:
            logger.warning(
                "cannot refresh the cached clone of %s (%s); reading the cached state, which may be stale",
                self.shown, _stderr(proc),
            )

    def source(self) -> TreeSource:
        proc = run_git(["--git-dir", str(self.git_dir), "rev-parse", "--verify", "--quiet", "HEAD^{commit}"])
        commit = proc.stdout.decode().strip()
        if proc.returncode == 127:  # as for `git clone` in ensure_clone: git itself is missing
            raise VaultNotFoundError(
                f"cannot read the cached clone of {self.shown}: {_stderr(proc)}; install git "
                "(a remote URL is read through it), or pass the folder of a local clone"
            )
        if proc.returncode != 0 and proc.stderr.strip():
            raise VaultNotFoundError(
                f"cannot read the cached clone of {self.shown} ({_stderr(proc)}); delete "
                f"{self.git_dir} to clone it again"
            )
        if proc.returncode != 0 or not commit:
            raise VaultNotFoundError(
                f"{self.shown} has no commits, so no vault; run `agent-vault init` in a clone and push it"
            )
        return TreeSource(self.git_dir, commit, self.shown)


def unique(items: Iterable[str]) -> List[str]:
    return list(dict.fromkeys(items))
