//! Reading `.env` files, for `run --env-file` and `import`.
//!
//! One `NAME=VALUE` per line (an `export ` before the name and spaces around `=` are allowed);
//! blank lines and lines starting with `#` are skipped. A value is:
//!
//! * `'single quoted'`: taken literally, newlines included, up to the next `'`;
//! * `"double quoted"`: newlines included; `\\`, `\"`, `\n`, `\r`, `\t`, `\$` and `` \` `` are
//!   escapes, any other backslash is kept as written;
//! * unquoted: the rest of the line, trailing whitespace and a ` # comment` removed.
//!
//! There is no `$VAR` interpolation and no command substitution: what is written is what the
//! program gets. A later line for the same name wins. Errors give the line number, never the
//! line's text (it may hold a secret).

use zeroize::Zeroizing;

use super::EnvName;
use crate::{Error, Result};

/// One variable of an env file.
pub struct Entry {
    pub name: EnvName,
    pub value: Zeroizing<Vec<u8>>,
    /// The line it starts on (1-based).
    pub line: usize,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("name", &self.name)
            .field("line", &self.line)
            .finish_non_exhaustive()
    }
}

struct Cursor<'a> {
    text: &'a [u8],
    pos: usize,
    line: usize,
    origin: &'a str,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        if b == b'\n' {
            self.line += 1;
        }
        Some(b)
    }

    fn skip_blanks(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn skip_line(&mut self) {
        while let Some(b) = self.bump() {
            if b == b'\n' {
                break;
            }
        }
    }

    fn error(&self, line: usize, what: &str) -> Error {
        Error::Invalid(format!("{}, line {line}: {what}", self.origin))
    }

    fn at_line_end(&self) -> bool {
        match self.peek() {
            None | Some(b'\n') => true,
            Some(b'\r') => matches!(self.text.get(self.pos + 1), None | Some(b'\n')),
            _ => false,
        }
    }
}

/// Parses env-file text; `origin` names it in errors.
pub fn parse(text: &[u8], origin: &str) -> Result<Vec<Entry>> {
    let text = text.strip_prefix(b"\xef\xbb\xbf").unwrap_or(text);
    let mut c = Cursor {
        text,
        pos: 0,
        line: 1,
        origin,
    };
    let mut entries = Vec::new();
    loop {
        c.skip_blanks();
        match c.peek() {
            None => break,
            Some(b'\n' | b'\r' | b'#') => {
                if c.peek() == Some(b'\r') && !c.at_line_end() {
                    return Err(c.error(c.line, "a carriage return in the middle of a line"));
                }
                c.skip_line();
                continue;
            }
            _ => {}
        }
        entries.push(entry(&mut c)?);
    }
    Ok(entries)
}

fn entry(c: &mut Cursor<'_>) -> Result<Entry> {
    let line = c.line;
    let mut name = word(c);
    if name == b"export" && matches!(c.peek(), Some(b' ' | b'\t')) {
        c.skip_blanks();
        name = word(c);
    }
    let name = std::str::from_utf8(name)
        .ok()
        .and_then(|n| EnvName::parse(n).ok())
        .ok_or_else(|| {
            c.error(
                line,
                "expected NAME=VALUE with a variable name of letters, digits and `_`, not starting with a digit",
            )
        })?;
    c.skip_blanks();
    if c.bump() != Some(b'=') {
        return Err(c.error(line, &format!("expected `=` after {name}")));
    }
    c.skip_blanks();
    let value = match c.peek() {
        Some(b'\'') => quoted(c, b'\'', line)?,
        Some(b'"') => quoted(c, b'"', line)?,
        _ => unquoted(c),
    };
    Ok(Entry { name, value, line })
}

fn word<'a>(c: &mut Cursor<'a>) -> &'a [u8] {
    let start = c.pos;
    while matches!(c.peek(), Some(b) if b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
    {
        c.pos += 1;
    }
    &c.text[start..c.pos]
}

fn unquoted(c: &mut Cursor<'_>) -> Zeroizing<Vec<u8>> {
    let start = c.pos;
    let mut end = start;
    while let Some(b) = c.peek() {
        if b == b'\n' {
            break;
        }
        if b == b'#' && c.pos > start && matches!(c.text[c.pos - 1], b' ' | b'\t') {
            c.skip_line();
            return trimmed(&c.text[start..end]);
        }
        c.pos += 1;
        end = c.pos;
    }
    c.skip_line();
    trimmed(&c.text[start..end])
}

fn trimmed(bytes: &[u8]) -> Zeroizing<Vec<u8>> {
    let end = bytes
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t' | b'\r'))
        .map_or(0, |i| i + 1);
    Zeroizing::new(bytes[..end].to_vec())
}

fn quoted(c: &mut Cursor<'_>, quote: u8, line: usize) -> Result<Zeroizing<Vec<u8>>> {
    c.bump();
    let mut value = Zeroizing::new(Vec::new());
    loop {
        let Some(b) = c.bump() else {
            let kind = if quote == b'\'' { "single" } else { "double" };
            return Err(c.error(
                line,
                &format!("the {kind} quote that starts the value is never closed"),
            ));
        };
        if b == quote {
            break;
        }
        if quote == b'"' && b == b'\\' {
            match c.peek() {
                Some(e @ (b'\\' | b'"' | b'$' | b'`')) => value.push(e),
                Some(b'n') => value.push(b'\n'),
                Some(b'r') => value.push(b'\r'),
                Some(b't') => value.push(b'\t'),
                _ => {
                    value.push(b'\\');
                    continue;
                }
            }
            c.bump();
            continue;
        }
        value.push(b);
    }
    c.skip_blanks();
    if c.peek() == Some(b'#') || c.at_line_end() {
        c.skip_line();
        Ok(value)
    } else {
        Err(c.error(
            line,
            "unexpected text after the closing quote (put a comment after ` #`)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Vec<(String, String)> {
        parse(text.as_bytes(), "test.env")
            .unwrap()
            .into_iter()
            .map(|e| {
                (
                    e.name.to_string(),
                    String::from_utf8(e.value.to_vec()).unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn reads_the_common_forms() {
        let text = "# comment\n\nA=plain value  # note\nexport B = 'single $HOME `x` \\n'\r\nC=\"dq \\\"q\\\" \\\\ \\n \\$X \\` \\q\"\nD=\nE='multi\nline'\nF=a#b\nG=\"x\" # c\n";
        assert_eq!(
            parsed(text),
            [
                ("A", "plain value"),
                ("B", "single $HOME `x` \\n"),
                ("C", "dq \"q\" \\ \n $X ` \\q"),
                ("D", ""),
                ("E", "multi\nline"),
                ("F", "a#b"),
                ("G", "x"),
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
        );
    }

    #[test]
    fn errors_give_the_line_never_the_text() {
        for (text, line) in [
            ("A=1\nnot a line with s3cret\n", 2),
            ("A='s3cret\n", 1),
            ("A=1\n\nB=\"s3cret\" junk\n", 3),
            ("1A=s3cret\n", 1),
        ] {
            let err = parse(text.as_bytes(), "f.env").unwrap_err().to_string();
            assert!(err.contains(&format!("f.env, line {line}:")), "{err}");
            assert!(!err.contains("s3cret"), "{err}");
        }
    }
}
