//! Refusals: the typed "no" the broker gives before anything is decrypted or sent (or, for a
//! redirect, before it is followed). Each message says what to do next, for people and models.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a request was refused. Serialized (and shown in the audit log and the proxy's JSON
/// errors) in kebab-case, e.g. `no-policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum RefusalReason {
    /// The secret has no use policy.
    NoPolicy,
    /// The stored policy does not validate.
    InvalidPolicy,
    /// The URL cannot be parsed or holds characters the broker will not forward.
    BadUrl,
    /// The scheme is neither https nor (to loopback) http.
    Scheme,
    /// Plain http to a host that is not loopback.
    InsecureHttp,
    /// The URL carries `user:password@`.
    Userinfo,
    /// The host (or its port) is not in the policy.
    Host,
    /// The method is not in the policy.
    Method,
    /// The path has dot segments, encoded slashes, or lies outside the allowed prefixes.
    Path,
    /// The caller sent an auth-class header (`Authorization`, `Proxy-Authorization`, `Cookie`,
    /// the policy's header).
    AuthHeader,
    /// The caller put the policy's query parameter in the URL.
    AuthQuery,
    /// A header the broker controls (`Host`) or an invalid header.
    BadHeader,
    /// The value cannot be placed where the policy says (e.g. a control byte in a header).
    CredentialValue,
    /// The server redirected to another origin; not followed.
    RedirectOffOrigin,
    /// More same-origin redirects than allowed.
    TooManyRedirects,
    /// The request body is larger than allowed.
    RequestTooLarge,
    /// The proxy route cannot tell which host to use.
    RouteHost,
    /// A proxy client did not present the proxy token.
    ProxyToken,
}

impl RefusalReason {
    /// The kebab-case name, as serialized.
    pub fn as_str(&self) -> &'static str {
        match self {
            RefusalReason::NoPolicy => "no-policy",
            RefusalReason::InvalidPolicy => "invalid-policy",
            RefusalReason::BadUrl => "bad-url",
            RefusalReason::Scheme => "scheme",
            RefusalReason::InsecureHttp => "insecure-http",
            RefusalReason::Userinfo => "userinfo",
            RefusalReason::Host => "host",
            RefusalReason::Method => "method",
            RefusalReason::Path => "path",
            RefusalReason::AuthHeader => "auth-header",
            RefusalReason::AuthQuery => "auth-query",
            RefusalReason::BadHeader => "bad-header",
            RefusalReason::CredentialValue => "credential-value",
            RefusalReason::RedirectOffOrigin => "redirect-off-origin",
            RefusalReason::TooManyRedirects => "too-many-redirects",
            RefusalReason::RequestTooLarge => "request-too-large",
            RefusalReason::RouteHost => "route-host",
            RefusalReason::ProxyToken => "proxy-token",
        }
    }
}

impl fmt::Display for RefusalReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused request: the reason (machine-readable) and a message (what happened and what to
/// do next). Never holds a secret value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("refused ({reason}): {message}")]
pub struct Refusal {
    /// Why.
    pub reason: RefusalReason,
    /// What happened and what to do next.
    pub message: String,
}

impl Refusal {
    /// A refusal for `reason` with `message`.
    pub fn new(reason: RefusalReason, message: impl Into<String>) -> Refusal {
        Refusal {
            reason,
            message: message.into(),
        }
    }
}
