//! Text that crosses from a connector or a publisher to a person: one escaping rule for all
//! of it. Nothing is dropped silently: what could move a terminal's cursor, reorder or hide
//! text, break a line or close one of Airlock's quotes is shown as a visible escape (`\n`,
//! `\u{202e}`), so the reader sees that it was there.

/// `text` made visible-safe and cut to at most `max_chars` characters of output (with `…`
/// when cut): control characters, bidi overrides and isolates, zero-width and other
/// invisible characters, line and paragraph separators are escaped as `\u{…}` (`\n`, `\r`,
/// `\t` for the common three). For connector text shown on a line of its own (summaries,
/// log lines, errors); text Airlock puts in quotes goes through [`sanitize_quoted`].
pub fn sanitize(text: &str, max_chars: usize) -> String {
    escape(text, max_chars, false)
}

/// [`sanitize`], and also `"`, `` ` `` and the curly double quotes, which could close the
/// quotes Airlock puts around publisher text, and `\` itself, so a publisher cannot write an
/// escape that passes for one of ours. For every publisher value Airlock shows in quotes:
/// names, publishers and reasons in the prompt, values in error messages.
///
/// Quotes are escaped rather than replaced: a reason that says `the "Pro" plan` still reads
/// as written (`the \"Pro\" plan`), but cannot end the quotation early and continue in what
/// looks like Airlock's voice. Single quotes and apostrophes are left alone: Airlock never
/// quotes with them, and publisher names (`Acme's`) use them.
pub fn sanitize_quoted(text: &str, max_chars: usize) -> String {
    escape(text, max_chars, true)
}

/// `text` (a whole message Airlock composed, with publisher or connector values inside it)
/// made safe for a terminal: [`sanitize`] without a cap, line breaks kept as line breaks. For the CLI's
/// error output and anything else printed whole.
pub fn terminal_safe(text: &str) -> String {
    text.split('\n')
        .map(|line| escape(line, usize::MAX, false))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether `c` must never reach a reader as itself: it moves the cursor, changes direction,
/// is invisible, or breaks a line.
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control() || is_format_or_invisible(c)
}

/// The escaping of [`sanitize`] and (with `quotes`) [`sanitize_quoted`], output capped.
fn escape(text: &str, max_chars: usize, quotes: bool) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars.saturating_mul(4)));
    let mut used = 0usize;
    for c in text.chars() {
        let piece = match c {
            '\n' => Piece::Str("\\n"),
            '\r' => Piece::Str("\\r"),
            '\t' => Piece::Str("\\t"),
            '\\' if quotes => Piece::Str("\\\\"),
            '"' if quotes => Piece::Str("\\\""),
            c if is_unsafe_char(c) || (quotes && is_closing_quote(c)) => Piece::Code(c),
            c => Piece::Char(c),
        };
        let width = piece.width();
        if used.saturating_add(width) > max_chars {
            out.push('…');
            return out;
        }
        used += width;
        piece.push_to(&mut out);
    }
    out
}

/// One character of output, escaped or not.
enum Piece {
    Char(char),
    Str(&'static str),
    Code(char),
}

impl Piece {
    /// Characters it takes in the output.
    fn width(&self) -> usize {
        match self {
            Piece::Char(_) => 1,
            Piece::Str(s) => s.chars().count(),
            Piece::Code(c) => format!("{:x}", u32::from(*c)).len() + 4,
        }
    }

    fn push_to(&self, out: &mut String) {
        match self {
            Piece::Char(c) => out.push(*c),
            Piece::Str(s) => out.push_str(s),
            Piece::Code(c) => out.push_str(&format!("\\u{{{:x}}}", u32::from(*c))),
        }
    }
}

/// Format characters (Unicode category Cf: bidi marks, overrides and isolates, zero-width
/// joiners and spaces, the BOM, invisible operators, tags), line and paragraph separators,
/// the space characters other than U+0020 that render blank or not at all, and the other
/// default-ignorable code points (fillers, variation selectors).
fn is_format_or_invisible(c: char) -> bool {
    matches!(
        u32::from(c),
        0x00A0
            | 0x00AD
            | 0x034F
            | 0x0600..=0x0605
            | 0x061C
            | 0x06DD
            | 0x070F
            | 0x0890..=0x0891
            | 0x08E2
            | 0x115F..=0x1160
            | 0x1680
            | 0x17B4..=0x17B5
            | 0x180B..=0x180F
            | 0x2000..=0x200F
            | 0x2028..=0x202F
            | 0x205F..=0x206F
            | 0x3000
            | 0x3164
            | 0xFE00..=0xFE0F
            | 0xFEFF
            | 0xFFA0
            | 0xFFF0..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0000..=0xE0FFF
    )
}

/// Double quotes and look-alikes that could end the `"…"` and `“…”` Airlock puts around
/// publisher text, and the backtick its messages quote values with.
fn is_closing_quote(c: char) -> bool {
    matches!(
        c,
        '`' | '\u{201C}'
            | '\u{201D}'
            | '\u{201E}'
            | '\u{201F}'
            | '\u{2033}'
            | '\u{2036}'
            | '\u{275D}'
            | '\u{275E}'
            | '\u{301D}'
            | '\u{301E}'
            | '\u{301F}'
            | '\u{FF02}'
            | '\u{02BA}'
            | '\u{02DD}'
    )
}

/// Fill `{key}` placeholders in one pass, so a value that itself contains `{...}` (publisher
/// text) is never expanded. Shared by the prompt and the merchant page's labels.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}').and_then(|close| {
            let key = &after[..close];
            values
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| (close, *v))
        }) {
            Some((close, value)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes_and_newlines_are_shown_not_obeyed() {
        assert_eq!(
            sanitize("ok\x1b[2Jwiped\nnext\x07", 100),
            "ok\\u{1b}[2Jwiped\\nnext\\u{7}"
        );
        assert_eq!(sanitize("abcdef", 3), "abc…");
        assert_eq!(sanitize("abc", 3), "abc");
    }

    #[test]
    fn bidi_invisible_and_separator_characters_are_escaped_visibly() {
        for (c, shown) in [
            ('\u{202E}', "\\u{202e}"),
            ('\u{2066}', "\\u{2066}"),
            ('\u{200F}', "\\u{200f}"),
            ('\u{061C}', "\\u{61c}"),
            ('\u{200B}', "\\u{200b}"),
            ('\u{200D}', "\\u{200d}"),
            ('\u{2060}', "\\u{2060}"),
            ('\u{FEFF}', "\\u{feff}"),
            ('\u{2028}', "\\u{2028}"),
            ('\u{2029}', "\\u{2029}"),
            ('\u{E0041}', "\\u{e0041}"),
        ] {
            let out = sanitize(&format!("a{c}b"), 100);
            assert_eq!(out, format!("a{shown}b"));
            assert!(!out.chars().any(is_unsafe_char), "{out}");
        }
        // Scripts merchants read are left alone.
        for ok in ["आपके ऑर्डर", "আপোনাৰ অৰ্ডাৰ", "متجر", "Acme's €5 café"]
        {
            assert_eq!(sanitize(ok, 100), ok);
        }
    }

    #[test]
    fn quotes_cannot_close_airlocks_and_escapes_cannot_be_forged() {
        assert_eq!(
            sanitize_quoted("a\"b“c”d`e", 100),
            "a\\\"b\\u{201c}c\\u{201d}d\\u{60}e"
        );
        // A publisher writing `\u{202e}` literally is told apart from a real one.
        assert_eq!(sanitize_quoted("\\u{202e}", 100), "\\\\u{202e}");
        // Connector summaries keep their quotes: Airlock does not quote them.
        assert_eq!(sanitize("Refused(\"x\")", 100), "Refused(\"x\")");
    }

    #[test]
    fn the_cap_counts_what_is_shown_and_never_splits_an_escape() {
        let out = sanitize(&"\u{202E}".repeat(10), 20);
        assert_eq!(out, format!("{}…", "\\u{202e}".repeat(2)));
        assert!(out.chars().count() <= 21);
    }

    #[test]
    fn terminal_safe_keeps_line_breaks_and_quotes_but_escapes_the_rest() {
        assert_eq!(
            terminal_safe("error: `a\x1b[2J` \"q\"\n  caused by: \u{202E}x"),
            "error: `a\\u{1b}[2J` \"q\"\n  caused by: \\u{202e}x"
        );
        assert_eq!(terminal_safe("\nx\n"), "\nx\n");
    }
}
