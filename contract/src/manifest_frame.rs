//! The frame the manifest travels in inside the `airlock-manifest` custom section: an 8-byte
//! magic, the TOML's length (u32, little-endian), then the TOML. The linker joins custom
//! sections of the same name, so a dependency's bytes in that section land next to the
//! connector's; framed, they can never pass for part of the manifest: the host reads exactly
//! one frame and refuses anything before or after it.

/// Opens every frame. The first byte is never the start of UTF-8 text, so plain TOML (an
/// unframed manifest, or text a dependency appended) is never taken for a frame.
pub const MANIFEST_FRAME_MAGIC: [u8; 8] = *b"\xffairlock";

/// Bytes before the TOML: the magic and the length.
pub const MANIFEST_FRAME_HEADER: usize = 12;

/// The header of a frame holding `len` bytes of TOML. `const`, so an SDK's export macro can
/// build the whole frame in a `static` at compile time.
///
/// # Panics
/// At compile time (or run time), when `len` does not fit in a u32: no manifest is that big.
pub const fn manifest_frame_header(len: usize) -> [u8; MANIFEST_FRAME_HEADER] {
    assert!(len <= u32::MAX as usize, "manifest too large to frame");
    let n = (len as u32).to_le_bytes();
    let m = MANIFEST_FRAME_MAGIC;
    [
        m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], n[0], n[1], n[2], n[3],
    ]
}

/// `toml` in a frame: what tools that attach a manifest without the SDK macro write.
pub fn frame_manifest(toml: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(MANIFEST_FRAME_HEADER + toml.len());
    out.extend_from_slice(&manifest_frame_header(toml.len()));
    out.extend_from_slice(toml);
    out
}

/// What is wrong with the contents of an `airlock-manifest` section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// It does not start with a frame and holds none: an old SDK, or a hand-made section.
    NotFramed,
    /// Bytes before the first frame: something else was linked in ahead of the manifest.
    Leading {
        /// How many.
        bytes: usize,
    },
    /// The frame says it holds more bytes than the section does.
    Truncated {
        /// The length the frame declares.
        declared: usize,
        /// What follows the header.
        available: usize,
    },
    /// More than one frame: several manifests were linked into one section.
    Several {
        /// How many frames (at least).
        frames: usize,
    },
    /// Bytes after the one frame.
    Trailing {
        /// How many.
        bytes: usize,
    },
}

/// The TOML of the one frame `section` holds; anything else in it is an error.
pub fn read_manifest_frame(section: &[u8]) -> Result<&[u8], FrameError> {
    if !section.starts_with(&MANIFEST_FRAME_MAGIC) {
        return Err(match find(section, &MANIFEST_FRAME_MAGIC) {
            Some(at) => FrameError::Leading { bytes: at },
            None => FrameError::NotFramed,
        });
    }
    let (toml, rest) = split_frame(section)?;
    if rest.is_empty() {
        return Ok(toml);
    }
    let mut frames = 1;
    let mut rest = rest;
    while rest.starts_with(&MANIFEST_FRAME_MAGIC) {
        frames += 1;
        match split_frame(rest) {
            Ok((_, after)) => rest = after,
            Err(_) => break,
        }
    }
    if frames > 1 {
        Err(FrameError::Several { frames })
    } else {
        Err(FrameError::Trailing { bytes: rest.len() })
    }
}

/// One frame at the start of `bytes` (which starts with the magic): its TOML and what follows.
fn split_frame(bytes: &[u8]) -> Result<(&[u8], &[u8]), FrameError> {
    let body = bytes.get(MANIFEST_FRAME_HEADER..).unwrap_or_default();
    let mut len = [0u8; 4];
    if let Some(raw) = bytes.get(8..MANIFEST_FRAME_HEADER) {
        len.copy_from_slice(raw);
    }
    let declared = u32::from_le_bytes(len) as usize;
    if bytes.len() < MANIFEST_FRAME_HEADER || body.len() < declared {
        return Err(FrameError::Truncated {
            declared,
            available: body.len(),
        });
    }
    Ok(body.split_at(declared))
}

/// Where `needle` first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_frame_is_read_and_anything_around_it_is_refused() {
        let one = frame_manifest(b"id = 'a'");
        assert_eq!(read_manifest_frame(&one), Ok(&b"id = 'a'"[..]));
        let two = [one.clone(), frame_manifest(b"[[http]]")].concat();
        assert_eq!(
            read_manifest_frame(&two),
            Err(FrameError::Several { frames: 2 })
        );
        let trailing = [one.clone(), b"\n[[http]]".to_vec()].concat();
        assert_eq!(
            read_manifest_frame(&trailing),
            Err(FrameError::Trailing { bytes: 9 })
        );
        let leading = [b"x = 1\n".to_vec(), one.clone()].concat();
        assert_eq!(
            read_manifest_frame(&leading),
            Err(FrameError::Leading { bytes: 6 })
        );
        assert_eq!(read_manifest_frame(b"id = 'a'"), Err(FrameError::NotFramed));
        assert_eq!(read_manifest_frame(b""), Err(FrameError::NotFramed));
        assert!(matches!(
            read_manifest_frame(&one[..one.len() - 1]),
            Err(FrameError::Truncated {
                declared: 8,
                available: 7
            })
        ));
        assert!(matches!(
            read_manifest_frame(&one[..10]),
            Err(FrameError::Truncated { .. })
        ));
    }
}
