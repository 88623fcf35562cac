"""Signature verification: the reader's side of docs/format.md, "Integrity: the signed statement".

The owner signs the vault's state: ``.agent-vault/integrity/statement`` lists a sequence number,
the SHA-256 of every policy file (every vault file outside ``secrets/`` and ``integrity/``) and of
each non-empty shard; ``integrity/shards/<xx>`` lists the SHA-256 of each secret's ``.enc`` and
``.meta``. A reader checks one Ed25519 signature and hashes the statement, the policy files, one
shard and the secret's two files per ``get``; listings check the whole vault.

Which key the vault must be signed with (the anchor), first match wins: the ``verify_key``
argument, ``AGENT_VAULT_VERIFY_KEY``, the ``# agent-vault verify-key:`` comments of the identity
in use, the pin in ``$AGENT_VAULT_HOME/pins.json``; else trust on first use (and pin).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Protocol, Sequence, Tuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ._errors import FormatError, IntegrityError, InvalidInputError

try:  # POSIX: serialize concurrent pin writers like the CLI does
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

VAULT_DIR = ".agent-vault"
STATEMENT_PATH = ".agent-vault/integrity/statement"
SHARDS_DIR = ".agent-vault/integrity/shards"
SECRETS_DIR = ".agent-vault/secrets"
AGENTS_DIR = ".agent-vault/agents"
VERIFY_KEY_ENV = "AGENT_VAULT_VERIFY_KEY"
KEY_FILE_COMMENT = "agent-vault verify-key:"
HEADER = "agent-vault-statement v1"
ZERO = bytes(32)
U64_MAX = 2**64 - 1
VERIFY_HINT = "ask the vault owner to run `agent-vault verify`"

Digest = bytes


def sha256(data: bytes) -> Digest:
    return hashlib.sha256(data).digest()


def parse_verify_key(value: str, origin: str) -> str:
    """The canonical ``ed25519:<base64>`` form of a verify key; InvalidInputError if malformed."""
    text = value.strip()
    raw: Optional[bytes] = None
    if text.startswith("ed25519:"):
        try:
            raw = base64.b64decode(text[len("ed25519:"):], validate=True)
        except (binascii.Error, ValueError):
            raw = None
    if raw is None or len(raw) != 32:
        shown = text[:80].encode("unicode_escape").decode("ascii")
        raise InvalidInputError(
            f"{origin}: '{shown}' is not a vault verify key (expected ed25519:<base64>, as "
            "printed by `agent-vault verify`)"
        )
    try:
        Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise InvalidInputError(f"{origin}: '{text[:80]}' is not a valid Ed25519 public key") from None
    return "ed25519:" + base64.b64encode(raw).decode("ascii")


@dataclass(frozen=True)
class Statement:
    """A verified statement."""

    verify_key: str  # canonical ed25519:<base64>
    seq: int
    files: Dict[str, Digest]  # policy file name (relative to .agent-vault/) -> digest
    shards: Dict[str, Digest]  # shard name -> digest


def _body(verify_key: str, seq: int, files: Dict[str, Digest], shards: Dict[str, Digest]) -> str:
    out = [f"{HEADER}\n", f"verify-key {verify_key}\n", f"seq {seq}\n"]
    out += [f"file {files[name].hex()} {name}\n" for name in sorted(files)]
    out += [f"shard {shards[name].hex()} {name}\n" for name in sorted(shards)]
    return "".join(out)


def _bad(why: str) -> IntegrityError:
    return IntegrityError(f"integrity failure: {STATEMENT_PATH} {why}; do not trust this vault, {VERIFY_HINT}")


def _hex32(text: Optional[str]) -> Optional[Digest]:
    if text is None or len(text) != 64:
        return None
    try:
        return bytes.fromhex(text)
    except ValueError:
        return None


# Parsed statements keyed by the SHA-256 of their bytes: a change to the file is a new key.
_STATEMENTS: Dict[Digest, Statement] = {}


def parse_and_verify(data: bytes) -> Statement:
    """Parses a statement (canonical form only) and checks its signature against the key it
    names. Whether that key is the right one is the caller's decision."""
    cache_key = sha256(data)
    cached = _STATEMENTS.get(cache_key)
    if cached is not None:
        return cached
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _bad("is not text") from None
    split = text.rfind("signature ")
    if split < 0:
        raise _bad("has no signature")
    body, signature_line = text[:split], text[split:]
    if body and not body.endswith("\n"):
        raise _bad("has no signature")
    signature_b64 = signature_line[len("signature "):].rstrip("\n")
    if "\n" in signature_b64:
        raise _bad("has text after its signature")
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError):
        signature = b""
    if len(signature) != 64:
        raise _bad("has a malformed signature")
    lines = body.split("\n")[:-1] if body else []
    if not lines or lines[0] != HEADER:
        raise _bad("is not an agent-vault v1 statement")
    if len(lines) < 2 or not lines[1].startswith("verify-key "):
        raise _bad("names no verify key")
    try:
        verify_key = parse_verify_key(lines[1][len("verify-key "):], STATEMENT_PATH)
    except InvalidInputError:
        raise _bad("names an invalid verify key") from None
    seq_text = lines[2][len("seq "):] if len(lines) > 2 and lines[2].startswith("seq ") else ""
    if not seq_text.isdigit() or not seq_text.isascii() or int(seq_text) > U64_MAX:
        raise _bad("has no sequence number")
    seq = int(seq_text)
    files: Dict[str, Digest] = {}
    shards: Dict[str, Digest] = {}
    for line in lines[3:]:
        parts = line.split(" ", 2)
        digest = _hex32(parts[1] if len(parts) > 1 else None)
        if digest is None or len(parts) < 3:
            raise _bad("has a malformed line")
        if parts[0] == "file":
            files[parts[2]] = digest
        elif parts[0] == "shard":
            shards[parts[2]] = digest
        else:
            raise _bad("has a malformed line")
    if _body(verify_key, seq, files, shards) != body:
        raise _bad("is not in canonical form")
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(verify_key[len("ed25519:"):]))
    try:
        public.verify(signature, body.encode("utf-8"))
    except InvalidSignature:
        raise _bad("has a signature that does not match its contents (forged or edited)") from None
    statement = Statement(verify_key, seq, files, shards)
    if len(_STATEMENTS) > 64:
        _STATEMENTS.clear()
    _STATEMENTS[cache_key] = statement
    return statement


# ----- shards ---------------------------------------------------------------------------------

Shard = Dict[str, Tuple[Digest, Digest]]


def shard_name(secret: str) -> str:
    return sha256(secret.encode("utf-8"))[:1].hex()


def shard_path(name: str) -> str:
    return f"{SHARDS_DIR}/{name}"


def shard_to_bytes(shard: Shard) -> bytes:
    return "".join(f"{shard[p][0].hex()} {shard[p][1].hex()} {p}\n" for p in sorted(shard)).encode("utf-8")


def shard_from_bytes(name: str, data: bytes) -> Shard:
    bad = IntegrityError(
        f"integrity failure: shard {shard_path(name)} is malformed; do not trust this vault, {VERIFY_HINT}"
    )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise bad from None
    shard: Shard = {}
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    for line in lines:
        parts = line.split(" ", 2)
        enc = _hex32(parts[0]) if parts else None
        meta = _hex32(parts[1]) if len(parts) > 1 else None
        if enc is None or meta is None or len(parts) < 3:
            raise bad
        shard[parts[2]] = (enc, meta)
    if shard_to_bytes(shard) != data:
        raise bad
    return shard


def _read_shard(data: Optional[bytes], statement: Statement, name: str) -> Shard:
    """The shard ``name`` (``data`` = its file's bytes, or None) checked against the statement."""
    path = shard_path(name)
    expected = statement.shards.get(name)
    if expected is None:
        return {}
    if data is None:
        raise IntegrityError(
            f"integrity failure: {path} is missing but the signed statement lists it; {VERIFY_HINT}"
        )
    if sha256(data) != expected:
        raise IntegrityError(
            f"integrity failure: {path} was changed after the owner signed the vault; {VERIFY_HINT}"
        )
    return shard_from_bytes(name, data)


# ----- classifying vault files ----------------------------------------------------------------


def policy_name(path: str) -> Optional[str]:
    """The statement name of a policy file (every vault file outside secrets/ and integrity/)."""
    if not path.startswith(VAULT_DIR + "/"):
        return None
    rel = path[len(VAULT_DIR) + 1:]
    if rel.startswith("secrets/") or rel.startswith("integrity/"):
        return None
    return rel


def secret_of(path: str) -> Optional[str]:
    if not path.startswith(SECRETS_DIR + "/"):
        return None
    rest = path[len(SECRETS_DIR) + 1:]
    for suffix in (".enc", ".meta"):
        if rest.endswith(suffix):
            return rest[: -len(suffix)]
    return None


def _file_problem(statement: Statement, path: str, data: Optional[bytes]) -> Optional[str]:
    rel = policy_name(path) or path
    expected = statement.files.get(rel)
    if expected is not None and data is not None:
        return None if sha256(data) == expected else f"{path} was changed after the owner signed the vault"
    if expected is not None:
        return f"{path} was deleted after the owner signed the vault"
    if data is not None:
        return f"{path} was added after the owner signed the vault"
    return None


class FileLister(Protocol):
    """What verification needs from a source (``_git.Source``)."""

    def list_files(self, folder: str) -> List[str]: ...

    def read_many(self, paths: Sequence[str]) -> Dict[str, Optional[bytes]]: ...


def verify_get(
    source: FileLister,
    statement: Statement,
    secret: str,
    enc: Optional[bytes],
    meta: Optional[bytes],
) -> None:
    """Step 4 for ``get(secret)``: the policy files, the secret's shard and its two files."""
    policy_paths = [f"{VAULT_DIR}/{rel}" for rel in sorted(statement.files)]
    name = shard_name(secret)
    extra_agent_files = [p for p in source.list_files(AGENTS_DIR) if (policy_name(p) or p) not in statement.files]
    files = source.read_many([*policy_paths, shard_path(name)])
    for path in policy_paths:
        problem = _file_problem(statement, path, files[path])
        if problem:
            raise IntegrityError(f"integrity failure: {problem}; do not trust this vault, {VERIFY_HINT}")
    if extra_agent_files:
        raise IntegrityError(
            f"integrity failure: {extra_agent_files[0]} was added after the owner signed the "
            f"vault; do not trust this vault, {VERIFY_HINT}"
        )
    shard = _read_shard(files[shard_path(name)], statement, name)
    signed = shard.get(secret)
    if signed is None:
        if enc is None and meta is None:
            return
        raise IntegrityError(
            f"integrity failure: secret '{secret}' was added after the owner signed the vault (not "
            f"in the signed state); do not use it, {VERIFY_HINT}"
        )
    if enc is None or meta is None:
        raise IntegrityError(
            f"integrity failure: secret '{secret}' was deleted after the owner signed the vault; {VERIFY_HINT}"
        )
    if sha256(enc) != signed[0]:
        raise IntegrityError(
            f"integrity failure: the ciphertext of '{secret}' is not the one the owner signed "
            f"(replaced or rolled back); do not use it, {VERIFY_HINT}"
        )
    if sha256(meta) != signed[1]:
        raise IntegrityError(
            f"integrity failure: the metadata of '{secret}' is not what the owner signed (edited "
            f"or rolled back); {VERIFY_HINT}"
        )


def verify_all(source: FileLister, statement: Statement) -> None:
    """Step 5 for listings: the whole vault must be exactly what was signed."""
    problems: List[str] = []
    all_files = source.list_files(VAULT_DIR)
    policy: Dict[str, str] = {}
    secret_files: List[str] = []
    shard_files: List[str] = []
    for path in all_files:
        rel = policy_name(path)
        if rel is not None:
            policy[rel] = path
        elif secret_of(path) is not None:
            secret_files.append(path)
        elif path.startswith(SHARDS_DIR + "/"):
            shard_files.append(path[len(SHARDS_DIR) + 1:])
        elif path != STATEMENT_PATH:
            problems.append(f"{path}: unexpected file in the vault (not covered by the signature)")
    data = source.read_many(
        [*policy.values(), *secret_files, *(shard_path(n) for n in sorted(statement.shards))]
    )
    for path in policy.values():
        problem = _file_problem(statement, path, data[path])
        if problem:
            problems.append(problem)
    for rel in sorted(statement.files):
        if rel not in policy:
            problems.append(f"{VAULT_DIR}/{rel} was deleted after the owner signed the vault")
    signed: Shard = {}
    for name in sorted(statement.shards):
        try:
            signed.update(_read_shard(data[shard_path(name)], statement, name))
        except IntegrityError as e:
            problems.append(str(e).replace("integrity failure: ", "", 1))
    for name in shard_files:
        if name not in statement.shards:
            problems.append(f"{shard_path(name)}: shard not listed in the signed statement")
    secrets: Dict[str, List[Optional[bytes]]] = {}
    for path in secret_files:
        secret = secret_of(path)
        assert secret is not None
        entry = secrets.setdefault(secret, [None, None])
        entry[0 if path.endswith(".enc") else 1] = data[path]
    for secret in sorted(secrets):
        enc, meta = secrets[secret]
        hashes = signed.get(secret)
        if hashes is None:
            problems.append(f"secret '{secret}' was added after the owner signed the vault")
            continue
        if enc is None:
            problems.append(f"the ciphertext of '{secret}' was deleted")
        elif sha256(enc) != hashes[0]:
            problems.append(f"the ciphertext of '{secret}' is not the one the owner signed (replaced or rolled back)")
        if meta is None:
            problems.append(f"the metadata of '{secret}' was deleted")
        elif sha256(meta) != hashes[1]:
            problems.append(f"the metadata of '{secret}' is not what the owner signed (edited or rolled back)")
    for secret in sorted(signed):
        if secret not in secrets:
            problems.append(f"secret '{secret}' was deleted after the owner signed the vault")
    if problems:
        raise IntegrityError(
            "integrity failure: the vault differs from what the owner signed:\n  "
            + "\n  ".join(problems)
            + f"\nDo not trust it; {VERIFY_HINT}"
        )


# ----- pins -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pin:
    verify_key: str
    seq: int


class Pins:
    """``$AGENT_VAULT_HOME/pins.json``: the trusted verify key and highest seq per location."""

    def __init__(self, home: Path) -> None:
        self.path = home / "pins.json"

    def _read(self) -> Dict[str, Any]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return {"version": 1, "vaults": {}}
        except OSError as e:
            raise FormatError(f"cannot read {self.path} ({e.strerror}); check its permissions") from None
        try:
            doc = json.loads(data.decode("utf-8"))
            if not isinstance(doc, dict):
                raise ValueError("not a JSON object")
            vaults = doc.setdefault("vaults", {})
            if not isinstance(vaults, dict):
                raise ValueError("'vaults' is not an object")
            for entry in vaults.values():
                if not (
                    isinstance(entry, dict)
                    and isinstance(entry.get("verify_key"), str)
                    and isinstance(entry.get("seq"), int)
                    and not isinstance(entry.get("seq"), bool)
                    and 0 <= entry["seq"] <= U64_MAX
                ):
                    raise ValueError("an entry is not {\"verify_key\": …, \"seq\": …}")
        except (UnicodeDecodeError, ValueError) as e:
            raise FormatError(
                f"{self.path}: cannot parse ({e}); fix or delete it (deleting forgets which vault "
                "keys this machine trusts)"
            ) from None
        return doc

    def get(self, location: str) -> Optional[Pin]:
        entry = self._read()["vaults"].get(location)
        return Pin(entry["verify_key"], entry["seq"]) if entry is not None else None

    def record(self, location: str, pin: Pin) -> None:
        """Records ``pin``, keeping the highest seq for the same key; atomic (temp + rename)."""
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            with open(self.path.with_name("pins.json.lock"), "a") as lock:
                if fcntl is not None:
                    fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
                doc = self._read()
                entry = doc["vaults"].get(location)
                if entry is not None and entry["verify_key"] == pin.verify_key:
                    entry["seq"] = max(entry["seq"], pin.seq)
                else:
                    doc["vaults"][location] = {"verify_key": pin.verify_key, "seq": pin.seq}
                doc["version"] = 1
                data = (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode("utf-8")
                fd, tmp = tempfile.mkstemp(prefix=".pins-", dir=str(folder))
                try:
                    with os.fdopen(fd, "wb") as f:
                        f.write(data)
                        f.flush()
                        os.fsync(f.fileno())
                    os.chmod(tmp, 0o600)
                    os.replace(tmp, self.path)
                except BaseException:
                    try:
                        os.unlink(tmp)
                    except OSError:
                        pass
                    raise
        except OSError as e:
            raise FormatError(
                f"cannot record the vault's verify key in {self.path} ({e.strerror}); check the "
                "folder's permissions"
            ) from None


def rollback_error(statement: Statement, pin: Pin) -> IntegrityError:
    return IntegrityError(
        f"integrity failure: rollback: the vault is at signed state {statement.seq} but this "
        f"machine has already seen state {pin.seq}; someone may have restored old files to undo a "
        f"rotation or revocation. Do not trust it; {VERIFY_HINT}"
    )
