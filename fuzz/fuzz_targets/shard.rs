//! Shard files: never panic; what parses re-serializes to the same bytes.
#![no_main]
use agent_vault::integrity::Shard;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let name = format!("{first:02x}");
    if let Ok(shard) = Shard::parse(&name, rest) {
        assert_eq!(shard.to_bytes(), rest);
    }
});
