//! Every YAML file type of a vault: never panic; what parses survives a rewrite and parses
//! again to the same thing; errors never quote the input.
#![no_main]
use agent_vault::format::{ConfigFile, SecretMetaFile};
use agent_vault::manifest::Manifest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&kind, yaml)) = data.split_first() else {
        return;
    };
    match kind % 3 {
        0 => {
            if let Err(e) = ConfigFile::parse(yaml) {
                no_quote(&e.to_string(), yaml);
            }
        }
        1 => match Manifest::parse(yaml) {
            Ok(manifest) => {
                let again = Manifest::parse(&manifest.to_yaml()).expect("a rewrite parses");
                assert_eq!(again.to_yaml(), manifest.to_yaml());
            }
            Err(e) => no_quote(&e.to_string(), yaml),
        },
        _ => match SecretMetaFile::parse("x.meta", yaml) {
            Ok(meta) => {
                // The YAML-free reader decides nothing the YAML parser would decide otherwise.
                let slow = SecretMetaFile::parse_with_yaml("x.meta", yaml)
                    .expect("what the fast reader takes, YAML takes");
                assert_eq!(format!("{meta:?}"), format!("{slow:?}"));
                let again = SecretMetaFile::parse("x.meta", &meta.to_yaml()).expect("a rewrite parses");
                assert_eq!(again.to_yaml(), meta.to_yaml());
                let _ = meta.use_policy("x.meta");
            }
            Err(e) => no_quote(&e.to_string(), yaml),
        },
    }
});

/// An error message never repeats a long run of the input (which may be a key a hostile
/// file pointed at).
fn no_quote(message: &str, input: &[u8]) {
    for window in input.windows(24) {
        if window.iter().all(|b| b.is_ascii_alphanumeric()) {
            let text = std::str::from_utf8(window).unwrap();
            assert!(!message.contains(text), "error quotes its input: {message}");
        }
    }
}
