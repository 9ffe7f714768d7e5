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

    /// `bytes` with every remembered form replaced by [`REDACTED`], for what is not text: a
    /// header value or trailer with bytes outside visible ASCII (obs-text), which a `&str`
    /// view would skip whole.
    pub(crate) fn apply_bytes(&self, bytes: &[u8]) -> Vec<u8> {
        let mut out = bytes.to_vec();
        for needle in &self.needles {
            let needle = needle.as_bytes();
            if out.len() < needle.len() || !out.windows(needle.len()).any(|w| w == needle) {
                continue;
            }
            let mut replaced = Vec::with_capacity(out.len());
            let mut rest = out.as_slice();
            while let Some(at) = rest.windows(needle.len()).position(|w| w == needle) {
                replaced.extend_from_slice(&rest[..at]);
                replaced.extend_from_slice(REDACTED.as_bytes());
                rest = &rest[at + needle.len()..];
            }
            replaced.extend_from_slice(rest);
            out = replaced;
        }
        out
    }

    /// Redact every value of `headers` in place (response headers or trailers a connector is
    /// about to see), whatever bytes they hold.
    pub(crate) fn apply_headers(&self, headers: &mut http::HeaderMap) {
        for value in headers.values_mut() {
            let cleaned = self.apply_bytes(value.as_bytes());
            if cleaned != value.as_bytes()
                && let Ok(replacement) = http::HeaderValue::from_bytes(&cleaned)
            {
                *value = replacement;
            }
        }
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

    #[test]
    fn header_values_outside_ascii_are_redacted_too() {
        let mut r = Redactor::default();
        r.add(CANARY);
        let mut headers = http::HeaderMap::new();
        let raw = [b"\xe9".as_slice(), CANARY.as_bytes(), b"\xff"].concat();
        headers.insert("x-echo", http::HeaderValue::from_bytes(&raw).unwrap());
        r.apply_headers(&mut headers);
        let seen = headers["x-echo"].as_bytes();
        assert_eq!(
            seen,
            [b"\xe9".as_slice(), REDACTED.as_bytes(), b"\xff"].concat()
        );
    }
}
