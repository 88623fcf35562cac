"""``$AGENT_VAULT_HOME/pins.json``: what this machine remembers (docs/format.md, "Pins").

Per vault identity, the verify key trusted now and the highest ``seq`` seen; per location, which
vault identity it holds; and the ``legacy`` pins of version-1 statements, per location. The same
file, with the same lock protocol, as the CLI and the Node SDK:

* reading: missing is "no pins"; a file that cannot be read or parsed, is over 16 MiB, or has a
  ``version`` above 2 is an error (never taken as "no pins", which would silently turn trust on
  first use back on); version 1 is read as if its ``vaults`` were ``legacy``;
* writing: ``pins.json.lock`` created with ``O_CREAT|O_EXCL`` (retried every 10 ms for 2 s,
  removed first when older than 10 s), re-read under the lock, a temporary file fsynced and
  renamed over ``pins.json``, the folder fsynced. A pin that cannot be written is a warning:
  it only weakens rollback protection on this machine.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict

from ._errors import FormatError

logger = logging.getLogger("agent_vault")

PINS_VERSION = 2
MAX_PINS_BYTES = 16 * 1024 * 1024
LOCK_RETRY_SECONDS = 0.01
LOCK_WAIT_SECONDS = 2.0
LOCK_STALE_SECONDS = 10.0
U64_MAX = 2**64 - 1


@dataclass(frozen=True)
class Pin:
    verify_key: str
    seq: int

    def to_json(self) -> Dict[str, Any]:
        return {"verify_key": self.verify_key, "seq": self.seq}


@dataclass
class PinsDoc:
    """The parsed file; ``extra`` keeps unknown top-level keys."""

    vaults: Dict[str, Pin]
    locations: Dict[str, str]
    legacy: Dict[str, Pin]
    extra: Dict[str, Any]

    def to_bytes(self) -> bytes:
        """The file as the CLI writes it: `version`, `vaults`, `locations`, then `legacy` when
        not empty and unknown keys; maps sorted by key; two-space indentation, UTF-8."""
        doc: Dict[str, Any] = {
            "version": PINS_VERSION,
            "vaults": {k: self.vaults[k].to_json() for k in sorted(self.vaults)},
            "locations": {k: self.locations[k] for k in sorted(self.locations)},
        }
        if self.legacy:
            doc["legacy"] = {k: self.legacy[k].to_json() for k in sorted(self.legacy)}
        doc.update((k, v) for k, v in self.extra.items() if k not in doc)
        return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


class PinsUnwritable(Exception):
    """The pin could not be written; the message says why."""


def _pin(value: Any) -> Pin:
    if not (
        isinstance(value, dict)
        and isinstance(value.get("verify_key"), str)
        and isinstance(value.get("seq"), int)
        and not isinstance(value.get("seq"), bool)
        and 0 <= value["seq"] <= U64_MAX
    ):
        raise ValueError('an entry is not {"verify_key": "ed25519:…", "seq": <u64>}')
    return Pin(value["verify_key"], value["seq"])


def _pins_of(value: Any, what: str) -> Dict[str, Pin]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"'{what}' is not an object")
    return {str(k): _pin(v) for k, v in value.items()}


def parse(data: bytes) -> PinsDoc:
    doc = json.loads(data.decode("utf-8"))
    if not isinstance(doc, dict):
        raise ValueError("not a JSON object")
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError("no valid 'version'")
    if version > PINS_VERSION:
        raise _Newer(version)
    extra = {k: v for k, v in doc.items() if k not in ("version", "vaults", "locations", "legacy")}
    if version == 1:
        return PinsDoc({}, {}, _pins_of(doc.get("vaults"), "vaults"), extra)
    locations = doc.get("locations") or {}
    if not isinstance(locations, dict) or not all(isinstance(v, str) for v in locations.values()):
        raise ValueError("'locations' is not an object of vault identities")
    return PinsDoc(
        _pins_of(doc.get("vaults"), "vaults"),
        {str(k): v for k, v in locations.items()},
        _pins_of(doc.get("legacy"), "legacy"),
        extra,
    )


class _Newer(ValueError):
    def __init__(self, version: int) -> None:
        super().__init__(version)
        self.version = version


class Pins:
    """The pins of one key home."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.path = home / "pins.json"
        self.lock_path = home / "pins.json.lock"

    def read(self) -> PinsDoc:
        """The pins; FormatError for a file that exists but cannot be trusted as pins."""
        try:
            with open(self.path, "rb") as f:
                data = f.read(MAX_PINS_BYTES + 1)
        except (FileNotFoundError, NotADirectoryError):
            return PinsDoc({}, {}, {}, {})
        except OSError as e:
            raise FormatError(
                f"cannot read {self.path} ({e.strerror}); fix its permissions (it remembers which "
                "vault keys this machine trusts, so it is never skipped)"
            ) from None
        if len(data) > MAX_PINS_BYTES:
            raise FormatError(f"{self.path}: larger than 16 MiB, so not a pins file; fix or delete it")
        try:
            return parse(data)
        except _Newer as e:
            raise FormatError(
                f"{self.path}: version {e.version} was written by a newer agent-vault; upgrade this SDK "
                "(the file is left as it is)"
            ) from None
        except (UnicodeDecodeError, ValueError) as e:
            raise FormatError(
                f"{self.path}: cannot parse ({e}); fix or delete it (deleting forgets which vault "
                "keys this machine trusts)"
            ) from None

    def update(self, change: Callable[[PinsDoc], bool]) -> None:
        """Applies ``change`` to the pins as they are under the lock, and writes them if it
        returns True. A pin that cannot be written is a warning, never an error; a file that
        cannot be trusted as pins is still an error (FormatError)."""
        try:
            self._update(change)
        except PinsUnwritable as e:
            logger.warning(
                "cannot record this vault's pin in %s (%s); reading on, but rollback protection on "
                "this machine is weaker until it can be written",
                self.path, e,
            )

    def _update(self, change: Callable[[PinsDoc], bool]) -> None:
        if not self.home.is_dir():
            try:
                os.mkdir(self.home, 0o700)  # only if its parent exists
            except FileExistsError:
                pass
            except OSError as e:
                raise PinsUnwritable(f"cannot create {self.home}: {e.strerror}") from None
        self._lock()
        try:
            doc = self.read()
            if not change(doc):
                return
            self._write(doc.to_bytes())
        finally:
            try:
                os.unlink(self.lock_path)
            except OSError:
                pass

    def _lock(self) -> None:
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                fd = os.open(self.lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
                os.close(fd)
                return
            except FileExistsError:
                try:
                    age = time.time() - os.lstat(self.lock_path).st_mtime
                    if age > LOCK_STALE_SECONDS:
                        os.unlink(self.lock_path)  # a crashed holder's lock
                        continue
                except OSError:
                    pass
            except OSError as e:
                raise PinsUnwritable(f"cannot create {self.lock_path.name}: {e.strerror}") from None
            if time.monotonic() >= deadline:
                raise PinsUnwritable(
                    f"{self.lock_path.name} is held by another process (waited {LOCK_WAIT_SECONDS:g} s)"
                )
            time.sleep(LOCK_RETRY_SECONDS)

    def _write(self, data: bytes) -> None:
        try:
            fd, tmp = tempfile.mkstemp(prefix=".pins-", suffix=".tmp", dir=str(self.home))
        except OSError as e:
            raise PinsUnwritable(f"cannot create a temporary file: {e.strerror}") from None
        try:
            try:
                with os.fdopen(fd, "wb") as f:
                    os.fchmod(f.fileno(), 0o600)
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, self.path)
            except OSError as e:
                raise PinsUnwritable(f"cannot write it: {e.strerror}") from None
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        try:
            dir_fd = os.open(self.home, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        except OSError:
            return
        try:
            os.fsync(dir_fd)
        except OSError as e:
            if e.errno not in (errno.EINVAL, errno.EBADF):  # folders that cannot be fsynced
                raise PinsUnwritable(f"cannot fsync {self.home}: {e.strerror}") from None
        finally:
            os.close(dir_fd)


__all__ = ["Pin", "Pins", "PinsDoc", "PinsUnwritable"]
