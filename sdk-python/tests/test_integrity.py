"""Signature verification with the real CLI: pins, rollback, key changes, unsigned vaults, and
tampered states read from HEAD, an upstream branch and a remote URL. The attack cases shared
with the CLI and the Node SDK are in the conformance suite; these need moving parts (several
reads over time, pins.json, git remotes)."""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import Any, Dict

import pytest

from agent_vault import FormatError, IntegrityError, Vault

from conftest import World
from vaultkit import agent_key_file


def verify_key_of(repo: Path) -> str:
    text = (repo / ".agent-vault" / "integrity" / "statement").read_text()
    found = re.search(r"^verify-key (\S+)$", text, re.M)
    assert found
    return found.group(1)


def vault_id_of(repo: Path) -> str:
    text = (repo / ".agent-vault" / "integrity" / "statement").read_text()
    found = re.search(r"^vault ([0-9a-f]{32})$", text, re.M)
    assert found, "the CLI should write statement version 2"
    return found.group(1)


def seq_of(repo: Path) -> int:
    text = (repo / ".agent-vault" / "integrity" / "statement").read_text()
    found = re.search(r"^seq (\d+)$", text, re.M)
    assert found
    return int(found.group(1))


def pins(world: World) -> Dict[str, Any]:
    doc: Dict[str, Any] = json.loads((world.owner_home / "pins.json").read_text())
    return doc


def commit_all(world: World, repo: Path, message: str) -> None:
    world.git(repo, "add", "-A")
    world.git(repo, "commit", "--quiet", "--no-verify", "-m", message)


def test_first_read_pins_the_key_and_later_reads_raise_the_seq(world: World) -> None:
    """A read records the vault's identity, key and seq (version 2) and which vault is at the
    repository's real path, keeps unknown keys of pins.json (a version-1 file is migrated),
    and raises the seq after each newer signed state."""
    repo = world.init()
    world.set(repo, "app/key", b"one")
    home = world.owner_home
    (home / "pins.json").unlink()
    (home / "pins.json").write_text(json.dumps({"version": 1, "vaults": {}, "note": "kept"}))
    link = world.root / "link-to-repo"
    link.symlink_to(repo)
    assert Vault(link, auto_pull=False).get("app/key") == "one"
    vault_id = vault_id_of(repo)
    doc = pins(world)
    assert doc["version"] == 2 and doc["note"] == "kept"
    assert doc["vaults"][vault_id] == {"verify_key": verify_key_of(repo), "seq": seq_of(repo)}
    assert doc["locations"][os.path.realpath(repo)] == vault_id
    assert not list(home.glob(".pins-*")) and not (home / "pins.json.lock").exists()
    world.set(repo, "app/key", b"two")
    assert Vault(repo, auto_pull=False).list_secrets()[0].path == "app/key"
    assert pins(world)["vaults"][vault_id]["seq"] == seq_of(repo) == doc["vaults"][vault_id]["seq"] + 1


def test_rollback_is_refused_after_a_newer_state_was_read(world: World) -> None:
    """An older, validly signed state (restored from git history) is refused by a reader that
    has seen the newer one, for get and listings."""
    repo = world.init()
    world.set(repo, "app/key", b"old value")
    world.set(repo, "app/key", b"rotated value")
    assert Vault(repo, auto_pull=False).get("app/key") == "rotated value"
    world.git(repo, "rm", "-r", "--quiet", ".agent-vault")
    world.git(repo, "checkout", "HEAD~1", "--", ".agent-vault")
    commit_all(world, repo, "roll back")
    vault = Vault(repo, auto_pull=False)
    with pytest.raises(IntegrityError, match="rollback") as raised:
        vault.get("app/key")
    assert raised.value.code == 5 and "agent-vault verify" in str(raised.value)
    with pytest.raises(IntegrityError, match="rollback"):
        vault.list_secrets()
    # The refused state did not lower the pin.
    assert pins(world)["vaults"][vault_id_of(repo)]["seq"] == seq_of(repo) + 1


def test_a_new_signing_key_is_followed_through_the_chain(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """`sign --new-key` hands over from the old key to the new one (a key-change line signed by
    the old key): a reader pinned to the old key, and an agent whose key file names only the
    old key, read on without a warning, and the pin moves to the new key."""
    repo = world.init()
    world.av(repo, "add-agent", "bot")
    world.av(repo, "grant", "bot", "app")
    world.set(repo, "app/key", b"v")
    owner_home, reader_home = world.owner_home, world.root / "reader-home"
    bot_key = world.root / "bot.key"
    bot_key.write_text(agent_key_file(owner_home, repo, "bot").read_text())
    old_key = verify_key_of(repo)
    monkeypatch.setenv("AGENT_VAULT_HOME", str(reader_home))
    assert Vault(repo, bot_key, auto_pull=False).get("app/key") == "v"
    monkeypatch.setenv("AGENT_VAULT_HOME", str(owner_home))
    world.av(repo, "sign", "--new-key")
    world.set(repo, "app/key", b"after the change")
    new_key = verify_key_of(repo)
    assert new_key != old_key and "key-change" in (repo / ".agent-vault" / "integrity" / "statement").read_text()
    monkeypatch.setenv("AGENT_VAULT_HOME", str(reader_home))
    with caplog.at_level(logging.WARNING, logger="agent_vault"):
        assert Vault(repo, bot_key, auto_pull=False).get("app/key") == "after the change"
        assert [s.path for s in Vault(repo, auto_pull=False).list_secrets()] == ["app/key"]
    assert caplog.text == ""
    doc = json.loads((reader_home / "pins.json").read_text())
    assert doc["vaults"][vault_id_of(repo)] == {"verify_key": new_key, "seq": seq_of(repo)}


def test_unsigned_vault_warns_unless_a_verify_key_is_expected(
    world: World, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = world.init()
    world.set(repo, "app/key", b"v")
    key = verify_key_of(repo)
    world.unsign(repo)
    commit_all(world, repo, "unsign")
    with caplog.at_level(logging.WARNING, logger="agent_vault"):
        assert Vault(repo, auto_pull=False).get("app/key") == "v"
        assert [s.path for s in Vault(repo, auto_pull=False).list_secrets()] == ["app/key"]
    warnings = [r.getMessage() for r in caplog.records if "unsigned" in r.getMessage()]
    assert len(warnings) == 2 and "agent-vault sign" in warnings[0]
    assert os.path.realpath(repo) not in pins(world).get("locations", {}), "unsigned reads pin nothing"
    with pytest.raises(IntegrityError, match="no signature"):
        Vault(repo, auto_pull=False, verify_key=key).get("app/key")
    monkeypatch.setenv("AGENT_VAULT_VERIFY_KEY", key)
    with pytest.raises(IntegrityError, match="no signature"):
        Vault(repo, auto_pull=False).list_agents()


def test_removed_signature_is_refused_once_pinned(world: World) -> None:
    repo = world.init()
    world.set(repo, "app/key", b"v")
    assert Vault(repo, auto_pull=False).get("app/key") == "v"
    world.git(repo, "rm", "-r", "--quiet", ".agent-vault/integrity")
    commit_all(world, repo, "remove the signature")
    with pytest.raises(IntegrityError, match="no signature"):
        Vault(repo, auto_pull=False).get("app/key")


def test_working_tree_damage_plays_no_part_for_the_sdk_and_the_cli(world: World) -> None:
    """A damaged working tree (e.g. a writer mid-update, or an edit never committed) is never
    read: the CLI and the SDK both read HEAD's verified tree and agree."""
    repo = world.init()
    world.set(repo, "app/key", b"committed")
    enc = repo / ".agent-vault" / "secrets" / "app" / "key.enc"
    enc.write_bytes(enc.read_bytes()[:-3] + b"xyz")
    assert Vault(repo, auto_pull=False).get("app/key") == "committed"
    assert world.av(repo, "get", "app/key", "--offline") == "committed"


def test_tampered_upstream_and_remote_url_are_refused(world: World) -> None:
    """Tampering pushed to the upstream is caught when reading git objects (upstream tree of a
    clone, and a remote URL whose pin is keyed by the URL)."""
    repo = world.init()
    world.set(repo, "app/key", b"v")
    bare = world.bare_remote(repo)
    world.push(repo)
    clone = world.clone(bare, "clone")
    assert Vault(clone).get("app/key") == "v"
    url = "file://" + str(bare)
    assert Vault(url).get("app/key") == "v"
    assert pins(world)["locations"][url] == vault_id_of(repo)
    attacker = world.clone(bare, "attacker")
    (attacker / ".agent-vault" / "agents" / "mallory").mkdir(parents=True)
    (attacker / ".agent-vault" / "agents" / "mallory" / "public.key").write_text("age1mallory\n")
    commit_all(world, attacker, "plant an agent key")
    world.git(attacker, "push", "--quiet", "origin", world.branch(attacker))
    with pytest.raises(IntegrityError, match="mallory"):
        Vault(clone).get("app/key")
    with pytest.raises(IntegrityError, match="mallory"):
        Vault(url).list_secrets()
    with pytest.raises(IntegrityError, match="mallory"):
        Vault(url).get("app/key")


def test_malformed_pins_file_is_a_format_error(world: World) -> None:
    repo = world.init()
    world.set(repo, "app/key", b"v")
    (world.owner_home / "pins.json").write_text("{not json")
    with pytest.raises(FormatError, match="pins.json"):
        Vault(repo, auto_pull=False).get("app/key")


def test_a_changed_statement_is_never_hidden_by_the_cache(world: World) -> None:
    """The same Vault object sees a forged statement on its next call."""
    repo = world.init()
    world.set(repo, "app/key", b"v")
    vault = Vault(repo, auto_pull=False)
    assert vault.get("app/key") == "v"
    statement = repo / ".agent-vault" / "integrity" / "statement"
    statement.write_text(statement.read_text().replace("seq ", "seq 9", 1))
    commit_all(world, repo, "forge")
    with pytest.raises(IntegrityError, match="forged or edited|canonical"):
        vault.get("app/key")


def test_the_sdk_and_the_cli_write_the_same_pins_file(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading the same state on two fresh key homes, the CLI and the SDK write pins.json
    byte for byte alike (mode 0600): one file, one format, for all implementations."""
    repo = world.init()
    world.set(repo, "app/key", b"v")
    cli_home, sdk_home = world.reader_home("cli-home"), world.reader_home("sdk-home")
    world.run([str(world.cli), "--vault", str(repo), "get", "app/key", "--offline"],
              env={"AGENT_VAULT_HOME": str(cli_home)})
    monkeypatch.setenv("AGENT_VAULT_HOME", str(sdk_home))
    assert Vault(repo, auto_pull=False).get("app/key") == "v"
    assert (sdk_home / "pins.json").read_bytes() == (cli_home / "pins.json").read_bytes()
    assert (sdk_home / "pins.json").stat().st_mode & 0o777 == 0o600
