//! Names that become file paths: never panic; an accepted secret path can never leave the
//! vault folder.
#![no_main]
use agent_vault::names::{AgentName, GroupName, SecretPath};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(path) = SecretPath::parse(text) {
        let s = path.as_str();
        assert!(!s.starts_with('/') && !s.contains("//") && !s.contains('\\'));
        assert!(s.split('/').all(|seg| seg != "." && seg != ".." && !seg.is_empty()));
        let _ = path.default_group();
    }
    if let Ok(name) = AgentName::parse(text) {
        assert!(!name.as_str().contains('/'));
    }
    let _ = GroupName::parse(text);
});
