//! The broker's decision on a request URL and method under a policy: never panics, and a
//! request it allows is https (or loopback http) to a host the policy names, under an allowed
//! path prefix, with no `..` left in the path.
#![no_main]
use agent_vault::broker::{BrokerRequest, decide::decide};
use agent_vault::policy::UsePolicy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (method, url) = text.split_once(' ').unwrap_or(("GET", text));
    let Ok(method) = http::Method::from_bytes(method.as_bytes()) else {
        return;
    };
    let policy = UsePolicy::new(
        vec!["api.example.com".parse().unwrap(), "*.example.org:8443".parse().unwrap()],
        "bearer".parse().unwrap(),
    )
    .unwrap()
    .with_path_prefixes(&["/v1"])
    .unwrap();
    if let Ok(decision) = decide("fuzz/secret", &policy, &BrokerRequest::new(method, url)) {
        let path = decision.path.as_str();
        assert!(path == "/v1" || path.starts_with("/v1/"), "{path}");
        assert!(!path.split('/').any(|s| s == ".." || s == "."), "{path}");
    }
});
