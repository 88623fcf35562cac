//! age encryption and decryption of secret values, and the fingerprint of a recipient set.
//!
//! Plaintext only ever lives in `secrecy` containers that are zeroized on drop.

use std::io::Read;

use age::armor::ArmoredReader;
use age::x25519;
use secrecy::SecretSlice;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

mod rewrap;

pub use rewrap::add_recipients;

/// Why a ciphertext could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecryptFailure {
    /// None of the identities is a recipient of the ciphertext.
    #[error("none of the available keys is a recipient")]
    NotARecipient,
    /// The data is not a well-formed age file, or fails its MACs.
    #[error("not a valid age ciphertext ({0})")]
    Malformed(String),
}

/// Why encryption failed.
#[derive(Debug, thiserror::Error)]
#[error("age encryption failed: {0}")]
pub struct EncryptFailure(String);

/// Encrypts `plaintext` to every recipient, in the order given, as binary age.
pub fn encrypt(
    plaintext: &[u8],
    recipients: &[x25519::Recipient],
) -> Result<Vec<u8>, EncryptFailure> {
    let encryptor =
        age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
            .map_err(|e| EncryptFailure(e.to_string()))?;
    let mut out = Vec::with_capacity(plaintext.len() + 200 + 90 * recipients.len());
    let mut writer = encryptor
        .wrap_output(&mut out)
        .map_err(|e| EncryptFailure(e.to_string()))?;
    std::io::Write::write_all(&mut writer, plaintext).map_err(|e| EncryptFailure(e.to_string()))?;
    writer.finish().map_err(|e| EncryptFailure(e.to_string()))?;
    Ok(out)
}

/// The most recipient stanzas a header may hold before anything is tried.
pub const MAX_STANZAS: usize = 4096;
/// The largest header accepted.
pub const MAX_HEADER: usize = 1 << 20;

/// Decrypts a binary or ASCII-armored age ciphertext with any of `identities`. Headers with
/// more than [`MAX_STANZAS`] stanzas or larger than [`MAX_HEADER`] are refused before any key is
/// tried (a hostile header must not cost minutes).
pub fn decrypt(
    ciphertext: &[u8],
    identities: &[x25519::Identity],
) -> Result<SecretSlice<u8>, DecryptFailure> {
    decrypt_hinted(ciphertext, identities, None)
}

/// Like [`decrypt`], but each identity first tries the stanza `own_from_end` places from the
/// end of the header (where the writer put this agent's), then the others.
pub fn decrypt_hinted(
    ciphertext: &[u8],
    identities: &[x25519::Identity],
    own_from_end: Option<usize>,
) -> Result<SecretSlice<u8>, DecryptFailure> {
    let binary = dearmor(ciphertext)?;
    check_header(&binary)?;
    let decryptor = age::Decryptor::new_buffered(&binary[..])
        .map_err(|e| DecryptFailure::Malformed(e.to_string()))?;
    let hinted: Vec<rewrap::OwnStanzaFirst<'_>> = identities
        .iter()
        .map(|identity| rewrap::OwnStanzaFirst {
            identity,
            from_end: own_from_end.unwrap_or(usize::MAX),
        })
        .collect();
    let mut reader = decryptor
        .decrypt(hinted.iter().map(|i| i as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::NoMatchingKeys => DecryptFailure::NotARecipient,
            other => DecryptFailure::Malformed(other.to_string()),
        })?;
    let mut plaintext = Zeroizing::new(Vec::with_capacity(ciphertext.len()));
    reader
        .read_to_end(&mut plaintext)
        .map_err(|e| DecryptFailure::Malformed(e.to_string()))?;
    Ok(SecretSlice::from(std::mem::take(&mut *plaintext)))
}

/// The binary form of an age file: armored input decoded, binary input as is.
fn dearmor(ciphertext: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, DecryptFailure> {
    if ciphertext.starts_with(b"age-encryption.org/") {
        return Ok(std::borrow::Cow::Borrowed(ciphertext));
    }
    let mut binary = Vec::with_capacity(ciphertext.len());
    ArmoredReader::new(ciphertext)
        .read_to_end(&mut binary)
        .map_err(|e| DecryptFailure::Malformed(e.to_string()))?;
    Ok(std::borrow::Cow::Owned(binary))
}

/// Refuses a header that is too large or holds too many stanzas.
fn check_header(binary: &[u8]) -> Result<(), DecryptFailure> {
    let window = &binary[..binary.len().min(MAX_HEADER + 1)];
    let end = memchr::memmem::find(window, b"\n---")
        .ok_or_else(|| DecryptFailure::Malformed("the header is missing or too large".into()))?;
    let stanzas = memchr::memmem::find_iter(&window[..end], b"\n-> ").count();
    if stanzas > MAX_STANZAS {
        return Err(DecryptFailure::Malformed(format!(
            "the header has {stanzas} recipient stanzas (at most {MAX_STANZAS} are read)"
        )));
    }
    Ok(())
}

/// Whether `bytes` start like an age file (binary or armored).
pub fn looks_like_age(bytes: &[u8]) -> bool {
    bytes.starts_with(b"age-encryption.org/v1\n")
        || bytes
            .trim_ascii_start()
            .starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----")
}

/// The fingerprint of a recipient set: `sha256:` and the hex SHA-256 of the recipients'
/// canonical strings, sorted, de-duplicated, each followed by `\n`.
///
/// Two ciphertexts made for the same set of keys have the same fingerprint regardless of
/// order, so drift between the manifest and a ciphertext is visible without decrypting.
pub fn recipients_fingerprint<S: AsRef<str>>(recipients: &[S]) -> String {
    let mut sorted: Vec<&str> = recipients.iter().map(|r| r.as_ref().trim()).collect();
    sorted.sort_unstable();
    sorted.dedup();
    let mut hasher = Sha256::new();
    for r in sorted {
        hasher.update(r.as_bytes());
        hasher.update(b"\n");
    }
    format!("sha256:{}", hex::encode(hasher.finalize()))
}

impl From<EncryptFailure> for crate::Error {
    fn from(e: EncryptFailure) -> Self {
        crate::Error::Crypto(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn round_trip_binary_and_refusal() {
        let a = x25519::Identity::generate();
        let b = x25519::Identity::generate();
        let c = x25519::Identity::generate();
        let ct = encrypt(b"\x00\xffbinary", &[a.to_public(), b.to_public()]).unwrap();
        assert!(looks_like_age(&ct));
        assert_eq!(
            decrypt(&ct, &[b]).unwrap().expose_secret(),
            b"\x00\xffbinary"
        );
        assert!(matches!(
            decrypt(&ct, &[c]),
            Err(DecryptFailure::NotARecipient)
        ));
        assert!(matches!(
            decrypt(b"garbage", &[a]),
            Err(DecryptFailure::Malformed(_))
        ));
    }

    #[test]
    fn hostile_headers_are_refused_before_any_key_is_tried() {
        let id = x25519::Identity::generate();
        let mut header = String::from("age-encryption.org/v1\n");
        for _ in 0..(MAX_STANZAS + 1) {
            header.push_str("-> X25519 AAAA\nAAAA\n");
        }
        header.push_str("--- AAAA\n");
        let start = std::time::Instant::now();
        assert!(matches!(
            decrypt(header.as_bytes(), std::slice::from_ref(&id)),
            Err(DecryptFailure::Malformed(m)) if m.contains("stanzas")
        ));
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
        let endless = vec![b'a'; MAX_HEADER + 10];
        assert!(decrypt(&endless, &[id]).is_err());
    }

    #[test]
    fn armored_files_decrypt() {
        let id = x25519::Identity::generate();
        let binary = encrypt(b"v", &[id.to_public()]).unwrap();
        let mut armored = Vec::new();
        let mut w =
            age::armor::ArmoredWriter::wrap_output(&mut armored, age::armor::Format::AsciiArmor)
                .unwrap();
        std::io::Write::write_all(&mut w, &binary).unwrap();
        w.finish().unwrap();
        assert_eq!(decrypt(&armored, &[id]).unwrap().expose_secret(), b"v");
    }

    #[test]
    fn fingerprint_ignores_order_and_duplicates() {
        assert_eq!(
            recipients_fingerprint(&["b", "a", "a"]),
            recipients_fingerprint(&["a", "b"])
        );
        assert_ne!(
            recipients_fingerprint(&["a"]),
            recipients_fingerprint(&["a", "b"])
        );
    }
}
