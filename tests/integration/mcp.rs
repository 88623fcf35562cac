//! `agent-vault mcp` driven by the official Rust MCP client (`rmcp`) over stdio, against a vault
//! the CLI made and an HTTPS echo server that records what it receives.

use std::fs;
use std::path::PathBuf;

use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::TokioChildProcess;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};

use crate::broker_cli::support::{Fx, VALUE};

type Client = RunningService<RoleClient, ()>;

/// A running `agent-vault mcp` with a connected client.
struct Mcp {
    client: Option<Client>,
    stderr: PathBuf,
    /// Every tool result, for the leak check.
    seen: Vec<String>,
}

impl Mcp {
    fn start(fx: &Fx, args: &[&str]) -> Mcp {
        let stderr = fx.env.root().join(format!("mcp-{}.err", args.len()));
        let mut all = vec!["mcp", "--vault", fx.env.repo.to_str().unwrap()];
        all.extend_from_slice(args);
        let command = tokio::process::Command::from(fx.env.av_cmd(fx.env.root(), &all));
        let client = fx.rt.block_on(async {
            let (transport, _) = TokioChildProcess::builder(command)
                .stderr(fs::File::create(&stderr).unwrap())
                .spawn()
                .expect("spawn agent-vault mcp");
            ().serve(transport).await.expect("MCP handshake")
        });
        Mcp {
            client: Some(client),
            stderr,
            seen: Vec::new(),
        }
    }

    fn client(&self) -> &Client {
        self.client.as_ref().unwrap()
    }

    /// Calls `tool` with `args`; the result (a tool error included) is returned and kept.
    fn call(&mut self, fx: &Fx, tool: &'static str, args: Value) -> CallToolResult {
        let Value::Object(args) = args else {
            panic!("arguments are an object")
        };
        let params = CallToolRequestParams::new(tool).with_arguments(args);
        let result = fx
            .rt
            .block_on(self.client().call_tool(params))
            .unwrap_or_else(|e| panic!("{tool}: the server did not answer: {e}"));
        self.seen.push(serde_json::to_string(&result).unwrap());
        result
    }

    fn stop(&mut self, fx: &Fx) -> String {
        if let Some(client) = self.client.take() {
            let _ = fx.rt.block_on(client.cancel());
        }
        fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

fn text(result: &CallToolResult) -> String {
    serde_json::to_value(&result.content).unwrap()[0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Asserts a tool error with `reason` whose message contains `says`.
#[track_caller]
fn assert_tool_error(result: &CallToolResult, reason: &str, says: &str) {
    assert_eq!(result.is_error, Some(true), "{result:?}");
    let structured = result.structured_content.as_ref().unwrap();
    assert_eq!(structured["reason"], reason, "{result:?}");
    assert!(
        text(result).contains(says),
        "{says:?} not in {}",
        text(result)
    );
}

/// A vault with `api/key` (usable at the echo server), `api/plain` (no policy) and
/// `other/key` (a group `bot` was not granted).
fn fixture() -> Fx {
    let fx = Fx::new();
    let host = fx.host();
    let policy = ["--host", &host, "--auth", "bearer", "--path-prefix", "/v1"];
    fx.secret("api/key", &policy);
    fx.secret("api/plain", &[]);
    fx.secret("other/key", &policy);
    fx.av(&["grant", "bot", "api"]).ok();
    fx
}

fn request(secret: &str, url: &str) -> Value {
    json!({"secret": secret, "method": "GET", "url": url})
}

/// Stops the server and checks its log, the audit log (all `via: mcp` by `agent:bot`, `n`
/// lines) and that no value is anywhere.
#[track_caller]
fn finish(fx: &Fx, mut mcp: Mcp, n: usize) -> Vec<serde_json::Value> {
    let stderr = mcp.stop(fx);
    assert!(stderr.contains("agent-vault mcp: "), "{stderr}");
    let audit = fx.audit();
    assert_eq!(audit.len(), n, "{audit:?}");
    assert!(
        audit
            .iter()
            .all(|r| r["via"] == "mcp" && r["actor"] == "agent:bot"),
        "{audit:?}"
    );
    let mut outputs: Vec<&str> = mcp.seen.iter().map(String::as_str).collect();
    outputs.push(&stderr);
    fx.assert_no_value_anywhere(&outputs);
    audit
}

#[test]
fn mcp_lists_tools_and_metadata_and_reveals_nothing() {
    let fx = fixture();
    let mut mcp = Mcp::start(&fx, &["--agent", "bot", "--offline"]);
    let tools = fx.rt.block_on(mcp.client().list_all_tools()).unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(
        names,
        [
            "agent_vault_list",
            "agent_vault_get",
            "agent_vault_http_request"
        ]
    );
    for tool in &tools {
        assert_eq!(tool.input_schema["type"], "object", "{}", tool.name);
        assert!(!tool.description.as_deref().unwrap_or("").is_empty());
    }
    assert_eq!(
        tools[2].input_schema["required"],
        json!(["secret", "method", "url"])
    );

    let listed = mcp.call(&fx, "agent_vault_list", json!({}));
    assert_eq!(listed.is_error, Some(false));
    let secrets = listed.structured_content.unwrap()["secrets"].clone();
    let secrets = secrets.as_array().unwrap();
    let by_path = |p: &str| secrets.iter().find(|s| s["path"] == p).unwrap();
    assert_eq!(secrets.len(), 3);
    let key = by_path("api/key");
    assert_eq!(
        (&key["usable"], &key["readable"]),
        (&json!(true), &json!(true))
    );
    assert_eq!(key["hosts"], json!([fx.host()]));
    assert_eq!(key["path_prefixes"], json!(["/v1"]));
    assert_eq!(by_path("api/plain")["usable"], false);
    assert_eq!(by_path("other/key")["readable"], false);
    let api = mcp.call(&fx, "agent_vault_list", json!({"group": "api"}));
    assert_eq!(
        api.structured_content.unwrap()["secrets"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let bad = mcp.call(&fx, "agent_vault_list", json!({"group": "Not A Group!"}));
    assert_tool_error(&bad, "invalid-arguments", "group");

    let get = mcp.call(&fx, "agent_vault_get", json!({"secret": "api/key"}));
    assert_tool_error(&get, "reveal-disabled", "agent_vault_http_request");
    // An unknown tool is a protocol error; the server keeps serving.
    let unknown = CallToolRequestParams::new("agent_vault_delete");
    assert!(fx.rt.block_on(mcp.client().call_tool(unknown)).is_err());
    assert_eq!(
        mcp.call(&fx, "agent_vault_list", json!({})).is_error,
        Some(false)
    );

    let audit = finish(&fx, mcp, 5);
    let methods: Vec<&str> = audit
        .iter()
        .map(|r| r["method"].as_str().unwrap())
        .collect();
    assert_eq!(methods, ["LIST", "LIST", "INVALID", "REVEAL", "LIST"]);
    assert_eq!(audit[3]["reason"], "reveal-disabled");
}

#[test]
fn mcp_requests_go_through_the_broker_and_refusals_send_nothing() {
    let fx = fixture();
    let mut mcp = Mcp::start(&fx, &["--agent", "bot", "--offline"]);
    let url = format!("{}/v1/echo", fx.origin());
    let answer = mcp.call(&fx, "agent_vault_http_request", request("api/key", &url));
    assert_eq!(answer.is_error, Some(false), "{answer:?}");
    let answer = answer.structured_content.unwrap();
    assert_eq!(
        (answer["status"].as_u64(), answer["body_base64"].as_bool()),
        (Some(200), Some(false))
    );
    let body = answer["body"].as_str().unwrap();
    assert!(
        body.contains("authorization: Bearer [redacted:api/key]"),
        "{body}"
    );
    assert_eq!(
        answer["headers"]["x-echo-auth"],
        "Bearer [redacted:api/key]"
    );
    assert!(answer["headers"].get("set-cookie").is_none());
    let seen = fx.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].headers["authorization"],
        format!("Bearer {VALUE}").as_str()
    );

    let elsewhere = format!("https://127.0.0.1:{}/v1/echo", fx.server.addr.port());
    let smuggled = json!({"secret": "api/key", "method": "GET", "url": url, "headers": {"Authorization": "Bearer mine"}});
    let cases = [
        (request("api/key", &elsewhere), "host", "not a host"),
        (request("other/key", &url), "access-denied", "tell the user"),
        (request("api/plain", &url), "no-policy", "no use policy"),
        (
            request("api/missing", &url),
            "not-found",
            "agent_vault_list",
        ),
        (smuggled, "auth-header", "not sent"),
        (
            json!({"secret": "api/key", "method": "GET"}),
            "invalid-arguments",
            "url",
        ),
    ];
    let refused = cases.len();
    for (args, reason, says) in cases {
        let result = mcp.call(&fx, "agent_vault_http_request", args);
        assert_tool_error(&result, reason, says);
    }
    assert_eq!(fx.seen().len(), 1, "nothing was sent for refused calls");
    let audit = finish(&fx, mcp, 1 + refused);
    assert_eq!(
        (audit[0]["outcome"].as_str(), audit[0]["status"].as_u64()),
        (Some("sent"), Some(200))
    );
}

#[test]
fn a_revoke_or_a_tampered_vault_applies_to_the_next_call() {
    let fx = fixture();
    let mut mcp = Mcp::start(&fx, &["--agent", "bot", "--offline"]);
    let url = format!("{}/v1/echo", fx.origin());
    let ok = mcp.call(&fx, "agent_vault_http_request", request("api/key", &url));
    assert_eq!(ok.is_error, Some(false));
    fx.av(&["revoke", "bot", "api"]).ok();
    let revoked = mcp.call(&fx, "agent_vault_http_request", request("api/key", &url));
    assert_tool_error(&revoked, "access-denied", "may not read 'api/key'");
    assert_eq!(fx.seen().len(), 1);

    // A pusher's edit of the signed metadata is a tool error (integrity), not a crash.
    let meta = fx.env.vault_dir().join("secrets/api/key.meta");
    let original = fs::read_to_string(&meta).unwrap();
    let widened = original.replace("  hosts:\n  - ", "  hosts:\n  - evil.example\n  - ");
    assert_ne!(original, widened);
    fs::write(&meta, widened).unwrap();
    fx.env
        .git(&["commit", "-q", "-a", "--no-verify", "-m", "widen"]);
    let evil = request("api/key", "https://evil.example/v1/x");
    assert_tool_error(
        &mcp.call(&fx, "agent_vault_http_request", evil),
        "integrity",
        "do not retry",
    );
    assert_tool_error(
        &mcp.call(&fx, "agent_vault_list", json!({})),
        "integrity",
        "verify",
    );
    assert_eq!(fx.seen().len(), 1);
    let audit = finish(&fx, mcp, 4);
    let reasons: Vec<&str> = audit
        .iter()
        .map(|r| r["reason"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(reasons, ["", "access-denied", "integrity", "integrity"]);
}

#[test]
fn reveal_is_opt_in() {
    let fx = fixture();
    let mut mcp = Mcp::start(&fx, &["--agent", "bot", "--offline", "--allow-reveal"]);
    let tools = fx.rt.block_on(mcp.client().list_all_tools()).unwrap();
    assert!(
        tools[1]
            .description
            .as_deref()
            .unwrap()
            .starts_with("Return the value")
    );
    let got = mcp.call(&fx, "agent_vault_get", json!({"secret": "api/key"}));
    assert_eq!(got.is_error, Some(false));
    assert_eq!(text(&got), VALUE);
    let denied = mcp.call(&fx, "agent_vault_get", json!({"secret": "other/key"}));
    assert_tool_error(&denied, "access-denied", "may not read");
    let stderr = mcp.stop(&fx);
    assert!(!stderr.contains(VALUE), "{stderr}");
    let audit = fx.audit();
    assert_eq!(audit.len(), 2);
    assert_eq!(
        (audit[0]["method"].as_str(), audit[0]["outcome"].as_str()),
        (Some("REVEAL"), Some("sent"))
    );
    assert_eq!(audit[1]["reason"], "access-denied");
    let log = fs::read_to_string(fx.audit_path()).unwrap();
    assert!(!log.contains(VALUE));
}
