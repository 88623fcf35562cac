//! What the caller gets back: the status, the headers that are safe to show, and the body
//! streamed through the redactor, with the audit line written when the body ends.
//!
//! Response headers removed: `Set-Cookie`, `Set-Cookie2`, `Authorization`,
//! `Proxy-Authorization`, `Proxy-Authenticate`, the policy's own header, `Content-Length`
//! (redaction changes the length) and the hop-by-hop headers (`Connection`, `Keep-Alive`, `TE`,
//! `Trailer`, `Transfer-Encoding`, `Upgrade`, `Proxy-Connection`). `WWW-Authenticate` is kept: it
//! is a challenge, not a credential, and tells the caller why upstream said 401. Every remaining
//! header value is redacted like the body (e.g. a `Location` echoing the value).

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode};

use super::audit::{AuditLog, AuditRecord, Outcome};
use super::client::{BrokerError, NetworkError, NetworkErrorKind};
use super::redact::{Redactor, StreamRedactor};

const STRIPPED: &[&str] = &[
    "set-cookie",
    "set-cookie2",
    "authorization",
    "proxy-authorization",
    "proxy-authenticate",
    "content-length",
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "proxy-connection",
];

/// The safe headers of an upstream response (see the module docs).
pub(crate) fn filter_headers(
    upstream: &HeaderMap,
    policy_header: Option<&str>,
    redactor: &Redactor,
) -> HeaderMap {
    let mut out = HeaderMap::with_capacity(upstream.len());
    for (name, value) in upstream {
        let n = name.as_str();
        if STRIPPED.contains(&n) || policy_header == Some(n) {
            continue;
        }
        let value = if redactor.contains_secret(value.as_bytes()) {
            match HeaderValue::from_bytes(&redactor.redact(value.as_bytes())) {
                Ok(v) => v,
                Err(_) => continue,
            }
        } else {
            value.clone()
        };
        out.append(name.clone(), value);
    }
    out
}

/// The response to a brokered request.
#[derive(Debug)]
pub struct BrokerResponse {
    /// Upstream's status.
    pub status: StatusCode,
    /// Upstream's headers, filtered and redacted.
    pub headers: HeaderMap,
    /// The redacted body.
    pub body: ResponseBody,
}

/// An audit line waiting for the body to end; written on drop if the body is abandoned.
pub(crate) struct PendingAudit {
    pub(crate) log: Option<AuditLog>,
    pub(crate) record: Option<AuditRecord>,
}

impl PendingAudit {
    fn write(
        &mut self,
        outcome: Outcome,
        reason: Option<&str>,
        bytes_in: u64,
    ) -> std::io::Result<()> {
        let (Some(log), Some(mut record)) = (self.log.as_ref(), self.record.take()) else {
            return Ok(());
        };
        record.outcome = outcome;
        record.reason = reason.map(str::to_string);
        record.bytes_in = bytes_in;
        log.append(&record)
    }
}

/// The body of a [`BrokerResponse`]: upstream's bytes with every form of the secret replaced by
/// `[redacted:PATH]`, delivered as they arrive.
pub struct ResponseBody {
    upstream: Option<reqwest::Response>,
    redactor: StreamRedactor,
    received: u64,
    cap: u64,
    audit: PendingAudit,
    audit_error: Option<std::io::Error>,
    finished: bool,
}

impl std::fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseBody")
            .field("received", &self.received)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl ResponseBody {
    pub(crate) fn new(
        upstream: reqwest::Response,
        redactor: &Arc<Redactor>,
        cap: u64,
        audit: PendingAudit,
    ) -> ResponseBody {
        ResponseBody {
            upstream: Some(upstream),
            redactor: redactor.stream(),
            received: 0,
            cap,
            audit,
            audit_error: None,
            finished: false,
        }
    }

    /// The next redacted chunk, `None` at the end. The audit line is written when the end is
    /// reached (an error writing it is returned instead of the end), on an error, or when the
    /// body is dropped before its end (`reason: body-not-read-to-end`).
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, BrokerError> {
        loop {
            if self.finished {
                return match self.audit_error.take() {
                    Some(e) => Err(BrokerError::Audit(e)),
                    None => Ok(None),
                };
            }
            let Some(upstream) = self.upstream.as_mut() else {
                return Ok(None);
            };
            match upstream.chunk().await {
                Ok(Some(data)) => {
                    self.received += data.len() as u64;
                    if self.received > self.cap {
                        let message = format!(
                            "the response is larger than the broker's limit of {} bytes",
                            self.cap
                        );
                        return Err(self.fail(NetworkError::new(
                            NetworkErrorKind::ResponseTooLarge,
                            message,
                        )));
                    }
                    let out = self.redactor.push(&data);
                    if !out.is_empty() {
                        return Ok(Some(Bytes::from(out)));
                    }
                }
                Ok(None) => {
                    self.finished = true;
                    self.upstream = None;
                    let out = self.redactor.finish();
                    let written = self.audit.write(Outcome::Sent, None, self.received);
                    if out.is_empty() {
                        written.map_err(BrokerError::Audit)?;
                        return Ok(None);
                    }
                    // Deliver the last bytes first; a failed audit write is the next answer.
                    self.audit_error = written.err();
                    return Ok(Some(Bytes::from(out)));
                }
                Err(e) => {
                    let err = NetworkError::from_reqwest(e, "upstream");
                    let err = NetworkError::new(NetworkErrorKind::ResponseBody, err.message);
                    return Err(self.fail(err));
                }
            }
        }
    }

    fn fail(&mut self, err: NetworkError) -> BrokerError {
        self.finished = true;
        self.upstream = None;
        // The network error is the one to report; a failing audit write is secondary here.
        let _ = self
            .audit
            .write(Outcome::Error, Some(err.kind.as_str()), self.received);
        BrokerError::Network(err)
    }

    /// The whole redacted body, refusing more than `limit` bytes of it (for callers that do
    /// not stream).
    pub async fn collect(mut self, limit: usize) -> Result<Vec<u8>, BrokerError> {
        let mut out = Vec::new();
        while let Some(chunk) = self.chunk().await? {
            if out.len() + chunk.len() > limit {
                let message = format!("the response is larger than {limit} bytes");
                return Err(self.fail(NetworkError::new(
                    NetworkErrorKind::ResponseTooLarge,
                    message,
                )));
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }

    /// Response body bytes received from upstream so far (before redaction).
    pub fn bytes_received(&self) -> u64 {
        self.received
    }
}

impl Drop for ResponseBody {
    fn drop(&mut self) {
        if !self.finished {
            let _ = self
                .audit
                .write(Outcome::Sent, Some("body-not-read-to-end"), self.received);
        }
    }
}
