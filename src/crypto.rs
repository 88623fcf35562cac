//! age encryption and decryption of secret values, and the fingerprint of a recipient set.
//!
//! Plaintext only ever lives in `secrecy` containers that are zeroized on drop.

use std::io::Read;

use age::armor::ArmoredReader;
use age::x25519;
use secrecy::SecretSlice;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

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

/// Decrypts a binary or ASCII-armored age ciphertext with any of `identities`.
pub fn decrypt(
    ciphertext: &[u8],
    identities: &[x25519::Identity],
) -> Result<SecretSlice<u8>, DecryptFailure> {
    let decryptor = age::Decryptor::new_buffered(ArmoredReader::new(ciphertext))
        .map_err(|e| DecryptFailure::Malformed(e.to_string()))?;
    let mut reader = decryptor
        .decrypt(identities.iter().map(|i| i as &dyn age::Identity))
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
