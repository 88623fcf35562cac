//! The MCP server behind `agent-vault mcp`: the vault's tools for Claude Desktop, Claude Code and
//! any MCP client, over stdio, with the official Rust SDK (`rmcp`).
//!
//! | tool | what it does |
//! |---|---|
//! | `agent_vault_list(group?)` | metadata only: path, group, expiry, whether this key can read it, and whether and where it can be used with `agent_vault_http_request` |
//! | `agent_vault_get(secret)` | the value — only when the server was started with `allow_reveal`; otherwise a tool error naming the request tool |
//! | `agent_vault_http_request(secret, method, url, headers?, body?)` | an HTTP request through the [`Broker`]: status, safe headers, the redacted body (text, or base64 with `body_base64: true`) |
//!
//! * **Use, don't retrieve.** A value given to a model lands in its context, its provider's
//!   logs and every transcript, so values are not revealed by default: the request tool uses
//!   them without showing them.
//! * **Fresh state per call.** The [`VaultSource`] keeps nothing between calls (the CLI builds
//!   it with a zero cache) and fetches the upstream at most every few seconds, so a grant,
//!   revoke or rotation applies on the next call.
//! * **Errors are tool results** (`isError: true`, a message saying what to do next, and
//!   `structuredContent: {"error", "reason"}` with the broker's reason, or `reveal-disabled`,
//!   `invalid-arguments`). A bad call never ends the server. Only an unknown tool name is a
//!   protocol error (`-32602`), as the MCP specification asks.
//! * **Audit.** Every call is one line in the broker's audit log with `via: "mcp"`: requests as
//!   the broker writes them; `agent_vault_get` as method `REVEAL` (`sent` when the value was
//!   given, `refused` with `reveal-disabled` or the source's reason otherwise); `agent_vault_list`
//!   as method `LIST` with secret `*` (or `GROUP/*`); a call whose arguments do not fit the
//!   schema as method `INVALID`, `refused`, reason `invalid-arguments`.
//! * **Output.** Nothing but protocol messages on stdout; one log line per call on the log sink
//!   (stderr in the CLI), never a value, a header value or a query string.

mod tools;

use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, Implementation, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};

use crate::broker::audit::{AuditLog, AuditRecord, Outcome, Via};
use crate::broker::{Broker, BrokerConfig, BrokerError, VaultSource, WarningSink};

/// The names of the tools, as listed.
pub const TOOLS: [&str; 3] = [tools::LIST_TOOL, tools::GET_TOOL, tools::REQUEST_TOOL];

/// How the server behaves.
#[derive(Clone)]
pub struct McpOptions {
    /// Let `agent_vault_get` return values (off by default).
    pub allow_reveal: bool,
    /// Largest response body returned to the model; longer ones are cut (`truncated: true`).
    pub max_body_bytes: usize,
    /// Where the per-call log lines go (the CLI: stderr).
    pub log: Option<WarningSink>,
}

impl Default for McpOptions {
    fn default() -> Self {
        McpOptions {
            allow_reveal: false,
            max_body_bytes: 1 << 20,
            log: None,
        }
    }
}

/// The agent-vault MCP server for one vault and one key.
pub struct VaultMcp {
    source: Arc<VaultSource>,
    broker: Broker,
    audit: Option<AuditLog>,
    options: McpOptions,
}

impl VaultMcp {
    /// A server over `source`, brokering with `config` (whose audit log also gets the `LIST` and
    /// `REVEAL` lines).
    pub fn new(
        source: Arc<VaultSource>,
        config: BrokerConfig,
        options: McpOptions,
    ) -> Result<VaultMcp, BrokerError> {
        let audit = match &config.audit_log {
            Some(path) => Some(AuditLog::open(path).map_err(BrokerError::Audit)?),
            None => None,
        };
        let broker = Broker::new(Arc::clone(&source) as _, config)?;
        Ok(VaultMcp {
            source,
            broker,
            audit,
            options,
        })
    }

    /// Serves MCP on stdin/stdout until the client closes stdin. Must run in a tokio runtime.
    pub async fn serve_stdio(self) -> std::io::Result<()> {
        let running = self
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| std::io::Error::other(format!("the MCP handshake failed: {e}")))?;
        running
            .waiting()
            .await
            .map_err(|e| std::io::Error::other(format!("the MCP server failed: {e}")))?;
        Ok(())
    }

    fn log(&self, line: &str) {
        if let Some(log) = &self.options.log {
            log(line);
        }
    }

    /// Appends a `LIST`/`REVEAL` line (requests are logged by the broker).
    fn audit(&self, method: &str, secret: &str, outcome: Outcome, reason: Option<&str>) {
        let Some(audit) = &self.audit else {
            return;
        };
        let record = AuditRecord {
            time: chrono::Utc::now(),
            actor: crate::broker::CredentialSource::actor(self.source.as_ref()),
            secret: secret.to_string(),
            method: method.to_string(),
            host: String::new(),
            path: String::new(),
            outcome,
            status: None,
            reason: reason.map(str::to_string),
            bytes_in: 0,
            bytes_out: 0,
            via: Via::Mcp,
        };
        if let Err(e) = audit.append(&record) {
            self.log(&format!("agent-vault mcp: cannot write the audit log: {e}"));
        }
    }
}

impl ServerHandler for VaultMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(
                "agent-vault",
                env!("CARGO_PKG_VERSION"),
            ))
            .with_instructions(tools::INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(tools::definitions(
            self.options.allow_reveal,
        )))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let args = request.arguments.unwrap_or_default();
        let secret = match args.get("secret") {
            Some(serde_json::Value::String(s)) => s.clone(),
            _ => String::new(),
        };
        let result = match request.name.as_ref() {
            tools::LIST_TOOL => self.list(args).await,
            tools::GET_TOOL => self.get(args).await,
            tools::REQUEST_TOOL => self.http_request(args).await,
            other => {
                return Err(ErrorData::invalid_params(
                    format!("unknown tool '{other}'; the tools are {}", TOOLS.join(", ")),
                    None,
                ));
            }
        };
        if tools::is_invalid_arguments(&result) {
            self.audit(
                "INVALID",
                &secret,
                Outcome::Refused,
                Some("invalid-arguments"),
            );
            self.log(&format!(
                "agent-vault mcp: {}: invalid arguments",
                request.name
            ));
        }
        Ok(result.into())
    }
}
