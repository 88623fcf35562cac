use super::*;

const SECRET: &[u8] = b"sk-live/Ab+c d=9~x";
const TAG: &str = "[redacted:t/key]";

fn redactor(value: &[u8], user: Option<&str>) -> Arc<Redactor> {
    Arc::new(Redactor::new("t/key", value, user))
}

/// Every encoding of `value` the module promises to catch, embedded in text.
fn encodings(value: &[u8], user: Option<&str>) -> Vec<Vec<u8>> {
    let mut out = vec![value.to_vec()];
    for (set, plus) in [(RFC3986, false), (FORM, true), (URI_COMPONENT, false)] {
        let upper = percent(value, set, plus).to_vec();
        out.push(lower_hex_escapes(&upper));
        out.push(upper);
    }
    if let Ok(text) = std::str::from_utf8(value) {
        let json = serde_json::to_string(text).unwrap();
        out.push(json.as_bytes()[1..json.len() - 1].to_vec());
        out.push(json[1..json.len() - 1].replace('/', "\\/").into_bytes());
    }
    out.push(hex::encode(value).into_bytes());
    out.push(hex::encode_upper(value).into_bytes());
    for engine in [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD] {
        for prefix in [&b""[..], b"x", b"xy"] {
            let mut shifted = prefix.to_vec();
            shifted.extend_from_slice(value);
            shifted.extend_from_slice(b"tail");
            out.push(engine.encode(&shifted).into_bytes());
        }
        out.push(engine.encode(value).into_bytes());
    }
    if let Some(user) = user {
        out.push(
            STANDARD
                .encode(
                    format!("{user}:")
                        .into_bytes()
                        .into_iter()
                        .chain(value.iter().copied())
                        .collect::<Vec<u8>>(),
                )
                .into_bytes(),
        );
    }
    out
}

/// The value's bits must be gone: no raw value, and no base64 run decoding to it.
fn assert_clean(value: &[u8], out: &[u8]) {
    let text = String::from_utf8_lossy(out);
    assert!(
        !out.windows(value.len()).any(|w| w == value),
        "raw value in {text}"
    );
    for p in patterns(value, None) {
        assert!(
            !out.windows(p.len()).any(|w| w == p.as_slice()),
            "pattern left in {text}"
        );
    }
}

#[test]
fn every_encoding_is_redacted() {
    for (value, user) in [(SECRET, None), (&b"pw:with\"quote\\"[..], Some("deploy"))] {
        let r = redactor(value, user);
        for enc in encodings(value, user) {
            let mut data = b"before ".to_vec();
            data.extend_from_slice(&enc);
            data.extend_from_slice(b" after");
            let out = r.redact(&data);
            let shown = String::from_utf8_lossy(&enc).into_owned();
            assert!(
                String::from_utf8_lossy(&out).contains(TAG),
                "{shown} not redacted"
            );
            assert!(
                out.starts_with(b"before ") && out.ends_with(b" after"),
                "{shown}"
            );
            assert_clean(value, &out);
        }
    }
}

#[test]
fn base64_of_the_whole_value_and_of_basic_credentials_is_replaced_entirely() {
    let r = redactor(b"hunter2-is-long", Some("me"));
    let basic = STANDARD.encode("me:hunter2-is-long");
    let out = r.redact(format!("Authorization: Basic {basic}\n").as_bytes());
    assert_eq!(out, format!("Authorization: Basic {TAG}\n").into_bytes());
    let full = STANDARD.encode("hunter2-is-long");
    assert_eq!(r.redact(full.as_bytes()), TAG.as_bytes());
}

fn stream_all(r: &Arc<Redactor>, chunks: &[&[u8]]) -> Vec<u8> {
    let mut s = r.stream();
    let mut out = Vec::new();
    for c in chunks {
        out.extend(s.push(c));
    }
    out.extend(s.finish());
    out
}

#[test]
fn matches_split_across_chunks_are_caught_at_every_split_point() {
    let r = redactor(SECRET, Some("u"));
    let mut data = Vec::new();
    for (i, enc) in encodings(SECRET, Some("u")).iter().enumerate() {
        data.extend_from_slice(format!("<{i}>").as_bytes());
        data.extend_from_slice(enc);
    }
    data.extend_from_slice(SECRET);
    data.extend_from_slice(SECRET);
    let whole = r.redact(&data);
    assert_clean(SECRET, &whole);
    for split in 0..=data.len() {
        let (a, b) = data.split_at(split);
        assert_eq!(stream_all(&r, &[a, b]), whole, "split at {split}");
    }
    let bytes: Vec<&[u8]> = data.chunks(1).collect();
    assert_eq!(stream_all(&r, &bytes), whole);
    for size in [2, 3, 5, 7, 16, 61] {
        let chunks: Vec<&[u8]> = data.chunks(size).collect();
        assert_eq!(stream_all(&r, &chunks), whole, "chunks of {size}");
    }
}

#[test]
fn binary_values_and_overlaps() {
    let value = b"\x00\xffbin\x00ary\x01\x02\x03";
    let r = redactor(value, None);
    let mut data = b"\x00\x00".to_vec();
    data.extend_from_slice(value);
    data.extend_from_slice(&value[..5]); // a partial value is not redacted
    data.extend_from_slice(value);
    let out = stream_all(&r, &data.chunks(3).collect::<Vec<_>>());
    let mut expected = b"\x00\x00".to_vec();
    expected.extend_from_slice(TAG.as_bytes());
    expected.extend_from_slice(&value[..5]);
    expected.extend_from_slice(TAG.as_bytes());
    assert_eq!(out, expected);
    // Overlapping occurrences: leftmost-longest wins, the rest is scanned again.
    let r = redactor(b"abcabcab", None);
    assert_eq!(
        r.redact(b"abcabcabcabcab"),
        format!("{TAG}cabcab").into_bytes()
    );
}

#[test]
fn unrelated_text_is_not_held_back() {
    let r = redactor(SECRET, None);
    let mut s = r.stream();
    assert_eq!(
        s.push(b"data: {\"delta\":\"hi\"}\n\n"),
        b"data: {\"delta\":\"hi\"}\n\n"
    );
    assert_eq!(s.pending(), 0);
    // A possible start of the value is held until the next chunk decides.
    assert_eq!(s.push(b"text sk-li"), b"text ");
    assert_eq!(s.pending(), 5);
    assert_eq!(s.push(b"ght"), b"sk-light");
    assert_eq!(s.finish(), b"");
}

#[test]
fn short_values_redact_only_the_raw_bytes() {
    let r = redactor(b"abc", None);
    assert_eq!(r.patterns.len(), 1);
    assert_eq!(
        r.redact(b"xabcx YWJj 616263"),
        format!("x{TAG}x YWJj 616263").into_bytes()
    );
    let empty = redactor(b"", None);
    assert_eq!(empty.redact(b"anything"), b"anything");
    assert_eq!(stream_all(&empty, &[b"any", b"thing"]), b"anything");
}

#[test]
fn debug_output_holds_no_value() {
    let r = redactor(SECRET, None);
    assert!(!format!("{r:?}").contains("sk-live"));
}
