//! The brokering commands end to end: `policy`, `request` and `audit` with the real binary on
//! vaults made with the CLI, against local HTTPS servers (a test CA trusted through
//! `SSL_CERT_FILE`) that record what they receive. The broker's own rules are tested in
//! `tests/broker_e2e*`; these tests show the CLI wiring: exit codes, output, the vault as the
//! source of policies and values, the audit log, and that no value leaks anywhere.
//! `proxy` is in `broker_cli/proxy.rs`.

mod proxy;
pub mod support;

use std::io::Read;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use tokio::sync::Notify;

use crate::common::*;
use support::{Fx, Recorded, Reply, TestServer, VALUE, contains};

fn header(r: &Recorded, name: &str) -> String {
    r.headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default()
}

#[test]
fn policy_is_set_shown_and_cleared_as_signed_changes() {
    let env = Env::with_vault();
    env.set("openai/api-key", VALUE.as_bytes());
    let p = "openai/api-key";
    let shown = env.av(&["policy", p]).ok().stderr_has("has no use policy");
    assert!(shown.stdout.is_empty());
    assert_eq!(
        env.av(&["policy", p, "--json"]).ok().json()["policy"],
        serde_json::Value::Null
    );

    let commits = env.commit_count();
    env.av(&[
        "policy", p, "--preset", "openai", "--method", "POST", "--method", "get",
    ])
    .ok();
    assert_eq!(env.commit_count(), commits + 1, "one commit per change");
    let json = env.av(&["policy", p, "--json"]).ok().json();
    assert_eq!(
        json["policy"],
        serde_json::json!({"hosts": ["api.openai.com"], "auth": "bearer", "methods": ["POST", "GET"], "path_prefixes": ["/v1"]})
    );

    // Explicit flags override what the preset fills in.
    let args = [
        "policy",
        p,
        "--preset",
        "openai",
        "--host",
        "localhost:8443",
        "--host",
        "*.example.com",
        "--auth",
        "header:X-Key=Token {secret}",
        "--path-prefix",
        "/v2",
    ];
    env.av(&args).ok();
    let text = env.av(&["policy", p]).ok().out();
    for line in [
        "hosts:          localhost:8443, *.example.com",
        "auth:           header:X-Key=Token {secret}",
        "methods:        any",
        "path prefixes:  /v2",
    ] {
        assert!(text.contains(line), "{line:?} not in:\n{text}");
    }
    let commits = env.commit_count();
    env.av(&args).ok().stderr_has("already that");
    assert_eq!(
        env.commit_count(),
        commits,
        "the same policy again commits nothing"
    );
    // Signed like every change: readers verify it.
    env.av(&["verify"]).ok();

    env.av(&["policy", p, "--clear"]).ok();
    assert_eq!(
        env.av(&["policy", p, "--json"]).ok().json()["policy"],
        serde_json::Value::Null
    );
}

#[test]
fn list_shows_which_secrets_have_a_use_policy() {
    let env = Env::with_vault();
    env.set("openai/api-key", VALUE.as_bytes());
    env.set("db/password", VALUE.as_bytes());
    env.av(&[
        "policy",
        "openai/api-key",
        "--host",
        "api.openai.com",
        "--host",
        "*.example.com:8443",
        "--auth",
        "bearer",
    ])
    .ok();
    let line_of = |text: &str, path: &str| {
        text.lines()
            .find(|l| l.starts_with(path))
            .unwrap_or_else(|| panic!("no line for {path} in:\n{text}"))
            .to_owned()
    };
    let text = env.av(&["list", "--offline"]).ok().no_leak(VALUE).out();
    assert!(
        line_of(&text, "openai/api-key")
            .ends_with("  (usable via request/proxy for api.openai.com, *.example.com:8443)"),
        "{text}"
    );
    assert!(
        !line_of(&text, "db/password").contains("usable via"),
        "a secret without a policy is marked: {text}"
    );
    let json = env.av(&["list", "--json", "--offline"]).ok().json();
    let by_path = |path: &str| {
        json.as_array()
            .unwrap()
            .iter()
            .find(|s| s["path"] == path)
            .unwrap()
            .clone()
    };
    assert_eq!(
        by_path("openai/api-key")["policy"]["hosts"],
        serde_json::json!(["api.openai.com", "*.example.com:8443"])
    );
    assert!(by_path("db/password")["policy"].is_null(), "{json}");

    env.av(&["policy", "openai/api-key", "--clear"]).ok();
    let text = env.av(&["list", "--offline"]).ok().out();
    assert!(!text.contains("usable via"), "after --clear: {text}");
}

#[test]
fn invalid_policies_exit_2_and_change_nothing() {
    let env = Env::with_vault();
    let p = "openai/api-key";
    env.set(p, VALUE.as_bytes());
    let commits = env.commit_count();
    for bad in [
        &["--host", "bad host", "--auth", "bearer"][..],
        &["--host", "a.example.com", "--auth", "nope"],
        &["--host", "a.example.com"],
        &["--auth", "bearer"],
        &["--preset", "nope"],
        &["--preset", "openai", "--method", "G E T"],
        &["--preset", "openai", "--path-prefix", "v1"],
        &["--preset", "openai", "--path-prefix", "/v1/../admin"],
        &["--clear", "--host", "a.example.com"],
    ] {
        let mut args = vec!["policy", p];
        args.extend_from_slice(bad);
        env.av(&args).code(2);
    }
    assert_eq!(env.commit_count(), commits, "invalid input changes nothing");
    env.av(&["policy", "openai/missing", "--preset", "openai"])
        .code(3);
}

#[test]
fn request_injects_each_auth_kind_and_redacts_what_comes_back() {
    let fx = Fx::new();
    let host = fx.host();
    let kinds = [
        ("api/bearer", "bearer"),
        ("api/header", "header:X-Api-Key"),
        ("api/template", "header:Authorization=Bot {secret}"),
        ("api/basic", "basic:deploy"),
        ("api/query", "query:api_key"),
    ];
    for (path, auth) in kinds {
        fx.secret(
            path,
            &["--host", &host, "--auth", auth, "--path-prefix", "/v1"],
        );
    }
    fx.av(&["grant", "bot", "api"]).ok();
    let url = format!("{}/v1/echo?a=1", fx.origin());
    for (path, _) in kinds {
        let run = fx.bot(&["request", path, &url, "--include"]).ok();
        let out = run.out();
        assert!(out.starts_with("GET /v1/echo?a=1"), "{path}: {out}");
        assert!(out.contains(&format!("[redacted:{path}]")), "{path}: {out}");
        assert!(
            run.stderr.starts_with("HTTP 200 OK\n"),
            "{path}: {}",
            run.stderr
        );
        assert!(
            !run.stderr.to_lowercase().contains("set-cookie"),
            "{}",
            run.stderr
        );
    }
    let seen = fx.seen();
    assert_eq!(seen.len(), 5);
    assert_eq!(header(&seen[0], "authorization"), format!("Bearer {VALUE}"));
    assert_eq!(header(&seen[1], "x-api-key"), VALUE);
    assert_eq!(header(&seen[1], "authorization"), "");
    assert_eq!(header(&seen[2], "authorization"), format!("Bot {VALUE}"));
    let basic = STANDARD.encode(format!("deploy:{VALUE}"));
    assert_eq!(header(&seen[3], "authorization"), format!("Basic {basic}"));
    assert_eq!(
        seen[4].uri,
        "/v1/echo?a=1&api_key=sk-live-TESTVALUE%2F42%2Bx"
    );

    // The echoed credential header is shown redacted with --include.
    let run = fx.bot(&["request", "api/bearer", &url, "-i"]).ok();
    assert!(
        run.stderr
            .contains("x-echo-auth: Bearer [redacted:api/bearer]"),
        "{}",
        run.stderr
    );

    let audit = fx.audit();
    assert_eq!(audit.len(), 6, "one line per request");
    assert!(
        audit
            .iter()
            .all(|r| r["outcome"] == "sent" && r["actor"] == "agent:bot")
    );
    assert_eq!(audit[0]["via"], "request");
    fx.assert_no_value_anywhere(&[]);
}

#[test]
fn request_sends_the_method_headers_and_body_given() {
    let fx = Fx::new();
    fx.secret("api/bearer", &["--host", &fx.host(), "--auth", "bearer"]);
    fx.av(&["grant", "bot", "api"]).ok();
    let url = format!("{}/v1/echo", fx.origin());
    // A body from stdin, a method and a header arrive as given.
    let args = [
        "request",
        "api/bearer",
        &url,
        "-X",
        "put",
        "-H",
        "Content-Type: application/json",
        "--data-file",
        "-",
        "--agent",
        "bot",
        "--offline",
    ];
    let run = fx.env.av_stdin(&args, br#"{"q": 1}"#).ok();
    fx.runs.borrow_mut().push(run.all());
    let last = fx.seen().pop().unwrap();
    assert_eq!(
        (last.method.as_str(), last.body.as_slice()),
        ("PUT", &br#"{"q": 1}"#[..])
    );
    assert_eq!(header(&last, "content-type"), "application/json");
    // -d without -X is a POST.
    fx.bot(&["request", "api/bearer", &url, "-d", "x=1"]).ok();
    assert_eq!(fx.seen().pop().unwrap().method, "POST");
    assert_eq!(fx.audit().len(), 2);
    fx.assert_no_value_anywhere(&[]);
}

/// An echo server that redirects `/v1/redirect` to another origin (a plain-http server on
/// 127.0.0.1, returned too: were the redirect followed, it would record the request), and a
/// vault with `api/key` (GET/POST under /v1 there), `api/plain` (a remote host), `api/none`
/// (no policy) and `other/key` (a group `bot` was not granted).
fn refusal_fixture() -> (Fx, TestServer) {
    let target = Arc::new(Mutex::new(String::new()));
    let redirect_to = Arc::clone(&target);
    let fx = Fx::with_handler(Arc::new(move |r: &Recorded| {
        if r.uri == "/v1/redirect" {
            let to = redirect_to.lock().unwrap().clone();
            return Reply {
                status: 302,
                ..Reply::ok("")
            }
            .header("location", to);
        }
        Reply::ok("ok")
    }));
    let other = fx.plain_server();
    *target.lock().unwrap() = format!("{}/steal", other.origin());
    let host = fx.host();
    let policy = [
        "--host",
        &host,
        "--auth",
        "bearer",
        "--method",
        "GET",
        "--method",
        "POST",
        "--path-prefix",
        "/v1",
    ];
    fx.secret("api/key", &policy);
    fx.secret(
        "api/plain",
        &["--host", "api.example.test", "--auth", "bearer"],
    );
    fx.secret("api/none", &[]);
    fx.secret("other/key", &policy);
    fx.av(&["grant", "bot", "api"]).ok();
    (fx, other)
}

#[test]
fn refused_requests_exit_4_and_send_nothing() {
    let (fx, other) = refusal_fixture();
    let o = fx.origin();
    let port = fx.server.addr.port();
    let cases: Vec<(&str, String, Vec<&str>, &str)> = vec![
        (
            "api/key",
            format!("https://127.0.0.1:{port}/v1/x"),
            vec![],
            "host",
        ),
        (
            "api/key",
            format!("{}/v1/x", other.origin()),
            vec![],
            "host",
        ),
        (
            "api/plain",
            "http://api.example.test/v1/x".into(),
            vec![],
            "insecure-http",
        ),
        (
            "api/key",
            format!("{o}/v1/x"),
            vec!["-H", "Authorization: Bearer mine"],
            "auth-header",
        ),
        (
            "api/key",
            format!("{o}/v1/x"),
            vec!["-H", "cookie: a=b"],
            "auth-header",
        ),
        (
            "api/key",
            format!("{o}/v1/x"),
            vec!["-X", "DELETE"],
            "method",
        ),
        ("api/key", format!("{o}/admin"), vec![], "path"),
        ("api/key", format!("{o}/v1/../admin"), vec![], "path"),
        ("api/key", format!("{o}/v1/%2e%2e/admin"), vec![], "path"),
        ("api/none", format!("{o}/v1/x"), vec![], "no-policy"),
        ("other/key", format!("{o}/v1/x"), vec![], "access-denied"),
    ];
    for (secret, url, extra, reason) in &cases {
        let mut args = vec!["request", secret, url.as_str()];
        args.extend_from_slice(extra);
        let run = fx.bot(&args).code(4);
        assert!(run.stdout.is_empty());
        if *reason == "access-denied" {
            run.stderr_has("agent:bot may not read 'other/key'")
                .stderr_has("agent-vault grant");
        } else {
            run.stderr_has(&format!("refused ({reason})"));
        }
        assert!(fx.seen().is_empty(), "{secret} {url}: something was sent");
    }
    fx.bot(&["request", "api/missing", &format!("{o}/v1/x")])
        .code(3);
    let audit = fx.audit();
    let reasons: Vec<&str> = audit
        .iter()
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    let mut expected: Vec<&str> = cases.iter().map(|c| c.3).collect();
    expected.push("not-found");
    assert_eq!(reasons, expected);
    assert!(audit.iter().all(|r| r["outcome"] == "refused"));
    assert_eq!(mode(&fx.audit_path()), 0o600);
    assert!(other.requests().is_empty());
    fx.assert_no_value_anywhere(&[]);
}

#[test]
fn a_redirect_to_another_origin_is_not_followed() {
    let (fx, other) = refusal_fixture();
    let redirect = format!("{}/v1/redirect", fx.origin());
    fx.bot(&["request", "api/key", &redirect])
        .code(4)
        .stderr_has("refused (redirect-off-origin)")
        .stderr_has(&format!("{}/steal", other.origin()));
    assert_eq!(fx.seen().len(), 1);
    assert!(
        other.requests().is_empty(),
        "the other origin was contacted"
    );
    let audit = fx.audit();
    assert_eq!(
        (audit[0]["reason"].as_str(), audit[0]["status"].as_u64()),
        (Some("redirect-off-origin"), Some(302))
    );
    fx.assert_no_value_anywhere(&[]);
}

#[test]
fn request_streams_the_body_as_it_arrives() {
    let gate = Arc::new(Notify::new());
    let held = Arc::clone(&gate);
    let fx = Fx::with_handler(Arc::new(move |_: &Recorded| Reply {
        status: 200,
        headers: Vec::new(),
        chunks: vec![b"first-chunk\n".to_vec(), b"second-chunk\n".to_vec()],
        gate: Some(Arc::clone(&held)),
    }));
    fx.secret("api/key", &["--host", &fx.host(), "--auth", "bearer"]);
    let url = format!("{}/stream", fx.origin());
    let mut child = fx
        .env
        .av_cmd(&fx.env.repo, &["request", "api/key", &url, "--offline"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while !contains(&got, b"first-chunk\n") {
        let n = stdout.read(&mut buf).unwrap();
        assert!(n > 0, "the output ended before the first chunk");
        got.extend_from_slice(&buf[..n]);
    }
    // The second chunk does not exist yet: the first arrived on its own.
    assert_eq!(got, b"first-chunk\n");
    gate.notify_one();
    stdout.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"first-chunk\nsecond-chunk\n");
    assert!(child.wait().unwrap().success());
    assert_eq!(fx.audit()[0]["actor"], "owner");
}

#[test]
fn the_audit_command_prints_and_filters_the_log() {
    let fx = Fx::new();
    let host = fx.host();
    fx.secret("api/key", &["--host", &host, "--auth", "bearer"]);
    fx.secret("db/key", &["--host", &host, "--auth", "bearer"]);
    fx.av(&["grant", "bot", "api"]).ok();
    let url = format!("{}/v1/x", fx.origin());
    fx.bot(&["request", "api/key", &url]).ok();
    fx.bot(&["request", "db/key", &url]).code(4);
    let text = fx.av(&["audit"]).ok().out();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("TIME") && lines[0].contains("OUTCOME"));
    assert!(lines[1].contains("agent:bot") && lines[1].contains("api/key"));
    assert!(lines[1].contains(&format!("GET {host}/v1/x")) && lines[1].ends_with("sent 200"));
    assert!(lines[2].contains("db/key") && lines[2].ends_with("refused access-denied"));

    let json = fx.av(&["audit", "--json", "--since", "1h"]).ok().out();
    let records: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["status"], 200);
    let only = fx.av(&["audit", "--json", "--secret", "db/key"]).ok().out();
    assert_eq!(only.lines().count(), 1);
    assert!(only.contains("\"secret\":\"db/key\""));
    let future = fx.av(&["audit", "--since", "2999-01-01"]).ok();
    assert!(future.stdout.is_empty());
    future.stderr_has("no audit entries");
    fx.av(&["audit", "--since", "last tuesday"]).code(2);
    fx.assert_no_value_anywhere(&[]);
}

#[test]
fn ssl_cert_file_is_what_makes_the_test_ca_trusted() {
    let mut fx = Fx::new();
    fx.secret("api/key", &["--host", &fx.host(), "--auth", "bearer"]);
    let url = format!("{}/v1/x", fx.origin());
    fx.av(&["request", "api/key", &url, "--offline"]).ok();
    // Another CA: the server's certificate is not trusted, so nothing is sent (exit 1).
    let stranger: TestServer = fx.other_server();
    let ca = fx.env.root().join("other-ca.pem");
    std::fs::write(&ca, stranger.ca_pem.as_deref().unwrap()).unwrap();
    fx.env.set_env("SSL_CERT_FILE", ca.to_str().unwrap());
    fx.av(&["request", "api/key", &url, "--offline"]).code(1);
    assert_eq!(fx.seen().len(), 1);
    fx.env.set_env("SSL_CERT_FILE", "/nonexistent/ca.pem");
    fx.av(&["request", "api/key", &url, "--offline"])
        .code(1)
        .stderr_has("SSL_CERT_FILE");
}
