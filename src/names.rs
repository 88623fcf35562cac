//! Validated names. Secret paths, agent names and group names end up in file paths and
//! commit messages, so they are checked here, once, before any file is touched.

use std::fmt;

use crate::{Error, Result};

/// Longest accepted secret path, in bytes.
pub const MAX_SECRET_PATH_LEN: usize = 200;
/// Longest accepted segment of a secret path, in bytes.
pub const MAX_SEGMENT_LEN: usize = 100;
/// Longest accepted agent or group name, in bytes.
pub const MAX_NAME_LEN: usize = 64;
/// The group of a single-segment secret path when none is given.
pub const DEFAULT_GROUP: &str = "default";

/// A secret's path: `/`-separated segments of `[A-Za-z0-9_][A-Za-z0-9._-]*`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SecretPath(String);

/// An agent's name: `[a-z0-9][a-z0-9._-]*`, at most 64 bytes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AgentName(String);

/// A group's name: `[a-z0-9][a-z0-9._-]*`, at most 64 bytes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupName(String);

fn invalid(what: &'static str, value: &str, reason: impl Into<String>) -> Error {
    // Cap what we echo back: the input may be something pasted by mistake.
    let shown: String = value.chars().take(80).collect();
    Error::InvalidName {
        what,
        value: shown.escape_debug().to_string(),
        reason: reason.into(),
    }
}

impl SecretPath {
    /// Validates a secret path such as `stripe/api-key`.
    pub fn parse(value: &str) -> Result<Self> {
        const WHAT: &str = "secret path";
        const RULE: &str = "use `/`-separated segments of letters, digits, `_`, `.` and `-`, each starting with a letter, digit or `_` (e.g. `stripe/api-key`)";
        if value.is_empty() {
            return Err(invalid(WHAT, value, "it is empty"));
        }
        if value.len() > MAX_SECRET_PATH_LEN {
            return Err(invalid(
                WHAT,
                value,
                format!("it is longer than {MAX_SECRET_PATH_LEN} bytes"),
            ));
        }
        if value.starts_with('/') {
            return Err(invalid(WHAT, value, "it must not start with `/`"));
        }
        for segment in value.split('/') {
            if segment.is_empty() {
                return Err(invalid(
                    WHAT,
                    value,
                    format!("it has an empty segment; {RULE}"),
                ));
            }
            if segment.len() > MAX_SEGMENT_LEN {
                return Err(invalid(
                    WHAT,
                    value,
                    format!("a segment is longer than {MAX_SEGMENT_LEN} bytes"),
                ));
            }
            let mut bytes = segment.bytes();
            let first = bytes.next().unwrap_or(b'.');
            if !(first.is_ascii_alphanumeric() || first == b'_') {
                return Err(invalid(WHAT, value, RULE));
            }
            if !bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')) {
                return Err(invalid(WHAT, value, RULE));
            }
            // `.enc`/`.meta` are ours: a segment ending in them would alias another secret's files.
            if segment.ends_with(".enc") || segment.ends_with(".meta") {
                return Err(invalid(
                    WHAT,
                    value,
                    "segments must not end in `.enc` or `.meta`",
                ));
            }
        }
        Ok(SecretPath(value.to_owned()))
    }

    /// The path as written by the user, e.g. `stripe/api-key`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The group a secret belongs to when none is given: its first segment, or
    /// [`DEFAULT_GROUP`] for a single-segment path.
    pub fn default_group(&self) -> Result<GroupName> {
        match self.0.split_once('/') {
            None => Ok(GroupName(DEFAULT_GROUP.to_owned())),
            Some((first, _)) => GroupName::parse(first).map_err(|_| {
                invalid(
                    "secret path",
                    &self.0,
                    format!(
                        "its first segment `{first}` is not a valid group name (lowercase letters, digits, `.`, `_`, `-`); pass --group"
                    ),
                )
            }),
        }
    }
}

fn parse_simple_name(what: &'static str, value: &str) -> Result<String> {
    const RULE: &str = "use lowercase letters, digits, `.`, `_` and `-`, starting with a letter or digit, at most 64 characters";
    if value.is_empty() {
        return Err(invalid(what, value, "it is empty"));
    }
    if value.len() > MAX_NAME_LEN {
        return Err(invalid(what, value, RULE));
    }
    let mut bytes = value.bytes();
    let first = bytes.next().unwrap_or(b'.');
    if !(first.is_ascii_lowercase() || first.is_ascii_digit()) {
        return Err(invalid(what, value, RULE));
    }
    if !bytes
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err(invalid(what, value, RULE));
    }
    Ok(value.to_owned())
}

impl AgentName {
    /// Validates an agent name such as `deploy-bot`.
    pub fn parse(value: &str) -> Result<Self> {
        parse_simple_name("agent name", value).map(AgentName)
    }

    /// The name as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl GroupName {
    /// Validates a group name such as `stripe`.
    pub fn parse(value: &str) -> Result<Self> {
        parse_simple_name("group name", value).map(GroupName)
    }

    /// The name as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! display_as_str {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl std::str::FromStr for $t {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                Self::parse(s)
            }
        }
    )*};
}
display_as_str!(SecretPath, AgentName, GroupName);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_paths() {
        for ok in ["a", "stripe/api-key", "A_b/c.d-e/F", "_x/1", "db/prod.v2"] {
            assert!(SecretPath::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_traversal_and_malformed_paths() {
        for bad in [
            "", "/abs", "a//b", "a/", "../x", "a/../b", ".", "a/.", ".hidden", "-x", "a b", "a\\b",
            "a\nb", "ü", "x.enc", "a/y.meta", "a\0b",
        ] {
            assert!(SecretPath::parse(bad).is_err(), "{bad:?}");
        }
        assert!(SecretPath::parse(&"a".repeat(MAX_SECRET_PATH_LEN + 1)).is_err());
    }

    #[test]
    fn default_group_is_first_segment_or_default() {
        assert_eq!(
            SecretPath::parse("stripe/key")
                .unwrap()
                .default_group()
                .unwrap()
                .as_str(),
            "stripe"
        );
        assert_eq!(
            SecretPath::parse("token")
                .unwrap()
                .default_group()
                .unwrap()
                .as_str(),
            DEFAULT_GROUP
        );
        assert!(
            SecretPath::parse("Stripe/key")
                .unwrap()
                .default_group()
                .is_err()
        );
    }

    #[test]
    fn names_are_lowercase_and_bounded() {
        assert!(AgentName::parse("deploy-bot.v2_1").is_ok());
        // 64 characters is the longest name, exactly.
        let longest = "a".repeat(MAX_NAME_LEN);
        assert_eq!(AgentName::parse(&longest).unwrap().as_str(), longest);
        assert_eq!(GroupName::parse(&longest).unwrap().as_str(), longest);
        assert_eq!(AgentName::parse("bot").unwrap().as_str(), "bot");
        for bad in [
            "",
            "Bot",
            "-bot",
            ".bot",
            "../x",
            "a/b",
            "a b",
            &"a".repeat(65),
        ] {
            assert!(AgentName::parse(bad).is_err(), "{bad:?}");
            assert!(GroupName::parse(bad).is_err(), "{bad:?}");
        }
    }
}
