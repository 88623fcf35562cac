"""Shared fixtures: the real agent-vault CLI, a hermetic environment, and helpers that build
real vaults in temporary git repositories."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def cli_binary() -> Path:
    """``$AGENT_VAULT_BIN``, else ``cargo build`` at the repository root (a no-op when fresh)."""
    configured = os.environ.get("AGENT_VAULT_BIN")
    if configured:
        return Path(configured).resolve()
    subprocess.run(["cargo", "build", "--quiet"], cwd=REPO_ROOT, check=True)
    return REPO_ROOT / "target" / "debug" / "agent-vault"


@pytest.fixture(scope="session")
def cli() -> Path:
    return cli_binary()


@pytest.fixture(autouse=True)
def hermetic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HOME, AGENT_VAULT_HOME, XDG_CACHE_HOME in tmp; no git config; a fixed git identity."""
    for name in list(os.environ):
        if name.startswith("AGENT_VAULT_") and name != "AGENT_VAULT_BIN":
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    values = {
        "HOME": str(home),
        "AGENT_VAULT_HOME": str(home / ".agent-vault"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_SYSTEM": "/dev/null",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Test Owner",
        "GIT_AUTHOR_EMAIL": "owner@test.invalid",
        "GIT_COMMITTER_NAME": "Test Owner",
        "GIT_COMMITTER_EMAIL": "owner@test.invalid",
        "GIT_TERMINAL_PROMPT": "0",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return home


@dataclass
class World:
    """Runs the CLI and git as the owner in a temporary folder."""

    cli: Path
    root: Path
    home: Path  # the owner's AGENT_VAULT_HOME, used by every CLI command the test runs

    @property
    def owner_home(self) -> Path:
        return self.home

    def reader_home(self, name: str = "reader-home") -> Path:
        """Another machine's key home with copies of the owner's keys but no pins: pins are
        per vault identity, so a reader sharing the owner's home would (rightly) call a stale
        clone a rollback of the state the owner just wrote."""
        target = self.root / name
        shutil.copytree(self.home, target, ignore=shutil.ignore_patterns("pins.json*"))
        return target

    def run(self, argv: List[str], stdin: bytes = b"", cwd: Optional[Path] = None,
            env: Optional[Dict[str, str]] = None) -> str:
        full = dict(os.environ)
        full["AGENT_VAULT_HOME"] = str(self.home)
        full.update(env or {})
        proc = subprocess.run(argv, input=stdin, cwd=cwd or self.root, env=full,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        assert proc.returncode == 0, f"{argv} failed: {proc.stderr.decode()}"
        return proc.stdout.decode()

    def av(self, repo: Path, *args: str, stdin: bytes = b"") -> str:
        return self.run([str(self.cli), "--vault", str(repo), *args], stdin=stdin)

    def git(self, repo: Path, *args: str) -> str:
        return self.run(["git", "-C", str(repo), *args])

    def init(self, name: str = "repo") -> Path:
        repo = self.root / name
        self.run([str(self.cli), "init", str(repo), "--owner-name", "Test Owner"])
        return repo

    def set(self, repo: Path, path: str, value: bytes, *args: str) -> None:
        """Stores a value through stdin, never argv."""
        self.av(repo, "set", path, "--from-file", "-", *args, stdin=value)

    def bare_remote(self, repo: Path, name: str = "remote.git") -> Path:
        """A bare clone of ``repo``, set as its upstream ``origin``."""
        bare = self.root / name
        self.run(["git", "clone", "--quiet", "--bare", str(repo), str(bare)])
        self.git(repo, "remote", "add", "origin", str(bare))
        self.git(repo, "fetch", "--quiet", "origin")
        self.git(repo, "branch", "--quiet", f"--set-upstream-to=origin/{self.branch(repo)}")
        return bare

    def unsign(self, repo: Path) -> None:
        """Makes a CLI-written vault unsigned, as agent-vault 0.1.0 wrote them: removes
        integrity/, signing.key.age and the owner's pin for it (uncommitted)."""
        shutil.rmtree(repo / ".agent-vault" / "integrity")
        (repo / ".agent-vault" / "signing.key.age").unlink()
        pins = self.owner_home / "pins.json"
        if pins.exists():
            doc = json.loads(pins.read_text())
            for table in ("vaults", "locations", "legacy"):
                (doc.get(table) or {}).pop(os.path.realpath(repo), None)
            pins.write_text(json.dumps(doc))

    def branch(self, repo: Path) -> str:
        return self.git(repo, "symbolic-ref", "--short", "HEAD").strip()

    def push(self, repo: Path) -> None:
        self.git(repo, "push", "--quiet", "origin", self.branch(repo))

    def clone(self, bare: Path, name: str) -> Path:
        target = self.root / name
        self.run(["git", "clone", "--quiet", str(bare), str(target)])
        return target


@pytest.fixture
def world(cli: Path, tmp_path: Path) -> Iterator[World]:
    yield World(cli=cli, root=tmp_path, home=Path(os.environ["AGENT_VAULT_HOME"]))


def files_containing(root: Path, needle: bytes) -> List[Path]:
    """Every file under ``root`` whose bytes contain ``needle`` (follows no symlinks)."""
    hits = []
    for dirpath, _, names in os.walk(root):
        for name in names:
            p = Path(dirpath) / name
            if p.is_symlink() or not p.is_file():
                continue
            if needle in p.read_bytes():
                hits.append(p)
    return hits


def which_git() -> str:
    found = shutil.which("git")
    assert found, "git must be installed"
    return found
