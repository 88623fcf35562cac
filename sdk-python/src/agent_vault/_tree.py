"""The vault tree of one commit: what may be in it (docs/format.md, "The vault tree").

Every byte of the repository is written by an attacker until its digest is verified, so the
walk trusts nothing: it reads tree objects itself (no recursion: an explicit stack, at most 128
levels, at most 1,000,000 entries), accepts only folders (``040000``) and regular files
(``100644``) with valid names, and knows where each kind of file may be. Blobs are read only
after their header says they fit their size cap. Every violation is an :class:`IntegrityError`
naming the path, escaped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from ._errors import IntegrityError, VaultNotFoundError
from ._git import ObjectReader
from ._names import escaped, escaped_bytes, secret_path_problem
from ._statement import VERIFY_HINT

VAULT_DIR = ".agent-vault"
MODE_TREE = 0o40000
MODE_BLOB = 0o100644
MAX_DEPTH = 128
MAX_ENTRIES = 1_000_000
MAX_NAME_BYTES = 255
MiB = 1024 * 1024

_SHARD_NAME = re.compile(r"[0-9a-f]{2}\Z")
_CONTROL = re.compile(b"[\x00-\x1f\x7f]")
_MODE_NAMES = {0o120000: "a symlink", 0o160000: "a submodule", 0o100755: "an executable file"}
# Modes exactly as git writes them in a tree object; any other spelling is not a vault entry.
_RAW_MODES = {b"40000": MODE_TREE, b"100644": MODE_BLOB, b"120000": 0o120000, b"160000": 0o160000,
              b"100755": 0o100755}


def size_cap(rel: str) -> int:
    """The largest blob allowed at ``rel`` (a path relative to ``.agent-vault/``)."""
    if rel == "integrity/statement":
        return 4 * MiB
    if rel.startswith("integrity/shards/"):
        return 16 * MiB
    if rel == "manifest.yaml" or (rel.startswith("secrets/") and rel.endswith(".enc")):
        return 64 * MiB
    return 1 * MiB


def tree_violation(path: str, why: str) -> IntegrityError:
    return IntegrityError(
        f"integrity failure: {path}: {why}; do not trust this vault, {VERIFY_HINT}"
    )


def shown(rel: str) -> str:
    return escaped(f"{VAULT_DIR}/{rel}")


@dataclass(frozen=True)
class Entry:
    """A file or folder below ``.agent-vault/``."""

    rel: str  # relative to .agent-vault/, "/"-separated
    mode: int
    oid: str

    @property
    def is_tree(self) -> bool:
        return self.mode == MODE_TREE


class VaultTree:
    """The ``.agent-vault`` tree of one commit, read through an :class:`ObjectReader`."""

    def __init__(self, reader: ObjectReader, commit: str, label: str) -> None:
        self.reader = reader
        self.commit = commit
        self.label = label
        self._trees: Dict[str, List[Tuple[bytes, int, str]]] = reader.trees  # type: ignore[assignment]
        if len(self._trees) > 20_000:
            self._trees.clear()
        self.root: Optional[str] = None
        self._hash_len = 20
        self._entries_seen = 0
        info = reader.info([f"{commit}^{{tree}}"])[0]
        if info.kind != "tree":
            raise VaultNotFoundError(f"cannot read the tree of {label}")
        self._hash_len = len(info.oid) // 2
        top = self._entries(info.oid, "", budget=False)
        found = [(mode, oid) for name, mode, oid in top if name == VAULT_DIR.encode()]
        if not found:
            self.root = None
            return
        if len(found) > 1:
            raise tree_violation(VAULT_DIR, "appears twice in the commit's tree")
        mode, oid = found[0]
        if mode != MODE_TREE:
            raise tree_violation(VAULT_DIR, f"is {_MODE_NAMES.get(mode, 'not a folder')}, not a folder")
        self.root = oid

    # ----- tree objects -----------------------------------------------------------------------

    def _entries(self, oid: str, rel: str, budget: bool = True) -> List[Tuple[bytes, int, str]]:
        cached = self._trees.get(oid)
        if cached is not None:
            return cached
        self._load([(oid, rel)], budget)
        return self._trees[oid]

    def _load(self, trees: Sequence[Tuple[str, str]], budget: bool = True) -> None:
        """Reads and parses the tree objects ``(oid, rel)`` not read yet, in one round trip.
        A tree too large to hold the entries still allowed is refused unread."""
        wanted = [(oid, rel) for oid, rel in dict(trees).items() if oid not in self._trees]
        if not wanted:
            return
        max_entry = 6 + 1 + MAX_NAME_BYTES + 1 + self._hash_len
        infos = self.reader.info([oid for oid, _ in wanted])
        for (oid, rel), info in zip(wanted, infos):
            if info.kind != "tree":
                raise tree_violation(shown(rel) if rel else VAULT_DIR, "is not a readable folder object")
            if budget and info.size > (MAX_ENTRIES - self._entries_seen + 1) * max_entry:
                raise tree_violation(shown(rel), f"holds more than {MAX_ENTRIES:,} entries")
        for (oid, rel), (info, data) in zip(wanted, self.reader.contents([oid for oid, _ in wanted])):
            if data is None or info.kind != "tree":
                raise tree_violation(shown(rel), "is not a readable folder object")
            self._trees[oid] = self._parse(data, rel)

    def _parse(self, data: bytes, rel: str) -> List[Tuple[bytes, int, str]]:
        """A tree object's entries, which must be as git writes them: raw modes, entries
        strictly in git's order (a folder's name compared as if followed by `/`), no name
        twice. A mode git would normalise (`100664`, `040000`) is kept as an unknown mode."""
        out: List[Tuple[bytes, int, str]] = []
        where = shown(rel) if rel else VAULT_DIR
        pos, n = 0, len(data)
        previous: Optional[bytes] = None
        names = set()
        while pos < n:
            space = data.find(b" ", pos, pos + 8)
            nul = data.find(b"\0", space + 1 if space >= 0 else pos)
            if space < 0 or nul < 0 or nul + 1 + self._hash_len > n:
                raise tree_violation(where, "is a malformed folder object")
            mode = _RAW_MODES.get(data[pos:space], -1)
            name = data[space + 1:nul]
            oid = data[nul + 1:nul + 1 + self._hash_len].hex()
            key = name + (b"/" if mode == MODE_TREE else b"")
            if (previous is not None and key <= previous) or name in names:
                raise tree_violation(
                    where, "is not a folder as git writes it (entries out of git's order, or a name twice)"
                )
            previous = key
            names.add(name)
            out.append((name, mode, oid))
            pos = nul + 1 + self._hash_len
        return out

    def _check(self, parent: str, name: bytes, mode: int, depth: int) -> str:
        """The entry's path after the rules on names, modes and depth."""
        where = f"{parent}/" if parent else ""
        if (
            not name
            or len(name) > MAX_NAME_BYTES
            or _CONTROL.search(name)
            or name in (b".", b"..")
            or b"/" in name
        ):
            raise tree_violation(
                escaped(f"{VAULT_DIR}/{where}") + escaped_bytes(name),
                "is not a valid entry name (1 to 255 bytes of UTF-8, no control characters)",
            )
        try:
            text = name.decode("utf-8")
        except UnicodeDecodeError:
            raise tree_violation(
                escaped(f"{VAULT_DIR}/{where}") + escaped_bytes(name), "has a name that is not UTF-8"
            ) from None
        rel = where + text
        if depth > MAX_DEPTH:
            raise tree_violation(shown(rel[:200] + "…"), f"is more than {MAX_DEPTH} levels deep")
        if mode not in (MODE_TREE, MODE_BLOB):
            raise tree_violation(
                shown(rel), f"is {_MODE_NAMES.get(mode, 'not a regular file or folder')}, which a vault never holds"
            )
        self._entries_seen += 1
        if self._entries_seen > MAX_ENTRIES:
            raise tree_violation(VAULT_DIR, f"holds more than {MAX_ENTRIES:,} entries")
        return rel

    # ----- walking ----------------------------------------------------------------------------

    def walk(self, into_secrets: bool) -> List[Entry]:
        """Every entry below ``.agent-vault`` (without the contents of ``secrets/`` unless
        ``into_secrets``), checked against every rule of the vault tree. Breadth first with an
        explicit queue: one round trip per level, never a recursion."""
        assert self.root is not None
        cached = self.reader.walks.get((self.root, into_secrets))
        if cached is not None:
            return cached  # type: ignore[return-value]
        out: List[Entry] = []
        level: List[Tuple[str, str]] = [(self.root, "")]
        depth = 0
        while level:
            depth += 1
            self._load(level)
            following: List[Tuple[str, str]] = []
            for oid, rel in level:
                seen = set()
                for name, mode, child in self._trees[oid]:
                    if name in seen:
                        raise tree_violation(shown(f"{rel}/" if rel else "") + escaped_bytes(name), "appears twice in its folder")
                    seen.add(name)
                    path = self._check(rel, name, mode, depth)
                    entry = Entry(path, mode, child)
                    place_rule(entry)
                    out.append(entry)
                    if entry.is_tree and (into_secrets or path != "secrets"):
                        following.append((child, path))
            level = following
        if len(self.reader.walks) >= 4:
            self.reader.walks.clear()
        self.reader.walks[(self.root, into_secrets)] = out
        return out

    def lookup(self, rel: str) -> Optional[Entry]:
        """The entry at ``rel`` (a valid vault path), reading only the folders on its path;
        None when some folder on the path is missing or is not a folder ("absent")."""
        assert self.root is not None
        oid = self.root
        parts = rel.split("/")
        for i, part in enumerate(parts):
            matches = [(mode, child) for name, mode, child in self._entries(oid, "/".join(parts[:i]))
                       if name == part.encode("utf-8")]
            if not matches:
                return None
            if len(matches) > 1:
                raise tree_violation(shown("/".join(parts[: i + 1])), "appears twice in its folder")
            mode, child = matches[0]
            here = "/".join(parts[: i + 1])
            if i + 1 < len(parts):
                if mode != MODE_TREE:
                    if mode != MODE_BLOB:
                        raise tree_violation(shown(here), f"is {_MODE_NAMES.get(mode, 'not a folder')}, which a vault never holds")
                    return None
                oid = child
                continue
            if mode != MODE_BLOB:
                raise tree_violation(
                    shown(here), f"is {_MODE_NAMES.get(mode, 'not a regular file')}, not a regular file"
                )
            return Entry(here, mode, child)
        return None

    # ----- blobs ------------------------------------------------------------------------------

    def _sizes(self, entries: Sequence[Entry]) -> None:
        for entry, info in zip(entries, self.reader.info([e.oid for e in entries])):
            if info.kind != "blob":
                raise tree_violation(shown(entry.rel), "is not a readable file object")
            cap = size_cap(entry.rel)
            if info.size > cap:
                raise tree_violation(
                    shown(entry.rel),
                    f"is {info.size:,} bytes, larger than any vault file of its kind may be ({cap // MiB} MiB)",
                )

    def fetch(self, keep: Sequence[Entry], hashed: Sequence[Entry] = ()) -> Tuple[Dict[str, bytes], Dict[str, bytes]]:
        """The bytes of the files ``keep`` and the SHA-256 of the files ``hashed`` (streamed,
        never held: a listing hashes every ciphertext), all checked against their size caps
        from the object headers before anything is read, in one pipelined exchange. Objects
        read before (same id, so same bytes) come from the reader's caches."""
        cache = self.reader
        kept: Dict[str, bytes] = {}
        digests: Dict[str, bytes] = {}
        missing: List[Tuple[Entry, bool]] = []
        for entry in keep:
            if entry.oid in cache.blobs:
                kept[entry.rel] = cache.blobs[entry.oid]
            else:
                missing.append((entry, True))
        for entry in hashed:
            if entry.oid in cache.digests:
                digests[entry.rel] = cache.digests[entry.oid]
            else:
                missing.append((entry, False))
        if not missing:
            return kept, digests
        entries = [entry for entry, _ in missing]
        flags = [flag for _, flag in missing]
        self._sizes(entries)
        if cache.blob_bytes > 32 * MiB or len(cache.digests) > 100_000:
            cache.blobs.clear()
            cache.digests.clear()
            cache.blob_bytes = 0
        for entry, flag, (info, data) in zip(entries, flags, self.reader.contents([e.oid for e in entries], flags)):
            if data is None or info.kind != "blob":
                raise tree_violation(shown(entry.rel), "is not a readable file object")
            if flag:
                kept[entry.rel] = data
                if len(data) <= 64 * 1024:
                    cache.blobs[entry.oid] = data
                    cache.blob_bytes += len(data)
            else:
                digests[entry.rel] = data
                cache.digests[entry.oid] = data
        return kept, digests

    def read(self, entries: Sequence[Entry]) -> Dict[str, bytes]:
        """The bytes of regular files, each checked against its size cap before it is read."""
        return self.fetch(entries)[0]


def place_rule(entry: Entry) -> None:
    """Where each kind of file may be: under ``secrets/`` only ``<secret path>.enc|.meta``;
    under ``integrity/`` only ``statement`` and ``shards/<xx>``; elsewhere policy files."""
    rel = entry.rel
    if rel.startswith("secrets/"):
        if entry.is_tree:
            return
        secret = secret_of(rel)
        if secret is None or secret_path_problem(secret) is not None:
            raise tree_violation(shown(rel), "is not a secret's .enc or .meta file, which is all secrets/ may hold")
        return
    if rel == "secrets":
        if not entry.is_tree:
            raise tree_violation(shown(rel), "is not a folder")
        return
    if rel == "integrity":
        if not entry.is_tree:
            raise tree_violation(shown(rel), "is not a folder")
        return
    if rel.startswith("integrity/"):
        if rel == "integrity/statement" and not entry.is_tree:
            return
        if rel == "integrity/shards" and entry.is_tree:
            return
        name = rel[len("integrity/shards/"):]
        if rel.startswith("integrity/shards/") and not entry.is_tree and _SHARD_NAME.match(name):
            return
        raise tree_violation(shown(rel), "is not allowed under integrity/ (only statement and shards/<xx>)")


def secret_of(rel: str) -> Optional[str]:
    """The secret path of ``secrets/<path>.enc`` or ``.meta``, else None."""
    if not rel.startswith("secrets/"):
        return None
    rest = rel[len("secrets/"):]
    for suffix in (".enc", ".meta"):
        if rest.endswith(suffix):
            return rest[: -len(suffix)]
    return None
