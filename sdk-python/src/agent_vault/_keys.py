"""Key discovery and identity files, exactly as the CLI (docs/format.md, "Key discovery").

1. an explicit identity file (``key_path``) or identity text (``key``);
2. an agent's default key file, ``$AGENT_VAULT_HOME/agents/<vault id>/NAME.key``, else
   ``$AGENT_VAULT_HOME/agents/NAME.key`` (``agent``);
3. ``AGENT_VAULT_KEY`` when it is set, even empty: identity text if a line starts with
   ``AGE-SECRET-KEY-`` in any letter case, else a file path; empty, not UTF-8, or neither is
   :class:`KeyNotFoundError` without echoing the value (it may be mangled key material);
4. the owner key, ``$AGENT_VAULT_HOME/owner.key``.

A key that is named but missing is :class:`KeyNotFoundError`, never a reason to try the next one.
Identity files are read with a cap of 1 MiB. Key text is read into a ``bytearray`` that is
overwritten once parsed; it is never written anywhere and never appears in an error message.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List, Optional, Tuple, Union

from pyrage import x25519

from ._errors import FormatError, KeyNotFoundError

HOME_ENV = "AGENT_VAULT_HOME"
KEY_ENV = "AGENT_VAULT_KEY"
SECRET_KEY_PREFIX = "AGE-SECRET-KEY-"
VERIFY_KEY_COMMENT = "agent-vault verify-key:"
MAX_KEY_FILE_BYTES = 1024 * 1024

KeyText = Union[str, bytes, bytearray]


@dataclass
class Identities:
    """Parsed identities and a description of where they came from (for messages)."""

    identities: List[Any]
    origin: str
    # The text after every `# agent-vault verify-key:` comment (the vaults it is used with).
    verify_keys: List[str] = field(default_factory=list)
    # (recipient, identity text in upper case) of each identity, for owner endorsements;
    # overwritten by wipe().
    endorsers: List[Tuple[str, bytearray]] = field(default_factory=list)

    def wipe(self) -> None:
        """Forgets the identities and overwrites their text."""
        self.identities.clear()
        for _, secret in self.endorsers:
            _wipe(secret)
        self.endorsers.clear()


def key_home() -> Path:
    """``$AGENT_VAULT_HOME``, or ``~/.agent-vault``."""
    configured = os.environ.get(HOME_ENV, "")
    if configured:
        return Path(configured)
    try:
        return Path.home() / ".agent-vault"
    except RuntimeError:
        raise KeyNotFoundError(
            f"key not found: cannot find the home directory; set {HOME_ENV} to the folder holding your keys"
        ) from None


def _wipe(buffer: bytearray) -> None:
    """Overwrites ``buffer`` in place (same length: no reallocation, so no copy left behind)."""
    buffer[:] = bytes(len(buffer))


def parse_identities(text: KeyText, origin: str) -> Identities:
    """Parses age-keygen identity-file text: comments, blank lines, one or more identities."""
    buffer = bytearray(text.encode("utf-8") if isinstance(text, str) else text)
    try:
        try:
            decoded = buffer.decode("utf-8")
        except UnicodeDecodeError:
            raise FormatError(f"{origin}: it is not UTF-8 text; give an age-keygen identity file") from None
        identities: List[Any] = []
        verify_keys: List[str] = []
        endorsers: List[Tuple[str, bytearray]] = []
        for number, raw_line in enumerate(decoded.splitlines(), start=1):
            line = raw_line.strip()
            if line.startswith("#"):
                comment = line[1:].strip()
                if comment.startswith(VERIFY_KEY_COMMENT):
                    verify_keys.append(comment[len(VERIFY_KEY_COMMENT):].strip())
                continue
            if not line:
                continue
            if line[: len(SECRET_KEY_PREFIX)].upper() == SECRET_KEY_PREFIX:
                upper = bytearray(line.upper().encode("ascii", "replace"))
                try:
                    identity = x25519.Identity.from_str(upper.decode("ascii"))
                except Exception:  # pyrage.IdentityError; never echo the line
                    _wipe(upper)
                    raise FormatError(
                        f"{origin}: line {number} is not a valid age identity"
                    ) from None
                identities.append(identity)
                endorsers.append((str(identity.to_public()), upper))
            elif line.startswith("AGE-PLUGIN-"):
                raise FormatError(
                    f"{origin}: line {number} is an age plugin identity, which agent-vault does "
                    "not support; use an X25519 key from age-keygen"
                )
            else:
                raise FormatError(
                    f"{origin}: line {number} is neither a comment nor an AGE-SECRET-KEY-1… identity"
                )
        if not identities:
            raise FormatError(f"{origin}: it holds no AGE-SECRET-KEY-1… identity")
        return Identities(identities, origin, verify_keys, endorsers)
    finally:
        _wipe(buffer)


def read_identity_file(path: Path, hint: str, quiet: bool = False) -> Identities:
    """Reads an identity file (at most 1 MiB); a missing file is KeyNotFoundError (never a
    fallback). With ``quiet``, errors do not name the path (it came from AGENT_VAULT_KEY,
    which may be mangled key material)."""
    shown = "the key file named by AGENT_VAULT_KEY" if quiet else f"key file {path}"
    buffer = bytearray(MAX_KEY_FILE_BYTES + 1)
    try:
        with open(path, "rb", buffering=0) as f:
            view = memoryview(buffer)
            length = 0
            while length < len(buffer):
                n = f.readinto(view[length:])
                if not n:
                    break
                length += n
            del view
    except FileNotFoundError:
        raise KeyNotFoundError(
            f"key not found: {'the file AGENT_VAULT_KEY names' if quiet else str(path)} does not exist; {hint}"
        ) from None
    except IsADirectoryError:
        raise FormatError(f"{shown}: is a folder, not an identity file; {hint}") from None
    except OSError as e:
        raise FormatError(f"cannot read {shown} ({e.strerror}); check its permissions") from None
    try:
        if length > MAX_KEY_FILE_BYTES:
            raise FormatError(f"{shown}: larger than 1 MiB, so not an identity file; {hint}")
        del buffer[length:]
        return parse_identities(buffer, shown)
    finally:
        _wipe(buffer)


def agent_key_path(home: Path, agent: str, vault_id: Optional[str]) -> Path:
    """An agent's key file for the vault with identity ``vault_id``:
    ``agents/<vault id>/NAME.key`` when it exists, else ``agents/NAME.key`` (where keys were
    kept before they were kept per vault), else the agent's key of another vault (whose anchors
    then report a replaced or removed statement as such, rather than "key not found")."""
    legacy = home / "agents" / f"{agent}.key"
    per_vault = home / "agents" / vault_id / f"{agent}.key" if vault_id is not None else None
    if per_vault is not None and per_vault.exists():
        return per_vault
    if legacy.exists():
        return legacy
    try:
        found = sorted(p for p in (home / "agents").glob(f"*/{agent}.key") if p.is_file())
    except OSError:
        found = []
    return found[0] if found else (per_vault or legacy)


def load_identities(
    key_path: Optional[Path],
    key: Optional[bytearray],
    agent: Optional[str],
    vault_id: Optional[str] = None,
) -> Identities:
    """The identities a read uses, in the CLI's order of precedence. ``vault_id`` (the vault's
    identity as its statement names it) picks the agent's key file of that vault."""
    if key is not None:
        return parse_identities(key, "the key argument")
    if key_path is not None:
        return read_identity_file(key_path, "check the key_path argument")
    home = key_home()
    if agent is not None:
        return read_identity_file(
            agent_key_path(home, agent, vault_id),
            f"put the key of agent '{agent}' there, pass key_path, or set {KEY_ENV} "
            f"(keys are looked up in {home})",
        )
    if KEY_ENV in os.environ:
        return _from_env(os.environ[KEY_ENV])
    return read_identity_file(
        home / "owner.key",
        f"this machine has no owner key; pass key_path, key or agent, set {KEY_ENV}, or set "
        f"{HOME_ENV} to the folder holding owner.key",
    )


def _from_env(value: str) -> Identities:
    """``AGENT_VAULT_KEY``, set: key text, or a key file's path; never echoed."""
    unusable = KeyNotFoundError(
        f"key not found: {KEY_ENV} is set but is neither a key file's path nor key text with an "
        f"{SECRET_KEY_PREFIX}1… line (its value is not shown: it may be key material); set it to a "
        "key file's path or to the key itself, or unset it"
    )
    try:
        raw = bytearray(value.encode("utf-8"))  # lone surrogates: not UTF-8 in the environment
    except UnicodeEncodeError:
        raise unusable from None
    try:
        lines = value.splitlines()
        if any(line.lstrip()[: len(SECRET_KEY_PREFIX)].upper() == SECRET_KEY_PREFIX for line in lines):
            # Identity text, also a whole key file with its comments (as in
            # AGENT_VAULT_KEY="$(cat bot.key)"); never treated, or echoed, as a path.
            return parse_identities(raw, f"the key in {KEY_ENV}")
        path = value.strip()
        if not path or "\n" in path or "\r" in path or "\0" in path or not os.path.exists(path):
            raise unusable
        return read_identity_file(
            Path(path), f"{KEY_ENV} names a key file that cannot be used; fix or unset it", quiet=True
        )
    finally:
        _wipe(raw)
