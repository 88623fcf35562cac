"""The one trust path: repository bytes in, a :class:`Snapshot` of verified bytes out.

This module is the reader procedure of docs/format.md ("What a reader checks"), step by step:
the tree rules, the statement (or the unsigned warning), the vault identity and the pins, the
anchors and the ``key-change`` chain, the contents, and what the machine then remembers. Only
:func:`open_secret` and :func:`open_vault` make a :class:`Snapshot`, and a snapshot hands out
only bytes whose digest matched the signed statement (or, in an unsigned vault, bytes that passed
the tree rules and size caps), so nothing is parsed, printed or decrypted before that.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Set, Tuple

from ._errors import IntegrityError
from ._format import LEGACY_GROUP, legacy_secrets
from ._names import escaped
from ._pins import Pin, Pins, PinsDoc
from ._statement import (
    MERGE_HINT,
    STATEMENT_PATH,
    VERIFY_HINT,
    ZERO,
    Shard,
    Statement,
    has_conflict_markers,
    parse_and_verify,
    parse_shard,
    sha256,
    shard_name,
)
from ._tree import Entry, VaultTree, secret_of, tree_violation

logger = logging.getLogger("agent_vault")

STATEMENT_REL = "integrity/statement"
SHARD_PREFIX = "integrity/shards/"


@dataclass
class Reader:
    """Who reads, and what they expect: the pins location, the key home's pins, the anchor
    keys A (explicit, ``AGENT_VAULT_VERIFY_KEY``, or the key file's comments) and the
    identities in use, as (recipient, identity text in upper case), for endorsements."""

    location: str
    pins: Pins
    anchors: List[str]
    identities: Sequence[Tuple[str, bytearray]] = ()


@dataclass
class Snapshot:
    """What a reader may use: bytes that were verified (see the module docs). Secret files
    are keyed by their path relative to ``.agent-vault/``."""

    label: str
    signed: bool
    _files: Dict[str, bytes]
    # What this snapshot vouches for: the policy files, and the secret files it was opened
    # for (one secret's two, or every .meta); present or absent.
    _covered: Set[str] = field(default_factory=set)

    def file(self, rel: str) -> Optional[bytes]:
        """A verified file's bytes, or None when it is absent from the state. Asking for a
        file the snapshot does not cover is a programming error, never an unverified read."""
        if rel not in self._covered:
            raise LookupError(f"{rel} is not covered by this snapshot")
        return self._files.get(rel)


def _fail(why: str) -> IntegrityError:
    return IntegrityError(f"integrity failure: {why}; do not trust this vault, {VERIFY_HINT}")


# ----- steps 1-3: the tree, the statement -------------------------------------------------------


@dataclass
class _Parts:
    policy: Dict[str, Entry]
    statement: Optional[Entry]
    shards: Dict[str, Entry]
    secrets: Dict[str, Entry]


def _partition(entries: Sequence[Entry]) -> _Parts:
    parts = _Parts({}, None, {}, {})
    for entry in entries:
        if entry.is_tree:
            continue
        if entry.rel == STATEMENT_REL:
            parts.statement = entry
        elif entry.rel.startswith(SHARD_PREFIX):
            parts.shards[entry.rel[len(SHARD_PREFIX):]] = entry
        elif entry.rel.startswith("secrets/"):
            parts.secrets[entry.rel] = entry
        else:
            parts.policy[entry.rel] = entry
    return parts


def _statement(data: Optional[bytes], reader: Reader, pins: PinsDoc) -> Optional[Statement]:
    """Steps 2 and 3: the verified statement, or None for an unsigned vault (with a warning)."""
    if data is None:
        if reader.anchors:
            raise _fail(
                f"this vault should be signed by {' or '.join(reader.anchors)} but has no signature "
                f"({STATEMENT_PATH} is missing); someone with push access removed it"
            )
        if reader.location in pins.locations or reader.location in pins.legacy:
            raise _fail(
                f"this vault was signed when this machine last read it, but now has no signature "
                f"({STATEMENT_PATH} is missing); someone with push access removed it"
            )
        logger.warning(
            "vault %s is unsigned, so tampering by anyone with push access would go unnoticed; "
            "ask the owner to run `agent-vault sign`",
            escaped(reader.location),
        )
        return None
    if has_conflict_markers(data):
        raise _fail(f"{STATEMENT_PATH} {MERGE_HINT}")
    return parse_and_verify(data)


# ----- steps 4-6: identity, pins, anchors -------------------------------------------------------


def _anchored(statement: Statement, reader: Reader, endorsed: Optional[bool] = None) -> bool:
    if reader.anchors:
        return any(statement.can_follow_from(a) for a in reader.anchors)
    return statement.endorsed_by(reader.identities) if endorsed is None else endorsed


def _wrong_signer(statement: Statement, expected: str) -> IntegrityError:
    return _fail(
        f"this vault is signed by {statement.verify_key} but {expected} was expected, and no key "
        "change signed by that key leads to it; someone may have replaced the signing key "
        "(re-signed the vault)"
    )


def _rollback(statement: Statement, pin: Pin) -> IntegrityError:
    return _fail(
        f"rollback: the vault is at signed state {statement.seq} but this machine has already seen "
        f"state {pin.seq}; someone may have restored old files to undo a rotation or revocation"
    )


def _decide(statement: Statement, reader: Reader, pins: PinsDoc) -> None:
    """Steps 4 to 6: refuse another vault, a downgrade, a rollback or a wrong signer; warn on
    trust on first use."""
    location = reader.location
    pinned_id = pins.locations.get(location)
    if pinned_id is not None and statement.vault is None:
        raise _fail(
            f"a version-1 statement at {escaped(location)}, which held the version-2 vault {pinned_id} "
            "(a downgrade to an older statement format)"
        )
    if pinned_id is not None and pinned_id != statement.vault:
        raise _fail(
            f"another vault is at {escaped(location)}: this machine knows it as vault {pinned_id}, but this "
            f"statement is vault {statement.vault}; someone may have replaced it (e.g. with a copy "
            "of another vault)"
        )
    pin: Optional[Pin] = None
    if statement.vault is not None:
        pin = pins.vaults.get(statement.vault)
    if statement.vault is None or (pin is None and pinned_id is None):
        pin = pin or pins.legacy.get(location)
    key = statement.verify_key
    if reader.anchors and not _anchored(statement, reader):
        raise _wrong_signer(statement, " or ".join(reader.anchors))
    if pin is not None and pin.verify_key == key:
        if statement.seq < pin.seq:
            raise _rollback(statement, pin)
        return
    if pin is not None:
        if statement.seq <= pin.seq:
            raise _rollback(statement, pin)
        if not (_anchored(statement, reader) or statement.can_follow_from(pin.verify_key)):
            raise _wrong_signer(statement, f"the key pinned on this machine, {pin.verify_key},")
        return
    if reader.anchors or statement.endorsed_by(reader.identities):
        return
    logger.warning(
        "vault %s: its verify key %s is trusted on first use (nothing on this machine says which key "
        "to expect); if that is the owner's key, pin it with AGENT_VAULT_VERIFY_KEY=%s (or the "
        "`# agent-vault verify-key:` line of the agent's key file)",
        escaped(location), key, key,
    )


def _record(statement: Statement, reader: Reader) -> None:
    """Step 8: what the machine remembers; written only when something changed."""
    location, key = reader.location, statement.verify_key

    def change(doc: PinsDoc) -> bool:
        table, name = (doc.vaults, statement.vault) if statement.vault is not None else (doc.legacy, location)
        assert name is not None
        current = table.get(name)
        if current is None and statement.vault is not None and location not in doc.locations:
            current = doc.legacy.get(location)
        if current is not None and current.verify_key == key:
            new = Pin(key, max(current.seq, statement.seq))
        elif current is not None and current.seq > statement.seq:
            new = table.get(name) or Pin(key, statement.seq)  # never move a pin backwards
        else:
            new = Pin(key, statement.seq)
        changed = table.get(name) != new
        table[name] = new
        if statement.vault is not None:
            if doc.locations.get(location) != statement.vault:
                doc.locations[location] = statement.vault
                changed = True
            if location in doc.legacy:
                del doc.legacy[location]
                changed = True
        return changed

    if change(reader.pins.read()):  # on a copy: write (under the lock) only when it changes
        reader.pins.update(change)


# ----- step 7: the contents ---------------------------------------------------------------------


def _policy_problems(statement: Statement, parts: _Parts, files: Dict[str, bytes]) -> List[str]:
    problems: List[str] = []
    for rel in sorted(statement.files):
        if rel not in parts.policy:
            problems.append(f".agent-vault/{rel} was deleted after the owner signed the vault")
    for rel in sorted(parts.policy):
        if rel not in statement.files:
            problems.append(f".agent-vault/{rel} was added after the owner signed the vault (not covered by the signature)")
        elif sha256(files[rel]) != statement.files[rel]:
            problems.append(f".agent-vault/{rel} was changed after the owner signed the vault")
    return problems


def _shard(statement: Statement, name: str, files: Dict[str, bytes]) -> Shard:
    """The shard ``name`` as the statement signed it (empty when it lists none)."""
    expected = statement.shards.get(name)
    if expected is None:
        return {}
    data = files.get(SHARD_PREFIX + name)
    if data is None:
        raise _fail(f".agent-vault/{SHARD_PREFIX}{name} is missing but the signed statement lists it")
    if sha256(data) != expected:
        raise _fail(f".agent-vault/{SHARD_PREFIX}{name} was changed after the owner signed the vault")
    return parse_shard(name, data)


def _secret_problem(secret: str, signed: Optional[Tuple[bytes, bytes]], enc: Optional[bytes], meta: Optional[bytes]) -> Optional[str]:
    """``enc``/``meta`` are the digests of the files present (None: absent)."""
    if signed is None:
        if enc is None and meta is None:
            return None
        return f"secret '{secret}' was added after the owner signed the vault (not in the signed state)"
    for kind, want, got in (("ciphertext", signed[0], enc), ("metadata", signed[1], meta)):
        if want == ZERO and got is None:
            continue
        if got is None:
            return f"the {kind} of secret '{secret}' was deleted after the owner signed the vault"
        if got != want:
            return f"the {kind} of secret '{secret}' is not what the owner signed (replaced, edited or rolled back)"
    return None


def _verify_one(statement: Statement, parts: _Parts, secret: str, files: Dict[str, bytes]) -> None:
    """Policy files, the secret's shard, then the secret's own files."""
    problems = _policy_problems(statement, parts, files)
    if problems:
        raise _fail(problems[0])
    shard = _shard(statement, shard_name(secret), files)
    enc, meta = files.get(f"secrets/{secret}.enc"), files.get(f"secrets/{secret}.meta")
    problem = _secret_problem(
        secret, shard.get(secret), sha256(enc) if enc is not None else None, sha256(meta) if meta is not None else None
    )
    if problem:
        raise _fail(problem)


def _verify_all(statement: Statement, parts: _Parts, files: Dict[str, bytes], digests: Dict[str, bytes]) -> None:
    """The whole vault. ``files`` holds the policy files, shards and .meta files; ``digests``
    the SHA-256 of every .enc."""
    problems = _policy_problems(statement, parts, files)
    signed: Shard = {}
    for name in sorted(statement.shards):
        try:
            signed.update(_shard(statement, name, files))
        except IntegrityError as e:
            problems.append(str(e).replace("integrity failure: ", "", 1).split("; do not trust")[0])
    for name in sorted(parts.shards):
        if name not in statement.shards:
            problems.append(f".agent-vault/{SHARD_PREFIX}{name}: a shard the signed statement does not list")
    for rel, data in files.items():
        if rel.startswith("secrets/"):
            digests[rel] = sha256(data)
    secrets = sorted({s for s in (secret_of(rel) for rel in parts.secrets) if s is not None} | set(signed))
    for secret in secrets:
        problem = _secret_problem(
            secret, signed.get(secret), digests.get(f"secrets/{secret}.enc"), digests.get(f"secrets/{secret}.meta")
        )
        if problem:
            problems.append(problem)
    if problems:
        raise IntegrityError(
            "integrity failure: the vault differs from what the owner signed:\n  "
            + "\n  ".join(problems)
            + f"\nDo not trust it; {VERIFY_HINT}"
        )


# ----- the two ways in ------------------------------------------------------------------------


def open_secret(tree: VaultTree, reader: Reader, secret: str) -> Snapshot:
    """The state for reading one secret: the tree outside ``secrets/`` walked, the policy
    files, the secret's shard and its two files verified (docs/format.md, "One secret").
    Every blob is read in one exchange, sizes first; nothing is parsed before its digest."""
    parts = _partition(tree.walk(into_secrets=False))
    own = [e for e in (tree.lookup(f"secrets/{secret}.enc"), tree.lookup(f"secrets/{secret}.meta")) if e]
    shard = parts.shards.get(shard_name(secret))
    pins = reader.pins.read()
    files, _ = tree.fetch([*([parts.statement] if parts.statement else []), *parts.policy.values(),
                           *([shard] if shard else []), *own])
    statement = _statement(files.get(STATEMENT_REL), reader, pins)
    if statement is not None:
        _decide(statement, reader, pins)
        _verify_one(statement, parts, secret, files)
        _record(statement, reader)
    elif not own and legacy_secrets(files.get("manifest.yaml"), [secret]):
        files.update(_from_legacy_place(tree, secret))
    covered = {*parts.policy, f"secrets/{secret}.enc", f"secrets/{secret}.meta"}
    return Snapshot(tree.label, statement is not None, files, covered)


def open_vault(tree: VaultTree, reader: Reader) -> Snapshot:
    """The state for listings: every entry walked and verified (docs/format.md, "The whole
    vault"). Holds the policy files and every ``.meta``; every ciphertext is hashed while
    streaming, never held."""
    parts = _partition(tree.walk(into_secrets=True))
    pins = reader.pins.read()
    metas = [e for rel, e in sorted(parts.secrets.items()) if rel.endswith(".meta")]
    encs = [e for rel, e in sorted(parts.secrets.items()) if rel.endswith(".enc")]
    files, digests = tree.fetch(
        [*([parts.statement] if parts.statement else []), *parts.policy.values(), *parts.shards.values(), *metas],
        encs,
    )
    statement = _statement(files.get(STATEMENT_REL), reader, pins)
    if statement is not None:
        _decide(statement, reader, pins)
        _verify_all(statement, parts, files, digests)
        _record(statement, reader)
    else:
        present = {s for s in (secret_of(rel) for rel in parts.secrets) if s is not None}
        prefix = LEGACY_GROUP + "/"
        moved = [s[len(prefix):] for s in sorted(present) if s.startswith(prefix)]
        for secret in legacy_secrets(files.get("manifest.yaml"), [s for s in moved if s not in present]):
            data = files.pop(f"secrets/{prefix}{secret}.meta", None)
            if data is not None:
                files[f"secrets/{secret}.meta"] = data
    return _Listing(tree.label, statement is not None, files)


def _from_legacy_place(tree: VaultTree, secret: str) -> Dict[str, bytes]:
    """An unsigned vault's single-segment secret where agent-vault 0.1.0 stored it,
    ``secrets/default/<secret>.*`` (the caller has applied docs/format.md's rule), keyed by
    where this format puts it. A signed vault never reads this place: ``sign`` moves them."""
    stored = (tree.lookup(f"secrets/{LEGACY_GROUP}/{secret}{suffix}") for suffix in (".enc", ".meta"))
    entries = [e for e in stored if e is not None]
    found, _ = tree.fetch(entries)
    return {f"secrets/{secret}{rel[rel.rindex('.'):]}": data for rel, data in found.items()}


class _Listing(Snapshot):
    """A whole-vault snapshot: it covers every file, since every entry was walked and
    verified (an unlisted path is simply absent)."""

    def file(self, rel: str) -> Optional[bytes]:
        if rel.startswith("secrets/") and rel.endswith(".enc"):
            raise LookupError("a listing snapshot holds no ciphertext")
        return self._files.get(rel)
