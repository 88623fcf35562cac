//! Masking secret values in a byte stream: what `run` relays the child's stdout and stderr
//! through. Every occurrence of a value is replaced by `<concealed:PATH>`.
//!
//! * **Any bytes**: the stream is bytes, not text; binary output is masked the same way.
//! * **Split across reads**: a stream keeps back only the end of what it has seen that could
//!   still become a match (at most the longest value less one byte), so output flows as it
//!   comes and a value split across reads is still caught.
//! * **Overlaps**: all occurrences are found, overlapping ones included, and the union of
//!   their bytes is masked, so no byte of any occurrence is shown. A value inside a longer one's
//!   occurrence adds no marker of its own; two occurrences that overlap partly give one marker
//!   each (`<concealed:a><concealed:b>`). Secrets with equal values share one marker naming
//!   them all.
//!
//! Only the exact bytes are masked, not encodings of them (base64, URL-encoding, …): `run`
//! guards against a program printing its configuration, not against one set on leaking it.
//! The automaton's copy of the values is not zeroized; the value list and the held-back tail
//! are.

use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use zeroize::Zeroizing;

/// The compiled values of a set of secrets. Share it with an `Arc` and make one
/// [`MaskStream`] per output stream.
pub struct Masker {
    automaton: Option<AhoCorasick>,
    patterns: Vec<Zeroizing<Vec<u8>>>,
    labels: Vec<Vec<u8>>,
    first_bytes: [bool; 256],
    max_len: usize,
}

impl std::fmt::Debug for Masker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Masker")
            .field("values", &self.patterns.len())
            .finish_non_exhaustive()
    }
}

impl Masker {
    /// A masker for `(path, value)` pairs. Empty values are ignored.
    pub fn new<'a>(secrets: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Masker {
        let mut patterns: Vec<Zeroizing<Vec<u8>>> = Vec::new();
        let mut paths: Vec<Vec<&str>> = Vec::new();
        for (path, value) in secrets {
            if value.is_empty() {
                continue;
            }
            match patterns.iter().position(|p| p.as_slice() == value) {
                Some(i) if !paths[i].contains(&path) => paths[i].push(path),
                Some(_) => {}
                None => {
                    patterns.push(Zeroizing::new(value.to_vec()));
                    paths.push(vec![path]);
                }
            }
        }
        let labels = paths
            .iter()
            .map(|p| format!("<concealed:{}>", p.join(",")).into_bytes())
            .collect();
        let mut first_bytes = [false; 256];
        for p in &patterns {
            first_bytes[usize::from(p[0])] = true;
        }
        // Standard semantics: the only kind that reports overlapping matches.
        let automaton = AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .match_kind(MatchKind::Standard)
            .build(patterns.iter().map(|p| p.as_slice()))
            .ok()
            .filter(|_| !patterns.is_empty());
        Masker {
            automaton,
            max_len: patterns.iter().map(|p| p.len()).max().unwrap_or(0),
            patterns,
            labels,
            first_bytes,
        }
    }

    /// Whether there is nothing to mask.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// A stream over this masker.
    pub fn stream(self: &Arc<Self>) -> MaskStream {
        MaskStream {
            masker: Arc::clone(self),
            carry: Zeroizing::new(Vec::new()),
            carry_start: 0,
            emitted: 0,
            covered_to: 0,
            last_label: None,
        }
    }

    /// `data` masked as a whole.
    pub fn mask(self: &Arc<Self>, data: &[u8]) -> Vec<u8> {
        let mut stream = self.stream();
        let mut out = stream.push(data);
        out.extend(stream.finish());
        out
    }

    /// The first position from which `data[i..]` is a proper prefix of some value (more input
    /// could complete a match starting there), or `data.len()`.
    fn hold_from(&self, data: &[u8]) -> usize {
        let start = data.len().saturating_sub(self.max_len.saturating_sub(1));
        (start..data.len())
            .find(|&i| {
                let tail = &data[i..];
                self.first_bytes[usize::from(tail[0])]
                    && self
                        .patterns
                        .iter()
                        .any(|p| p.len() > tail.len() && p.starts_with(tail))
            })
            .unwrap_or(data.len())
    }
}

/// Masks one stream: feed it with [`push`](MaskStream::push), end it with
/// [`finish`](MaskStream::finish). Offsets below are absolute positions in the stream.
pub struct MaskStream {
    masker: Arc<Masker>,
    /// Input not yet settled, starting at `carry_start`.
    carry: Zeroizing<Vec<u8>>,
    carry_start: u64,
    /// Output is final up to here.
    emitted: u64,
    /// The end of the last masked run.
    covered_to: u64,
    /// The value whose marker was written last for the run ending at `covered_to`.
    last_label: Option<usize>,
}

impl MaskStream {
    /// The masked output that is final after `chunk`.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<u8> {
        self.process(chunk, false)
    }

    /// Everything held back, masked.
    pub fn finish(&mut self) -> Vec<u8> {
        self.process(&[], true)
    }

    fn process(&mut self, chunk: &[u8], last: bool) -> Vec<u8> {
        let mut buf = Zeroizing::new(std::mem::take(&mut *self.carry));
        buf.extend_from_slice(chunk);
        let masker = Arc::clone(&self.masker);
        let Some(automaton) = &masker.automaton else {
            return buf.to_vec();
        };
        let base = self.carry_start;
        let hold = if last {
            buf.len()
        } else {
            masker.hold_from(&buf)
        };
        let mut found: Vec<(usize, usize, usize)> = automaton
            .find_overlapping_iter(&buf[..])
            .filter(|m| m.start() < hold)
            .map(|m| (m.start(), m.end(), m.pattern().as_usize()))
            .collect();
        found.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        let mut out = Vec::with_capacity(buf.len());
        for (start, end, pattern) in found {
            let (start, end) = (base + start as u64, base + end as u64);
            if start >= self.emitted {
                self.plain(&buf, base, start, &mut out);
                out.extend_from_slice(&masker.labels[pattern]);
                self.last_label = Some(pattern);
            } else if end > self.emitted {
                // Overlaps what was masked last: extend the run, naming a new value once.
                if self.last_label != Some(pattern) {
                    out.extend_from_slice(&masker.labels[pattern]);
                    self.last_label = Some(pattern);
                }
            } else {
                continue;
            }
            self.emitted = end;
            self.covered_to = end;
        }
        self.plain(&buf, base, base + hold as u64, &mut out);
        self.carry.extend_from_slice(&buf[hold..]);
        self.carry_start = base + hold as u64;
        out
    }

    /// Writes the unmasked bytes from what is emitted up to `to`.
    fn plain(&mut self, buf: &[u8], base: u64, to: u64, out: &mut Vec<u8>) {
        if to > self.emitted {
            let from = usize::try_from(self.emitted - base).unwrap_or(buf.len());
            let to_rel = usize::try_from(to - base).unwrap_or(buf.len());
            out.extend_from_slice(&buf[from.min(buf.len())..to_rel.min(buf.len())]);
            self.emitted = to;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masker(values: &[(&str, &[u8])]) -> Arc<Masker> {
        Arc::new(Masker::new(values.iter().copied()))
    }

    /// Pushes `data` in pieces cut at `cuts`.
    fn streamed(m: &Arc<Masker>, data: &[u8], cuts: &[usize]) -> Vec<u8> {
        let mut s = m.stream();
        let mut out = Vec::new();
        let mut pos = 0;
        for &c in cuts {
            let c = c.clamp(pos, data.len());
            out.extend(s.push(&data[pos..c]));
            pos = c;
        }
        out.extend(s.push(&data[pos..]));
        out.extend(s.finish());
        out
    }

    #[test]
    fn masks_values_split_at_every_position() {
        let m = masker(&[("app/token", b"s3cr3t-value")]);
        let data = b"before s3cr3t-value middle s3cr3t-value";
        let want = b"before <concealed:app/token> middle <concealed:app/token>".to_vec();
        for a in 0..data.len() {
            for b in a..data.len() {
                assert_eq!(streamed(&m, data, &[a, b]), want, "cuts {a} {b}");
            }
        }
        let bytewise: Vec<usize> = (0..data.len()).collect();
        assert_eq!(streamed(&m, data, &bytewise), want);
    }

    #[test]
    fn overlapping_and_nested_values() {
        let m = masker(&[("a", b"abcdef"), ("b", b"cdefgh"), ("c", b"bcd")]);
        assert_eq!(m.mask(b"xabcdefghy"), b"x<concealed:a><concealed:b>y");
        assert_eq!(m.mask(b"-bcd-"), b"-<concealed:c>-");
        let m = masker(&[("long", b"secret123"), ("short", b"secret")]);
        assert_eq!(
            m.mask(b"secret123 secret12"),
            b"<concealed:long> <concealed:short>12"
        );
        let m = masker(&[("x", b"aa")]);
        assert_eq!(m.mask(b"baaab"), b"b<concealed:x>b");
        let m = masker(&[("one", b"same"), ("two", b"same")]);
        assert_eq!(m.mask(b"same"), b"<concealed:one,two>");
    }

    #[test]
    fn binary_values_and_output() {
        let m = masker(&[("bin", b"\x00\xff\x00\x01")]);
        let data = b"\xfe\x00\xff\x00\x01\x00\xff";
        for cut in 0..data.len() {
            assert_eq!(streamed(&m, data, &[cut]), b"\xfe<concealed:bin>\x00\xff");
        }
    }

    #[test]
    fn random_streams_never_show_a_value() {
        let values: [&[u8]; 4] = [b"abab", b"babb", b"aab", b"bbbbbbba"];
        let m = masker(&[
            ("p", values[0]),
            ("q", values[1]),
            ("r", values[2]),
            ("s", values[3]),
        ]);
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..2000 {
            let len = (next() % 40) as usize;
            let data: Vec<u8> = (0..len)
                .map(|_| if next() % 2 == 0 { b'a' } else { b'b' })
                .collect();
            let cuts: Vec<usize> = (0..(next() % 5))
                .map(|_| (next() as usize) % (len + 1))
                .collect();
            let mut sorted = cuts.clone();
            sorted.sort();
            let whole = m.mask(&data);
            assert_eq!(streamed(&m, &data, &sorted), whole, "{data:?} {sorted:?}");
            // The plain text between markers (the input has no `<` or `>`).
            for plain in whole
                .split(|b| *b == b'<')
                .map(|part| part.split(|b| *b == b'>').next_back().unwrap_or(&[]))
            {
                for v in values {
                    assert!(
                        !plain.windows(v.len()).any(|w| w == v),
                        "{data:?} → {whole:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn nothing_to_mask_passes_through() {
        let m = masker(&[("e", b"")]);
        assert!(m.is_empty());
        assert_eq!(m.mask(b"abc"), b"abc");
    }
}
