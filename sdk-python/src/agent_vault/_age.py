"""Limits checked on an age file before any key is tried (docs/format.md, "Decryption limits").

An age header is a line ``age-encryption.org/v1``, one stanza per recipient (a ``-> `` line and
its base64 body lines), and a ``---`` MAC line. A hostile header with thousands of stanzas makes
decryption slow (quadratic in pyrage), so a header larger than 1 MiB, after removing ASCII armor,
or with more than 4,096 stanzas is refused as a format error before decryption starts.
"""

from __future__ import annotations

import base64
import binascii
from typing import Optional

MAX_HEADER_BYTES = 1024 * 1024
MAX_STANZAS = 4096
ARMOR_BEGIN = b"-----BEGIN AGE ENCRYPTED FILE-----"
ARMOR_END = b"-----END AGE ENCRYPTED FILE-----"
INTRO = b"age-encryption.org/v1\n"


def _dearmor(data: bytes) -> Optional[bytes]:
    """The binary age file inside ASCII armor (only as much as the header needs), or None."""
    text = data.strip(b" \t\r\n")
    lines = text.split(b"\n")
    if not lines or lines[0].rstrip(b"\r") != ARMOR_BEGIN:
        return None
    body = []
    # 1 MiB of header is at most 4/3 MiB of base64: decode no more than that (plus a line).
    budget = (MAX_HEADER_BYTES * 4) // 3 + 128
    for line in lines[1:]:
        line = line.rstrip(b"\r")
        if line == ARMOR_END:
            break
        body.append(line)
        budget -= len(line)
        if budget < 0:
            break
    joined = b"".join(body)
    joined = joined[: len(joined) - len(joined) % 4]
    try:
        return base64.b64decode(joined, validate=True)
    except (binascii.Error, ValueError):
        return None


def header_problem(data: bytes) -> Optional[str]:
    """Why this age file is refused before decryption (too many stanzas, too large a header),
    or None (also for files that are not age at all: decryption then says so)."""
    binary = _dearmor(data) if data.startswith(b"-----") or data[:1].isspace() else data
    if binary is None or not binary.startswith(INTRO):
        return None
    stanzas = 0
    pos = len(INTRO)
    while True:
        end = binary.find(b"\n", pos, MAX_HEADER_BYTES + 1)
        if end < 0:
            if len(binary) > MAX_HEADER_BYTES:
                return "its header is larger than 1 MiB"
            return None  # truncated: decryption reports it
        line = binary[pos:end]
        if line.startswith(b"-> "):
            stanzas += 1
            if stanzas > MAX_STANZAS:
                return f"its header holds more than {MAX_STANZAS:,} recipient stanzas"
        elif line.startswith(b"---"):
            return None
        pos = end + 1
        if pos > MAX_HEADER_BYTES:
            return "its header is larger than 1 MiB"
