//! Structural detectors for private key material.
//!
//! A key is reported only when its whole structure is there, so text that merely mentions a
//! header (documentation, a parser's source code, a test of this module) passes:
//!
//! * PEM blocks whose label ends in `PRIVATE KEY` (PKCS#8 plain and encrypted, RSA, EC, DSA,
//!   OpenSSH, …) and PGP `PRIVATE KEY BLOCK`s: the header, a body of at least
//!   [`MIN_BODY_CHARS`] base64 characters (optionally preceded by `Name: value` headers such as
//!   `Proc-Type`/`DEK-Info` or PGP's `Version`), and the matching footer. Lines may be split by
//!   real newlines or by `\n` escapes (also doubly escaped), and wrapped in what source code
//!   and config files put around them — quotes, commas, `+` concatenation, line continuations,
//!   comment markers (`#`, `//`, `;`, ` * `, `> `), YAML list dashes, XML `&#10;` — with `\/`
//!   for `/`, so a key pasted into a JSON or source string (a cloud service-account file, say)
//!   or a commented-out block is found too. A PEM block that is itself base64-encoded (a
//!   Kubernetes Secret's `tls.key: LS0tLS1CRUdJTi…`) is decoded and checked.
//! * age identities (`AGE-SECRET-KEY-1…`) and age plugin identities (`AGE-PLUGIN-NAME-1…`):
//!   Bech32 strings whose checksum verifies (and, for X25519 identities, of the exact length).
//! * PuTTY private keys: `PuTTY-User-Key-File-N: <algorithm>` followed by `Private-Lines: <n>`
//!   and `Private-MAC: <hex>` (at any indentation).
//!
//! Public keys, age recipients and age ciphertexts (binary or armored) never match.

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use serde::Serialize;

/// The fewest base64 characters a PEM body must have to count as a key. The smallest real
/// private key (Ed25519 in PKCS#8) has 64.
pub const MIN_BODY_CHARS: usize = 60;

/// What a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// An age X25519 identity, `AGE-SECRET-KEY-1…`.
    AgeIdentity,
    /// An age plugin identity, `AGE-PLUGIN-…-1…`.
    AgePluginIdentity,
    /// PEM `PRIVATE KEY` (unencrypted PKCS#8).
    Pkcs8PrivateKey,
    /// PEM `ENCRYPTED PRIVATE KEY` (encrypted PKCS#8).
    EncryptedPrivateKey,
    /// PEM `RSA PRIVATE KEY`.
    RsaPrivateKey,
    /// PEM `EC PRIVATE KEY`.
    EcPrivateKey,
    /// PEM `DSA PRIVATE KEY`.
    DsaPrivateKey,
    /// PEM `OPENSSH PRIVATE KEY`.
    OpensshPrivateKey,
    /// Any other PEM `… PRIVATE KEY`.
    PemPrivateKey,
    /// An armored PGP `PRIVATE KEY BLOCK`.
    PgpPrivateKey,
    /// A PuTTY `.ppk` private key.
    PuttyPrivateKey,
    /// The value of a secret stored in the vault.
    KnownSecret,
    /// A file under `.agent-vault/secrets/` that is not an age ciphertext (or not a
    /// ciphertext/metadata file at all).
    VaultPlaintext,
    /// A file named like one of agent-vault's private key files.
    KeyFile,
}

impl Kind {
    /// Every kind, for help texts and allow-list parsing.
    pub const ALL: [Kind; 14] = [
        Kind::AgeIdentity,
        Kind::AgePluginIdentity,
        Kind::Pkcs8PrivateKey,
        Kind::EncryptedPrivateKey,
        Kind::RsaPrivateKey,
        Kind::EcPrivateKey,
        Kind::DsaPrivateKey,
        Kind::OpensshPrivateKey,
        Kind::PemPrivateKey,
        Kind::PgpPrivateKey,
        Kind::PuttyPrivateKey,
        Kind::KnownSecret,
        Kind::VaultPlaintext,
        Kind::KeyFile,
    ];

    /// The stable name used in output, JSON and the allow-list.
    pub fn code(self) -> &'static str {
        match self {
            Kind::AgeIdentity => "age-identity",
            Kind::AgePluginIdentity => "age-plugin-identity",
            Kind::Pkcs8PrivateKey => "pkcs8-private-key",
            Kind::EncryptedPrivateKey => "encrypted-private-key",
            Kind::RsaPrivateKey => "rsa-private-key",
            Kind::EcPrivateKey => "ec-private-key",
            Kind::DsaPrivateKey => "dsa-private-key",
            Kind::OpensshPrivateKey => "openssh-private-key",
            Kind::PemPrivateKey => "pem-private-key",
            Kind::PgpPrivateKey => "pgp-private-key",
            Kind::PuttyPrivateKey => "putty-private-key",
            Kind::KnownSecret => "known-secret",
            Kind::VaultPlaintext => "vault-plaintext",
            Kind::KeyFile => "key-file",
        }
    }

    /// Parses a [`Kind::code`].
    pub fn from_code(code: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// Whether this is private key material found by its structure.
    pub fn is_key_material(self) -> bool {
        !matches!(
            self,
            Kind::KnownSecret | Kind::VaultPlaintext | Kind::KeyFile
        )
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

const PEM_BEGIN: &[u8] = b"-----BEGIN ";
const PEM_END: &[u8] = b"-----END ";
const AGE_UPPER: &[u8] = b"AGE-SECRET-KEY-1";
const AGE_LOWER: &[u8] = b"age-secret-key-1";
const AGE_PLUGIN: &[u8] = b"AGE-PLUGIN-";
const PUTTY: &[u8] = b"PuTTY-User-Key-File-";
/// `-----BEGIN` in base64, at the three possible alignments a PEM block can have inside
/// base64-encoded text (at the start of the encoded data, the usual case, it is the first).
const PEM_BEGIN_B64: [&[u8]; 3] = [b"LS0tLS1CRUdJT", b"tLS0tLUJFR0lO", b"0tLS0tQkVHSU4"];
/// How deep base64-wrapped PEM is unwrapped (bounds the work on hostile input).
const MAX_WRAPPING: u8 = 1;

/// One multi-pattern pass finds every place a key could start.
static TRIGGERS: LazyLock<AhoCorasick> = LazyLock::new(|| {
    let mut patterns: Vec<&[u8]> = vec![PEM_BEGIN, AGE_UPPER, AGE_LOWER, AGE_PLUGIN, PUTTY];
    patterns.extend(PEM_BEGIN_B64);
    AhoCorasick::new(patterns).expect("fixed patterns build")
});

/// Finds private key material in `bytes`: `(byte offset of its start, kind)`, in order.
pub fn find_keys(bytes: &[u8]) -> Vec<(usize, Kind)> {
    find_keys_wrapped(bytes, 0)
}

fn find_keys_wrapped(bytes: &[u8], depth: u8) -> Vec<(usize, Kind)> {
    let mut out = Vec::new();
    for m in TRIGGERS.find_iter(bytes) {
        let at = m.start();
        let kind = match m.pattern().as_usize() {
            0 => pem_block(bytes, at),
            1 | 2 => age_identity(bytes, at),
            3 => age_plugin_identity(bytes, at),
            4 => putty_key(bytes, at),
            _ if depth < MAX_WRAPPING => base64_wrapped(bytes, at, depth),
            _ => None,
        };
        if let Some(kind) = kind {
            out.push((at, kind));
        }
    }
    out
}

fn is_base64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')
}

/// The PEM label at `at` (just after `-----BEGIN ` / `-----END `) and the offset after its
/// closing `-----`.
fn pem_label(bytes: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let rest = &bytes[at..];
    let len = rest
        .iter()
        .take(64)
        .position(|&b| !(b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' '))?;
    if !rest[len..].starts_with(b"-----") {
        return None;
    }
    Some((&rest[..len], at + len + 5))
}

fn pem_kind(label: &[u8]) -> Option<Kind> {
    Some(match label {
        b"PRIVATE KEY" => Kind::Pkcs8PrivateKey,
        b"ENCRYPTED PRIVATE KEY" => Kind::EncryptedPrivateKey,
        b"RSA PRIVATE KEY" => Kind::RsaPrivateKey,
        b"EC PRIVATE KEY" => Kind::EcPrivateKey,
        b"DSA PRIVATE KEY" => Kind::DsaPrivateKey,
        b"OPENSSH PRIVATE KEY" => Kind::OpensshPrivateKey,
        b"PGP PRIVATE KEY BLOCK" => Kind::PgpPrivateKey,
        l if l.ends_with(b" PRIVATE KEY") => Kind::PemPrivateKey,
        _ => return None,
    })
}

/// Skips what may stand between the lines of a PEM block: whitespace; the escapes `\n`/`\r`,
/// also doubly escaped, and line continuations; quotes, commas and `+` concatenation of
/// string literals; comment markers; YAML list dashes; XML character references for newlines.
fn skip_separators(bytes: &[u8], mut pos: usize) -> usize {
    loop {
        let rest = &bytes[pos.min(bytes.len())..];
        let step = match rest {
            [
                b' ' | b'\t' | b'\r' | b'\n' | b'"' | b'\'' | b'`' | b',' | b'#' | b';' | b'>',
                ..,
            ] => 1,
            // A `*` or `+` only between other separators: both can be part of a body too
            // (`+`) or of nothing at all (`*`), so they must stand alone.
            [b'*' | b'+', b' ' | b'\t' | b'"' | b'\'' | b'\r' | b'\n', ..] => 1,
            [b'-', b' ', ..] => 2,
            [b'\\', b'n' | b'r' | b'\r' | b'\n', ..] => 2,
            [b'\\', b'\\', b'n' | b'r', ..] => 3,
            [b'&', b'#', b'1', b'0' | b'3', b';', ..] => 5,
            [b'&', b'#', b'x', b'A' | b'a' | b'D' | b'd', b';', ..] => 5,
            _ => return pos,
        };
        pos += step;
    }
}

/// The length of the base64 run at the start of `rest` (`\/`, JSON's escaped `/`, counts as
/// one character), in bytes, and the number of base64 characters in it.
fn base64_run(rest: &[u8]) -> (usize, usize) {
    let (mut len, mut chars) = (0, 0);
    loop {
        match rest.get(len..) {
            Some([b, ..]) if is_base64(*b) => len += 1,
            Some([b'\\', b'/', ..]) => len += 2,
            _ => return (len, chars),
        }
        chars += 1;
    }
}

/// The offset just past the end of the line at `pos` (a newline or a `\n` escape).
fn end_of_line(bytes: &[u8], mut pos: usize) -> usize {
    while pos < bytes.len() {
        match bytes[pos] {
            b'\n' => return pos + 1,
            b'\\' if bytes.get(pos + 1) == Some(&b'n') => return pos + 2,
            _ => pos += 1,
        }
    }
    pos
}

/// If a `Name: value` armor header starts at `pos`, the offset after it.
fn armor_header(bytes: &[u8], pos: usize) -> Option<usize> {
    let rest = &bytes[pos..];
    if !rest.first()?.is_ascii_alphabetic() {
        return None;
    }
    let name = rest
        .iter()
        .take(40)
        .position(|&b| !(b.is_ascii_alphanumeric() || b == b'-'))?;
    (rest[name] == b':').then(|| end_of_line(bytes, pos + name + 1))
}

fn pem_block(bytes: &[u8], at: usize) -> Option<Kind> {
    let (label, mut pos) = pem_label(bytes, at + PEM_BEGIN.len())?;
    let kind = pem_kind(label)?;
    let mut body = 0usize;
    loop {
        pos = skip_separators(bytes, pos);
        let rest = bytes.get(pos..)?;
        if rest.starts_with(PEM_END) {
            let (end_label, _) = pem_label(bytes, pos + PEM_END.len())?;
            return (end_label == label && body >= MIN_BODY_CHARS).then_some(kind);
        }
        if body == 0
            && let Some(next) = armor_header(bytes, pos)
        {
            pos = next;
            continue;
        }
        let (run, chars) = base64_run(rest);
        if run == 0 {
            return None;
        }
        body += chars;
        pos += run;
    }
}

/// A PEM private key inside base64-encoded text starting at `at` (for example a Kubernetes
/// Secret's `tls.key` field): decodes the base64 run and looks for keys in the result.
fn base64_wrapped(bytes: &[u8], at: usize, depth: u8) -> Option<Kind> {
    use base64::Engine as _;
    // Back up to the start of the encoded run: the trigger may sit at any of its positions
    // modulo 4, and decoding must start at a 4-character boundary of the original encoding.
    let start = bytes[..at]
        .iter()
        .rposition(|&b| !is_base64(b))
        .map_or(0, |p| p + 1);
    let first = start + bytes[start..].iter().take_while(|&&b| is_base64(b)).count();
    let mut run = bytes[start..first].to_vec();
    // Wrapped encodings (`base64` wraps at 76 columns) continue on following lines that are
    // nothing but base64 (indentation aside), up to the padding.
    let mut pos = first;
    while !run.ends_with(b"=") && run.len() < 1 << 20 {
        let Some(rest) = bytes.get(pos..) else { break };
        let Some(newline) = rest.iter().position(|&b| b == b'\n') else {
            break;
        };
        if !rest[..newline].iter().all(|&b| b == b'\r' || b == b' ') {
            break;
        }
        let line_start = pos + newline + 1;
        let line_end = bytes[line_start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |n| line_start + n);
        let line = bytes[line_start..line_end].trim_ascii();
        if line.is_empty() || !line.iter().all(|&b| is_base64(b)) {
            break;
        }
        run.extend_from_slice(line);
        pos = line_end;
    }
    // Try the alignments that could put the trigger at a character boundary of the decoding.
    (0..4).find_map(|skip| {
        let text = run.get(skip..)?;
        if at - start < skip {
            return None;
        }
        let text = &text[..text.len() - text.len() % 4];
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(text)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
            .ok()?;
        find_keys_wrapped(&decoded, depth + 1)
            .first()
            .map(|&(_, kind)| kind)
    })
}

const BECH32_CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

fn bech32_value(b: u8) -> Option<u8> {
    let lower = b.to_ascii_lowercase();
    BECH32_CHARSET
        .iter()
        .position(|&c| c == lower)
        .map(|v| v as u8)
}

fn bech32_polymod(values: impl Iterator<Item = u8>) -> u32 {
    const GEN: [u32; 5] = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
    let mut chk: u32 = 1;
    for v in values {
        let top = chk >> 25;
        chk = ((chk & 0x1ff_ffff) << 5) ^ u32::from(v);
        for (i, g) in GEN.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

/// Whether `s` (one case throughout) is a Bech32 string with a valid checksum.
pub(crate) fn bech32_valid(s: &[u8]) -> bool {
    let Some(sep) = s.iter().rposition(|&b| b == b'1') else {
        return false;
    };
    let (hrp, data) = (&s[..sep], &s[sep + 1..]);
    if hrp.is_empty() || data.len() < 6 {
        return false;
    }
    let upper = s.iter().any(u8::is_ascii_uppercase);
    let lower = s.iter().any(u8::is_ascii_lowercase);
    if upper && lower {
        return false;
    }
    let Some(values) = data
        .iter()
        .map(|&b| bech32_value(b))
        .collect::<Option<Vec<u8>>>()
    else {
        return false;
    };
    let hrp: Vec<u8> = hrp.iter().map(u8::to_ascii_lowercase).collect();
    let expanded = hrp
        .iter()
        .map(|b| b >> 5)
        .chain(std::iter::once(0))
        .chain(hrp.iter().map(|b| b & 31))
        .chain(values);
    bech32_polymod(expanded) == 1
}

/// A run of characters that may appear in a Bech32 string (either case), from `at`.
fn bech32_run(bytes: &[u8], at: usize, extra: &[u8]) -> usize {
    bytes[at..]
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || extra.contains(&b)))
        .map_or(bytes.len(), |n| at + n)
}

fn age_identity(bytes: &[u8], at: usize) -> Option<Kind> {
    // HRP "age-secret-key-", 32 bytes of data (52 characters) and a 6-character checksum.
    let end = bech32_run(bytes, at + AGE_UPPER.len(), b"");
    let candidate = &bytes[at..end];
    (candidate.len() == AGE_UPPER.len() + 58 && bech32_valid(candidate))
        .then_some(Kind::AgeIdentity)
}

fn age_plugin_identity(bytes: &[u8], at: usize) -> Option<Kind> {
    // HRP "age-plugin-<name>-", then data of any length; the `1` after a `-` separates them
    // (the data, in the Bech32 alphabet, has no `1`), and the data ends at the first
    // character that is not alphanumeric (so a sentence's `.` or a `-` after it is not in it).
    let end = bech32_run(bytes, at + AGE_PLUGIN.len(), b"-._+");
    let candidate = &bytes[at..end];
    candidate
        .windows(2)
        .enumerate()
        .filter(|(i, w)| *i + 1 > AGE_PLUGIN.len() && w == b"-1")
        .map(|(i, _)| i + 1)
        .rev()
        .find_map(|sep| {
            let data = candidate[sep + 1..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric())
                .count();
            bech32_valid(&candidate[..sep + 1 + data]).then_some(Kind::AgePluginIdentity)
        })
}

fn putty_key(bytes: &[u8], at: usize) -> Option<Kind> {
    // `PuTTY-User-Key-File-2: ssh-rsa` (or -3), then `Private-Lines: <digits>` and
    // `Private-MAC: <40+ hex digits>`, at any indentation or inside an escaped string.
    let rest = &bytes[at + PUTTY.len()..];
    if !matches!(rest, [b'2' | b'3', b':', b' ', b'a'..=b'z', ..]) {
        return None;
    }
    let window = &bytes[at..bytes.len().min(at + 64 * 1024)];
    let lines = memchr::memmem::find(window, b"Private-Lines: ")?;
    if !window.get(lines + 15).is_some_and(|b| b.is_ascii_digit()) {
        return None;
    }
    let mac = lines + memchr::memmem::find(&window[lines..], b"Private-MAC: ")? + 13;
    let hex = window[mac..]
        .iter()
        .take_while(|b| b.is_ascii_hexdigit())
        .count();
    (hex >= 40).then_some(Kind::PuttyPrivateKey)
}

#[cfg(test)]
#[path = "detect_tests.rs"]
mod tests;
