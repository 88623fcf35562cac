"""The shared conformance suite: every case in conformance/build_vaults.py's cases.json, built
with the real CLI (which the builder checks against the same expectations), must give the same
value, listing or error through the Python SDK."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List

import pytest

from agent_vault import AgentVaultError, FormatError, Vault

from conftest import REPO_ROOT, cli_binary

BUILDER = REPO_ROOT / "conformance" / "build_vaults.py"
_built: Dict[str, Any] = {}


def _cases() -> List[Dict[str, Any]]:
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
    if op == "get":
        return vault.get_bytes(case["path"])
    if op == "list_secrets":
        return [s.to_dict() for s in vault.list_secrets(case["group"])]
    if op == "list_groups":
        return vault.list_groups()
    assert op == "list_agents", op
    return [a.to_dict() for a in vault.list_agents()]


def test_case(case: Dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK gives exactly the CLI-checked answer for this case (value, listing or error
    class and code), and error messages never contain key material."""
    for name in list(os.environ):
        if name.startswith("AGENT_VAULT_"):
            monkeypatch.delenv(name)
    for name, value in case["env"].items():
        monkeypatch.setenv(name, value)
    expect = case["expect"]
    if not expect["ok"]:
        with pytest.raises(AgentVaultError) as raised:
            _call(case)
        assert type(raised.value).__name__ == expect["error"], str(raised.value)
        assert raised.value.code == expect["code"]
        assert not re.search(r"AGE-SECRET-KEY-1[0-9A-Z]{20}", str(raised.value))
        return
    result = _call(case)
    if case["op"] == "list_secrets":
        # cases.json may predate `extra_agents` (the builder keeps the fields both SDKs had);
        # compare every field it has, and check the SDK has no other field than extra_agents.
        for got, want in zip(result, expect["result"]):
            assert set(got) - set(want) <= {"extra_agents"}
            assert isinstance(got["extra_agents"], list)
            for key in set(got) - set(want):
                del got[key]
    if case["op"] != "get":
        assert result == expect["result"]
        return
    assert result == base64.b64decode(expect["value_b64"])
    vault = Vault(case["repo"], case["key_path"], key=case["key"], agent=case["agent"],
                  verify_key=case.get("verify_key"), auto_pull=case["auto_pull"])
    if expect["utf8"]:
        assert vault.get(case["path"]) == result.decode("utf-8")
    else:
        with pytest.raises(FormatError, match="get_bytes"):
            vault.get(case["path"])
