//! Host rules of a use policy: `HOST[:PORT]` entries, exact or `*.` wildcard, and how a URL's
//! host matches them. See the [`policy`](super) module docs for the syntax.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{PolicyError, host_err};

/// The host part of a [`HostRule`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    /// An exact DNS name, lowercase.
    Name(String),
    /// `*.SUFFIX`: one or more labels in front of `SUFFIX` (stored without `*.`).
    Wildcard(String),
    /// An IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 address (written in brackets).
    Ipv6(Ipv6Addr),
}

/// One `HOST[:PORT]` entry of a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HostRule {
    /// The host.
    pub host: HostPattern,
    /// The port; `None` means the scheme's default port only.
    pub port: Option<u16>,
}

impl HostRule {
    /// Whether the rule is a single exact host (not a wildcard), so a route can default to it.
    pub fn is_exact(&self) -> bool {
        !matches!(self.host, HostPattern::Wildcard(_))
    }

    /// The host as it appears in a URL (`api.openai.com`, `[::1]`); `*.x` for wildcards.
    pub fn host_str(&self) -> String {
        match &self.host {
            HostPattern::Name(n) => n.clone(),
            HostPattern::Wildcard(s) => format!("*.{s}"),
            HostPattern::Ipv4(ip) => ip.to_string(),
            HostPattern::Ipv6(ip) => format!("[{ip}]"),
        }
    }

    /// Whether a URL host (as parsed by `url`) and effective port match this rule; `default_port`
    /// is the scheme's default.
    pub fn matches(&self, host: &url::Host<&str>, port: u16, default_port: u16) -> bool {
        if port != self.port.unwrap_or(default_port) {
            return false;
        }
        match (&self.host, host) {
            (HostPattern::Name(n), url::Host::Domain(d)) => n == d,
            (HostPattern::Wildcard(suffix), url::Host::Domain(d)) => d
                .strip_suffix(suffix.as_str())
                .and_then(|front| front.strip_suffix('.'))
                .is_some_and(|front| !front.is_empty() && !front.ends_with('.')),
            (HostPattern::Ipv4(a), url::Host::Ipv4(b)) => a == b,
            (HostPattern::Ipv6(a), url::Host::Ipv6(b)) => a == b,
            _ => false,
        }
    }
}

impl FromStr for HostRule {
    type Err = PolicyError;

    fn from_str(input: &str) -> Result<Self, PolicyError> {
        let lower = input.to_ascii_lowercase();
        let (host, port) = split_host_port(input, &lower)?;
        let pattern = if let Some(inner) = host.strip_prefix('[') {
            let inner = inner
                .strip_suffix(']')
                .ok_or_else(|| host_err(input, "missing ']'"))?;
            HostPattern::Ipv6(
                inner
                    .parse()
                    .map_err(|_| host_err(input, "not an IPv6 address"))?,
            )
        } else if let Ok(ip) = host.parse::<Ipv4Addr>() {
            HostPattern::Ipv4(ip)
        } else if let Some(suffix) = host.strip_prefix("*.") {
            check_dns_name(input, suffix)?;
            if !suffix.contains('.') {
                return Err(host_err(
                    input,
                    "a wildcard needs at least two labels after '*.' (e.g. *.example.com)",
                ));
            }
            HostPattern::Wildcard(suffix.to_string())
        } else {
            check_dns_name(input, host)?;
            HostPattern::Name(host.to_string())
        };
        Ok(HostRule {
            host: pattern,
            port,
        })
    }
}

/// Splits `lower` into host and optional port, refusing unbracketed IPv6.
fn split_host_port<'a>(input: &str, lower: &'a str) -> Result<(&'a str, Option<u16>), PolicyError> {
    let (host, port) = if lower.starts_with('[') {
        match lower.find(']') {
            Some(end) => {
                let rest = &lower[end + 1..];
                match rest.strip_prefix(':') {
                    Some(p) => (&lower[..=end], Some(p)),
                    None if rest.is_empty() => (lower, None),
                    None => return Err(host_err(input, "unexpected text after ']'")),
                }
            }
            None => return Err(host_err(input, "missing ']'")),
        }
    } else {
        match lower.matches(':').count() {
            0 => (lower, None),
            1 => {
                let (h, p) = lower.split_once(':').unwrap_or((lower, ""));
                (h, Some(p))
            }
            _ => {
                return Err(host_err(
                    input,
                    "write IPv6 addresses in brackets: [::1]:8443",
                ));
            }
        }
    };
    let port = match port {
        None => None,
        Some(p) => {
            let valid = !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit());
            match p.parse::<u16>() {
                Ok(n) if valid && n != 0 => Some(n),
                _ => return Err(host_err(input, "the port must be a number from 1 to 65535")),
            }
        }
    };
    if host.is_empty() {
        return Err(host_err(input, "the host is empty"));
    }
    Ok((host, port))
}

/// A lowercase DNS name: labels of `a-z0-9-` (1–63 chars, no leading or trailing '-'), at most
/// 253 characters, whose last label is not numeric (that would be read as an IPv4 address).
fn check_dns_name(input: &str, name: &str) -> Result<(), PolicyError> {
    if name.len() > 253 {
        return Err(host_err(input, "longer than 253 characters"));
    }
    let labels: Vec<&str> = name.split('.').collect();
    for label in &labels {
        let ok = !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !ok {
            return Err(host_err(
                input,
                "not a valid host name (labels of letters, digits and '-', no empty label, no trailing dot; '*.' only at the start)",
            ));
        }
    }
    let last = labels.last().copied().unwrap_or("");
    if last.bytes().all(|b| b.is_ascii_digit()) || last.starts_with("0x") {
        return Err(host_err(input, "not a valid host name or IPv4 address"));
    }
    Ok(())
}

impl fmt::Display for HostRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.host_str())?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        Ok(())
    }
}

impl TryFrom<String> for HostRule {
    type Error = PolicyError;
    fn try_from(s: String) -> Result<Self, PolicyError> {
        s.parse()
    }
}

impl From<HostRule> for String {
    fn from(h: HostRule) -> String {
        h.to_string()
    }
}
