//! Redaction of a secret's value from what upstream sends back, streamed chunk by chunk.
//!
//! Every occurrence of any of these forms of the value is replaced by `[redacted:PATH]`:
//!
//! * the raw bytes;
//! * percent-encoded, with upper- and lowercase hex, in three common encode sets: RFC 3986
//!   (everything but `A-Za-z0-9-._~`, which is how the broker itself fills a query parameter),
//!   HTML-form encoding (space as `+`, `*` kept), and JavaScript `encodeURIComponent`;
//! * JSON string escaping (as `serde_json` writes it, and with `/` written `\/`), when the value
//!   is UTF-8;
//! * lower- and uppercase hex;
//! * standard and URL-safe base64, padded and unpadded: the full encoding of the value, and for
//!   each of the three alignments (the value preceded by 0, 1 or 2 bytes) the stable inner part
//!   that depends on the value alone;
//! * for basic auth, the base64 of `USER:value` (padded and unpadded).
//!
//! **Not caught:** base64 of the value inside a longer base64 stream leaves up to two characters
//! at each edge (each carries at most 4 bits of the value); mixed-case percent-encoding; other
//! encodings (compression, encryption, UTF-16, HTML entities, a value split by the server with
//! other text in between). Derived forms shorter than 8 bytes are not used (they would redact
//! unrelated text); the raw value is always redacted, whatever its length.
//!
//! The patterns are matched with Aho–Corasick, leftmost-longest. A stream keeps back only the
//! end of what it has seen that could still become a match (at most the longest pattern less one
//! byte), so chunks flow through as they arrive and a match split across chunks is still caught.
//! The matching automaton holds the patterns in memory that is not zeroized; the pattern list
//! and the held-back tail are.

use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};
use zeroize::Zeroizing;

/// Derived (encoded) forms shorter than this are not redacted.
const MIN_DERIVED_LEN: usize = 8;

/// RFC 3986 unreserved characters stay; everything else is encoded.
pub(crate) const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// `application/x-www-form-urlencoded` (space handled separately as `+`).
const FORM: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'*')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_');
/// JavaScript `encodeURIComponent`.
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// The compiled patterns of one secret. Cheap to share: wrap it in an `Arc` and make a
/// [`StreamRedactor`] per response.
pub struct Redactor {
    automaton: AhoCorasick,
    patterns: Vec<Zeroizing<Vec<u8>>>,
    max_len: usize,
    replacement: Vec<u8>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field("patterns", &self.patterns.len())
            .finish_non_exhaustive()
    }
}

impl Redactor {
    /// The redactor for `value` of secret `path`; `basic_user` adds the base64 of `USER:value`.
    pub fn new(path: &str, value: &[u8], basic_user: Option<&str>) -> Redactor {
        let patterns = patterns(value, basic_user);
        let max_len = patterns.iter().map(|p| p.len()).max().unwrap_or(1);
        // A contiguous NFA builds in a fraction of a DFA's time (one redactor per request) and
        // still scans hundreds of MB/s.
        let automaton = AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .match_kind(MatchKind::LeftmostLongest)
            .build(patterns.iter().map(|p| p.as_slice()))
            .unwrap_or_else(|_| empty_automaton());
        Redactor {
            automaton,
            patterns,
            max_len,
            replacement: format!("[redacted:{path}]").into_bytes(),
        }
    }

    /// `data` with every occurrence replaced (for whole buffers such as header values).
    pub fn redact(&self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len());
        let pos = self.emit_matches(data, data.len(), &mut out);
        out.extend_from_slice(&data[pos..]);
        out
    }

    /// Whether `data` holds any pattern.
    pub fn contains_secret(&self, data: &[u8]) -> bool {
        self.automaton.is_match(data)
    }

    /// Writes `data` up to the last match starting before `limit` to `out`, matches replaced;
    /// returns where the unwritten rest begins (the end of that match, or 0).
    fn emit_matches(&self, data: &[u8], limit: usize, out: &mut Vec<u8>) -> usize {
        let mut pos = 0;
        for m in self.automaton.find_iter(data) {
            if m.start() >= limit {
                break;
            }
            out.extend_from_slice(&data[pos..m.start()]);
            out.extend_from_slice(&self.replacement);
            pos = m.end();
        }
        pos
    }

    /// The first position from which `data[i..]` is a proper prefix of some pattern (so more
    /// input could complete a match there), or `data.len()`.
    fn hold_from(&self, data: &[u8]) -> usize {
        let start = data.len().saturating_sub(self.max_len.saturating_sub(1));
        (start..data.len())
            .find(|&i| {
                let tail = &data[i..];
                self.patterns
                    .iter()
                    .any(|p| p.len() > tail.len() && p.starts_with(tail))
            })
            .unwrap_or(data.len())
    }

    /// A streaming redactor over this one.
    pub fn stream(self: &Arc<Self>) -> StreamRedactor {
        StreamRedactor {
            redactor: Arc::clone(self),
            carry: Zeroizing::new(Vec::new()),
        }
    }
}

fn empty_automaton() -> AhoCorasick {
    // Building from no patterns cannot fail; this keeps `new` free of panics regardless.
    AhoCorasick::new(std::iter::empty::<&[u8]>()).unwrap_or_else(|_| empty_automaton())
}

/// Redacts a stream: feed chunks to [`push`](StreamRedactor::push) and call
/// [`finish`](StreamRedactor::finish) at the end.
pub struct StreamRedactor {
    redactor: Arc<Redactor>,
    carry: Zeroizing<Vec<u8>>,
}

impl StreamRedactor {
    /// The redacted output that is final after `chunk`; a possible partial match is held back.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<u8> {
        let mut buf = Zeroizing::new(std::mem::take(&mut *self.carry));
        buf.extend_from_slice(chunk);
        let hold = self.redactor.hold_from(&buf);
        let mut out = Vec::with_capacity(buf.len());
        let pos = self.redactor.emit_matches(&buf, hold, &mut out);
        let keep_from = pos.max(hold);
        out.extend_from_slice(&buf[pos..keep_from]);
        self.carry.extend_from_slice(&buf[keep_from..]);
        out
    }

    /// Everything held back, redacted.
    pub fn finish(&mut self) -> Vec<u8> {
        let buf = Zeroizing::new(std::mem::take(&mut *self.carry));
        self.redactor.redact(&buf)
    }

    /// How many bytes are held back.
    pub fn pending(&self) -> usize {
        self.carry.len()
    }
}

/// All forms of `value` to redact, deduplicated.
fn patterns(value: &[u8], basic_user: Option<&str>) -> Vec<Zeroizing<Vec<u8>>> {
    let mut out: Vec<Zeroizing<Vec<u8>>> = Vec::new();
    let mut add = |p: Zeroizing<Vec<u8>>, derived: bool| {
        if p.is_empty() || (derived && p.len() < MIN_DERIVED_LEN) {
            return;
        }
        if !out.iter().any(|q| q.as_slice() == p.as_slice()) {
            out.push(p);
        }
    };
    add(Zeroizing::new(value.to_vec()), false);
    for (set, plus) in [(RFC3986, false), (FORM, true), (URI_COMPONENT, false)] {
        let upper = percent(value, set, plus);
        add(Zeroizing::new(lower_hex_escapes(&upper)), true);
        add(upper, true);
    }
    if let Ok(text) = std::str::from_utf8(value)
        && let Ok(json) = serde_json::to_string(text)
    {
        let inner = Zeroizing::new(json.into_bytes());
        let inner = Zeroizing::new(inner[1..inner.len() - 1].to_vec());
        let slashed = Zeroizing::new(
            String::from_utf8_lossy(&inner)
                .replace('/', "\\/")
                .into_bytes(),
        );
        add(inner, true);
        add(slashed, true);
    }
    let hex = Zeroizing::new(hex::encode(value).into_bytes());
    add(Zeroizing::new(hex.to_ascii_uppercase()), true);
    add(hex, true);
    for p in base64_forms(value) {
        add(p, true);
    }
    if let Some(user) = basic_user {
        let mut pair = Zeroizing::new(format!("{user}:").into_bytes());
        pair.extend_from_slice(value);
        add(Zeroizing::new(STANDARD.encode(&*pair).into_bytes()), true);
        add(
            Zeroizing::new(STANDARD_NO_PAD.encode(&*pair).into_bytes()),
            true,
        );
    }
    out
}

/// Percent-encodes `value` with uppercase hex; `plus` writes space as `+`.
pub(crate) fn percent(value: &[u8], set: &'static AsciiSet, plus: bool) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(value.len() * 3));
    for &b in value {
        if plus && b == b' ' {
            out.push(b'+');
        } else {
            let one = [b];
            for piece in percent_encoding::percent_encode(&one, set) {
                out.extend_from_slice(piece.as_bytes());
            }
        }
    }
    out
}

/// `%2F` → `%2f` for every escape.
fn lower_hex_escapes(encoded: &[u8]) -> Vec<u8> {
    let mut out = encoded.to_vec();
    let mut i = 0;
    while i < out.len() {
        if out[i] == b'%' && i + 2 < out.len() {
            out[i + 1] = out[i + 1].to_ascii_lowercase();
            out[i + 2] = out[i + 2].to_ascii_lowercase();
            i += 3;
        } else {
            i += 1;
        }
    }
    out
}

/// Full base64 encodings and the stable inner part at each alignment, both alphabets.
fn base64_forms(value: &[u8]) -> Vec<Zeroizing<Vec<u8>>> {
    let mut out = Vec::new();
    if value.is_empty() {
        return out;
    }
    for (padded, unpadded) in [(STANDARD, STANDARD_NO_PAD), (URL_SAFE, URL_SAFE_NO_PAD)] {
        out.push(Zeroizing::new(padded.encode(value).into_bytes()));
        out.push(Zeroizing::new(unpadded.encode(value).into_bytes()));
        for k in 0..3usize {
            let mut shifted = Zeroizing::new(vec![0u8; k]);
            shifted.extend_from_slice(value);
            let encoded = Zeroizing::new(unpadded.encode(&*shifted).into_bytes());
            // Character i covers bits 6i..6i+6; keep those lying wholly inside the value's bits.
            let first = (8 * k).div_ceil(6);
            let end = (8 * (k + value.len())) / 6;
            if first < end && end <= encoded.len() {
                out.push(Zeroizing::new(encoded[first..end].to_vec()));
            }
        }
    }
    out
}

#[cfg(test)]
#[path = "redact_tests.rs"]
mod tests;
