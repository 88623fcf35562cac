//! The outgoing HTTP client: configuration, trusted roots, and the typed errors of the network.
//!
//! The client is `reqwest` over rustls (ring), HTTP/1.1 and HTTP/2, with:
//! * roots from [`BrokerConfig`] only: the system store (via `rustls-native-certs`, which itself
//!   follows the platform convention of honouring `SSL_CERT_FILE`/`SSL_CERT_DIR`) and/or extra
//!   PEM certificates the caller passes in. The broker reads no environment variable itself;
//! * no proxy (`HTTP_PROXY` and friends are ignored: a proxy would see plain-http credentials),
//!   no automatic redirects, no `Referer`, no decompression (the broker asks for `identity`);
//! * `localhost` resolved to 127.0.0.1 and ::1 without DNS, so plain http to `localhost` never
//!   leaves the machine;
//! * connect, idle-read and overall timeouts.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use super::refusal::Refusal;
use super::source::SourceError;

/// How the broker sends requests and where it logs. `Default` gives the documented defaults.
#[derive(Debug, Clone)]
pub struct BrokerConfig {
    /// Time to establish a connection (TCP and TLS). Default 10 s.
    pub connect_timeout: Duration,
    /// Longest silence while reading a response (between chunks of a stream). Default 120 s.
    pub read_timeout: Duration,
    /// Longest a whole request may take, body included. Default 15 min (LLM streams are long).
    pub timeout: Duration,
    /// Largest response body accepted from upstream, before redaction. Default 64 MiB.
    pub max_response_bytes: u64,
    /// Largest request body accepted from the caller. Default 32 MiB.
    pub max_request_bytes: usize,
    /// Same-origin redirects followed before refusing (`too-many-redirects`). Default 5.
    pub max_redirects: usize,
    /// Trust the system's root certificates. Default true.
    pub system_roots: bool,
    /// Extra trusted roots, PEM (one or more `CERTIFICATE` blocks); the CLI passes the content
    /// of `SSL_CERT_FILE` here.
    pub extra_roots_pem: Vec<u8>,
    /// Where to append the audit log; `None` logs nothing.
    pub audit_log: Option<PathBuf>,
    /// The `User-Agent` sent when the caller sends none.
    pub user_agent: String,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        BrokerConfig {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(120),
            timeout: Duration::from_secs(15 * 60),
            max_response_bytes: 64 * 1024 * 1024,
            max_request_bytes: 32 * 1024 * 1024,
            max_redirects: 5,
            system_roots: true,
            extra_roots_pem: Vec::new(),
            audit_log: None,
            user_agent: concat!("agent-vault/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
}

/// Which network failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NetworkErrorKind {
    /// No connection (refused, unreachable, DNS, TLS handshake or certificate).
    Connect,
    /// A timeout elapsed.
    Timeout,
    /// Any other failure sending the request or reading the response head.
    Request,
    /// The response body broke off.
    ResponseBody,
    /// The response body exceeded [`BrokerConfig::max_response_bytes`].
    ResponseTooLarge,
    /// The response is compressed although `identity` was asked: it cannot be redacted, so it
    /// is not returned.
    ResponseEncoding,
}

impl NetworkErrorKind {
    /// The reason written in the audit log.
    pub fn as_str(&self) -> &'static str {
        match self {
            NetworkErrorKind::Connect => "connect",
            NetworkErrorKind::Timeout => "timeout",
            NetworkErrorKind::Request => "network",
            NetworkErrorKind::ResponseBody => "response-body",
            NetworkErrorKind::ResponseTooLarge => "response-too-large",
            NetworkErrorKind::ResponseEncoding => "response-encoding",
        }
    }
}

/// A failure talking to upstream (distinct from a [`Refusal`]). The message never holds the
/// URL's query string or any header value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct NetworkError {
    /// Which failure.
    pub kind: NetworkErrorKind,
    /// What happened, for people.
    pub message: String,
}

impl NetworkError {
    pub(crate) fn new(kind: NetworkErrorKind, message: impl Into<String>) -> NetworkError {
        NetworkError {
            kind,
            message: message.into(),
        }
    }

    /// From a reqwest error, with the URL (which may hold a query credential) removed.
    pub(crate) fn from_reqwest(err: reqwest::Error, host: &str) -> NetworkError {
        let kind = if err.is_timeout() {
            NetworkErrorKind::Timeout
        } else if err.is_connect() {
            NetworkErrorKind::Connect
        } else if err.is_body() || err.is_decode() {
            NetworkErrorKind::ResponseBody
        } else {
            NetworkErrorKind::Request
        };
        let err = err.without_url();
        let mut message = format!("request to {host} failed: {err}");
        let mut source = std::error::Error::source(&err);
        while let Some(s) = source {
            message.push_str(": ");
            message.push_str(&s.to_string());
            source = s.source();
        }
        NetworkError { kind, message }
    }
}

/// Everything [`Broker::send`](super::Broker::send) can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BrokerError {
    /// The request was refused (CLI exit 4, proxy 403).
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The credential source failed (CLI exit 3/4/5/1 by variant).
    #[error(transparent)]
    Source(#[from] SourceError),
    /// Talking to upstream failed (CLI exit 1, proxy 502).
    #[error(transparent)]
    Network(#[from] NetworkError),
    /// The audit log could not be written.
    #[error("cannot write the audit log: {0}")]
    Audit(#[source] std::io::Error),
    /// The configuration is unusable (bad PEM, no roots).
    #[error("broker configuration: {0}")]
    Config(String),
}

impl BrokerError {
    /// The reason as written in the audit log and the proxy's JSON errors.
    pub fn reason(&self) -> &'static str {
        match self {
            BrokerError::Refused(r) => r.reason.as_str(),
            BrokerError::Source(s) => s.reason(),
            BrokerError::Network(n) => n.kind.as_str(),
            BrokerError::Audit(_) => "audit",
            BrokerError::Config(_) => "config",
        }
    }
}

/// The trusted roots of `config`; an error when there are none or a PEM block is unreadable.
fn root_store(config: &BrokerConfig) -> Result<rustls::RootCertStore, BrokerError> {
    let mut roots = rustls::RootCertStore::empty();
    if config.system_roots {
        // Unreadable system certificates are skipped, as every TLS stack does.
        let native = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(native.certs);
    }
    if !config.extra_roots_pem.is_empty() {
        let mut added = 0usize;
        for cert in CertificateDer::pem_slice_iter(&config.extra_roots_pem) {
            let cert = cert.map_err(|e| {
                BrokerError::Config(format!("cannot read the extra root certificates: {e}"))
            })?;
            roots.add(cert).map_err(|e| {
                BrokerError::Config(format!("an extra root certificate is invalid: {e}"))
            })?;
            added += 1;
        }
        if added == 0 {
            return Err(BrokerError::Config(
                "the extra root certificates hold no PEM CERTIFICATE block".into(),
            ));
        }
    }
    if roots.is_empty() {
        return Err(BrokerError::Config(
            "no trusted root certificates: install the system CA bundle or pass PEM certificates"
                .into(),
        ));
    }
    Ok(roots)
}

/// The reqwest client for `config`. Needs no runtime; cheap to clone.
pub(crate) fn build_client(config: &BrokerConfig) -> Result<reqwest::Client, BrokerError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| BrokerError::Config(format!("TLS setup failed: {e}")))?
        .with_root_certificates(root_store(config)?)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let loopback = [
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        SocketAddr::from((Ipv6Addr::LOCALHOST, 0)),
    ];
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .referer(false)
        .connect_timeout(config.connect_timeout)
        .read_timeout(config.read_timeout)
        .timeout(config.timeout)
        .user_agent(config.user_agent.clone())
        .resolve_to_addrs("localhost", &loopback)
        .build()
        .map_err(|e| BrokerError::Config(format!("cannot build the HTTP client: {e}")))
}
