//! A YAML-free reader for `.meta` files exactly as agent-vault writes them.
//!
//! `list`, `check` and `verify` parse every `.meta` file of the vault; through the YAML parser
//! that was a third of their time at 10,000 secrets. This reader accepts only the narrow form
//! the writer produces — `key: value` lines of known keys, block lists of `- item`, every
//! scalar a plain string YAML cannot read as anything else — and returns `None` for anything
//! else (quotes, comments, unknown keys, a policy, indentation, a value YAML would read as a
//! number, a boolean or null), which then goes to the YAML parser. So it never decides
//! anything the YAML parser would decide differently; a test and a fuzz target compare the two.

use super::{Extra, META_ENV_KEY, SecretMetaFile};

/// The longest scalar taken here (longer ones go to the YAML parser).
const MAX_SCALAR: usize = 1024;

/// Parses `bytes` when it is in the writer's form; `None` otherwise.
pub(super) fn parse(bytes: &[u8]) -> Option<SecretMetaFile> {
    let text = std::str::from_utf8(bytes).ok()?;
    let body = text.strip_suffix('\n')?;
    let mut meta = SecretMetaFile {
        name: String::new(),
        group: String::new(),
        created: String::new(),
        rotated: None,
        expires: None,
        authorized_agents: Vec::new(),
        extra_agents: Vec::new(),
        recipients: None,
        policy: None,
        extra: Extra::new(),
    };
    let mut seen: u16 = 0;
    let mut lines = body.split('\n').peekable();
    while let Some(line) = lines.next() {
        let (key, value) = line.split_once(':')?;
        let bit = match key {
            "name" => 1,
            "group" => 2,
            "created" => 4,
            "rotated" => 8,
            "expires" => 16,
            "authorized_agents" => 32,
            "extra_agents" => 64,
            "recipients" => 128,
            META_ENV_KEY => 256,
            _ => return None,
        };
        if seen & bit != 0 {
            return None;
        }
        seen |= bit;
        if key == "authorized_agents" || key == "extra_agents" {
            let list = if value == " []" {
                Vec::new()
            } else if value.is_empty() {
                let mut items = Vec::new();
                while let Some(item) = lines.peek().and_then(|l| l.strip_prefix("- ")) {
                    items.push(plain(item)?.to_owned());
                    lines.next();
                }
                if items.is_empty() {
                    return None;
                }
                items
            } else {
                return None;
            };
            if key == "authorized_agents" {
                meta.authorized_agents = list;
            } else {
                meta.extra_agents = list;
            }
            continue;
        }
        let value = plain(value.strip_prefix(' ')?)?.to_owned();
        match key {
            "name" => meta.name = value,
            "group" => meta.group = value,
            "created" => meta.created = value,
            "rotated" => meta.rotated = Some(value),
            "expires" => meta.expires = Some(value),
            "recipients" => meta.recipients = Some(value),
            _ => {
                meta.extra
                    .insert(META_ENV_KEY.into(), serde_yaml::Value::String(value));
            }
        }
    }
    // `name` and `group` have no default: without them the YAML parser refuses the file.
    (seen & 3 == 3).then_some(meta)
}

/// `value` when YAML reads it as exactly this string: a plain scalar of safe characters, not
/// starting with an indicator, and not something YAML resolves to null, a boolean or a number.
fn plain(value: &str) -> Option<&str> {
    let first = *value.as_bytes().first()?;
    let safe = |b: u8| b.is_ascii_alphanumeric() || b"_./:+@-".contains(&b);
    if value.len() > MAX_SCALAR
        || !(first.is_ascii_alphanumeric() || first == b'_')
        || !value.bytes().all(safe)
        || value.ends_with(':')
    {
        return None;
    }
    let word = value.to_ascii_lowercase();
    if matches!(
        word.as_str(),
        "null" | "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n"
    ) {
        return None;
    }
    // Anything that reads as a number in any notation YAML or Rust knows goes to YAML.
    let unsigned = value.trim_start_matches(['+', '-']);
    let radix = ["0x", "0o", "0b"].iter().any(|p| word.starts_with(p));
    if radix
        || unsigned.bytes().all(|b| b.is_ascii_digit())
        || value.parse::<f64>().is_ok()
        || word.contains("inf")
        || word.contains("nan")
    {
        return None;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(bytes: &[u8]) -> Option<String> {
        serde_yaml::from_slice::<SecretMetaFile>(bytes)
            .ok()
            .map(|m| format!("{m:?}"))
    }

    /// Whenever the fast reader answers, the YAML parser gives the same struct.
    fn agrees(bytes: &[u8]) -> bool {
        match parse(bytes) {
            Some(fast) => {
                let slow = yaml(bytes);
                assert_eq!(
                    Some(format!("{fast:?}")),
                    slow,
                    "{}",
                    String::from_utf8_lossy(bytes)
                );
                true
            }
            None => false,
        }
    }

    #[test]
    fn what_the_writer_writes_is_read_without_yaml() {
        let mut meta = SecretMetaFile::parse("x", b"name: a/b\ngroup: a\n").unwrap();
        meta.created = "2026-11-25T15:30:12Z".into();
        assert!(
            agrees(&meta.to_yaml()),
            "{}",
            String::from_utf8_lossy(&meta.to_yaml())
        );
        meta.rotated = Some("2026-11-25T15:30:12Z".into());
        meta.expires = Some("2027-01-31T00:00:00Z".into());
        meta.authorized_agents = vec!["deploy-bot".into(), "ci".into()];
        meta.extra_agents = vec!["ci".into()];
        meta.recipients = Some(format!("sha256:{}", "7f".repeat(32)));
        meta.set_env_name(Some("STRIPE_API_KEY"));
        assert!(
            agrees(&meta.to_yaml()),
            "{}",
            String::from_utf8_lossy(&meta.to_yaml())
        );
    }

    #[test]
    fn anything_else_goes_to_yaml() {
        for text in [
            "name: a/b\ngroup: a\nfuture: 1\n",
            "name: a/b\ngroup: a\npolicy:\n  service: x\n",
            "name: 'a/b'\ngroup: a\n",
            "name: a/b # c\ngroup: a\n",
            "name: a/b\ngroup: a",
            "name: a/b\r\ngroup: a\n",
            "name: a/b\ngroup: a\nname: c\n",
            "name: a/b\ngroup: 123\n",
            "name: a/b\ngroup: a\nenv: true\n",
            "name: a/b\ngroup: a\nenv: 0x1F\n",
            "name: a/b\ngroup: a\nenv: 1e5\n",
            "name: a/b\ngroup: a\nenv: .inf\n",
            "name: a/b\ngroup: a\nenv: Infinity\n",
            "name: a/b\ngroup: a\nenv: ~\n",
            "name: a/b\ngroup: a\nexpires: null\n",
            "name: a/b\ngroup: a\nexpires:\n",
            "name: a/b\ngroup: a\nauthorized_agents:\n",
            "name: a/b\ngroup: a\nauthorized_agents:\n  - x\n",
            "name: a/b\ngroup: a\nauthorized_agents: [x]\n",
            "name: a/b\ngroup: a\nauthorized_agents:\n- 007\n",
            "name: a/b\ngroup: a:\n",
            "name: a/b\n",
            "group: a\n",
            "",
            "---\nname: a/b\ngroup: a\n",
        ] {
            assert!(!agrees(text.as_bytes()), "{text:?} was taken");
        }
    }

    #[test]
    fn random_files_built_from_the_grammar_agree_with_yaml() {
        let keys = [
            "name",
            "group",
            "created",
            "rotated",
            "expires",
            "recipients",
            "env",
            "other",
        ];
        let values = [
            "a/b",
            "x",
            "2026-11-25T15:30:12Z",
            "sha256:ab",
            "1",
            "0x1",
            "true",
            "null",
            "-",
            "a:",
            "1.5",
            "1-2",
            "_x",
            "a@b",
            "+1",
            "nan",
            "inf",
            "Yes",
            "0.0.1",
            "1e",
            "e1",
            "-x",
            "y",
            "N",
            "0o7",
            "::",
            "a b",
            "",
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let mut taken = 0;
        for _ in 0..20_000 {
            let mut text = String::from("name: a/b\ngroup: a\n");
            for _ in 0..next(5) {
                match next(6) {
                    0 => {
                        let list = ["authorized_agents", "extra_agents"][next(2)];
                        text.push_str(list);
                        text.push_str(":\n");
                        for _ in 0..=next(3) {
                            text.push_str("- ");
                            text.push_str(values[next(values.len())]);
                            text.push('\n');
                        }
                    }
                    _ => {
                        text.push_str(keys[next(keys.len())]);
                        text.push_str(": ");
                        text.push_str(values[next(values.len())]);
                        text.push('\n');
                    }
                }
            }
            if agrees(text.as_bytes()) {
                taken += 1;
            }
        }
        assert!(taken > 1000, "only {taken} files took the fast path");
    }
}
