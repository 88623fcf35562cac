//! Test fixtures for the broker: an in-memory credential source and local HTTP/HTTPS servers
//! (a test CA made with rcgen) that record exactly what they receive.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::poll_fn;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use agent_vault::broker::{
    Broker, BrokerConfig, Credential, CredentialSource, SourceError, UsePolicy,
};
use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body::{Body, Frame};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use secrecy::SecretSlice;
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc};

/// One secret in the in-memory source.
pub enum Entry {
    Value {
        policy: Option<UsePolicy>,
        value: Vec<u8>,
    },
    Fails(SourceError),
}

/// A `CredentialSource` over a map, counting how often a value was handed out.
pub struct MemSource {
    pub entries: Mutex<HashMap<String, Entry>>,
    pub decrypts: AtomicUsize,
}

impl MemSource {
    pub fn new() -> Arc<MemSource> {
        Arc::new(MemSource {
            entries: Mutex::new(HashMap::new()),
            decrypts: AtomicUsize::new(0),
        })
    }

    pub fn put(&self, path: &str, policy_yaml: Option<&str>, value: &[u8]) {
        let policy = policy_yaml.map(|y| serde_yaml::from_str(y).expect("test policy"));
        self.entries.lock().unwrap().insert(
            path.to_string(),
            Entry::Value {
                policy,
                value: value.to_vec(),
            },
        );
    }

    pub fn fail(&self, path: &str, err: SourceError) {
        self.entries
            .lock()
            .unwrap()
            .insert(path.to_string(), Entry::Fails(err));
    }

    pub fn decrypts(&self) -> usize {
        self.decrypts.load(Ordering::SeqCst)
    }
}

impl CredentialSource for MemSource {
    fn policy(&self, secret: &str) -> Result<Option<UsePolicy>, SourceError> {
        match self.entries.lock().unwrap().get(secret) {
            None => Err(SourceError::NotFound(format!(
                "secret '{secret}' not found"
            ))),
            Some(Entry::Fails(e)) => Err(e.clone()),
            Some(Entry::Value { policy, .. }) => Ok(policy.clone()),
        }
    }

    fn credential(&self, secret: &str) -> Result<Credential, SourceError> {
        self.decrypts.fetch_add(1, Ordering::SeqCst);
        match self.entries.lock().unwrap().get(secret) {
            None => Err(SourceError::NotFound(format!(
                "secret '{secret}' not found"
            ))),
            Some(Entry::Fails(e)) => Err(e.clone()),
            Some(Entry::Value { policy, value }) => Ok(Credential {
                value: SecretSlice::from(value.clone()),
                policy: policy.clone(),
            }),
        }
    }

    fn actor(&self) -> String {
        "agent:test-bot".to_string()
    }
}

/// What a test server received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path and query, exactly as received.
    pub uri: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// What a test server answers.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub chunks: Vec<Vec<u8>>,
    /// When set, the last chunk waits for this to be notified.
    pub gate: Option<Arc<Notify>>,
}

impl Reply {
    pub fn ok(body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status: 200,
            headers: Vec::new(),
            chunks: vec![body.into()],
            gate: None,
        }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }
}

pub type Handler = Arc<dyn Fn(&Recorded) -> Reply + Send + Sync>;

/// A local server recording every request.
pub struct TestServer {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Recorded>>>,
    /// The test CA's certificate (PEM), for HTTPS servers.
    pub ca_pem: Option<String>,
    tls: bool,
}

impl TestServer {
    pub async fn http(handler: Handler) -> TestServer {
        Self::start(handler, None).await
    }

    /// An HTTPS server for `localhost` and 127.0.0.1 with a certificate from a fresh test CA.
    pub async fn https(handler: Handler) -> TestServer {
        let (config, ca_pem) = tls_config();
        let mut server = Self::start(handler, Some(config)).await;
        server.ca_pem = Some(ca_pem);
        server
    }

    async fn start(handler: Handler, tls: Option<Arc<rustls::ServerConfig>>) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let server = TestServer {
            addr,
            seen: Arc::clone(&seen),
            ca_pem: None,
            tls: tls.is_some(),
        };
        let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let (handler, seen, acceptor) =
                    (Arc::clone(&handler), Arc::clone(&seen), acceptor.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        serve(Arc::clone(&handler), Arc::clone(&seen), req)
                    });
                    let builder =
                        hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                    match acceptor {
                        Some(acceptor) => {
                            if let Ok(tls) = acceptor.accept(stream).await {
                                let _ = builder.serve_connection(TokioIo::new(tls), service).await;
                            }
                        }
                        None => {
                            let _ = builder
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        }
                    }
                });
            }
        });
        server
    }

    /// `http://127.0.0.1:PORT` or `https://localhost:PORT`.
    pub fn origin(&self) -> String {
        if self.tls {
            format!("https://localhost:{}", self.addr.port())
        } else {
            format!("http://127.0.0.1:{}", self.addr.port())
        }
    }

    /// `localhost:PORT` / `127.0.0.1:PORT`, for policies.
    pub fn host_rule(&self) -> String {
        self.origin().split("://").nth(1).unwrap().to_string()
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.seen.lock().unwrap().clone()
    }
}

async fn serve(
    handler: Handler,
    seen: Arc<Mutex<Vec<Recorded>>>,
    req: Request<Incoming>,
) -> Result<Response<ChunkBody>, Infallible> {
    let (parts, mut body) = req.into_parts();
    let mut data = Vec::new();
    while let Some(Ok(frame)) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        if let Ok(chunk) = frame.into_data() {
            data.extend_from_slice(&chunk);
        }
    }
    let recorded = Recorded {
        method: parts.method.to_string(),
        uri: parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default(),
        headers: parts.headers,
        body: data,
    };
    seen.lock().unwrap().push(recorded.clone());
    let reply = handler(&recorded);
    let (tx, rx) = mpsc::channel(16);
    let mut response = Response::new(ChunkBody(rx));
    *response.status_mut() = http::StatusCode::from_u16(reply.status).unwrap();
    for (name, value) in &reply.headers {
        response
            .headers_mut()
            .append(*name, http::HeaderValue::from_str(value).unwrap());
    }
    tokio::spawn(async move {
        let last = reply.chunks.len().saturating_sub(1);
        for (i, chunk) in reply.chunks.into_iter().enumerate() {
            if i == last
                && i > 0
                && let Some(gate) = &reply.gate
            {
                gate.notified().await;
            } else if i > 0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            if tx.send(Bytes::from(chunk)).await.is_err() {
                break;
            }
        }
    });
    Ok(response)
}

/// A streamed response body fed by the reply task.
pub struct ChunkBody(mpsc::Receiver<Bytes>);

impl Body for ChunkBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.get_mut()
            .0
            .poll_recv(cx)
            .map(|o| o.map(|b| Ok(Frame::data(b))))
    }
}

/// A server config for `localhost`/127.0.0.1 signed by a fresh CA, and the CA's PEM.
fn tls_config() -> (Arc<rustls::ServerConfig>, String) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "agent-vault test CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf_params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone()], key)
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    (Arc::new(config), ca_cert.pem())
}

/// A broker over `source` trusting only `ca_pem` (if any), logging to `audit`.
pub fn broker(source: Arc<MemSource>, ca_pem: Option<&str>, audit: &std::path::Path) -> Broker {
    // Only test roots: the tests must not depend on the machine's CA bundle.
    let pem = match ca_pem {
        Some(pem) => pem.to_string(),
        None => tls_config().1,
    };
    let config = BrokerConfig {
        system_roots: false,
        extra_roots_pem: pem.into_bytes(),
        audit_log: Some(audit.to_path_buf()),
        connect_timeout: Duration::from_secs(5),
        read_timeout: Duration::from_secs(10),
        timeout: Duration::from_secs(20),
        ..BrokerConfig::default()
    };
    Broker::new(source, config).expect("broker")
}

/// A port on 127.0.0.1 with nothing listening.
pub async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    port
}
