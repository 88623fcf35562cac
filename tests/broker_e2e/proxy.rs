//! The proxy server end to end: token checks before anything is decrypted, the real credential
//! injected upstream, refusals as JSON, streaming, shutdown, the audit log.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use agent_vault::broker::{AuditFilter, Outcome, Proxy, ProxyConfig, Route, Via, read_audit};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::SecretString;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;

use super::VALUE;
use super::support::{MemSource, Recorded, Reply, TestServer, broker, closed_port};

const TOKEN: &str = "proxy-token-0123456789";

/// Answers with what it received, so a leaked value would show in the body.
fn echo_auth(r: &Recorded) -> Reply {
    let show = |name: &str| {
        r.headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default()
    };
    Reply::ok(format!(
        "uri={} authorization={} x-api-key={}",
        r.uri,
        show("authorization"),
        show("x-api-key")
    ))
    .header("set-cookie", "s=1")
}

async fn raw_request(addr: std::net::SocketAddr, head: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).await.unwrap();
    out
}

/// A running proxy in front of an HTTPS echo server and an SSE server, with its source.
struct Fixture {
    server: TestServer,
    plain: TestServer,
    gate: Arc<Notify>,
    source: Arc<MemSource>,
    audit: PathBuf,
    _dir: tempfile::TempDir,
    addr: SocketAddr,
    base: String,
    client: reqwest::Client,
    bearer: String,
    stop: tokio::sync::oneshot::Sender<()>,
    served: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Fixture {
    fn audit(&self) -> Vec<agent_vault::broker::AuditRecord> {
        read_audit(&self.audit, &AuditFilter::default())
            .unwrap()
            .records
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client
            .get(format!("{}{path}", self.base))
            .header("authorization", &self.bearer)
    }
}

/// Secrets (one per auth kind, plus the odd cases) and the routes to them.
fn secrets_and_routes(
    source: &MemSource,
    host: &str,
    sse: &TestServer,
    plain: &TestServer,
    down: u16,
) -> BTreeMap<String, Route> {
    let put = |path: &str, hosts: &str, auth: &str| {
        let yaml = format!("hosts: [{hosts}]\nauth: \"{auth}\"\npath_prefixes: [/v1]\n");
        source.put(path, Some(&yaml), VALUE.as_bytes());
    };
    put("openai/key", &format!("'{host}'"), "bearer");
    put("anthropic/key", &format!("'{host}'"), "header:x-api-key");
    put("q/key", &format!("'{host}'"), "query:key");
    put("b/key", &format!("'{host}'"), "basic:u");
    put("multi/key", &format!("'{host}', '*.example.com'"), "bearer");
    put("down/key", &format!("'127.0.0.1:{down}'"), "bearer");
    put("sse/key", &format!("'{}'", sse.host_rule()), "bearer");
    source.put("none/key", None, VALUE.as_bytes());
    let get_only =
        format!("hosts: ['{host}']\nauth: bearer\nmethods: [GET]\npath_prefixes: [/v1]\n");
    source.put("get/key", Some(&get_only), VALUE.as_bytes());
    // 0.0.0.0 is not loopback, yet a connection to it reaches the plain server on 127.0.0.1.
    let open = format!("0.0.0.0:{}", plain.addr.port());
    put("plain/key", &format!("'{open}'"), "bearer");
    let specs = [
        "openai=openai/key".to_string(),
        "anthropic=anthropic/key".to_string(),
        "q=q/key".to_string(),
        "b=b/key".to_string(),
        format!("multi=multi/key@{host}"),
        "nohost=multi/key".to_string(),
        format!("down=down/key@http://127.0.0.1:{down}"),
        format!("sse=sse/key@{}", sse.origin()),
        "none=none/key".to_string(),
        "get=get/key".to_string(),
        format!("plain=plain/key@http://{open}"),
    ];
    specs
        .iter()
        .map(|spec| Route::parse_spec(spec).unwrap())
        .collect()
}

async fn fixture() -> Fixture {
    // The test's own client (not the broker's) uses rustls' process-wide provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    // A plain-http server on 127.0.0.1 that must receive nothing: the target of the echo
    // server's off-origin redirect and of the plain-http route (no certificate stands in the
    // way, so a request wrongly sent there is recorded).
    let plain = TestServer::http(Arc::new(|_: &Recorded| Reply::ok("plain"))).await;
    let steal = format!("{}/steal", plain.origin());
    let server = TestServer::https(Arc::new(move |r: &Recorded| {
        if r.uri == "/v1/redirect" {
            let found = Reply {
                status: 302,
                ..Reply::ok("")
            };
            return found.header("location", steal.clone());
        }
        echo_auth(r)
    }))
    .await;
    let gate = Arc::new(Notify::new());
    let g = Arc::clone(&gate);
    let sse = TestServer::http(Arc::new(move |_: &Recorded| Reply {
        status: 200,
        headers: vec![("content-type", "text/event-stream".into())],
        chunks: vec![b"data: 1\n\n".to_vec(), b"data: 2\n\n".to_vec()],
        gate: Some(Arc::clone(&g)),
    }))
    .await;
    let source = MemSource::new();
    let host = server.host_rule();
    let routes = secrets_and_routes(&source, &host, &sse, &plain, closed_port().await);
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let broker = Arc::new(broker(
        Arc::clone(&source),
        server.ca_pem.as_deref(),
        &audit,
    ));
    let listen = "127.0.0.1:0".parse().unwrap();
    let config = ProxyConfig::new(listen, SecretString::from(TOKEN), routes);
    let proxy = Proxy::bind(broker, config).await.unwrap();
    let addr = proxy.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(proxy.serve(async {
        let _ = stopped.await;
    }));
    Fixture {
        server,
        plain,
        gate,
        source,
        audit,
        _dir: dir,
        addr,
        base: format!("http://{addr}"),
        client: reqwest::Client::builder().no_proxy().build().unwrap(),
        bearer: format!("Bearer {TOKEN}"),
        stop,
        served,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_its_token_the_proxy_answers_401_before_decrypting() {
    let f = fixture().await;
    for auth in [None, Some("Bearer wrong"), Some(VALUE)] {
        let mut req = f.client.get(format!("{}/openai/v1/models", f.base));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 401);
        let challenge = resp.headers()["www-authenticate"].to_str().unwrap();
        assert!(challenge.starts_with("Bearer"), "{challenge}");
    }
    // The token goes where the policy injects: x-api-key here, not Authorization.
    let resp = f.get("/anthropic/v1/x").send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let resp = f
        .client
        .get(format!("{}/b/v1/b", f.base))
        .send()
        .await
        .unwrap();
    assert!(
        resp.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    assert_eq!(f.source.decrypts(), 0);
    assert!(f.server.requests().is_empty());
    let log = f.audit();
    assert_eq!(log.len(), 5);
    assert!(log.iter().all(|r| r.outcome == Outcome::Refused
        && r.reason.as_deref() == Some("proxy-token")
        && r.via == Via::Proxy));
    let text = std::fs::read_to_string(&f.audit).unwrap();
    assert!(!text.contains(VALUE) && !text.contains(TOKEN));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_proxy_injects_each_auth_kind_and_redacts_the_answer() {
    let f = fixture().await;
    let resp = f.get("/openai/v1/models?x=1").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().get("set-cookie").is_none());
    let body = resp.text().await.unwrap();
    let want = "uri=/v1/models?x=1 authorization=Bearer [redacted:openai/key] x-api-key=";
    assert_eq!(body, want);
    let anthropic = f.client.get(format!("{}/anthropic/v1/m", f.base));
    ok(anthropic.header("x-api-key", TOKEN)).await;
    let q = f.client.get(format!("{}/q/v1/q?a=1&key={TOKEN}", f.base));
    ok(q).await;
    let basic = format!("Basic {}", STANDARD.encode(format!("whoever:{TOKEN}")));
    let b = f
        .client
        .get(format!("{}/b/v1/b", f.base))
        .header("authorization", basic);
    ok(b).await;
    let post = f
        .client
        .post(format!("{}/multi/v1/p", f.base))
        .header("authorization", &f.bearer);
    ok(post.body("hello")).await;
    let seen = f.server.requests();
    assert_eq!(seen.len(), 5);
    assert_eq!(
        seen[0].headers["authorization"],
        format!("Bearer {VALUE}").as_str()
    );
    assert_eq!(seen[1].headers["x-api-key"], VALUE);
    assert_eq!(seen[2].uri, "/v1/q?a=1&key=sk-live-TESTVALUE%2F42%2Bx");
    let basic = format!("Basic {}", STANDARD.encode(format!("u:{VALUE}")));
    assert_eq!(seen[3].headers["authorization"], basic.as_str());
    assert_eq!(
        (seen[4].method.as_str(), seen[4].body.as_slice()),
        ("POST", &b"hello"[..])
    );
    for r in &seen {
        let all = format!("{:?}{}", r.headers, r.uri);
        assert!(!all.contains(TOKEN), "the proxy token went upstream: {all}");
    }
    let log = f.audit();
    assert_eq!(log.len(), 5);
    assert!(
        log.iter()
            .all(|r| r.outcome == Outcome::Sent && r.status == Some(200))
    );
    assert_eq!(log[4].bytes_out, 5);
    let text = std::fs::read_to_string(&f.audit).unwrap();
    assert!(!text.contains(VALUE) && !text.contains(TOKEN) && !text.contains("key="));
}

/// Sends, expects 200 and reads the body to its end (the audit line is written by then).
async fn ok(req: reqwest::RequestBuilder) -> String {
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 200);
    resp.text().await.unwrap()
}

async fn json(resp: reqwest::Response) -> (u16, String, String) {
    let status = resp.status().as_u16();
    let v: serde_json::Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    let field = |k: &str| v[k].as_str().unwrap_or_default().to_string();
    (status, field("reason"), field("error"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_refusals_are_json_and_send_nothing() {
    let f = fixture().await;
    let cookie = f
        .get("/openai/v1/x")
        .header("cookie", "a=b")
        .send()
        .await
        .unwrap();
    assert_eq!(json(cookie).await.0, 403);
    let cases = [
        ("/nohost/v1/x", 403, "route-host"),
        ("/none/v1/x", 403, "no-policy"),
        ("/nowhere/v1", 404, "unknown-route"),
        ("/down/v1/x", 502, "connect"),
    ];
    for (path, status, reason) in cases {
        let (s, r, message) = json(f.get(path).send().await.unwrap()).await;
        assert_eq!((s, r.as_str()), (status, reason), "{path}: {message}");
    }
    for path in [
        "/openai/v1/../admin",
        "/openai/v1/%2e%2e/admin",
        "/openai/v2/x",
    ] {
        let head = format!(
            "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nConnection: close\r\n\r\n",
            f.bearer
        );
        let out = raw_request(f.addr, &head).await;
        assert!(out.starts_with("HTTP/1.1 403"), "{path}: {out}");
        assert!(out.contains("\"reason\":\"path\""), "{out}");
    }
    assert!(
        f.server.requests().is_empty(),
        "a refused request reached upstream"
    );
    let reasons: Vec<String> = f.audit().iter().filter_map(|r| r.reason.clone()).collect();
    let want = [
        "auth-header",
        "route-host",
        "no-policy",
        "connect",
        "path",
        "path",
        "path",
    ];
    assert_eq!(
        reasons, want,
        "every decision is logged (unknown routes name no secret)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_proxy_refuses_a_method_plain_http_and_an_off_origin_redirect() {
    let f = fixture().await;
    // `Proxy::bind` serves any route (the CLI checks routes at start): the broker refuses the
    // plain-http one on each request, before decrypting.
    let (s, r, m) = json(f.get("/plain/v1/x").send().await.unwrap()).await;
    assert_eq!((s, r.as_str()), (403, "insecure-http"), "{m}");
    let delete = f
        .client
        .delete(format!("{}/get/v1/x", f.base))
        .header("authorization", &f.bearer);
    let (s, r, m) = json(delete.send().await.unwrap()).await;
    assert_eq!((s, r.as_str()), (403, "method"), "{m}");
    assert_eq!(f.source.decrypts(), 0);
    assert!(f.server.requests().is_empty());
    ok(f.get("/get/v1/x")).await;
    assert_eq!(f.server.requests().len(), 1, "GET is allowed");

    let resp = f.get("/openai/v1/redirect").send().await.unwrap();
    assert!(resp.headers().get("location").is_none());
    let (s, r, m) = json(resp).await;
    assert_eq!((s, r.as_str()), (403, "redirect-off-origin"), "{m}");
    let seen = f.server.requests();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].uri, "/v1/redirect");
    assert!(
        f.plain.requests().is_empty(),
        "the plain-http server was contacted"
    );
    let log = f.audit();
    let reasons: Vec<Option<&str>> = log.iter().map(|r| r.reason.as_deref()).collect();
    let want = [
        Some("insecure-http"),
        Some("method"),
        None,
        Some("redirect-off-origin"),
    ];
    assert_eq!(reasons, want);
    assert_eq!(log[3].status, Some(302));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_proxy_streams_and_shuts_down_gracefully() {
    let f = fixture().await;
    let mut resp = f.get("/sse/v1/stream").send().await.unwrap();
    let first = tokio::time::timeout(Duration::from_secs(5), resp.chunk())
        .await
        .expect("the first chunk arrives before the server sends the last")
        .unwrap()
        .unwrap();
    assert_eq!(first.as_ref(), b"data: 1\n\n");
    f.gate.notify_one();
    assert_eq!(resp.text().await.unwrap(), "data: 2\n\n");
    assert_eq!(f.audit()[0].bytes_in, 18);
    f.stop.send(()).unwrap();
    let stopped = tokio::time::timeout(Duration::from_secs(10), f.served).await;
    stopped.expect("graceful shutdown").unwrap().unwrap();
    let again = tokio::net::TcpStream::connect(f.addr).await;
    assert!(again.is_err(), "still listening after shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_proxy_listens_on_loopback_only_unless_allowed() {
    let source = MemSource::new();
    let dir = tempfile::tempdir().unwrap();
    let broker = Arc::new(broker(source, None, &dir.path().join("a.jsonl")));
    let config = ProxyConfig::new(
        "0.0.0.0:0".parse().unwrap(),
        SecretString::from(TOKEN),
        BTreeMap::new(),
    );
    let err = Proxy::bind(Arc::clone(&broker), config)
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("loopback"), "{err}");
    let config = ProxyConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        SecretString::from(""),
        BTreeMap::new(),
    );
    assert!(
        Proxy::bind(broker, config).await.is_err(),
        "an empty token is refused"
    );
    assert!(Route::parse_spec("bad name=x").is_err());
    assert!(Route::parse_spec("a=").is_err());
    assert!(Route::parse_spec("a=p@").is_err());
    assert!(Route::parse_spec("a=p@api.x.com/v1").is_err());
    assert!(Route::parse_spec("a=p@https://").is_err());
    let (name, route) = Route::parse_spec("oa=openai/key@api.openai.com").unwrap();
    assert_eq!(
        (name.as_str(), route.secret.as_str(), route.host.as_deref()),
        ("oa", "openai/key", Some("api.openai.com"))
    );
}
