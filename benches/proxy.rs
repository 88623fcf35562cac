//! The broker's added latency per request: a small GET to a local HTTP server made directly,
//! through the library ([`Broker::send`]: policy, decision, injection, redaction, audit line),
//! and through the local proxy (an extra HTTP hop on loopback plus the token check). The
//! difference to "direct" is what the broker costs per request; the upstream network is not in
//! it.
//!
//! Run with `cargo bench --bench proxy`. Everything listens on 127.0.0.1; connections are kept
//! alive as a real client would, so the figures are per request, not per connection.

#[allow(dead_code)]
#[path = "../tests/broker_e2e/support.rs"]
mod support;

use std::collections::BTreeMap;
use std::sync::Arc;

use agent_vault::broker::redact::Redactor;
use agent_vault::broker::{
    AuditLog, AuditRecord, BrokerRequest, Outcome, Proxy, ProxyConfig, Route, Via,
};
use criterion::{Criterion, criterion_group, criterion_main};
use http::Method;
use secrecy::SecretString;
use support::{MemSource, Reply, TestServer};

const VALUE: &str = "sk-bench-0123456789abcdef0123456789abcdef";
const TOKEN: &str = "bench-proxy-token";
const BODY: &str = r#"{"id":"chatcmpl-1","object":"chat.completion","choices":[{"message":{"role":"assistant","content":"Hello! How can I help you today?"}}]}"#;

async fn get(client: &reqwest::Client, url: &str, auth: Option<&str>) -> usize {
    let mut req = client.get(url);
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let resp = req.send().await.expect("request");
    assert_eq!(resp.status(), 200);
    resp.bytes().await.expect("body").len()
}

fn bench(c: &mut Criterion) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = agent_vault::broker::runtime().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let audit = dir.path().join("audit.jsonl");
    let server = rt.block_on(TestServer::http(Arc::new(|_: &support::Recorded| {
        Reply::ok(BODY)
    })));
    let source = MemSource::new();
    let policy = format!(
        "hosts: ['{}']\nauth: bearer\npath_prefixes: [/v1]\n",
        server.host_rule()
    );
    source.put("openai/key", Some(&policy), VALUE.as_bytes());
    let broker = Arc::new(support::broker(source, None, &audit));
    let mut routes = BTreeMap::new();
    let (name, route) = Route::parse_spec(&format!("oa=openai/key@{}", server.origin())).unwrap();
    routes.insert(name, route);
    let listen = "127.0.0.1:0".parse().unwrap();
    let config = ProxyConfig::new(listen, SecretString::from(TOKEN), routes);
    let proxy = rt
        .block_on(Proxy::bind(Arc::clone(&broker), config))
        .expect("proxy");
    let addr = proxy.local_addr().unwrap();
    rt.spawn(proxy.serve(std::future::pending()));
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let direct = format!("{}/v1/chat/completions", server.origin());
    let proxied = format!("http://{addr}/oa/v1/chat/completions");
    let bearer = format!("Bearer {TOKEN}");

    let mut group = c.benchmark_group("broker");
    group.bench_function("direct GET to the local server", |b| {
        b.iter(|| rt.block_on(get(&client, &direct, None)))
    });
    group.bench_function("Broker::send + collect (library)", |b| {
        b.iter(|| {
            rt.block_on(async {
                let req = BrokerRequest::new(Method::GET, direct.as_str());
                let resp = broker.send("openai/key", req, Via::Request).await.unwrap();
                resp.body.collect(1 << 20).await.unwrap().len()
            })
        })
    });
    group.bench_function("through the proxy", |b| {
        b.iter(|| rt.block_on(get(&client, &proxied, Some(&bearer))))
    });
    group.bench_function("parts: Redactor::new for a 40-byte value", |b| {
        b.iter(|| Redactor::new("openai/key", VALUE.as_bytes(), None))
    });
    let log = AuditLog::open(dir.path().join("parts.jsonl")).expect("audit log");
    let record = AuditRecord {
        time: chrono::Utc::now(),
        actor: "agent:bench".into(),
        secret: "openai/key".into(),
        method: "GET".into(),
        host: "127.0.0.1:1".into(),
        path: "/v1/chat/completions".into(),
        outcome: Outcome::Sent,
        status: Some(200),
        reason: None,
        bytes_in: 130,
        bytes_out: 0,
        via: Via::Proxy,
    };
    group.bench_function("parts: one audit line (open, flock, append)", |b| {
        b.iter(|| log.append(&record).expect("append"))
    });
    group.finish();
    server.seen.lock().unwrap().clear();
}

criterion_group!(benches, bench);
criterion_main!(benches);
