//! `agent-vault proxy` as a process: what it prints, its token, routes checked at start, a
//! revoke and a pusher's policy edit reaching it while it runs, and a clean SIGTERM.

use std::fs;
use std::process::Stdio;

use super::refusal_fixture;
use super::support::{Fx, ProxyProc, VALUE, call, client, eventually};

fn bot_proxy(fx: &Fx, route: &str, vars: &[(&str, &str)]) -> ProxyProc {
    ProxyProc::start(
        &fx.env,
        &["--route", route, "--agent", "bot", "--offline"],
        vars,
    )
}

/// A vault with `api/key` (bearer, `/v1`, the echo server) granted to `bot`.
fn fixture() -> Fx {
    let fx = Fx::new();
    let host = fx.host();
    fx.secret(
        "api/key",
        &["--host", &host, "--auth", "bearer", "--path-prefix", "/v1"],
    );
    fx.av(&["grant", "bot", "api"]).ok();
    fx
}

#[test]
fn the_proxy_wants_its_token_then_injects_and_redacts() {
    let fx = fixture();
    let route = format!("api=api/key@{}", fx.host());
    let mut proxy = bot_proxy(&fx, &route, &[]);
    assert_eq!(proxy.lines.len(), 2, "{:?}", proxy.lines);
    let token = proxy.token.clone().expect("a generated token is printed");
    assert!(
        token.len() >= 43 && !token.contains(['+', '/', '=']),
        "{token}"
    );
    assert!(proxy.url.starts_with("http://127.0.0.1:"), "{}", proxy.url);
    let url = format!("{}/api/v1/models?limit=2", proxy.url);
    let http = client();

    let (status, headers, body) = call(&fx, http.get(&url));
    assert_eq!(status, 401, "{body}");
    assert!(
        headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    let (status, _, _) = call(&fx, http.get(&url).bearer_auth("not-the-token"));
    assert_eq!(status, 401);
    assert!(fx.seen().is_empty(), "nothing is sent without the token");

    let (status, headers, body) = call(&fx, http.get(&url).bearer_auth(&token));
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with("GET /v1/models?limit=2\n"), "{body}");
    assert!(
        body.contains("authorization: Bearer [redacted:api/key]"),
        "{body}"
    );
    assert!(headers.get("set-cookie").is_none());
    assert_eq!(headers["x-echo-auth"], "Bearer [redacted:api/key]");
    let seen = fx.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].headers["authorization"],
        format!("Bearer {VALUE}").as_str()
    );

    assert_eq!(proxy.stop(), Some(0), "SIGTERM stops it cleanly");
    let stderr = proxy.stderr();
    assert!(stderr.contains("agent-vault proxy stopped"), "{stderr}");

    let audit = fx.audit();
    let reasons: Vec<&str> = audit
        .iter()
        .map(|r| r["reason"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(reasons, ["proxy-token", "proxy-token", ""]);
    assert!(
        audit
            .iter()
            .all(|r| r["via"] == "proxy" && r["actor"] == "agent:bot")
    );
    fx.assert_no_value_anywhere(&[&stderr, &proxy.lines.join("\n")]);
}

#[test]
fn a_token_from_the_environment_is_used_and_not_printed() {
    let fx = fixture();
    let route = format!("api=api/key@{}", fx.host());
    let given = "given-token-0123456789-abcdef";
    let proxy = bot_proxy(&fx, &route, &[("AGENT_VAULT_PROXY_TOKEN", given)]);
    assert_eq!(proxy.lines.len(), 1, "only the URL line: {:?}", proxy.lines);
    assert!(proxy.token.is_none());
    let url = format!("{}/api/v1/models", proxy.url);
    let http = client();
    assert_eq!(call(&fx, http.get(&url).bearer_auth(given)).0, 200);
    assert_eq!(call(&fx, http.get(&url).bearer_auth("given-token")).0, 401);
    // Outside the policy: refused as JSON, nothing sent.
    let admin = format!("{}/api/admin", proxy.url);
    let (status, _, body) = call(&fx, http.get(&admin).bearer_auth(given));
    assert_eq!(status, 403);
    let error: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["reason"], "path");
    assert_eq!(fx.seen().len(), 1);
    let stderr = proxy.stderr();
    assert!(!stderr.contains(given), "{stderr}");
    drop(proxy);
    fx.assert_no_value_anywhere(&[&stderr]);
}

#[test]
fn a_revoke_reaches_a_running_proxy() {
    let fx = fixture();
    let proxy = bot_proxy(&fx, &format!("api=api/key@{}", fx.host()), &[]);
    let token = proxy.token.clone().unwrap();
    let url = format!("{}/api/v1/x", proxy.url);
    let http = client();
    assert_eq!(call(&fx, http.get(&url).bearer_auth(&token)).0, 200);
    fx.av(&["revoke", "bot", "api"]).ok();
    let mut answer = (0, String::new());
    eventually("the proxy refuses the revoked agent", || {
        let (status, _, body) = call(&fx, http.get(&url).bearer_auth(&token));
        answer = (status, body);
        status != 200
    });
    assert_eq!(answer.0, 403, "{}", answer.1);
    let error: serde_json::Value = serde_json::from_str(&answer.1).unwrap();
    assert_eq!(error["reason"], "access-denied");
    let sent = fx.seen().len();
    assert_eq!(call(&fx, http.get(&url).bearer_auth(&token)).0, 403);
    assert_eq!(fx.seen().len(), sent, "nothing is sent once refused");
    // A grant brings it back, again without a restart.
    fx.av(&["grant", "bot", "api"]).ok();
    eventually("the proxy serves the granted agent again", || {
        call(&fx, http.get(&url).bearer_auth(&token)).0 == 200
    });
    let stderr = proxy.stderr();
    drop(proxy);
    fx.assert_no_value_anywhere(&[&stderr]);
}

#[test]
fn a_policy_widened_by_a_pusher_is_refused_by_proxy_and_request() {
    let fx = fixture();
    let proxy = bot_proxy(&fx, &format!("api=api/key@{}", fx.host()), &[]);
    let token = proxy.token.clone().unwrap();
    let url = format!("{}/api/v1/x", proxy.url);
    let http = client();
    assert_eq!(call(&fx, http.get(&url).bearer_auth(&token)).0, 200);

    // Someone with push access widens the policy: a .meta edit, committed without the owner.
    let meta = fx.env.vault_dir().join("secrets/api/key.meta");
    let text = fs::read_to_string(&meta).unwrap();
    let widened = text.replace("  hosts:\n  - ", "  hosts:\n  - evil.example\n  - ");
    assert_ne!(text, widened, "the policy is in the .meta: {text}");
    fs::write(&meta, widened).unwrap();
    fx.env.git(&["add", "-A"]);
    fx.env.git(&["commit", "-q", "--no-verify", "-m", "widen"]);

    let mut answer = (0, String::new());
    eventually("the proxy refuses the tampered vault", || {
        let (status, _, body) = call(&fx, http.get(&url).bearer_auth(&token));
        answer = (status, body);
        status != 200
    });
    assert_eq!(answer.0, 403, "{}", answer.1);
    let error: serde_json::Value = serde_json::from_str(&answer.1).unwrap();
    assert_eq!(error["reason"], "integrity");
    let sent = fx.seen().len();
    fx.bot(&["request", "api/key", "https://evil.example/v1/x"])
        .code(5)
        .stderr_has("agent-vault verify");
    fx.bot(&["request", "api/key", &format!("{}/v1/x", fx.origin())])
        .code(5);
    assert_eq!(
        fx.seen().len(),
        sent,
        "nothing is sent from a tampered vault"
    );
    let audit = fx.audit();
    assert_eq!(audit.last().unwrap()["reason"], "integrity");
    let stderr = proxy.stderr();
    drop(proxy);
    fx.assert_no_value_anywhere(&[&stderr]);
}

#[test]
fn routes_are_checked_at_start() {
    let fx = fixture();
    let host = fx.host();
    fx.secret("api/none", &[]);
    fx.secret(
        "api/multi",
        &[
            "--host",
            &host,
            "--host",
            "*.example.com",
            "--auth",
            "bearer",
        ],
    );
    let start = |route: &str| fx.av(&["proxy", "--listen", "127.0.0.1:0", "--route", route]);
    start("x=api/none").code(4).stderr_has("has no use policy");
    start("x=api/missing")
        .code(3)
        .stderr_has("not in the vault");
    start("x=api/multi")
        .code(2)
        .stderr_has("NAME=api/multi@HOST");
    start("x=api/key@other.example.com")
        .code(4)
        .stderr_has("refused (host)");
    start("x=../key").code(2);
    start("no-equals").code(2);
    fx.av(&[
        "proxy",
        "--route",
        "x=api/key",
        "--route",
        "x=api/multi@a.example.com",
    ])
    .code(2)
    .stderr_has("given twice");
    fx.av(&[
        "proxy",
        "--listen",
        "0.0.0.0:0",
        "--route",
        &format!("x=api/key@{host}"),
    ])
    .code(1)
    .stderr_has("loopback");
}

/// The reason in a refusal the proxy answers with (JSON).
fn reason(body: &str) -> String {
    let error: serde_json::Value =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    error["reason"].as_str().unwrap_or_default().to_string()
}

#[test]
fn the_proxy_refuses_a_method_outside_the_policy_and_an_off_origin_redirect() {
    // api/key allows GET and POST under /v1; /v1/redirect answers 302 to another origin.
    let (fx, other) = refusal_fixture();
    let proxy = bot_proxy(&fx, &format!("api=api/key@{}", fx.host()), &[]);
    let token = proxy.token.clone().unwrap();
    let url = format!("{}/api/v1/x", proxy.url);
    let http = client();

    for method in [reqwest::Method::DELETE, reqwest::Method::PUT] {
        let (status, _, body) = call(&fx, http.request(method.clone(), &url).bearer_auth(&token));
        assert_eq!(
            (status, reason(&body).as_str()),
            (403, "method"),
            "{method}: {body}"
        );
    }
    assert!(fx.seen().is_empty(), "a refused method reached upstream");
    // The same route with an allowed method goes through.
    let (status, _, body) = call(&fx, http.post(&url).bearer_auth(&token).body("x"));
    assert_eq!((status, body.as_str()), (200, "ok"));
    assert_eq!(fx.seen().len(), 1);

    let redirect = format!("{}/api/v1/redirect", proxy.url);
    let (status, headers, body) = call(&fx, http.get(&redirect).bearer_auth(&token));
    assert_eq!(status, 403, "{body}");
    assert_eq!(reason(&body), "redirect-off-origin");
    assert!(headers.get("location").is_none(), "{headers:?}");
    let seen = fx.seen();
    assert_eq!(
        seen.len(),
        2,
        "only the redirecting request reached upstream"
    );
    assert_eq!(seen[1].uri, "/v1/redirect");
    assert!(
        other.requests().is_empty(),
        "the other origin was contacted through the proxy"
    );

    let audit = fx.audit();
    let reasons: Vec<&str> = audit
        .iter()
        .map(|r| r["reason"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(reasons, ["method", "method", "", "redirect-off-origin"]);
    assert_eq!(audit[3]["status"], 302);
    let stderr = proxy.stderr();
    drop(proxy);
    fx.assert_no_value_anywhere(&[&stderr]);
}

/// A child process killed when the test ends, also when it fails.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_plain_http_route_to_a_non_loopback_host_is_refused_at_start() {
    let fx = Fx::new();
    // 0.0.0.0 is not a loopback address, yet on Linux a connection to it reaches a server
    // listening on 127.0.0.1: were the rule broken, this recording server would see the
    // credential arrive in clear.
    let plain = fx.plain_server();
    let host = format!("0.0.0.0:{}", plain.addr.port());
    fx.secret("api/plain", &["--host", &host, "--auth", "bearer"]);
    fx.av(&["grant", "bot", "api"]).ok();
    let route = format!("x=api/plain@http://{host}");
    let mut cmd = fx.env.av_cmd(
        &fx.env.repo,
        &[
            "proxy",
            "--listen",
            "127.0.0.1:0",
            "--route",
            &route,
            "--agent",
            "bot",
            "--offline",
        ],
    );
    let stderr_file = fx.env.root().join("plain-proxy.err");
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(fs::File::create(&stderr_file).unwrap())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    // A bound, not a timing assertion: a proxy that started serving would never exit.
    let mut exit = None;
    eventually("the proxy exits instead of serving", || {
        exit = child.0.try_wait().unwrap();
        exit.is_some()
    });
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.0.stdout.take().unwrap(), &mut stdout).unwrap();
    let stderr = fs::read_to_string(&stderr_file).unwrap();
    assert_eq!(exit.unwrap().code(), Some(4), "{stderr}");
    assert!(stderr.contains("refused (insecure-http)"), "{stderr}");
    assert!(stdout.is_empty(), "it printed a URL or a token: {stdout}");
    // `request` refuses the same URL per request.
    let url = format!("http://{host}/v1/x");
    fx.bot(&["request", "api/plain", &url])
        .code(4)
        .stderr_has("refused (insecure-http)");
    assert!(plain.requests().is_empty(), "sent over plain http");
    assert!(fx.seen().is_empty());
    // The same server named by its loopback address is reached: the recorder records, and
    // the refusals above are the scheme rule's.
    let loopback = format!("127.0.0.1:{}", plain.addr.port());
    fx.secret("api/loop", &["--host", &loopback, "--auth", "bearer"]);
    fx.bot(&["request", "api/loop", &format!("http://{loopback}/v1/x")])
        .ok();
    assert_eq!(plain.requests().len(), 1);
    fx.assert_no_value_anywhere(&[&stderr]);
}

#[test]
fn the_proxy_takes_its_token_and_injects_the_value_through_a_header_template() {
    let fx = Fx::new();
    let host = fx.host();
    let auth = "header:Authorization=Bot {secret}";
    fx.secret(
        "chat/bot",
        &["--host", &host, "--auth", auth, "--path-prefix", "/v1"],
    );
    fx.av(&["grant", "bot", "chat"]).ok();
    let proxy = bot_proxy(&fx, &format!("chat=chat/bot@{host}"), &[]);
    let token = proxy.token.clone().unwrap();
    let url = format!("{}/chat/v1/users/me", proxy.url);
    let http = client();

    // The token goes where the value goes, in the template: `Bearer <token>` is not it.
    let (status, _, _) = call(&fx, http.get(&url).bearer_auth(&token));
    assert_eq!(status, 401);
    assert!(fx.seen().is_empty());

    let bot = format!("Bot {token}");
    let (status, headers, body) = call(&fx, http.get(&url).header("authorization", &bot));
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with("GET /v1/users/me\n"), "{body}");
    assert!(
        body.contains("authorization: Bot [redacted:chat/bot]"),
        "{body}"
    );
    assert_eq!(headers["x-echo-auth"], "Bot [redacted:chat/bot]");
    assert!(headers.get("set-cookie").is_none());
    let seen = fx.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].headers["authorization"],
        format!("Bot {VALUE}").as_str()
    );
    assert!(
        !format!("{:?}", seen[0].headers).contains(&token),
        "the proxy token went upstream"
    );
    let reasons: Vec<String> = fx
        .audit()
        .iter()
        .map(|r| r["reason"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(reasons, ["proxy-token", ""]);
    let stderr = proxy.stderr();
    drop(proxy);
    fx.assert_no_value_anywhere(&[&stderr]);
}
