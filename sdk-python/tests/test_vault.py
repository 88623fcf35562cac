"""Behaviour that needs moving parts: upstream fetching, remote URLs, refresh-and-retry,
no git without need, read-only and no-plaintext guarantees, and argument handling."""

from __future__ import annotations

import json
import logging
import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Dict, Tuple

import pytest

from agent_vault import (
    AgentInfo,
    FormatError,
    IntegrityError,
    InvalidInputError,
    KeyNotFoundError,
    NotAuthorizedError,
    SecretInfo,
    SecretNotFoundError,
    Vault,
    VaultNotFoundError,
)

from agent_vault._git import _stderr

from conftest import World, files_containing
from vaultkit import agent_key_file


def snapshot(world: World, repo: Path) -> Tuple[str, str, str, Dict[str, Tuple[int, int]]]:
    """HEAD, status, index file hash, and every working-tree file's (size, mtime)."""
    files = {}
    for dirpath, dirs, names in os.walk(repo):
        if ".git" in dirs:
            dirs.remove(".git")
        for name in names:
            st = (Path(dirpath) / name).stat()
            files[str(Path(dirpath) / name)] = (st.st_size, st.st_mtime_ns)
    index = (repo / ".git" / "index").read_bytes()
    return (world.git(repo, "rev-parse", "HEAD"), world.git(repo, "status", "--porcelain"),
            str(hash(index)), files)


def logging_git(world: World, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Puts a `git` first on PATH that records each call and runs the real git."""
    real = shutil.which("git")
    assert real
    bindir = world.root / "logging-bin"
    bindir.mkdir()
    log = world.root / "git-calls"
    script = bindir / "git"
    script.write_text(f"#!/bin/sh\necho \"$@\" >> '{log}'\nexec '{real}' \"$@\"\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    return log


def test_agent_vault_offline_means_no_fetch(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """AGENT_VAULT_OFFLINE=1 is auto_pull=False (no fetch, for local paths and URLs); a false
    value such as 0 is not."""
    origin = world.init("origin")
    world.set(origin, "app/one", b"first")
    bare = world.bare_remote(origin)
    mine = world.clone(bare, "mine")
    url = f"file://{bare}"
    monkeypatch.setenv("AGENT_VAULT_HOME", str(world.reader_home()))
    assert Vault(url).get("app/one") == "first"  # cloned into the cache
    world.set(origin, "app/two", b"pushed later")
    world.push(origin)
    log = logging_git(world, monkeypatch)

    monkeypatch.setenv("AGENT_VAULT_OFFLINE", "1")
    with pytest.raises(SecretNotFoundError):
        Vault(mine).get("app/two")
    with pytest.raises(SecretNotFoundError):
        Vault(url).get("app/two")
    assert "fetch" not in (log.read_text() if log.exists() else "")

    monkeypatch.setenv("AGENT_VAULT_OFFLINE", "0")
    assert Vault(mine).get("app/two") == "pushed later"
    assert Vault(url).get("app/two") == "pushed later"
    assert "fetch" in log.read_text()


def test_git_never_prompts(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every git the SDK starts has GIT_TERMINAL_PROMPT=0 and, unless the user set one,
    GIT_SSH_COMMAND with BatchMode=yes."""
    origin = world.init("origin")
    world.set(origin, "app/one", b"first")
    bare = world.bare_remote(origin)
    mine = world.clone(bare, "mine")
    real = shutil.which("git")
    bindir = world.root / "env-bin"
    bindir.mkdir()
    log = world.root / "git-env"
    script = bindir / "git"
    script.write_text(
        f"#!/bin/sh\necho \"$GIT_TERMINAL_PROMPT|$GIT_SSH_COMMAND\" >> '{log}'\nexec '{real}' \"$@\"\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("GIT_TERMINAL_PROMPT", raising=False)
    monkeypatch.delenv("GIT_SSH_COMMAND", raising=False)
    assert Vault(mine).get("app/one") == "first"
    assert Vault(f"file://{bare}").get("app/one") == "first"
    assert set(log.read_text().splitlines()) == {"0|ssh -o BatchMode=yes"}
    log.unlink()
    monkeypatch.setenv("GIT_SSH_COMMAND", "ssh -i my-key -o BatchMode=yes")
    assert Vault(mine).get("app/one") == "first"
    assert set(log.read_text().splitlines()) == {"0|ssh -i my-key -o BatchMode=yes"}


def test_upstream_secret_is_read_from_git_objects_without_touching_the_clone(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With auto_pull, a secret pushed to the upstream is read from the fetched objects while
    the clone's HEAD, index, status and files stay exactly as they were."""
    origin = world.init("origin")
    world.set(origin, "app/one", b"first")
    bare = world.bare_remote(origin)
    mine = world.clone(bare, "mine")
    world.set(origin, "app/two", b"pushed later")
    world.push(origin)
    before = snapshot(world, mine)
    monkeypatch.setenv("AGENT_VAULT_HOME", str(world.reader_home()))

    assert Vault(mine, auto_pull=False).list_groups() == ["app"]
    with pytest.raises(SecretNotFoundError):
        Vault(mine, auto_pull=False).get("app/two")
    vault = Vault(mine)
    assert vault.get("app/two") == "pushed later"
    assert [s.path for s in vault.list_secrets()] == ["app/one", "app/two"]
    assert snapshot(world, mine) == before
    assert not (mine / ".agent-vault" / "secrets" / "app" / "two.enc").exists()


def test_upstream_read_once_is_not_a_rollback_offline_or_after_a_failed_fetch(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """Once a read has fetched the upstream (and pinned its higher signed seq), reads with
    auto_pull=False, or whose fetch fails, still use the fetched upstream commit (it descends
    from HEAD) instead of the older working tree, which would be refused as a rollback."""
    origin = world.init("origin")
    world.set(origin, "app/key", b"old value")
    bare = world.bare_remote(origin)
    mine = world.clone(bare, "mine")
    assert Vault(mine).get("app/key") == "old value"
    world.set(origin, "app/key", b"new value")
    world.push(origin)

    assert Vault(mine).get("app/key") == "new value"  # fetched; pins the higher seq
    with Vault(mine, auto_pull=False) as vault:
        assert vault.get("app/key") == "new value"
        assert [s.path for s in vault.list_secrets()] == ["app/key"]
    bare.rename(world.root / "moved-away.git")
    with caplog.at_level(logging.WARNING, logger="agent_vault"):
        assert Vault(mine).get("app/key") == "new value"
        assert Vault(mine).list_groups() == ["app"]
    assert "`git fetch origin` failed" in caplog.text
    assert "may be stale" in caplog.text
    assert (mine / ".agent-vault").is_dir() and world.git(mine, "status", "--porcelain") == ""


def test_no_fetch_without_auto_pull_or_without_an_upstream(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """auto_pull=False with an upstream never fetches; without an upstream nothing is fetched
    either; and one Vault reads all its objects through one `git cat-file` process."""
    origin = world.init("origin")
    world.set(origin, "app/one", b"value one")
    bare = world.bare_remote(origin)
    mine = world.clone(bare, "mine")
    lonely = world.init("lonely")
    world.set(lonely, "x/y", b"value y")
    log = logging_git(world, monkeypatch)

    with Vault(mine, auto_pull=False) as vault:
        assert vault.get("app/one") == "value one"
        assert len(vault.list_secrets()) == 1
        assert vault.list_agents() == []
    calls = log.read_text().splitlines()
    assert not [c for c in calls if " fetch " in f" {c} "]
    assert len([c for c in calls if "cat-file" in c]) == 1
    log.unlink()
    with Vault(lonely) as vault:
        assert vault.get_bytes("x/y") == b"value y"
        assert vault.list_groups() == ["x"]
    assert not [c for c in log.read_text().splitlines() if " fetch " in f" {c} "]


def test_failed_fetch_falls_back_to_the_local_state_with_a_warning(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """When the upstream cannot be fetched, reads use the working tree and say so."""
    origin = world.init("origin")
    world.set(origin, "app/one", b"value one")
    bare = world.bare_remote(origin)
    mine = world.clone(bare, "mine")
    bare.rename(world.root / "gone.git")
    with caplog.at_level(logging.WARNING, logger="agent_vault"):
        assert Vault(mine).get("app/one") == "value one"
    assert "may be stale" in caplog.text
    assert "does not appear to be a git repository" in caplog.text
    assert "and the repository exists" not in caplog.text


def test_git_error_lines_keep_the_reason_without_credentials() -> None:
    """Warnings and errors quote git's fatal:/error: line (else its last line), redacted."""
    def stderr(text: str) -> str:
        return _stderr(subprocess.CompletedProcess([], 128, b"", text.encode()))

    assert stderr(
        "fatal: 'https://bot:hunter2@example.invalid/r.git' does not appear to be a git repository\n"
        "fatal: Could not read from remote repository.\n\n"
        "Please make sure you have the correct access rights\nand the repository exists.\n"
    ) == "'https://***@example.invalid/r.git' does not appear to be a git repository"
    assert stderr("warning: x\nerror: cannot lock ref 'refs/remotes/origin/main'\n") == (
        "cannot lock ref 'refs/remotes/origin/main'"
    )
    assert stderr("\nsomething odd\n  \n") == "something odd"
    assert stderr("") == "exit status 128"


def test_remote_url_uses_a_ciphertext_only_cache_and_refreshes(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file:// URL is cloned bare into XDG_CACHE_HOME; the cache holds no plaintext, and
    auto_pull picks up a newly pushed secret while auto_pull=False keeps the cached state."""
    origin = world.init("origin")
    world.set(origin, "app/one", b"remote-plaintext-one")
    bare = world.bare_remote(origin)
    monkeypatch.setenv("AGENT_VAULT_HOME", str(world.reader_home()))
    url = f"file://{bare}"
    vault = Vault(url)
    assert vault.get("app/one") == "remote-plaintext-one"
    world.set(origin, "app/two", b"remote-plaintext-two")
    world.push(origin)
    assert Vault(url, auto_pull=False).list_groups() == ["app"]
    with pytest.raises(SecretNotFoundError):
        Vault(url, auto_pull=False).get("app/two")
    assert vault.get("app/two") == "remote-plaintext-two"
    cache = Path(os.environ["XDG_CACHE_HOME"])
    assert list((cache / "agent-vault" / "remotes").glob("*.git"))
    assert files_containing(cache, b"remote-plaintext") == []


def test_remote_url_without_git_says_so(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading a URL whose cached clone exists, with no git on PATH, says git is missing (not
    that the repository has no commits)."""
    origin = world.init("origin")
    world.set(origin, "app/one", b"value one")
    bare = world.bare_remote(origin)
    url = f"file://{bare}"
    assert Vault(url).get("app/one") == "value one"  # the cache clone now exists
    empty = world.root / "no-git-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    for auto_pull in (True, False):
        with pytest.raises(VaultNotFoundError) as raised:
            Vault(url, auto_pull=auto_pull).get("app/one")
        assert "git is not installed" in str(raised.value)
        assert "no commits" not in str(raised.value)


def test_remote_url_without_a_vault_or_unreachable(world: World) -> None:
    """A URL that cannot be cloned, or whose repository has no vault, is VaultNotFoundError,
    and credentials in the URL are not echoed."""
    with pytest.raises(VaultNotFoundError) as raised:
        Vault(f"file://user:hunter2@{world.root}/nothing-here.git")
    assert "hunter2" not in str(raised.value)
    plain = world.root / "plain"
    plain.mkdir()
    world.git(plain, "init", "--quiet")
    (plain / "README").write_text("no vault\n")
    world.git(plain, "add", "README")
    world.git(plain, "commit", "--quiet", "-m", "no vault")
    with pytest.raises(VaultNotFoundError, match="agent-vault init"):
        Vault(f"file://{plain}")


def test_refused_decryption_is_retried_once_after_a_refresh(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Access granted (and pushed) after the SDK's last refresh is picked up by the
    refresh-and-retry; with auto_pull=False the refusal stands."""
    world.av(world.init("origin"), "add-agent", "bot")
    origin = world.root / "origin"
    world.set(origin, "app/key", b"granted just now")
    bare = world.bare_remote(origin)
    monkeypatch.setenv("AGENT_VAULT_HOME", str(world.reader_home()))
    bot_key = agent_key_file(world.owner_home, origin, "bot")
    url = f"file://{bare}"
    fresh = Vault(url, bot_key)  # cloned now: its next read does not fetch again
    stale = Vault(url, bot_key, auto_pull=False)
    world.av(origin, "grant", "bot", "app")
    world.push(origin)
    with pytest.raises(NotAuthorizedError, match="grant"):
        stale.get("app/key")
    assert fresh.get("app/key") == "granted just now"


def test_sdk_calls_write_nothing_to_the_vault(world: World) -> None:
    """Every SDK call leaves the repository byte-for-byte unchanged (read-only), and no file
    anywhere under the test root gains the plaintext."""
    repo = world.init()
    world.av(repo, "add-agent", "bot")
    world.set(repo, "app/key", b"read-only-plaintext")
    world.av(repo, "grant", "bot", "app")
    before = snapshot(world, repo)
    with Vault(repo) as vault:
        assert vault.get("app/key") == "read-only-plaintext"
        vault.list_secrets()
        vault.list_secrets("app")
        vault.list_groups()
        vault.list_agents()
    assert snapshot(world, repo) == before
    assert files_containing(world.root, b"read-only-plaintext") == []


def test_expired_secret_warns_without_logging_the_value(world: World, caplog: pytest.LogCaptureFixture) -> None:
    """Reading an expired secret works and logs a warning that names it but never its value."""
    repo = world.init()
    world.set(repo, "app/old", b"expired-value-xyz", "--expires", "2021-01-01")
    with caplog.at_level(logging.DEBUG, logger="agent_vault"):
        assert Vault(repo).get("app/old") == "expired-value-xyz"
    assert "expired" in caplog.text
    assert "expired-value-xyz" not in caplog.text
    info = Vault(repo).list_secrets()[0]
    assert isinstance(info, SecretInfo) and info.expired and info.expires == "2021-01-01T00:00:00Z"


def test_key_argument_and_agent_discovery(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """`key` accepts identity-file text with comments (str, bytes, bytearray); `agent` uses
    AGENT_VAULT_HOME/agents; close() forgets the key."""
    repo = world.init()
    world.av(repo, "add-agent", "bot")
    world.set(repo, "app/key", b"for the bot")
    world.av(repo, "grant", "bot", "app")
    text = agent_key_file(world.owner_home, repo, "bot").read_text()
    assert text.startswith("#")
    for key in (text, text.encode(), bytearray(text.encode())):
        assert Vault(repo, key=key).get("app/key") == "for the bot"
    assert Vault(repo, agent="bot").get("app/key") == "for the bot"
    with Vault(repo, key=text) as vault:
        assert vault.get("app/key") == "for the bot"
    with pytest.raises(InvalidInputError, match="closed"):
        vault.get("app/key")
    monkeypatch.setenv("AGENT_VAULT_HOME", str(world.root / "elsewhere"))
    with pytest.raises(KeyNotFoundError, match="bot.key"):
        Vault(repo, agent="bot").get("app/key")


def test_list_secrets_to_dict_is_the_cli_list_json(world: World) -> None:
    """SecretInfo.to_dict() has the CLI's `list --json` values for every key it has, including
    name and extra_agents (agents given one secret by `set --agents`); the CLI's documents also
    carry `schema` and the broker's `policy`, which the SDK does not report (docs/json.md: fields
    are only ever added)."""
    repo = world.init()
    world.av(repo, "add-agent", "bot")
    world.av(repo, "add-agent", "ci")
    world.av(repo, "grant", "bot", "app")
    world.set(repo, "app/key", b"v1")
    world.set(repo, "db/password", b"v2", "--agents", "ci,bot")
    cli = json.loads(world.av(repo, "list", "--json", "--offline"))
    got = [s.to_dict() for s in Vault(repo, auto_pull=False).list_secrets()]
    assert [d["name"] for d in got] == [d["path"] for d in got]  # 0.1.0's name for it
    assert all({"schema", "policy"} | set(d) == set(c) for d, c in zip(got, cli)), (got, cli)
    assert got == [{k: c[k] for k in d} for d, c in zip(got, cli)]
    assert got[1]["extra_agents"] == ["bot", "ci"]
    assert Vault(repo).list_secrets()[0].extra_agents == ()


def test_invalid_arguments_are_refused_before_reading(world: World) -> None:
    """Conflicting key arguments, bad names and non-string paths are InvalidInputError."""
    repo = world.init()
    with pytest.raises(InvalidInputError):
        Vault(repo, "k.key", key="AGE-SECRET-KEY-1X")
    with pytest.raises(InvalidInputError):
        Vault(repo, agent="bot", key="AGE-SECRET-KEY-1X")
    with pytest.raises(InvalidInputError):
        Vault(repo, agent="../bot")
    with pytest.raises(InvalidInputError):
        Vault(repo).get(123)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        Vault(repo).list_secrets("../x")
    for bad in (None, 5, b"."):
        with pytest.raises(InvalidInputError, match="repo_path") as raised:
            Vault(bad)  # type: ignore[arg-type]
        assert raised.value.code == 2
        with pytest.raises(InvalidInputError, match="key_path"):
            Vault(repo, bad if bad is not None else 5.0)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        Vault(repo, agent=5)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        Vault(repo).list_secrets(5)  # type: ignore[arg-type]


def test_newer_format_version_is_refused(world: World) -> None:
    """A committed config.yaml of a newer format version is refused with advice to upgrade (in
    an unsigned vault: a signed one would refuse the edit as tampering first); the same edit
    only in the working tree plays no part."""
    repo = world.init()
    world.set(repo, "app/key", b"v")
    config = repo / ".agent-vault" / "config.yaml"
    config.write_text("version: 2\nencryption:\n  format: age\n")
    assert Vault(repo).get("app/key") == "v"
    world.unsign(repo)
    world.git(repo, "add", "-A")
    world.git(repo, "commit", "--quiet", "--no-verify", "-m", "newer config")
    with pytest.raises(FormatError, match="upgrade"):
        Vault(repo).get("app/key")
    with pytest.raises(FormatError, match="upgrade"):
        Vault(repo).list_secrets()


def test_hostile_manifest_paths_are_refused(world: World) -> None:
    """A manifest listing `../..` secret paths or agent names is a FormatError, so nothing
    outside .agent-vault/ is ever read through it (in an unsigned vault: a signed one would
    refuse the edited manifest before parsing it)."""
    repo = world.init()
    world.set(repo, "app/key", b"v")
    world.unsign(repo)
    manifest = repo / ".agent-vault" / "manifest.yaml"
    text = manifest.read_text()
    manifest.write_text(text.replace("  - app/key", "  - app/key\n  - ../../../outside"))
    world.git(repo, "add", "-A")
    world.git(repo, "commit", "--quiet", "--no-verify", "-m", "hostile paths")
    with pytest.raises(FormatError, match="invalid secret path"):
        Vault(repo).list_secrets()
    manifest.write_text(text.replace("agents: []", "agents:\n- name: ../../x\n  groups: []"))
    world.git(repo, "commit", "--quiet", "--no-verify", "-am", "hostile names")
    with pytest.raises(FormatError, match="invalid agent name"):
        Vault(repo).list_agents()


def test_vault_is_found_from_a_subfolder_and_reports_agents(world: World) -> None:
    """repo_path may be any folder inside the repository; list_agents reports escrow and keys."""
    repo = world.init()
    world.av(repo, "add-agent", "bot")
    sub = repo / "deep" / "er"
    sub.mkdir(parents=True)
    agents = Vault(sub).list_agents()
    assert len(agents) == 1 and isinstance(agents[0], AgentInfo)
    assert agents[0].name == "bot" and agents[0].escrow
    assert agents[0].public_key is not None and agents[0].public_key.startswith("age1")


def test_a_cached_clone_that_predates_the_vault_is_refreshed_once(world: World) -> None:
    """A URL first read before the vault was pushed (so its cached clone has no vault) is
    fetched again when a Vault is created with auto_pull, and then reads the pushed vault;
    with auto_pull=False the cached state stands."""
    plain = world.root / "plain"
    plain.mkdir()
    world.git(plain, "init", "--quiet", "-b", "main")
    (plain / "README").write_text("no vault yet\n")
    world.git(plain, "add", "README")
    world.git(plain, "commit", "--quiet", "-m", "no vault yet")
    bare = world.root / "later.git"
    world.run(["git", "clone", "--quiet", "--bare", str(plain), str(bare)])
    url = f"file://{bare}"
    with pytest.raises(VaultNotFoundError):
        Vault(url)
    world.run([str(world.cli), "init", str(plain), "--owner-name", "Test Owner"])
    world.set(plain, "app/key", b"pushed after the first look")
    world.git(plain, "push", "--quiet", str(bare), "main")
    with pytest.raises(VaultNotFoundError):
        Vault(url, auto_pull=False)
    assert Vault(url).get("app/key") == "pushed after the first look"


def test_agent_vault_0_1_names_keep_working_with_a_deprecation_warning(world: World) -> None:
    """Code written for agent-vault 0.1.0's SDK runs unchanged: `Vault(key_str=...)`,
    `VaultError`, `ManifestError`, `SecretMetadata`, `SecretInfo.name`, `list_agents()` entries
    read as dicts, `pull()` and `reload()` work and each warns (DeprecationWarning); datetimes
    are at `created_at`/`rotated_at`/`expires_at`, and to_dict() carries `name` for
    `jq '.[].name'` scripts."""
    import agent_vault
    from datetime import datetime, timezone

    repo = world.init()
    world.av(repo, "add-agent", "bot")
    world.av(repo, "grant", "bot", "app")
    world.set(repo, "app/key", b"old code", "--expires", "2099-01-31")
    text = agent_key_file(world.owner_home, repo, "bot").read_text()
    with pytest.warns(DeprecationWarning, match="key="):
        vault = Vault(repo, key_str=text)
    assert vault.get("app/key") == "old code"
    with pytest.raises(InvalidInputError), pytest.warns(DeprecationWarning):
        Vault(repo, key=text, key_str=text)
    with pytest.warns(DeprecationWarning, match="AgentVaultError"):
        old_error = agent_vault.VaultError
    assert old_error is agent_vault.AgentVaultError
    with pytest.raises(old_error):
        vault.get("app/missing")
    with pytest.warns(DeprecationWarning, match="SecretInfo"):
        assert agent_vault.SecretMetadata is SecretInfo
    with pytest.warns(DeprecationWarning, match="FormatError"):
        assert agent_vault.ManifestError is agent_vault.FormatError
    agent = vault.list_agents()[0]
    with pytest.warns(DeprecationWarning, match="AgentInfo.name"):
        assert agent["name"] == "bot"
    with pytest.warns(DeprecationWarning, match="AgentInfo.groups"):
        assert agent["groups"] == ["app"]
    with pytest.raises(KeyError):
        agent["public_key"]
    info = vault.list_secrets()[0]
    with pytest.warns(DeprecationWarning, match="path"):
        assert info.name == "app/key"
    assert info.expires_at == datetime(2099, 1, 31, tzinfo=timezone.utc)
    assert isinstance(info.created_at, datetime) and info.created_at.tzinfo is not None
    assert info.to_dict()["name"] == "app/key"
    with pytest.warns(DeprecationWarning, match="newest state"):
        vault.pull()
    with pytest.warns(DeprecationWarning, match="newest state"):
        vault.reload()
    with pytest.raises(AttributeError):
        agent_vault.NoSuchName  # noqa: B018


def test_the_upstream_is_resolved_by_git_with_includes_and_env_config(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The upstream comes from git itself: configured only in an `include`d file, or only
    through GIT_CONFIG_COUNT/KEY/VALUE, it is still fetched and read (a hand parser of
    .git/config saw neither)."""
    origin = world.init("origin")
    world.set(origin, "app/one", b"first")
    bare = world.bare_remote(origin)
    mine = world.clone(bare, "mine")
    branch = world.branch(mine)
    world.git(mine, "config", "--unset", f"branch.{branch}.remote")
    world.git(mine, "config", "--unset", f"branch.{branch}.merge")
    included = world.root / "upstream.cfg"
    included.write_text(f'[branch "{branch}"]\n\tremote = origin\n\tmerge = refs/heads/{branch}\n')
    world.git(mine, "config", "include.path", str(included))
    world.set(origin, "app/two", b"pushed later")
    world.push(origin)
    monkeypatch.setenv("AGENT_VAULT_HOME", str(world.reader_home()))
    assert Vault(mine).get("app/two") == "pushed later"
    world.git(mine, "config", "--unset", "include.path")
    world.set(origin, "app/three", b"pushed even later")
    world.push(origin)
    # No upstream configured any more: HEAD is read, which this machine saw superseded.
    with pytest.raises(IntegrityError, match="rollback"):
        Vault(mine).get("app/two")
    monkeypatch.setenv("AGENT_VAULT_HOME", str(world.reader_home("another-reader")))
    with pytest.raises(SecretNotFoundError):
        Vault(mine).get("app/two")
    for name, value in {"GIT_CONFIG_COUNT": "2", "GIT_CONFIG_KEY_0": f"branch.{branch}.remote",
                        "GIT_CONFIG_VALUE_0": "origin", "GIT_CONFIG_KEY_1": f"branch.{branch}.merge",
                        "GIT_CONFIG_VALUE_1": f"refs/heads/{branch}"}.items():
        monkeypatch.setenv(name, value)
    assert Vault(mine).get("app/three") == "pushed even later"
