//! Decryption of whatever bytes a `.enc` holds: never panics, never unbounded (the header
//! limits are checked before any key is tried).
#![no_main]
use std::sync::OnceLock;

use age::x25519::Identity;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    static ID: OnceLock<Identity> = OnceLock::new();
    let id = ID.get_or_init(Identity::generate);
    let _ = agent_vault::crypto::decrypt(data, std::slice::from_ref(id));
});
