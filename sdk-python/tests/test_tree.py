"""The vault tree rules (docs/format.md, "The vault tree: what may be in it"), on trees an
attacker writes with git plumbing and hand-made loose objects: symlinks, submodules,
executables, bad names, depth, entry count, size caps checked before a blob is read, and what
may be under secrets/ and integrity/. Also: only git objects are read, never the working tree."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path
from typing import Callable, List, Tuple

import pytest

from agent_vault import IntegrityError, SecretNotFoundError, Vault, VaultNotFoundError
from agent_vault import _tree
from agent_vault._git import ObjectReader

from vaultkit import Kit, Spec, commit_vault_tree, git, loose, spec_of, tree_entries, write_spec


@pytest.fixture
def kit(tmp_path: Path) -> Kit:
    kit = Kit(tmp_path / "repo")
    kit.add_agent("bot", "app")
    kit.set("app/key", b"the value")
    kit.set("db/password", b"pw")
    kit.commit()
    return kit


def owner(kit: Kit) -> Vault:
    return Vault(kit.repo, key=str(kit.owner), auto_pull=False, verify_key=kit.key)


def attacked(kit: Kit, edit: Callable[[Spec], None]) -> None:
    spec = spec_of(kit.tree_files())
    edit(spec)
    commit_vault_tree(kit.repo, write_spec(kit.repo, spec))


def refused(kit: Kit, *, get: bool = True, listing: bool = True) -> List[str]:
    """The IntegrityError messages of a get and a listing (both must be refused)."""
    messages = []
    if get:
        with pytest.raises(IntegrityError) as raised:
            owner(kit).get("app/key")
        messages.append(str(raised.value))
    if listing:
        with pytest.raises(IntegrityError) as raised:
            owner(kit).list_secrets()
        messages.append(str(raised.value))
    for message in messages:
        assert "agent-vault verify" in message
        assert not re.search("[\x00-\x09\x0b-\x1f\x7f]", message), "raw control character in a message"
    return messages


def test_a_symlinked_meta_is_refused_never_followed(kit: Kit, tmp_path: Path) -> None:
    """A .meta replaced by a symlink (mode 120000) to a file holding a private key is an
    integrity failure naming the path; the target is never read, so its text is in no message."""
    secret = tmp_path / "owner.key"
    secret.write_text(str(kit.owner) + "\n")
    attacked(kit, lambda s: s[b"secrets"][b"app"].update({b"key.meta": ("120000", str(secret).encode())}))  # type: ignore[index]
    for message in refused(kit):
        assert ".agent-vault/secrets/app/key.meta" in message and "symlink" in message
        assert str(kit.owner) not in message and "AGE-SECRET-KEY" not in message.upper()


def test_a_symlinked_config_to_dev_zero_is_refused_at_once(kit: Kit) -> None:
    """config.yaml as a symlink to /dev/zero is refused by its mode, never read."""
    attacked(kit, lambda s: s.update({b"config.yaml": ("120000", b"/dev/zero")}))
    started = time.monotonic()
    messages = refused(kit)
    assert time.monotonic() - started < 5
    assert all("config.yaml" in m for m in messages)


@pytest.mark.parametrize("mode,word", [("100755", "executable"), ("160000", "submodule")])
def test_executables_and_submodules_are_refused(kit: Kit, mode: str, word: str) -> None:
    """Only 100644 files and 040000 folders may be in a vault."""
    head = git(kit.repo, "rev-parse", "HEAD").strip()
    data = bytes.fromhex(head) if mode == "160000" else b"#!/bin/sh\n"

    def edit(spec: Spec) -> None:
        if mode == "160000":
            spec[b"agents"][b"sub"] = ("160000", data)  # type: ignore[index]
        else:
            spec[b"agents"][b"bot"][b"public.key"] = (mode, data)  # type: ignore[index]

    if mode == "160000":  # a gitlink names a commit, not a blob: build the tree entry by hand
        spec = spec_of(kit.tree_files())
        agents = spec.pop(b"agents")
        vault_entries = []
        tree = write_spec(kit.repo, spec)
        vault_entries.extend(tree_entries(kit.repo, tree))
        agents_tree = write_spec(kit.repo, agents)  # type: ignore[arg-type]
        sub = loose(kit.repo, "tree", b"160000 sub\0" + bytes.fromhex(head))
        from vaultkit import tree_object
        vault_entries.append(("40000", b"agents", agents_tree))
        vault_entries.append(("40000", b"zz", sub))
        commit_vault_tree(kit.repo, loose(kit.repo, "tree", tree_object(vault_entries)))  # git order
    else:
        attacked(kit, edit)
    for message in refused(kit):
        assert word in message


def test_a_name_that_is_not_utf8_is_refused_not_a_crash(kit: Kit) -> None:
    """An entry named with invalid UTF-8 bytes is an integrity failure whose message shows
    the bytes escaped."""
    attacked(kit, lambda s: s[b"agents"].update({b"bad\xff\xfe": ("100644", b"x")}))  # type: ignore[attr-defined]
    for message in refused(kit):
        assert "\\xff" in message and "UTF-8" in message


def test_a_control_character_name_is_refused_and_shown_escaped(kit: Kit) -> None:
    """An entry name holding ESC is refused; the message writes it as \\u{1b} (a terminal
    showing the message never interprets it)."""
    attacked(kit, lambda s: s.update({b"evil\x1b[31m.txt": ("100644", b"x")}))
    for message in refused(kit):
        assert "evil\\u{1b}[31m.txt" in message and "\x1b" not in message


@pytest.mark.parametrize("name", [b".", b"..", b"a" * 256])
def test_dot_names_and_overlong_names_are_refused(kit: Kit, name: bytes) -> None:
    """`.`, `..` and names over 255 bytes are not valid entry names."""
    attacked(kit, lambda s: s[b"agents"].update({name: ("100644", b"x")}))  # type: ignore[attr-defined]
    refused(kit)


def test_a_tree_deeper_than_128_levels_is_refused_without_recursion(kit: Kit) -> None:
    """A chain of 2,000 nested folders outside secrets/ is refused (get and list) once the walk
    passes 128 levels — iteratively, so no recursion limit is involved — while 127 levels of
    folders would be walked (the limit is on depth, not a crash)."""
    inner = loose(kit.repo, "tree", b"")
    from vaultkit import tree_object
    for _ in range(2000):
        inner = loose(kit.repo, "tree", tree_object([("40000", b"d", inner)]))
    spec = spec_of(kit.tree_files())
    vault = write_spec(kit.repo, spec)
    listing = tree_entries(kit.repo, vault)
    listing.append(("40000", b"deep", inner))
    listing.sort(key=lambda e: e[1] + (b"/" if e[0] == "40000" else b""))
    commit_vault_tree(kit.repo, loose(kit.repo, "tree", tree_object(listing)))
    for message in refused(kit):
        assert "128 levels" in message


def test_the_walk_stops_at_the_entry_limit(kit: Kit, monkeypatch: pytest.MonkeyPatch) -> None:
    """A tree holding more entries than allowed (the limit lowered to 30 here; 1,000,000 in
    production) is refused; a tree object too large to fit the remaining budget is refused
    without being read."""
    monkeypatch.setattr(_tree, "MAX_ENTRIES", 30)
    attacked(kit, lambda s: s.update({b"many": {f"f{i}".encode(): ("100644", b"x") for i in range(40)}}))
    for message in refused(kit):
        assert "more than 30 entries" in message


def test_oversized_blobs_are_refused_before_they_are_read(kit: Kit, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 70 MiB (compressible) .enc and a 1 MiB + 1 policy file are refused from their object
    header alone: their contents are never requested from git."""
    requested: List[str] = []
    original = ObjectReader.contents

    def spy(self: ObjectReader, names: List[str]) -> object:
        requested.extend(names)
        return original(self, names)

    monkeypatch.setattr(ObjectReader, "contents", spy)
    big = b"\0" * (70 * 1024 * 1024)
    attacked(kit, lambda s: s[b"secrets"][b"app"].update({b"key.enc": ("100644", big)}))  # type: ignore[index]
    big_oid = loose(kit.repo, "blob", big)
    started = time.monotonic()
    messages = refused(kit)
    assert time.monotonic() - started < 10
    assert all("64 MiB" in m for m in messages)
    assert big_oid not in requested
    kit.commit()
    config = b"version: 1\n" + b"#" * (1024 * 1024)
    attacked(kit, lambda s: s.update({b"config.yaml": ("100644", config)}))
    requested.clear()
    messages = refused(kit)
    assert all("config.yaml" in m and "1 MiB" in m for m in messages)
    assert loose(kit.repo, "blob", config) not in requested


@pytest.mark.parametrize("rel", [b"secrets/app/notes.txt", b"secrets/app/private.pem", b"integrity/extra",
                                 b"integrity/shards/ZZ", b"integrity/shards/abc"])
def test_only_secret_files_and_the_statement_and_shards_may_live_in_their_folders(kit: Kit, rel: bytes) -> None:
    """Under secrets/ only `<secret path>.enc|.meta`, under integrity/ only `statement` and
    `shards/<xx>`: anything else is refused by a listing (which walks everything)."""
    def edit(spec: Spec) -> None:
        *folders, name = rel.split(b"/")
        here = spec
        for folder in folders:
            here = here.setdefault(folder, {})  # type: ignore[assignment]
        here[name] = ("100644", b"x")

    attacked(kit, edit)
    (message,) = refused(kit, get=False)
    assert rel.decode() in message


def test_vault_folder_itself_must_be_a_folder(kit: Kit) -> None:
    """`.agent-vault` as a symlink is an integrity failure; no `.agent-vault` at all is "no
    vault" (VaultNotFoundError)."""
    target = loose(kit.repo, "blob", b"/etc")
    listing = [("120000", b".agent-vault", target)]
    commit_vault_tree(kit.repo, "")
    from vaultkit import tree_object
    root = loose(kit.repo, "tree", tree_object(listing))
    commit = git(kit.repo, "-c", "user.name=K", "-c", "user.email=k@x", "commit-tree", root, "-p", "HEAD", "-m", "s").strip()
    git(kit.repo, "update-ref", "HEAD", commit)
    with pytest.raises(IntegrityError, match="symlink"):
        Vault(kit.repo, auto_pull=False)
    commit_vault_tree(kit.repo, "")
    with pytest.raises(VaultNotFoundError):
        Vault(kit.repo, auto_pull=False)


def test_only_git_objects_are_read_never_the_working_tree(kit: Kit, caplog: pytest.LogCaptureFixture) -> None:
    """Files only in the working tree — an uncommitted edit, an untracked secret, an ignored
    file, a symlink — play no part: reads see HEAD's tree, verified, without warnings."""
    vault = kit.repo / ".agent-vault"
    (vault / "secrets" / "app" / "key.enc").write_bytes(b"edited in the checkout")
    (vault / "secrets" / "app" / "planted.enc").write_bytes(b"untracked")
    (vault / "notes.key").write_text("ignored by .gitignore rules\n")
    (vault / "agents" / "link").symlink_to("/etc/passwd")
    with caplog.at_level(logging.WARNING, logger="agent_vault"):
        assert owner(kit).get("app/key") == "the value"
        assert [s.path for s in owner(kit).list_secrets()] == ["app/key", "db/password"]
    with pytest.raises(SecretNotFoundError):
        owner(kit).get("app/planted")
    assert caplog.text == ""


def test_a_commit_in_progress_is_never_half_read(kit: Kit) -> None:
    """Staged but uncommitted changes (a writer between `git add` and the commit) are not
    seen: readers read HEAD."""
    kit.set("app/key", b"staged value")
    for rel, data in kit.tree_files().items():
        (kit.repo / ".agent-vault" / rel).parent.mkdir(parents=True, exist_ok=True)
        (kit.repo / ".agent-vault" / rel).write_bytes(data)
    git(kit.repo, "add", "-A", "-f", ".agent-vault")
    assert owner(kit).get("app/key") == "the value"


@pytest.mark.parametrize("levels,ok", [(128, True), (129, False)])
def test_the_depth_limit_counts_components_below_the_vault_folder(tmp_path: Path, levels: int, ok: bool) -> None:
    """A signed file whose path has 128 components below .agent-vault/ is read; 129 is refused
    (the CLI draws the line at the same place)."""
    kit = Kit(tmp_path / "deep")
    kit.set("app/key", b"v")
    kit.extra["/".join(["d"] * (levels - 1)) + "/f"] = b"x"
    kit.commit()
    vault = Vault(kit.repo, key=str(kit.owner), auto_pull=False, verify_key=kit.key)
    if ok:
        assert vault.get("app/key") == "v"
    else:
        with pytest.raises(IntegrityError, match="128 levels"):
            vault.get("app/key")


def _vault_tree_with(kit: Kit, extra: List[Tuple[str, bytes, str]], git_order: bool = True) -> None:
    """Commits the kit's signed vault tree plus raw ``extra`` entries at its top level."""
    from vaultkit import tree_object

    vault = write_spec(kit.repo, spec_of(kit.tree_files()))
    commit_vault_tree(kit.repo, loose(kit.repo, "tree", tree_object(tree_entries(kit.repo, vault) + extra, git_order)))


def test_trees_must_be_in_git_order(kit: Kit) -> None:
    """A folder whose entries are out of git's order (possible only by writing the object by
    hand) is refused, for get and listings; the same entries in order are read."""
    kit.extra["zz-note"] = b"signed\n"
    kit.commit()
    assert owner(kit).get("app/key") == "the value"
    from vaultkit import tree_object

    vault = write_spec(kit.repo, spec_of(kit.tree_files()))
    listing = tree_entries(kit.repo, vault)
    commit_vault_tree(kit.repo, loose(kit.repo, "tree", tree_object(list(reversed(listing)), git_order=False)))
    for message in refused(kit):
        assert "git's order" in message


@pytest.mark.parametrize("raw_mode", ["100664", "040000", "100640"])
def test_modes_are_the_raw_ones_git_writes(kit: Kit, raw_mode: str) -> None:
    """`100664` (which git reports as 100644), a zero-padded `040000` and other spellings are
    not vault entries: refused, never normalised."""
    blob = loose(kit.repo, "blob", b"x\n")
    target = blob if raw_mode != "040000" else loose(kit.repo, "tree", b"")
    _vault_tree_with(kit, [(raw_mode, b"odd", target)])
    for message in refused(kit):
        assert ".agent-vault/odd" in message
