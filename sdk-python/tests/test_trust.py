"""The reader procedure (docs/format.md, "What a reader checks") on vaults written by
tests/vaultkit.py: anchors, the key-change chain, endorsements, pins per vault identity,
another vault at a location, downgrades, rollbacks, trust on first use (never silent), unsigned
vaults, and the contents rules."""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any, Dict

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent_vault import IntegrityError, SecretNotFoundError, Vault

from vaultkit import Kit, git, key_change, verify_key


@pytest.fixture
def kit(tmp_path: Path) -> Kit:
    kit = Kit(tmp_path / "repo")
    kit.add_agent("bot", "app")
    kit.set("app/key", b"genuine value")
    kit.commit()
    return kit


def pins() -> Dict[str, Any]:
    doc: Dict[str, Any] = json.loads((Path(os.environ["AGENT_VAULT_HOME"]) / "pins.json").read_text())
    return doc


def bot(kit: Kit, *verify_keys: str) -> Vault:
    """The agent, reading with its key file (naming ``verify_keys``; none: no comment line)."""
    text = kit.key_file("bot", verify_keys) if verify_keys else str(kit.agents["bot"].identity)
    return Vault(kit.repo, key=text, auto_pull=False)


def warnings(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)


def resign_as_attacker(kit: Kit, value: bytes = b"attacker value", seq: int = 0) -> Ed25519PrivateKey:
    """What a repository writer can do: a new signing key, the same vault id, a substituted
    value encrypted to the public keys, the whole vault re-signed (no owner line: the attacker
    cannot make one)."""
    attacker = Ed25519PrivateKey.generate()
    kit.signer = attacker
    kit.key_changes = []
    kit.endorse = False
    kit.set("app/key", value)
    if seq:
        kit.seq = seq - 1
    kit.commit("re-signed by someone else")
    return attacker


def test_an_anchored_agent_reads_without_warning_and_pins(kit: Kit, caplog: pytest.LogCaptureFixture) -> None:
    """The agent key file's verify-key comment anchors the read: no warning, and the vault's
    identity, key and seq are pinned (vaults + locations)."""
    with caplog.at_level(logging.WARNING, logger="agent_vault"):
        assert bot(kit, kit.key).get("app/key") == "genuine value"
    assert warnings(caplog) == ""
    doc = pins()
    assert doc["vaults"][kit.vault] == {"verify_key": kit.key, "seq": 1}
    assert doc["locations"][os.path.realpath(kit.repo)] == kit.vault


def test_trust_on_first_use_is_never_silent(kit: Kit, caplog: pytest.LogCaptureFixture) -> None:
    """With no anchor, no pin and no endorsement, the key is accepted with a warning naming it
    and how to pin it; the next read (now pinned) is silent."""
    with caplog.at_level(logging.WARNING, logger="agent_vault"):
        assert bot(kit).get("app/key") == "genuine value"
    text = warnings(caplog)
    assert "first use" in text and kit.key in text and f"AGENT_VAULT_VERIFY_KEY={kit.key}" in text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="agent_vault"):
        assert bot(kit).get("app/key") == "genuine value"
    assert warnings(caplog) == ""


def test_the_owner_on_a_fresh_machine_is_not_trust_on_first_use(kit: Kit, caplog: pytest.LogCaptureFixture) -> None:
    """The owner's identity verifies the statement's `owner` endorsement: no anchor, no pin,
    and still no first-use warning. Without the owner line it would be first use."""
    with caplog.at_level(logging.WARNING, logger="agent_vault"):
        assert Vault(kit.repo, key=str(kit.owner).lower(), auto_pull=False).get("app/key") == "genuine value"
        assert [s.path for s in Vault(kit.repo, key=str(kit.owner), auto_pull=False).list_secrets()] == ["app/key"]
    assert warnings(caplog) == ""
    kit.endorse = False
    kit.commit()
    (Path(os.environ["AGENT_VAULT_HOME"]) / "pins.json").unlink()
    with caplog.at_level(logging.WARNING, logger="agent_vault"):
        Vault(kit.repo, key=str(kit.owner), auto_pull=False).get("app/key")
    assert "first use" in warnings(caplog)


def test_a_key_rotation_is_followed_through_the_chain(kit: Kit, caplog: pytest.LogCaptureFixture) -> None:
    """`sign --new-key` then a rotation: an agent whose key file names only the OLD key reads
    the new state without a warning (the old key signed the hand-over); its pin moves to the
    new key."""
    old = kit.key
    assert bot(kit, old).get("app/key") == "genuine value"
    kit.new_key()
    kit.set("app/key", b"rotated value")
    kit.commit()
    kit.commit()
    with caplog.at_level(logging.WARNING, logger="agent_vault"):
        assert bot(kit, old).get("app/key") == "rotated value"
        assert bot(kit).get("app/key") == "rotated value"  # pinned: the pin follows the chain too
    assert warnings(caplog) == ""
    assert pins()["vaults"][kit.vault] == {"verify_key": kit.key, "seq": 3}


def test_a_pinned_reader_follows_the_chain_without_any_anchor(kit: Kit) -> None:
    """A reader whose only trust is a pin (no anchor) accepts a new key that the pinned key
    handed over to."""
    assert bot(kit).get("app/key") == "genuine value"
    kit.new_key()
    kit.commit()
    assert bot(kit).get("app/key") == "genuine value"
    assert pins()["vaults"][kit.vault]["verify_key"] == kit.key


def test_a_vault_re_signed_by_another_key_is_refused(kit: Kit, caplog: pytest.LogCaptureFixture) -> None:
    """A repository writer re-signs the whole vault with their own key (same vault id, seq
    u64::MAX): the anchored agent refuses (wrong signer); a reader pinned to the genuine key
    refuses and keeps its pin; only a fresh reader with no anchor accepts — with the
    first-use warning naming the attacker's key."""
    genuine = kit.key
    assert bot(kit).get("app/key") == "genuine value"  # pins the genuine key
    attacker = resign_as_attacker(kit, seq=2**64 - 1)
    with pytest.raises(IntegrityError, match="signed by") as raised:
        bot(kit, genuine).get("app/key")
    assert raised.value.code == 5
    with pytest.raises(IntegrityError, match="replaced the signing key"):
        bot(kit).get("app/key")
    assert pins()["vaults"][kit.vault] == {"verify_key": genuine, "seq": 1}
    # A listing needs no key, but uses the anchors of the key the Vault would decrypt with.
    with pytest.raises(IntegrityError, match="signed by"):
        Vault(kit.repo, key=kit.key_file("bot", [genuine]), auto_pull=False).list_secrets()
    fresh = Path(os.environ["AGENT_VAULT_HOME"]).parent / "fresh-home"
    os.environ["AGENT_VAULT_HOME"] = str(fresh)
    with caplog.at_level(logging.WARNING, logger="agent_vault"):
        assert bot(kit).get("app/key") == "attacker value"
    assert "first use" in warnings(caplog) and verify_key(attacker) in warnings(caplog)


def test_a_forged_key_change_is_not_followed(kit: Kit) -> None:
    """An attacker cannot sign a hand-over from the genuine key: a key-change line naming the
    genuine key with a signature made by another key does not anchor the attacker's key."""
    genuine = kit.key
    attacker = Ed25519PrivateKey.generate()
    forged = key_change(attacker, verify_key(attacker), kit.vault, 2)
    forged.previous = genuine
    kit.key_changes = [forged]
    kit.signer = attacker
    kit.endorse = False
    kit.commit()
    with pytest.raises(IntegrityError, match="signed by"):
        bot(kit, genuine).get("app/key")


def test_rollback_across_a_key_change_is_refused_by_a_reader_that_saw_the_newer_state(kit: Kit) -> None:
    """The key file lists both verify keys; the pin holds the newer key and seq. The tree from
    before the key change (validly signed by the old key) is a rollback."""
    old = kit.key
    before = git(kit.repo, "rev-parse", "HEAD^{tree}").strip()
    kit.new_key()
    kit.set("app/key", b"after the change")
    kit.commit()
    assert bot(kit, old, kit.key).get("app/key") == "after the change"
    commit = git(kit.repo, "-c", "user.name=A", "-c", "user.email=a@x", "commit-tree", before, "-p", "HEAD",
                 "-m", "restore").strip()
    git(kit.repo, "update-ref", "HEAD", commit)
    with pytest.raises(IntegrityError, match="rollback"):
        bot(kit, old, kit.key).get("app/key")


def test_another_vault_at_a_pinned_location_is_refused(kit: Kit, tmp_path: Path) -> None:
    """One agent key serves prod and staging (its file names both verify keys). A pusher copies
    staging's .agent-vault over prod's: the prod reader, pinned at prod's location, refuses
    ("another vault") although staging's key is one it trusts."""
    staging = Kit(tmp_path / "staging")
    staging.agents["bot"] = kit.agents["bot"]
    kit.agents["bot"].groups = ["app"]
    staging.set("app/key", b"staging value")
    staging.commit()
    assert bot(kit, kit.key, staging.key).get("app/key") == "genuine value"
    shutil.rmtree(kit.repo / ".agent-vault")
    shutil.copytree(staging.repo / ".agent-vault", kit.repo / ".agent-vault")
    git(kit.repo, "add", "-A", "-f")
    git(kit.repo, "-c", "user.name=A", "-c", "user.email=a@x", "commit", "-q", "-m", "swap")
    with pytest.raises(IntegrityError, match="another vault"):
        bot(kit, kit.key, staging.key).get("app/key")


def test_a_v1_statement_is_a_legacy_pin_and_never_a_downgrade(kit: Kit, tmp_path: Path) -> None:
    """A version-1 vault is read and pinned under `legacy` for its location; when the owner's
    next command writes version 2 (same key, seq + 1) the pin moves to the vault identity and
    the legacy pin goes; a version-1 statement at that location afterwards is refused."""
    old = Kit(tmp_path / "old", version=1)
    old.add_agent("bot", "app")
    old.set("app/key", b"v1 value")
    old.commit()
    location = os.path.realpath(old.repo)
    assert Vault(old.repo, key=str(old.agents["bot"].identity), auto_pull=False).get("app/key") == "v1 value"
    assert pins()["legacy"][location] == {"verify_key": old.key, "seq": 1}
    v1_tree = git(old.repo, "rev-parse", "HEAD^{tree}").strip()
    old.version = 2
    old.commit()
    assert Vault(old.repo, key=str(old.agents["bot"].identity), auto_pull=False).get("app/key") == "v1 value"
    doc = pins()
    assert location not in doc.get("legacy", {}) and doc["locations"][location] == old.vault
    assert doc["vaults"][old.vault] == {"verify_key": old.key, "seq": 2}
    commit = git(old.repo, "-c", "user.name=A", "-c", "user.email=a@x", "commit-tree", v1_tree, "-p", "HEAD",
                 "-m", "downgrade").strip()
    git(old.repo, "update-ref", "HEAD", commit)
    with pytest.raises(IntegrityError, match="version-1"):
        Vault(old.repo, key=str(old.agents["bot"].identity), auto_pull=False).get("app/key")


def test_unsigned_vaults_warn_unless_a_signature_is_expected(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """An unsigned vault is read with an "unsigned" warning; with an anchor, or at a location
    that was signed before, it is refused (the signature was removed)."""
    kit = Kit(tmp_path / "unsigned", signed=False)
    kit.set("app/key", b"v")
    kit.commit()
    with caplog.at_level(logging.WARNING, logger="agent_vault"):
        assert Vault(kit.repo, key=str(kit.owner), auto_pull=False).get("app/key") == "v"
    assert "unsigned" in warnings(caplog)
    with pytest.raises(IntegrityError, match="no signature"):
        Vault(kit.repo, key=str(kit.owner), auto_pull=False, verify_key=verify_key(Ed25519PrivateKey.generate())).get("app/key")
    signed = Kit(tmp_path / "signed")
    signed.set("app/key", b"v")
    signed.commit()
    Vault(signed.repo, key=str(signed.owner), auto_pull=False).get("app/key")
    git(signed.repo, "rm", "-r", "-q", ".agent-vault/integrity")
    git(signed.repo, "-c", "user.name=A", "-c", "user.email=a@x", "commit", "-q", "-m", "unsign")
    with pytest.raises(IntegrityError, match="no signature"):
        Vault(signed.repo, key=str(signed.owner), auto_pull=False).list_secrets()


def test_conflict_markers_give_the_merge_advice(kit: Kit) -> None:
    """A statement left with conflict markers is refused with the way out (take a side,
    verify, sign)."""
    statement = kit.repo / ".agent-vault" / "integrity" / "statement"
    text = statement.read_text()
    statement.write_text(f"<<<<<<< HEAD\n{text}=======\n{text}>>>>>>> theirs\n")
    git(kit.repo, "-c", "user.name=A", "-c", "user.email=a@x", "commit", "-q", "-am", "conflict")
    with pytest.raises(IntegrityError, match="conflict markers") as raised:
        bot(kit, kit.key).get("app/key")
    assert "agent-vault sign" in str(raised.value)


def test_a_signed_secret_that_is_missing_is_tampering_not_not_found(kit: Kit) -> None:
    """Deleting a signed secret's files is an integrity failure; a secret never signed is not
    found; a secret dropped in is refused."""
    git(kit.repo, "rm", "-q", ".agent-vault/secrets/app/key.enc", ".agent-vault/secrets/app/key.meta")
    git(kit.repo, "-c", "user.name=A", "-c", "user.email=a@x", "commit", "-q", "-m", "delete")
    with pytest.raises(IntegrityError, match="deleted"):
        bot(kit, kit.key).get("app/key")
    with pytest.raises(SecretNotFoundError):
        bot(kit, kit.key).get("app/other")
    git(kit.repo, "reset", "-q", "--hard", "HEAD~1")
    (kit.repo / ".agent-vault" / "secrets" / "app" / "new.enc").write_bytes(b"x")
    (kit.repo / ".agent-vault" / "secrets" / "app" / "new.meta").write_bytes(b"name: app/new\ngroup: app\n")
    git(kit.repo, "add", "-A", "-f")
    git(kit.repo, "-c", "user.name=A", "-c", "user.email=a@x", "commit", "-q", "-m", "drop in")
    with pytest.raises(IntegrityError, match="added"):
        bot(kit, kit.key).get("app/new")
    with pytest.raises(IntegrityError, match="added"):
        Vault(kit.repo, auto_pull=False, verify_key=kit.key).list_secrets()
    assert bot(kit, kit.key).get("app/key") == "genuine value"  # the untouched secret reads


def test_a_policy_file_added_or_an_unlisted_shard_is_refused(kit: Kit) -> None:
    """Every file outside secrets/ and integrity/ must be signed (also one a .gitignore rule
    would match), and a listing refuses a shard the statement does not list."""
    (kit.repo / ".agent-vault" / "agents" / "bot" / "private.key").write_text("x")
    git(kit.repo, "add", "-f", ".agent-vault")
    git(kit.repo, "-c", "user.name=A", "-c", "user.email=a@x", "commit", "-q", "-m", "plant")
    with pytest.raises(IntegrityError, match="private.key was added"):
        bot(kit, kit.key).get("app/key")
    git(kit.repo, "reset", "-q", "--hard", "HEAD~1")
    (kit.repo / ".agent-vault" / "integrity" / "shards" / "00").write_text("")
    git(kit.repo, "add", "-f", ".agent-vault")
    git(kit.repo, "-c", "user.name=A", "-c", "user.email=a@x", "commit", "-q", "-m", "shard")
    with pytest.raises(IntegrityError, match="shard"):
        Vault(kit.repo, auto_pull=False, verify_key=kit.key).list_secrets()


def test_many_agents_and_an_armored_ciphertext_read_without_warnings(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A vault of 40 agents (80 policy files) and an ASCII-armored secret read cleanly."""
    kit = Kit(tmp_path / "many")
    for i in range(40):
        kit.add_agent(f"agent-{i:02d}", "app")
    kit.set("app/key", b"for everyone", armor=True)
    kit.commit()
    with caplog.at_level(logging.WARNING, logger="agent_vault"):
        text = kit.key_file("agent-39")
        assert Vault(kit.repo, key=text, auto_pull=False).get("app/key") == "for everyone"
        assert len(Vault(kit.repo, auto_pull=False, verify_key=kit.key).list_agents()) == 40
    assert warnings(caplog) == ""
