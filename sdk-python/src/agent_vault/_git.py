"""Git, the only way the SDK reads a vault: commits, trees and blobs, never the working tree.

Readers read the tree of one commit (docs/format.md, "Location"): HEAD's, or the upstream
commit's when it strictly descends from HEAD ("Reading the newest state"). Which commit that is,
is always asked of git itself (``git rev-parse``, ``git for-each-ref``), so ``include``,
``includeIf`` and ``GIT_CONFIG_*`` work exactly as for the user's own git. Objects are read
through one long-lived ``git cat-file`` process per :class:`ObjectReader`, sizes first: a blob
is only inflated once its size, from the object header, is known to be within its cap.

Every git process gets the caller's environment without any ``AGENT_VAULT_*`` variable (never
the key), no terminal prompts and no stdin. Remote URLs are read from a bare, ciphertext-only
clone in the user's cache folder.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import subprocess
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Dict, List, Optional, Sequence, Tuple

from ._errors import FormatError, VaultNotFoundError

logger = logging.getLogger("agent_vault")

FETCH_TIMEOUT_ENV = "AGENT_VAULT_FETCH_TIMEOUT"
OFFLINE_ENV = "AGENT_VAULT_OFFLINE"
_FALSEY = ("", "0", "n", "no", "f", "false", "off")
_REMOTE_RE = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*://|[^/\\:@\s]+@[^/\\:\s]+:)")
_USERINFO_RE = re.compile(r"(://)[^/@\s]+@")
_OID = re.compile(r"(?:[0-9a-f]{40}|[0-9a-f]{64})\Z")
# Requests written to cat-file before its answers are read: well under a pipe's buffer, so
# neither side ever blocks on the other.
_PIPELINE_BYTES = 16 * 1024


def git_env() -> Dict[str, str]:
    """The environment of every git child: the caller's, without ``AGENT_VAULT_*`` (the key
    must never reach git, its hooks or credential helpers), and never prompting."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENT_VAULT_")}
    env["GIT_TERMINAL_PROMPT"] = "0"
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
    return env


def run_git(
    args: List[str], *, cwd: Optional[str] = None, timeout: Optional[float] = None
) -> "subprocess.CompletedProcess[bytes]":
    """Runs git without a terminal or stdin; a missing git or a timeout is a failed process."""
    try:
        return subprocess.run(
            ["git", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=git_env(),
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        return subprocess.CompletedProcess(args, 127, b"", b"git is not installed or not on PATH")
    except NotADirectoryError:
        return subprocess.CompletedProcess(args, 128, b"", b"not a directory")
    except subprocess.TimeoutExpired:
        verb = next((a for a in args if not a.startswith("-") and "/" not in a), "")
        return subprocess.CompletedProcess(
            args, 124, b"", f"git {verb} did not finish within {timeout}s".encode()
        )


def stderr_reason(proc: "subprocess.CompletedProcess[bytes]") -> str:
    """The meaningful line of git's stderr, without credentials: the first ``fatal:`` line,
    else the first ``error:`` line, else the last non-empty line (git's trailing lines, such
    as "and the repository exists.", are advice, not the reason)."""
    lines = [line.strip() for line in proc.stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    for prefix in ("fatal:", "error:"):
        for line in lines:
            if line.lower().startswith(prefix):
                return redact(line[len(prefix):].strip() or line)
    return redact(lines[-1]) if lines else f"exit status {proc.returncode}"


_stderr = stderr_reason  # the name older tests import


def redact(text: str) -> str:
    """Removes credentials (``https://user:token@host``) from a URL or message."""
    return _USERINFO_RE.sub(r"\1***@", text)


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


# ----- objects --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ObjectInfo:
    """An object's header: its id, type and size (nothing inflated)."""

    oid: str
    kind: str  # "blob", "tree", "commit", "tag", or "missing"
    size: int


class ObjectReader:
    """One long-lived ``git cat-file --batch-command`` (or, with git older than 2.36, a
    ``--batch-check`` and a ``--batch`` process) over a git directory, started on first use and
    ended by :meth:`close` (or when garbage-collected). Requests are pipelined in bounded
    chunks, so a thousand reads cost one round of pipe traffic, not a thousand processes."""

    def __init__(self, git_dir: str) -> None:
        self.git_dir = git_dir
        self._procs: List["subprocess.Popen[bytes]"] = []
        self._command: Optional["subprocess.Popen[bytes]"] = None
        self._check: Optional["subprocess.Popen[bytes]"] = None
        self._batch: Optional["subprocess.Popen[bytes]"] = None
        self._legacy = False
        # Objects are named by their content, so what was read once stays true: parsed trees,
        # small blobs (metadata, policy files, shards: never plaintext) and the SHA-256 of
        # ciphertexts are kept for the next call, within bounds.
        self.trees: Dict[str, object] = {}
        self.blobs: Dict[str, bytes] = {}
        self.blob_bytes = 0
        self.digests: Dict[str, bytes] = {}
        self.walks: Dict[Tuple[str, bool], object] = {}
        # Ends the processes when the reader is garbage-collected without close().
        self._finalizer = weakref.finalize(self, _close_all, self._procs)

    def _spawn(self, mode: str) -> "subprocess.Popen[bytes]":
        try:
            proc = subprocess.Popen(
                ["git", "--git-dir", self.git_dir, "cat-file", mode],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=git_env(),
            )
        except FileNotFoundError:
            raise VaultNotFoundError(
                "cannot read the vault: git is not installed or not on PATH; install git "
                "(vaults are read from git objects)"
            ) from None
        self._procs.append(proc)
        return proc

    def close(self) -> None:
        """Ends the git processes (a later request starts them again)."""
        _close_all(self._procs)
        self._command = self._check = self._batch = None

    def _exchange(
        self, proc: "subprocess.Popen[bytes]", requests: Sequence[bytes], contents: bool,
        keep: Optional[Sequence[bool]] = None,
    ) -> List[Tuple[ObjectInfo, Optional[bytes]]]:
        assert proc.stdin is not None and proc.stdout is not None
        out: List[Tuple[ObjectInfo, Optional[bytes]]] = []
        start = 0
        while start < len(requests):
            end, size = start, 0
            while end < len(requests) and (end == start or size + len(requests[end]) <= _PIPELINE_BYTES):
                size += len(requests[end])
                end += 1
            try:
                proc.stdin.write(b"".join(requests[start:end]))
                proc.stdin.flush()
            except OSError:
                raise _GitGone() from None
            for i in range(start, end):
                out.append(_read_reply(proc.stdout, contents, keep[i] if keep is not None else True))
            start = end
        return out

    def _gone(self) -> FormatError:
        self.close()
        return FormatError(f"cannot read the vault from {self.git_dir}: `git cat-file` ended unexpectedly")

    def _run(self, kind: str, names: Sequence[str],
             keep: Optional[Sequence[bool]] = None) -> List[Tuple[ObjectInfo, Optional[bytes]]]:
        for name in names:
            if "\n" in name or "\0" in name:
                raise FormatError("cannot read the vault: an object name holds a line break")
        if not self._legacy:
            fresh = self._command is None
            if self._command is None:
                self._command = self._spawn("--batch-command")
            verb = "info" if kind == "info" else "contents"
            try:
                return self._exchange(self._command, [f"{verb} {n}\n".encode() for n in names],
                                      kind == "contents", keep)
            except _GitGone:
                status = self._command.wait() if fresh else None
                if status != 129:  # 129: git older than 2.36, no --batch-command
                    raise self._gone() from None
                self.close()
                self._legacy = True
        requests = [f"{n}\n".encode() for n in names]
        try:
            if kind == "info":
                if self._check is None:
                    self._check = self._spawn("--batch-check")
                return self._exchange(self._check, requests, False)
            if self._batch is None:
                self._batch = self._spawn("--batch")
            return self._exchange(self._batch, requests, True, keep)
        except _GitGone:
            raise self._gone() from None

    def info(self, names: Sequence[str]) -> List[ObjectInfo]:
        """Headers only: type and size of each object (``kind == "missing"`` if absent)."""
        return [i for i, _ in self._run("info", names)] if names else []

    def contents(
        self, names: Sequence[str], keep: Optional[Sequence[bool]] = None
    ) -> List[Tuple[ObjectInfo, Optional[bytes]]]:
        """Header and bytes of each object, all in one pipelined exchange; where ``keep`` is
        False, the SHA-256 of the bytes instead (hashed while streaming, never held). Callers
        check sizes with :meth:`info` first."""
        return self._run("contents", names, keep) if names else []


class _GitGone(Exception):
    pass


def _close_all(processes: List["subprocess.Popen[bytes]"]) -> None:
    for proc in processes:
        try:
            if proc.stdin is not None:
                proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    processes.clear()


def _read_reply(stdout: IO[bytes], contents: bool, keep: bool = True) -> Tuple[ObjectInfo, Optional[bytes]]:
    line = stdout.readline()
    if not line.endswith(b"\n"):
        raise _GitGone()
    parts = line[:-1].split(b" ")
    if len(parts) == 3 and parts[2].isdigit():
        info = ObjectInfo(parts[0].decode("ascii", "replace"), parts[1].decode("ascii", "replace"), int(parts[2]))
    else:  # "<name> missing", "<name> ambiguous", …
        return ObjectInfo("", "missing", 0), None
    if not contents:
        return info, None
    if not keep:
        digest, left = hashlib.sha256(), info.size
        while left:
            chunk = stdout.read(min(left, 1 << 20))
            if not chunk:
                raise _GitGone()
            digest.update(chunk)
            left -= len(chunk)
        if stdout.read(1) != b"\n":
            raise _GitGone()
        return info, digest.digest()
    data = stdout.read(info.size)
    if len(data) != info.size or stdout.read(1) != b"\n":
        raise _GitGone()
    return info, data


# ----- local repositories ---------------------------------------------------------------------


@dataclass(frozen=True)
class State:
    """The commit to read, and how to describe it in messages."""

    commit: str
    label: str


class LocalRepo:
    """A repository found by asking git (``git rev-parse``), with or without a working tree."""

    def __init__(self, workdir: Optional[str], git_dir: str) -> None:
        self.workdir = workdir
        self.git_dir = git_dir

    @property
    def location(self) -> str:
        """Where pins are kept for this vault: the working tree's real path (the git
        directory's for a bare repository)."""
        return os.path.realpath(self.workdir if self.workdir is not None else self.git_dir)

    @staticmethod
    def discover(start: Path) -> Optional["LocalRepo"]:
        """The repository containing ``start``, or None."""
        try:
            here = start.resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if not here.is_dir():
            here = here.parent
        proc = run_git(["rev-parse", "--is-bare-repository", "--absolute-git-dir", "--show-toplevel"], cwd=str(here))
        lines = proc.stdout.decode("utf-8", "surrogateescape").splitlines()
        if proc.returncode == 0 and len(lines) == 3:
            return LocalRepo(lines[2], lines[1])
        if len(lines) >= 2 and lines[0] == "true":
            return LocalRepo(None, lines[1])
        if proc.returncode == 127:
            raise VaultNotFoundError(
                "cannot read the vault: git is not installed or not on PATH; install git "
                "(vaults are read from git objects)"
            )
        return None

    def _git(self, *args: str, timeout: Optional[float] = None) -> "subprocess.CompletedProcess[bytes]":
        return run_git(["--git-dir", self.git_dir, *args], cwd=self.workdir, timeout=timeout)

    def state(self, fetch: bool) -> Optional[State]:
        """The newest state: the upstream commit when it strictly descends from HEAD, else
        HEAD; None without commits.

        With ``fetch``, the upstream is fetched first; a failed fetch is a warning and the
        upstream as last fetched is still used (it never goes back, so reading HEAD instead
        would look like a rollback of a state already read and pinned). Never changes HEAD,
        the index or any file.
        """
        # One process for HEAD's commit, its branch and the branch's upstream: rev-parse prints
        # each answer in turn and stops at the first it cannot give (no upstream: two lines).
        proc = self._git("rev-parse", "HEAD^{commit}", "--symbolic-full-name", "HEAD", "@{upstream}")
        lines = proc.stdout.decode("utf-8", "surrogateescape").split("\n")
        ours = lines[0].strip() if lines and _OID.match(lines[0].strip()) else ""
        if not ours:
            return None  # no commits yet
        if proc.returncode != 0 or len(lines) < 3 or not lines[2].startswith("refs/"):
            return State(ours, "HEAD")
        branch, upstream = lines[1], lines[2]
        if fetch:
            remote = self._git("for-each-ref", "--format=%(upstream:remotename)", "--", branch)
            name = remote.stdout.decode("utf-8", "surrogateescape").strip()
            if remote.returncode == 0 and name and name != ".":
                fetched = self._git("fetch", "--quiet", "--no-tags", "--", name, timeout=fetch_timeout())
                if fetched.returncode != 0:
                    logger.warning(
                        "`git fetch %s` failed (%s); reading the last fetched state, which may be stale",
                        name, stderr_reason(fetched),
                    )
        label = upstream[len("refs/remotes/"):] if upstream.startswith("refs/remotes/") else upstream
        proc = self._git("rev-parse", "--verify", "--quiet", upstream + "^{commit}")
        theirs = proc.stdout.decode().strip()
        if proc.returncode != 0 or not theirs or theirs == ours:
            return State(ours, "HEAD")  # the upstream ref was never fetched, or is HEAD
        proc = self._git("rev-list", "--left-right", "--count", f"{ours}...{theirs}")
        counts = proc.stdout.decode().split()
        if proc.returncode != 0 or len(counts) != 2:
            return State(ours, "HEAD")
        ahead, behind = int(counts[0]), int(counts[1])
        if ahead == 0 and behind > 0:
            return State(theirs, label)
        if ahead > 0 and behind > 0:
            logger.warning(
                "your branch and %s have diverged; reading the local state (run `git pull` to combine them)",
                label,
            )
        return State(ours, "HEAD")


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/agent-vault/remotes`` or ``~/.cache/agent-vault/remotes``: the folder
    the Node SDK uses too (a relative ``XDG_CACHE_HOME`` is ignored, as the XDG spec says)."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = xdg if xdg.startswith("/") else str(Path.home() / ".cache")
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
                    f"cannot clone {self.shown}: {stderr_reason(proc)}; check the URL, your network "
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
                self.shown, stderr_reason(proc),
            )

    def state(self) -> State:
        proc = run_git(["--git-dir", str(self.git_dir), "rev-parse", "--verify", "--quiet", "HEAD^{commit}"])
        commit = proc.stdout.decode().strip()
        if proc.returncode == 127:  # as for `git clone` in ensure_clone: git itself is missing
            raise VaultNotFoundError(
                f"cannot read the cached clone of {self.shown}: {stderr_reason(proc)}; install git "
                "(a remote URL is read through it), or pass the folder of a local clone"
            )
        if proc.returncode != 0 and proc.stderr.strip():
            raise VaultNotFoundError(
                f"cannot read the cached clone of {self.shown} ({stderr_reason(proc)}); delete "
                f"{self.git_dir} to clone it again"
            )
        if proc.returncode != 0 or not commit:
            raise VaultNotFoundError(
                f"{self.shown} has no commits, so no vault; run `agent-vault init` in a clone and push it"
            )
        return State(commit, self.shown)
