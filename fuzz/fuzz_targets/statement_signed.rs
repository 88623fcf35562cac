//! The statement parser on bodies that carry a *valid* signature (made here with a fixed key),
//! so every canonical-form rule is exercised, not only the signature check: whatever parses is
//! exactly the canonical serialization of what was parsed.
#![no_main]
use std::sync::OnceLock;

use agent_vault::integrity::{SigningKey, Statement};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    let key = KEY.get_or_init(|| SigningKey::generate().unwrap());
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The fuzzer writes the body; the verify-key line is ours so that the signature verifies.
    let body = text.replacen("verify-key KEY", &format!("verify-key {}", key.verify_key()), 1);
    let signature = base64_signature(key, body.as_bytes());
    let bytes = format!("{body}signature {signature}\n");
    if let Ok(statement) = Statement::parse_and_verify(bytes.as_bytes()) {
        assert_eq!(statement.body(), body);
        assert_eq!(statement.sign(key), bytes.as_bytes());
    }
});

fn base64_signature(key: &SigningKey, body: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sig = key.sign(body);
    let mut out = String::new();
    for chunk in sig.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
