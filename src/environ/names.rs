//! Environment variable names for secrets, and the rule that no two secrets share one.
//!
//! A secret becomes the variable named, first match wins: explicitly (`--secret PATH=NAME`, or
//! the variable holding an `agent-vault://PATH` reference), by the name recorded in its `.meta`
//! (`set --env NAME`), or from its path: ASCII letters upper-cased, digits kept, every other
//! character `_`, and a leading `_` added when the path starts with a digit
//! (`app/api-token` → `APP_API_TOKEN`, `1password/key` → `_1PASSWORD_KEY`).

use std::fmt;
use std::str::FromStr;

use crate::names::SecretPath;
use crate::{Error, Result};

/// The longest variable name accepted.
pub const MAX_ENV_NAME_LEN: usize = 255;

/// A portable environment variable name: `[A-Za-z_][A-Za-z0-9_]*`, at most 255 bytes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EnvName(String);

impl EnvName {
    /// Validates a variable name such as `DATABASE_URL`.
    pub fn parse(value: &str) -> Result<Self> {
        let invalid = |reason: &str| Error::InvalidName {
            what: "environment variable name",
            value: value
                .chars()
                .take(80)
                .collect::<String>()
                .escape_debug()
                .to_string(),
            reason: reason.into(),
        };
        let mut bytes = value.bytes();
        match bytes.next() {
            None => return Err(invalid("it is empty")),
            Some(b) if b.is_ascii_alphabetic() || b == b'_' => {}
            Some(_) => return Err(invalid("it must start with a letter or `_`")),
        }
        if !bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(invalid(
                "use letters, digits and `_` only (e.g. `DATABASE_URL`)",
            ));
        }
        if value.len() > MAX_ENV_NAME_LEN {
            return Err(invalid("it is longer than 255 bytes"));
        }
        Ok(EnvName(value.to_owned()))
    }

    /// The name derived from a secret's path (see the module docs).
    pub fn from_path(path: &SecretPath) -> EnvName {
        let mut name = String::with_capacity(path.as_str().len() + 1);
        if path.as_str().starts_with(|c: char| c.is_ascii_digit()) {
            name.push('_');
        }
        name.extend(path.as_str().chars().map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        }));
        // A secret path is at most 200 bytes of ASCII, so this is always a valid name.
        EnvName(name)
    }

    /// The name as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EnvName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for EnvName {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        EnvName::parse(s)
    }
}

/// The path segment `import` names a variable's secret with: lower case, `_` as `-`, without
/// leading or trailing `-` (`DATABASE_URL` → `database-url`). `None` when nothing is left
/// (a name of underscores only).
pub fn kebab_segment(name: &EnvName) -> Option<String> {
    let kebab: String = name
        .as_str()
        .chars()
        .map(|c| {
            if c == '_' {
                '-'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect();
    let kebab = kebab.trim_matches('-');
    (!kebab.is_empty()).then(|| kebab.to_owned())
}

/// Why a secret got its variable name (for messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameSource {
    /// `--secret PATH=NAME`.
    Explicit,
    /// The `env` recorded in the secret's metadata (`set --env`).
    Recorded,
    /// Derived from the path.
    Derived,
    /// The variable held an `agent-vault://PATH` reference (from the environment or an env
    /// file).
    Reference,
}

/// One variable to fill with a secret's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub name: EnvName,
    pub path: SecretPath,
    pub source: NameSource,
}

impl Binding {
    /// The binding of a secret selected by group or by `--secret PATH` without a name: its
    /// recorded name (validated: a bad one is a vault file problem), else the derived one.
    pub fn default_for(path: &SecretPath, recorded: Option<&str>) -> Result<Binding> {
        let (name, source) = match recorded {
            Some(name) => (
                EnvName::parse(name).map_err(|_| {
                    Error::corrupt(
                        crate::format::secret_meta_path(path.as_str()),
                        "its recorded environment variable name (`env:`) is not a valid name; the owner fixes it with `agent-vault set PATH --env NAME` (or --no-env)",
                    )
                })?,
                NameSource::Recorded,
            ),
            None => (EnvName::from_path(path), NameSource::Derived),
        };
        Ok(Binding {
            name,
            path: path.clone(),
            source,
        })
    }

    fn describe(&self) -> String {
        match self.source {
            NameSource::Explicit => format!("secret '{}' (--secret {0}={})", self.path, self.name),
            NameSource::Recorded => format!(
                "secret '{}' (its name recorded with `set --env`)",
                self.path
            ),
            NameSource::Derived => format!("secret '{}' (named after its path)", self.path),
            NameSource::Reference => format!(
                "secret '{}' (the reference agent-vault://{0} in variable {})",
                self.path, self.name
            ),
        }
    }
}

/// Checks that no variable is bound to two different secrets, and drops repeated bindings of
/// the same secret to the same name. The result is sorted by name.
pub fn check_collisions(mut bindings: Vec<Binding>) -> Result<Vec<Binding>> {
    bindings.sort_by(|a, b| a.name.cmp(&b.name).then(a.path.cmp(&b.path)));
    bindings.dedup_by(|b, a| a.name == b.name && a.path == b.path);
    for pair in bindings.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if a.name == b.name {
            return Err(Error::Invalid(format!(
                "{} and {} both become the environment variable {}; give one of them another name with --secret PATH=NAME",
                a.describe(),
                b.describe(),
                a.name
            )));
        }
    }
    Ok(bindings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> SecretPath {
        SecretPath::parse(p).unwrap()
    }

    #[test]
    fn names_derive_from_paths() {
        assert_eq!(
            EnvName::from_path(&path("app/api-token")).as_str(),
            "APP_API_TOKEN"
        );
        assert_eq!(
            EnvName::from_path(&path("db.main/url")).as_str(),
            "DB_MAIN_URL"
        );
        assert_eq!(
            EnvName::from_path(&path("1password/key")).as_str(),
            "_1PASSWORD_KEY"
        );
        assert_eq!(
            EnvName::from_path(&path("Mixed_Case")).as_str(),
            "MIXED_CASE"
        );
        let long = "a".repeat(100) + "/" + &"b".repeat(99);
        EnvName::parse(EnvName::from_path(&path(&long)).as_str()).unwrap();
    }

    #[test]
    fn import_names_are_kebab_case() {
        let kebab = |n: &str| kebab_segment(&EnvName::parse(n).unwrap());
        assert_eq!(kebab("DATABASE_URL").as_deref(), Some("database-url"));
        assert_eq!(kebab("_Private__Key_").as_deref(), Some("private--key"));
        assert_eq!(kebab("X9").as_deref(), Some("x9"));
        assert_eq!(kebab("___"), None);
    }

    #[test]
    fn names_are_validated() {
        for ok in ["A", "_", "db_URL2", "_1X"] {
            EnvName::parse(ok).unwrap();
        }
        for bad in ["", "1X", "A-B", "A=B", "A B", "É", &"A".repeat(256)] {
            assert!(EnvName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn collisions_name_both_secrets() {
        let derived = |p: &str| Binding::default_for(&path(p), None).unwrap();
        let err = check_collisions(vec![derived("a/b"), derived("a-b")]).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("'a/b'") && text.contains("'a-b'") && text.contains("A_B"),
            "{text}"
        );
        assert_eq!(err.kind(), crate::ErrorKind::Invalid);
        // The same secret twice under one name is no collision.
        let ok = check_collisions(vec![derived("a/b"), derived("a/b"), derived("c")]).unwrap();
        assert_eq!(ok.len(), 2);
    }

    #[test]
    fn a_bad_recorded_name_is_a_vault_file_problem() {
        let err = Binding::default_for(&path("a/b"), Some("no good")).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Other);
        let ok = Binding::default_for(&path("a/b"), Some("TOKEN")).unwrap();
        assert_eq!(
            (ok.name.as_str(), ok.source),
            ("TOKEN", NameSource::Recorded)
        );
    }
}
