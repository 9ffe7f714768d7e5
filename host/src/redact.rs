//! Keeping secret values out of everything an invocation leaves behind: log lines, outcome
//! summaries, error messages. Each value revealed to a call (read by the connector, or
//! attached to a request) is replaced wherever it appears: as is, percent-encoded, hex, or
//! base64 (standard or URL-safe, at any of the three byte alignments, so a key embedded in a
//! longer encoded string is caught too).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use zeroize::Zeroizing;

/// What a redacted value is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// The forms of the secrets one invocation has seen.
#[derive(Default)]
pub(crate) struct Redactor {
    needles: Vec<Zeroizing<String>>,
}

/// Percent-encode everything but RFC 3986 unreserved characters.
fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The base64 characters that depend only on `value`'s bytes when it starts `k` bytes into
/// the encoded input, for k = 0, 1, 2.
fn base64_cores(value: &[u8], engine: &base64::engine::GeneralPurpose) -> Vec<String> {
    (0..3usize)
        .filter_map(|k| {
            let mut input = vec![0u8; k];
            input.extend_from_slice(value);
            let encoded = engine.encode(&input);
            let first = (8 * k).div_ceil(6);
            let last = (8 * (k + value.len())) / 6;
            encoded.get(first..last).map(str::to_owned)
        })
        .filter(|core| core.len() >= 8)
        .collect()
}

impl Redactor {
    /// Remember `value` and its encodings.
    pub(crate) fn add(&mut self, value: &str) {
        if value.is_empty() || self.needles.iter().any(|n| n.as_str() == value) {
            return;
        }
        let mut forms = vec![value.to_owned(), percent_encode(value)];
        forms.push(hex::encode(value));
        forms.push(hex::encode_upper(value));
        forms.extend(base64_cores(value.as_bytes(), &STANDARD_NO_PAD));
        forms.extend(base64_cores(value.as_bytes(), &URL_SAFE_NO_PAD));
        for form in forms {
            if !self.needles.iter().any(|n| n.as_str() == form) {
                self.needles.push(Zeroizing::new(form));
            }
        }
        // Longest first, so a form containing another is replaced whole.
        self.needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
    }

    /// `text` with every remembered form replaced by [`REDACTED`].
    pub(crate) fn apply(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for needle in &self.needles {
            if out.contains(needle.as_str()) {
                out = out.replace(needle.as_str(), REDACTED);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CANARY: &str = "sk_live_CANARY/7Qx+e9==";

    #[test]
    fn every_encoding_of_a_secret_is_redacted() {
        let mut r = Redactor::default();
        r.add(CANARY);
        let b64 = base64::engine::general_purpose::STANDARD.encode(CANARY);
        let shifted = base64::engine::general_purpose::STANDARD.encode(format!("key={CANARY}"));
        let url_b64 = URL_SAFE_NO_PAD.encode(format!("ab{CANARY}"));
        for leak in [
            format!("plain {CANARY} end"),
            format!("url {}", percent_encode(CANARY)),
            format!("hex {}", hex::encode(CANARY)),
            format!("b64 {b64}"),
            format!("shifted {shifted}"),
            format!("urlsafe {url_b64}"),
        ] {
            let out = r.apply(&leak);
            assert!(out.contains(REDACTED), "{leak} -> {out}");
            assert!(!out.contains(CANARY), "{out}");
            assert!(!out.contains(&b64[..12]), "{out}");
        }
        assert_eq!(r.apply("nothing to hide"), "nothing to hide");
    }
}
