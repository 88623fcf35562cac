"""Validation of secret paths, agent names and group names (docs/format.md, "Names").

A path is validated before it becomes a file name: this is what keeps ``../../x`` inside the vault.
"""

from __future__ import annotations

import re

from ._errors import FormatError, InvalidInputError

MAX_SECRET_PATH_LEN = 200
MAX_SEGMENT_LEN = 100
MAX_NAME_LEN = 64

_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*\Z")
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]*\Z")
_PATH_RULE = (
    "use `/`-separated segments of letters, digits, `_`, `.` and `-`, each starting with a "
    "letter, digit or `_` (e.g. `stripe/api-key`)"
)


_CONTROL = re.compile("[\x00-\x1f\x7f]")


def escaped(value: str) -> str:
    """``value`` with every control character (U+0000–U+001F, U+007F) written as ``\\u{1b}``,
    so a terminal never interprets bytes taken from a repository (docs/format.md)."""
    return _CONTROL.sub(lambda m: "\\u{%x}" % ord(m.group(0)), value)


def escaped_bytes(value: bytes) -> str:
    """A name from a git tree, shown: UTF-8 where valid, ``\\xff`` for other bytes, escaped."""
    return escaped(value.decode("utf-8", "backslashreplace"))


def _shown(value: str) -> str:
    # Cap what we echo: the input may be something pasted by mistake.
    return "'" + escaped(value[:80]).replace("'", "\\'") + "'"


def secret_path_problem(value: object) -> str | None:
    """Why ``value`` is not a valid secret path, or None if it is."""
    if not isinstance(value, str):
        return "it must be a string"
    if not value:
        return "it is empty"
    if len(value.encode("utf-8")) > MAX_SECRET_PATH_LEN:
        return f"it is longer than {MAX_SECRET_PATH_LEN} bytes"
    if value.startswith("/"):
        return "it must not start with `/`"
    for segment in value.split("/"):
        if not segment:
            return f"it has an empty segment; {_PATH_RULE}"
        if len(segment) > MAX_SEGMENT_LEN:
            return f"a segment is longer than {MAX_SEGMENT_LEN} bytes"
        if not segment.isascii() or not _SEGMENT.match(segment):
            return _PATH_RULE
        if segment.endswith(".enc") or segment.endswith(".meta"):
            return "segments must not end in `.enc` or `.meta`"
    return None


def check_secret_path(value: object) -> str:
    """Returns ``value`` if it is a valid secret path, else raises InvalidInputError."""
    problem = secret_path_problem(value)
    if problem is not None:
        raise InvalidInputError(f"invalid secret path {_shown(str(value))}: {problem}")
    assert isinstance(value, str)
    return value


def name_problem(value: object) -> str | None:
    """Why ``value`` is not a valid agent or group name, or None if it is."""
    if not isinstance(value, str):
        return "it must be a string"
    if not value:
        return "it is empty"
    if len(value) > MAX_NAME_LEN or not value.isascii() or not _NAME.match(value):
        return (
            "use lowercase letters, digits, `.`, `_` and `-`, starting with a letter or digit, "
            "at most 64 characters"
        )
    return None


def check_name(what: str, value: object) -> str:
    """Returns ``value`` if it is a valid agent/group name, else raises InvalidInputError."""
    problem = name_problem(value)
    if problem is not None:
        raise InvalidInputError(f"invalid {what} {_shown(str(value))}: {problem}")
    assert isinstance(value, str)
    return value


def check_stored_secret_path(value: str, where: str) -> str:
    """A secret path read from a vault file: an invalid one is a damaged (or hostile) file."""
    problem = secret_path_problem(value)
    if problem is not None:
        raise FormatError(
            f"{where}: lists the invalid secret path {_shown(value)} ({problem}); "
            "fix the file or restore it from git history"
        )
    return value


def check_stored_agent_name(value: str, where: str) -> str:
    """An agent name read from a vault file, before it becomes part of a file path."""
    problem = name_problem(value)
    if problem is not None:
        raise FormatError(
            f"{where}: lists the invalid agent name {_shown(value)} ({problem}); "
            "fix the file or restore it from git history"
        )
    return value
