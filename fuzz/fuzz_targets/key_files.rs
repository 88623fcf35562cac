//! Identity files and `AGENT_VAULT_KEY` text: never panic, never echo a line.
#![no_main]
use libfuzzer_sys::fuzz_target;

/// What the messages say themselves; a line that is part of them proves nothing.
const OWN_WORDS: &str = "line is neither a comment nor an AGE-SECRET-KEY-1… identity; is not a valid age identity; is an age plugin identity, which agent-vault does not support; use an X25519 key from age-keygen; looks like an SSH or PEM key; agent-vault uses age X25519 keys (AGE-SECRET-KEY-1…, made by age-keygen or `agent-vault add-agent`); it holds no AGE-SECRET-KEY-1… identity; not a valid age X25519 recipient (age1…); it holds no age1… recipient";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = agent_vault::keys::parse_identities(text, "fuzz") {
        let message = e.to_string();
        for line in text.lines().map(str::trim).filter(|l| l.len() >= 16) {
            if !OWN_WORDS.contains(line) {
                assert!(!message.contains(line), "error echoes a line: {message}");
            }
        }
    }
    let _ = agent_vault::keys::parse_recipients_file(text, "fuzz");
});
