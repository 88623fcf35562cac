//! The broker library against real local servers (HTTP, and HTTPS with a test CA): injection,
//! redaction, refusals with nothing sent, redirects, streaming, network errors, the audit log.
//! The proxy's tests are in `broker_e2e/proxy.rs`.

#[path = "broker_e2e/support.rs"]
mod support;

#[path = "broker_e2e/proxy.rs"]
mod proxy;

use std::sync::Arc;

use agent_vault::broker::{
    AuditFilter, Broker, BrokerError, BrokerRequest, NetworkErrorKind, Outcome, SourceError, Via,
    read_audit,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderValue, Method};
use support::{MemSource, Reply, TestServer, broker, closed_port};
use tokio::sync::Notify;

const VALUE: &str = "sk-live-TESTVALUE/42+x";

fn echo() -> support::Handler {
    Arc::new(|_| Reply::ok("ok"))
}

async fn get(broker: &Broker, secret: &str, url: &str) -> Result<(u16, Vec<u8>), BrokerError> {
    let response = broker
        .send(secret, BrokerRequest::new(Method::GET, url), Via::Request)
        .await?;
    let status = response.status.as_u16();
    Ok((status, response.body.collect(1 << 20).await?))
}

fn assert_never_on_disk(path: &std::path::Path, value: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(!text.contains(value), "the value is in {}", path.display());
    assert!(!text.contains(&STANDARD.encode(value)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_auth_kind_arrives_injected_over_https() {
    let server = TestServer::https(echo()).await;
    let host = server.host_rule();
    let source = MemSource::new();
    let specs = [
        ("bearer", "a/bearer"),
        ("header:x-api-key", "a/header"),
        ("\"header:Authorization=Bot {secret}\"", "a/template"),
        ("basic:deploy", "a/basic"),
        ("query:api_key", "a/query"),
    ];
    for (auth, path) in specs {
        source.put(
            path,
            Some(&format!("hosts: ['{host}']\nauth: {auth}\n")),
            VALUE.as_bytes(),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let broker = broker(Arc::clone(&source), server.ca_pem.as_deref(), &audit);
    for (_, path) in specs {
        let (status, body) = get(&broker, path, &format!("{}/v1/x?a=1", server.origin()))
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!((status, body.as_slice()), (200, &b"ok"[..]));
    }
    let seen = server.requests();
    assert_eq!(seen.len(), 5);
    assert_eq!(
        seen[0].headers["authorization"],
        format!("Bearer {VALUE}").as_str()
    );
    assert_eq!(seen[1].headers["x-api-key"], VALUE);
    assert!(seen[1].headers.get("authorization").is_none());
    assert_eq!(
        seen[2].headers["authorization"],
        format!("Bot {VALUE}").as_str()
    );
    let basic = format!("Basic {}", STANDARD.encode(format!("deploy:{VALUE}")));
    assert_eq!(seen[3].headers["authorization"], basic.as_str());
    assert_eq!(seen[4].uri, "/v1/x?a=1&api_key=sk-live-TESTVALUE%2F42%2Bx");
    for r in &seen {
        assert_eq!(r.headers["accept-encoding"], "identity");
    }
    let log = read_audit(&audit, &AuditFilter::default()).unwrap();
    assert_eq!(log.records.len(), 5);
    assert!(
        log.records
            .iter()
            .all(|r| r.outcome == Outcome::Sent && r.status == Some(200))
    );
    assert_eq!(log.records[4].path, "/v1/x");
    assert_never_on_disk(&audit, VALUE);
    assert!(!std::fs::read_to_string(&audit).unwrap().contains("%2F42"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_come_back_redacted_with_auth_headers_stripped() {
    let gate = Arc::new(Notify::new());
    let leaky = {
        let b64 = STANDARD.encode(format!("xy{VALUE}"));
        let (head, tail) = VALUE.split_at(7);
        move |_: &support::Recorded| Reply {
            status: 200,
            headers: vec![
                ("set-cookie", "session=abc".into()),
                ("set-cookie2", "old=1".into()),
                ("authorization", "Bearer upstream".into()),
                ("proxy-authenticate", "Basic".into()),
                ("x-api-key", "theirs".into()),
                ("www-authenticate", "Bearer error=\"none\"".into()),
                ("x-echo", format!("key={VALUE}")),
                ("content-type", "text/plain".into()),
            ],
            chunks: vec![
                format!("raw {head}").into_bytes(),
                format!("{tail} b64 {b64} url sk-live-TESTVALUE%2f42%2bx end").into_bytes(),
            ],
            gate: None,
        }
    };
    let server = TestServer::http(Arc::new(leaky)).await;
    let source = MemSource::new();
    let policy = format!(
        "hosts: ['{}']\nauth: header:x-api-key\n",
        server.host_rule()
    );
    source.put("t/key", Some(&policy), VALUE.as_bytes());
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let broker = broker(source, None, &audit);
    let response = broker
        .send(
            "t/key",
            BrokerRequest::new(Method::GET, format!("{}/x", server.origin())),
            Via::Request,
        )
        .await
        .unwrap();
    let h = &response.headers;
    for gone in [
        "set-cookie",
        "set-cookie2",
        "authorization",
        "proxy-authenticate",
        "x-api-key",
        "content-length",
    ] {
        assert!(h.get(gone).is_none(), "{gone} was passed through");
    }
    assert_eq!(h["www-authenticate"], "Bearer error=\"none\"");
    assert_eq!(h["x-echo"], "key=[redacted:t/key]");
    assert_eq!(h["content-type"], "text/plain");
    let body = String::from_utf8(response.body.collect(1 << 20).await.unwrap()).unwrap();
    assert!(body.starts_with("raw [redacted:t/key] b64 "), "{body}");
    assert!(body.ends_with(" url [redacted:t/key] end"), "{body}");
    assert!(
        !body.contains(VALUE) && !body.contains("VEVTVFZBTFVF"),
        "{body}"
    );
    drop(gate);
    let log = read_audit(&audit, &AuditFilter::default()).unwrap();
    let bytes_in = log.records[0].bytes_in;
    assert!(
        bytes_in > 60,
        "bytes_in counts what upstream sent: {bytes_in}"
    );
}

/// Requests the policy of `t/key` (GET under /v1 on `server` and api.example.invalid) refuses,
/// secrets the source refuses, and the reason each must get.
fn refusal_cases(
    server: &TestServer,
    other: &TestServer,
) -> Vec<(&'static str, BrokerRequest, &'static str)> {
    let o = server.origin();
    let port = server.addr.port();
    let r = |method: Method, url: String| BrokerRequest::new(method, url);
    let mut cases = vec![
        (
            "t/key",
            r(Method::GET, format!("{}/v1/x", other.origin())),
            "host",
        ),
        (
            "t/key",
            r(Method::GET, format!("http://localhost:{port}/v1/x")),
            "host",
        ),
        (
            "t/key",
            r(Method::GET, "http://api.example.invalid/v1/x".into()),
            "insecure-http",
        ),
        ("t/key", r(Method::POST, format!("{o}/v1/x")), "method"),
        ("t/key", r(Method::GET, format!("{o}/v2/x")), "path"),
        ("t/key", r(Method::GET, format!("{o}/v1/../admin")), "path"),
        (
            "t/key",
            r(Method::GET, format!("{o}/v1/%2e%2e/admin")),
            "path",
        ),
        (
            "t/key",
            r(Method::GET, format!("{o}/v1/%2E./admin")),
            "path",
        ),
        ("t/none", r(Method::GET, format!("{o}/v1/x")), "no-policy"),
        (
            "t/missing",
            r(Method::GET, format!("{o}/v1/x")),
            "not-found",
        ),
        (
            "t/denied",
            r(Method::GET, format!("{o}/v1/x")),
            "access-denied",
        ),
        (
            "t/tampered",
            r(Method::GET, format!("{o}/v1/x")),
            "integrity",
        ),
    ];
    let smuggled = [
        ("authorization", "Bearer mine"),
        ("cookie", "s=1"),
        ("proxy-authorization", "x"),
    ];
    for (name, value) in smuggled {
        let mut req = r(Method::GET, format!("{o}/v1/x"));
        req.headers.insert(name, HeaderValue::from_static(value));
        cases.push(("t/key", req, "auth-header"));
    }
    cases
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_send_nothing_and_decrypt_nothing() {
    let server = TestServer::http(echo()).await;
    let other = TestServer::http(echo()).await;
    let source = MemSource::new();
    let policy = format!(
        "hosts: ['{}', 'api.example.invalid']\nauth: bearer\nmethods: [GET]\npath_prefixes: [/v1]\n",
        server.host_rule()
    );
    source.put("t/key", Some(&policy), VALUE.as_bytes());
    source.put("t/none", None, VALUE.as_bytes());
    source.fail(
        "t/denied",
        SourceError::AccessDenied("not granted the group".into()),
    );
    source.fail(
        "t/tampered",
        SourceError::Integrity("policy not signed".into()),
    );
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let broker = broker(Arc::clone(&source), None, &audit);
    let cases = refusal_cases(&server, &other);
    let total = cases.len();
    for (secret, request, reason) in cases {
        let url = request.url.clone();
        let err = broker
            .send(secret, request, Via::Request)
            .await
            .unwrap_err();
        assert_eq!(err.reason(), reason, "{url}: {err}");
        assert!(!err.to_string().contains(VALUE));
        match (&err, reason) {
            (BrokerError::Source(SourceError::Integrity(_)), "integrity") => {}
            (BrokerError::Source(SourceError::AccessDenied(_)), _) => {}
            (BrokerError::Source(SourceError::NotFound(_)), _) => {}
            (BrokerError::Refused(r), _) => assert_eq!(r.reason.as_str(), reason),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(
        server.requests().is_empty(),
        "a refused request reached the server"
    );
    assert!(other.requests().is_empty());
    assert_eq!(source.decrypts(), 0, "a refused request was decrypted");
    let log = read_audit(&audit, &AuditFilter::default()).unwrap();
    assert_eq!(log.records.len(), total);
    assert!(
        log.records
            .iter()
            .all(|r| r.outcome == Outcome::Refused && r.bytes_out == 0)
    );
    assert_eq!(log.records[6].reason.as_deref(), Some("path"));
    assert_eq!(log.records[6].path, "/v1/%2e%2e/admin");
    assert_eq!(log.records[0].actor, "agent:test-bot");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_same_origin_followed_other_origin_refused() {
    let other = TestServer::http(echo()).await;
    let target = format!("{}/v1/steal", other.origin());
    let server = TestServer::http(Arc::new(move |r: &support::Recorded| {
        match r.uri.as_str() {
            "/v1/old" => Reply {
                status: 308,
                ..Reply::ok("")
            }
            .header("location", "/v1/new"),
            "/v1/out" => Reply {
                status: 302,
                ..Reply::ok("")
            }
            .header("location", target.clone()),
            "/v1/loop" => Reply {
                status: 302,
                ..Reply::ok("")
            }
            .header("location", "/v1/loop"),
            "/v1/escape" => Reply {
                status: 301,
                ..Reply::ok("")
            }
            .header("location", "/admin"),
            _ => Reply::ok(format!("at {}", r.uri)),
        }
    }))
    .await;
    let source = MemSource::new();
    let policy = format!(
        "hosts: ['{}', '{}']\nauth: bearer\npath_prefixes: [/v1]\n",
        server.host_rule(),
        other.host_rule()
    );
    source.put("t/key", Some(&policy), VALUE.as_bytes());
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let broker = broker(source, None, &audit);
    let o = server.origin();
    let mut post = BrokerRequest::new(Method::POST, format!("{o}/v1/old"));
    post.body = "payload".into();
    let response = broker.send("t/key", post, Via::Request).await.unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.body.collect(1024).await.unwrap(), b"at /v1/new");
    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        (seen[1].method.as_str(), seen[1].body.as_slice()),
        ("POST", &b"payload"[..])
    );
    assert_eq!(
        seen[1].headers["authorization"],
        format!("Bearer {VALUE}").as_str()
    );

    let err = get(&broker, "t/key", &format!("{o}/v1/out"))
        .await
        .unwrap_err();
    assert_eq!(err.reason(), "redirect-off-origin", "{err}");
    assert!(err.to_string().contains(&other.origin()), "{err}");
    assert!(
        other.requests().is_empty(),
        "the other origin was contacted"
    );
    let err = get(&broker, "t/key", &format!("{o}/v1/loop"))
        .await
        .unwrap_err();
    assert_eq!(err.reason(), "too-many-redirects");
    let err = get(&broker, "t/key", &format!("{o}/v1/escape"))
        .await
        .unwrap_err();
    assert_eq!(err.reason(), "path");
    assert!(!server.requests().iter().any(|r| r.uri == "/admin"));
    let log = read_audit(&audit, &AuditFilter::default()).unwrap();
    assert_eq!(log.records[1].outcome, Outcome::Refused);
    assert_eq!(log.records[1].status, Some(302));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_response_arrives_in_chunks() {
    let gate = Arc::new(Notify::new());
    let g = Arc::clone(&gate);
    let server = TestServer::http(Arc::new(move |_: &support::Recorded| Reply {
        status: 200,
        headers: vec![("content-type", "text/event-stream".into())],
        chunks: vec![b"data: first\n\n".to_vec(), b"data: last\n\n".to_vec()],
        gate: Some(Arc::clone(&g)),
    }))
    .await;
    let source = MemSource::new();
    source.put(
        "t/key",
        Some(&format!(
            "hosts: ['{}']\nauth: bearer\n",
            server.host_rule()
        )),
        VALUE.as_bytes(),
    );
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let broker = broker(source, None, &audit);
    let mut response = broker
        .send(
            "t/key",
            BrokerRequest::new(Method::GET, format!("{}/sse", server.origin())),
            Via::Request,
        )
        .await
        .unwrap();
    let first = tokio::time::timeout(std::time::Duration::from_secs(5), response.body.chunk())
        .await
        .expect("the first chunk arrives while the server still holds the last")
        .unwrap()
        .unwrap();
    assert_eq!(first.as_ref(), b"data: first\n\n");
    assert!(
        read_audit(&audit, &AuditFilter::default())
            .unwrap()
            .records
            .is_empty()
    );
    gate.notify_one();
    let rest = response.body.collect(1024).await.unwrap();
    assert_eq!(rest, b"data: last\n\n");
    let log = read_audit(&audit, &AuditFilter::default()).unwrap();
    assert_eq!(log.records[0].bytes_in, 25);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_errors_are_typed_and_hold_no_value() {
    let port = closed_port().await;
    let big = TestServer::http(Arc::new(|r: &support::Recorded| {
        if r.uri.starts_with("/gzip?") {
            Reply::ok("compressed?").header("content-encoding", "gzip")
        } else {
            Reply::ok(vec![b'x'; 4096])
        }
    }))
    .await;
    let source = MemSource::new();
    let policy = format!(
        "hosts: ['127.0.0.1:{port}', '{}']\nauth: query:key\n",
        big.host_rule()
    );
    source.put("t/key", Some(&policy), VALUE.as_bytes());
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let mut config = agent_vault::broker::BrokerConfig {
        system_roots: false,
        extra_roots_pem: Vec::new(),
        audit_log: Some(audit.clone()),
        max_response_bytes: 1000,
        ..Default::default()
    };
    assert!(matches!(
        Broker::new(Arc::clone(&source) as _, config.clone()),
        Err(BrokerError::Config(_))
    ));
    config.extra_roots_pem = broker(Arc::clone(&source), None, &audit)
        .config()
        .extra_roots_pem
        .clone();
    let broker = Broker::new(source, config).unwrap();
    let err = get(&broker, "t/key", &format!("http://127.0.0.1:{port}/x"))
        .await
        .unwrap_err();
    match &err {
        BrokerError::Network(n) => assert_eq!(n.kind, NetworkErrorKind::Connect, "{n}"),
        other => panic!("{other:?}"),
    }
    assert!(!err.to_string().contains("TESTVALUE"), "{err}");
    let err = get(&broker, "t/key", &format!("{}/big", big.origin()))
        .await
        .unwrap_err();
    assert_eq!(err.reason(), "response-too-large", "{err}");
    let err = get(&broker, "t/key", &format!("{}/gzip", big.origin()))
        .await
        .unwrap_err();
    assert_eq!(err.reason(), "response-encoding", "{err}");
    let log = read_audit(&audit, &AuditFilter::default()).unwrap();
    let reasons: Vec<_> = log
        .records
        .iter()
        .map(|r| (r.outcome, r.reason.clone().unwrap_or_default()))
        .collect();
    assert_eq!(
        reasons,
        vec![
            (Outcome::Error, "connect".to_string()),
            (Outcome::Error, "response-too-large".to_string()),
            (Outcome::Error, "response-encoding".to_string()),
        ]
    );
    assert_never_on_disk(&audit, VALUE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_dropped_early_is_still_logged() {
    let server = TestServer::http(echo()).await;
    let source = MemSource::new();
    let policy = format!("hosts: ['{}']\nauth: bearer\n", server.host_rule());
    source.put("t/key", Some(&policy), VALUE.as_bytes());
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let broker = broker(source, None, &audit);
    let url = format!("{}/x", server.origin());
    let response = broker
        .send("t/key", BrokerRequest::new(Method::GET, url), Via::Mcp)
        .await
        .unwrap();
    assert!(
        read_audit(&audit, &AuditFilter::default())
            .unwrap()
            .records
            .is_empty()
    );
    drop(response);
    let log = read_audit(&audit, &AuditFilter::default()).unwrap().records;
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].outcome, log[0].status, log[0].via),
        (Outcome::Sent, Some(200), Via::Mcp)
    );
    assert_eq!(log[0].reason.as_deref(), Some("body-not-read-to-end"));
}
