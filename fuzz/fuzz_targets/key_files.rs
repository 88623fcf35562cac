//! Identity files and `AGENT_VAULT_KEY` text: never panic, never echo a line.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = agent_vault::keys::parse_identities(text, "fuzz") {
        let message = e.to_string();
        for line in text.lines().filter(|l| l.trim().len() >= 16) {
            assert!(!message.contains(line.trim()), "error echoes a line: {message}");
        }
    }
    let _ = agent_vault::keys::parse_recipients_file(text, "fuzz");
});
