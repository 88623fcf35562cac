//! The decision: may this request be made with this secret under its policy? Decided from the
//! policy and the request alone, before the value is decrypted or anything is sent.
//!
//! Rules, in order (the first that fails is the [`Refusal`]):
//!
//! 1. the policy validates ([`UsePolicy::validate`]);
//! 2. the URL is written in full (`https://host/…`), holds no whitespace, control character or
//!    `\`, has no `user:password@`;
//! 3. the scheme is `https`, or `http` to a loopback host (127.0.0.0/8, `::1`, `localhost`);
//! 4. host and port match a policy entry;
//! 5. the method is allowed (`TRACE` and `CONNECT` never are);
//! 6. the path, percent-decoded segment by segment, has no `.`/`..` segment (however encoded:
//!    `%2e%2e`, `%2E.`), no encoded `/` or `\` and no NUL, is UTF-8, and lies under an allowed
//!    prefix (segment-aware);
//! 7. for query auth, the URL does not already carry the policy's parameter;
//! 8. the caller sent no `Authorization`, `Proxy-Authorization`, `Cookie` or policy header
//!    (case-insensitive), and no `Host` header.
//!
//! Headers the broker owns are dropped from what is forwarded rather than refused: hop-by-hop
//! headers (`Connection`, `Keep-Alive`, `TE`, `Trailer`, `Transfer-Encoding`, `Upgrade`,
//! `Proxy-Connection`), `Content-Length` (recomputed) and `Accept-Encoding` (the broker asks for
//! `identity` so that it can redact the body).

use bytes::Bytes;
use http::{HeaderMap, Method};
use url::Url;

use super::policy::UsePolicy;
use super::refusal::{Refusal, RefusalReason};

/// A request a caller wants made with a secret.
#[derive(Debug, Clone)]
pub struct BrokerRequest {
    /// The method.
    pub method: Method,
    /// The full URL as the caller wrote it (`https://host[:port]/path[?query]`). Kept raw so
    /// that the path checks see exactly what was given.
    pub url: String,
    /// Headers to forward (no auth-class headers: those are refused).
    pub headers: HeaderMap,
    /// The body (empty for none).
    pub body: Bytes,
}

impl BrokerRequest {
    /// A request with no headers and an empty body.
    pub fn new(method: Method, url: impl Into<String>) -> BrokerRequest {
        BrokerRequest {
            method,
            url: url.into(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
        }
    }
}

/// What an allowed request resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The URL to send to (fragment removed), before the credential is added.
    pub url: Url,
    /// `host` or `host:port` as written in the audit log (port shown when not the default).
    pub host: String,
    /// The path as sent (percent-encoded as given, no query).
    pub path: String,
}

/// Headers dropped from the caller's request (the broker or the HTTP stack sets them).
const DROPPED_HEADERS: &[&str] = &[
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "proxy-connection",
    "content-length",
    "accept-encoding",
];

/// Decides whether `request` may be made with `secret` under `policy`; see the module docs.
pub fn decide(
    secret: &str,
    policy: &UsePolicy,
    request: &BrokerRequest,
) -> Result<Decision, Refusal> {
    policy.validate().map_err(|e| {
        Refusal::new(
            RefusalReason::InvalidPolicy,
            format!(
                "the use policy of '{secret}' is invalid ({e}); ask the vault owner to fix it with `agent-vault policy {secret} …`"
            ),
        )
    })?;
    let decision = check_target(secret, policy, request.method.as_str(), &request.url)?;
    check_headers(secret, policy, &request.headers)?;
    Ok(decision)
}

/// Rules 2–7 for a method and raw URL (also used for same-origin redirects).
pub(crate) fn check_target(
    secret: &str,
    policy: &UsePolicy,
    method: &str,
    raw: &str,
) -> Result<Decision, Refusal> {
    let mut url = parse_url(raw)?;
    let host = check_origin(secret, policy, &url)?;
    if method.eq_ignore_ascii_case("TRACE") || method.eq_ignore_ascii_case("CONNECT") {
        // TRACE echoes the request (credential included); CONNECT opens a raw tunnel.
        return Err(Refusal::new(
            RefusalReason::Method,
            format!("method {method} is never brokered: it would echo or tunnel the credential"),
        ));
    }
    if !policy.allows_method(method) {
        let allowed = policy.methods.clone().unwrap_or_default().join(", ");
        return Err(Refusal::new(
            RefusalReason::Method,
            format!(
                "method {method} is not allowed for '{secret}' (allowed: {allowed}); use one of those, or ask the vault owner to add it with `agent-vault policy {secret} --method {method} …`"
            ),
        ));
    }
    let segments = path_segments(raw_path(raw))?;
    if path_segments(url.path())? != segments {
        return Err(Refusal::new(
            RefusalReason::BadUrl,
            "the URL's path would be rewritten by URL normalisation; write it plainly",
        ));
    }
    if !policy.allows_segments(&segments) {
        let allowed = policy.path_prefixes.clone().unwrap_or_default().join(", ");
        return Err(Refusal::new(
            RefusalReason::Path,
            format!(
                "the path {} is outside what '{secret}' may be used for (allowed prefixes: {allowed}); use a path under one of them",
                url.path()
            ),
        ));
    }
    if let Some(param) = policy.auth.query_param()
        && url
            .query_pairs()
            .any(|(name, _)| name.eq_ignore_ascii_case(param))
    {
        return Err(Refusal::new(
            RefusalReason::AuthQuery,
            format!(
                "the URL already has the query parameter '{param}', which the broker fills with the credential; remove it"
            ),
        ));
    }
    url.set_fragment(None);
    Ok(Decision {
        path: url.path().to_string(),
        url,
        host,
    })
}

/// Rules 2–4 on a parsed URL: scheme, userinfo, loopback-only http, host and port. Returns
/// `host[:port]` for the audit log.
fn check_origin(secret: &str, policy: &UsePolicy, url: &Url) -> Result<String, Refusal> {
    let scheme = url.scheme();
    let default_port = match scheme {
        "https" => 443,
        "http" => 80,
        other => {
            return Err(Refusal::new(
                RefusalReason::Scheme,
                format!(
                    "the scheme '{other}' is not allowed: the broker sends only https (plain http only to 127.0.0.1, ::1 or localhost)"
                ),
            ));
        }
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Refusal::new(
            RefusalReason::Userinfo,
            "the URL carries a user name or password (user:pass@host); remove it: the broker injects the credential itself",
        ));
    }
    let host = url
        .host()
        .ok_or_else(|| Refusal::new(RefusalReason::BadUrl, "the URL has no host"))?;
    let port = url.port_or_known_default().unwrap_or(default_port);
    let host_display = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    };
    if scheme == "http" && !is_loopback(&host) {
        return Err(Refusal::new(
            RefusalReason::InsecureHttp,
            format!(
                "plain http to '{host_display}' would expose the credential on the network; use https:// (plain http is allowed only to 127.0.0.1, ::1 or localhost)"
            ),
        ));
    }
    if !policy
        .hosts
        .iter()
        .any(|rule| rule.matches(&host, port, default_port))
    {
        return Err(host_refusal(secret, policy, &host_display, scheme));
    }
    Ok(host_display)
}

fn host_refusal(secret: &str, policy: &UsePolicy, host: &str, scheme: &str) -> Refusal {
    let allowed: Vec<String> = policy.hosts.iter().map(|h| h.to_string()).collect();
    let default = if scheme == "https" { 443 } else { 80 };
    Refusal::new(
        RefusalReason::Host,
        format!(
            "'{host}' is not a host '{secret}' may be sent to (allowed: {}; a rule without a port allows only port {default} for {scheme}); send the request to one of those, or ask the vault owner to add it with `agent-vault policy {secret} --host HOST[:PORT] …`",
            allowed.join(", ")
        ),
    )
}

/// Parses a raw URL after the character checks of rule 2.
fn parse_url(raw: &str) -> Result<Url, Refusal> {
    let bad = |why: &str| Refusal::new(RefusalReason::BadUrl, why.to_string());
    if raw
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return Err(bad(
            "the URL contains whitespace, a control character or '\\'; percent-encode them",
        ));
    }
    let Some((scheme, _)) = raw.split_once("://") else {
        return Err(bad("write the URL in full: https://host/path"));
    };
    if scheme.is_empty()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    {
        return Err(bad("write the URL in full: https://host/path"));
    }
    Url::parse(raw).map_err(|e| bad(&format!("the URL cannot be parsed ({e})")))
}

/// The raw path of a full URL: after the authority, before `?` or `#`.
pub(crate) fn raw_path(raw: &str) -> &str {
    let after_scheme = raw.split_once("://").map_or(raw, |(_, rest)| rest);
    let path_start = after_scheme
        .find(['/', '?', '#'])
        .unwrap_or(after_scheme.len());
    let rest = &after_scheme[path_start..];
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    &rest[..end]
}

/// The decoded segments of a raw path (rule 6), refusing dot segments, encoded slashes and
/// malformed escapes.
pub(crate) fn path_segments(raw: &str) -> Result<Vec<String>, Refusal> {
    let bad = |why: &str| {
        Refusal::new(
            RefusalReason::Path,
            format!("the path is refused: {why}; write the canonical path without them"),
        )
    };
    let trimmed = raw.strip_prefix('/').unwrap_or(raw);
    if trimmed.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for segment in trimmed.split('/') {
        let bytes = segment.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'%'
                && !(i + 2 < bytes.len()
                    && bytes[i + 1].is_ascii_hexdigit()
                    && bytes[i + 2].is_ascii_hexdigit())
            {
                return Err(bad("it has a malformed percent-escape"));
            }
        }
        let decoded: Vec<u8> = percent_encoding::percent_decode(bytes).collect();
        if decoded.iter().any(|&b| b == b'/' || b == b'\\' || b == 0) {
            return Err(bad("it has an encoded '/', '\\' or NUL inside a segment"));
        }
        if decoded == b"." || decoded == b".." {
            return Err(bad(
                "it has a '.' or '..' segment (also when percent-encoded)",
            ));
        }
        let decoded =
            String::from_utf8(decoded).map_err(|_| bad("it is not UTF-8 once decoded"))?;
        out.push(decoded);
    }
    Ok(out)
}

/// 127.0.0.0/8, `::1`, or `localhost`.
pub(crate) fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
        url::Host::Domain(d) => *d == "localhost",
    }
}

/// Rule 8: refuses auth-class and `Host` headers.
fn check_headers(secret: &str, policy: &UsePolicy, headers: &HeaderMap) -> Result<(), Refusal> {
    let own = policy.auth.header_name();
    for name in headers.keys() {
        let name = name.as_str();
        let auth_class = matches!(name, "authorization" | "proxy-authorization" | "cookie")
            || own.as_deref() == Some(name);
        if auth_class {
            return Err(Refusal::new(
                RefusalReason::AuthHeader,
                format!(
                    "the request carries a '{name}' header; remove it: the broker injects the credential of '{secret}' itself and does not forward caller credentials"
                ),
            ));
        }
        if name == "host" {
            return Err(Refusal::new(
                RefusalReason::BadHeader,
                "the request carries a 'Host' header; remove it: the broker derives it from the URL",
            ));
        }
    }
    Ok(())
}

/// The caller's headers minus those the broker owns (see the module docs).
pub(crate) fn forwarded_headers(headers: &HeaderMap) -> HeaderMap {
    let mut out = headers.clone();
    for name in DROPPED_HEADERS {
        out.remove(*name);
    }
    out
}

#[cfg(test)]
#[path = "decide_tests.rs"]
mod tests;
