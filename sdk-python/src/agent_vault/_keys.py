"""Key discovery and identity files, exactly as the CLI (docs/format.md, "Key discovery").

1. an explicit identity file (``key_path``) or identity text (``key``);
2. an agent's default key file, ``$AGENT_VAULT_HOME/agents/NAME.key`` (``agent``);
3. ``AGENT_VAULT_KEY``: identity text if a line starts with ``AGE-SECRET-KEY-``, else a file path;
4. the owner key, ``$AGENT_VAULT_HOME/owner.key``.

A key that is named but missing is :class:`KeyNotFoundError`, never a reason to try the next one.
Key text is read into a ``bytearray`` that is overwritten once parsed; it is never written anywhere
and never appears in an error message.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List, Optional, Union

from pyrage import x25519

from ._errors import FormatError, KeyNotFoundError

HOME_ENV = "AGENT_VAULT_HOME"
KEY_ENV = "AGENT_VAULT_KEY"
SECRET_KEY_PREFIX = "AGE-SECRET-KEY-"
VERIFY_KEY_COMMENT = "agent-vault verify-key:"

KeyText = Union[str, bytes, bytearray]


@dataclass
class Identities:
    """Parsed identities and a description of where they came from (for messages)."""

    identities: List[Any]
    origin: str
    # The text after every `# agent-vault verify-key:` comment (the vaults it is used with).
    verify_keys: List[str] = field(default_factory=list)


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
    for i in range(len(buffer)):
        buffer[i] = 0


def parse_identities(text: KeyText, origin: str) -> Identities:
    """Parses age-keygen identity-file text: comments, blank lines, one or more identities."""
    buffer = bytearray(text.encode("utf-8") if isinstance(text, str) else text)
    try:
        try:
            decoded = buffer.decode("utf-8")
        except UnicodeDecodeError:
            raise FormatError(f"{origin}: it is not UTF-8 text; give an age-keygen identity file") from None
        identities = []
        verify_keys = []
        for number, raw_line in enumerate(decoded.splitlines(), start=1):
            line = raw_line.strip()
            if line.startswith("#"):
                comment = line[1:].strip()
                if comment.startswith(VERIFY_KEY_COMMENT):
                    verify_keys.append(comment[len(VERIFY_KEY_COMMENT):].strip())
                continue
            if not line:
                continue
            if line.startswith(SECRET_KEY_PREFIX):
                try:
                    identities.append(x25519.Identity.from_str(line))
                except Exception:  # pyrage.IdentityError; never echo the line
                    raise FormatError(
                        f"{origin}: line {number} is not a valid age identity"
                    ) from None
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
        return Identities(identities, origin, verify_keys)
    finally:
        _wipe(buffer)


def read_identity_file(path: Path, hint: str) -> Identities:
    """Reads an identity file; a missing file is KeyNotFoundError (never a fallback)."""
    try:
        with open(path, "rb", buffering=0) as f:
            size = os.fstat(f.fileno()).st_size
            buffer = bytearray(size + 1)
            view = memoryview(buffer)
            length = 0
            while True:
                n = f.readinto(view[length:])
                if not n:
                    break
                length += n
                if length == len(buffer):  # grew while reading
                    break
            del view
    except FileNotFoundError:
        raise KeyNotFoundError(f"key not found: {path} does not exist; {hint}") from None
    except IsADirectoryError:
        raise FormatError(f"key file {path}: is a folder, not an identity file; {hint}") from None
    except OSError as e:
        raise FormatError(f"cannot read key file {path} ({e.strerror}); check its permissions") from None
    try:
        return parse_identities(buffer[:length], f"key file {path}")
    finally:
        _wipe(buffer)


def load_identities(
    key_path: Optional[Path], key: Optional[bytearray], agent: Optional[str]
) -> Identities:
    """The identities a read uses, in the CLI's order of precedence."""
    if key is not None:
        return parse_identities(key, "the key argument")
    if key_path is not None:
        return read_identity_file(key_path, "check the key_path argument")
    home = key_home()
    if agent is not None:
        return read_identity_file(
            home / "agents" / f"{agent}.key",
            f"put agent '{agent}''s key there, pass key_path, or set {KEY_ENV} "
            f"(keys are looked up in {home})",
        )
    value = os.environ.get(KEY_ENV, "")
    if value.strip():
        # Identity text, also a whole key file with its comments (as in
        # AGENT_VAULT_KEY="$(cat bot.key)"); never treated, or echoed, as a path.
        if any(line.lstrip().startswith(SECRET_KEY_PREFIX) for line in value.splitlines()):
            return parse_identities(value, f"the key in {KEY_ENV}")
        if SECRET_KEY_PREFIX in value or "\n" in value or "\r" in value:
            raise KeyNotFoundError(
                f"{KEY_ENV} is neither a key file's path nor key text with an "
                f"{SECRET_KEY_PREFIX}1… line; set it to a key file's path or to the key itself"
            )
        return read_identity_file(
            Path(value.strip()), f"{KEY_ENV} names a key file that is missing; fix or unset it"
        )
    return read_identity_file(
        home / "owner.key",
        f"this machine has no owner key; pass key_path, key or agent, set {KEY_ENV}, or set "
        f"{HOME_ENV} to the folder holding owner.key",
    )
