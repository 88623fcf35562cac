//! `agent-vault generate`: a new random secret, from the operating system's random generator.

use agent_vault::environ::EnvName;
use agent_vault::names::{GroupName, SecretPath};
use agent_vault::vault::{EnvChange, Expiry, Replace, SetOptions};
use secrecy::{ExposeSecret, SecretSlice};
use zeroize::Zeroizing;

use super::{Exit, Globals, UsageError, output};

/// The longest value generated.
const MAX_LENGTH: usize = 4096;

/// Store a new random value (OS random generator), never printed unless --print.
///
/// The characters are drawn uniformly (rejection sampling, no modulo bias) from the chosen
/// set. An existing secret is refused unless --force (then the value is rotated; the old
/// ciphertext stays in git history).
///
/// Character sets: alnum (default: A-Z a-z 0-9), alpha, lower, upper, digits, hex (0-9a-f),
/// base64url (alnum - _), symbols (alnum and !#%()*+,-./:;<=>?@[]^_{|}~ — no quotes,
/// backslash, backtick, `$` or space), or chars:XYZ for exactly the characters after `chars:`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  agent-vault generate db/password\n  agent-vault generate app/session-key --length 64 --charset hex\n  agent-vault generate wifi/pin --length 8 --charset digits --print\n  agent-vault generate db/password --force            # rotate"
)]
pub struct Args {
    /// The secret's path.
    #[arg(add = super::complete::secrets())]
    path: SecretPath,
    /// How many characters.
    #[arg(long, default_value_t = 32, value_name = "N")]
    length: usize,
    /// The character set (see above).
    #[arg(long, default_value = "alnum", value_name = "SET")]
    charset: String,
    /// Also write the value to stdout.
    #[arg(long)]
    print: bool,
    /// Replace the value of an existing secret.
    #[arg(long)]
    force: bool,
    /// The group whose agents may read it (default: kept, else the first path segment).
    #[arg(long, value_name = "GROUP", add = super::complete::groups())]
    group: Option<GroupName>,
    /// When it expires: a date (2027-01-31), an RFC 3339 time, a duration (90d, 12h, 30min, 6mo, 1y: calendar months and years).
    #[arg(long, value_name = "WHEN")]
    expires: Option<String>,
    /// The environment variable name `run` and `export` give it.
    #[arg(long, value_name = "NAME")]
    env: Option<EnvName>,
}

pub fn run(args: Args, globals: &Globals) -> anyhow::Result<Exit> {
    let charset = charset(&args.charset)?;
    if args.length == 0 || args.length > MAX_LENGTH {
        return Err(UsageError(format!("--length must be between 1 and {MAX_LENGTH}")).into());
    }
    let bits = args.length as f64 * (charset.len() as f64).log2();
    if bits < 64.0 {
        output::warn(format!(
            "{} characters from a set of {} hold only {bits:.0} bits of entropy; use --length {} or more for a secret that must resist guessing",
            args.length,
            charset.len(),
            (64.0 / (charset.len() as f64).log2()).ceil()
        ));
    }
    let expires = match args.expires.as_deref().map(str::trim) {
        None => None,
        Some(when) => Some(Expiry::At(agent_vault::time::parse_expiry(
            when,
            agent_vault::time::now(),
        )?)),
    };
    let value = generate(&charset, args.length)?;
    let options = SetOptions {
        group: args.group,
        expires,
        env: args.env.map(EnvChange::Set),
        ..SetOptions::default()
    };
    let replace = if args.force {
        Replace::Allow
    } else {
        Replace::Refuse
    };
    let outcome = globals
        .open()?
        .store_generated(&args.path, &value, &options, replace)?;
    output::outcome(
        &outcome,
        &format!(
            "stored a random {}-character value as '{}'",
            args.length, args.path
        ),
    );
    if args.print {
        output::stdout_bytes(value.expose_secret())?;
    }
    Ok(Exit::Ok)
}

/// The characters of a named set, or of `chars:…`.
fn charset(name: &str) -> anyhow::Result<Vec<u8>> {
    const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
    const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    const DIGITS: &str = "0123456789";
    let set = match name {
        "alnum" => format!("{UPPER}{LOWER}{DIGITS}"),
        "alpha" => format!("{UPPER}{LOWER}"),
        "lower" => LOWER.into(),
        "upper" => UPPER.into(),
        "digits" => DIGITS.into(),
        "hex" => format!("{DIGITS}abcdef"),
        "base64url" => format!("{UPPER}{LOWER}{DIGITS}-_"),
        "symbols" => format!("{UPPER}{LOWER}{DIGITS}!#%()*+,-./:;<=>?@[]^_{{|}}~"),
        custom => match custom.strip_prefix("chars:") {
            Some(chars) => chars.into(),
            None => {
                return Err(UsageError(format!(
                    "unknown --charset '{}': use alnum, alpha, lower, upper, digits, hex, base64url, symbols or chars:XYZ",
                    custom.escape_debug()
                ))
                .into());
            }
        },
    };
    let mut bytes: Vec<u8> = set.into_bytes();
    if !bytes.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        return Err(
            UsageError("--charset chars:… takes printable ASCII characters only".into()).into(),
        );
    }
    bytes.sort_unstable();
    bytes.dedup();
    if bytes.len() < 2 {
        return Err(UsageError("--charset needs at least two different characters".into()).into());
    }
    Ok(bytes)
}

/// `length` characters drawn uniformly from `charset` (at most 256 of them).
fn generate(charset: &[u8], length: usize) -> anyhow::Result<SecretSlice<u8>> {
    let n = charset.len();
    // Bytes at or above the largest multiple of n would bias the draw: they are discarded.
    let limit = 256 - 256 % n;
    let mut value = Zeroizing::new(Vec::with_capacity(length));
    let mut pool = Zeroizing::new([0u8; 256]);
    while value.len() < length {
        getrandom::fill(&mut pool[..]).map_err(|e| {
            anyhow::anyhow!(
                "the operating system's random generator failed ({e}); nothing was stored"
            )
        })?;
        for &b in pool.iter() {
            if usize::from(b) < limit && value.len() < length {
                value.push(charset[usize::from(b) % n]);
            }
        }
    }
    Ok(SecretSlice::from(value.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_use_only_the_set_and_cover_it() {
        let set = charset("hex").unwrap();
        let value = generate(&set, 4096).unwrap();
        let v = value.expose_secret();
        assert_eq!(v.len(), 4096);
        assert!(v.iter().all(|b| set.contains(b)));
        for c in &set {
            assert!(v.contains(c), "{} never drawn", *c as char);
        }
        assert_eq!(charset("chars:aab").unwrap(), b"ab");
        assert!(charset("chars:a").is_err());
        assert!(charset("nope").is_err());
        assert!(
            charset("symbols")
                .unwrap()
                .iter()
                .all(|b| !b"'\"`$\\ ".contains(b))
        );
    }
}
