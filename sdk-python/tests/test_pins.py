"""``pins.json`` (docs/format.md, "Pins"): version 2 with its lock protocol, version 1
migration, refusal of what cannot be trusted as pins, and a pin that cannot be written being
only a warning. The same file and protocol as the CLI's."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import List

import pytest

from agent_vault import FormatError, Vault
from agent_vault._pins import Pin, Pins, PinsDoc

from vaultkit import Kit


def record(pins: Pins, vault: str, pin: Pin, location: str = "/repo") -> None:
    def change(doc: PinsDoc) -> bool:
        doc.vaults[vault] = pin
        doc.locations[location] = vault
        return True

    pins.update(change)


def test_written_pins_are_version_2_private_and_keep_unknown_keys(tmp_path: Path) -> None:
    """A write produces {"version": 2, vaults, locations, legacy}, mode 0600, keeps unknown
    top-level keys, and leaves no temporary or lock file behind."""
    home = tmp_path / "keyhome"
    home.mkdir()
    (home / "pins.json").write_text(json.dumps({"version": 2, "vaults": {}, "note": "kept"}))
    pins = Pins(home)
    record(pins, "ab" * 16, Pin("ed25519:k", 2**64 - 1))
    doc = json.loads((home / "pins.json").read_text())
    assert doc["version"] == 2 and doc["note"] == "kept"
    assert doc["vaults"] == {"ab" * 16: {"verify_key": "ed25519:k", "seq": 2**64 - 1}}
    assert doc["locations"] == {"/repo": "ab" * 16} and "legacy" not in doc
    assert (home / "pins.json").stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in home.iterdir()) == ["pins.json"]


def test_version_1_pins_are_read_as_legacy(tmp_path: Path) -> None:
    """A pins.json of version 1 ({"vaults": {location: pin}}) is read as legacy pins per
    location, and written back as version 2 with them under `legacy`."""
    home = tmp_path / "keyhome"
    home.mkdir()
    (home / "pins.json").write_text(json.dumps(
        {"version": 1, "vaults": {"/repo": {"verify_key": "ed25519:old", "seq": 4}}}))
    pins = Pins(home)
    doc = pins.read()
    assert doc.legacy == {"/repo": Pin("ed25519:old", 4)} and doc.vaults == {}
    record(pins, "cd" * 16, Pin("ed25519:new", 5), location="/other")
    written = json.loads((home / "pins.json").read_text())
    assert written["version"] == 2 and written["legacy"] == {"/repo": {"verify_key": "ed25519:old", "seq": 4}}


@pytest.mark.parametrize("content", [
    b"{not json", b"[]", b'{"version": "2"}', b'{"version": 2, "vaults": {"x": {"seq": 1}}}',
    b'{"version": 2, "vaults": {"x": {"verify_key": "k", "seq": -1}}}',
    b'{"version": 2, "locations": {"/repo": 5}}', b"\xff\xfe",
])
def test_a_corrupt_pins_file_is_an_error_never_no_pins(tmp_path: Path, content: bytes) -> None:
    """A pins.json that does not parse as pins is FormatError (code 1) — never read as "no
    pins", which would silently turn trust on first use back on — and is left untouched."""
    home = tmp_path / "keyhome"
    home.mkdir()
    (home / "pins.json").write_bytes(content)
    with pytest.raises(FormatError, match="pins.json") as raised:
        Pins(home).read()
    assert raised.value.code == 1
    with pytest.raises(FormatError):
        record(Pins(home), "ab" * 16, Pin("ed25519:k", 1))
    assert (home / "pins.json").read_bytes() == content


def test_a_newer_pins_version_is_refused_and_not_overwritten(tmp_path: Path) -> None:
    """"version": 3 was written by a newer agent-vault: FormatError saying to upgrade; the
    file is never rewritten in the older format."""
    home = tmp_path / "keyhome"
    home.mkdir()
    content = b'{"version": 3, "vaults": {}, "future": true}\n'
    (home / "pins.json").write_bytes(content)
    with pytest.raises(FormatError, match="upgrade"):
        Pins(home).read()
    with pytest.raises(FormatError):
        record(Pins(home), "ab" * 16, Pin("ed25519:k", 1))
    assert (home / "pins.json").read_bytes() == content


def test_unreadable_or_huge_pins_are_errors(tmp_path: Path) -> None:
    """A pins.json that cannot be read (here: a folder) or is over 16 MiB is an error."""
    home = tmp_path / "keyhome"
    (home / "pins.json").mkdir(parents=True)
    with pytest.raises(FormatError, match="pins.json"):
        Pins(home).read()
    other = tmp_path / "other"
    other.mkdir()
    (other / "pins.json").write_bytes(b" " * (16 * 1024 * 1024 + 1))
    with pytest.raises(FormatError, match="16 MiB"):
        Pins(other).read()


def test_a_held_lock_is_waited_for_then_taken(tmp_path: Path) -> None:
    """While another process holds pins.json.lock, a writer waits (retrying), and writes as
    soon as the lock is released — re-reading pins.json under the lock, so the other
    writer's pin is kept."""
    home = tmp_path / "keyhome"
    home.mkdir()
    lock = home / "pins.json.lock"
    lock.write_text("")
    pins = Pins(home)

    def other_writer() -> None:
        time.sleep(0.3)
        (home / "pins.json").write_text(json.dumps(
            {"version": 2, "vaults": {"ee" * 16: {"verify_key": "ed25519:o", "seq": 9}}}))
        lock.unlink()

    thread = threading.Thread(target=other_writer)
    thread.start()
    started = time.monotonic()
    record(pins, "ab" * 16, Pin("ed25519:k", 1))
    thread.join()
    assert 0.25 < time.monotonic() - started < 2.0
    doc = json.loads((home / "pins.json").read_text())
    assert set(doc["vaults"]) == {"ee" * 16, "ab" * 16}
    assert not lock.exists()


def test_a_lock_held_too_long_is_a_warning_and_nothing_is_written(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A lock held (fresh) for more than 2 s: the pin is not written, and a warning naming
    pins.json says so; the holder's lock is left in place."""
    home = tmp_path / "keyhome"
    home.mkdir()
    (home / "pins.json.lock").write_text("")
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="agent_vault"):
        record(Pins(home), "ab" * 16, Pin("ed25519:k", 1))
    assert 1.9 < time.monotonic() - started < 10
    assert "pins.json" in caplog.text and "held" in caplog.text
    assert not (home / "pins.json").exists() and (home / "pins.json.lock").exists()


def test_a_stale_lock_is_removed(tmp_path: Path) -> None:
    """A lock older than 10 s (a crashed holder) is removed and the pin written at once."""
    home = tmp_path / "keyhome"
    home.mkdir()
    lock = home / "pins.json.lock"
    lock.write_text("")
    old = time.time() - 30
    os.utime(lock, (old, old))
    started = time.monotonic()
    record(Pins(home), "ab" * 16, Pin("ed25519:k", 1))
    assert time.monotonic() - started < 1.9  # not the 2 s wait for a live holder
    assert json.loads((home / "pins.json").read_text())["vaults"]["ab" * 16]["seq"] == 1
    assert not lock.exists()


def test_the_home_is_created_private_only_when_its_parent_exists(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """$AGENT_VAULT_HOME is created (0700) for the first pin; under a missing parent it is
    not created, and the pin is a warning."""
    home = tmp_path / "new-home"
    record(Pins(home), "ab" * 16, Pin("ed25519:k", 1))
    assert home.stat().st_mode & 0o777 == 0o700
    nowhere = tmp_path / "missing" / "home"
    with caplog.at_level(logging.WARNING, logger="agent_vault"):
        record(Pins(nowhere), "ab" * 16, Pin("ed25519:k", 1))
    assert "pins.json" in caplog.text
    assert not nowhere.parent.exists()


def test_a_read_only_home_reads_on_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A key home where pins.json cannot be written (read-only folder; as root, which may
    write anywhere, a pins.json.lock that is a folder and can never be taken): the secret is
    still returned, with a warning naming pins.json, and nothing is written."""
    kit = Kit(tmp_path / "repo")
    kit.set("app/key", b"value")
    kit.commit()
    home = tmp_path / "ro-home"
    (home / "pins.json.lock").mkdir(parents=True)
    (home / "pins.json.lock" / "held").write_text("")
    home.chmod(0o500)
    monkeypatch.setenv("AGENT_VAULT_HOME", str(home))
    try:
        with caplog.at_level(logging.WARNING, logger="agent_vault"):
            assert Vault(kit.repo, key=str(kit.owner), auto_pull=False).get("app/key") == "value"
        assert "pins.json" in caplog.text
        assert not (home / "pins.json").exists()
    finally:
        home.chmod(0o700)


def test_pins_are_written_only_when_something_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A second read of the same state changes nothing, so pins.json is not rewritten and no
    lock is taken (the file keeps its inode and modification time); a newer state is written."""
    kit = Kit(tmp_path / "repo")
    kit.set("app/key", b"value")
    kit.commit()
    home = tmp_path / "keyhome"
    monkeypatch.setenv("AGENT_VAULT_HOME", str(home))
    vault = Vault(kit.repo, key=str(kit.owner), auto_pull=False)
    assert vault.get("app/key") == "value"
    before = os.stat(home / "pins.json")
    old = time.time() - 100
    os.utime(home / "pins.json", (old, old))
    taken: List[int] = []
    original = Pins._lock

    def counting_lock(self: Pins) -> None:
        taken.append(1)
        original(self)

    monkeypatch.setattr(Pins, "_lock", counting_lock)
    assert vault.get("app/key") == "value"
    assert [s.path for s in vault.list_secrets()] == ["app/key"]
    after = os.stat(home / "pins.json")
    assert after.st_ino == before.st_ino and after.st_mtime == old and taken == []
    kit.commit()
    assert vault.get("app/key") == "value"
    assert taken == [1] and json.loads((home / "pins.json").read_text())["vaults"][kit.vault]["seq"] == 2
