//! Structural detectors for private key material.
//!
//! A key is reported only when its whole structure is there, so text that merely mentions a
//! header (documentation, a parser's source code, a test of this module) passes:
//!
//! * PEM blocks whose label ends in `PRIVATE KEY` (PKCS#8 plain and encrypted, RSA, EC, DSA,
//!   OpenSSH, …) and PGP `PRIVATE KEY BLOCK`s: the header, a body of at least
//!   [`MIN_BODY_CHARS`] base64 characters (optionally preceded by `Name: value` headers such as
//!   `Proc-Type`/`DEK-Info` or PGP's `Version`), and the matching footer. Lines may be split by
//!   real newlines or by the two characters `\n`, so a key pasted into a JSON or source string
//!   (a cloud service-account file, say) is found too.
//! * age identities (`AGE-SECRET-KEY-1…`) and age plugin identities (`AGE-PLUGIN-NAME-1…`):
//!   Bech32 strings whose checksum verifies (and, for X25519 identities, of the exact length).
//! * PuTTY private keys: a `PuTTY-User-Key-File-N:` line followed by `Private-Lines:` and
//!   `Private-MAC:` lines.
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

/// One multi-pattern pass finds every place a key could start.
static TRIGGERS: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::new([PEM_BEGIN, AGE_UPPER, AGE_LOWER, AGE_PLUGIN, PUTTY])
        .expect("fixed patterns build")
});

/// Finds private key material in `bytes`: `(byte offset of its start, kind)`, in order.
pub fn find_keys(bytes: &[u8]) -> Vec<(usize, Kind)> {
    let mut out = Vec::new();
    for m in TRIGGERS.find_iter(bytes) {
        let at = m.start();
        let kind = match m.pattern().as_usize() {
            0 => pem_block(bytes, at),
            1 | 2 => age_identity(bytes, at),
            3 => age_plugin_identity(bytes, at),
            _ => putty_key(bytes, at),
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

/// Skips line separators: whitespace, and the escapes `\n`/`\r` as written in strings.
fn skip_separators(bytes: &[u8], mut pos: usize) -> usize {
    loop {
        match bytes.get(pos) {
            Some(b' ' | b'\t' | b'\r' | b'\n') => pos += 1,
            Some(b'\\') if matches!(bytes.get(pos + 1), Some(b'n' | b'r')) => pos += 2,
            _ => return pos,
        }
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
        let run = rest
            .iter()
            .position(|&b| !is_base64(b))
            .unwrap_or(rest.len());
        if run == 0 {
            return None;
        }
        body += run;
        pos += run;
    }
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
    // HRP "age-plugin-<name>-", then data of any length; the last `1` separates them.
    let end = bech32_run(bytes, at + AGE_PLUGIN.len(), b"-._+");
    let candidate = &bytes[at..end];
    let sep = candidate.iter().rposition(|&b| b == b'1')?;
    (sep > AGE_PLUGIN.len() && candidate[sep - 1] == b'-' && bech32_valid(candidate))
        .then_some(Kind::AgePluginIdentity)
}

fn putty_key(bytes: &[u8], at: usize) -> Option<Kind> {
    if at > 0 && bytes[at - 1] != b'\n' {
        return None;
    }
    let window = &bytes[at..bytes.len().min(at + 64 * 1024)];
    let lines = memchr::memmem::find(window, b"\nPrivate-Lines: ")?;
    memchr::memmem::find(&window[lines..], b"\nPrivate-MAC: ").map(|_| Kind::PuttyPrivateKey)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Structure-only fixtures: random base64, not keys.
    const BODY: &str = "MIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEAq7BFUpkGp3+LQmlQ\nYx2eqzDV+xeG8kx/sQFV18S5JwIDAQABAkEAiVf7gxIGjdMZ5ZrFTm6Y1ZYjzKe3\n";

    #[test]
    fn pem_needs_body_and_matching_footer() {
        let key = format!("-----BEGIN RSA PRIVATE KEY-----\n{BODY}-----END RSA PRIVATE KEY-----\n");
        assert_eq!(find_keys(key.as_bytes()), vec![(0, Kind::RsaPrivateKey)]);
        let mismatch =
            format!("-----BEGIN RSA PRIVATE KEY-----\n{BODY}-----END EC PRIVATE KEY-----\n");
        assert!(find_keys(mismatch.as_bytes()).is_empty());
        let mention = "if line == \"-----BEGIN PRIVATE KEY-----\" { return Some(Kind::Pkcs8) }\n-----END PRIVATE KEY-----";
        assert!(find_keys(mention.as_bytes()).is_empty());
        let placeholder =
            "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg...\n-----END PRIVATE KEY-----\n";
        assert!(find_keys(placeholder.as_bytes()).is_empty());
        let public = format!("-----BEGIN PUBLIC KEY-----\n{BODY}-----END PUBLIC KEY-----\n");
        assert!(find_keys(public.as_bytes()).is_empty());
    }

    #[test]
    fn pem_in_a_json_string_and_with_headers() {
        let json = format!(
            "{{\"private_key\": \"-----BEGIN PRIVATE KEY-----\\n{}\\n-----END PRIVATE KEY-----\\n\"}}",
            BODY.replace('\n', "\\n")
        );
        assert_eq!(
            find_keys(json.as_bytes()),
            vec![(17, Kind::Pkcs8PrivateKey)]
        );
        let legacy = format!(
            "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0123ABCD\n\n{BODY}-----END RSA PRIVATE KEY-----"
        );
        assert_eq!(find_keys(legacy.as_bytes()).len(), 1);
    }

    #[test]
    fn bech32_checksums() {
        // BIP-173 test vectors.
        assert!(bech32_valid(b"A12UEL5L"));
        assert!(bech32_valid(
            b"abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw"
        ));
        assert!(!bech32_valid(
            b"abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxx"
        ));
        assert!(!bech32_valid(b"A12uEL5L"));
        let placeholder = format!("AGE-SECRET-KEY-1{}", "Q".repeat(58));
        assert!(find_keys(placeholder.as_bytes()).is_empty());
        assert!(
            find_keys(
                b"# public key: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"
            )
            .is_empty()
        );
    }
}
