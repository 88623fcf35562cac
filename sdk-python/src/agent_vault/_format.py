"""The vault's files as readers see them (docs/format.md): YAML parsing with the YAML 1.2
reading the Rust CLI uses, the config, manifest and ``.meta`` files, and timestamps."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Iterable, List, Optional, Tuple

import yaml

from ._errors import AgentVaultError, FormatError
from ._names import check_stored_agent_name, name_problem, secret_path_problem

FORMAT_VERSION = 1
VAULT_DIR = ".agent-vault"
CONFIG_PATH = ".agent-vault/config.yaml"
MANIFEST_PATH = ".agent-vault/manifest.yaml"
SECRETS_DIR = ".agent-vault/secrets"
AGENTS_DIR = ".agent-vault/agents"

try:  # libyaml when available (PyPI wheels ship it); same results, faster.
    _BaseLoader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _BaseLoader = yaml.SafeLoader


class _Loader(_BaseLoader):  # type: ignore[misc]
    """Plain scalars are strings, except the YAML null forms.

    PyYAML implements YAML 1.1, where ``no`` is false and ``2025-01-01`` a date; vault files are
    YAML 1.2 read as strings by the CLI, so every other implicit type is switched off.
    """

    yaml_implicit_resolvers: Dict[Any, Any] = {}


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)


def secret_enc_path(secret: str) -> str:
    return f"{SECRETS_DIR}/{secret}.enc"


def secret_meta_path(secret: str) -> str:
    return f"{SECRETS_DIR}/{secret}.meta"


def agent_public_key_path(agent: str) -> str:
    return f"{AGENTS_DIR}/{agent}/public.key"


def agent_escrow_path(agent: str) -> str:
    return f"{AGENTS_DIR}/{agent}/private.key.escrow"


def _corrupt(path: str, reason: str) -> FormatError:
    return FormatError(f"{path}: {reason}")


def parse_yaml_mapping(path: str, data: bytes) -> Dict[str, Any]:
    """Parses a vault YAML file that must hold a mapping."""
    try:
        value = yaml.load(data, Loader=_Loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as e:
        # Only where: the parser's message quotes the text it read, which may be anything.
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "not YAML"
        raise _corrupt(
            path, f"cannot parse ({where}); restore it from git history (`git log -p -- {path}`)"
        ) from None
    if not isinstance(value, dict):
        raise _corrupt(path, "is not a YAML mapping; restore it from git history")
    return value


def _version(path: str, doc: Dict[str, Any]) -> int:
    raw = doc.get("version")
    try:
        version = int(raw) if isinstance(raw, str) else -1
    except ValueError:
        version = -1
    if version < 0:
        raise _corrupt(path, "has no valid `version`; restore it from git history")
    if version == 0 or version > FORMAT_VERSION:
        raise _corrupt(
            path,
            f"format version {version} is not supported by this SDK (it reads version "
            f"{FORMAT_VERSION}); upgrade agent-vault",
        )
    return version


def check_config(data: bytes) -> None:
    """Checks config.yaml: a known version and the age format."""
    doc = parse_yaml_mapping(CONFIG_PATH, data)
    _version(CONFIG_PATH, doc)
    encryption = doc.get("encryption")
    fmt = encryption.get("format") if isinstance(encryption, dict) else "age"
    if encryption is not None and fmt != "age":
        raise _corrupt(CONFIG_PATH, "its encryption format is not supported (only 'age')")


def _str_list(path: str, value: Any, what: str) -> List[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _corrupt(path, f"`{what}` must be a list of strings; restore it from git history")
    return list(value)


def _entries(path: str, value: Any, what: str) -> List[Dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(
        isinstance(e, dict) and isinstance(e.get("name"), str) for e in value
    ):
        raise _corrupt(path, f"`{what}` must be a list of entries with a `name`; restore it from git history")
    return value


@dataclass(frozen=True)
class Manifest:
    """The parts of manifest.yaml readers need."""

    agents: Tuple[Tuple[str, Tuple[str, ...]], ...]  # (name, groups), in file order
    groups: Tuple[Tuple[str, Tuple[str, ...]], ...]  # (name, secrets), in file order

    @staticmethod
    def parse(data: bytes) -> "Manifest":
        doc = parse_yaml_mapping(MANIFEST_PATH, data)
        _version(MANIFEST_PATH, doc)
        agents = tuple(
            (e["name"], tuple(_str_list(MANIFEST_PATH, e.get("groups"), "agents[].groups")))
            for e in _entries(MANIFEST_PATH, doc.get("agents"), "agents")
        )
        groups = tuple(
            (e["name"], tuple(_str_list(MANIFEST_PATH, e.get("secrets"), "groups[].secrets")))
            for e in _entries(MANIFEST_PATH, doc.get("groups"), "groups")
        )
        _entries(MANIFEST_PATH, doc.get("owners"), "owners")
        return Manifest(agents=agents, groups=groups)

    def has_group(self, group: str) -> bool:
        """Whether a group is listed under `groups` or granted to an agent."""
        return any(g == group for g, _ in self.groups) or any(
            group in groups for _, groups in self.agents
        )

    def group_names(self) -> List[str]:
        names = {g for g, _ in self.groups}
        for _, groups in self.agents:
            names.update(groups)
        return sorted(names)

    def all_secrets(self) -> List[Tuple[str, str]]:
        """Every (secret, group) pair listed, sorted and de-duplicated, as the CLI lists them."""
        return sorted({(s, g) for g, secrets in self.groups for s in secrets})

    def sorted_agents(self) -> List[Tuple[str, Tuple[str, ...]]]:
        return sorted(
            ((check_stored_agent_name(n, MANIFEST_PATH), g) for n, g in self.agents),
            key=lambda a: a[0],
        )


LEGACY_GROUP = "default"


def legacy_secrets(manifest: Optional[bytes], candidates: Iterable[str]) -> List[str]:
    """The single-segment secrets among ``candidates`` that an *unsigned* vault stores where
    agent-vault 0.1.0 put them, ``secrets/default/<secret>.*`` (docs/format.md, "Vaults written
    by agent-vault 0.1.0"): those the manifest lists while it does not list
    ``default/<secret>``. The caller applies it only when ``secrets/<secret>.*`` are both absent.
    A manifest that is missing or does not parse as the CLI parses it (every name valid) moves
    nothing: the secret is then simply not found, as with the CLI."""
    if manifest is None:
        return []
    try:
        parsed = Manifest.parse(manifest)
    except AgentVaultError:
        return []
    names = [n for n, _ in parsed.agents] + [g for _, gs in parsed.agents for g in gs]
    names += [g for g, _ in parsed.groups]
    listed = {s for _, secrets in parsed.groups for s in secrets}
    if any(name_problem(n) for n in names) or any(secret_path_problem(s) for s in listed):
        return []
    return [s for s in candidates if "/" not in s and s in listed and f"{LEGACY_GROUP}/{s}" not in listed]


@dataclass(frozen=True)
class SecretInfo:
    """A secret's metadata as ``list_secrets`` reports it. Never holds the value."""

    path: str
    group: str
    created: Optional[str]
    rotated: Optional[str]
    expires: Optional[str]
    authorized_agents: Tuple[str, ...]
    expired: bool
    # Agents granted this one secret beyond its group (`agent-vault set --agents`). Last, with
    # a default, so positional construction from before it existed keeps working.
    extra_agents: Tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The secret's path, under its agent-vault 0.1.0 name (deprecated: use ``path``)."""
        warnings.warn("SecretInfo.name is now SecretInfo.path", DeprecationWarning, stacklevel=2)
        return self.path

    @property
    def created_at(self) -> Optional[datetime]:
        """``created`` as an aware datetime (None when absent or not a timestamp)."""
        return parse_timestamp(self.created) if self.created else None

    @property
    def rotated_at(self) -> Optional[datetime]:
        """``rotated`` as an aware datetime (None when absent or not a timestamp)."""
        return parse_timestamp(self.rotated) if self.rotated else None

    @property
    def expires_at(self) -> Optional[datetime]:
        """``expires`` as an aware datetime (None when absent or not a timestamp)."""
        return parse_timestamp(self.expires) if self.expires else None

    def to_dict(self) -> Dict[str, Any]:
        """The JSON form of ``agent-vault list --json`` (its keys and values, without the
        ``schema`` and the broker's ``policy`` it adds), with ``name`` (the path, as agent-vault
        0.1.0's ``list --json`` named it) so 0.1.0 scripts keep working."""
        return {
            "path": self.path,
            "name": self.path,
            "group": self.group,
            "created": self.created,
            "rotated": self.rotated,
            "expires": self.expires,
            "authorized_agents": list(self.authorized_agents),
            "extra_agents": list(self.extra_agents),
            "expired": self.expired,
        }


@dataclass(frozen=True)
class AgentInfo:
    """A registered agent as ``list_agents`` reports it."""

    name: str
    groups: Tuple[str, ...]
    public_key: Optional[str]
    escrow: bool

    def __getitem__(self, key: str) -> Any:
        """``agent["name"]`` and ``agent["groups"]``, as agent-vault 0.1.0's ``list_agents()``
        returned dicts (deprecated: use the attributes)."""
        if key not in ("name", "groups"):
            raise KeyError(key)
        warnings.warn(f"AgentInfo[{key!r}] is now AgentInfo.{key}", DeprecationWarning, stacklevel=2)
        return self.name if key == "name" else list(self.groups)

    def to_dict(self) -> Dict[str, Any]:
        """The JSON form, identical to ``agent-vault list-agents --json``."""
        return {
            "name": self.name,
            "groups": list(self.groups),
            "public_key": self.public_key,
            "escrow": self.escrow,
        }


def _opt_str(path: str, doc: Dict[str, Any], key: str) -> Optional[str]:
    value = doc.get(key)
    if value is None or isinstance(value, str):
        return value
    raise _corrupt(path, f"`{key}` must be a string; restore it from git history")


_FAST_KEY = re.compile(r"([a-z_]+):(?: (.*))?\Z")
_FAST_SCALAR = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._:/+-]*\Z")
_NULLS = ("~", "null", "Null", "NULL")


def fast_mapping(data: bytes) -> Optional[Dict[str, Any]]:
    """Parses the simple block YAML the CLI writes (``key: scalar`` and ``- item`` lines, plain
    scalars without spaces), or returns None so the caller uses the full YAML parser. Gives the
    same result as :func:`parse_yaml_mapping` on everything it accepts; 10x faster."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    doc: Dict[str, Any] = {}
    list_key: Optional[str] = None
    bare_keys = []
    for line in text.split("\n"):
        if not line:
            continue
        if line.startswith("- "):
            item = line[2:]
            if list_key is None or item in _NULLS or not _FAST_SCALAR.match(item):
                return None
            doc[list_key].append(item)
            continue
        m = _FAST_KEY.match(line)
        if not m or m.group(1) in doc:
            return None
        key, value = m.group(1), m.group(2)
        list_key = None
        if value is None or value == "":
            doc[key] = []
            list_key = key
            bare_keys.append(key)
        elif value == "[]":
            doc[key] = []
        elif value in _NULLS:
            doc[key] = None
        elif _FAST_SCALAR.match(value):
            doc[key] = value
        else:
            return None
    for key in bare_keys:  # `key:` with no items below it is null, as in YAML
        if not doc[key]:
            doc[key] = None
    return doc or None


def parse_meta(path: str, secret: str, data: bytes, now: datetime) -> SecretInfo:
    """Parses a secret's ``.meta`` file into what ``list_secrets`` reports."""
    doc = fast_mapping(data)
    if doc is None:
        doc = parse_yaml_mapping(path, data)
    for required in ("name", "group"):
        if not isinstance(doc.get(required), str):
            raise _corrupt(path, f"has no `{required}`; restore it from git history")
    expires = _opt_str(path, doc, "expires")
    when = parse_timestamp(expires) if expires is not None else None
    created = _opt_str(path, doc, "created")
    return SecretInfo(
        path=secret,
        group=doc["group"],
        created=created or None,
        rotated=_opt_str(path, doc, "rotated"),
        expires=expires,
        authorized_agents=tuple(_str_list(path, doc.get("authorized_agents"), "authorized_agents")),
        expired=when is not None and when <= now,
        extra_agents=tuple(_str_list(path, doc.get("extra_agents"), "extra_agents")),
    )


_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?\s*([Zz]|[+-]\d{2}:\d{2})\Z"
)
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})\Z")


def parse_timestamp(value: str) -> Optional[datetime]:
    """A stored timestamp: RFC 3339 (any offset, optional fraction, `T` or space), or a bare
    date (midnight UTC). None for anything else, as the CLI."""
    value = value.strip()
    try:
        m = _RFC3339.match(value)
        if m:
            y, mo, d, h, mi, s, frac, off = m.groups()
            micro = int((frac or "0")[:6].ljust(6, "0"))
            if off in ("Z", "z"):
                tz = timezone.utc
            else:
                sign = 1 if off[0] == "+" else -1
                tz = timezone(sign * timedelta(hours=int(off[1:3]), minutes=int(off[4:6])))
            return datetime(int(y), int(mo), int(d), int(h), int(mi), min(int(s), 59), micro, tz)
        m = _DATE.match(value)
        if m:
            return datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=timezone.utc)
    except ValueError:
        return None
    return None


def utc_now() -> datetime:
    """Now, truncated to whole seconds like the CLI."""
    return datetime.now(timezone.utc).replace(microsecond=0)
