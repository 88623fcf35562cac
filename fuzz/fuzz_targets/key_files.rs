//! Identity files and `AGENT_VAULT_KEY` text: never panic, never echo a line.
#![no_main]
use libfuzzer_sys::fuzz_target;

/// Every message an identity file can produce: once digits (the line number) are taken out of
/// both, a message that is one of these holds nothing of the file but which line is wrong.
const TEMPLATES: &[&str] = &[
    "fuzz: line  is not a valid age identity",
    "fuzz: line  is an age plugin identity, which agent-vault does not support; use an X25519 key from age-keygen",
    "fuzz: line  looks like an SSH or PEM key; agent-vault uses age X25519 keys (AGE-SECRET-KEY-1…, made by age-keygen or `agent-vault add-agent`)",
    "fuzz: line  is neither a comment nor an AGE-SECRET-KEY-1… identity",
    "fuzz: it holds no AGE-SECRET-KEY-1… identity",
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = agent_vault::keys::parse_identities(text, "fuzz") {
        let message = e.to_string();
        let skeleton = |s: &str| -> String { s.chars().filter(|c| !c.is_ascii_digit()).collect() };
        let message_skeleton = skeleton(&message);
        assert!(
            TEMPLATES.iter().any(|t| skeleton(t) == message_skeleton),
            "unexpected message (may echo the file): {message}"
        );
    }
    let _ = agent_vault::keys::parse_recipients_file(text, "fuzz");
});
