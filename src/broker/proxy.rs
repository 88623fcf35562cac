//! The local proxy: an HTTP server (hyper 1.x) that lets unmodified clients (OpenAI/Anthropic
//! SDKs, curl) use secrets through the broker. A request to
//! `http://127.0.0.1:PORT/NAME/rest/of/path?query` goes to `https://HOST/rest/of/path?query`
//! through [`Broker::send`], where `NAME` is a [`Route`] to a secret (and optionally a host).
//!
//! * **Token.** Clients authenticate with the proxy token *where the policy injects the value*:
//!   `Authorization: Bearer <token>` for `bearer`; `NAME: <token>` for `header:NAME` (for a
//!   template, the templated value with the token in place of `{secret}`, or the bare token);
//!   the password of `Authorization: Basic` for `basic:USER` (any user name); the `PARAM` query
//!   parameter for `query:PARAM`; a secret without (readable) policy expects `Bearer`. So
//!   `OPENAI_API_KEY=<token>` plus a base URL just works. The token is compared in constant time
//!   (SHA-256 digests); without it the answer is 401, before anything is decrypted. The token
//!   header (or parameter) is removed before the broker's "no caller credentials" check; any
//!   other auth-class header is refused by the broker.
//! * **Host.** The route's host if it names one (`HOST[:PORT]`, or `http://HOST:PORT` for a
//!   loopback test server), else the policy's only host when it has exactly one exact host;
//!   otherwise 403 `route-host` (name one: `NAME=PATH@HOST`).
//! * **Answers.** Upstream's status, filtered headers and the redacted body, streamed. Errors
//!   are JSON `{"error": "...", "reason": "..."}`: unknown route 404, missing token 401,
//!   refusal 403 (413 for a body over the broker's limit), secret not found 404, access denied
//!   or integrity failure 403, network 502 (504 on a timeout).
//! * **Audit.** Every decision about a route is logged (`via: proxy`), token failures included.
//!   Requests for unknown routes are not (they name no secret).
//! * **Binding.** Loopback addresses only, unless [`ProxyConfig::allow_non_loopback`].

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::{Future, poll_fn};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HOST, HeaderValue, WWW_AUTHENTICATE};
use http::{Request, Response, StatusCode};
use http_body::{Body, Frame};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use secrecy::{ExposeSecret, SecretString};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::audit::Via;
use super::client::{BrokerError, NetworkErrorKind};
use super::decide::BrokerRequest;
use super::policy::{AuthSpec, UsePolicy};
use super::refusal::{Refusal, RefusalReason};
use super::service::{Broker, no_policy};
use super::source::SourceError;

#[path = "proxy_token.rs"]
mod token;

/// Where a proxy route name leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The secret path.
    pub secret: String,
    /// `HOST[:PORT]` (https) or `http://HOST:PORT`; `None` uses the policy's only exact host.
    pub host: Option<String>,
}

impl Route {
    /// Parses the CLI's `NAME=PATH[@HOST]` into the route name and route.
    pub fn parse_spec(spec: &str) -> Result<(String, Route), String> {
        let (name, target) = spec.split_once('=').ok_or_else(|| {
            format!("invalid route '{spec}': expected NAME=PATH or NAME=PATH@HOST")
        })?;
        let valid_name = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if !valid_name {
            return Err(format!(
                "invalid route name '{name}': use letters, digits, '.', '_' and '-'"
            ));
        }
        let (secret, host) = match target.split_once('@') {
            Some((s, h)) if !h.is_empty() => (s, Some(h.to_string())),
            Some(_) => return Err(format!("invalid route '{spec}': empty host after '@'")),
            None => (target, None),
        };
        if secret.is_empty() {
            return Err(format!("invalid route '{spec}': empty secret path"));
        }
        if let Some(h) = &host {
            let authority = h
                .strip_prefix("https://")
                .or_else(|| h.strip_prefix("http://"))
                .unwrap_or(h);
            if authority.is_empty() || authority.contains(['/', '?', '#', '@', ' ']) {
                return Err(format!(
                    "invalid route '{spec}': the host is HOST[:PORT] (or http://HOST:PORT for a loopback server), without a path"
                ));
            }
        }
        let route = Route {
            secret: secret.to_string(),
            host,
        };
        Ok((name.to_string(), route))
    }
}

/// The origin (`https://host[:port]`) a route sends to under `policy` (see the module docs).
pub fn upstream_origin(route: &Route, policy: &UsePolicy) -> Result<String, Refusal> {
    if let Some(host) = &route.host {
        return Ok(if host.contains("://") {
            host.clone()
        } else {
            format!("https://{host}")
        });
    }
    match policy.hosts.as_slice() {
        [only] if only.is_exact() => Ok(format!("https://{only}")),
        _ => {
            let hosts: Vec<String> = policy.hosts.iter().map(|h| h.to_string()).collect();
            Err(Refusal::new(
                RefusalReason::RouteHost,
                format!(
                    "the secret '{}' may be used with several hosts ({}); start the proxy with a route that names one: NAME={}@HOST",
                    route.secret,
                    hosts.join(", "),
                    route.secret
                ),
            ))
        }
    }
}

/// What the proxy serves.
#[derive(Debug)]
pub struct ProxyConfig {
    /// The address to listen on (port 0 picks a free port; see [`Proxy::local_addr`]).
    pub listen: SocketAddr,
    /// The token clients present in place of the real credential.
    pub token: SecretString,
    /// Route name → route.
    pub routes: BTreeMap<String, Route>,
    /// Allow a non-loopback listen address (off: the proxy would hand out credentials' use to
    /// anyone who can reach it and knows the token).
    pub allow_non_loopback: bool,
    /// How long shutdown waits for in-flight requests. Default 5 s.
    pub shutdown_grace: Duration,
}

impl ProxyConfig {
    /// A config with the default grace period and loopback-only binding.
    pub fn new(listen: SocketAddr, token: SecretString, routes: BTreeMap<String, Route>) -> Self {
        ProxyConfig {
            listen,
            token,
            routes,
            allow_non_loopback: false,
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

struct State {
    broker: Arc<Broker>,
    routes: BTreeMap<String, Route>,
    token: token::TokenDigest,
}

/// A bound proxy, ready to [`serve`](Proxy::serve).
pub struct Proxy {
    listener: TcpListener,
    state: Arc<State>,
    grace: Duration,
}

impl Proxy {
    /// Binds `config.listen`. Must run inside a tokio runtime.
    pub async fn bind(broker: Arc<Broker>, config: ProxyConfig) -> std::io::Result<Proxy> {
        if !config.listen.ip().is_loopback() && !config.allow_non_loopback {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "refusing to listen on {}: the proxy listens on loopback addresses only (127.0.0.1, ::1)",
                    config.listen
                ),
            ));
        }
        if config.token.expose_secret().is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the proxy token is empty",
            ));
        }
        let listener = TcpListener::bind(config.listen).await?;
        let state = State {
            broker,
            routes: config.routes,
            token: token::TokenDigest::new(config.token.expose_secret()),
        };
        Ok(Proxy {
            listener,
            state: Arc::new(state),
            grace: config.shutdown_grace,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then stops accepting and waits up to the grace period
    /// for in-flight requests.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send) -> std::io::Result<()> {
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    let stream = match accepted {
                        Ok((stream, _)) => stream,
                        Err(_) => {
                            // Out of file descriptors and the like: back off, keep serving.
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    // Heads and streamed chunks go out as separate writes: no Nagle delay.
                    let _ = stream.set_nodelay(true);
                    let state = Arc::clone(&self.state);
                    let service = hyper::service::service_fn(move |req| handle(Arc::clone(&state), req));
                    let conn = builder.serve_connection(TokioIo::new(stream), service).into_owned();
                    let conn = graceful.watch(conn);
                    tokio::spawn(async move {
                        let _ = conn.await;
                    });
                }
                () = &mut shutdown => break,
            }
        }
        drop(self.listener);
        tokio::select! {
            () = graceful.shutdown() => {}
            () = tokio::time::sleep(self.grace) => {}
        }
        Ok(())
    }
}

/// The response body: a fixed buffer or a stream of redacted chunks.
enum ProxyBody {
    Full(Option<Bytes>),
    Stream(mpsc::Receiver<Result<Bytes, BrokerError>>),
}

impl Body for ProxyBody {
    type Data = Bytes;
    type Error = BrokerError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BrokerError>>> {
        match self.get_mut() {
            ProxyBody::Full(data) => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
            ProxyBody::Stream(rx) => rx.poll_recv(cx).map(|o| o.map(|r| r.map(Frame::data))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, ProxyBody::Full(None))
    }
}

fn json_error(status: StatusCode, reason: &str, message: &str) -> Response<ProxyBody> {
    let body = serde_json::json!({ "error": message, "reason": reason }).to_string();
    let mut response = Response::new(ProxyBody::Full(Some(Bytes::from(body))));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// The HTTP answer to a broker error (see the module docs).
fn error_response(err: &BrokerError) -> Response<ProxyBody> {
    let status = match err {
        BrokerError::Refused(r) if r.reason == RefusalReason::RequestTooLarge => {
            StatusCode::PAYLOAD_TOO_LARGE
        }
        BrokerError::Refused(r) if r.reason == RefusalReason::ProxyToken => {
            StatusCode::UNAUTHORIZED
        }
        BrokerError::Refused(_) => StatusCode::FORBIDDEN,
        BrokerError::Source(SourceError::NotFound(_)) => StatusCode::NOT_FOUND,
        BrokerError::Source(SourceError::Other(_)) => StatusCode::INTERNAL_SERVER_ERROR,
        BrokerError::Source(_) => StatusCode::FORBIDDEN,
        BrokerError::Network(n) if n.kind == NetworkErrorKind::Timeout => {
            StatusCode::GATEWAY_TIMEOUT
        }
        BrokerError::Network(_) => StatusCode::BAD_GATEWAY,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    json_error(status, err.reason(), &err.to_string())
}

async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<ProxyBody>, Infallible> {
    Ok(match route_request(&state, req).await {
        Ok(response) => response,
        Err(response) => response,
    })
}

/// Splits `/NAME/rest` into `NAME` and `/rest`.
fn split_route(path: &str) -> (&str, &str) {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    match trimmed.find('/') {
        Some(i) => (&trimmed[..i], &trimmed[i..]),
        None => (trimmed, "/"),
    }
}

/// The route named by the first path segment, and the rest of the path.
fn find_route<'a>(
    state: &'a State,
    uri: &'a http::Uri,
) -> Result<(&'a Route, &'a str, &'a str), Box<Response<ProxyBody>>> {
    if uri.scheme().is_some() {
        return Err(Box::new(json_error(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "this is not a forward proxy: send requests to http://HOST:PORT/ROUTE/path",
        )));
    }
    let (name, rest) = split_route(uri.path());
    match state.routes.get(name) {
        Some(route) => Ok((route, name, rest)),
        None => {
            let known: Vec<&str> = state.routes.keys().map(String::as_str).collect();
            let message = format!(
                "no route named '{name}'; send requests to /ROUTE/path, routes: {}",
                known.join(", ")
            );
            Err(Box::new(json_error(
                StatusCode::NOT_FOUND,
                "unknown-route",
                &message,
            )))
        }
    }
}

/// The 401 for a missing or wrong token, with the challenge matching the policy's auth.
fn token_refusal() -> BrokerError {
    Refusal::new(
        RefusalReason::ProxyToken,
        "missing or wrong proxy token: send AGENT_VAULT_PROXY_TOKEN where the API key would go (e.g. Authorization: Bearer <token>)",
    )
    .into()
}

fn with_challenge(
    mut response: Response<ProxyBody>,
    auth: Option<&AuthSpec>,
) -> Response<ProxyBody> {
    let challenge = if matches!(auth, Some(AuthSpec::Basic { .. })) {
        "Basic realm=\"agent-vault proxy\""
    } else {
        "Bearer realm=\"agent-vault proxy\""
    };
    response
        .headers_mut()
        .insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
    response
}

async fn route_request(
    state: &State,
    req: Request<Incoming>,
) -> Result<Response<ProxyBody>, Response<ProxyBody>> {
    let (parts, body) = req.into_parts();
    let (route, name, rest) = find_route(state, &parts.uri).map_err(|r| *r)?;
    let broker = &state.broker;
    // The policy says where the token is; reading it decrypts nothing.
    let policy = broker.policy(&route.secret).await;
    let auth = policy
        .as_ref()
        .ok()
        .and_then(Option::as_ref)
        .map(|p| p.auth.clone());
    let mut headers = parts.headers;
    let mut query = parts.uri.query().map(str::to_string);
    let placeholder = BrokerRequest::new(parts.method.clone(), format!("proxy://{name}{rest}"));
    let fail = |err: BrokerError| {
        broker.log_failure(&route.secret, &placeholder, Via::Proxy, &err);
        error_response(&err)
    };
    if !state
        .token
        .take_from(auth.as_ref(), &mut headers, &mut query)
    {
        return Err(with_challenge(fail(token_refusal()), auth.as_ref()));
    }
    let policy = match policy {
        Ok(Some(p)) => p,
        Ok(None) => return Err(fail(no_policy(&route.secret).into())),
        Err(e) => return Err(fail(e.into())),
    };
    let origin = upstream_origin(route, &policy).map_err(|r| fail(r.into()))?;
    let body = read_body(body, broker.config().max_request_bytes)
        .await
        .map_err(fail)?;
    headers.remove(HOST);
    let url = match &query {
        Some(q) => format!("{origin}{rest}?{q}"),
        None => format!("{origin}{rest}"),
    };
    let request = BrokerRequest {
        method: parts.method,
        url,
        headers,
        body,
    };
    let response = broker
        .send(&route.secret, request, Via::Proxy)
        .await
        .map_err(|e| error_response(&e))?;
    Ok(stream_response(response))
}

/// Reads the request body, refusing more than `limit` bytes.
async fn read_body(mut body: Incoming, limit: usize) -> Result<Bytes, BrokerError> {
    let mut out = Vec::new();
    while let Some(frame) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(|e| {
            BrokerError::Network(super::NetworkError::new(
                NetworkErrorKind::Request,
                format!("reading the client's request body failed: {e}"),
            ))
        })?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > limit {
                return Err(Refusal::new(
                    RefusalReason::RequestTooLarge,
                    format!("the request body is larger than the broker's limit of {limit} bytes"),
                )
                .into());
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(out))
}

/// Streams a broker response to the client as its chunks arrive.
fn stream_response(response: super::BrokerResponse) -> Response<ProxyBody> {
    let super::BrokerResponse {
        status,
        headers,
        mut body,
    } = response;
    let (tx, rx) = mpsc::channel(8);
    tokio::spawn(async move {
        loop {
            // Stop as soon as the client goes away, even while upstream is silent.
            let next = tokio::select! {
                next = body.chunk() => next,
                () = tx.closed() => break,
            };
            match next {
                Ok(Some(chunk)) => {
                    if tx.send(Ok(chunk)).await.is_err() {
                        break; // the client went away; dropping `body` logs the audit line
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    break;
                }
            }
        }
    });
    let mut out = Response::new(ProxyBody::Stream(rx));
    *out.status_mut() = status;
    *out.headers_mut() = headers;
    out
}
