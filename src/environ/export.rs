//! Writing variables for other programs: `export --format dotenv|json|shell|github`.
//!
//! | format | written | read back by |
//! |---|---|---|
//! | `shell` | `export NAME='value'` (a `'` as `'\''`) | `eval`, `.`/`source` in any POSIX shell |
//! | `dotenv` | `NAME='value'`, or `NAME="…"` with `\\ \" \n \r` escapes when the value holds `'` or `\` | `run --env-file`, python-dotenv (with `interpolate=False` for values holding `${…}`), docker compose |
//! | `json` | one object of names to string values | `jq`, every JSON parser |
//! | `github` | `NAME<<DELIMITER` blocks for `$GITHUB_ENV`, and `::add-mask::` commands | the Actions runner |
//!
//! For `github`, the masks are a separate output (the CLI writes them to stderr, which the
//! runner reads workflow commands from): `$GITHUB_ENV` rejects any line that is not a variable,
//! so the two cannot share one stream. The delimiter is random and checked against every line
//! of the value.
//!
//! A value no format can carry is an error naming the secret, never a silent corruption: a NUL
//! byte (no environment variable holds one), and for `dotenv`, `json` and `github` bytes that
//! are not UTF-8 (`shell` writes them as they are).

use zeroize::Zeroizing;

use super::EnvName;
use crate::{Error, Result};

/// An output format of `export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Dotenv,
    Json,
    Shell,
    Github,
}

impl std::str::FromStr for Format {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "dotenv" | "env" => Ok(Format::Dotenv),
            "json" => Ok(Format::Json),
            "shell" | "sh" => Ok(Format::Shell),
            "github" => Ok(Format::Github),
            _ => Err(Error::Invalid(format!(
                "unknown format '{}': use dotenv, json, shell or github",
                s.escape_debug()
            ))),
        }
    }
}

/// One variable to write: its name, the secret it comes from (for errors) and its value.
pub struct Var<'a> {
    pub name: &'a EnvName,
    pub path: &'a str,
    pub value: &'a [u8],
}

/// What a format produced: the data, and (for `github`) the workflow commands that mask the
/// values.
#[derive(Default)]
pub struct Rendered {
    pub data: Zeroizing<Vec<u8>>,
    pub masks: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rendered")
            .field("data", &self.data.len())
            .field("masks", &self.masks.len())
            .finish()
    }
}

/// Renders `vars`, in the order given, in `format`.
pub fn render(format: Format, vars: &[Var<'_>]) -> Result<Rendered> {
    let mut out = Rendered::default();
    for var in vars {
        if var.value.contains(&0) {
            return Err(unfit(
                var,
                "holds a NUL byte, which no environment variable can carry",
            ));
        }
    }
    match format {
        Format::Shell => {
            for var in vars {
                out.data.extend_from_slice(b"export ");
                out.data.extend_from_slice(var.name.as_str().as_bytes());
                out.data.push(b'=');
                shell_quote(var.value, &mut out.data);
                out.data.push(b'\n');
            }
        }
        Format::Dotenv => {
            for var in vars {
                text(var, "dotenv")?;
                out.data.extend_from_slice(var.name.as_str().as_bytes());
                out.data.push(b'=');
                dotenv_quote(var.value, &mut out.data);
                out.data.push(b'\n');
            }
        }
        Format::Json => json(vars, &mut out.data)?,
        Format::Github => {
            for var in vars {
                text(var, "github")?;
                github(var, &mut out)?;
            }
        }
    }
    Ok(out)
}

fn unfit(var: &Var<'_>, why: &str) -> Error {
    Error::Invalid(format!(
        "secret '{}' (variable {}) {why}",
        var.path, var.name
    ))
}

fn text<'a>(var: &Var<'a>, format: &str) -> Result<&'a str> {
    std::str::from_utf8(var.value).map_err(|_| {
        unfit(
            var,
            &format!("is not UTF-8 text, which the {format} format cannot carry; use --format shell, or `agent-vault run`"),
        )
    })
}

/// `'value'`, each `'` written as `'\''`: POSIX single quotes keep every other byte as is.
pub fn shell_quote(value: &[u8], out: &mut Vec<u8>) {
    out.push(b'\'');
    for &b in value {
        if b == b'\'' {
            out.extend_from_slice(b"'\\''");
        } else {
            out.push(b);
        }
    }
    out.push(b'\'');
}

/// Single quotes when the value holds neither `'` nor `\` (then every reader takes it
/// literally); otherwise double quotes with `\\`, `\"`, `\n` and `\r` escapes.
fn dotenv_quote(value: &[u8], out: &mut Vec<u8>) {
    if !value.contains(&b'\'') && !value.contains(&b'\\') {
        out.push(b'\'');
        out.extend_from_slice(value);
        out.push(b'\'');
        return;
    }
    out.push(b'"');
    for &b in value {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

fn json(vars: &[Var<'_>], out: &mut Vec<u8>) -> Result<()> {
    out.extend_from_slice(b"{");
    for (i, var) in vars.iter().enumerate() {
        let value = text(var, "json")?;
        out.extend_from_slice(if i == 0 { b"\n  " } else { b",\n  " });
        // Serializing a string to JSON cannot fail.
        let name = serde_json::to_string(var.name.as_str()).unwrap_or_default();
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        let encoded = Zeroizing::new(serde_json::to_string(value).unwrap_or_default());
        out.extend_from_slice(encoded.as_bytes());
    }
    out.extend_from_slice(if vars.is_empty() { b"}\n" } else { b"\n}\n" });
    Ok(())
}

/// `NAME<<DELIM\nvalue\nDELIM\n` for `$GITHUB_ENV`, and the value's masks: the whole value and
/// each of its lines (`%`, CR and LF escaped as the runner expects in command data).
fn github(var: &Var<'_>, out: &mut Rendered) -> Result<()> {
    let delimiter = delimiter(var.value)?;
    out.data.extend_from_slice(var.name.as_str().as_bytes());
    out.data.extend_from_slice(b"<<");
    out.data.extend_from_slice(delimiter.as_bytes());
    out.data.push(b'\n');
    out.data.extend_from_slice(var.value);
    out.data.push(b'\n');
    out.data.extend_from_slice(delimiter.as_bytes());
    out.data.push(b'\n');
    let mut masks: Vec<&[u8]> = vec![var.value];
    if var.value.contains(&b'\n') || var.value.contains(&b'\r') {
        masks.extend(
            var.value
                .split(|b| *b == b'\n' || *b == b'\r')
                .filter(|line| !line.iter().all(u8::is_ascii_whitespace)),
        );
    }
    for mask in masks {
        if mask.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        out.masks.extend_from_slice(b"::add-mask::");
        for &b in mask {
            match b {
                b'%' => out.masks.extend_from_slice(b"%25"),
                b'\r' => out.masks.extend_from_slice(b"%0D"),
                b'\n' => out.masks.extend_from_slice(b"%0A"),
                _ => out.masks.push(b),
            }
        }
        out.masks.push(b'\n');
    }
    Ok(())
}

/// A random `ghadelimiter_…` that is no line of `value`.
fn delimiter(value: &[u8]) -> Result<String> {
    loop {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes)
            .map_err(|e| Error::Crypto(format!("the system random generator failed: {e}")))?;
        let delimiter = format!("ghadelimiter_{}", hex::encode(bytes));
        if !value
            .split(|b| *b == b'\n')
            .any(|line| line == delimiter.as_bytes())
        {
            return Ok(delimiter);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(format: Format, value: &[u8]) -> Result<Rendered> {
        let name = EnvName::parse("X").unwrap();
        render(
            format,
            &[Var {
                name: &name,
                path: "a/x",
                value,
            }],
        )
    }

    #[test]
    fn formats_quote_hostile_values() {
        let v = b"it's \"q\" $HOME `id` \\n\nline2";
        let shell = one(Format::Shell, v).unwrap();
        assert_eq!(
            &shell.data[..],
            b"export X='it'\\''s \"q\" $HOME `id` \\n\nline2'\n"
        );
        let dotenv = one(Format::Dotenv, v).unwrap();
        assert_eq!(
            &dotenv.data[..],
            b"X=\"it's \\\"q\\\" $HOME `id` \\\\n\\nline2\"\n"
        );
        let parsed = super::super::dotenv::parse(&dotenv.data, "t").unwrap();
        assert_eq!(&parsed[0].value[..], v);
        let simple = one(Format::Dotenv, b"a $b\nc").unwrap();
        assert_eq!(&simple.data[..], b"X='a $b\nc'\n");
        let json = one(Format::Json, v).unwrap();
        let back: serde_json::Value = serde_json::from_slice(&json.data).unwrap();
        assert_eq!(back["X"].as_str().unwrap().as_bytes(), v);
    }

    #[test]
    fn github_writes_heredocs_and_masks() {
        let out = one(Format::Github, b"50% a\nb").unwrap();
        let data = String::from_utf8(out.data.to_vec()).unwrap();
        let delim = data.lines().next().unwrap().strip_prefix("X<<").unwrap();
        assert!(delim.starts_with("ghadelimiter_"));
        assert_eq!(data, format!("X<<{delim}\n50% a\nb\n{delim}\n"));
        assert_eq!(
            &out.masks[..],
            b"::add-mask::50%25 a%0Ab\n::add-mask::50%25 a\n::add-mask::b\n"
        );
    }

    #[test]
    fn unfit_values_are_errors_naming_the_secret() {
        let err = one(Format::Shell, b"a\0b").unwrap_err().to_string();
        assert!(err.contains("'a/x'") && err.contains("NUL"), "{err}");
        for format in [Format::Dotenv, Format::Json, Format::Github] {
            let err = one(format, b"\xff").unwrap_err().to_string();
            assert!(
                err.contains("UTF-8") && err.contains("--format shell"),
                "{err}"
            );
        }
        assert_eq!(
            &one(Format::Shell, b"\xff").unwrap().data[..],
            b"export X='\xff'\n"
        );
        assert_eq!(
            &one(Format::Json, b"x").unwrap().data[..],
            b"{\n  \"X\": \"x\"\n}\n"
        );
    }
}
