//! The signed statement parser: never panics; whatever it accepts is canonical (its body
//! re-serializes to exactly the bytes it read) and correctly signed.
#![no_main]
use agent_vault::integrity::Statement;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(statement) = Statement::parse_and_verify(data) {
        let body = statement.body();
        assert!(data.starts_with(body.as_bytes()));
        for change in &statement.key_changes {
            let _ = statement.chain_reaches(&change.from);
        }
    }
});
