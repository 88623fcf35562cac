use http::HeaderValue;

use super::*;
use crate::broker::policy::UsePolicy;

fn policy(yaml: &str) -> UsePolicy {
    serde_yaml::from_str(yaml).unwrap()
}

fn api() -> UsePolicy {
    policy(
        "hosts: [api.example.com, '*.svc.example.com', 'localhost:8443', '127.0.0.1:9000', '[::1]:9001']\nauth: bearer\nmethods: [GET, POST]\npath_prefixes: [/v1]\n",
    )
}

fn req(method: &str, url: &str) -> BrokerRequest {
    BrokerRequest::new(method.parse().unwrap(), url)
}

fn refusal(p: &UsePolicy, r: &BrokerRequest) -> RefusalReason {
    match decide("t/key", p, r) {
        Ok(d) => panic!("{} was allowed: {d:?}", r.url),
        Err(e) => {
            assert!(e.message.len() > 20, "{}", e.message);
            e.reason
        }
    }
}

#[test]
fn allowed_requests_resolve_to_url_host_and_path() {
    let p = api();
    let d = decide(
        "t/key",
        &p,
        &req("GET", "https://API.example.com/v1/models?limit=2#frag"),
    )
    .unwrap();
    assert_eq!(d.url.as_str(), "https://api.example.com/v1/models?limit=2");
    assert_eq!(d.host, "api.example.com");
    assert_eq!(d.path, "/v1/models");
    for ok in [
        "https://api.example.com/v1",
        "https://api.example.com:443/v1/",
        "https://a.svc.example.com/v1/x",
        "https://a.b.svc.example.com/v1/x%20y",
        "https://localhost:8443/v1/x",
        "http://localhost:8443/v1/x",
        "http://127.0.0.1:9000/v1",
        "http://[::1]:9001/v1/a/b//c",
        "https://api.example.com/v1/a%2Bb?x=%2e%2e",
    ] {
        decide("t/key", &p, &req("post", ok)).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
}

#[test]
fn hosts_ports_and_schemes_outside_the_policy_are_refused() {
    let p = api();
    use RefusalReason::*;
    for (url, why) in [
        ("https://evil.com/v1", Host),
        ("https://api.example.com.evil.com/v1", Host),
        ("https://svc.example.com/v1", Host),
        ("https://api.example.com:8443/v1", Host),
        ("https://localhost/v1", Host),
        ("https://127.0.0.1:9001/v1", Host),
        ("http://api.example.com/v1", InsecureHttp),
        ("http://10.0.0.1:9000/v1", InsecureHttp),
        ("http://localhost.evil.com:8443/v1", InsecureHttp),
        ("ftp://api.example.com/v1", Scheme),
        ("file:///etc/passwd", Scheme),
        ("https://user:pw@api.example.com/v1", Userinfo),
        ("https://user@api.example.com/v1", Userinfo),
        ("api.example.com/v1", BadUrl),
        ("https:api.example.com/v1", BadUrl),
        ("https://api.example.com/v1/a b", BadUrl),
        ("https://api.example.com/v1/\n", BadUrl),
        ("https://api.example.com\\v1", BadUrl),
        ("https://api.example.com./v1", Host),
    ] {
        assert_eq!(refusal(&p, &req("GET", url)), why, "{url}");
    }
}

#[test]
fn methods_and_paths_outside_the_policy_are_refused() {
    let p = api();
    use RefusalReason::*;
    assert_eq!(
        refusal(&p, &req("DELETE", "https://api.example.com/v1/x")),
        Method
    );
    let any = policy("hosts: [api.example.com]\nauth: bearer\n");
    for never in ["TRACE", "CONNECT"] {
        assert_eq!(
            refusal(&any, &req(never, "https://api.example.com/")),
            Method
        );
    }
    for url in [
        "https://api.example.com/v2",
        "https://api.example.com/v1admin",
        "https://api.example.com/",
        "https://api.example.com",
        "https://api.example.com/v1/../admin",
        "https://api.example.com/v1/./x",
        "https://api.example.com/v1/%2e%2e/admin",
        "https://api.example.com/v1/%2E%2E/admin",
        "https://api.example.com/v1/%2E./admin",
        "https://api.example.com/v1/.%2e/admin",
        "https://api.example.com/v1/%2e",
        "https://api.example.com/v1/..",
        "https://api.example.com/v1/a%2fb",
        "https://api.example.com/v1/a%2F..%2Fb",
        "https://api.example.com/v1/a%5cb",
        "https://api.example.com/v1/a%00",
        "https://api.example.com/v1/a%zz",
        "https://api.example.com/v1/a%2",
        "https://api.example.com/v1/%ff",
        "https://api.example.com/%76%31admin",
    ] {
        assert_eq!(refusal(&p, &req("GET", url)), Path, "{url}");
    }
    // Percent-encoded segments are compared decoded.
    decide("t/key", &p, &req("GET", "https://api.example.com/%76%31/x")).unwrap();
}

#[test]
fn caller_credentials_are_refused() {
    let p = policy("hosts: [api.example.com]\nauth: header:X-Api-Key\n");
    for name in [
        "authorization",
        "proxy-authorization",
        "cookie",
        "x-api-key",
    ] {
        let mut r = req("GET", "https://api.example.com/");
        r.headers.insert(
            http::HeaderName::from_static(name),
            HeaderValue::from_static("smuggled"),
        );
        assert_eq!(refusal(&p, &r), RefusalReason::AuthHeader, "{name}");
    }
    let mut r = req("GET", "https://api.example.com/");
    r.headers
        .insert("host", HeaderValue::from_static("evil.com"));
    assert_eq!(refusal(&p, &r), RefusalReason::BadHeader);
    let q = policy("hosts: [api.example.com]\nauth: query:key\n");
    for url in [
        "https://api.example.com/?key=x",
        "https://api.example.com/?a=1&KEY=x",
        "https://api.example.com/?k%65y=x",
    ] {
        assert_eq!(
            refusal(&q, &req("GET", url)),
            RefusalReason::AuthQuery,
            "{url}"
        );
    }
    // Other headers pass; the ones the broker owns are dropped, not refused.
    let mut r = req("GET", "https://api.example.com/");
    r.headers.insert("x-trace", HeaderValue::from_static("1"));
    r.headers
        .insert("accept-encoding", HeaderValue::from_static("gzip"));
    r.headers
        .insert("connection", HeaderValue::from_static("close"));
    decide("t/key", &p, &r).unwrap();
    let fwd = forwarded_headers(&r.headers);
    assert_eq!(fwd.len(), 1);
    assert!(fwd.contains_key("x-trace"));
}

#[test]
fn an_invalid_policy_is_refused_not_trusted() {
    let p = policy("hosts: []\nauth: bearer\n");
    assert_eq!(
        refusal(&p, &req("GET", "https://a.com/")),
        RefusalReason::InvalidPolicy
    );
}

#[test]
fn raw_path_extraction() {
    assert_eq!(raw_path("https://h/a/b?c#d"), "/a/b");
    assert_eq!(raw_path("https://h?c"), "");
    assert_eq!(raw_path("https://h#x/y"), "");
    assert_eq!(raw_path("https://h:1/%2e%2e/"), "/%2e%2e/");
}
