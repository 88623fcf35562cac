//! The [`Broker`] facade: decide → obtain the value → inject → send → filter and redact
//! (streaming) → audit, for one credential source.
//!
//! Redirects are never followed automatically. A redirect to the **same origin** (scheme, host,
//! port) is followed with the credential, at most [`BrokerConfig::max_redirects`] times, after
//! deciding again on the new URL (its path must still lie under the policy's prefixes); 301/302
//! turn a POST into a GET and 303 anything but HEAD into a GET (without body), 307/308 keep
//! method and body. A redirect to **another origin** is not followed at all, with or without
//! the credential: it is a [`RefusalReason::RedirectOffOrigin`] refusal whose message names the
//! target (redacted), so the caller can fetch it itself if it trusts it. The audit line then
//! says `refused` with upstream's 3xx status.

use std::sync::Arc;

use http::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, LOCATION};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use secrecy::ExposeSecret;
use url::Url;

use super::audit::{AuditLog, AuditRecord, Outcome, Via};
use super::client::{BrokerConfig, BrokerError, NetworkError, NetworkErrorKind, build_client};
use super::decide::{self, BrokerRequest, Decision, check_target, forwarded_headers};
use super::inject::Injection;
use super::policy::{AuthSpec, UsePolicy};
use super::redact::Redactor;
use super::refusal::{Refusal, RefusalReason};
use super::response::{BrokerResponse, PendingAudit, ResponseBody, filter_headers};
use super::source::{Credential, CredentialSource, SourceError};

/// Makes requests with the secrets of one [`CredentialSource`]. Cheap to share (`Arc`); all
/// methods take `&self`. Must be used inside a tokio runtime; creating it needs none.
pub struct Broker {
    source: Arc<dyn CredentialSource>,
    client: reqwest::Client,
    config: BrokerConfig,
    audit: Option<AuditLog>,
}

/// Who asked what, for the audit line.
struct Ctx {
    actor: String,
    secret: String,
    method: String,
    host: String,
    path: String,
    via: Via,
    bytes_out: u64,
}

impl Broker {
    /// A broker over `source`. Loads the trusted roots and opens (creates `0600`) the audit log.
    pub fn new(
        source: Arc<dyn CredentialSource>,
        config: BrokerConfig,
    ) -> Result<Broker, BrokerError> {
        let client = build_client(&config)?;
        let audit = match &config.audit_log {
            Some(path) => Some(AuditLog::open(path).map_err(BrokerError::Audit)?),
            None => None,
        };
        Ok(Broker {
            source,
            client,
            config,
            audit,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &BrokerConfig {
        &self.config
    }

    /// The policy of `secret`, from a blocking thread (no decryption).
    pub async fn policy(&self, secret: &str) -> Result<Option<UsePolicy>, SourceError> {
        let source = Arc::clone(&self.source);
        let secret = secret.to_string();
        blocking(move || source.policy(&secret)).await
    }

    async fn credential(&self, secret: &str) -> Result<Credential, SourceError> {
        let source = Arc::clone(&self.source);
        let secret = secret.to_string();
        blocking(move || source.credential(&secret)).await
    }

    /// Makes `request` with `secret`: see the module docs. A [`BrokerError::Refused`] or a
    /// source error means nothing was decrypted (policy refusals) and nothing was sent.
    pub async fn send(
        &self,
        secret: &str,
        request: BrokerRequest,
        via: Via,
    ) -> Result<BrokerResponse, BrokerError> {
        let ctx = self.context(secret, &request, via);
        match self.run(&ctx, request).await {
            Ok(response) => Ok(response),
            Err((err, status)) => {
                let outcome = outcome_of(&err);
                // Bytes went out once upstream answered, or on a network error.
                let sent = status.is_some() || matches!(err, BrokerError::Network(_));
                let bytes_out = if sent { ctx.bytes_out } else { 0 };
                // The original error is the one to report if the audit write fails too.
                let _ = self.log(&ctx, outcome, status, Some(err.reason()), bytes_out);
                Err(err)
            }
        }
    }

    /// Logs a failure decided outside [`send`](Broker::send) (the proxy's token check, route
    /// and body-size refusals), so that every decision is in the audit log.
    pub(crate) fn log_failure(
        &self,
        secret: &str,
        request: &BrokerRequest,
        via: Via,
        err: &BrokerError,
    ) {
        let ctx = self.context(secret, request, via);
        let outcome = outcome_of(err);
        let _ = self.log(&ctx, outcome, None, Some(err.reason()), 0);
    }

    fn context(&self, secret: &str, request: &BrokerRequest, via: Via) -> Ctx {
        let (host, path) = match Url::parse(&request.url) {
            Ok(u) => {
                let host = match (u.host_str(), u.port()) {
                    (Some(h), Some(p)) => format!("{h}:{p}"),
                    (Some(h), None) => h.to_string(),
                    _ => String::new(),
                };
                (host, decide::raw_path(&request.url).to_string())
            }
            Err(_) => (String::new(), String::new()),
        };
        Ctx {
            actor: self.source.actor(),
            secret: secret.to_string(),
            method: request.method.to_string(),
            host,
            path,
            via,
            bytes_out: request.body.len() as u64,
        }
    }

    fn record(&self, ctx: &Ctx, outcome: Outcome, status: Option<u16>) -> AuditRecord {
        AuditRecord {
            time: chrono::Utc::now(),
            actor: ctx.actor.clone(),
            secret: ctx.secret.clone(),
            method: ctx.method.clone(),
            host: ctx.host.clone(),
            path: ctx.path.clone(),
            outcome,
            status,
            reason: None,
            bytes_in: 0,
            bytes_out: ctx.bytes_out,
            via: ctx.via,
        }
    }

    fn log(
        &self,
        ctx: &Ctx,
        outcome: Outcome,
        status: Option<u16>,
        reason: Option<&str>,
        bytes_out: u64,
    ) -> std::io::Result<()> {
        let Some(log) = &self.audit else {
            return Ok(());
        };
        let mut record = self.record(ctx, outcome, status);
        record.reason = reason.map(str::to_string);
        record.bytes_out = bytes_out;
        log.append(&record)
    }

    /// The pipeline; errors carry upstream's status when it had answered.
    async fn run(
        &self,
        ctx: &Ctx,
        request: BrokerRequest,
    ) -> Result<BrokerResponse, (BrokerError, Option<u16>)> {
        let secret = ctx.secret.as_str();
        let no_status = |e: BrokerError| (e, None);
        let policy = self
            .policy(secret)
            .await
            .map_err(|e| no_status(e.into()))?
            .ok_or_else(|| no_status(no_policy(secret).into()))?;
        if request.body.len() > self.config.max_request_bytes {
            let message = format!(
                "the request body is {} bytes, more than the broker's limit of {}",
                request.body.len(),
                self.config.max_request_bytes
            );
            return Err(no_status(
                Refusal::new(RefusalReason::RequestTooLarge, message).into(),
            ));
        }
        let mut decision =
            decide::decide(secret, &policy, &request).map_err(|e| no_status(e.into()))?;
        let credential = self
            .credential(secret)
            .await
            .map_err(|e| no_status(e.into()))?;
        let policy = match credential.policy {
            None => return Err(no_status(no_policy(secret).into())),
            Some(p) if p != policy => {
                // The vault changed between the two calls: decide again with what came with the value.
                decision = decide::decide(secret, &p, &request).map_err(|e| no_status(e.into()))?;
                p
            }
            Some(p) => p,
        };
        let value = credential.value.expose_secret();
        let injection =
            Injection::new(secret, &policy.auth, value).map_err(|e| no_status(e.into()))?;
        let basic_user = match &policy.auth {
            AuthSpec::Basic { user } => Some(user.as_str()),
            _ => None,
        };
        let redactor = Arc::new(Redactor::new(secret, value, basic_user));
        drop(credential.value);
        let mut headers = forwarded_headers(&request.headers);
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("identity"));
        let upstream = self
            .send_following(
                ctx, &policy, &injection, &redactor, decision, request, headers,
            )
            .await?;
        self.respond(ctx, &policy, &redactor, upstream)
    }

    /// Sends, following same-origin redirects (see the module docs).
    #[allow(clippy::too_many_arguments)]
    async fn send_following(
        &self,
        ctx: &Ctx,
        policy: &UsePolicy,
        injection: &Injection,
        redactor: &Redactor,
        mut decision: Decision,
        request: BrokerRequest,
        mut headers: HeaderMap,
    ) -> Result<reqwest::Response, (BrokerError, Option<u16>)> {
        let secret = ctx.secret.as_str();
        let mut method = request.method;
        let mut body = request.body;
        let mut hop = 0;
        loop {
            let mut url = decision.url.clone();
            let mut outgoing = headers.clone();
            injection.apply(&mut url, &mut outgoing);
            let mut builder = self.client.request(method.clone(), url).headers(outgoing);
            if !body.is_empty() || !matches!(method, Method::GET | Method::HEAD) {
                builder = builder.body(body.clone());
            }
            let response = builder
                .send()
                .await
                .map_err(|e| (NetworkError::from_reqwest(e, &decision.host).into(), None))?;
            let status = response.status();
            let location = response.headers().get(LOCATION).cloned();
            let Some(location) = location.filter(|_| is_followed_redirect(status)) else {
                return Ok(response);
            };
            let code = Some(status.as_u16());
            let next = redirect_target(secret, redactor, &decision.url, &location, status)
                .map_err(|r| (r.into(), code))?;
            if hop >= self.config.max_redirects {
                let message = format!(
                    "upstream redirected more than {} times; not followed further",
                    self.config.max_redirects
                );
                return Err((
                    Refusal::new(RefusalReason::TooManyRedirects, message).into(),
                    code,
                ));
            }
            if matches!(status.as_u16(), 301 | 302) && method == Method::POST
                || status == StatusCode::SEE_OTHER && method != Method::HEAD
            {
                method = Method::GET;
                body = bytes::Bytes::new();
                headers.remove(CONTENT_TYPE);
            }
            decision = check_target(secret, policy, method.as_str(), &next)
                .map_err(|r| (r.into(), code))?;
            hop += 1;
        }
    }

    /// Checks the response head and wraps the body.
    fn respond(
        &self,
        ctx: &Ctx,
        policy: &UsePolicy,
        redactor: &Arc<Redactor>,
        upstream: reqwest::Response,
    ) -> Result<BrokerResponse, (BrokerError, Option<u16>)> {
        let status = upstream.status();
        if let Some(enc) = upstream.headers().get(CONTENT_ENCODING)
            && !enc.as_bytes().eq_ignore_ascii_case(b"identity")
        {
            let message = "upstream compressed the response although the broker asked for none; a compressed body cannot be redacted, so it is not returned";
            let err = NetworkError::new(NetworkErrorKind::ResponseEncoding, message);
            return Err((err.into(), Some(status.as_u16())));
        }
        let own = policy.auth.header_name();
        let headers = filter_headers(upstream.headers(), own.as_deref(), redactor);
        let audit = PendingAudit {
            log: self.audit.clone(),
            record: Some(self.record(ctx, Outcome::Sent, Some(status.as_u16()))),
        };
        let body = ResponseBody::new(upstream, redactor, self.config.max_response_bytes, audit);
        Ok(BrokerResponse {
            status,
            headers,
            body,
        })
    }
}

pub(crate) fn no_policy(secret: &str) -> Refusal {
    Refusal::new(
        RefusalReason::NoPolicy,
        format!(
            "'{secret}' has no use policy, so the broker will not use it; the vault owner can add one with `agent-vault policy {secret} --host HOST --auth SPEC` (or --preset NAME)"
        ),
    )
}

/// `refused` for refusals and for source answers that are a "no" (not found, access denied,
/// integrity); `error` for everything else.
fn outcome_of(err: &BrokerError) -> Outcome {
    match err {
        BrokerError::Refused(_) => Outcome::Refused,
        BrokerError::Source(SourceError::Other(_)) => Outcome::Error,
        BrokerError::Source(_) => Outcome::Refused,
        _ => Outcome::Error,
    }
}

fn is_followed_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// The absolute URL a redirect points to, refusing another origin and dot segments.
fn redirect_target(
    secret: &str,
    redactor: &Redactor,
    from: &Url,
    location: &HeaderValue,
    status: StatusCode,
) -> Result<String, Refusal> {
    let bad = || {
        Refusal::new(
            RefusalReason::BadUrl,
            format!("upstream answered {status} with a Location the broker cannot follow"),
        )
    };
    let raw = location.to_str().map_err(|_| bad())?;
    let next = from.join(raw).map_err(|_| bad())?;
    let same_origin = next.scheme() == from.scheme()
        && next.host() == from.host()
        && next.port_or_known_default() == from.port_or_known_default();
    if !same_origin {
        let shown =
            String::from_utf8_lossy(&redactor.redact(next.as_str().as_bytes())).into_owned();
        return Err(Refusal::new(
            RefusalReason::RedirectOffOrigin,
            format!(
                "upstream answered {status}, redirecting to another origin ({shown}); the broker does not follow redirects away from the origin it sent the credential of '{secret}' to. Fetch that URL without the credential yourself if you trust it"
            ),
        ));
    }
    // Dot segments in the Location itself are refused, as in a caller's URL.
    let raw_path = if raw.contains("://") {
        decide::raw_path(raw)
    } else {
        raw.split(['?', '#']).next().unwrap_or("")
    };
    decide::path_segments(&format!("/{}", raw_path.trim_start_matches('/')))?;
    Ok(next.to_string())
}

/// Runs a source call on tokio's blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SourceError> + Send + 'static,
) -> Result<T, SourceError> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|_| {
        Err(SourceError::Other(
            "the credential source failed (it panicked)".into(),
        ))
    })
}
