#!/usr/bin/env python3
"""Build the shared SDK conformance vaults with the real agent-vault CLI.

Usage:
    python3 conformance/build_vaults.py --cli PATH/TO/agent-vault --out DIR

Creates several vaults under DIR (with the CLI, with stock `age`, and by hand in the layout of
agent-vault 0.1.0), then writes DIR/cases.json: one case per SDK call with the answer every
SDK must give. Each expectation is what this builder stored; before writing it, the builder
asks the real CLI the same question (`get`, `list --json`, `list-agents --json`) and fails
loudly (exit 1) when the CLI's answer differs. See conformance/README.md for the contract.

Standard library only; Python >= 3.9. Hermetic: HOME, AGENT_VAULT_HOME, git config and git
identity are all set here; nothing is read from the caller's environment except PATH.
Secret values are fed to the CLI on stdin, never in argv.
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
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

CASES_VERSION = 1

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
    "IntegrityError": "agent-vault verify",
}

TIMESTAMP_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
SECRET_KEY_RE = re.compile(r"^AGE-SECRET-KEY-1[0-9A-Z]+$", re.M)
PUBLIC_KEY_RE = re.compile(r"^# public key: (age1[0-9a-z]+)$", re.M)


class AnyTimestamp:
    """Stands for 'a timestamp written by the CLI just now' in a stored expectation."""

    def __repr__(self) -> str:
        return "<any RFC 3339 UTC timestamp>"


TS = AnyTimestamp()


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
        for d in (self.home, self.keys, self.empty_home):
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
            pins.get("vaults", {}).pop(os.path.realpath(str(repo)), None)
            pins_path.write_text(json.dumps(pins, indent=2) + "\n")

    @staticmethod
    def verify_key_of(repo: Path) -> str:
        """The `ed25519:…` key named by a vault's signed statement."""
        for line in (repo / ".agent-vault" / "integrity" / "statement").read_text().splitlines():
            if line.startswith("verify-key "):
                return line[len("verify-key "):]
        raise BuildError("%s has no verify-key line" % repo)

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
    ) -> None:
        """Records a case after checking the CLI gives the stored answer.

        `expect` is {"value": bytes} for get, {"result": [...]} for lists, or
        {"error": ClassName} for failures.
        """
        case_env = {"HOME": str(self.home)}
        case_env.update(env)
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
        cli_answer = self.ask_cli(case)
        if "error" in expect:
            stored = {"ok": False, "code": ERROR_CODES[expect["error"]], "error": expect["error"]}
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
                self.fail(name, "expected the value %s…" % value[:40], cli_answer)
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
            if not got_ok or not matches(expect["result"], got_result):
                self.fail(name, "expected %r" % (expect["result"],), cli_answer)
            # What the CLI said, with the timestamps it wrote (already checked above).
            case["expect"] = {"ok": True, "result": got_result if got_ok else None}
        self.cases.append(case)

    def fail(self, name: str, wanted: str, got: Any) -> None:
        shown = repr(got)
        if len(shown) > 600:
            shown = shown[:600] + "…"
        self.failures.append("case %r: %s; the CLI answered %s" % (name, wanted, shown))

    def ask_cli(self, case: Dict[str, Any]) -> Tuple[bool, int, Any]:
        """Runs the CLI equivalent of a case: (ok, exit code, value/result/error text)."""
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
        if proc.returncode != 0:
            return False, proc.returncode, proc.stderr.decode("utf-8", "replace")
        if op == "get":
            return True, 0, proc.stdout
        listing = json.loads(proc.stdout.decode("utf-8"))
        if op == "list_secrets":
            return True, 0, [{k: s[k] for k in SECRET_INFO_FIELDS} for s in listing]
        if op == "list_agents":
            return True, 0, [{k: a[k] for k in AGENT_INFO_FIELDS} for a in listing]
        # list_groups has no CLI command: the CLI's listing must only show groups it names.
        return True, 0, sorted({s["group"] for s in listing})

    def list_groups_case(self, name: str, repo: Path, env: Dict[str, str], groups: List[str],
                         with_secrets: List[str]) -> None:
        """list_groups: every group listed or granted in the manifest, sorted.

        The CLI has no list-groups command, so it is checked through `list --json`: the
        groups that hold secrets must be exactly `with_secrets`.
        """
        got_ok, _, got = self.ask_cli({
            "env": dict(env, HOME=str(self.home)), "key": None, "repo": str(repo),
            "op": "list_groups", "group": None})
        if not got_ok or got != sorted(with_secrets) or not set(got) <= set(groups):
            self.fail(name, "expected groups with secrets %r" % sorted(with_secrets), got)
        case_env = {"HOME": str(self.home)}
        case_env.update(env)
        self.cases.append({
            "name": name, "repo": str(repo), "env": case_env, "key_path": None, "key": None,
            "agent": None, "verify_key": None, "auto_pull": False, "op": "list_groups", "path": None, "group": None,
            "expect": {"ok": True, "result": sorted(groups)},
        })

    # ----- the vaults ----------------------------------------------------------------------

    def build(self) -> None:
        self.build_main()
        self.build_seed_style()
        self.build_damaged()
        self.build_broken_manifests()
        self.build_integrity()
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

        bot_key = home / "agents" / "deploy-bot.key"
        ci_key = home / "agents" / "ci.key"
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
                  {"value": values["stripe/api-key"]}, path="stripe/api-key", key_path=bot_key)
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
                  {"value": values["stripe/api-key"]}, path="stripe/api-key", key_path=two_keys)
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
                  {"value": values["old/token"]}, path="old/token")
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
                  path="token")
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
        # signed, so the damage is a format error (code 1), not tampering (code 5).
        self.av(home, repo, "sign")

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
        shutil.copyfile(str(home / "agents" / "deploy-bot.key"), str(bot_key))
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
        # validly signed by a key that is not the vault's.
        forger_home = self.out / "integrity-attacks" / "forger-home"
        shutil.copytree(str(home), str(forger_home))
        forger = attack("forger-workspace")
        self.set_secret(forger_home, forger, stripe, b"attacker value")
        self.av(forger_home, forger, "sign", "--new-key")
        repo = attack("resigned-by-another-key")
        shutil.rmtree(str(repo / ".agent-vault"))
        shutil.copytree(str(forger / ".agent-vault"), str(repo / ".agent-vault"))
        self.commit_all(repo, "replace the vault with one signed by another key")
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
    for tool in ("git", "age", "age-keygen"):
        if shutil.which(tool) is None:
            print("error: `%s` is not on PATH; install it first" % tool, file=sys.stderr)
            return 2
    out = args.out.resolve()
    if out.exists():
        if (out / "cases.json").exists() or (out / "main").exists():
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
