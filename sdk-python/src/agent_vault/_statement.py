"""The signed statement and the shards (docs/format.md, "Integrity: the signed statement").

Only parsing and cryptography live here: the canonical form of statement versions 1 and 2, the
Ed25519 signature over the body, the ``key-change`` chain and the owners' endorsements. Which
key a reader should expect, and what it remembers, is ``_trust``'s business.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pyrage import x25519

from ._errors import IntegrityError, InvalidInputError
from ._names import escaped, secret_path_problem

STATEMENT_PATH = ".agent-vault/integrity/statement"
SHARDS_DIR = ".agent-vault/integrity/shards"
HEADER_V1 = "agent-vault-statement v1"
HEADER_V2 = "agent-vault-statement v2"
U64_MAX = 2**64 - 1
ZERO = bytes(32)
VERIFY_HINT = "ask the vault owner to run `agent-vault verify`"
MERGE_HINT = (
    "it still holds git conflict markers from a merge: take either side "
    "(`git checkout --theirs .agent-vault/integrity`), finish the merge, review it with "
    "`agent-vault verify`, then run `agent-vault sign`"
)
ENDORSEMENT_INFO = b"agent-vault owner endorsement v1"

Digest = bytes

_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_HEX32 = re.compile(r"[0-9a-f]{32}\Z")
_SHARD = re.compile(r"[0-9a-f]{2}\Z")
_SEQ = re.compile(r"[1-9][0-9]*\Z")
_RECIPIENT = re.compile(r"age1[02-9ac-hj-np-z]+\Z")
_CONTROL = re.compile("[\x00-\x1f\x7f]")
# Order of the base point: a signature's S must be below it (strict verification).
_L = 2**252 + 27742317777372353535851937790883648493
# Encodings of the points of small order (libsodium's blocklist; the sign bit is ignored).
_SMALL_ORDER = [
    bytes(32),
    bytes([1]) + bytes(31),
    bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
    bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
    bytes.fromhex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    bytes.fromhex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    bytes.fromhex("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
]


def sha256(data: bytes) -> Digest:
    return hashlib.sha256(data).digest()


def _b64(text: str, length: int) -> Optional[bytes]:
    """Standard base64 with padding, in its one canonical spelling, of exactly ``length`` bytes."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != length or base64.b64encode(raw).decode("ascii") != text:
        return None
    return raw


def _valid_recipient(text: str) -> bool:
    """An X25519 recipient `age1…` in its canonical (lowercase bech32) spelling."""
    if not _RECIPIENT.match(text):
        return False
    try:
        return str(x25519.Recipient.from_str(text)) == text
    except Exception:  # pyrage.RecipientError
        return False


def _small_order(raw: bytes) -> bool:
    masked = raw[:31] + bytes([raw[31] & 0x7F])
    return any(masked == bad[:31] + bytes([bad[31] & 0x7F]) for bad in _SMALL_ORDER)


def verify_key_bytes(key: str) -> Optional[bytes]:
    """The 32 bytes of a canonical ``ed25519:<base64>`` key, or None."""
    if not key.startswith("ed25519:"):
        return None
    raw = _b64(key[len("ed25519:"):], 32)
    if raw is None or _small_order(raw):
        return None
    return raw


def parse_verify_key(value: str, origin: str) -> str:
    """The canonical ``ed25519:<base64>`` form of a verify key; InvalidInputError if malformed."""
    text = value.strip()
    raw: Optional[bytes] = None
    if text.startswith("ed25519:"):
        try:
            raw = base64.b64decode(text[len("ed25519:"):], validate=True)
        except (binascii.Error, ValueError):
            raw = None
    if raw is None or len(raw) != 32 or _small_order(raw):
        raise InvalidInputError(
            f"{origin}: '{escaped(text[:80])}' is not a vault verify key (expected ed25519:<base64>, as "
            "printed by `agent-vault verify`)"
        )
    return "ed25519:" + base64.b64encode(raw).decode("ascii")


def ed25519_verify(key: str, signature: bytes, message: bytes) -> bool:
    """Strict Ed25519 verification: canonical S, no small-order key."""
    raw = verify_key_bytes(key)
    if raw is None or len(signature) != 64 or int.from_bytes(signature[32:], "little") >= _L:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(raw).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class KeyChange:
    """A ``key-change`` line: from ``seq`` on, ``previous`` handed over to the next key."""

    seq: int
    previous: str
    signature: bytes


@dataclass(frozen=True)
class Endorsement:
    """An ``owner`` line: the owner with this recipient made the statement's key the vault's."""

    recipient: str
    tag: bytes


@dataclass(frozen=True)
class Statement:
    """A statement whose canonical form and signature were checked (not yet its signer)."""

    version: int
    vault: Optional[str]  # 32 lowercase hex; None for version 1
    verify_key: str
    seq: int
    files: Dict[str, Digest]
    shards: Dict[str, Digest]
    key_changes: Tuple[KeyChange, ...] = ()
    owners: Tuple[Endorsement, ...] = ()
    _followed: Dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    def body(self) -> bytes:
        return render_body(self)

    def key_change_message(self, index: int) -> bytes:
        change = self.key_changes[index]
        following = (
            self.key_changes[index + 1].previous if index + 1 < len(self.key_changes) else self.verify_key
        )
        return (
            f"agent-vault key-change v1\nvault {self.vault}\nseq {change.seq}\n"
            f"from {change.previous}\nto {following}\n"
        ).encode("ascii")

    def can_follow_from(self, key: str) -> bool:
        """Whether the chain leads from ``key`` to the statement's key: ``key`` is the
        statement's key, or some ``K_j`` whose signatures of lines ``j…n`` all verify."""
        if key == self.verify_key:
            return True
        cached = self._followed.get(key)
        if cached is not None:
            return cached
        result = False
        for j, change in enumerate(self.key_changes):
            if change.previous == key and all(
                ed25519_verify(c.previous, c.signature, self.key_change_message(i))
                for i, c in enumerate(self.key_changes[j:], start=j)
            ):
                result = True
                break
        self._followed[key] = result
        return result

    def endorsed_by(self, identities: Sequence[Tuple[str, bytearray]]) -> bool:
        """Whether one of ``identities`` — (recipient ``age1…``, identity text in upper case) —
        has an ``owner`` line whose tag verifies for this vault and key."""
        if self.vault is None:
            return False
        message = endorsement_message(self.vault, self.verify_key)
        for owner in self.owners:
            for recipient, secret in identities:
                if recipient == owner.recipient and hmac.compare_digest(endorsement_tag(secret, message), owner.tag):
                    return True
        return False


def endorsement_tag(identity_upper: "bytes | bytearray", message: bytes) -> bytes:
    """``HMAC-SHA256(HKDF-SHA256(identity, salt="", info), message)``."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=ENDORSEMENT_INFO).derive(identity_upper)
    return hmac.new(key, message, hashlib.sha256).digest()


def endorsement_message(vault: str, verify_key: str) -> bytes:
    return f"agent-vault endorsement v1\nvault {vault}\nverify-key {verify_key}\n".encode("ascii")


def render_body(s: Statement) -> bytes:
    """The canonical body of a statement (everything before its ``signature`` line)."""
    out = [f"{HEADER_V2 if s.version == 2 else HEADER_V1}\n"]
    if s.version == 2:
        out.append(f"vault {s.vault}\n")
    out += [f"verify-key {s.verify_key}\n", f"seq {s.seq}\n"]
    for change in s.key_changes:
        out.append(
            f"key-change {change.seq} {change.previous} {base64.b64encode(change.signature).decode('ascii')}\n"
        )
    out += [f"owner {o.recipient} {o.tag.hex()}\n" for o in sorted(s.owners, key=lambda o: o.recipient.encode())]
    out += [f"file {s.files[name].hex()} {name}\n" for name in sorted(s.files, key=lambda n: n.encode("utf-8"))]
    out += [f"shard {s.shards[name].hex()} {name}\n" for name in sorted(s.shards)]
    return "".join(out).encode("utf-8")


def bad_statement(why: str) -> IntegrityError:
    return IntegrityError(
        f"integrity failure: {STATEMENT_PATH} {why}; do not trust this vault, {VERIFY_HINT}"
    )


def has_conflict_markers(data: bytes) -> bool:
    """A line starting ``<<<<<<< `` or ``>>>>>>> ``: a merge left the statement unresolved."""
    return any(line.startswith((b"<<<<<<< ", b">>>>>>> ")) for line in data.split(b"\n"))


class _Lines:
    def __init__(self, lines: List[str]) -> None:
        self.lines = lines
        self.at = 0

    def take(self, prefix: str) -> Optional[str]:
        if self.at < len(self.lines) and self.lines[self.at].startswith(prefix):
            self.at += 1
            return self.lines[self.at - 1][len(prefix):]
        return None


# Statements verified before, by the SHA-256 of their bytes (a changed file is a new key).
_VERIFIED: Dict[Digest, Statement] = {}


def parse_and_verify(data: bytes) -> Statement:
    """Parses a statement in its canonical form only and checks its signature by the key it
    names; whether that key is the right one is the caller's decision. Any deviation (unknown
    or out-of-order lines, duplicates, uppercase hex, a ``seq`` that is not a u64, text after
    the signature) is refused without looking further."""
    digest = sha256(data)
    cached = _VERIFIED.get(digest)
    if cached is not None:
        return cached
    statement = _parse(data)
    if len(_VERIFIED) > 64:
        _VERIFIED.clear()
    _VERIFIED[digest] = statement
    return statement


def _parse(data: bytes) -> Statement:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_statement("is not UTF-8 text") from None
    if not text.endswith("\n"):
        raise bad_statement("does not end with a line break (truncated?)")
    lines = text[:-1].split("\n")
    last = lines[-1]
    if not last.startswith("signature "):
        raise bad_statement("does not end with its signature line (truncated, or text after the signature)")
    signature = _b64(last[len("signature "):], 64)
    if signature is None:
        raise bad_statement("has a malformed signature")
    body = text[: len(text) - len(last) - 1]
    cursor = _Lines(lines[:-1])
    header = cursor.take("agent-vault-statement ")
    if header not in ("v1", "v2"):
        raise bad_statement("is not an agent-vault statement of version 1 or 2 (upgrade agent-vault if it is newer)")
    version = 2 if header == "v2" else 1
    vault: Optional[str] = None
    if version == 2:
        vault = cursor.take("vault ")
        if vault is None or not _HEX32.match(vault):
            raise bad_statement("names no valid vault identity")
    key = cursor.take("verify-key ")
    if key is None or verify_key_bytes(key) is None:
        raise bad_statement("names no valid verify key")
    seq_text = cursor.take("seq ")
    if seq_text is None or not _SEQ.match(seq_text) or int(seq_text) > U64_MAX:
        raise bad_statement("has no valid sequence number")
    seq = int(seq_text)
    changes: List[KeyChange] = []
    owners: List[Endorsement] = []
    if version == 2:
        while (rest := cursor.take("key-change ")) is not None:
            parts = rest.split(" ")
            sig = _b64(parts[2], 64) if len(parts) == 3 else None
            if (
                sig is None
                or not _SEQ.match(parts[0])
                or int(parts[0]) > U64_MAX
                or verify_key_bytes(parts[1]) is None
            ):
                raise bad_statement("has a malformed key-change line")
            changes.append(KeyChange(int(parts[0]), parts[1], sig))
        while (rest := cursor.take("owner ")) is not None:
            parts = rest.split(" ")
            if len(parts) != 2 or not _valid_recipient(parts[0]) or not _HEX64.match(parts[1]):
                raise bad_statement("has a malformed owner line")
            owners.append(Endorsement(parts[0], bytes.fromhex(parts[1])))
    for i in range(1, len(changes)):
        if changes[i].seq <= changes[i - 1].seq:
            raise bad_statement("has key-change lines out of order")
    if changes and changes[-1].seq > seq:
        raise bad_statement("has a key-change after its own sequence number")
    files: Dict[str, Digest] = {}
    shards: Dict[str, Digest] = {}
    while (rest := cursor.take("file ")) is not None:
        hexdigest, _, name = rest.partition(" ")
        if not _HEX64.match(hexdigest) or not name or _CONTROL.search(name) or name in files:
            raise bad_statement("has a malformed file line")
        files[name] = bytes.fromhex(hexdigest)
    while (rest := cursor.take("shard ")) is not None:
        hexdigest, _, name = rest.partition(" ")
        if not _HEX64.match(hexdigest) or not _SHARD.match(name) or name in shards:
            raise bad_statement("has a malformed shard line")
        shards[name] = bytes.fromhex(hexdigest)
    if cursor.at != len(cursor.lines):
        raise bad_statement(f"has an unexpected line {cursor.at + 1}")
    statement = Statement(version, vault, key, seq, files, shards, tuple(changes), tuple(owners))
    if render_body(statement) != body.encode("utf-8") or len(set(o.recipient for o in owners)) != len(owners):
        raise bad_statement("is not in canonical form (order, duplicates or spelling)")
    if not ed25519_verify(key, signature, body.encode("utf-8")):
        raise bad_statement("has a signature that does not match its contents (forged or edited)")
    return statement


# ----- shards ---------------------------------------------------------------------------------

Shard = Dict[str, Tuple[Digest, Digest]]


def shard_name(secret: str) -> str:
    return sha256(secret.encode("utf-8"))[:1].hex()


def shard_path(name: str) -> str:
    return f"{SHARDS_DIR}/{name}"


def shard_to_bytes(shard: Shard) -> bytes:
    return "".join(
        f"{shard[p][0].hex()} {shard[p][1].hex()} {p}\n" for p in sorted(shard, key=lambda p: p.encode())
    ).encode("utf-8")


def parse_shard(name: str, data: bytes) -> Shard:
    """A shard file in its canonical form (the caller checked its digest)."""
    bad = IntegrityError(
        f"integrity failure: {shard_path(name)} is malformed; do not trust this vault, {VERIFY_HINT}"
    )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise bad from None
    if text and not text.endswith("\n"):
        raise bad
    shard: Shard = {}
    for line in text.split("\n")[:-1]:
        parts = line.split(" ", 2)
        if (
            len(parts) != 3
            or not _HEX64.match(parts[0])
            or not _HEX64.match(parts[1])
            or secret_path_problem(parts[2]) is not None
            or shard_name(parts[2]) != name
            or parts[2] in shard
        ):
            raise bad
        shard[parts[2]] = (bytes.fromhex(parts[0]), bytes.fromhex(parts[1]))
    if shard_to_bytes(shard) != data:
        raise bad
    return shard
