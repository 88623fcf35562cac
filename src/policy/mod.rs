//! The use policy of a secret: where and how the broker may use its value. Pure data, no I/O.
//!
//! A policy is stored as the `policy` key of the secret's `.meta` YAML file, so the owner's
//! signature covers it:
//!
//! ```yaml
//! policy:
//!   hosts: [api.openai.com, "*.example.com", "localhost:8443"]
//!   auth: bearer
//!   methods: [GET, POST]      # optional; absent = any method
//!   path_prefixes: [/v1/]     # optional; absent = "/"
//! ```
//!
//! * **hosts** — `HOST[:PORT]`, lowercase. `HOST` is a DNS name, an IPv4 address or a bracketed
//!   IPv6 address (`[::1]:8443`), or `*.` followed by a DNS name of at least two labels, which
//!   matches one or more labels in front of it and never the bare parent (`*.example.com`
//!   matches `a.example.com` and `a.b.example.com`, not `example.com`). Without a port, only the
//!   scheme's default port matches (443 for https, 80 for http).
//! * **auth** — an [`AuthSpec`]: `bearer`, `header:NAME`, `header:NAME=TEMPLATE` (TEMPLATE holds
//!   `{secret}` exactly once), `basic:USER` (the secret is the password) or `query:PARAM`.
//! * **methods** — HTTP methods, compared case-insensitively.
//! * **path_prefixes** — segment-aware prefixes: `/v1` allows `/v1` and `/v1/x`, not `/v1admin`.
//!
//! Keys this version does not know are kept in [`UsePolicy::extra`] and written back unchanged.
//!
//! ## Presets
//!
//! [`presets`] is the built-in table behind `agent-vault policy PATH --preset NAME`:
//!
//! | preset | hosts | auth | path prefixes | notes |
//! |---|---|---|---|---|
//! | `openai` | `api.openai.com` | `bearer` | `/v1` | OpenAI API keys (`sk-…`) |
//! | `anthropic` | `api.anthropic.com` | `header:x-api-key` | `/v1` | Anthropic API keys; clients still send `anthropic-version` themselves |
//! | `github` | `api.github.com` | `bearer` | any | tokens for the REST and GraphQL APIs; not `uploads.github.com` |
//! | `stripe` | `api.stripe.com` | `bearer` | any | secret or restricted keys (`sk_…`, `rk_…`); v1 and v2 APIs |
//! | `slack` | `slack.com` | `bearer` | `/api` | bot/user tokens for the Web API (`https://slack.com/api/…`). Workspace subdomains (`*.slack.com`) are deliberately not included: the Web API does not need them, and incoming-webhook URLs are secrets in themselves, not tokens |

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

mod host_rule;
pub use host_rule::{HostPattern, HostRule};

/// Why a policy, host rule or auth spec is invalid. Messages name the offending input (never a
/// secret value: policies hold none) and what a valid one looks like.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The policy lists no host.
    #[error("a use policy needs at least one host (--host HOST[:PORT])")]
    NoHosts,
    /// A host rule is not `HOST[:PORT]`.
    #[error("invalid host '{input}': {reason}")]
    Host { input: String, reason: String },
    /// The auth spec is not one of the accepted forms.
    #[error(
        "invalid auth '{input}': {reason} (expected bearer, header:NAME, header:NAME=TEMPLATE with {{secret}}, basic:USER or query:PARAM)"
    )]
    Auth { input: String, reason: String },
    /// A method is not an HTTP token.
    #[error("invalid method '{0}': methods are HTTP tokens such as GET or POST")]
    Method(String),
    /// A path prefix is not an absolute path without dot segments.
    #[error("invalid path prefix '{input}': {reason}")]
    PathPrefix { input: String, reason: String },
    /// No preset has that name.
    #[error("unknown preset '{name}': the presets are {known}")]
    UnknownPreset { name: String, known: String },
}

fn host_err(input: &str, reason: impl Into<String>) -> PolicyError {
    PolicyError::Host {
        input: input.to_string(),
        reason: reason.into(),
    }
}

fn auth_err(input: &str, reason: impl Into<String>) -> PolicyError {
    PolicyError::Auth {
        input: printable(input),
        reason: reason.into(),
    }
}

/// The input with control characters shown escaped, for error messages.
fn printable(input: &str) -> String {
    input.escape_debug().to_string()
}

/// The use policy of one secret. See the module documentation for the YAML form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsePolicy {
    /// Where the value may be sent.
    pub hosts: Vec<HostRule>,
    /// How it is injected into the request.
    pub auth: AuthSpec,
    /// Allowed methods; `None` allows any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub methods: Option<Vec<String>>,
    /// Allowed path prefixes; `None` allows every path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefixes: Option<Vec<String>>,
    /// Keys unknown to this version, preserved as they were.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_yaml::Value>,
}

impl UsePolicy {
    /// A policy for `hosts` and `auth` allowing every method and path.
    pub fn new(hosts: Vec<HostRule>, auth: AuthSpec) -> Result<UsePolicy, PolicyError> {
        let policy = UsePolicy {
            hosts,
            auth,
            methods: None,
            path_prefixes: None,
            extra: BTreeMap::new(),
        };
        policy.validate()?;
        Ok(policy)
    }

    /// Restricts the policy to `methods` (stored uppercase).
    pub fn with_methods<S: AsRef<str>>(mut self, methods: &[S]) -> Result<Self, PolicyError> {
        let methods = methods
            .iter()
            .map(|m| m.as_ref().to_ascii_uppercase())
            .collect();
        self.methods = Some(methods);
        self.validate()?;
        Ok(self)
    }

    /// Restricts the policy to `prefixes`.
    pub fn with_path_prefixes<S: AsRef<str>>(
        mut self,
        prefixes: &[S],
    ) -> Result<Self, PolicyError> {
        self.path_prefixes = Some(prefixes.iter().map(|p| p.as_ref().to_string()).collect());
        self.validate()?;
        Ok(self)
    }

    /// Checks what deserialization cannot: at least one host, methods are tokens, prefixes are
    /// absolute paths without `.`/`..` segments. The broker calls it before every decision.
    pub fn validate(&self) -> Result<(), PolicyError> {
        if self.hosts.is_empty() {
            return Err(PolicyError::NoHosts);
        }
        for method in self.methods.iter().flatten() {
            if !is_token(method) {
                return Err(PolicyError::Method(printable(method)));
            }
        }
        for prefix in self.path_prefixes.iter().flatten() {
            prefix_segments(prefix)?;
        }
        Ok(())
    }

    /// Whether `method` is allowed.
    pub fn allows_method(&self, method: &str) -> bool {
        match &self.methods {
            None => true,
            Some(methods) => methods.iter().any(|m| m.eq_ignore_ascii_case(method)),
        }
    }

    /// Whether the normalised, decoded path `segments` lies under an allowed prefix.
    pub(crate) fn allows_segments(&self, segments: &[String]) -> bool {
        let Some(prefixes) = &self.path_prefixes else {
            return true;
        };
        prefixes.iter().any(|prefix| match prefix_segments(prefix) {
            Ok(wanted) => {
                wanted.len() <= segments.len() && wanted.iter().zip(segments).all(|(a, b)| a == b)
            }
            Err(_) => false,
        })
    }
}

/// The decoded, non-empty segments of a path prefix (`/v1/` → `["v1"]`, `/` → `[]`).
pub(crate) fn prefix_segments(prefix: &str) -> Result<Vec<String>, PolicyError> {
    let bad = |reason: &str| PolicyError::PathPrefix {
        input: printable(prefix),
        reason: reason.to_string(),
    };
    if !prefix.starts_with('/') {
        return Err(bad("it must start with '/'"));
    }
    if prefix
        .chars()
        .any(|c| c.is_control() || c == '?' || c == '#' || c == '\\' || c == ' ')
    {
        return Err(bad(
            "it must not contain spaces, control characters, '?', '#' or '\\'",
        ));
    }
    let mut out = Vec::new();
    for raw in prefix.split('/').filter(|s| !s.is_empty()) {
        let decoded = percent_encoding::percent_decode_str(raw)
            .decode_utf8()
            .map_err(|_| bad("it is not valid UTF-8 once percent-decoded"))?;
        if decoded == "." || decoded == ".." || decoded.contains('/') {
            return Err(bad("'.', '..' and encoded '/' segments are not allowed"));
        }
        out.push(decoded.into_owned());
    }
    Ok(out)
}

/// `tchar` of RFC 9110: the characters of header names and methods.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// How the broker injects the value. `FromStr`/`Display` use the `--auth SPEC` syntax.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum AuthSpec {
    /// `Authorization: Bearer <value>`.
    Bearer,
    /// `NAME: <value>`, or `NAME: TEMPLATE` with `{secret}` replaced by the value.
    Header {
        /// The header name as written (compared case-insensitively).
        name: String,
        /// The template holding `{secret}` exactly once, if any.
        template: Option<String>,
    },
    /// `Authorization: Basic base64(USER:value)`.
    Basic {
        /// The user name (no ':' in it; may be empty).
        user: String,
    },
    /// `?PARAM=<percent-encoded value>` appended to the query.
    Query {
        /// The query parameter name.
        param: String,
    },
}

/// Header names that carry framing or routing: injecting a value there would break requests.
const FORBIDDEN_AUTH_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "upgrade",
    "proxy-connection",
];

impl AuthSpec {
    /// The header this spec injects into, lowercase (`None` for query auth).
    pub fn header_name(&self) -> Option<String> {
        match self {
            AuthSpec::Bearer | AuthSpec::Basic { .. } => Some("authorization".to_string()),
            AuthSpec::Header { name, .. } => Some(name.to_ascii_lowercase()),
            AuthSpec::Query { .. } => None,
        }
    }

    /// The query parameter this spec injects into, for query auth.
    pub fn query_param(&self) -> Option<&str> {
        match self {
            AuthSpec::Query { param } => Some(param),
            _ => None,
        }
    }
}

impl FromStr for AuthSpec {
    type Err = PolicyError;

    fn from_str(spec: &str) -> Result<Self, PolicyError> {
        if spec.chars().any(|c| c.is_control()) {
            return Err(auth_err(
                spec,
                "control characters (CR, LF, NUL, …) are not allowed",
            ));
        }
        if spec.eq_ignore_ascii_case("bearer") {
            return Ok(AuthSpec::Bearer);
        }
        let Some((kind, rest)) = spec.split_once(':') else {
            return Err(auth_err(spec, "unknown kind"));
        };
        match kind.to_ascii_lowercase().as_str() {
            "header" => parse_header_spec(spec, rest),
            "basic" => {
                if rest.contains(':') {
                    return Err(auth_err(spec, "a basic-auth user name cannot contain ':'"));
                }
                if !rest.bytes().all(|b| (0x20..0x7f).contains(&b)) {
                    return Err(auth_err(spec, "the user name must be printable ASCII"));
                }
                Ok(AuthSpec::Basic {
                    user: rest.to_string(),
                })
            }
            "query" => {
                let ok = !rest.is_empty()
                    && rest
                        .bytes()
                        .all(|b| b.is_ascii_graphic() && !b"&=#?+%".contains(&b));
                if !ok {
                    return Err(auth_err(
                        spec,
                        "PARAM must be non-empty printable ASCII without '&', '=', '#', '?', '+', '%' or spaces",
                    ));
                }
                Ok(AuthSpec::Query {
                    param: rest.to_string(),
                })
            }
            _ => Err(auth_err(spec, "unknown kind")),
        }
    }
}

fn parse_header_spec(spec: &str, rest: &str) -> Result<AuthSpec, PolicyError> {
    let (name, template) = match rest.split_once('=') {
        Some((name, template)) => (name, Some(template)),
        None => (rest, None),
    };
    if !is_token(name) {
        return Err(auth_err(spec, "the header name must be an HTTP token"));
    }
    if FORBIDDEN_AUTH_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
        return Err(auth_err(
            spec,
            format!("'{name}' controls framing or routing and cannot carry a credential"),
        ));
    }
    if let Some(template) = template {
        if template.matches("{secret}").count() != 1 {
            return Err(auth_err(
                spec,
                "the template must contain {secret} exactly once",
            ));
        }
        if !template
            .bytes()
            .all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
        {
            return Err(auth_err(spec, "the template must be printable ASCII"));
        }
    }
    Ok(AuthSpec::Header {
        name: name.to_string(),
        template: template.map(str::to_string),
    })
}

impl fmt::Display for AuthSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthSpec::Bearer => f.write_str("bearer"),
            AuthSpec::Header {
                name,
                template: None,
            } => write!(f, "header:{name}"),
            AuthSpec::Header {
                name,
                template: Some(t),
            } => write!(f, "header:{name}={t}"),
            AuthSpec::Basic { user } => write!(f, "basic:{user}"),
            AuthSpec::Query { param } => write!(f, "query:{param}"),
        }
    }
}

impl TryFrom<String> for AuthSpec {
    type Error = PolicyError;
    fn try_from(s: String) -> Result<Self, PolicyError> {
        s.parse()
    }
}

impl From<AuthSpec> for String {
    fn from(a: AuthSpec) -> String {
        a.to_string()
    }
}

/// One built-in policy template (see the module documentation's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preset {
    /// The name given to `--preset`.
    pub name: &'static str,
    /// One line for help texts.
    pub description: &'static str,
    /// The host rules.
    pub hosts: &'static [&'static str],
    /// The auth spec.
    pub auth: &'static str,
    /// Path prefixes, empty for any path.
    pub path_prefixes: &'static [&'static str],
}

impl Preset {
    /// The policy this preset stands for (any method).
    pub fn policy(&self) -> UsePolicy {
        let hosts = self.hosts.iter().filter_map(|h| h.parse().ok()).collect();
        let auth = self.auth.parse().unwrap_or(AuthSpec::Bearer);
        let prefixes = if self.path_prefixes.is_empty() {
            None
        } else {
            Some(self.path_prefixes.iter().map(|p| p.to_string()).collect())
        };
        UsePolicy {
            hosts,
            auth,
            methods: None,
            path_prefixes: prefixes,
            extra: BTreeMap::new(),
        }
    }
}

const PRESETS: &[Preset] = &[
    Preset {
        name: "openai",
        description: "OpenAI API (api.openai.com/v1, Authorization: Bearer)",
        hosts: &["api.openai.com"],
        auth: "bearer",
        path_prefixes: &["/v1"],
    },
    Preset {
        name: "anthropic",
        description: "Anthropic API (api.anthropic.com/v1, x-api-key header)",
        hosts: &["api.anthropic.com"],
        auth: "header:x-api-key",
        path_prefixes: &["/v1"],
    },
    Preset {
        name: "github",
        description: "GitHub REST and GraphQL APIs (api.github.com, Authorization: Bearer)",
        hosts: &["api.github.com"],
        auth: "bearer",
        path_prefixes: &[],
    },
    Preset {
        name: "stripe",
        description: "Stripe API (api.stripe.com, Authorization: Bearer)",
        hosts: &["api.stripe.com"],
        auth: "bearer",
        path_prefixes: &[],
    },
    Preset {
        name: "slack",
        description: "Slack Web API (slack.com/api, Authorization: Bearer)",
        hosts: &["slack.com"],
        auth: "bearer",
        path_prefixes: &["/api"],
    },
];

/// The built-in presets, in documentation order.
pub fn presets() -> &'static [Preset] {
    PRESETS
}

/// The preset called `name`, or an error listing the known ones.
pub fn preset(name: &str) -> Result<&'static Preset, PolicyError> {
    PRESETS
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| PolicyError::UnknownPreset {
            name: printable(name),
            known: PRESETS
                .iter()
                .map(|p| p.name)
                .collect::<Vec<_>>()
                .join(", "),
        })
}

#[cfg(test)]
mod tests;
