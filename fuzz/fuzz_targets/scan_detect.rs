//! The leak guard's byte-level detectors: never panic, on any content, and every finding's
//! offset is inside the content.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for (at, _kind) in agent_vault::scan::detect::find_keys(data) {
        assert!(at <= data.len());
    }
    let _ = agent_vault::scan::path_findings(".agent-vault/secrets/x.enc", data);
});
