//! References to secrets: `agent-vault://PATH` as a variable's whole value (`run`), and
//! `{{ agent-vault://PATH }}` placeholders in a template (`inject`).
//!
//! A placeholder is `{{`, optional spaces or tabs, `agent-vault://`, a secret path, optional
//! spaces or tabs, `}}`. Any other `{{ … }}` (Helm, Jinja, Mustache) is left alone; one that
//! starts like ours but does not parse is an error with its line number, so a typo never ends up
//! in a config file as a silently unreplaced placeholder.

use zeroize::Zeroizing;

use crate::names::SecretPath;
use crate::{Error, Result};

/// What a reference starts with.
pub const REFERENCE_PREFIX: &str = "agent-vault://";

/// The secret a variable's value refers to: `Some` when the value is `agent-vault://…` (an
/// invalid path is an error), `None` for any other value.
pub fn reference(value: &[u8]) -> Option<Result<SecretPath>> {
    let rest = value.strip_prefix(REFERENCE_PREFIX.as_bytes())?;
    let path = std::str::from_utf8(rest)
        .map_err(|_| Error::Invalid("a reference's secret path is not UTF-8".into()))
        .and_then(SecretPath::parse);
    Some(path)
}

/// One placeholder found in a template: where it is and what it names.
struct Placeholder {
    start: usize,
    end: usize,
    path: SecretPath,
}

fn placeholders(template: &[u8]) -> Result<Vec<Placeholder>> {
    let mut found = Vec::new();
    let mut pos = 0;
    while let Some(offset) = memchr::memmem::find(&template[pos..], b"{{") {
        let start = pos + offset;
        let mut i = start + 2;
        while matches!(template.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        if !template[i..].starts_with(REFERENCE_PREFIX.as_bytes()) {
            pos = start + 1;
            continue;
        }
        let line = 1 + template[..start].iter().filter(|b| **b == b'\n').count();
        let bad = |why: &str| Error::Invalid(format!("template line {line}: {why}"));
        let path_start = i + REFERENCE_PREFIX.len();
        let mut j = path_start;
        while matches!(template.get(j), Some(b) if b.is_ascii_alphanumeric() || b"/._-".contains(b))
        {
            j += 1;
        }
        let path = std::str::from_utf8(&template[path_start..j])
            .map_err(|_| bad("the placeholder's path is not text"))
            .and_then(|p| {
                SecretPath::parse(p)
                    .map_err(|e| bad(&format!("the placeholder's path is not valid ({e})")))
            })?;
        let mut k = j;
        while matches!(template.get(k), Some(b' ' | b'\t')) {
            k += 1;
        }
        if !template[k..].starts_with(b"}}") {
            return Err(bad(
                "a `{{ agent-vault://…` placeholder is not closed by `}}` after the path",
            ));
        }
        found.push(Placeholder {
            start,
            end: k + 2,
            path,
        });
        pos = k + 2;
    }
    Ok(found)
}

/// The secrets a template's placeholders name, each once, in order of first appearance.
pub fn references(template: &[u8]) -> Result<Vec<SecretPath>> {
    let mut paths: Vec<SecretPath> = Vec::new();
    for p in placeholders(template)? {
        if !paths.contains(&p.path) {
            paths.push(p.path);
        }
    }
    Ok(paths)
}

/// The template with every placeholder replaced by `value(path)`; a placeholder whose secret
/// `value` does not know is an error (the caller reads every [`references`] first).
pub fn render<'v>(
    template: &[u8],
    value: impl Fn(&SecretPath) -> Option<&'v [u8]>,
) -> Result<Zeroizing<Vec<u8>>> {
    let mut out = Zeroizing::new(Vec::with_capacity(template.len()));
    let mut pos = 0;
    for p in placeholders(template)? {
        out.extend_from_slice(&template[pos..p.start]);
        let v = value(&p.path).ok_or_else(|| Error::SecretNotFound(p.path.to_string()))?;
        out.extend_from_slice(v);
        pos = p.end;
    }
    out.extend_from_slice(&template[pos..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_in_values() {
        assert_eq!(
            reference(b"agent-vault://app/db")
                .unwrap()
                .unwrap()
                .as_str(),
            "app/db"
        );
        assert!(reference(b"postgres://x").is_none());
        assert!(reference(b"agent-vault://../x").unwrap().is_err());
    }

    #[test]
    fn placeholders_are_replaced_and_others_kept() {
        let t = b"a: {{agent-vault://x/a}}\nb: {{ \tagent-vault://x/b }} {{ .Values.x }} {{agent-vault://x/a}}\n";
        let refs = references(t).unwrap();
        assert_eq!(
            refs.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
            ["x/a", "x/b"]
        );
        let out = render(t, |p| {
            Some(if p.as_str() == "x/a" { b"A$'" } else { b"B\n" })
        })
        .unwrap();
        assert_eq!(&out[..], b"a: A$'\nb: B\n {{ .Values.x }} A$'\n");
    }

    #[test]
    fn broken_placeholders_name_their_line() {
        for (t, line) in [
            (&b"ok\n{{ agent-vault://a/b"[..], 2),
            (b"{{ agent-vault://a/../b }}", 1),
            (b"x\ny\n{{agent-vault://a b}}", 3),
        ] {
            let err = references(t).unwrap_err().to_string();
            assert!(err.contains(&format!("template line {line}:")), "{err}");
        }
    }
}
