//! The proxy token: where a client presents it (the place the policy injects into), the
//! constant-time check, and its removal before the request reaches the broker.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::HeaderMap;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::broker::policy::AuthSpec;

/// The SHA-256 of the token; candidates are hashed and compared in constant time, so neither
/// the token's bytes nor its length leak through timing.
pub(super) struct TokenDigest([u8; 32]);

impl TokenDigest {
    pub(super) fn new(token: &str) -> TokenDigest {
        TokenDigest(Sha256::digest(token.as_bytes()).into())
    }

    fn matches(&self, candidate: &[u8]) -> bool {
        let digest: [u8; 32] = Sha256::digest(candidate).into();
        digest
            .iter()
            .zip(self.0.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }

    /// Checks the token where `auth` puts the credential (`Bearer` when there is no policy)
    /// and removes it from `headers`/`query`. False when it is missing or wrong.
    pub(super) fn take_from(
        &self,
        auth: Option<&AuthSpec>,
        headers: &mut HeaderMap,
        query: &mut Option<String>,
    ) -> bool {
        match auth {
            None | Some(AuthSpec::Bearer) => self.take_header(headers, "authorization", |v| {
                scheme_param(v, "bearer").is_some_and(|t| self.matches(t))
            }),
            Some(AuthSpec::Basic { .. }) => self.take_header(headers, "authorization", |v| {
                let Some(encoded) = scheme_param(v, "basic") else {
                    return false;
                };
                let Ok(decoded) = STANDARD.decode(encoded) else {
                    return false;
                };
                let decoded = Zeroizing::new(decoded);
                let colon = decoded.iter().position(|&b| b == b':');
                colon.is_some_and(|c| self.matches(&decoded[c + 1..]))
            }),
            Some(AuthSpec::Header { name, template }) => {
                let name = name.to_ascii_lowercase();
                let inner = |v: &[u8]| -> Option<Vec<u8>> {
                    let (before, after) = template.as_deref()?.split_once("{secret}")?;
                    let inner = v
                        .strip_prefix(before.as_bytes())?
                        .strip_suffix(after.as_bytes())?;
                    Some(inner.to_vec())
                };
                self.take_header(headers, &name, |v| {
                    self.matches(v) || inner(v).is_some_and(|i| self.matches(&i))
                })
            }
            Some(AuthSpec::Query { param }) => self.take_query(query, param),
        }
    }

    /// Checks the single `name` header with `check` and removes it on success.
    fn take_header(
        &self,
        headers: &mut HeaderMap,
        name: &str,
        check: impl Fn(&[u8]) -> bool,
    ) -> bool {
        let mut values = headers.get_all(name).iter();
        let (Some(value), None) = (values.next(), values.next()) else {
            return false;
        };
        let ok = check(value.as_bytes());
        if ok {
            headers.remove(name);
        }
        ok
    }

    /// Checks the `param` query parameter (exactly one) and removes it.
    fn take_query(&self, query: &mut Option<String>, param: &str) -> bool {
        let Some(q) = query.as_deref() else {
            return false;
        };
        let mut found = Vec::new();
        let mut kept = Vec::new();
        for pair in q.split('&') {
            let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = form_decode(raw_name);
            if name.as_slice() == param.as_bytes() {
                found.push(form_decode(raw_value));
            } else if !pair.is_empty() {
                kept.push(pair);
            }
        }
        let ok = found.len() == 1 && self.matches(&found[0]);
        if ok {
            *query = (!kept.is_empty()).then(|| kept.join("&"));
        }
        ok
    }
}

/// The parameter of `Scheme param` when the scheme matches (case-insensitively).
fn scheme_param<'a>(value: &'a [u8], scheme: &str) -> Option<&'a [u8]> {
    let space = value.iter().position(|&b| b == b' ')?;
    let (s, rest) = value.split_at(space);
    if !s.eq_ignore_ascii_case(scheme.as_bytes()) {
        return None;
    }
    let rest = &rest[1..];
    let start = rest.iter().position(|&b| b != b' ')?;
    Some(&rest[start..])
}

/// `application/x-www-form-urlencoded` decoding of one name or value.
fn form_decode(raw: &str) -> Zeroizing<Vec<u8>> {
    let plus_as_space = raw.replace('+', " ");
    Zeroizing::new(percent_encoding::percent_decode_str(&plus_as_space).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn the_token_is_taken_from_where_the_policy_injects() {
        let t = TokenDigest::new("tok-123");
        let mut none = None;
        let spec = |s: &str| s.parse::<AuthSpec>().unwrap();

        let mut h = headers(&[("authorization", "Bearer tok-123"), ("x-other", "1")]);
        assert!(t.take_from(Some(&spec("bearer")), &mut h, &mut none));
        assert!(h.get("authorization").is_none() && h.get("x-other").is_some());

        let mut h = headers(&[("authorization", "bearer tok-12")]);
        assert!(!t.take_from(None, &mut h, &mut none));
        assert!(
            h.get("authorization").is_some(),
            "a wrong token is left for the broker to refuse"
        );

        let mut h = headers(&[("x-api-key", "tok-123")]);
        assert!(t.take_from(Some(&spec("header:X-Api-Key")), &mut h, &mut none));
        assert!(h.is_empty());

        for v in ["Bot tok-123", "tok-123"] {
            let mut h = headers(&[("authorization", v)]);
            assert!(t.take_from(
                Some(&spec("header:Authorization=Bot {secret}")),
                &mut h,
                &mut none
            ));
        }

        let basic = format!("Basic {}", STANDARD.encode("anyone:tok-123"));
        let mut h = headers(&[("authorization", &basic)]);
        assert!(t.take_from(Some(&spec("basic:me")), &mut h, &mut none));

        let mut q = Some("a=1&key=tok%2D123&b=2".to_string());
        assert!(t.take_from(Some(&spec("query:key")), &mut HeaderMap::new(), &mut q));
        assert_eq!(q.as_deref(), Some("a=1&b=2"));
        let mut q = Some("key=tok-123&key=tok-123".to_string());
        assert!(!t.take_from(Some(&spec("query:key")), &mut HeaderMap::new(), &mut q));
    }

    #[test]
    fn two_token_headers_or_none_are_refused() {
        let t = TokenDigest::new("tok");
        let mut none = None;
        let mut h = headers(&[
            ("authorization", "Bearer tok"),
            ("authorization", "Bearer tok"),
        ]);
        assert!(!t.take_from(None, &mut h, &mut none));
        assert!(!t.take_from(None, &mut HeaderMap::new(), &mut none));
        let mut h = headers(&[("authorization", "Basic !!!")]);
        assert!(!t.take_from(Some(&"basic:u".parse().unwrap()), &mut h, &mut none));
    }
}
