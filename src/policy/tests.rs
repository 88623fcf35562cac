use super::*;

fn host(s: &str) -> HostRule {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn auth_specs_round_trip_exactly() {
    for spec in [
        "bearer",
        "header:x-api-key",
        "header:Authorization=Bot {secret}",
        "header:X-Token=pre-{secret}-post",
        "basic:deploy",
        "basic:",
        "query:api_key",
    ] {
        let parsed: AuthSpec = spec.parse().unwrap_or_else(|e| panic!("{spec}: {e}"));
        assert_eq!(parsed.to_string(), spec);
    }
    assert_eq!("BEARER".parse::<AuthSpec>().unwrap(), AuthSpec::Bearer);
    assert_eq!(
        "header:X-Api-Key"
            .parse::<AuthSpec>()
            .unwrap()
            .header_name()
            .as_deref(),
        Some("x-api-key")
    );
}

#[test]
fn bad_auth_specs_are_refused_with_a_reason() {
    for (spec, why) in [
        ("", "unknown kind"),
        ("token", "unknown kind"),
        ("cookie:x", "unknown kind"),
        ("header:", "HTTP token"),
        ("header:x api", "HTTP token"),
        ("header:x:y", "HTTP token"),
        ("header:Host", "framing or routing"),
        ("header:content-length", "framing or routing"),
        ("header:x=no placeholder", "exactly once"),
        ("header:x={secret}{secret}", "exactly once"),
        ("header:x=a\r\nb {secret}", "control characters"),
        ("header:x\n=a", "control characters"),
        ("basic:a:b", "cannot contain ':'"),
        ("basic:é", "printable ASCII"),
        ("query:", "non-empty"),
        ("query:a&b", "non-empty"),
        ("query:a=b", "non-empty"),
    ] {
        let err = spec.parse::<AuthSpec>().unwrap_err().to_string();
        assert!(err.contains(why), "{spec:?}: {err}");
        assert!(!err.contains('\n') && !err.contains('\r'), "{err}");
    }
}

#[test]
fn host_rules_parse_and_normalise() {
    assert_eq!(host("API.OpenAI.com").to_string(), "api.openai.com");
    assert_eq!(host("localhost:8443").port, Some(8443));
    assert_eq!(
        host("127.0.0.1:80").host,
        HostPattern::Ipv4([127, 0, 0, 1].into())
    );
    assert_eq!(host("[::1]:8443").to_string(), "[::1]:8443");
    assert_eq!(host("[::1]").port, None);
    assert_eq!(
        host("*.example.com").host,
        HostPattern::Wildcard("example.com".into())
    );
    assert!(host("*.example.com").to_string() == "*.example.com");
    for bad in [
        "",
        ":443",
        "api.openai.com:",
        "api.openai.com:0",
        "api.openai.com:65536",
        "api.openai.com:+1",
        "::1",
        "[::1",
        "[::1]x",
        "[nope]:1",
        "*.com",
        "*",
        "a.*.com",
        "-a.com",
        "a-.com",
        "a..com",
        "a.com.",
        "a_b.com",
        "héllo.com",
        "https://a.com",
        "a.com/x",
        "1.2.3",
        "0x7f.1",
        "user@a.com",
    ] {
        assert!(
            bad.parse::<HostRule>().is_err(),
            "{bad:?} should be refused"
        );
    }
}

#[test]
fn wildcards_match_one_or_more_labels_never_the_parent() {
    let rule = host("*.example.com");
    let m = |h: &str, port: u16| rule.matches(&url::Host::Domain(h), port, 443);
    assert!(m("a.example.com", 443));
    assert!(m("a.b.example.com", 443));
    assert!(!m("example.com", 443));
    assert!(!m("aexample.com", 443));
    assert!(!m("a.example.com.evil.com", 443));
    assert!(
        !m("a.example.com", 8443),
        "no port in the rule: only the default port"
    );
    let exact = host("localhost:8443");
    assert!(exact.matches(&url::Host::Domain("localhost"), 8443, 443));
    assert!(!exact.matches(&url::Host::Domain("localhost"), 443, 443));
}

#[test]
fn yaml_round_trip_keeps_unknown_keys() {
    let yaml = r#"
hosts: [api.openai.com, "*.example.com", "localhost:8443"]
auth: "header:Authorization=Bot {secret}"
methods: [GET, POST]
path_prefixes: [/v1/]
rate_limit: 10
future: {nested: true}
"#;
    let policy: UsePolicy = serde_yaml::from_str(yaml).unwrap();
    policy.validate().unwrap();
    assert_eq!(policy.hosts.len(), 3);
    assert_eq!(policy.extra.len(), 2);
    let again: UsePolicy = serde_yaml::from_str(&serde_yaml::to_string(&policy).unwrap()).unwrap();
    assert_eq!(again, policy);
    let json = serde_json::to_value(&policy).unwrap();
    assert_eq!(json["auth"], "header:Authorization=Bot {secret}");
    assert_eq!(json["hosts"][1], "*.example.com");
    assert_eq!(json["rate_limit"], 10);
}

#[test]
fn invalid_policies_are_refused() {
    assert!(serde_yaml::from_str::<UsePolicy>("hosts: [a.com]\nauth: nope\n").is_err());
    assert!(serde_yaml::from_str::<UsePolicy>("hosts: [a..com]\nauth: bearer\n").is_err());
    let empty: UsePolicy = serde_yaml::from_str("hosts: []\nauth: bearer\n").unwrap();
    assert_eq!(empty.validate(), Err(PolicyError::NoHosts));
    assert_eq!(
        UsePolicy::new(vec![], AuthSpec::Bearer),
        Err(PolicyError::NoHosts)
    );
    let p = UsePolicy::new(vec![host("a.com")], AuthSpec::Bearer).unwrap();
    assert!(p.clone().with_methods(&["GET", "get"]).is_ok());
    assert!(p.clone().with_methods(&["GE T"]).is_err());
    for bad in [
        "v1",
        "/v1/../x",
        "/v1/%2e%2e",
        "/a?b",
        "/a#b",
        "/a%2fb",
        "/a\\b",
    ] {
        assert!(p.clone().with_path_prefixes(&[bad]).is_err(), "{bad}");
    }
}

#[test]
fn path_prefixes_are_segment_aware() {
    let p = UsePolicy::new(vec![host("a.com")], AuthSpec::Bearer)
        .unwrap()
        .with_path_prefixes(&["/v1", "/files/up%20load/"])
        .unwrap();
    let seg = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert!(p.allows_segments(&seg(&["v1"])));
    assert!(p.allows_segments(&seg(&["v1", "chat"])));
    assert!(p.allows_segments(&seg(&["files", "up load", "x"])));
    assert!(!p.allows_segments(&seg(&["v1admin"])));
    assert!(!p.allows_segments(&seg(&[])));
    assert!(!p.allows_segments(&seg(&["v2", "v1"])));
    let any = UsePolicy::new(vec![host("a.com")], AuthSpec::Bearer).unwrap();
    assert!(any.allows_segments(&seg(&[])));
}

#[test]
fn presets_are_valid_and_documented() {
    let names: Vec<&str> = presets().iter().map(|p| p.name).collect();
    for wanted in ["openai", "anthropic", "github", "stripe", "slack"] {
        assert!(names.contains(&wanted), "{wanted}");
        let policy = preset(wanted).unwrap().policy();
        policy.validate().unwrap();
        assert_eq!(policy.hosts.len(), preset(wanted).unwrap().hosts.len());
        assert_eq!(policy.auth.to_string(), preset(wanted).unwrap().auth);
    }
    assert_eq!(
        preset("anthropic")
            .unwrap()
            .policy()
            .auth
            .header_name()
            .as_deref(),
        Some("x-api-key")
    );
    let err = preset("nope").unwrap_err().to_string();
    assert!(err.contains("openai, anthropic"), "{err}");
    let docs = include_str!("mod.rs");
    for p in presets() {
        assert!(
            docs.contains(&format!("| `{}` |", p.name)),
            "{} missing from the docs table",
            p.name
        );
    }
}
