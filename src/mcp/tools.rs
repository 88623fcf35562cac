//! The three tools: their JSON schemas and descriptions (written for a model), and what each
//! call does. Every failure is a tool result with `isError: true` and a message saying what to
//! do next; nothing here panics on bad input.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use rmcp::model::{CallToolResult, ContentBlock, JsonObject, Tool};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{Value, json};

use super::VaultMcp;
use crate::broker::audit::{Outcome, Via};
use crate::broker::{
    BrokerError, BrokerRequest, BrokerResponse, CredentialSource, Refusal, RefusalReason,
    SourceError,
};
use crate::names::GroupName;

pub(super) const LIST_TOOL: &str = "agent_vault_list";
pub(super) const GET_TOOL: &str = "agent_vault_get";
pub(super) const REQUEST_TOOL: &str = "agent_vault_http_request";

pub(super) const INSTRUCTIONS: &str = "agent-vault keeps API keys and other secrets. Call agent_vault_list to see which secrets exist and where each may be used, then agent_vault_http_request to call an API with one: the server adds the credential itself, so never put a key in headers, URL or body, and you never need to see its value.";

const LIST_DESCRIPTION: &str = "List the secrets in the vault with their metadata: path, group, expiry, whether your key can read it (readable), and whether it can be used with agent_vault_http_request (usable) for which hosts, methods and path prefixes, and how the credential is added (auth). Never returns secret values. Optionally only one group.";

const GET_REVEAL: &str = "Return the value of a secret as text (base64 for binary values). Prefer agent_vault_http_request whenever the secret is an API credential: a value returned here ends up in your context and transcripts.";

const GET_NO_REVEAL: &str = "This server does not reveal secret values (it was started without --allow-reveal); calling this returns an error. To use an API key or token, call agent_vault_http_request with the secret's path instead: the server adds the credential to the request for you.";

const REQUEST_DESCRIPTION: &str = "Make an HTTP request with a secret's credential added by the server, without you seeing the value. Allowed only to the hosts, methods and path prefixes in the secret's use policy (see agent_vault_list), over https (http only to localhost). Do not send Authorization, Cookie or the API key yourself: the server adds it. Returns the status, the response headers (cookies and credentials removed) and the body with any occurrence of the secret replaced by [redacted:PATH]; binary bodies come back base64-encoded with body_base64: true.";

fn schema(value: Value) -> Arc<JsonObject> {
    match value {
        Value::Object(map) => Arc::new(map),
        _ => Arc::new(JsonObject::new()),
    }
}

/// The tools as listed (the `agent_vault_get` description says whether values are revealed).
pub(super) fn definitions(allow_reveal: bool) -> Vec<Tool> {
    let list = schema(json!({
        "type": "object",
        "properties": {
            "group": {"type": "string", "description": "Only secrets of this group (e.g. \"stripe\")."}
        }
    }));
    let get = schema(json!({
        "type": "object",
        "properties": {
            "secret": {"type": "string", "description": "The secret's path, e.g. \"stripe/api-key\"."}
        },
        "required": ["secret"]
    }));
    let request = schema(json!({
        "type": "object",
        "properties": {
            "secret": {"type": "string", "description": "The path of the secret whose credential the server adds, e.g. \"openai/api-key\"."},
            "method": {"type": "string", "description": "The HTTP method, e.g. GET or POST."},
            "url": {"type": "string", "description": "The full URL, e.g. https://api.openai.com/v1/models (a host the secret's policy allows)."},
            "headers": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": "Extra request headers, e.g. {\"Content-Type\": \"application/json\"}. No Authorization or Cookie."
            },
            "body": {"type": "string", "description": "The request body (text, or base64 when body_base64 is true)."},
            "body_base64": {"type": "boolean", "description": "Set true when body is base64-encoded binary data."}
        },
        "required": ["secret", "method", "url"]
    }));
    let get_description = if allow_reveal {
        GET_REVEAL
    } else {
        GET_NO_REVEAL
    };
    vec![
        Tool::new(LIST_TOOL, LIST_DESCRIPTION, list),
        Tool::new(GET_TOOL, get_description, get),
        Tool::new(REQUEST_TOOL, REQUEST_DESCRIPTION, request),
    ]
}

/// A tool error: the message for the model, and `{"error", "reason"}` for programs.
fn tool_error(reason: &str, message: impl Into<String>) -> CallToolResult {
    let message = message.into();
    let mut result = CallToolResult::error(vec![ContentBlock::text(message.clone())]);
    result.structured_content = Some(json!({"error": message, "reason": reason}));
    result
}

/// Whether `result` is the error for arguments that do not fit the schema.
pub(super) fn is_invalid_arguments(result: &CallToolResult) -> bool {
    result
        .structured_content
        .as_ref()
        .is_some_and(|v| v["reason"] == "invalid-arguments")
}

fn invalid_arguments(tool: &str, err: impl std::fmt::Display, expected: &str) -> CallToolResult {
    tool_error(
        "invalid-arguments",
        format!("Invalid arguments for {tool}: {err}. Expected {expected}."),
    )
}

/// The tool error for a broker error, with what to do next.
fn broker_error(err: &BrokerError) -> CallToolResult {
    let message = match err {
        BrokerError::Refused(r) => format!("The request was not sent. {r}"),
        BrokerError::Source(SourceError::NotFound(m)) => {
            format!("{m}. Call {LIST_TOOL} to see the secrets that exist.")
        }
        BrokerError::Source(SourceError::AccessDenied(m)) => format!(
            "{m}. You cannot change this yourself: tell the user which secret you need and why."
        ),
        BrokerError::Source(SourceError::Integrity(m)) => format!(
            "{m}. This is a security problem, not a passing error: do not retry; tell the user."
        ),
        BrokerError::Source(SourceError::Other(m)) => m.clone(),
        BrokerError::Network(n) => format!("The request failed: {n}"),
        other => other.to_string(),
    };
    tool_error(err.reason(), message)
}

#[derive(Deserialize)]
struct ListArgs {
    group: Option<String>,
}

#[derive(Deserialize)]
struct GetArgs {
    secret: String,
}

#[derive(Deserialize)]
struct HttpArgs {
    secret: String,
    method: String,
    url: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    body_base64: bool,
}

fn parse<T: for<'de> Deserialize<'de>>(
    tool: &str,
    args: JsonObject,
    expected: &str,
) -> Result<T, CallToolResult> {
    serde_json::from_value(Value::Object(args)).map_err(|e| invalid_arguments(tool, e, expected))
}

impl VaultMcp {
    pub(super) async fn list(&self, args: JsonObject) -> CallToolResult {
        let args: ListArgs = match parse(LIST_TOOL, args, "{group?: string}") {
            Ok(a) => a,
            Err(e) => return e,
        };
        let group = match args.group.as_deref().map(GroupName::parse).transpose() {
            Ok(g) => g,
            Err(e) => {
                return tool_error(
                    "invalid-arguments",
                    format!("{e}. Omit group to list every secret."),
                );
            }
        };
        let scope = group.as_ref().map_or("*".to_string(), |g| format!("{g}/*"));
        let source = Arc::clone(&self.source);
        let listed = tokio::task::spawn_blocking(move || source.list(group.as_ref())).await;
        let listed = match listed {
            Ok(result) => result,
            Err(_) => Err(SourceError::Other(
                "listing the vault failed (it panicked)".into(),
            )),
        };
        match listed {
            Ok(secrets) => {
                self.audit("LIST", &scope, Outcome::Sent, None);
                self.log(&format!(
                    "agent-vault mcp: {LIST_TOOL} {scope}: {} secret(s)",
                    secrets.len()
                ));
                CallToolResult::structured(json!({ "secrets": secrets }))
            }
            Err(e) => {
                self.audit("LIST", &scope, Outcome::Refused, Some(e.reason()));
                self.log(&format!(
                    "agent-vault mcp: {LIST_TOOL} {scope}: {}",
                    e.reason()
                ));
                broker_error(&BrokerError::Source(e))
            }
        }
    }

    pub(super) async fn get(&self, args: JsonObject) -> CallToolResult {
        let args: GetArgs = match parse(GET_TOOL, args, "{secret: string}") {
            Ok(a) => a,
            Err(e) => return e,
        };
        let secret = args.secret;
        let logged = secret.escape_debug().to_string();
        if !self.options.allow_reveal {
            self.audit("REVEAL", &secret, Outcome::Refused, Some("reveal-disabled"));
            self.log(&format!(
                "agent-vault mcp: {GET_TOOL} {logged}: refused (reveal-disabled)"
            ));
            return tool_error(
                "reveal-disabled",
                format!(
                    "Values are not revealed: this agent-vault server was started without --allow-reveal, because a value given to you would end up in your context, transcripts and logs. To call an API with this secret, use {REQUEST_TOOL} with secret \"{secret}\"; {LIST_TOOL} shows where each secret may be used."
                ),
            );
        }
        let source = Arc::clone(&self.source);
        let name = secret.clone();
        let read = tokio::task::spawn_blocking(move || source.credential(&name)).await;
        let credential = match read {
            Ok(result) => result,
            Err(_) => Err(SourceError::Other(
                "reading the secret failed (it panicked)".into(),
            )),
        };
        match credential {
            Ok(credential) => {
                self.audit("REVEAL", &secret, Outcome::Sent, None);
                self.log(&format!("agent-vault mcp: {GET_TOOL} {logged}: revealed"));
                let value = credential.value.expose_secret();
                let (text, encoding) = match std::str::from_utf8(value) {
                    Ok(text) => (text.to_string(), "utf-8"),
                    Err(_) => (STANDARD.encode(value), "base64"),
                };
                let mut result = CallToolResult::success(vec![ContentBlock::text(text.clone())]);
                result.structured_content =
                    Some(json!({"secret": secret, "value": text, "encoding": encoding}));
                result
            }
            Err(e) => {
                self.audit("REVEAL", &secret, Outcome::Refused, Some(e.reason()));
                self.log(&format!(
                    "agent-vault mcp: {GET_TOOL} {logged}: {}",
                    e.reason()
                ));
                broker_error(&BrokerError::Source(e))
            }
        }
    }

    pub(super) async fn http_request(&self, args: JsonObject) -> CallToolResult {
        let expected = "{secret: string, method: string, url: string, headers?: {name: value}, body?: string, body_base64?: boolean}";
        let args: HttpArgs = match parse(REQUEST_TOOL, args, expected) {
            Ok(a) => a,
            Err(e) => return e,
        };
        let secret = args.secret.clone();
        let logged = secret.escape_debug().to_string();
        let request = match build_request(args) {
            Ok(r) => r,
            Err(Unusable::Invalid(why)) => return invalid_arguments(REQUEST_TOOL, why, expected),
            Err(Unusable::Refused(refusal, request)) => {
                let err = BrokerError::Refused(refusal);
                self.broker.log_failure(&secret, &request, Via::Mcp, &err);
                self.log(&format!(
                    "agent-vault mcp: {REQUEST_TOOL} {logged}: {}",
                    err.reason()
                ));
                return broker_error(&err);
            }
        };
        let shown = format!(
            "{} {}",
            request.method,
            without_query(&request.url).escape_debug()
        );
        match self.broker.send(&secret, request, Via::Mcp).await {
            Ok(response) => {
                let status = response.status.as_u16();
                let result = self.collect(response).await;
                let outcome = if result.is_error == Some(true) {
                    "failed"
                } else {
                    "answered"
                };
                self.log(&format!(
                    "agent-vault mcp: {REQUEST_TOOL} {logged} {shown}: {outcome} {status}"
                ));
                result
            }
            Err(err) => {
                self.log(&format!(
                    "agent-vault mcp: {REQUEST_TOOL} {logged} {shown}: {}",
                    err.reason()
                ));
                broker_error(&err)
            }
        }
    }

    /// Reads the redacted body (up to the limit) into the tool result.
    async fn collect(&self, response: BrokerResponse) -> CallToolResult {
        let BrokerResponse {
            status,
            headers,
            mut body,
        } = response;
        let limit = self.options.max_body_bytes;
        let mut data = Vec::new();
        let mut truncated = false;
        loop {
            match body.chunk().await {
                Ok(Some(chunk)) => {
                    if data.len() + chunk.len() > limit {
                        data.extend_from_slice(&chunk[..limit - data.len()]);
                        truncated = true;
                        break;
                    }
                    data.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return broker_error(&e),
            }
        }
        // Dropping the body early writes its audit line (`body-not-read-to-end`).
        drop(body);
        let mut shown: BTreeMap<String, String> = BTreeMap::new();
        for (name, value) in &headers {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            shown
                .entry(name.as_str().to_string())
                .and_modify(|v| {
                    v.push_str(", ");
                    v.push_str(&value);
                })
                .or_insert(value);
        }
        let (text, base64) = body_text(data, truncated);
        CallToolResult::structured(json!({
            "status": status.as_u16(),
            "headers": shown,
            "body": text,
            "body_base64": base64,
            "truncated": truncated,
        }))
    }
}

/// The body as text when it is UTF-8 (a character cut by truncation is dropped), else base64.
fn body_text(mut data: Vec<u8>, truncated: bool) -> (String, bool) {
    if let Err(e) = std::str::from_utf8(&data)
        && truncated
        && e.error_len().is_none()
    {
        data.truncate(e.valid_up_to());
    }
    match String::from_utf8(data) {
        Ok(text) => (text, false),
        Err(e) => (STANDARD.encode(e.as_bytes()), true),
    }
}

fn without_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

/// Why the tool's arguments make no request.
enum Unusable {
    /// A method or header the broker would refuse; audited like its refusals.
    Refused(Refusal, Box<BrokerRequest>),
    /// Arguments that do not fit the schema.
    Invalid(String),
}

/// The broker request for the tool's arguments.
fn build_request(args: HttpArgs) -> Result<BrokerRequest, Unusable> {
    let placeholder = |method: Method| Box::new(BrokerRequest::new(method, args.url.clone()));
    let method =
        Method::from_bytes(args.method.trim().to_ascii_uppercase().as_bytes()).map_err(|_| {
            let message = format!(
                "'{}' is not an HTTP method; use GET, POST, PUT, PATCH, DELETE, …",
                args.method.escape_debug()
            );
            Unusable::Refused(
                Refusal::new(RefusalReason::Method, message),
                placeholder(Method::GET),
            )
        })?;
    let mut headers = HeaderMap::new();
    for (name, value) in &args.headers {
        let parsed = HeaderName::from_bytes(name.trim().as_bytes())
            .ok()
            .zip(HeaderValue::from_str(value.trim()).ok());
        let Some((name, value)) = parsed else {
            let message = format!(
                "the header '{}' is not a valid HTTP header name and value",
                name.escape_debug()
            );
            return Err(Unusable::Refused(
                Refusal::new(RefusalReason::BadHeader, message),
                placeholder(method),
            ));
        };
        headers.append(name, value);
    }
    let body = match (&args.body, args.body_base64) {
        (None, _) => Bytes::new(),
        (Some(text), false) => Bytes::from(text.clone().into_bytes()),
        (Some(text), true) => match STANDARD.decode(text.trim()) {
            Ok(bytes) => Bytes::from(bytes),
            Err(_) => {
                return Err(Unusable::Invalid(
                    "body_base64 is true but body is not valid base64".into(),
                ));
            }
        },
    };
    Ok(BrokerRequest {
        method,
        url: args.url,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_tools_have_object_schemas_with_their_required_arguments() {
        let tools = definitions(false);
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
        assert_eq!(names, [LIST_TOOL, GET_TOOL, REQUEST_TOOL]);
        for tool in &tools {
            assert_eq!(tool.input_schema["type"], "object");
        }
        assert_eq!(
            tools[2].input_schema["required"],
            json!(["secret", "method", "url"])
        );
        assert!(
            tools[1]
                .description
                .as_deref()
                .unwrap()
                .contains(REQUEST_TOOL)
        );
        assert!(
            definitions(true)[1]
                .description
                .as_deref()
                .unwrap()
                .starts_with("Return")
        );
    }

    #[test]
    fn bodies_are_text_when_they_can_be() {
        assert_eq!(body_text(b"ok".to_vec(), false), ("ok".into(), false));
        assert_eq!(body_text(vec![0xff, 0x00], false), ("/wA=".into(), true));
        // "é" cut in half by truncation is dropped rather than turning the body into base64.
        assert_eq!(body_text(vec![b'a', 0xc3], true), ("a".into(), false));
    }

    #[test]
    fn bad_methods_headers_and_bodies_are_refusals() {
        let args = |method: &str, header: (&str, &str), body: Option<&str>, b64: bool| HttpArgs {
            secret: "a/b".into(),
            method: method.into(),
            url: "https://x.example/".into(),
            headers: [(header.0.to_string(), header.1.to_string())].into(),
            body: body.map(str::to_string),
            body_base64: b64,
        };
        let reason = |a| match build_request(a) {
            Err(Unusable::Refused(r, _)) => Some(r.reason),
            _ => None,
        };
        assert_eq!(
            reason(args("G ET", ("a", "b"), None, false)),
            Some(RefusalReason::Method)
        );
        assert_eq!(
            reason(args("GET", ("bad name", "b"), None, false)),
            Some(RefusalReason::BadHeader)
        );
        assert_eq!(
            reason(args("GET", ("a", "b\nc"), None, false)),
            Some(RefusalReason::BadHeader)
        );
        assert!(matches!(
            build_request(args("GET", ("a", "b"), Some("!!"), true)),
            Err(Unusable::Invalid(_))
        ));
        let ok = build_request(args("post", ("X-A", "1"), Some("aGk="), true))
            .ok()
            .unwrap();
        assert_eq!((ok.method, ok.body.as_ref()), (Method::POST, &b"hi"[..]));
    }
}
