#!/usr/bin/env python3
"""Build the shared SDK conformance vaults with the real agent-vault CLI.

Usage:
    python3 conformance/build_vaults.py --cli PATH/TO/agent-vault --out DIR

Creates several vaults under DIR (with the CLI, with stock `age`, and by hand in the layout of
agent-vault 0.1.0), then writes DIR/cases.json: one case per SDK call with the answer every
SDK must give. Each expectation is what this builder stored; before writing it, the builder
asks the real CLI the same question (`get`, `list --json`, `list-agents --json`) and fails
loudly (exit 1) when the CLI's answer differs. See conformance/README.md for the contract.

Python >= 3.9 with `cryptography` (the attacker's Ed25519 signatures; nothing else outside the
standard library). Hermetic: HOME, AGENT_VAULT_HOME, git config and git identity are all set
here; nothing is read from the caller's environment except PATH. Secret values are fed to the
CLI on stdin, never in argv.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

from v010_format import CONFIG as V010_CONFIG
from v010_format import GITIGNORE as V010_GITIGNORE
from v010_format import agents_in_group as v010_agents_in_group
from v010_format import default_group as v010_default_group
from v010_format import manifest_yaml as v010_manifest_yaml
from v010_format import meta_yaml as v010_meta_yaml
from v010_format import parse_manifest as v010_parse_manifest
from v010_format import stored_path as v010_stored_path

CASES_VERSION = 2

# Error class for each case, and the CLI's exit code for it (docs/format.md).
ERROR_CODES = {
    "FormatError": 1,
    "InvalidInputError": 2,
    "VaultNotFoundError": 3,
    "SecretNotFoundError": 3,
    "KeyNotFoundError": 3,
    "NotAuthorizedError": 4,
    "IntegrityError": 5,
}

# A word the CLI's error message must contain for each class (checks the CLI, too).
ERROR_MARKERS = {
    "InvalidInputError": "invalid",
    "VaultNotFoundError": "no vault found",
    "SecretNotFoundError": "not found",
    "KeyNotFoundError": "key not found",
    "NotAuthorizedError": "access denied",
    "IntegrityError": "integrity failure",
}

CONTROL_RE = re.compile("[\x00-\x09\x0b-\x1f\x7f]")
IDENTITY_RE = re.compile(r"AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{20}", re.I)
TIMESTAMP_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
SECRET_KEY_RE = re.compile(r"^AGE-SECRET-KEY-1[0-9A-Z]+$", re.M)
PUBLIC_KEY_RE = re.compile(r"^# public key: (age1[0-9a-z]+)$", re.M)


def copy_key(src: str, dst: str) -> None:
    """Copies a key file, private as agent-vault writes them (0600): the CLI warns about a key
    file other users can read."""
    shutil.copyfile(src, dst)
    os.chmod(dst, 0o600)


def agent_key_file(home: Path, repo: Path, name: str) -> Path:
    """The key file `add-agent NAME` wrote for the vault in ``repo``: agent keys are kept per
    vault, ``agents/<vault id>/NAME.key`` (the id from the vault's statement), else
    ``agents/NAME.key``."""
    try:
        lines = (repo / ".agent-vault" / "integrity" / "statement").read_text().split("\n")
    except OSError:
        lines = []
    if len(lines) > 1 and lines[1].startswith("vault "):
        per_vault = home / "agents" / lines[1][len("vault "):] / f"{name}.key"
        if per_vault.exists():
            return per_vault
    found = sorted((home / "agents").glob(f"*/{name}.key"))
    return found[0] if found else home / "agents" / f"{name}.key"


class AnyTimestamp:
    """Stands for 'a timestamp written by the CLI just now' in a stored expectation."""

    def __repr__(self) -> str:
        return "<any RFC 3339 UTC timestamp>"


TS = AnyTimestamp()


class OldSecret(NamedTuple):
    """A secret as agent-vault 0.1.0 stored it (v010_format.py)."""

    path: str
    group: str
    value: bytes
    created: str
    rotated: Optional[str]
    agents: List[str]  # authorized_agents, in 0.1.0's order
    expires: Optional[str] = None


class BuildError(Exception):
    """A step of the build failed; the message says which and why."""


def matches(stored: Any, actual: Any) -> bool:
    """Whether the CLI's answer equals the stored one (TS matches any CLI timestamp)."""
    if stored is TS:
        return isinstance(actual, str) and bool(TIMESTAMP_RE.match(actual))
    if isinstance(stored, dict):
        return (
            isinstance(actual, dict)
            and stored.keys() == actual.keys()
            and all(matches(stored[k], actual[k]) for k in stored)
        )
    if isinstance(stored, list):
        return (
            isinstance(actual, list)
            and len(stored) == len(actual)
            and all(matches(s, a) for s, a in zip(stored, actual))
        )
    return type(stored) is type(actual) and stored == actual


def secret_info(
    path: str,
    group: str,
    agents: List[str],
    expires: Optional[str] = None,
    expired: bool = False,
    created: Any = TS,
    rotated: Any = TS,
) -> Dict[str, Any]:
    """One list_secrets entry as the SDKs report it."""
    return {
        "path": path,
        "group": group,
        "created": created,
        "rotated": rotated,
        "expires": expires,
        "authorized_agents": sorted(agents),
        "expired": expired,
    }


SECRET_INFO_FIELDS = ("path", "group", "created", "rotated", "expires", "authorized_agents", "expired")
AGENT_INFO_FIELDS = ("name", "groups", "public_key", "escrow")


def pins_problem(pins: Optional[Dict[str, Any]], expect: Dict[str, Dict[str, Any]]) -> Optional[str]:
    """Why a pins.json document does not hold the expected entries (None when it does)."""
    if pins is None:
        return "no readable pins.json"
    if pins.get("version") != 2:
        return "pins.json version %r" % pins.get("version")
    for table, entries in expect.items():
        got = pins.get(table) or {}
        for name, want in entries.items():
            if want is None and name in got:
                return "%s[%r] = %r, expected absent" % (table, name, got[name])
            if want is not None and got.get(name) != want:
                return "%s[%r] = %r" % (table, name, got.get(name))
    return None


# ----- what a repository writer has ------------------------------------------------------------
#
# Hostile vaults are made only with what an attacker has: the public files of the repository,
# the stock `age` CLI, an Ed25519 library (Python's `cryptography`) to sign with a key of their
# own, git plumbing, and git objects written by hand. Never the owner's key or signing key.

U64_MAX = 2**64 - 1


def ed25519_new() -> Any:
    try:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    except ImportError:  # pragma: no cover
        raise BuildError("the hostile vaults need Python's `cryptography` (pip install cryptography)")
    return Ed25519PrivateKey.generate()


def ed25519_public(private: Any) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return "ed25519:" + base64.b64encode(raw).decode("ascii")


def ed25519_seed(private: Any) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    return private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def statement_fields(repo: Path) -> Dict[str, str]:
    """The header fields of a vault's statement (`vault`, `verify-key`, `seq`, version)."""
    text = (repo / ".agent-vault" / "integrity" / "statement").read_text()
    fields = {"version": text.split("\n", 1)[0].rsplit(" ", 1)[-1]}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key in ("vault", "verify-key", "seq") and key not in fields:
            fields[key] = value
    return fields


def loose_object(repo: Path, kind: str, data: bytes) -> str:
    """A git object written by hand (zlib), with no validation at all; returns its id."""
    raw = b"%s %d\0" % (kind.encode(), len(data)) + data
    oid = hashlib.sha1(raw).hexdigest()
    path = repo / ".git" / "objects" / oid[:2] / oid[2:]
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(zlib.compress(raw, 1))
    return oid


def tree_bytes(entries: List[Tuple[str, bytes, str]]) -> bytes:
    """A tree object from (mode, name, id), in git's order (a folder sorts as name + "/")."""
    ordered = sorted(entries, key=lambda e: e[1] + (b"/" if e[0] == "40000" else b""))
    return b"".join(m.encode() + b" " + n + b"\0" + bytes.fromhex(o) for m, n, o in ordered)


def parse_tree(data: bytes) -> List[Tuple[str, bytes, str]]:
    out, pos = [], 0
    while pos < len(data):
        space = data.index(b" ", pos)
        nul = data.index(b"\0", space)
        out.append((data[pos:space].decode(), data[space + 1:nul], data[nul + 1:nul + 21].hex()))
        pos = nul + 21
    return out


class Builder:
    """Creates the vaults and collects the cases."""

    def __init__(self, cli: Path, out: Path) -> None:
        self.cli = cli
        self.out = out
        self.home = out / "home"  # $HOME for everything: empty
        self.keys = out / "keys"  # key files that live outside any AGENT_VAULT_HOME
        self.empty_home = out / "empty-agent-vault-home"  # an AGENT_VAULT_HOME without keys
        self.cases: List[Dict[str, Any]] = []
        self.failures: List[str] = []
        self.scratch = out / "scratch"  # fresh key-home copies for the CLI's runs
        self.base_env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "LC_ALL": "C",
            "TZ": "UTC",
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_CONFIG_SYSTEM": "/dev/null",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_AUTHOR_NAME": "Conformance Owner",
            "GIT_AUTHOR_EMAIL": "owner@conformance.invalid",
            "GIT_COMMITTER_NAME": "Conformance Owner",
            "GIT_COMMITTER_EMAIL": "owner@conformance.invalid",
            "GIT_AUTHOR_DATE": "2025-01-01T00:00:00Z",
            "GIT_COMMITTER_DATE": "2025-01-01T00:00:00Z",
        }
        for d in (self.home, self.keys, self.empty_home, self.scratch):
            d.mkdir(parents=True, mode=0o700)

    # ----- running tools -------------------------------------------------------------------

    def run(
        self,
        argv: List[str],
        env: Optional[Dict[str, str]] = None,
        cwd: Optional[Path] = None,
        stdin: bytes = b"",
        check: bool = True,
    ) -> subprocess.CompletedProcess:
        full_env = dict(self.base_env)
        full_env.update(env or {})
        proc = subprocess.run(
            argv,
            input=stdin,
            env=full_env,
            cwd=str(cwd or self.out),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            timeout=120,
        )
        if check and proc.returncode != 0:
            raise BuildError(
                "command failed (exit %d): %s\n%s"
                % (proc.returncode, " ".join(argv), proc.stderr.decode("utf-8", "replace"))
            )
        return proc

    def av(self, home: Path, repo: Path, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
        """Runs the CLI on `repo` with `home` as AGENT_VAULT_HOME."""
        return self.run(
            [str(self.cli), "--vault", str(repo), *args],
            env={"AGENT_VAULT_HOME": str(home)},
            stdin=stdin,
        )

    def set_secret(self, home: Path, repo: Path, path: str, value: bytes, *args: str) -> None:
        """`agent-vault set PATH --from-file -` with the value on stdin (never in argv)."""
        self.av(home, repo, "set", path, "--from-file", "-", *args, stdin=value)

    def git(self, repo: Path, *args: str) -> None:
        self.run(["git", "-C", str(repo), *args])

    def commit_all(self, repo: Path, message: str) -> None:
        """Commits every change with plain git (skipping agent-vault's pre-commit hook)."""
        self.git(repo, "add", "-A")
        self.git(repo, "commit", "--quiet", "--no-verify", "-m", message)

    def age_encrypt(self, plaintext: bytes, recipients: List[str], armor: bool) -> bytes:
        argv = ["age", "-e"] + (["-a"] if armor else [])
        for r in recipients:
            argv += ["-r", r]
        return self.run(argv, stdin=plaintext).stdout

    def age_decrypt(self, ciphertext_file: Path, identity_file: Path) -> bytes:
        return self.run(["age", "-d", "-i", str(identity_file), str(ciphertext_file)]).stdout

    def new_vault(self, name: str) -> Tuple[Path, Path]:
        """A new vault made by `agent-vault init`: returns (repo, AGENT_VAULT_HOME)."""
        repo = self.out / name / "repo"
        home = self.out / name / "agent-vault-home"
        home.mkdir(parents=True, mode=0o700)
        self.run(
            [str(self.cli), "init", str(repo), "--owner-name", "Conformance Owner"],
            env={"AGENT_VAULT_HOME": str(home)},
        )
        return repo, home

    def unsign(self, repo: Path, home: Path) -> None:
        """Makes a CLI-written vault unsigned, as if written by agent-vault 0.1.0: removes
        `integrity/` and `signing.key.age` (uncommitted) and the owner's pin for it."""
        vault = repo / ".agent-vault"
        shutil.rmtree(str(vault / "integrity"))
        (vault / "signing.key.age").unlink()
        pins_path = home / "pins.json"
        if pins_path.exists():
            pins = json.loads(pins_path.read_text())
            location = os.path.realpath(str(repo))
            for table in ("vaults", "locations", "legacy"):
                (pins.get(table) or {}).pop(location, None)
            pins_path.write_text(json.dumps(pins, indent=2) + "\n")

    @staticmethod
    def verify_key_of(repo: Path) -> str:
        """The `ed25519:…` key named by a vault's signed statement."""
        for line in (repo / ".agent-vault" / "integrity" / "statement").read_text().splitlines():
            if line.startswith("verify-key "):
                return line[len("verify-key "):]
        raise BuildError("%s has no verify-key line" % repo)


    # ----- attacks ----------------------------------------------------------------------

    def raw_tree(self, repo: Path, oid: str) -> List[Tuple[str, bytes, str]]:
        data = self.run(["git", "-C", str(repo), "cat-file", "tree", oid]).stdout
        return parse_tree(data)

    def graft(self, repo: Path, folder: List[bytes], entry: Tuple[str, bytes, str], message: str) -> None:
        """Commits HEAD's tree with `entry` added to (or replacing its name in) the folder
        `folder` (components from the repository root), built from hand-written tree objects;
        the branch moves, the working tree is left as it is (readers read objects only)."""
        def rebuild(tree_oid: Optional[str], rest: List[bytes]) -> str:
            entries = self.raw_tree(repo, tree_oid) if tree_oid else []
            if not rest:
                entries = [e for e in entries if e[1] != entry[1]] + [entry]
                return loose_object(repo, "tree", tree_bytes(entries))
            child = next((e for e in entries if e[1] == rest[0] and e[0] == "40000"), None)
            new_child = rebuild(child[2] if child else None, rest[1:])
            entries = [e for e in entries if e[1] != rest[0]] + [("40000", rest[0], new_child)]
            return loose_object(repo, "tree", tree_bytes(entries))

        root = self.run(["git", "-C", str(repo), "rev-parse", "HEAD^{tree}"]).stdout.decode().strip()
        new_root = rebuild(root, folder)
        commit = self.run(["git", "-C", str(repo), "commit-tree", new_root, "-p", "HEAD", "-m", message]
                          ).stdout.decode().strip()
        self.git(repo, "update-ref", "HEAD", commit)

    def symlink_in_index(self, repo: Path, rel: str, target: str, message: str) -> None:
        """Commits `rel` as a symlink (mode 120000) to `target`, with `git update-index
        --cacheinfo`; the working tree keeps its regular file."""
        oid = self.run(["git", "-C", str(repo), "hash-object", "-w", "--stdin"],
                       stdin=target.encode()).stdout.decode().strip()
        self.git(repo, "update-index", "--cacheinfo", "120000,%s,%s" % (oid, rel))
        self.git(repo, "commit", "--quiet", "--no-verify", "-m", message)

    def resign(self, repo: Path, signer: Any, seq: Optional[int] = None, version: int = 2,
               replace_signing_key: bool = True) -> str:
        """The attacker re-signs the vault as it is in `repo`'s working tree with their own
        Ed25519 key: a new `signing.key.age` encrypted to the public owner.pub with stock age,
        the shards and statement recomputed (same vault id; no key-change or owner line: the
        attacker cannot make valid ones), committed. Returns the attacker's verify key."""
        vault = repo / ".agent-vault"
        old = statement_fields(repo)
        if replace_signing_key:
            owners = [line.strip() for line in (vault / "owner.pub").read_text().splitlines()
                      if line.strip() and not line.startswith("#")]
            seed = base64.b64encode(ed25519_seed(signer)).decode("ascii")
            (vault / "signing.key.age").write_bytes(self.age_encrypt(
                ("AGENT-VAULT-SIGNING-KEY-ED25519-%s\n" % seed).encode(), owners, armor=False))
        files: Dict[str, bytes] = {}
        for path in sorted(vault.rglob("*")):
            if path.is_file() and not path.is_symlink():
                files[path.relative_to(vault).as_posix()] = path.read_bytes()
        policy = {r: d for r, d in files.items()
                  if not r.startswith("secrets/") and not r.startswith("integrity/")}
        secrets: Dict[str, List[str]] = {}
        for rel, data in files.items():
            for suffix, index in ((".enc", 0), (".meta", 1)):
                if rel.startswith("secrets/") and rel.endswith(suffix):
                    entry = secrets.setdefault(rel[len("secrets/"):-len(suffix)], ["0" * 64, "0" * 64])
                    entry[index] = hashlib.sha256(data).hexdigest()
        shards: Dict[str, List[str]] = {}
        for path_ in sorted(secrets, key=lambda s: s.encode()):
            name = hashlib.sha256(path_.encode()).digest()[:1].hex()
            shards.setdefault(name, []).append("%s %s %s\n" % (secrets[path_][0], secrets[path_][1], path_))
        shutil.rmtree(str(vault / "integrity"), ignore_errors=True)
        (vault / "integrity" / "shards").mkdir(parents=True)
        shard_bytes = {n: "".join(lines).encode() for n, lines in shards.items()}
        for name, data in shard_bytes.items():
            (vault / "integrity" / "shards" / name).write_bytes(data)
        key = ed25519_public(signer)
        body = ["agent-vault-statement v%d\n" % version]
        if version == 2:
            body.append("vault %s\n" % old.get("vault", os.urandom(16).hex()))
        body += ["verify-key %s\n" % key, "seq %d\n" % (seq if seq is not None else int(old["seq"]) + 1)]
        body += ["file %s %s\n" % (hashlib.sha256(policy[r]).hexdigest(), r)
                 for r in sorted(policy, key=lambda r: r.encode())]
        body += ["shard %s %s\n" % (hashlib.sha256(shard_bytes[n]).hexdigest(), n) for n in sorted(shard_bytes)]
        signed = "".join(body).encode()
        signature = base64.b64encode(signer.sign(signed)).decode("ascii")
        (vault / "integrity" / "statement").write_bytes(signed + ("signature %s\n" % signature).encode())
        self.git(repo, "add", "-A", "-f", ".agent-vault")
        self.git(repo, "commit", "--quiet", "--no-verify", "-m", "re-signed")
        return key

    def pinned_home(self, name: str, repo: Path, **reader: Any) -> Path:
        """A key home pinned by the CLI reading `repo` as `reader` (key / key_path / verify_key)."""
        home = self.out / "homes" / name
        home.mkdir(parents=True, mode=0o700)
        argv = [str(self.cli), "--vault", str(repo), "get", "stripe/api-key", "--offline"]
        env = {"AGENT_VAULT_HOME": str(home)}
        if reader.get("key_path"):
            argv += ["--key", str(reader["key_path"])]
        if reader.get("key"):
            env["AGENT_VAULT_KEY"] = reader["key"]
        if reader.get("owner_key"):
            copy_key(str(reader["owner_key"]), str(home / "owner.key"))
        self.run(argv, env=env)
        if not (home / "pins.json").exists():
            raise BuildError("the CLI pinned nothing in %s" % home)
        return home

    # ----- cases ---------------------------------------------------------------------------

    def case(
        self,
        name: str,
        repo: Path,
        env: Dict[str, str],
        op: str,
        expect: Dict[str, Any],
        *,
        path: Optional[str] = None,
        group: Optional[str] = None,
        key_path: Optional[Path] = None,
        key: Optional[str] = None,
        agent: Optional[str] = None,
        verify_key: Optional[str] = None,
        marker: Optional[str] = None,
        warnings: Sequence[str] = (),
        no_warnings: bool = False,
        never_printed: Sequence[str] = (),
        message_contains: Sequence[str] = (),
        expect_pins: Optional[Dict[str, Dict[str, Any]]] = None,
        max_seconds: Optional[float] = None,
        result_override: Optional[List[Any]] = None,
        cli_check: Optional[Callable[[Any], bool]] = None,
    ) -> None:
        """Records a case after checking the CLI gives the stored answer.

        `expect` is {"value": bytes} for get, {"result": [...]} for lists, or
        {"error": ClassName} for failures. The CLI runs on its own fresh copy of the case's
        AGENT_VAULT_HOME, and its warnings (stderr lines starting `warning:`), messages, pins
        and time are checked as the SDKs' are (conformance/README.md).
        """
        case_env = {"HOME": str(self.home)}
        case_env.update(env)
        if not Path(case_env.get("AGENT_VAULT_HOME", "")).is_dir():
            raise BuildError("case %r: AGENT_VAULT_HOME must name an existing folder" % name)
        # The key home as it is now, frozen: the builder goes on using the original (pins
        # change as it writes), and every run of this case starts from this copy.
        frozen = self.out / "case-homes" / ("%04d" % len(self.cases))
        shutil.copytree(case_env["AGENT_VAULT_HOME"], str(frozen), symlinks=True)
        case_env["AGENT_VAULT_HOME"] = str(frozen)
        case: Dict[str, Any] = {
            "name": name,
            "repo": str(repo),
            "env": case_env,
            "key_path": str(key_path) if key_path is not None else None,
            "key": key,
            "agent": agent,
            "verify_key": verify_key,
            "auto_pull": False,
            "op": op,
            "path": path,
            "group": group,
        }
        if max_seconds is not None:
            case["max_seconds"] = max_seconds
        extra: Dict[str, Any] = {}
        if warnings:
            extra["warnings"] = list(warnings)
        if no_warnings:
            extra["no_warnings"] = True
        if never_printed:
            extra["never_printed"] = list(never_printed)
        cli_answer, stderr, stdout, elapsed, pins = self.ask_cli_fresh(case)
        self.check_cli_side(name, extra, message_contains, expect_pins, max_seconds, stderr, stdout, elapsed, pins)
        if "error" in expect:
            stored = {"ok": False, "code": ERROR_CODES[expect["error"]], "error": expect["error"]}
            if message_contains:
                stored["message_contains"] = list(message_contains)
            got_ok, got_code, detail = cli_answer
            if marker is None:
                marker = ERROR_MARKERS.get(expect["error"], "")
            if got_ok or got_code != stored["code"] or marker not in detail.lower():
                self.fail(name, "expected %s (exit %d, message containing %r)" % (
                    expect["error"], stored["code"], marker), cli_answer)
            case["expect"] = stored
        elif op == "get":
            value: bytes = expect["value"]
            got_ok, got_code, got_value = cli_answer
            if not got_ok or got_value != value:
                self.fail(name, "expected the value %r…" % value[:40], cli_answer)
            try:
                value.decode("utf-8")
                utf8 = True
            except UnicodeDecodeError:
                utf8 = False
            case["expect"] = {
                "ok": True,
                "value_b64": base64.b64encode(value).decode("ascii"),
                "utf8": utf8,
            }
        else:
            got_ok, got_code, got_result = cli_answer
            if result_override is not None:
                if not got_ok or (cli_check is not None and not cli_check(got_result)):
                    self.fail(name, "expected %r" % (result_override,), cli_answer)
                case["expect"] = {"ok": True, "result": result_override}
            else:
                if not got_ok or not matches(expect["result"], got_result):
                    self.fail(name, "expected %r" % (expect["result"],), cli_answer)
                # What the CLI said, with the timestamps it wrote (already checked above).
                case["expect"] = {"ok": True, "result": got_result if got_ok else None}
        case["expect"].update(extra)
        if expect_pins is not None:
            case["expect_pins"] = expect_pins
        self.cases.append(case)

    def check_cli_side(self, name: str, extra: Dict[str, Any], message_contains: Sequence[str],
                       expect_pins: Optional[Dict[str, Dict[str, Any]]], max_seconds: Optional[float],
                       stderr: str, stdout: bytes, elapsed: float, pins: Optional[Dict[str, Any]]) -> None:
        """The CLI's warnings, messages, pins and time, as conformance/README.md asks of SDKs."""
        cli_warnings = [line for line in stderr.splitlines() if line.startswith("warning:")]
        for wanted in extra.get("warnings", []):
            if not any(wanted in w for w in cli_warnings):
                self.fail(name, "expected a warning containing %r" % wanted, stderr)
        if extra.get("no_warnings") and cli_warnings:
            self.fail(name, "expected no warning", stderr)
        for wanted in message_contains:
            if wanted not in stderr:
                self.fail(name, "expected the message to contain %r" % wanted, stderr)
        if CONTROL_RE.search(stderr):
            self.fail(name, "expected no raw control character on stderr", stderr)
        if IDENTITY_RE.search(stderr):
            self.fail(name, "expected no age identity on stderr", "<stderr holds an AGE-SECRET-KEY-1…>")
        for secret in extra.get("never_printed", []):
            if secret in stderr or secret.encode() in stdout:
                self.fail(name, "expected a private key text in no output", "<it was printed>")
        if max_seconds is not None and elapsed > max_seconds:
            self.fail(name, "expected an answer within %g s" % max_seconds, "after %.1f s" % elapsed)
        if expect_pins is not None:
            problem = pins_problem(pins, expect_pins)
            if problem:
                self.fail(name, "expected pins.json to hold %r" % (expect_pins,), problem)

    def fail(self, name: str, wanted: str, got: Any) -> None:
        shown = repr(got)
        if len(shown) > 600:
            shown = shown[:600] + "…"
        self.failures.append("case %r: %s; the CLI answered %s" % (name, wanted, shown))

    def ask_cli_fresh(self, case: Dict[str, Any]) -> Tuple[Tuple[bool, int, Any], str, bytes, float, Optional[Dict[str, Any]]]:
        """Runs the CLI equivalent of a case on a fresh copy of its key home: (answer, stderr,
        stdout, seconds, pins.json of the copy or None)."""
        scratch = Path(tempfile.mkdtemp(prefix="cli-case-", dir=str(self.scratch)))
        home = scratch / "agent-vault-home"
        shutil.copytree(case["env"]["AGENT_VAULT_HOME"], str(home), symlinks=True)
        fresh = dict(case, env=dict(case["env"], AGENT_VAULT_HOME=str(home)))
        started = time.monotonic()
        try:
            answer, stderr, stdout = self.ask_cli(fresh)
            elapsed = time.monotonic() - started
            try:
                pins: Optional[Dict[str, Any]] = json.loads((home / "pins.json").read_text())
            except (OSError, ValueError):
                pins = None
            return answer, stderr, stdout, elapsed, pins
        finally:
            for dirpath, _, _ in os.walk(str(scratch)):
                os.chmod(dirpath, 0o700)
            shutil.rmtree(str(scratch), ignore_errors=True)

    def ask_cli(self, case: Dict[str, Any]) -> Tuple[Tuple[bool, int, Any], str, bytes]:
        """Runs the CLI equivalent of a case: ((ok, exit code, value/result/error text), stderr,
        stdout)."""
        env = dict(case["env"])
        if case["key"] is not None:
            env["AGENT_VAULT_KEY"] = case["key"]  # the CLI's way to take a raw key
        argv = [str(self.cli), "--vault", case["repo"]]
        op = case["op"]
        if op == "get":
            argv += ["get", case["path"], "--offline"]
            if case["key_path"] is not None:
                argv += ["--key", case["key_path"]]
            if case["agent"] is not None:
                argv += ["--agent", case["agent"]]
            if case.get("verify_key") is not None:
                argv += ["--verify-key", case["verify_key"]]
        elif op in ("list_secrets", "list_groups"):
            argv += ["list", "--json", "--offline"]
            if case["group"] is not None:
                argv += ["--group", case["group"]]
            if case.get("verify_key") is not None:
                argv += ["--verify-key", case["verify_key"]]
        elif op == "list_agents":
            argv += ["list-agents", "--json"]
        else:
            raise BuildError("unknown op %r" % op)
        proc = self.run(argv, env=env, check=False)
        stderr = proc.stderr.decode("utf-8", "replace")
        if proc.returncode != 0:
            return (False, proc.returncode, stderr), stderr, proc.stdout
        if op == "get":
            return (True, 0, proc.stdout), stderr, proc.stdout
        try:
            listing = json.loads(proc.stdout.decode("utf-8"))
        except ValueError:
            return (False, 0, "not JSON: " + proc.stdout.decode("utf-8", "replace")[:200]), stderr, proc.stdout
        if op == "list_secrets":
            return (True, 0, [{k: s[k] for k in SECRET_INFO_FIELDS} for s in listing]), stderr, proc.stdout
        if op == "list_agents":
            return (True, 0, [{k: a[k] for k in AGENT_INFO_FIELDS} for a in listing]), stderr, proc.stdout
        # list_groups has no CLI command: the CLI's listing must only show groups it names.
        return (True, 0, sorted({s["group"] for s in listing})), stderr, proc.stdout

    def list_groups_case(self, name: str, repo: Path, env: Dict[str, str], groups: List[str],
                         with_secrets: List[str], **checks: Any) -> None:
        """list_groups: every group listed or granted in the manifest, sorted.

        The CLI has no list-groups command, so it is checked through `list --json`: the
        groups that hold secrets must be exactly `with_secrets`.
        """
        def check(got: Any) -> bool:
            return bool(got == sorted(with_secrets) and set(got) <= set(groups))

        self.case(name, repo, env, "list_groups", {"result": None}, result_override=sorted(groups),
                  cli_check=check, **checks)

    # ----- the vaults ----------------------------------------------------------------------

    def build(self) -> None:
        self.build_main()
        self.build_seed_style()
        self.build_v010()
        self.build_v010_edges()
        self.build_damaged()
        self.build_broken_manifests()
        self.build_integrity()
        self.build_hostile()
        self.build_no_vault()

    def build_main(self) -> None:
        """The main vault, written by the CLI: owner, three agents, grants and a revoke."""
        repo, home = self.new_vault("main")
        self.main_repo, self.main_home = repo, home
        owner = {"AGENT_VAULT_HOME": str(home)}
        nokey = {"AGENT_VAULT_HOME": str(self.empty_home)}

        self.av(home, repo, "add-agent", "deploy-bot")
        self.av(home, repo, "add-agent", "ci")
        # "reader" is registered with the public half of the second key of an age-keygen file
        # that holds two keys and comments.
        two_keys = self.keys / "two-keys.txt"
        first = self.run(["age-keygen"]).stdout.decode()
        second = self.run(["age-keygen"]).stdout.decode()
        two_keys.write_text("# two identities, as age-keygen writes them\n\n" + first + "\n" + second)
        two_keys.chmod(0o600)
        reader_pub = PUBLIC_KEY_RE.search(second).group(1)  # type: ignore[union-attr]
        self.av(home, repo, "add-agent", "reader", "--public-key", reader_pub)

        bot_key = agent_key_file(home, repo, "deploy-bot")
        ci_key = agent_key_file(home, repo, "ci")
        ci_key_text = ci_key.read_text()
        ci_raw = SECRET_KEY_RE.search(ci_key_text).group(0)  # type: ignore[union-attr]
        bot_raw = SECRET_KEY_RE.search(bot_key.read_text()).group(0)  # type: ignore[union-attr]
        pub = {
            "deploy-bot": PUBLIC_KEY_RE.search(bot_key.read_text()).group(1),  # type: ignore[union-attr]
            "ci": PUBLIC_KEY_RE.search(ci_key_text).group(1),  # type: ignore[union-attr]
            "reader": reader_pub,
        }
        self.owner_pub = (repo / ".agent-vault" / "owner.pub").read_text().strip()
        self.bot_pub = pub["deploy-bot"]
        self.owner_key = home / "owner.key"
        self.bot_key = bot_key

        values = {
            "stripe/api-key": b"sk_test_51Hconformance0123456789",
            "db/password": b"correct horse battery staple",
            "ops/key": b"ops-secret-after-revoke",
            "bin/all-bytes": bytes(range(256)),
            "bin/latin1": b"caf\xe9 \xff\xfe not utf-8",
            "big/one-mb": b"".join(
                hashlib.sha256(b"conformance-%d" % i).digest() for i in range(1024 * 1024 // 32)),
            "a/b/c/d": b"deeply nested value",
            "old/token": b"expired-but-readable",
            "future/token": b"expires-in-2099",
            "token": b"single-segment-default-group",
            "text/unicode": "pässwörd ✓ 🔑".encode("utf-8"),
            "text/newlines": b"line one\nline two\n",
            "shared/extra": b"granted-to-ci-outside-its-group",
        }
        for path, value in values.items():
            extra: List[str] = []
            if path == "old/token":
                extra = ["--expires", "2020-01-01"]
            elif path == "future/token":
                extra = ["--expires", "2099-12-31T23:59:59Z"]
            elif path == "shared/extra":
                extra = ["--agents", "ci"]
            self.set_secret(home, repo, path, value, *extra)
        for agent, group in [("deploy-bot", "stripe"), ("deploy-bot", "bin"), ("deploy-bot", "a"),
                             ("deploy-bot", "big"), ("ci", "db"), ("ci", "ops"),
                             ("reader", "stripe"), ("reader", "staging")]:
            self.av(home, repo, "grant", agent, group)
        self.av(home, repo, "revoke", "ci", "ops")  # granted, then revoked

        # --- get with the owner key: every value, exactly
        for path, value in values.items():
            self.case("owner gets %s" % path, repo, owner, "get", {"value": value}, path=path)
        # --- agent keys, every way of naming one
        self.case("agent key via key_path", repo, nokey, "get",
                  {"value": values["stripe/api-key"]}, path="stripe/api-key", key_path=bot_key,
                  no_warnings=True)
        self.case("agent key via key_path reads binary", repo, nokey, "get",
                  {"value": values["bin/all-bytes"]}, path="bin/all-bytes", key_path=bot_key)
        self.case("agent key via key_path reads 1 MB", repo, nokey, "get",
                  {"value": values["big/one-mb"]}, path="big/one-mb", key_path=bot_key)
        self.case("agent key via key_path reads a nested path", repo, nokey, "get",
                  {"value": values["a/b/c/d"]}, path="a/b/c/d", key_path=bot_key)
        self.case("agent via agent name", repo, owner, "get",
                  {"value": values["stripe/api-key"]}, path="stripe/api-key", agent="deploy-bot")
        self.case("agent via agent name is not the owner key", repo, owner, "get",
                  {"error": "NotAuthorizedError"}, path="db/password", agent="deploy-bot")
        self.case("AGENT_VAULT_KEY as a path", repo, dict(owner, AGENT_VAULT_KEY=str(ci_key)),
                  "get", {"value": values["db/password"]}, path="db/password")
        self.case("AGENT_VAULT_KEY as a path wins over the owner key", repo,
                  dict(owner, AGENT_VAULT_KEY=str(ci_key)), "get", {"error": "NotAuthorizedError"},
                  path="stripe/api-key")
        self.case("AGENT_VAULT_KEY as raw key text", repo,
                  dict(owner, AGENT_VAULT_KEY="\n  " + ci_raw + "\n"), "get",
                  {"value": values["db/password"]}, path="db/password")
        self.case("AGENT_VAULT_KEY as raw key text wins over the owner key", repo,
                  dict(owner, AGENT_VAULT_KEY=ci_raw), "get", {"error": "NotAuthorizedError"},
                  path="stripe/api-key")
        self.case("raw key argument", repo, nokey, "get", {"value": values["stripe/api-key"]},
                  path="stripe/api-key", key=bot_raw)
        self.case("key_path wins over AGENT_VAULT_KEY", repo,
                  dict(owner, AGENT_VAULT_KEY=str(ci_key)), "get",
                  {"value": values["stripe/api-key"]}, path="stripe/api-key", key_path=bot_key)
        self.case("agent wins over AGENT_VAULT_KEY", repo,
                  dict(owner, AGENT_VAULT_KEY=str(ci_key)), "get",
                  {"value": values["stripe/api-key"]}, path="stripe/api-key", agent="deploy-bot")
        self.case("age-keygen file with comments and two keys", repo, nokey, "get",
                  {"value": values["stripe/api-key"]}, path="stripe/api-key", key_path=two_keys,
                  warnings=["first use"])
        self.case("age-keygen file with two keys, not granted", repo, nokey, "get",
                  {"error": "NotAuthorizedError"}, path="db/password", key_path=two_keys)
        # --- grants and revokes
        self.case("granted agent reads its group", repo, nokey, "get",
                  {"value": values["db/password"]}, path="db/password", key_path=ci_key)
        self.case("revoked agent is refused", repo, nokey, "get", {"error": "NotAuthorizedError"},
                  path="ops/key", key_path=ci_key)
        self.case("agent granted one secret outside its group", repo, nokey, "get",
                  {"value": values["shared/extra"]}, path="shared/extra", key_path=ci_key)
        self.case("agent never granted is refused", repo, nokey, "get",
                  {"error": "NotAuthorizedError"}, path="stripe/api-key", key_path=ci_key)
        self.case("expired secret is still readable by an agent", repo, owner, "get",
                  {"value": values["old/token"]}, path="old/token", warnings=["expired"])
        # --- errors
        self.case("missing secret", repo, owner, "get", {"error": "SecretNotFoundError"},
                  path="nope/missing")
        # The CLI loads the key before it looks for the secret (and verifies the signature).
        self.case("a missing key is reported before a missing secret", repo, nokey, "get",
                  {"error": "KeyNotFoundError"}, path="nope/missing")
        self.case("key file named explicitly but missing: no fallback to the owner key", repo,
                  owner, "get", {"error": "KeyNotFoundError"}, path="stripe/api-key",
                  key_path=self.keys / "missing.key")
        self.case("agent named but its key file is missing: no fallback", repo, owner, "get",
                  {"error": "KeyNotFoundError"}, path="stripe/api-key", agent="ghost")
        self.case("AGENT_VAULT_KEY names a missing file: no fallback", repo,
                  dict(owner, AGENT_VAULT_KEY=str(self.keys / "missing.key")), "get",
                  {"error": "KeyNotFoundError"}, path="stripe/api-key")
        self.case("no key anywhere", repo, nokey, "get", {"error": "KeyNotFoundError"},
                  path="stripe/api-key")
        bad_key = self.keys / "not-a-key.txt"
        bad_key.write_text("this is not an age identity\n")
        self.case("malformed key file", repo, nokey, "get", {"error": "FormatError"},
                  path="stripe/api-key", key_path=bad_key)
        for bad in ["../x", "/abs", "a//b", "a/", "x.enc", ".hidden"]:
            self.case("invalid secret path %r" % bad, repo, owner, "get",
                      {"error": "InvalidInputError"}, path=bad)
        self.case("invalid agent name", repo, owner, "get", {"error": "InvalidInputError"},
                  path="stripe/api-key", agent="Not An Agent")
        # --- listings (no key needed)
        a = lambda *names: list(names)  # noqa: E731
        listing = [
            secret_info("a/b/c/d", "a", a("deploy-bot")),
            secret_info("big/one-mb", "big", a("deploy-bot")),
            secret_info("bin/all-bytes", "bin", a("deploy-bot")),
            secret_info("bin/latin1", "bin", a("deploy-bot")),
            secret_info("db/password", "db", a("ci")),
            secret_info("future/token", "future", a(), expires="2099-12-31T23:59:59Z"),
            secret_info("old/token", "old", a(), expires="2020-01-01T00:00:00Z", expired=True),
            secret_info("ops/key", "ops", a()),
            secret_info("shared/extra", "shared", a("ci")),
            secret_info("stripe/api-key", "stripe", a("deploy-bot", "reader")),
            secret_info("text/newlines", "text", a()),
            secret_info("text/unicode", "text", a()),
            secret_info("token", "default", a()),
        ]
        self.case("list all secrets without any key", repo, nokey, "list_secrets",
                  {"result": listing})
        self.case("list one group", repo, owner, "list_secrets",
                  {"result": [s for s in listing if s["group"] == "bin"]}, group="bin")
        self.case("list a group whose only agent was revoked", repo, owner, "list_secrets",
                  {"result": [s for s in listing if s["group"] == "ops"]}, group="ops")
        self.case("list an unknown group", repo, owner, "list_secrets",
                  {"error": "SecretNotFoundError"}, group="nosuch")
        self.case("list an invalid group name", repo, owner, "list_secrets",
                  {"error": "InvalidInputError"}, group="Not A Group")
        with_secrets = sorted({s["group"] for s in listing})
        # "staging" is granted to an agent but holds no secret yet: still a group.
        self.list_groups_case("list groups, including one without secrets", repo, nokey,
                              with_secrets + ["staging"], with_secrets)
        self.case("list agents", repo, nokey, "list_agents", {"result": [
            {"name": "ci", "groups": ["db"], "public_key": pub["ci"], "escrow": True},
            {"name": "deploy-bot", "groups": ["a", "big", "bin", "stripe"],
             "public_key": pub["deploy-bot"], "escrow": True},
            {"name": "reader", "groups": ["staging", "stripe"], "public_key": pub["reader"],
             "escrow": False},
        ]})

    def build_seed_style(self) -> None:
        """A vault in agent-vault 0.1.0's layout, written by hand with stock `age` and git.

        Genuinely unsigned (no `integrity/`), with its own owner and deploy-bot keys made by
        `age-keygen` (an agent key file made by `add-agent` for another vault names that
        vault's verify key, so readers would rightly expect a signature). `token` is binary
        age with a `default` group and a `.meta` without `recipients`; `stripe/api-key` is the
        main vault's value re-encrypted ASCII-armored with `age -a`.
        """
        repo = self.out / "seed" / "repo"
        seed_home = self.out / "seed" / "agent-vault-home"
        seed_home.mkdir(parents=True, mode=0o700)
        seed_owner_key = seed_home / "owner.key"
        seed_owner_key.write_bytes(self.run(["age-keygen"]).stdout)
        seed_owner_key.chmod(0o600)
        seed_bot_key = self.keys / "seed-deploy-bot.key"
        seed_bot_key.write_bytes(self.run(["age-keygen"]).stdout)
        seed_bot_key.chmod(0o600)
        seed_owner_pub = PUBLIC_KEY_RE.search(seed_owner_key.read_text()).group(1)  # type: ignore[union-attr]
        seed_bot_pub = PUBLIC_KEY_RE.search(seed_bot_key.read_text()).group(1)  # type: ignore[union-attr]
        vault = repo / ".agent-vault"
        (vault / "secrets" / "stripe").mkdir(parents=True)
        (vault / "agents" / "deploy-bot").mkdir(parents=True)
        self.run(["git", "init", "--quiet", "-b", "main", str(repo)])
        (vault / "config.yaml").write_text("version: 1\nencryption:\n  format: age\n")
        (vault / "owner.pub").write_text("# the owner\n" + seed_owner_pub + "\n")
        (vault / "agents" / "deploy-bot" / "public.key").write_text(seed_bot_pub + "\n")
        (vault / "manifest.yaml").write_text(
            "version: 1\n"
            "owners:\n- name: Seed Owner\n  public_key: owner.pub\n"
            "agents:\n- name: deploy-bot\n  groups:\n  - default\n  - stripe\n"
            "groups:\n"
            "- name: default\n  secrets:\n  - token\n"
            "- name: private\n  secrets:\n  - private/note\n"
            "- name: stripe\n  secrets:\n  - stripe/api-key\n"
        )
        both = [seed_owner_pub, seed_bot_pub]
        token = b"seed-style binary age"
        (vault / "secrets" / "token.enc").write_bytes(self.age_encrypt(token, both, armor=False))
        (vault / "secrets" / "token.meta").write_text(
            "name: token\ngroup: default\ncreated: 2025-01-01T00:00:00Z\n"
            "rotated: 2025-01-02T00:00:00Z\nauthorized_agents:\n- deploy-bot\n")
        stripe = self.age_decrypt(
            self.main_repo / ".agent-vault" / "secrets" / "stripe" / "api-key.enc", self.owner_key)
        armored = self.age_encrypt(stripe, both, armor=True)
        if not armored.startswith(b"-----BEGIN AGE ENCRYPTED FILE-----"):
            raise BuildError("age -a did not produce an armored file")
        (vault / "secrets" / "stripe" / "api-key.enc").write_bytes(armored)
        # Old-style timestamps: a space-separated time with offset, no `rotated`, a bare date.
        (vault / "secrets" / "stripe" / "api-key.meta").write_text(
            "name: stripe/api-key\ngroup: stripe\ncreated: 2025-01-01 10:00:00+00:00\n"
            "expires: 2025-06-01\nauthorized_agents:\n- deploy-bot\n")
        (vault / "secrets" / "private").mkdir()
        note = b"owner only"
        (vault / "secrets" / "private" / "note.enc").write_bytes(
            self.age_encrypt(note, [seed_owner_pub], armor=False))
        (vault / "secrets" / "private" / "note.meta").write_text(
            "name: private/note\ngroup: private\ncreated: '2025-03-01T12:30:00.5+02:00'\n"
            "authorized_agents: []\nfuture_field: kept and ignored\n")
        self.commit_all(repo, "seed-style vault written by hand")

        owner = {"AGENT_VAULT_HOME": str(seed_home)}
        nokey = {"AGENT_VAULT_HOME": str(self.empty_home)}
        self.case("seed-style: owner reads binary age", repo, owner, "get", {"value": token},
                  path="token", warnings=["unsigned"])
        self.case("seed-style: agent reads binary age", repo, nokey, "get", {"value": token},
                  path="token", key_path=seed_bot_key)
        self.case("seed-style: owner reads armored age", repo, owner, "get", {"value": stripe},
                  path="stripe/api-key")
        self.case("seed-style: agent reads armored age", repo, nokey, "get", {"value": stripe},
                  path="stripe/api-key", key_path=seed_bot_key)
        self.case("seed-style: agent not a recipient", repo, nokey, "get",
                  {"error": "NotAuthorizedError"}, path="private/note", key_path=seed_bot_key)
        self.case("seed-style: owner reads an owner-only secret", repo, owner, "get",
                  {"value": note}, path="private/note")
        self.case("seed-style: list", repo, nokey, "list_secrets", {"result": [
            secret_info("private/note", "private", [], created="2025-03-01T12:30:00.5+02:00",
                        rotated=None),
            secret_info("stripe/api-key", "stripe", ["deploy-bot"],
                        created="2025-01-01 10:00:00+00:00", rotated=None,
                        expires="2025-06-01", expired=True),
            secret_info("token", "default", ["deploy-bot"], created="2025-01-01T00:00:00Z",
                        rotated="2025-01-02T00:00:00Z"),
        ]})
        self.list_groups_case("seed-style: list groups", repo, nokey,
                              ["default", "private", "stripe"], ["default", "private", "stripe"])
        self.case("seed-style: list agents", repo, nokey, "list_agents", {"result": [
            {"name": "deploy-bot", "groups": ["default", "stripe"], "public_key": seed_bot_pub,
             "escrow": False}]})

    # ----- agent-vault 0.1.0 ---------------------------------------------------------------
    #
    # Vaults exactly as agent-vault 0.1.0 left them (v010_format.py: its files byte for byte,
    # written from the format with stock `age`/`age-keygen` and plain git; no 0.1.0 binary),
    # read before adoption, adopted with `agent-vault sign`, changed with the CLI's owner
    # commands, and read again from the same clone, a fresh clone and a clone that is behind.

    def keygen_bare(self, path: Path) -> Tuple[str, str]:
        """A new key pair from `age-keygen`, saved at `path` as 0.1.0 saves key files (the bare
        `AGE-SECRET-KEY-1…`, no comment, no newline, mode 0600): (identity, recipient)."""
        text = self.run(["age-keygen"]).stdout.decode()
        raw = SECRET_KEY_RE.search(text).group(0)  # type: ignore[union-attr]
        public = PUBLIC_KEY_RE.search(text).group(1)  # type: ignore[union-attr]
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.write_text(raw)
        path.chmod(0o600)
        return raw, public

    def lay_out_v010(self, repo: Path, owner: str, owner_pub: str, agents: Dict[str, Tuple[str, str]],
                     manifest: str, secrets: Sequence[OldSecret],
                     also: Optional[Dict[str, bytes]] = None) -> None:
        """Writes and commits a vault in 0.1.0's layout. `agents`: name → (identity, recipient);
        `also`: more files (relative to `.agent-vault/`) for the edge cases."""
        vault = repo / ".agent-vault"
        self.run(["git", "init", "--quiet", "-b", "main", str(repo)])
        files: Dict[str, bytes] = {
            "config.yaml": V010_CONFIG.encode(),
            "owner.pub": owner_pub.encode(),
            ".gitignore": V010_GITIGNORE.encode(),
            "manifest.yaml": manifest.encode(),
        }
        for name, (raw, public) in agents.items():
            files["agents/%s/public.key" % name] = public.encode()
            files["agents/%s/private.key.escrow" % name] = self.age_encrypt(raw.encode(), [owner_pub], armor=False)
        for s in secrets:
            recipients = [owner_pub] + [agents[a][1] for a in s.agents]
            stored = v010_stored_path(s.path)
            files["secrets/%s.enc" % stored] = self.age_encrypt(s.value, recipients, armor=False)
            files["secrets/%s.meta" % stored] = v010_meta_yaml(
                s.path, s.group, s.created, s.rotated, s.agents, s.expires).encode()
        files.update(also or {})
        for rel, data in files.items():
            (vault / rel).parent.mkdir(parents=True, exist_ok=True)
            (vault / rel).write_bytes(data)
        self.git(repo, "add", "-A")
        # 0.1.0's `.gitignore` ignores `*.key`, yet its libgit2 `index.add_path` committed
        # every public.key: force-added here.
        if agents:
            self.git(repo, "add", "-f", ".agent-vault/agents")
        self.git(repo, "commit", "--quiet", "--no-verify", "-m", "vault written by agent-vault 0.1.0 (%s)" % owner)

    def agent_reads(self, label: str, repo: Path, agent: str, key_file: Path, raw: str, agent_home: Path,
                    path: str, value: bytes, **checks: Any) -> None:
        """One agent reads one secret every way a migrating agent may name its key: `key_path`,
        `agent` (its key file in `agent_home`), `AGENT_VAULT_KEY` as a path and as key text."""
        nokey = {"AGENT_VAULT_HOME": str(self.empty_home)}
        expect = {"value": value}
        self.case("%s: %s reads %s via key_path" % (label, agent, path), repo, nokey, "get", expect,
                  path=path, key_path=key_file, **checks)
        self.case("%s: %s reads %s via agent" % (label, agent, path), repo,
                  {"AGENT_VAULT_HOME": str(agent_home)}, "get", expect, path=path, agent=agent, **checks)
        self.case("%s: %s reads %s via AGENT_VAULT_KEY (a path)" % (label, agent, path), repo,
                  dict(nokey, AGENT_VAULT_KEY=str(key_file)), "get", expect, path=path, **checks)
        self.case("%s: %s reads %s via AGENT_VAULT_KEY (key text)" % (label, agent, path), repo,
                  dict(nokey, AGENT_VAULT_KEY=raw), "get", expect, path=path, **checks)

    def cli_notes(self, proc: subprocess.CompletedProcess, label: str, wanted: Sequence[str]) -> None:
        """Build-time checks of what the CLI printed (stderr)."""
        text = proc.stderr.decode("utf-8", "replace")
        for w in wanted:
            if w not in text:
                self.fail(label, "expected the CLI to say %r" % w, text)

    def cli_check_clean(self, home: Path, repo: Path, label: str) -> Dict[str, Any]:
        """`agent-vault check --json` must find no error (build-time check of the CLI)."""
        proc = self.run([str(self.cli), "--vault", str(repo), "check", "--json"],
                        env={"AGENT_VAULT_HOME": str(home)}, check=False)
        try:
            report: Dict[str, Any] = json.loads(proc.stdout.decode())
        except ValueError:
            self.fail(label, "expected check --json to print JSON", proc.stderr.decode("utf-8", "replace"))
            return {}
        if report.get("error_count") != 0:
            self.fail(label, "expected check to find no error", report)
        return report

    def build_v010(self) -> None:
        """A vault as agent-vault 0.1.0 left it, then adopted and lived in (see above).

        0.1.0's history, as its CLI would have run it (owner "ada"; 0.1.0 keeps insertion
        order and re-encrypts a group's secrets for the group's agents on grant/revoke):
        add-agent deploy, ci, old-bot; set stripe/api-key; grant deploy stripe; set
        stripe/api-key --agents ci (ci only through --agents); set token; grant deploy default;
        set x --group special (stored at secrets/default/x); grant ci special; set
        db/prod/password --expires 2099-01-01T00:00:00Z; grant ci db; grant old-bot db; revoke
        old-bot db; set note --group private (owner only, at secrets/default/note).
        """
        base = self.out / "v0.1.0"
        repo = base / "repo"
        home = base / "agent-vault-home"  # 0.1.0's ~/.agent-vault: owner.key, agents/<name>.key
        home.mkdir(parents=True, mode=0o700)
        _, owner_pub = self.keygen_bare(home / "owner.key")
        agents: Dict[str, Tuple[str, str]] = {}
        key_files: Dict[str, Path] = {}
        for name in ("deploy", "ci", "old-bot"):
            agents[name] = self.keygen_bare(home / "agents" / ("%s.key" % name))
            key_files[name] = self.keys / ("v010-%s.key" % name)
            copy_key(str(home / "agents" / ("%s.key" % name)), str(key_files[name]))
        secrets = [
            OldSecret("stripe/api-key", "stripe", "sk_live_0.1.0 ünïcödé ✓".encode(),
                      "2025-03-04T05:06:07.123456789Z", "2025-03-05T09:10:11.987654321Z", ["deploy", "ci"]),
            OldSecret("token", "default", b"tok-0.1.0\n",
                      "2025-03-06T10:00:00.500Z", "2025-03-06T10:00:01.000001Z", ["deploy"]),
            OldSecret("x", "special", b"x, set with --group special",
                      "2025-03-07T11:00:00Z", "2025-03-07T11:00:02.111111111Z", ["ci"]),
            OldSecret("db/prod/password", "db", b"p@ss w0rd: 'quoted' \"and\" $dollar",
                      "2025-03-08T12:00:00.222222222Z", "2025-03-08T12:05:00.333333333Z", ["ci"],
                      expires="2099-01-01T00:00:00Z"),
            OldSecret("note", "private", b"owner's note\nline two\n",
                      "2025-03-09T13:00:00.444444444Z", "2025-03-09T13:00:00.444444444Z", []),
        ]
        value = {s.path: s.value for s in secrets}
        manifest = v010_manifest_yaml(
            [("ada", "owner.pub")],
            [("deploy", ["stripe", "default"]), ("ci", ["special", "db"]), ("old-bot", [])],
            [("stripe", ["stripe/api-key"]), ("default", ["token"]), ("special", ["x"]),
             ("db", ["db/prod/password"]), ("private", ["note"])])
        self.lay_out_v010(repo, "ada", owner_pub, agents, manifest, secrets)
        raw = {name: agents[name][0] for name in agents}
        pub = {name: agents[name][1] for name in agents}
        readable = {"deploy": ["stripe/api-key", "token"], "ci": ["stripe/api-key", "x", "db/prod/password"]}
        refused = [("deploy", "x"), ("deploy", "db/prod/password"), ("deploy", "note"), ("ci", "token"),
                   ("old-bot", "db/prod/password")]

        # Build-time: check reports 0.1.0's --agents grant as a warning, not an error.
        report = self.cli_check_clean(home, repo, "0.1.0: check before adoption")
        if "legacy-extra-agents" not in json.dumps(report):
            self.fail("0.1.0: check before adoption", "expected the legacy-extra-agents warning", report)

        # ----- as 0.1.0 left it (unsigned)
        label = "0.1.0 layout"
        owner_env = {"AGENT_VAULT_HOME": str(home)}
        nokey = {"AGENT_VAULT_HOME": str(self.empty_home)}
        for s in secrets:
            self.case("%s: owner reads %s" % (label, s.path), repo, owner_env, "get", {"value": s.value},
                      path=s.path, warnings=["unsigned"])
        for agent, paths in readable.items():
            for path in paths:
                self.agent_reads(label, repo, agent, key_files[agent], raw[agent], home, path, value[path],
                                 warnings=["unsigned"])
        for agent, path in refused:
            self.case("%s: %s is refused %s" % (label, agent, path), repo, nokey, "get",
                      {"error": "NotAuthorizedError"}, path=path, key_path=key_files[agent])
        self.case("%s: a single-segment secret that does not exist" % label, repo, owner_env, "get",
                  {"error": "SecretNotFoundError"}, path="nope")
        listing = [
            self.old_info(secrets[3]), self.old_info(secrets[4]), self.old_info(secrets[0]),
            self.old_info(secrets[1]), self.old_info(secrets[2]),
        ]
        self.case("%s: list" % label, repo, nokey, "list_secrets", {"result": listing}, warnings=["unsigned"])
        self.case("%s: list group special (stored under secrets/default/)" % label, repo, nokey,
                  "list_secrets", {"result": [listing[4]]}, group="special")
        self.case("%s: list group default" % label, repo, nokey, "list_secrets",
                  {"result": [listing[3]]}, group="default")
        groups = ["db", "default", "private", "special", "stripe"]
        self.list_groups_case("%s: list groups" % label, repo, nokey, groups, groups)
        self.case("%s: list agents" % label, repo, nokey, "list_agents", {"result": [
            {"name": "ci", "groups": ["db", "special"], "public_key": pub["ci"], "escrow": True},
            {"name": "deploy", "groups": ["default", "stripe"], "public_key": pub["deploy"], "escrow": True},
            {"name": "old-bot", "groups": [], "public_key": pub["old-bot"], "escrow": True},
        ]})

        # A clone made now, before adoption: later it is behind.
        behind = base / "behind"
        self.run(["git", "clone", "--quiet", str(repo), str(behind)])

        # ----- adopted: `agent-vault sign` in a clone (the original stays as 0.1.0 left it)
        adopted = base / "adopted"
        self.run(["git", "clone", "--quiet", str(repo), str(adopted)])
        owner_home = base / "owner-home"
        owner_home.mkdir(mode=0o700)
        copy_key(str(home / "owner.key"), str(owner_home / "owner.key"))
        (owner_home / "owner.key").chmod(0o600)
        before = self.run(["git", "-C", str(adopted), "rev-list", "--count", "HEAD"]).stdout
        signed = self.av(owner_home, adopted, "sign")
        self.cli_notes(signed, "0.1.0: sign adopts", [
            "moved 'token'", "moved 'x'", "moved 'note'", "!public.key",
            "extra agents of 'stripe/api-key'"])
        after = self.run(["git", "-C", str(adopted), "rev-list", "--count", "HEAD"]).stdout
        if int(after) != int(before) + 1:
            self.fail("0.1.0: sign adopts", "expected exactly one commit", (before, after))
        tree = self.run(["git", "-C", str(adopted), "ls-tree", "-r", "--name-only", "HEAD"]).stdout.decode()
        if "secrets/default/" in tree or ".agent-vault/secrets/token.enc" not in tree:
            self.fail("0.1.0: sign adopts", "expected secrets/default/* moved to secrets/*", tree)
        self.av(owner_home, adopted, "verify", "--offline")
        self.cli_check_clean(owner_home, adopted, "0.1.0: check after adoption")
        verify_key = self.verify_key_of(adopted)

        label = "0.1.0 adopted"
        adopted_owner = {"AGENT_VAULT_HOME": str(owner_home)}
        for s in secrets:
            self.case("%s: owner reads %s" % (label, s.path), adopted, adopted_owner, "get",
                      {"value": s.value}, path=s.path, no_warnings=True)
        for agent, paths in readable.items():
            for path in paths:
                self.agent_reads(label, adopted, agent, key_files[agent], raw[agent], home, path, value[path],
                                 warnings=["first use", verify_key])
        for agent, path in refused:
            self.case("%s: %s is refused %s" % (label, agent, path), adopted, nokey, "get",
                      {"error": "NotAuthorizedError"}, path=path, key_path=key_files[agent])
        self.case("%s: an agent pinning the verify key reads, no warning" % label, adopted, nokey, "get",
                  {"value": value["token"]}, path="token", key_path=key_files["deploy"], verify_key=verify_key,
                  no_warnings=True)
        self.case("%s: AGENT_VAULT_VERIFY_KEY, no warning" % label, adopted,
                  dict(nokey, AGENT_VAULT_VERIFY_KEY=verify_key), "get", {"value": value["x"]}, path="x",
                  key_path=key_files["ci"], no_warnings=True)
        self.case("%s: the 0.1.0 file path is not a secret path" % label, adopted, adopted_owner, "get",
                  {"error": "SecretNotFoundError"}, path="default/token")
        self.case("%s: list" % label, adopted, nokey, "list_secrets", {"result": self.adopted_listing(listing)},
                  verify_key=verify_key, no_warnings=True)
        self.list_groups_case("%s: list groups" % label, adopted, nokey, groups, groups, verify_key=verify_key)

        self.build_v010_lived(base, adopted, owner_home, behind, secrets, key_files, pub)

    def old_info(self, s: OldSecret, agents: Optional[List[str]] = None) -> Dict[str, Any]:
        """A 0.1.0 secret's listing entry: its dates as stored (nanoseconds included)."""
        return {
            "path": s.path, "group": s.group, "created": s.created, "rotated": s.rotated,
            "expires": s.expires, "authorized_agents": list(s.agents if agents is None else agents),
            "expired": False,
        }

    @staticmethod
    def adopted_listing(listing: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """After `sign`: the same paths, groups, dates and readers. The `.meta` of a secret
        whose 0.1.0 `--agents` grant `sign` records as `extra_agents` is rewritten, with its
        agents sorted as writers sort lists (stripe/api-key: 0.1.0 stored [deploy, ci])."""
        out = [dict(e) for e in listing]
        for e in out:
            if e["path"] == "stripe/api-key":
                e["authorized_agents"] = sorted(e["authorized_agents"])
        return out

    def build_v010_lived(self, base: Path, adopted: Path, owner_home: Path, behind: Path,
                         secrets: Sequence[OldSecret], key_files: Dict[str, Path], pub: Dict[str, str]) -> None:
        """The adopted vault after a life of owner commands with the CLI: grant deploy special;
        revoke deploy stripe (ci keeps stripe/api-key, recorded as an extra agent by `sign`);
        set token (rotated); set app/new then rm app/new; rm note; add-agent bot4; grant bot4
        default; remove-agent deploy and old-bot; recover-agent ci. Then read there, from a
        fresh clone, and from the clone made before adoption (behind, fetched since)."""
        lived = base / "lived"
        self.run(["git", "clone", "--quiet", str(adopted), str(lived)])
        value = {s.path: s.value for s in secrets}
        rotated = b"token rotated after adoption"
        self.av(owner_home, lived, "grant", "deploy", "special")
        self.av(owner_home, lived, "revoke", "deploy", "stripe")
        self.set_secret(owner_home, lived, "token", rotated)
        self.set_secret(owner_home, lived, "app/new", b"short-lived")
        self.av(owner_home, lived, "rm", "app/new")
        self.av(owner_home, lived, "rm", "note")
        self.av(owner_home, lived, "add-agent", "bot4")
        self.av(owner_home, lived, "grant", "bot4", "default")
        self.av(owner_home, lived, "remove-agent", "deploy")
        self.av(owner_home, lived, "remove-agent", "old-bot")
        ci_new = self.keys / "v010-ci-recovered.key"
        self.av(owner_home, lived, "recover-agent", "ci", "--key-out", str(ci_new))
        bot4_key = self.keys / "v010-bot4.key"
        copy_key(str(agent_key_file(owner_home, lived, "bot4")), str(bot4_key))
        self.av(owner_home, lived, "verify", "--offline")
        self.cli_check_clean(owner_home, lived, "0.1.0: check after a life of changes")
        verify_key = self.verify_key_of(lived)
        # Stock age on every ciphertext in HEAD: the owner opens each; the removed agents' keys
        # and ci's key from before its recovery open none.
        scratch = Path(tempfile.mkdtemp(prefix="v010-enc-", dir=str(self.scratch)))
        tree = self.run(["git", "-C", str(lived), "ls-tree", "-r", "--name-only", "HEAD", ".agent-vault/secrets"])
        for rel in tree.stdout.decode().split():
            if not rel.endswith(".enc"):
                continue
            enc = scratch / "x.enc"
            enc.write_bytes(self.run(["git", "-C", str(lived), "show", "HEAD:%s" % rel]).stdout)
            if self.run(["age", "-d", "-i", str(owner_home / "owner.key"), str(enc)], check=False).returncode:
                self.fail("0.1.0: stock age after changes", "expected the owner key to open %s" % rel, "no")
            for old in ("deploy", "old-bot", "ci"):
                if self.run(["age", "-d", "-i", str(key_files[old]), str(enc)], check=False).returncode == 0:
                    self.fail("0.1.0: stock age after changes",
                              "expected %s's old key not to open %s" % (old, rel), "it opens")
        shutil.rmtree(str(scratch))

        label = "0.1.0 adopted, then changed"
        owner_env = {"AGENT_VAULT_HOME": str(owner_home)}
        nokey = {"AGENT_VAULT_HOME": str(self.empty_home)}
        now = {"stripe/api-key": value["stripe/api-key"], "token": rotated, "x": value["x"],
               "db/prod/password": value["db/prod/password"]}
        for path, v in now.items():
            self.case("%s: owner reads %s" % (label, path), lived, owner_env, "get", {"value": v}, path=path,
                      no_warnings=True)
        for path in ("note", "app/new"):
            self.case("%s: %s was removed" % (label, path), lived, owner_env, "get",
                      {"error": "SecretNotFoundError"}, path=path)
        for path in ("stripe/api-key", "x", "db/prod/password"):
            self.case("%s: ci's recovered key reads %s" % (label, path), lived, nokey, "get", {"value": now[path]},
                      path=path, key_path=ci_new, no_warnings=True)
            self.case("%s: ci's key from before recovery is refused %s" % (label, path), lived, nokey, "get",
                      {"error": "NotAuthorizedError"}, path=path, key_path=key_files["ci"])
        ci_new_text = ci_new.read_text()
        ci_new_raw = SECRET_KEY_RE.search(ci_new_text).group(0)  # type: ignore[union-attr]
        self.case("%s: ci's recovered key as AGENT_VAULT_KEY text" % label, lived,
                  dict(nokey, AGENT_VAULT_KEY=ci_new_text), "get", {"value": now["stripe/api-key"]},
                  path="stripe/api-key", no_warnings=True, never_printed=[ci_new_raw])
        for agent, path in (("deploy", "token"), ("deploy", "x"), ("old-bot", "db/prod/password")):
            self.case("%s: removed agent %s is refused %s" % (label, agent, path), lived, nokey, "get",
                      {"error": "NotAuthorizedError"}, path=path, key_path=key_files[agent])
        self.case("%s: new agent bot4 reads token" % label, lived, owner_env, "get", {"value": rotated},
                  path="token", agent="bot4", no_warnings=True)
        self.case("%s: new agent bot4 is refused stripe/api-key" % label, lived, owner_env, "get",
                  {"error": "NotAuthorizedError"}, path="stripe/api-key", agent="bot4")
        by_path = {s.path: s for s in secrets}
        listing = [
            self.old_info(by_path["db/prod/password"]),
            self.old_info(by_path["stripe/api-key"], ["ci"]),
            dict(self.old_info(by_path["token"], ["bot4"]), rotated=TS),
            self.old_info(by_path["x"]),
        ]
        self.case("%s: list" % label, lived, nokey, "list_secrets", {"result": listing},
                  verify_key=verify_key, no_warnings=True)
        bot4_pub = (lived / ".agent-vault" / "agents" / "bot4" / "public.key").read_text().strip()
        ci_pub = (lived / ".agent-vault" / "agents" / "ci" / "public.key").read_text().strip()
        if ci_pub == pub["ci"]:
            self.fail("0.1.0: recover-agent", "expected ci's public key to change", ci_pub)
        self.case("%s: list agents" % label, lived, nokey, "list_agents", {"result": [
            {"name": "bot4", "groups": ["default"], "public_key": bot4_pub, "escrow": True},
            {"name": "ci", "groups": ["db", "special"], "public_key": ci_pub, "escrow": True},
        ]})

        # A fresh clone on the owner's other machine: only the owner key, no pins.
        fresh = base / "fresh"
        self.run(["git", "clone", "--quiet", str(lived), str(fresh)])
        fresh_home = base / "fresh-owner-home"
        fresh_home.mkdir(mode=0o700)
        copy_key(str(owner_home / "owner.key"), str(fresh_home / "owner.key"))
        label = "0.1.0 adopted and changed, fresh clone"
        self.case("%s: owner on a fresh home reads token" % label, fresh, {"AGENT_VAULT_HOME": str(fresh_home)},
                  "get", {"value": rotated}, path="token", no_warnings=True)
        self.case("%s: list" % label, fresh, nokey, "list_secrets", {"result": listing},
                  verify_key=verify_key, no_warnings=True)

        # The clone made before adoption, now behind: it fetches the changed vault; its HEAD
        # and checkout still hold 0.1.0's layout. Readers read the fetched upstream.
        self.git(behind, "remote", "set-url", "origin", str(lived))
        self.git(behind, "fetch", "--quiet", "origin")
        behind_home = base / "behind-owner-home"
        behind_home.mkdir(mode=0o700)
        copy_key(str(owner_home / "owner.key"), str(behind_home / "owner.key"))
        label = "0.1.0 clone behind (fetched)"
        self.case("%s: owner on its own home reads token" % label, behind, {"AGENT_VAULT_HOME": str(behind_home)},
                  "get", {"value": rotated}, path="token", no_warnings=True)
        self.case("%s: bot4 reads token" % label, behind, nokey, "get", {"value": rotated}, path="token",
                  key_path=bot4_key, no_warnings=True)
        self.case("%s: ci's key from before recovery is refused" % label, behind, nokey, "get",
                  {"error": "NotAuthorizedError"}, path="x", key_path=key_files["ci"], verify_key=verify_key)
        self.case("%s: list" % label, behind, nokey, "list_secrets", {"result": listing},
                  verify_key=verify_key, no_warnings=True)

        # After adoption an agent's public key swapped by someone with push access: refused.
        swapped = base / "swapped"
        self.run(["git", "clone", "--quiet", str(lived), str(swapped)])
        _, attacker_pub = self.keygen_bare(self.keys / "v010-attacker.key")
        (swapped / ".agent-vault" / "agents" / "bot4" / "public.key").write_text(attacker_pub + "\n")
        self.commit_all(swapped, "swap bot4's public key")
        label = "0.1.0 adopted, then bot4's public key swapped"
        self.case("%s: bot4 (anchored by its key file)" % label, swapped, nokey, "get",
                  {"error": "IntegrityError"}, path="token", key_path=bot4_key)
        self.case("%s: owner" % label, swapped, {"AGENT_VAULT_HOME": str(fresh_home)}, "get",
                  {"error": "IntegrityError"}, path="x")
        self.case("%s: list" % label, swapped, nokey, "list_secrets", {"error": "IntegrityError"},
                  verify_key=verify_key)

        self.build_v010_old_writer(base, lived, fresh_home, now, verify_key)

    def set_like_v010(self, repo: Path, secret: str, value: bytes, now: str) -> None:
        """What agent-vault 0.1.0's `set SECRET VALUE` does to a vault (src/core/vault.rs,
        `set_secret`), with stock age and plain git: re-reads the manifest and the secret's
        .meta through its serde structs (keys it does not know are dropped), encrypts to the
        owner and the group's agents, writes the files where 0.1.0 puts them, saves the
        manifest, and commits (libgit2: no hooks)."""
        vault = repo / ".agent-vault"
        owners, agents, groups = v010_parse_manifest((vault / "manifest.yaml").read_text())
        group = v010_default_group(secret)
        for name, listed in groups:
            if name == group and secret not in listed:
                listed.append(secret)
        if group not in [g for g, _ in groups]:
            groups.append((group, [secret]))
        readers = v010_agents_in_group(agents, group)
        owner_pub = (vault / "owner.pub").read_text().strip()
        recipients = [owner_pub] + [(vault / "agents" / a / "public.key").read_text().strip() for a in readers]
        stored = v010_stored_path(secret)
        enc, meta = vault / "secrets" / (stored + ".enc"), vault / "secrets" / (stored + ".meta")
        enc.parent.mkdir(parents=True, exist_ok=True)
        enc.write_bytes(self.age_encrypt(value, recipients, armor=False))
        created, expires = now, None
        if meta.exists():  # an update keeps `created` and `expires`
            old = dict(line.split(": ", 1) for line in meta.read_text().splitlines() if ": " in line)
            created, expires = old["created"], old.get("expires")
        meta.write_text(v010_meta_yaml(secret, group, created, now, readers, expires))
        (vault / "manifest.yaml").write_text(v010_manifest_yaml(owners, agents, groups))
        self.git(repo, "add", "-f", str(enc), str(meta), str(vault / "manifest.yaml"))
        self.git(repo, "commit", "--quiet", "--no-verify", "-m", "agent-vault: set secret '%s'" % secret)

    def build_v010_old_writer(self, base: Path, lived: Path, fresh_home: Path, now: Dict[str, bytes],
                              verify_key: str) -> None:
        """agent-vault 0.1.0 still in someone's hands after adoption: its `set` of an existing
        nested secret, of an existing single-segment one, and of a new one, on the signed vault.
        What readers do follows from the bytes (the expectation says which): a changed manifest
        fails every read; the changed secret and every listing fail; a single-segment `set`
        writes secrets/default/P, where no signed reader looks for P."""
        owner_env = {"AGENT_VAULT_HOME": str(fresh_home)}
        nokey = {"AGENT_VAULT_HOME": str(self.empty_home)}
        manifest = (lived / ".agent-vault" / "manifest.yaml").read_bytes()
        for name, secret, other in (("nested", "db/prod/password", "x"), ("single", "token", "x"),
                                    ("new", "db/replica", "x")):
            repo = base / ("set-by-0.1.0-%s" % name)
            self.run(["git", "clone", "--quiet", str(lived), str(repo)])
            self.set_like_v010(repo, secret, b"set by agent-vault 0.1.0", "2026-01-02T03:04:05.678901234Z")
            changed = (repo / ".agent-vault" / "manifest.yaml").read_bytes() != manifest
            label = "0.1.0's set of %s after adoption%s" % (
                secret, " (manifest changed)" if changed else " (manifest bytes unchanged)")
            if secret not in now:
                self.case("%s: get %s" % (label, secret), repo, owner_env, "get", {"error": "IntegrityError"},
                          path=secret)
            elif secret == "token" and not changed:
                # 0.1.0 wrote secrets/default/token.*: a single get reads secrets/token.*, as signed.
                self.case("%s: get %s still reads the signed value" % (label, secret), repo, owner_env, "get",
                          {"value": now[secret]}, path=secret)
            else:
                self.case("%s: get %s" % (label, secret), repo, owner_env, "get", {"error": "IntegrityError"},
                          path=secret)
            if changed:
                self.case("%s: get %s" % (label, other), repo, owner_env, "get", {"error": "IntegrityError"},
                          path=other)
            else:
                self.case("%s: get %s (untouched)" % (label, other), repo, owner_env, "get",
                          {"value": now[other]}, path=other)
            self.case("%s: list" % label, repo, nokey, "list_secrets", {"error": "IntegrityError"},
                      verify_key=verify_key)
        # Signed vaults never read 0.1.0's place: with secrets/token.* deleted (plain git) and
        # 0.1.0's secrets/default/token.* present, token is a signed secret deleted: tampering.
        repo = base / "set-by-0.1.0-single-then-deleted"
        self.run(["git", "clone", "--quiet", str(base / "set-by-0.1.0-single"), str(repo)])
        self.git(repo, "rm", "--quiet", ".agent-vault/secrets/token.enc", ".agent-vault/secrets/token.meta")
        self.git(repo, "commit", "--quiet", "--no-verify", "-m", "delete token's signed files")
        self.case("0.1.0's set of token after adoption, then secrets/token.* deleted: get token", repo,
                  owner_env, "get", {"error": "IntegrityError"}, path="token")

    def build_v010_edges(self) -> None:
        """Unsigned vaults in 0.1.0's layout at the edges of docs/format.md's rule for it (a
        single-segment secret P is read from secrets/default/P.* when secrets/P.* are absent and
        the manifest lists P but not default/P):

        * `api` and `default/api` both listed (0.1.0's `set api` and `set default/api` share
          secrets/default/api.*): `api` is not found, `default/api` reads;
        * `both`, with files at both places: secrets/both.* wins;
        * `ghost`, listed with no files: not found;
        * `rot`, a .meta without `rotated` (0.1.0 always writes it; older vaults did not) and an
          expiry in the past;
        * a manifest that does not parse: nothing is read from the 0.1.0 place.
        """
        base = self.out / "v0.1.0-edges"
        repo = base / "repo"
        home = base / "agent-vault-home"
        home.mkdir(parents=True, mode=0o700)
        _, owner_pub = self.keygen_bare(home / "owner.key")
        secrets = [
            OldSecret("default/api", "default", b"default/api's value", "2025-04-01T00:00:00.100Z",
                      "2025-04-01T00:00:00.100Z", []),
            OldSecret("both", "default", b"both at 0.1.0's place", "2025-04-02T00:00:00Z",
                      "2025-04-02T00:00:00Z", []),
            OldSecret("rot", "default", b"old and expired", "2025-04-03T00:00:00.123456789Z", None, [],
                      expires="2025-06-01T00:00:00Z"),
        ]
        manifest = v010_manifest_yaml([("ada", "owner.pub")], [],
                                      [("default", ["api", "default/api", "both", "ghost", "rot"])])
        new_place = b"both at the new place"
        also = {
            "secrets/both.enc": self.age_encrypt(new_place, [owner_pub], armor=False),
            "secrets/both.meta": v010_meta_yaml("both", "default", "2025-05-01T00:00:00Z",
                                                "2025-05-01T00:00:00Z", []).encode(),
        }
        self.lay_out_v010(repo, "ada", owner_pub, {}, manifest, secrets, also)
        env = {"AGENT_VAULT_HOME": str(home)}
        label = "0.1.0 layout, edges"
        self.case("%s: api, listed also as default/api, is not read from secrets/default/" % label, repo, env,
                  "get", {"error": "SecretNotFoundError"}, path="api")
        self.case("%s: default/api reads" % label, repo, env, "get", {"value": secrets[0].value},
                  path="default/api", warnings=["unsigned"])
        self.case("%s: secrets/both.* win over secrets/default/both.*" % label, repo, env, "get",
                  {"value": new_place}, path="both")
        self.case("%s: listed without files" % label, repo, env, "get", {"error": "SecretNotFoundError"},
                  path="ghost")
        self.case("%s: no rotated, expired" % label, repo, env, "get", {"value": secrets[2].value}, path="rot",
                  warnings=["expired", "unsigned"])
        nothing = {"group": "default", "created": None, "rotated": None, "expires": None,
                   "authorized_agents": [], "expired": False}
        self.case("%s: list" % label, repo, env, "list_secrets", {"result": [
            dict(nothing, path="api"),
            dict(self.old_info(secrets[1]), created="2025-05-01T00:00:00Z", rotated="2025-05-01T00:00:00Z"),
            self.old_info(secrets[0]),
            dict(nothing, path="ghost"),
            dict(self.old_info(secrets[2]), expired=True),
        ]})

        broken = base / "broken-manifest"
        token = OldSecret("token", "default", b"token", "2025-04-04T00:00:00Z", "2025-04-04T00:00:00Z", [])
        nested = OldSecret("a/b", "a", b"nested", "2025-04-04T00:00:00Z", "2025-04-04T00:00:00Z", [])
        self.lay_out_v010(broken, "ada", owner_pub, {}, "version: 1\ngroups: [unclosed\n", [token, nested])
        label = "0.1.0 layout, unparsable manifest"
        self.case("%s: a nested secret reads (get reads no manifest)" % label, broken, env, "get",
                  {"value": b"nested"}, path="a/b", warnings=["unsigned"])
        self.case("%s: a single-segment secret is not read from secrets/default/" % label, broken, env, "get",
                  {"error": "SecretNotFoundError"}, path="token")

    def build_damaged(self) -> None:
        """A CLI-written vault whose ciphertexts and one .meta were damaged, committed, and then
        signed by the owner (so readers see signed but unusable files)."""
        repo, home = self.new_vault("damaged")
        env = {"AGENT_VAULT_HOME": str(home)}
        good = b"this one is fine"
        self.set_secret(home, repo, "good/value", good)
        for path in ["bad/flipped", "bad/truncated", "bad/garbage", "bad/meta"]:
            self.set_secret(home, repo, path, b"value of " + path.encode())
        secrets = repo / ".agent-vault" / "secrets"
        flipped = bytearray((secrets / "bad" / "flipped.enc").read_bytes())
        flipped[-5] ^= 0x55  # inside the payload: the MAC fails
        (secrets / "bad" / "flipped.enc").write_bytes(bytes(flipped))
        truncated = (secrets / "bad" / "truncated.enc").read_bytes()
        (secrets / "bad" / "truncated.enc").write_bytes(truncated[:60])
        (secrets / "bad" / "garbage.enc").write_bytes(b"this is not an age file\n")
        (secrets / "bad" / "meta.meta").write_text("name: [unclosed\ngroup: bad\n")
        self.commit_all(repo, "damage the vault")
        # The owner adopts the damage (`agent-vault sign`): the files are then exactly what was
        # signed, so the damage is a format error (code 1), not tampering (code 5). `--force`:
        # `sign` refuses a vault `check` finds errors in, which is the point here.
        self.av(home, repo, "sign", "--force")

        self.case("corrupted vault: intact secret still readable", repo, env, "get",
                  {"value": good}, path="good/value")
        for path, what in [("bad/flipped", "a flipped payload byte"),
                           ("bad/truncated", "a truncated file"),
                           ("bad/garbage", "a file that is not age")]:
            self.case("corrupted ciphertext: %s" % what, repo, env, "get",
                      {"error": "FormatError"}, path=path)
        self.case("corrupted .meta on get", repo, env, "get", {"error": "FormatError"},
                  path="bad/meta")
        self.case("corrupted .meta on list", repo, env, "list_secrets", {"error": "FormatError"})

    def build_broken_manifests(self) -> None:
        """Vaults whose manifest is unparsable, or of a newer format version.

        Made unsigned (the CLI cannot sign a vault whose manifest it cannot read), so readers
        warn "unsigned" and then meet the format error.
        """
        for name, text, label in [
            ("broken-manifest", "version: 1\ngroups: [unclosed\n", "corrupted manifest"),
            ("future-manifest", "version: 2\nowners: []\nagents: []\ngroups: []\n",
             "manifest of a newer format version"),
        ]:
            repo, home = self.new_vault(name)
            env = {"AGENT_VAULT_HOME": str(home)}
            self.set_secret(home, repo, "x/y", b"readable without the manifest")
            (repo / ".agent-vault" / "manifest.yaml").write_text(text)
            self.unsign(repo, home)
            self.commit_all(repo, label)
            self.case("%s: list_secrets" % label, repo, env, "list_secrets",
                      {"error": "FormatError"})
            self.case("%s: list_agents" % label, repo, env, "list_agents",
                      {"error": "FormatError"})
            self.case("%s: get still works (get reads no manifest)" % label, repo, env, "get",
                      {"value": b"readable without the manifest"}, path="x/y")
        # list_groups on a broken manifest: checked through `list --json`, like list_secrets.
        repo = self.out / "broken-manifest" / "repo"
        env = {"AGENT_VAULT_HOME": str(self.out / "broken-manifest" / "agent-vault-home")}
        self.case("corrupted manifest: list_groups", repo, env, "list_groups",
                  {"error": "FormatError"})

    def build_integrity(self) -> None:
        """A signed vault, then one copy per attack made with attacker means only (stock
        `age`, file edits, git; the "re-signed" attack uses a statement validly signed by a
        different key). Every read of tampered state must fail with IntegrityError (code 5).

        Copies live at their own paths, so each has its own pin location. Cases only use
        anchors that do not depend on a pin recorded by an earlier reader of the case: the
        agent key file's `# agent-vault verify-key:` comment, an explicit verify key,
        AGENT_VAULT_VERIFY_KEY, or a pin the builder prepared (rollback)."""
        base, home = self.new_vault("integrity")
        self.av(home, base, "add-agent", "deploy-bot")
        self.av(home, base, "grant", "deploy-bot", "stripe")
        old_value, value = b"stripe value before rotation", b"stripe value after rotation"
        self.set_secret(home, base, "stripe/api-key", old_value)
        self.set_secret(home, base, "stripe/api-key", value)
        db_value = b"database password"
        self.set_secret(home, base, "db/password", db_value, "--agents", "deploy-bot")
        bot_key = self.keys / "integrity-bot.key"
        copy_key(str(agent_key_file(home, base, "deploy-bot")), str(bot_key))
        bot_key.chmod(0o600)
        if "# agent-vault verify-key: ed25519:" not in bot_key.read_text():
            raise BuildError("add-agent wrote no verify-key comment into the agent key file")
        owner_pub = (base / ".agent-vault" / "owner.pub").read_text().strip()
        bot_pub = PUBLIC_KEY_RE.search(bot_key.read_text()).group(1)  # type: ignore[union-attr]
        vkey = self.verify_key_of(base)
        other_vkey = self.verify_key_of(self.main_repo)
        owner = {"AGENT_VAULT_HOME": str(home)}
        nokey = {"AGENT_VAULT_HOME": str(self.empty_home)}
        stripe = "stripe/api-key"
        IE = {"error": "IntegrityError"}

        # --- legitimate reads of the signed vault, every anchor
        self.case("signed: agent key file names the verify key", base, nokey, "get",
                  {"value": value}, path=stripe, key_path=bot_key)
        self.case("signed: explicit verify_key", base, owner, "get", {"value": value},
                  path=stripe, verify_key=vkey)
        self.case("signed: AGENT_VAULT_VERIFY_KEY", base, dict(owner, AGENT_VAULT_VERIFY_KEY=vkey),
                  "get", {"value": value}, path=stripe)
        self.case("signed: explicit verify_key wins over a wrong AGENT_VAULT_VERIFY_KEY", base,
                  dict(owner, AGENT_VAULT_VERIFY_KEY=other_vkey), "get", {"value": value},
                  path=stripe, verify_key=vkey)
        self.case("signed: list with explicit verify_key", base, nokey, "list_secrets",
                  {"result": [secret_info("db/password", "db", ["deploy-bot"]),
                              secret_info(stripe, "stripe", ["deploy-bot"])]},
                  verify_key=vkey)
        self.case("signed: missing secret is still not found", base, owner, "get",
                  {"error": "SecretNotFoundError"}, path="stripe/none")
        # --- wrong anchors
        self.case("wrong explicit verify_key", base, owner, "get", IE, path=stripe,
                  verify_key=other_vkey)
        self.case("wrong explicit verify_key on list", base, nokey, "list_secrets", IE,
                  verify_key=other_vkey)
        self.case("wrong AGENT_VAULT_VERIFY_KEY", base,
                  dict(owner, AGENT_VAULT_VERIFY_KEY=other_vkey), "get", IE, path=stripe)
        self.case("wrong AGENT_VAULT_VERIFY_KEY beats the agent key file's comment", base,
                  dict(nokey, AGENT_VAULT_VERIFY_KEY=other_vkey), "get", IE, path=stripe,
                  key_path=bot_key)
        self.case("malformed AGENT_VAULT_VERIFY_KEY", base,
                  dict(owner, AGENT_VAULT_VERIFY_KEY="ed25519:not-base64!"), "get",
                  {"error": "InvalidInputError"}, path=stripe, marker="not a vault verify key")
        self.case("malformed explicit verify_key", base, owner, "get",
                  {"error": "InvalidInputError"}, path=stripe, verify_key="ssh-ed25519 AAAA")

        def attack(name: str) -> Path:
            repo = self.out / "integrity-attacks" / name / "repo"
            shutil.copytree(str(base), str(repo), symlinks=True)
            return repo

        def tampered(name: str, repo: Path, get_path: str = stripe, listing: bool = True) -> None:
            self.case("tampered (%s): agent get" % name, repo, nokey, "get", IE,
                      path=get_path, key_path=bot_key)
            self.case("tampered (%s): owner get" % name, repo, owner, "get", IE, path=get_path)
            if listing:
                self.case("tampered (%s): list_secrets" % name, repo, nokey, "list_secrets", IE,
                          verify_key=vkey)
                self.case("tampered (%s): list_groups" % name, repo, nokey, "list_groups", IE,
                          verify_key=vkey)

        secrets = Path(".agent-vault") / "secrets"
        # Substituted ciphertext: a value of the attacker's choice, encrypted with stock age.
        repo = attack("substituted-ciphertext")
        (repo / secrets / "stripe" / "api-key.enc").write_bytes(
            self.age_encrypt(b"attacker value", [owner_pub, bot_pub], armor=False))
        self.commit_all(repo, "substitute a ciphertext")
        tampered("substituted ciphertext", repo)
        self.case("tampered (substituted ciphertext): an untouched secret still reads", repo,
                  nokey, "get", {"value": db_value}, path="db/password", key_path=bot_key)
        # Dropped-in secret: not in the signed state, so not "not found" either.
        repo = attack("dropped-in-secret")
        (repo / secrets / "stripe" / "webhook.enc").write_bytes(
            self.age_encrypt(b"planted", [owner_pub, bot_pub], armor=False))
        (repo / secrets / "stripe" / "webhook.meta").write_text(
            "name: stripe/webhook\ngroup: stripe\ncreated: 2025-01-01T00:00:00Z\n"
            "authorized_agents:\n- deploy-bot\n")
        self.commit_all(repo, "drop in a secret")
        tampered("dropped-in secret", repo, get_path="stripe/webhook")
        # Deleted secret: signed but missing is tampering, not "not found".
        repo = attack("deleted-secret")
        self.git(repo, "rm", "--quiet", str(secrets / "db" / "password.enc"),
                 str(secrets / "db" / "password.meta"))
        self.commit_all(repo, "delete a secret")
        tampered("deleted secret", repo, get_path="db/password")
        # Manifest edited to add an agent (with its public key) to a group.
        repo = attack("manifest-adds-agent")
        mallory = self.run(["age-keygen"]).stdout.decode()
        mallory_pub = PUBLIC_KEY_RE.search(mallory).group(1)  # type: ignore[union-attr]
        manifest = repo / ".agent-vault" / "manifest.yaml"
        manifest.write_text(manifest.read_text().replace(
            "agents:\n", "agents:\n- name: mallory\n  groups:\n  - stripe\n", 1))
        (repo / ".agent-vault" / "agents" / "mallory").mkdir()
        (repo / ".agent-vault" / "agents" / "mallory" / "public.key").write_text(mallory_pub + "\n")
        self.commit_all(repo, "add an agent by hand")
        tampered("manifest adds an agent", repo)
        # An agent's public key swapped for the attacker's (future re-encryptions would leak).
        repo = attack("swapped-agent-key")
        (repo / ".agent-vault" / "agents" / "deploy-bot" / "public.key").write_text(
            mallory_pub + "\n")
        self.commit_all(repo, "swap an agent key")
        tampered("swapped agent public key", repo)
        # Edited .meta (e.g. to hide an expiry).
        repo = attack("edited-meta")
        meta = repo / secrets / "stripe" / "api-key.meta"
        meta.write_text(meta.read_text() + "expires: 2099-01-01T00:00:00Z\n")
        self.commit_all(repo, "edit a .meta")
        tampered("edited .meta", repo)
        # Rollback of one secret: its old .enc/.meta restored from git history.
        repo = attack("secret-rollback")
        commits = self.run(["git", "-C", str(repo), "log", "--format=%H", "--",
                            str(secrets / "stripe" / "api-key.enc")]).stdout.decode().split()
        self.git(repo, "checkout", commits[1], "--", str(secrets / "stripe" / "api-key.enc"),
                 str(secrets / "stripe" / "api-key.meta"))
        self.commit_all(repo, "roll back one secret")
        tampered("one secret rolled back", repo)
        # Forged statement: the seq line edited.
        repo = attack("forged-statement")
        statement = repo / ".agent-vault" / "integrity" / "statement"
        text = statement.read_text()
        seq = int(re.search(r"^seq (\d+)$", text, re.M).group(1))  # type: ignore[union-attr]
        statement.write_text(text.replace("\nseq %d\n" % seq, "\nseq %d\n" % (seq + 100), 1))
        self.commit_all(repo, "forge the statement")
        tampered("forged statement", repo)
        # Truncated statement.
        repo = attack("truncated-statement")
        statement = repo / ".agent-vault" / "integrity" / "statement"
        statement.write_bytes(statement.read_bytes()[: len(statement.read_bytes()) // 2])
        self.commit_all(repo, "truncate the statement")
        tampered("truncated statement", repo)
        # Removed statement: readers with an anchor refuse (an anchorless first read would see
        # an unsigned vault, which is why agent key files carry the verify key).
        repo = attack("removed-statement")
        self.git(repo, "rm", "-r", "--quiet", ".agent-vault/integrity")
        self.commit_all(repo, "remove the signature")
        self.case("tampered (removed statement): agent key file names the verify key", repo,
                  nokey, "get", IE, path=stripe, key_path=bot_key)
        self.case("tampered (removed statement): AGENT_VAULT_VERIFY_KEY", repo,
                  dict(owner, AGENT_VAULT_VERIFY_KEY=vkey), "get", IE, path=stripe)
        self.case("tampered (removed statement): explicit verify_key on list", repo, nokey,
                  "list_secrets", IE, verify_key=vkey)
        # Re-signed by another key: a whole, consistent vault state (with the attacker's value)
        # validly signed by a key that is not the vault's (the attacker's own Ed25519 key).
        repo = attack("resigned-by-another-key")
        (repo / secrets / "stripe" / "api-key.enc").write_bytes(
            self.age_encrypt(b"attacker value", [owner_pub, bot_pub], armor=False))
        self.resign(repo, ed25519_new())
        self.case("tampered (re-signed by another key): agent key file names the verify key",
                  repo, nokey, "get", IE, path=stripe, key_path=bot_key)
        self.case("tampered (re-signed by another key): explicit verify_key", repo, owner,
                  "get", IE, path=stripe, verify_key=vkey)
        self.case("tampered (re-signed by another key): AGENT_VAULT_VERIFY_KEY", repo,
                  dict(owner, AGENT_VAULT_VERIFY_KEY=vkey), "get", IE, path=stripe)
        self.case("tampered (re-signed by another key): list with explicit verify_key", repo,
                  nokey, "list_secrets", IE, verify_key=vkey)
        # Whole-vault rollback, seen by a reader who already read (and pinned) the newer state.
        repo = attack("vault-rollback")
        self.set_secret(home, repo, stripe, b"stripe value after the second rotation")
        reader_home = self.out / "integrity-attacks" / "vault-rollback" / "reader-home"
        reader_home.mkdir(mode=0o700)
        reader = {"AGENT_VAULT_HOME": str(reader_home)}
        self.run([str(self.cli), "--vault", str(repo), "get", stripe, "--offline", "--key",
                  str(bot_key)], env=reader)
        self.git(repo, "rm", "-r", "--quiet", ".agent-vault")
        self.git(repo, "checkout", "HEAD~1", "--", ".agent-vault")
        self.commit_all(repo, "roll the whole vault back")
        self.case("tampered (whole vault rolled back): reader who saw the newer state", repo,
                  reader, "get", IE, path=stripe, key_path=bot_key)
        self.case("tampered (whole vault rolled back): owner who wrote the newer state", repo,
                  owner, "get", IE, path=stripe)
        self.case("tampered (whole vault rolled back): list by the reader", repo, reader,
                  "list_secrets", IE)

    def build_hostile(self) -> None:
        """Issue 9 (and 17.1): one vault per finding, attacked only with what a repository
        writer has (see "what a repository writer has" above); and the legitimate changes that
        must keep working without a warning. conformance/README.md, "Hostile vaults"."""
        base, home = self.new_vault("hostile")
        self.av(home, base, "add-agent", "deploy-bot")
        for group in ("stripe", "tls"):
            self.av(home, base, "grant", "deploy-bot", group)
        value, tls_value = b"hostile-suite stripe value", b"-----BEGIN TEST TLS KEY-----\nnot real\n"
        self.set_secret(home, base, "stripe/api-key", value)
        self.set_secret(home, base, "db/password", b"database password", "--agents", "deploy-bot")
        self.set_secret(home, base, "tls/private", tls_value)
        bot_key = self.keys / "hostile-bot.key"
        copy_key(str(agent_key_file(home, base, "deploy-bot")), str(bot_key))
        bot_key.chmod(0o600)
        bot_text = bot_key.read_text()
        bot_raw = SECRET_KEY_RE.search(bot_text).group(0)  # type: ignore[union-attr]
        bot_pub = PUBLIC_KEY_RE.search(bot_text).group(1)  # type: ignore[union-attr]
        owner_pub = (base / ".agent-vault" / "owner.pub").read_text().strip()
        fields = statement_fields(base)
        if fields.get("version") != "v2" or "vault" not in fields:
            raise BuildError("the CLI wrote a statement of version %s, not 2 (vault identity, "
                             "key-change chain, owner endorsements): the hostile suite needs a "
                             "CLI that implements docs/format.md" % fields.get("version"))
        vid, vkey, vseq = fields["vault"], fields["verify-key"], int(fields["seq"])
        owner = {"AGENT_VAULT_HOME": str(home)}
        nokey = {"AGENT_VAULT_HOME": str(self.empty_home)}
        stripe = "stripe/api-key"
        IE = {"error": "IntegrityError"}
        mallory = self.run(["age-keygen"]).stdout.decode()
        mallory_pub = PUBLIC_KEY_RE.search(mallory).group(1)  # type: ignore[union-attr]

        # Copies of the base share its vault identity, so an owner command on one moves the
        # owner's pin for all: each copy the owner works on gets its own copy of the owner's
        # home as it was for the base (as if on another machine of the owner's).
        home_snapshot = self.out / "homes" / "hostile-owner-base"
        shutil.copytree(str(home), str(home_snapshot), symlinks=True)

        def owner_home(name: str) -> Path:
            target = self.out / "homes" / ("owner-" + name)
            shutil.copytree(str(home_snapshot), str(target), symlinks=True)
            return target

        def attack(name: str) -> Path:
            repo = self.out / "hostile" / name / "repo"
            shutil.copytree(str(base), str(repo), symlinks=True)
            return repo

        def pins(repo: Path, key: str, seq: int) -> Dict[str, Dict[str, Any]]:
            return {"vaults": {vid: {"verify_key": key, "seq": seq}},
                    "locations": {os.path.realpath(str(repo)): vid}}

        def both(label: str, repo: Path, **checks: Any) -> None:
            """An anchored agent's get and a listing with the verify key: both refused."""
            self.case("hostile (%s): anchored agent get" % label, repo, nokey, "get", IE,
                      path=stripe, key_path=bot_key, **checks)
            self.case("hostile (%s): list with the verify key" % label, repo, nokey,
                      "list_secrets", IE, verify_key=vkey, **checks)

        # --- legitimate reads of the base vault
        self.case("hostile base: a secret named tls/private (matched by the vault's own "
                  "**/private.* ignore rule) reads", base, nokey, "get", {"value": tls_value},
                  path="tls/private", key_path=bot_key, no_warnings=True,
                  expect_pins=pins(base, vkey, vseq))
        self.case("hostile base: the listing holds tls/private", base, nokey, "list_secrets",
                  {"result": [secret_info("db/password", "db", ["deploy-bot"]),
                              secret_info(stripe, "stripe", ["deploy-bot"]),
                              secret_info("tls/private", "tls", ["deploy-bot"])]},
                  verify_key=vkey, no_warnings=True)
        fresh_owner = self.out / "homes" / "fresh-owner"
        fresh_owner.mkdir(parents=True, mode=0o700)
        copy_key(str(home / "owner.key"), str(fresh_owner / "owner.key"))
        (fresh_owner / "owner.key").chmod(0o600)
        self.case("hostile base: the owner on a fresh machine (endorsement, no first use)", base,
                  {"AGENT_VAULT_HOME": str(fresh_owner)}, "get", {"value": value}, path=stripe,
                  no_warnings=True, expect_pins=pins(base, vkey, vseq))
        self.case("hostile base: an agent without any anchor trusts on first use, loudly", base,
                  nokey, "get", {"value": value}, path=stripe, key=bot_raw,
                  warnings=["first use", vkey, "AGENT_VAULT_VERIFY_KEY"],
                  expect_pins=pins(base, vkey, vseq))
        self.case("hostile base: AGENT_VAULT_KEY set but empty is key not found, never the owner "
                  "key", base, dict(owner, AGENT_VAULT_KEY=""), "get", {"error": "KeyNotFoundError"},
                  path=stripe)
        lower = bot_raw.lower()
        self.case("hostile base: a lowercased key in AGENT_VAULT_KEY works", base,
                  dict(nokey, AGENT_VAULT_KEY=lower), "get", {"value": value}, path=stripe,
                  never_printed=[lower])
        self.case("hostile base: a lowercased, mangled key is never echoed", base,
                  dict(nokey, AGENT_VAULT_KEY=lower[:-8] + "qqqqqqqq"), "get",
                  {"error": "FormatError"}, path=stripe, never_printed=[lower[:-8]])
        for label, content in [("corrupt", b"{not json"),
                               ("of a newer version (3)", b'{"version": 3, "vaults": {}}\n')]:
            bad_home = self.out / "homes" / ("pins-" + label.split()[0])
            bad_home.mkdir(parents=True, mode=0o700)
            (bad_home / "pins.json").write_bytes(content)
            self.case("hostile base: a pins.json that is %s is an error, never no pins" % label,
                      base, {"AGENT_VAULT_HOME": str(bad_home)}, "get", {"error": "FormatError"},
                      path=stripe, key_path=bot_key, marker="pins.json")
        stuck = self.out / "homes" / "pins-unwritable"
        (stuck / "pins.json.lock").mkdir(parents=True)
        (stuck / "pins.json.lock" / "held").write_text("a lock nobody can take\n")
        stuck.chmod(0o500)
        self.case("hostile base: a key home where pins.json cannot be written (read-only, lock "
                  "held) reads on with a warning", base, {"AGENT_VAULT_HOME": str(stuck)}, "get",
                  {"value": value}, path=stripe, key_path=bot_key, warnings=["pins.json"],
                  max_seconds=15)

        # --- 1, 7: re-signed with the attacker's key, a public key swapped, a value substituted
        repo = attack("resigned")
        pinned = self.pinned_home("resigned-reader", repo, key=bot_raw)
        (repo / ".agent-vault" / "agents" / "deploy-bot" / "public.key").write_text(mallory_pub + "\n")
        (repo / ".agent-vault" / "secrets" / "stripe" / "api-key.enc").write_bytes(
            self.age_encrypt(b"attacker value", [owner_pub, bot_pub], armor=False))
        attacker = self.resign(repo, ed25519_new(), seq=U64_MAX)
        both("re-signed by another key, seq u64::MAX, agent key swapped", repo)
        self.case("hostile (re-signed): a reader whose pin holds the genuine key (no anchor)", repo,
                  {"AGENT_VAULT_HOME": str(pinned)}, "get", IE, path=stripe, key=bot_raw,
                  expect_pins=pins(repo, vkey, vseq))
        self.case("hostile (re-signed): the owner, pinned", repo, owner, "get", IE, path=stripe)
        self.case("hostile (re-signed): no anchor, fresh home: accepted only with the first-use "
                  "warning", repo, nokey, "get", {"value": b"attacker value"}, path=stripe,
                  key=bot_raw, warnings=["first use", attacker, "AGENT_VAULT_VERIFY_KEY"],
                  expect_pins=pins(repo, attacker, U64_MAX))

        # --- 1 (variant): re-signed with a recipient appended to owner.pub
        repo = attack("owner-pub")
        with (repo / ".agent-vault" / "owner.pub").open("a") as f:
            f.write(mallory_pub + "\n")
        self.resign(repo, ed25519_new())
        both("re-signed, a recipient added to owner.pub", repo)
        self.case("hostile (owner.pub): the owner, pinned", repo, owner, "get", IE, path=stripe)

        # --- 2, 3: rollback across a signing-key change, key file listing both verify keys
        repo = attack("rollback-key-change")
        self.git(repo, "branch", "before-key-change")
        copy_home = owner_home("rollback-key-change")
        self.av(copy_home, repo, "sign", "--new-key")
        self.set_secret(copy_home, repo, stripe, b"value after the key change")
        new_key = statement_fields(repo)["verify-key"]
        both_keys = self.keys / "hostile-bot-both-keys.key"
        both_keys.write_text(bot_text.rstrip("\n").replace(
            "# agent-vault verify-key: %s" % vkey,
            "# agent-vault verify-key: %s\n# agent-vault verify-key: %s" % (vkey, new_key)) + "\n")
        both_keys.chmod(0o600)
        if new_key not in both_keys.read_text():
            raise BuildError("the agent key file has no `# agent-vault verify-key:` line to extend")
        seq_after = int(statement_fields(repo)["seq"])
        reader = self.pinned_home("rollback-reader", repo, key_path=both_keys)
        self.git(repo, "rm", "-r", "--quiet", ".agent-vault")
        self.git(repo, "checkout", "before-key-change", "--", ".agent-vault")
        self.commit_all(repo, "restore the vault from before the key change")
        self.case("hostile (rollback across a key change): reader pinned at the newer seq", repo,
                  {"AGENT_VAULT_HOME": str(reader)}, "get", IE, path=stripe, key_path=both_keys,
                  message_contains=["rollback"],
                  expect_pins=pins(repo, new_key, seq_after))

        # --- 3: prod/staging swap, one agent key for both
        staging, staging_home = self.new_vault("hostile-staging")
        self.av(staging_home, staging, "add-agent", "deploy-bot", "--public-key", bot_pub)
        self.av(staging_home, staging, "grant", "deploy-bot", "stripe")
        self.set_secret(staging_home, staging, stripe, b"staging value")
        staging_key = statement_fields(staging)["verify-key"]
        two_vaults = self.keys / "hostile-bot-prod-and-staging.key"
        two_vaults.write_text(bot_text + "# agent-vault verify-key: %s\n" % staging_key)
        two_vaults.chmod(0o600)
        self.case("hostile (staging): the agent reads staging with the same key", staging, nokey,
                  "get", {"value": b"staging value"}, path=stripe, key_path=two_vaults,
                  no_warnings=True)
        repo = attack("prod-staging-swap")
        reader = self.pinned_home("prod-reader", repo, key_path=two_vaults)
        shutil.rmtree(str(repo / ".agent-vault"))
        shutil.copytree(str(staging / ".agent-vault"), str(repo / ".agent-vault"))
        self.commit_all(repo, "copy staging's vault over prod's")
        self.case("hostile (prod/staging swap): agent pinned at prod's location", repo,
                  {"AGENT_VAULT_HOME": str(reader)}, "get", IE, path=stripe, key_path=two_vaults,
                  expect_pins=pins(repo, vkey, vseq))

        # --- a version-1 statement at a location pinned to a version-2 vault
        repo = attack("v1-downgrade")
        reader = self.pinned_home("downgrade-reader", repo, key=bot_raw)
        v1_key = self.resign(repo, ed25519_new(), version=1)
        self.case("hostile (version-1 statement at a location pinned to a version-2 vault)", repo,
                  {"AGENT_VAULT_HOME": str(reader)}, "get", IE, path=stripe, key=bot_raw,
                  expect_pins=pins(repo, vkey, vseq))
        self.case("version-1 statement, fresh reader: first use, pinned under legacy", repo, nokey,
                  "get", {"value": value}, path=stripe, key=bot_raw,
                  warnings=["first use", v1_key],
                  expect_pins={"legacy": {os.path.realpath(str(repo)): {"verify_key": v1_key,
                                                                      "seq": vseq + 1}},
                               "locations": {os.path.realpath(str(repo)): None}})

        # --- 4: symlinks
        repo = attack("symlinked-meta")
        self.symlink_in_index(repo, ".agent-vault/secrets/stripe/api-key.meta",
                              "../../../../../../../etc/passwd", "a symlinked .meta")
        both("a .meta replaced by a symlink", repo)
        leaked = self.keys / "leaked-private.key"
        leaked_text = self.run(["age-keygen"]).stdout.decode()
        leaked.write_text(leaked_text)
        leaked_key = SECRET_KEY_RE.search(leaked_text).group(0)  # type: ignore[union-attr]
        for name, target in [("dev-zero", "/dev/zero"), ("private-key", str(leaked))]:
            repo = attack("symlinked-config-" + name)
            self.symlink_in_index(repo, ".agent-vault/config.yaml", target, "a symlinked config")
            self.case("hostile (config.yaml a symlink to %s): owner get" % name, repo, owner,
                      "get", IE, path=stripe, never_printed=[leaked_key], max_seconds=30)
            self.case("hostile (config.yaml a symlink to %s): list" % name, repo, nokey,
                      "list_secrets", IE, verify_key=vkey, never_printed=[leaked_key],
                      max_seconds=30)

        # --- 4: a tracked file that an ignore rule matches, not in the statement
        repo = attack("ignored-tracked-file")
        (repo / ".agent-vault" / "agents" / "deploy-bot" / "private.key").write_text(
            "planted where ignore rules hide it\n")
        self.git(repo, "add", "-f", ".agent-vault/agents/deploy-bot/private.key")
        self.git(repo, "commit", "--quiet", "--no-verify", "-m", "plant an ignored file")
        both("a tracked file matched by a .gitignore rule", repo)

        # --- 4: agent-vault 0.1.0's .gitignore (`*.key`), adopted by `sign`, then a key swapped
        repo = attack("old-gitignore")
        (repo / ".agent-vault" / ".gitignore").write_text("*.key\n")
        self.commit_all(repo, "the .gitignore agent-vault 0.1.0 wrote")
        self.av(owner_home("old-gitignore"), repo, "sign")
        self.case("hostile (0.1.0 .gitignore, adopted by sign): the agent reads", repo, nokey,
                  "get", {"value": value}, path=stripe, key_path=bot_key, no_warnings=True)
        signed_repo, repo = repo, self.out / "hostile" / "old-gitignore-attacked" / "repo"
        shutil.copytree(str(signed_repo), str(repo), symlinks=True)
        (repo / ".agent-vault" / "agents" / "deploy-bot" / "public.key").write_text(mallory_pub + "\n")
        self.git(repo, "add", "-f", ".agent-vault/agents/deploy-bot/public.key")
        self.git(repo, "commit", "--quiet", "--no-verify", "-m", "swap an ignored public key")
        both("0.1.0 .gitignore, then an agent's public.key swapped", repo)

        # --- 4, 9: names that are not UTF-8, or hold control characters
        repo = attack("non-utf8-name")
        blob = loose_object(repo, "blob", b"x\n")
        self.graft(repo, [b".agent-vault", b"agents"], ("100644", b"bad-\xff\xfe-name", blob), "non-UTF-8")
        both("an entry name that is not UTF-8", repo)
        repo = attack("control-character-name")
        blob = loose_object(repo, "blob", b"x\n")
        self.graft(repo, [b".agent-vault"], ("100644", b"evil\x1b[31m.txt", blob), "ESC in a name")
        both("an entry name holding ESC", repo, message_contains=["\\u{1b}"])

        # --- trees as git writes them: in git's order, raw modes
        repo = attack("tree-out-of-order")
        vault_oid = self.run(["git", "-C", str(repo), "rev-parse", "HEAD:.agent-vault"]).stdout.decode().strip()
        entries = list(reversed(self.raw_tree(repo, vault_oid)))
        unsorted = loose_object(repo, "tree", b"".join(
            m.encode() + b" " + n + b"\0" + bytes.fromhex(o) for m, n, o in entries))
        root = [e for e in self.raw_tree(repo, self.run(["git", "-C", str(repo), "rev-parse", "HEAD^{tree}"]
                                                        ).stdout.decode().strip()) if e[1] != b".agent-vault"]
        new_root = loose_object(repo, "tree", tree_bytes(root + [("40000", b".agent-vault", unsorted)]))
        commit = self.run(["git", "-C", str(repo), "commit-tree", new_root, "-p", "HEAD", "-m", "unsorted"]
                          ).stdout.decode().strip()
        self.git(repo, "update-ref", "HEAD", commit)
        both("a folder whose entries are out of git's order", repo)
        repo = attack("mode-100664")
        public = self.run(["git", "-C", str(repo), "rev-parse", "HEAD:.agent-vault/agents/deploy-bot/public.key"]
                          ).stdout.decode().strip()
        self.graft(repo, [b".agent-vault", b"agents", b"deploy-bot"], ("100664", b"public.key", public),
                   "a group-writable mode")
        both("an agent's public.key with the raw mode 100664", repo)

        # --- 9: a tree 100,000 levels deep
        repo = attack("deep-tree")
        inner = loose_object(repo, "tree", b"")
        for _ in range(100_000):
            inner = loose_object(repo, "tree", b"40000 d\0" + bytes.fromhex(inner))
        self.graft(repo, [b".agent-vault", b"agents"], ("40000", b"deep", inner), "100,000 levels")
        both("a tree 100,000 levels deep", repo, max_seconds=60)

        # --- the statement's canonical form: each variant validly signed by the key the reader
        # is given, so only its form is wrong (issue 17: line order, duplicates, uppercase hex,
        # the signature line, a seq above u64)
        canon = attack("canonical")
        signer = ed25519_new()
        signer_key = self.resign(canon, signer)
        self.case("statement form: the attacker-made control statement, read with its key", canon,
                  nokey, "get", {"value": value}, path=stripe, key=bot_raw, verify_key=signer_key)

        def variant(label: str, edit: Callable[[List[str]], List[str]], resign: bool = True,
                    raw: Optional[Callable[[bytes], bytes]] = None) -> None:
            repo = self.out / "hostile" / ("canonical-" + re.sub(r"[^a-z0-9]+", "-", label)) / "repo"
            shutil.copytree(str(canon), str(repo), symlinks=True)
            path = repo / ".agent-vault" / "integrity" / "statement"
            text = path.read_text()
            body_lines = text.split("\n")[:-2]
            body = ("\n".join(edit(body_lines)) + "\n").encode()
            data = body + ("signature %s\n" % base64.b64encode(signer.sign(body)).decode()).encode()
            path.write_bytes(raw(data) if raw else data)
            self.commit_all(repo, "statement: " + label)
            self.case("statement form: %s (validly signed) is refused" % label, repo, nokey, "get",
                      IE, path=stripe, key=bot_raw, verify_key=signer_key)

        def swap_files(lines: List[str]) -> List[str]:
            i = next(i for i, line in enumerate(lines) if line.startswith("file "))
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
            return lines

        def duplicate_file(lines: List[str]) -> List[str]:
            i = next(i for i, line in enumerate(lines) if line.startswith("file "))
            return lines[: i + 1] + [lines[i]] + lines[i + 1:]

        def upper_hex(lines: List[str]) -> List[str]:
            i = next(i for i, line in enumerate(lines) if line.startswith("file "))
            kind, digest, name = lines[i].split(" ", 2)
            lines[i] = "%s %s %s" % (kind, digest.upper(), name)
            return lines

        def seq_overflow(lines: List[str]) -> List[str]:
            return [("seq %d" % (U64_MAX + 1)) if line.startswith("seq ") else line for line in lines]

        variant("file lines out of order", swap_files)
        variant("a duplicated file line", duplicate_file)
        variant("uppercase hex in a digest", upper_hex)
        variant("seq 18446744073709551616", seq_overflow)
        variant("text after the signature line", lambda lines: lines, raw=lambda d: d + b"extra\n")
        variant("the signature not at a line start", lambda lines: lines,
                raw=lambda d: d[: d.rindex(b"\nsignature ")] + b" " + d[d.rindex(b"\nsignature ") + 1:])
        variant("CRLF line endings", lambda lines: lines, raw=lambda d: d.replace(b"\n", b"\r\n"))

        # --- a forged hand-over: a key-change line claiming the genuine key vouched for the
        # attacker's, its signature made by the attacker (who lacks the genuine key)
        repo = attack("forged-key-change")
        forger = ed25519_new()
        forger_key = self.resign(repo, forger)
        path = repo / ".agent-vault" / "integrity" / "statement"
        lines = path.read_text().split("\n")[:-2]
        seq_at = next(i for i, line in enumerate(lines) if line.startswith("seq "))
        seq_now = int(lines[seq_at].split(" ")[1])
        claim = ("agent-vault key-change v1\nvault %s\nseq %d\nfrom %s\nto %s\n"
                 % (vid, seq_now, vkey, forger_key)).encode()
        lines.insert(seq_at + 1, "key-change %d %s %s" % (
            seq_now, vkey, base64.b64encode(forger.sign(claim)).decode()))
        body = ("\n".join(lines) + "\n").encode()
        path.write_bytes(body + ("signature %s\n" % base64.b64encode(forger.sign(body)).decode()).encode())
        self.commit_all(repo, "a forged key change")
        self.case("hostile (a key-change line forged by the attacker): anchored agent", repo, nokey,
                  "get", IE, path=stripe, key_path=bot_key)
        self.case("hostile (a key-change line forged by the attacker): reader pinned to the genuine "
                  "key", repo, {"AGENT_VAULT_HOME": str(self.pinned_home("forged-chain-reader", base,
                                                                         key=bot_raw))},
                  "get", IE, path=stripe, key=bot_raw)

        # --- the depth limit, exactly: a signed file 128 levels below .agent-vault is fine, 129 not
        for levels, expect in [(128, {"value": value}), (129, IE)]:
            repo = attack("depth-%d" % levels)
            deep = repo / ".agent-vault" / Path(*(["d"] * (levels - 1)))
            deep.mkdir(parents=True)
            (deep / "f").write_text("a policy file %d levels deep\n" % levels)
            key = self.resign(repo, ed25519_new())
            self.case("tree depth: a signed file %d levels below .agent-vault" % levels, repo, nokey,
                      "get", expect, path=stripe, key=bot_raw, verify_key=key)

        # --- 6: a 70 MiB blob (compressible, so cheap to push) where a ciphertext belongs
        repo = attack("huge-blob")
        big = loose_object(repo, "blob", b"\0" * (70 * 1024 * 1024))
        self.graft(repo, [b".agent-vault", b"secrets", b"stripe"], ("100644", b"api-key.enc", big), "70 MiB")
        both("a 70 MiB .enc blob", repo, max_seconds=30)

        # --- 6: 8,000 bogus stanzas in an unsigned vault
        stanzas_repo = attack("stanzas")
        stanzas_home = self.out / "homes" / "stanzas-owner"
        stanzas_home.mkdir(parents=True, mode=0o700)
        copy_key(str(home / "owner.key"), str(stanzas_home / "owner.key"))
        self.unsign(stanzas_repo, stanzas_home)
        stanza = b"-> X25519 " + base64.b64encode(os.urandom(32)).rstrip(b"=") + b"\n" + \
            base64.b64encode(os.urandom(32)).rstrip(b"=") + b"\n"
        (stanzas_repo / ".agent-vault" / "secrets" / "stripe" / "api-key.enc").write_bytes(
            b"age-encryption.org/v1\n" + stanza * 8000 + b"--- " +
            base64.b64encode(os.urandom(32)).rstrip(b"=") + b"\n" + os.urandom(64))
        self.commit_all(stanzas_repo, "an unsigned vault with 8,000 stanzas")
        self.case("hostile (unsigned, 8,000 age stanzas): refused before decryption",
                  stanzas_repo, {"AGENT_VAULT_HOME": str(stanzas_home)}, "get",
                  {"error": "FormatError"}, path=stripe, max_seconds=10)

        # --- conflict markers in the statement
        repo = attack("conflict-markers")
        statement = repo / ".agent-vault" / "integrity" / "statement"
        text = statement.read_text()
        statement.write_text("<<<<<<< HEAD\n%s=======\n%s>>>>>>> theirs\n" % (text, text))
        self.commit_all(repo, "a merge left conflict markers")
        both("conflict markers in the statement", repo, message_contains=["agent-vault sign"])

        # --- legitimate: a key rotation followed through the chain
        repo = attack("key-rotation")
        copy_home = owner_home("key-rotation")
        self.av(copy_home, repo, "sign", "--new-key")
        self.set_secret(copy_home, repo, stripe, b"value after a legitimate key rotation")
        rotated = statement_fields(repo)
        self.case("legitimate (sign --new-key): agent with only the OLD verify key, no warning",
                  repo, nokey, "get", {"value": b"value after a legitimate key rotation"},
                  path=stripe, key_path=bot_key, no_warnings=True,
                  expect_pins=pins(repo, rotated["verify-key"], int(rotated["seq"])))
        self.case("legitimate (sign --new-key): list with the OLD verify key, no warning", repo,
                  nokey, "list_groups", {"result": None}, verify_key=vkey, no_warnings=True,
                  result_override=["db", "stripe", "tls"],
                  cli_check=lambda got: got == ["db", "stripe", "tls"])

        # --- legitimate: a merge of two owners' changes, re-signed
        ours = attack("merge")
        self.git(ours, "branch", "-M", "main")
        theirs = self.out / "hostile" / "merge" / "theirs"
        self.run(["git", "clone", "--quiet", str(ours), str(theirs)])
        self.git(theirs, "remote", "remove", "origin")
        home_ours, home_theirs = owner_home("merge-ours"), owner_home("merge-theirs")
        self.set_secret(home_theirs, theirs, stripe, b"stripe value from the other owner")
        self.set_secret(home_ours, ours, "db/password", b"db value from this owner",
                        "--agents", "deploy-bot")
        self.git(ours, "fetch", "--quiet", str(theirs), "main")
        self.run(["git", "-C", str(ours), "merge", "--no-edit", "--no-verify", "FETCH_HEAD"], check=False)
        self.git(ours, "checkout", "--theirs", "--", ".agent-vault/integrity")
        self.git(ours, "add", "-A", ".agent-vault")
        self.git(ours, "commit", "--quiet", "--no-verify", "--no-edit")
        self.av(home_ours, ours, "sign")
        self.case("legitimate (merge re-signed with sign): the agent reads one side", ours, nokey,
                  "get", {"value": b"stripe value from the other owner"}, path=stripe,
                  key_path=bot_key, no_warnings=True)
        self.case("legitimate (merge re-signed with sign): the agent reads the other side", ours,
                  nokey, "get", {"value": b"db value from this owner"}, path="db/password",
                  key_path=bot_key, no_warnings=True)

        # --- legitimate: a vault of 40 agents
        many, many_home = self.new_vault("hostile-many-agents")
        for i in range(40):
            self.av(many_home, many, "add-agent", "agent-%02d" % i)
            self.av(many_home, many, "grant", "agent-%02d" % i, "stripe")
        self.set_secret(many_home, many, stripe, b"for forty agents")
        last_key = self.keys / "hostile-agent-39.key"
        copy_key(str(agent_key_file(many_home, many, "agent-39")), str(last_key))
        last_key.chmod(0o600)
        self.case("legitimate (40 agents): the last agent reads, no warning", many, nokey, "get",
                  {"value": b"for forty agents"}, path=stripe, key_path=last_key, no_warnings=True)
        self.case("legitimate (40 agents): list, no warning", many, nokey, "list_groups",
                  {"result": None}, verify_key=statement_fields(many)["verify-key"],
                  no_warnings=True, result_override=["stripe"],
                  cli_check=lambda got: got == ["stripe"])

    def build_no_vault(self) -> None:
        """Paths without a vault: a git repository without .agent-vault/, and nothing at all."""
        repo = self.out / "no-vault" / "repo"
        repo.mkdir(parents=True)
        self.run(["git", "init", "--quiet", "-b", "main", str(repo)])
        (repo / "README").write_text("no vault here\n")
        self.commit_all(repo, "a repository without a vault")
        env = {"AGENT_VAULT_HOME": str(self.main_home)}
        for label, path in [("a git repository without a vault", repo),
                            ("a path that does not exist", self.out / "no-vault" / "missing")]:
            self.case("no vault: get in %s" % label, path, env, "get",
                      {"error": "VaultNotFoundError"}, path="stripe/api-key")
            self.case("no vault: list_secrets in %s" % label, path, env, "list_secrets",
                      {"error": "VaultNotFoundError"})
            self.case("no vault: list_agents in %s" % label, path, env, "list_agents",
                      {"error": "VaultNotFoundError"})

    def write(self) -> Path:
        path = self.out / "cases.json"
        doc = {
            "version": CASES_VERSION,
            "cli": str(self.cli),
            "base_env": self.base_env,
            "cases": self.cases,
        }
        path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
        return path


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cli", required=True, type=Path, help="the agent-vault binary")
    parser.add_argument("--out", required=True, type=Path,
                        help="an empty (or absent) folder, or one this script built before")
    args = parser.parse_args(argv)
    cli = args.cli.resolve()
    if not (cli.is_file() and os.access(str(cli), os.X_OK)):
        print("error: %s is not an executable file; build it with `cargo build`" % args.cli,
              file=sys.stderr)
        return 2
    try:
        import cryptography  # noqa: F401
    except ImportError:
        print("error: the hostile vaults need Python's `cryptography` package; run this script "
              "with a Python that has it (e.g. the SDK's venv)", file=sys.stderr)
        return 2
    for tool in ("git", "age", "age-keygen"):
        if shutil.which(tool) is None:
            print("error: `%s` is not on PATH; install it first" % tool, file=sys.stderr)
            return 2
    out = args.out.resolve()
    if out.exists():
        if (out / "cases.json").exists() or (out / "main").exists():
            for dirpath, _, _ in os.walk(str(out)):
                os.chmod(dirpath, 0o700)  # read-only key homes of earlier builds
            shutil.rmtree(str(out))
        elif any(out.iterdir()):
            print("error: %s is not empty; give an empty or new folder" % out, file=sys.stderr)
            return 2
    out.mkdir(parents=True, exist_ok=True)
    builder = Builder(cli, out)
    try:
        builder.build()
    except (BuildError, subprocess.TimeoutExpired) as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    if builder.failures:
        print("error: the CLI disagrees with %d stored expectation(s):" % len(builder.failures),
              file=sys.stderr)
        for failure in builder.failures:
            print("  - " + failure, file=sys.stderr)
        return 1
    path = builder.write()
    print("wrote %d cases to %s" % (len(builder.cases), path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
