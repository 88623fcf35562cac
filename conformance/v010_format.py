"""The files agent-vault 0.1.0 writes, byte for byte, for the conformance builder.

agent-vault 0.1.0 (the crate `agent-vault` 0.1.0: `src/core/{paths,metadata,manifest,config,
keys,git}.rs`) serialises its files with `serde_yaml` 0.9 and `chrono`, and stores key material
without a trailing newline. This module writes the same bytes from the format alone, so the
builder can lay out a vault exactly as 0.1.0 left it without running any 0.1.0 binary:

* `secrets/<first segment>/<rest>.enc|.meta`, so a single-segment secret `P` lives at
  `secrets/default/P.*` whatever its group (`set x --group special` too);
* `.meta` with `name`, `group`, `created`, `rotated` (always; `expires` only when set) and
  `authorized_agents` in the order 0.1.0 computed it (the group's agents in manifest order, then
  `--agents` extras): no `recipients`, no `extra_agents`;
* timestamps as chrono writes them: UTC, `Z`, a fraction of 0, 3, 6 or 9 digits (nanoseconds
  from `Utc::now()`);
* the manifest in insertion order (agents as added, groups as first used, grants as made);
* `.agent-vault/.gitignore` with `*.key` (public keys are committed anyway: libgit2's
  `index.add_path` ignores ignore rules; the builder uses `git add -f`);
* `owner.pub`, `agents/<a>/public.key` and key files as one line without a newline; the escrow
  is the agent's bare key, age-encrypted (binary) to the owner.

Standard library only.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

GITIGNORE = "# agent-vault: block unencrypted key material\n*.key\n*.pem\n**/private.*\n!**/*.escrow\n"
CONFIG = "version: 1\nencryption:\n  format: age\n"
DEFAULT_GROUP = "default"

Entries = List[Tuple[str, List[str]]]


def stored_path(secret: str) -> str:
    """Where 0.1.0 stores a secret under `secrets/` (without the suffix): its first segment is
    the folder, and a single segment goes to `default/` (`paths::split_secret_path`)."""
    group, sep, name = secret.partition("/")
    return secret if sep else "%s/%s" % (DEFAULT_GROUP, group)


def default_group(secret: str) -> str:
    """0.1.0's group when `set` is given none: the first segment, or `default`."""
    return secret.split("/", 1)[0] if "/" in secret else DEFAULT_GROUP


def _seq(key: str, items: Sequence[str], indent: str = "") -> str:
    if not items:
        return "%s%s: []\n" % (indent, key)
    return "%s%s:\n" % (indent, key) + "".join("%s- %s\n" % (indent, i) for i in items)


def manifest_yaml(owners: Sequence[Tuple[str, str]], agents: Entries, groups: Entries) -> str:
    """`manifest.yaml` as serde_yaml writes 0.1.0's `Manifest`: owners as (name, public_key),
    agents as (name, groups), groups as (name, secrets), each in the order given (plain
    scalars: every name used here is one)."""
    out = "version: 1\n"
    if not owners:
        out += "owners: []\n"
    else:
        out += "owners:\n" + "".join("- name: %s\n  public_key: %s\n" % o for o in owners)
    for key, entries, field in (("agents", agents, "groups"), ("groups", groups, "secrets")):
        if not entries:
            out += "%s: []\n" % key
            continue
        out += "%s:\n" % key
        for name, items in entries:
            out += "- name: %s\n" % name + _seq(field, items, "  ")
    return out


def meta_yaml(name: str, group: str, created: str, rotated: Optional[str], agents: Sequence[str],
              expires: Optional[str] = None) -> str:
    """A `.meta` as serde_yaml writes 0.1.0's `SecretMetadata`. 0.1.0 always writes `rotated`
    (its struct requires it); `None` leaves it out, as in vaults older than 0.1.0."""
    out = "name: %s\ngroup: %s\ncreated: %s\n" % (name, group, created)
    if rotated is not None:
        out += "rotated: %s\n" % rotated
    if expires is not None:
        out += "expires: %s\n" % expires
    return out + _seq("authorized_agents", agents)


def parse_manifest(text: str) -> Tuple[List[Tuple[str, str]], Entries, Entries]:
    """Reads a manifest in the block style 0.1.0 and this project's CLI both write, as 0.1.0's
    serde structs see it: (owners, agents, groups) as `manifest_yaml` takes them. Keys 0.1.0
    does not know are dropped, as serde drops them."""
    tables: Dict[str, List[Dict[str, Any]]] = {"owners": [], "agents": [], "groups": []}
    table: Optional[List[Dict[str, Any]]] = None
    entry: Dict[str, Any] = {}
    field: Optional[str] = None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line.startswith((" ", "-")):  # a top-level key
            table = tables.get(line.partition(":")[0])
            continue
        if table is None:  # under a key 0.1.0 does not know
            continue
        if line.startswith("- "):
            entry, field = {}, None
            table.append(entry)
            line = "  " + line[2:]
        if line.startswith("  - "):
            if field is not None:
                entry[field].append(line[4:].strip())
            continue
        if line.startswith("  ") and not line.startswith("   "):
            key, _, rest = line[2:].partition(":")
            rest = rest.strip()
            field = key if rest == "" else None
            entry[key] = [] if rest in ("", "[]") else rest
    owners = [(o["name"], o.get("public_key", "")) for o in tables["owners"]]
    agents = [(a["name"], list(a.get("groups") or [])) for a in tables["agents"]]
    groups = [(g["name"], list(g.get("secrets") or [])) for g in tables["groups"]]
    return owners, agents, groups


def agents_in_group(agents: Entries, group: str) -> List[str]:
    """0.1.0's `Manifest::agents_in_group`: manifest order."""
    return [name for name, groups in agents if group in groups]
