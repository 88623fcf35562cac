"""The shared conformance suite: every case in conformance/build_vaults.py's cases.json, built
with the real CLI (which the builder checks against the same expectations), must give the same
value, listing or error through the Python SDK — run exactly as conformance/README.md says (a
fresh copy of the key home per case; warnings, pins, messages and time checked)."""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest

from agent_vault import AgentVaultError, FormatError, Vault

from conftest import REPO_ROOT, cli_binary

BUILDER = REPO_ROOT / "conformance" / "build_vaults.py"
# A folder build_vaults.py already wrote (as for the Node runner): its cases.json is used as it is.
PREBUILT = os.environ.get("AGENT_VAULT_CONFORMANCE_CASES")
_built: Dict[str, Any] = {}


def _cases() -> List[Dict[str, Any]]:
    if "cases" not in _built and PREBUILT:
        _built["cases"] = json.loads((Path(PREBUILT) / "cases.json").read_text())["cases"]
    if "cases" not in _built:
        out = Path(tempfile.mkdtemp(prefix="av-conformance-"))
        _built["dir"] = out
        proc = subprocess.run(
            [sys.executable, str(BUILDER), "--cli", str(cli_binary()), "--out", str(out / "v")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError("build_vaults.py failed:\n" + proc.stderr.decode())
        _built["cases"] = json.loads((out / "v" / "cases.json").read_text())["cases"]
    cases: List[Dict[str, Any]] = _built["cases"]
    return cases


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "case" in metafunc.fixturenames:
        cases = _cases()
        metafunc.parametrize("case", cases, ids=[c["name"] for c in cases])


def teardown_module() -> None:
    if "dir" in _built:
        shutil.rmtree(_built["dir"], ignore_errors=True)


def _call(case: Dict[str, Any]) -> Any:
    vault = Vault(case["repo"], case["key_path"], key=case["key"], agent=case["agent"],
                  verify_key=case.get("verify_key"), auto_pull=case["auto_pull"])
    op = case["op"]
    with vault:
        if op == "get":
            return vault.get_bytes(case["path"])
        if op == "list_secrets":
            return [s.to_dict() for s in vault.list_secrets(case["group"])]
        if op == "list_groups":
            return vault.list_groups()
        assert op == "list_agents", op
        return [a.to_dict() for a in vault.list_agents()]


class _Warnings(logging.Handler):
    """Every record of logger ``agent_vault`` at WARNING or above."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f]")
IDENTITY = re.compile(r"AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{20}", re.I)


def _clean(text: str, case: Dict[str, Any], what: str) -> None:
    """No control character, no age identity, none of the case's never_printed strings."""
    assert not CONTROL.search(text), f"{what} holds a raw control character: {text!r}"
    assert not IDENTITY.search(text), f"{what} holds an age identity"
    for secret in case["expect"].get("never_printed", []):
        assert secret not in text, f"{what} holds a string it must never print"


def _home_copy(case: Dict[str, Any], scratch: Path) -> Path:
    """A fresh copy of the case's AGENT_VAULT_HOME (contents, modes, symlinks)."""
    source = Path(case["env"]["AGENT_VAULT_HOME"])
    assert source.is_dir(), f"the case's AGENT_VAULT_HOME {source} is not a folder"
    target = scratch / "agent-vault-home"
    shutil.copytree(source, target, symlinks=True)
    return target


def _writable(root: Path) -> None:
    for dirpath, dirs, _ in os.walk(root):
        os.chmod(dirpath, 0o700)


def _check_pins(home: Path, expect: Dict[str, Any]) -> None:
    doc = json.loads((home / "pins.json").read_text())
    assert doc.get("version") == 2, doc.get("version")
    for table, entries in expect.items():
        got = doc.get(table) or {}
        for name, want in entries.items():
            if want is None:
                assert name not in got, f"pins.json {table}[{name!r}] should be absent"
            else:
                assert got.get(name) == want, f"pins.json {table}[{name!r}] = {got.get(name)!r}, not {want!r}"


def test_case(case: Dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The SDK gives exactly the CLI-checked answer for this case (value, listing or error
    class and code), on its own copy of the key home; warnings, pins and messages are as the
    case says, and no message or warning ever holds a control character or key material."""
    for name in list(os.environ):
        if name.startswith("AGENT_VAULT_"):
            monkeypatch.delenv(name)
    for name, value in case["env"].items():
        monkeypatch.setenv(name, value)
    home = _home_copy(case, tmp_path)
    monkeypatch.setenv("AGENT_VAULT_HOME", str(home))
    expect = case["expect"]
    handler = _Warnings()
    logger = logging.getLogger("agent_vault")
    logger.addHandler(handler)
    started = time.monotonic()
    try:
        _run(case, expect)
        elapsed = time.monotonic() - started
        if "max_seconds" in case:
            assert elapsed <= case["max_seconds"], f"took {elapsed:.1f} s"
        for message in handler.messages:
            _clean(message, case, "a warning")
        for wanted in expect.get("warnings", []):
            assert any(wanted in m for m in handler.messages), f"no warning says {wanted!r}: {handler.messages}"
        if expect.get("no_warnings"):
            assert handler.messages == []
        if "expect_pins" in case:
            _check_pins(home, case["expect_pins"])
    finally:
        logger.removeHandler(handler)
        _writable(home)


def _run(case: Dict[str, Any], expect: Dict[str, Any]) -> None:
    if not expect["ok"]:
        with pytest.raises(AgentVaultError) as raised:
            _call(case)
        message = str(raised.value)
        assert type(raised.value).__name__ == expect["error"], message
        assert raised.value.code == expect["code"]
        _clean(message, case, "the error message")
        for wanted in expect.get("message_contains", []):
            assert wanted in message, f"{wanted!r} not in {message!r}"
        return
    result = _call(case)
    if case["op"] == "list_secrets":
        # cases.json holds the fields both SDKs have; to_dict() adds `extra_agents` and `name`
        # (the path, as agent-vault 0.1.0 named it): check those, then compare the rest.
        for got, want in zip(result, expect["result"]):
            assert set(got) - set(want) <= {"extra_agents", "name"}
            assert isinstance(got["extra_agents"], list) and got["name"] == got["path"]
            for key in set(got) - set(want):
                del got[key]
    if case["op"] != "get":
        assert result == expect["result"]
        return
    assert result == base64.b64decode(expect["value_b64"])
    with Vault(case["repo"], case["key_path"], key=case["key"], agent=case["agent"],
               verify_key=case.get("verify_key"), auto_pull=case["auto_pull"]) as vault:
        if expect["utf8"]:
            assert vault.get(case["path"]) == result.decode("utf-8")
        else:
            with pytest.raises(FormatError, match="get_bytes"):
                vault.get(case["path"])
