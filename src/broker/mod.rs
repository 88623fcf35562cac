//! The broker: "use, don't retrieve". A caller (an agent, a CI job) asks the broker to make an
//! HTTP request *with* a secret; the broker checks the secret's owner-signed use policy,
//! injects the value, sends the request, and returns the response with the value redacted. The
//! caller never sees the value. No CLI in here, and the pipeline does not know the vault: it
//! reaches values through the [`CredentialSource`] trait, which [`VaultSource`] implements over
//! a vault; the CLI wires `policy`, `request`, `proxy`, `audit` and `mcp` on top.
//!
//! | module | owns |
//! |---|---|
//! | [`policy`] | the use policy model ([`UsePolicy`], [`AuthSpec`], [`HostRule`], [`presets`]) |
//! | [`decide`] | the decision from policy and request, before anything is decrypted or sent |
//! | `inject` | where the value goes (header, template, basic, query) |
//! | [`redact`] | streaming redaction of the value's forms from responses |
//! | `client` | the HTTP client, [`BrokerConfig`], roots, [`NetworkError`], [`BrokerError`] |
//! | `response` | [`BrokerResponse`]: safe headers, redacted streaming body |
//! | `service` | the [`Broker`] facade running the whole pipeline |
//! | [`audit`] | the JSON-lines audit log and its reader |
//! | [`proxy`] | the local HTTP proxy server for drop-in clients |
//! | [`vault_source`] | [`VaultSource`]: the [`CredentialSource`] over a vault, re-read at most once a second |
//!
//! ## Pipeline of [`Broker::send`]
//!
//! 1. [`CredentialSource::policy`] (no decryption); none → refused `no-policy`.
//! 2. [`decide::decide`] → a [`Refusal`] if any rule fails (nothing decrypted, nothing sent).
//! 3. [`CredentialSource::credential`] → the value (and the policy read with it: if it changed,
//!    the decision is made again with it).
//! 4. Inject per [`AuthSpec`]; a value unfit for a header is refused `credential-value`.
//! 5. Send (`Accept-Encoding: identity`, timeouts, no proxy); same-origin redirects followed
//!    with the credential after deciding again, another origin refused `redirect-off-origin`.
//! 6. Return status, filtered and redacted headers, and a body redacted as it streams.
//! 7. One audit line per request: at the refusal or error, or when the body ends or is dropped.
//!
//! ## Behaviour the callers rely on
//!
//! * **Injection** ([`AuthSpec`]): `bearer` → `Authorization: Bearer <v>`; `header:NAME` →
//!   `NAME: <v>`; `header:NAME=TEMPLATE` → `NAME: TEMPLATE` with `{secret}` replaced; `basic:USER`
//!   → `Authorization: Basic base64(USER:v)`; `query:PARAM` → `PARAM=<v, RFC 3986
//!   percent-encoded>` appended to the query. A value unfit for a header (control or non-ASCII
//!   bytes, leading/trailing whitespace, empty) is refused `credential-value`.
//! * **Caller headers**: `Authorization`, `Proxy-Authorization`, `Cookie`, the policy's header
//!   and `Host` are refused; hop-by-hop headers, `Content-Length` and `Accept-Encoding` are
//!   dropped (the broker sends `Accept-Encoding: identity`; a compressed answer is an error,
//!   `response-encoding`, since it could not be redacted).
//! * **Redirects** are never followed automatically. Same origin (scheme, host, port): followed
//!   with the credential after deciding again, at most [`BrokerConfig::max_redirects`] times
//!   (then `too-many-redirects`); 301/302 turn POST into GET, 303 turns all but HEAD into GET,
//!   307/308 keep method and body. Another origin: not followed at all, refused
//!   `redirect-off-origin` with the (redacted) target in the message.
//! * **Response headers** removed: `Set-Cookie`, `Set-Cookie2`, `Authorization`,
//!   `Proxy-Authorization`, `Proxy-Authenticate`, the policy's header, `Content-Length`, and the
//!   hop-by-hop headers. `WWW-Authenticate` is kept (a challenge, not a credential). Every other
//!   value is redacted like the body.
//! * **Body**: streamed through [`redact`] (raw, percent-, JSON-, hex- and base64-encoded forms
//!   → `[redacted:PATH]`), capped at [`BrokerConfig::max_response_bytes`] before redaction.
//! * **Network**: no proxy from the environment, `localhost` pinned to loopback, roots only from
//!   [`BrokerConfig`] (system store and/or PEM passed in), connect/idle/overall timeouts. The
//!   library reads no environment variable (`rustls-native-certs`, which loads the system
//!   store, follows the platform convention of honouring `SSL_CERT_FILE`/`SSL_CERT_DIR`).
//!
//! ## Using it
//!
//! The broker is async (tokio). Nothing here starts a runtime at program start: build one only
//! in the commands that broker ([`runtime`] is a ready-made one), so `get` pays nothing.
//!
//! ```no_run
//! use std::sync::Arc;
//! use agent_vault::broker::{Broker, BrokerConfig, BrokerRequest, CredentialSource, Via};
//!
//! # fn source() -> Arc<dyn CredentialSource> { unimplemented!() }
//! let broker = Broker::new(source(), BrokerConfig::default())?;
//! let rt = agent_vault::broker::runtime()?;
//! let body = rt.block_on(async {
//!     let request = BrokerRequest::new(http::Method::GET, "https://api.openai.com/v1/models");
//!     let response = broker.send("openai/api-key", request, Via::Request).await?;
//!     response.body.collect(16 << 20).await
//! })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Mapping errors (for the CLI)
//!
//! [`BrokerError::Refused`] → exit 4 / proxy 403; [`BrokerError::Source`]: `NotFound` → 3 / 404,
//! `AccessDenied` → 4 / 403, `Integrity` → 5 / 403, `Other` → 1 / 500;
//! [`BrokerError::Network`] → 1 / 502.

pub mod audit;
mod client;
pub mod decide;
mod inject;
pub use crate::policy;
pub mod proxy;
pub mod redact;
mod refusal;
mod response;
mod service;
mod source;
pub mod vault_source;

pub use audit::{AuditFilter, AuditLog, AuditRecord, Outcome, Via, read_audit};
pub use client::{BrokerConfig, BrokerError, NetworkError, NetworkErrorKind};
pub use decide::{BrokerRequest, Decision};
pub use policy::{AuthSpec, HostRule, PolicyError, UsePolicy, preset, presets};
pub use proxy::{Proxy, ProxyConfig, Route};
pub use refusal::{Refusal, RefusalReason};
pub use response::{BrokerResponse, ResponseBody};
pub use service::Broker;
pub use source::{Credential, CredentialSource, SourceError};
pub use vault_source::{ListedSecret, VaultSource, WarningSink};

/// A tokio runtime for broker commands (multi-thread, two workers, I/O and timers). Build it
/// in the command that needs it, never at program start.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("agent-vault-broker")
        .build()
}
