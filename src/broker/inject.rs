//! Injection: where the value goes in the outgoing request, per the policy's [`AuthSpec`].
//!
//! | auth | injected |
//! |---|---|
//! | `bearer` | `Authorization: Bearer <value>` |
//! | `header:NAME` | `NAME: <value>` |
//! | `header:NAME=TEMPLATE` | `NAME: TEMPLATE` with `{secret}` replaced by the value |
//! | `basic:USER` | `Authorization: Basic base64(USER:value)` |
//! | `query:PARAM` | `PARAM=<value percent-encoded (RFC 3986)>` appended to the query |
//!
//! A value placed in a header as-is must be visible ASCII, with spaces or tabs only inside;
//! anything else (CR, LF, NUL, other control or non-ASCII bytes) is a
//! [`RefusalReason::CredentialValue`] refusal, never a panic. Basic and query auth encode the
//! value, so any bytes work there. The formatted values live in zeroizing buffers; the copies
//! that `http`/`hyper`/`rustls` make on their way to the socket are not zeroized (they are
//! marked sensitive so HTTP/2 never indexes them).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::HeaderMap;
use http::header::{AUTHORIZATION, HeaderName, HeaderValue};
use url::Url;
use zeroize::Zeroizing;

use super::policy::AuthSpec;
use super::redact::{RFC3986, percent};
use super::refusal::{Refusal, RefusalReason};

/// The prepared injection for one request (and its same-origin redirects).
pub(crate) struct Injection {
    header: Option<(HeaderName, HeaderValue)>,
    query: Option<(String, Zeroizing<String>)>,
}

impl Injection {
    /// Prepares the injection of `value` (of secret `secret`) as `auth` says.
    pub(crate) fn new(secret: &str, auth: &AuthSpec, value: &[u8]) -> Result<Injection, Refusal> {
        let header = |name: HeaderName, bytes: &[u8]| -> Result<Injection, Refusal> {
            let mut value = HeaderValue::from_bytes(bytes).map_err(|_| unfit(secret))?;
            value.set_sensitive(true);
            Ok(Injection {
                header: Some((name, value)),
                query: None,
            })
        };
        match auth {
            AuthSpec::Bearer => {
                check_header_safe(secret, value)?;
                let mut buf = Zeroizing::new(b"Bearer ".to_vec());
                buf.extend_from_slice(value);
                header(AUTHORIZATION, &buf)
            }
            AuthSpec::Header { name, template } => {
                check_header_safe(secret, value)?;
                let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                    Refusal::new(
                        RefusalReason::InvalidPolicy,
                        "the policy's header name is invalid",
                    )
                })?;
                let mut buf = Zeroizing::new(Vec::new());
                match template {
                    None => buf.extend_from_slice(value),
                    Some(t) => {
                        let (before, after) = t.split_once("{secret}").unwrap_or((t, ""));
                        buf.extend_from_slice(before.as_bytes());
                        buf.extend_from_slice(value);
                        buf.extend_from_slice(after.as_bytes());
                    }
                }
                header(name, &buf)
            }
            AuthSpec::Basic { user } => {
                let mut pair = Zeroizing::new(format!("{user}:").into_bytes());
                pair.extend_from_slice(value);
                let encoded = Zeroizing::new(STANDARD.encode(&*pair));
                let mut buf = Zeroizing::new(b"Basic ".to_vec());
                buf.extend_from_slice(encoded.as_bytes());
                header(AUTHORIZATION, &buf)
            }
            AuthSpec::Query { param } => {
                let encoded = percent(value, RFC3986, false);
                let encoded = Zeroizing::new(String::from_utf8_lossy(&encoded).into_owned());
                Ok(Injection {
                    header: None,
                    query: Some((param.clone(), encoded)),
                })
            }
        }
    }

    /// Adds the credential to `url` and `headers`.
    pub(crate) fn apply(&self, url: &mut Url, headers: &mut HeaderMap) {
        if let Some((name, value)) = &self.header {
            headers.insert(name.clone(), value.clone());
        }
        if let Some((param, encoded)) = &self.query {
            let param = percent(param.as_bytes(), RFC3986, false);
            let param = String::from_utf8_lossy(&param);
            let query = Zeroizing::new(match url.query() {
                Some(q) if !q.is_empty() => format!("{q}&{param}={}", encoded.as_str()),
                _ => format!("{param}={}", encoded.as_str()),
            });
            url.set_query(Some(&query));
        }
    }
}

/// Visible ASCII, with spaces or tabs only between visible characters.
fn check_header_safe(secret: &str, value: &[u8]) -> Result<(), Refusal> {
    let visible = |b: &u8| (0x21..0x7f).contains(b);
    let inner_ok = value
        .iter()
        .all(|b| visible(b) || *b == b' ' || *b == b'\t');
    let ends_ok = value.first().is_some_and(visible) && value.last().is_some_and(visible);
    if inner_ok && ends_ok {
        Ok(())
    } else {
        Err(unfit(secret))
    }
}

fn unfit(secret: &str) -> Refusal {
    Refusal::new(
        RefusalReason::CredentialValue,
        format!(
            "the value of '{secret}' cannot be sent in an HTTP header (it is empty, has leading or trailing whitespace, or a control or non-ASCII byte such as a newline); ask the vault owner to store it without them, or to use basic or query auth"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inject(auth: &str, value: &[u8]) -> Result<(Url, HeaderMap), Refusal> {
        let inj = Injection::new("t/k", &auth.parse().unwrap(), value)?;
        let mut url = Url::parse("https://h/p?a=1").unwrap();
        let mut headers = HeaderMap::new();
        inj.apply(&mut url, &mut headers);
        Ok((url, headers))
    }

    #[test]
    fn each_auth_kind_lands_where_the_policy_says() {
        let (_, h) = inject("bearer", b"sk-1").unwrap();
        assert_eq!(h["authorization"], "Bearer sk-1");
        assert!(h["authorization"].is_sensitive());
        let (_, h) = inject("header:X-Api-Key", b"k1").unwrap();
        assert_eq!(h["x-api-key"], "k1");
        let (_, h) = inject("header:Authorization=Bot {secret}!", b"k2").unwrap();
        assert_eq!(h["authorization"], "Bot k2!");
        let (_, h) = inject("basic:me", b"pw").unwrap();
        assert_eq!(
            h["authorization"],
            format!("Basic {}", STANDARD.encode("me:pw"))
        );
        let (u, h) = inject("query:key", b"a b&c/\xff").unwrap();
        assert!(h.is_empty());
        assert_eq!(u.query(), Some("a=1&key=a%20b%26c%2F%FF"));
    }

    #[test]
    fn values_unfit_for_headers_are_refused_not_panicked() {
        for bad in [
            &b"a\r\nX: y"[..],
            b"a\0b",
            b"\xff\xfe",
            b"",
            b" lead",
            b"trail\n",
        ] {
            let err = inject("bearer", bad).unwrap_err();
            assert_eq!(err.reason, RefusalReason::CredentialValue);
            let err = inject("header:x-k=Key {secret}", bad).unwrap_err();
            assert_eq!(err.reason, RefusalReason::CredentialValue);
        }
        // Basic and query encode the value: any bytes work.
        assert!(inject("basic:u", b"a\r\n\0\xff").is_ok());
        assert!(inject("query:k", b"a\r\n\0\xff").is_ok());
        assert!(inject("bearer", b"in ner").is_ok());
    }
}
