"""Key discovery (docs/format.md, "Key discovery"), what git children see, and the age header
limits checked before decryption: keys in any letter case, AGENT_VAULT_KEY set but empty or
unusable (never a fallback, never echoed), the 1 MiB cap on identity files, git processes
without AGENT_VAULT_*, and hostile age headers refused fast."""

from __future__ import annotations

import base64
import os
import re
import shutil
import stat
import time
from pathlib import Path

import pytest
from pyrage import x25519

from agent_vault import FormatError, KeyNotFoundError, NotAuthorizedError, Vault
from agent_vault._age import MAX_STANZAS, header_problem

from vaultkit import Kit, commit_vault_tree, spec_of, write_spec

KEY_RE = re.compile(r"age-secret-key-1[0-9a-z]{20}", re.I)


@pytest.fixture
def kit(tmp_path: Path) -> Kit:
    kit = Kit(tmp_path / "repo")
    kit.add_agent("bot", "app")
    kit.set("app/key", b"value")
    kit.commit()
    home = Path(os.environ["AGENT_VAULT_HOME"])
    home.mkdir(exist_ok=True)
    (home / "owner.key").write_text(str(kit.owner) + "\n")  # a fallback that must never be taken
    return kit


def test_an_empty_agent_vault_key_is_key_not_found_not_the_owner_key(kit: Kit, monkeypatch: pytest.MonkeyPatch) -> None:
    """AGENT_VAULT_KEY set to "" (or blanks) is "key not found" (code 3) although owner.key
    exists: a named key never falls back."""
    for value in ("", "   "):
        monkeypatch.setenv("AGENT_VAULT_KEY", value)
        with pytest.raises(KeyNotFoundError) as raised:
            Vault(kit.repo, auto_pull=False).get("app/key")
        assert raised.value.code == 3 and "AGENT_VAULT_KEY" in str(raised.value)


def test_a_non_utf8_agent_vault_key_is_key_not_found_without_echo(kit: Kit, monkeypatch: pytest.MonkeyPatch) -> None:
    """AGENT_VAULT_KEY holding bytes that are not UTF-8 (surrogate escapes in os.environ) is
    KeyNotFoundError, not a fallback to owner.key, and its value is not in the message."""
    monkeypatch.setitem(os.environb, b"AGENT_VAULT_KEY", b"AGE-SECRET-KEY-1\xff\xfeGARBLED")
    with pytest.raises(KeyNotFoundError) as raised:
        Vault(kit.repo, auto_pull=False).get("app/key")
    assert "GARBLED" not in str(raised.value) and "\udcff" not in str(raised.value)


def test_a_lowercased_key_works_and_is_never_echoed(kit: Kit, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bech32 is case-insensitive: a lowercased key works as AGENT_VAULT_KEY, as `key`, and in
    a key file; a mangled lowercased key is a format error that never quotes it (and is never
    taken for a file path)."""
    lower = str(kit.agents["bot"].identity).lower()
    monkeypatch.setenv("AGENT_VAULT_KEY", lower)
    assert Vault(kit.repo, auto_pull=False).get("app/key") == "value"
    monkeypatch.delenv("AGENT_VAULT_KEY")
    assert Vault(kit.repo, key=lower, auto_pull=False).get("app/key") == "value"
    mangled = lower[:-6] + "qqqqqq"
    monkeypatch.setenv("AGENT_VAULT_KEY", mangled)
    with pytest.raises(FormatError) as raised:
        Vault(kit.repo, auto_pull=False).get("app/key")
    assert not KEY_RE.search(str(raised.value)) and "does not exist" not in str(raised.value)


def test_a_missing_path_in_agent_vault_key_is_not_echoed(kit: Kit, monkeypatch: pytest.MonkeyPatch) -> None:
    """AGENT_VAULT_KEY that is neither key text nor an existing file: KeyNotFoundError without
    the value (it may be mangled key material), and no fallback to the owner key."""
    monkeypatch.setenv("AGENT_VAULT_KEY", "/nowhere/Zq8mangledkeymaterial")
    with pytest.raises(KeyNotFoundError) as raised:
        Vault(kit.repo, auto_pull=False).get("app/key")
    assert "Zq8mangled" not in str(raised.value)


def test_a_key_file_path_in_agent_vault_key_still_works(kit: Kit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The path form: the file's identities are used (here the agent's, not the owner's)."""
    key_file = tmp_path / "bot.key"
    key_file.write_text(kit.key_file("bot"))
    monkeypatch.setenv("AGENT_VAULT_KEY", str(key_file))
    assert Vault(kit.repo, auto_pull=False).get("app/key") == "value"
    kit.set("db/password", b"owner only")
    kit.commit()
    with pytest.raises(NotAuthorizedError):
        Vault(kit.repo, auto_pull=False).get("db/password")


def test_identity_files_are_read_with_a_1_mib_cap(kit: Kit, tmp_path: Path) -> None:
    """A key path to /dev/zero, or a file over 1 MiB, is a format error found at once, not an
    endless read."""
    started = time.monotonic()
    with pytest.raises(FormatError, match="1 MiB"):
        Vault(kit.repo, "/dev/zero", auto_pull=False).get("app/key")
    big = tmp_path / "big.key"
    big.write_bytes(b"# " + b"x" * (1024 * 1024) + b"\n")
    with pytest.raises(FormatError, match="1 MiB"):
        Vault(kit.repo, big, auto_pull=False).get("app/key")
    assert time.monotonic() - started < 5


def test_git_children_never_see_agent_vault_variables(kit: Kit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every git process the SDK starts (rev-parse, cat-file, fetch…) gets the caller's
    environment without any AGENT_VAULT_* variable: the key never reaches git, its hooks or
    credential helpers."""
    real = shutil.which("git")
    assert real
    bindir = tmp_path / "env-bin"
    bindir.mkdir()
    log = tmp_path / "git-env"
    script = bindir / "git"
    script.write_text(f"#!/bin/sh\nenv | grep -c '^AGENT_VAULT_' >> '{log}'\nexec '{real}' \"$@\"\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("AGENT_VAULT_KEY", str(kit.agents["bot"].identity))
    monkeypatch.setenv("AGENT_VAULT_VERIFY_KEY", kit.key)
    with Vault(kit.repo) as vault:
        assert vault.get("app/key") == "value"
        vault.list_secrets()
    counts = log.read_text().split()
    assert counts and set(counts) == {"0"}


def _stanzas(count: int) -> bytes:
    stanza = b"-> X25519 " + base64.b64encode(os.urandom(32)).rstrip(b"=") + b"\n" + base64.b64encode(os.urandom(32)).rstrip(b"=") + b"\n"
    return b"age-encryption.org/v1\n" + stanza * count + b"--- " + base64.b64encode(os.urandom(32)).rstrip(b"=") + b"\n" + os.urandom(64)


def test_age_header_limits() -> None:
    """4,096 stanzas pass the limit check (decryption then judges them), 4,097 do not; a
    header over 1 MiB is refused; armor is removed before counting; a file that is not age
    is left to decryption to report."""
    assert header_problem(_stanzas(MAX_STANZAS)) is None
    assert "4,096" in (header_problem(_stanzas(MAX_STANZAS + 1)) or "")
    huge = b"age-encryption.org/v1\n-> X25519 " + b"A" * (1024 * 1024) + b"\n--- x\n"
    assert "1 MiB" in (header_problem(huge) or "")
    body = base64.b64encode(_stanzas(8000))
    armored = (b"-----BEGIN AGE ENCRYPTED FILE-----\n"
               + b"\n".join(body[i:i + 64] for i in range(0, len(body), 64))
               + b"\n-----END AGE ENCRYPTED FILE-----\n")
    assert header_problem(armored) is not None
    assert header_problem(b"not age at all") is None


def test_an_8000_stanza_ciphertext_is_refused_fast(tmp_path: Path) -> None:
    """An unsigned vault whose secret has 8,000 bogus stanzas: FormatError (code 1) in well
    under a second, before pyrage (which takes minutes on it) is called."""
    kit = Kit(tmp_path / "stanzas", signed=False)
    kit.set("app/key", b"v")
    kit.commit()
    files = kit.tree_files()
    files["secrets/app/key.enc"] = _stanzas(8000)
    commit_vault_tree(kit.repo, write_spec(kit.repo, spec_of(files)))
    started = time.monotonic()
    with pytest.raises(FormatError, match="stanzas") as raised:
        Vault(kit.repo, key=str(kit.owner), auto_pull=False).get("app/key")
    assert raised.value.code == 1
    assert time.monotonic() - started < 10  # pyrage alone takes minutes on such a header


def test_a_lowercase_owner_key_still_endorses(kit: Kit) -> None:
    """The endorsement key is derived from the identity in upper case, so a lowercased owner
    key verifies the owner line too (no first-use warning, checked in test_trust)."""
    identity = x25519.Identity.from_str(str(kit.owner).lower())
    assert str(identity.to_public()) == kit.owner_recipient
