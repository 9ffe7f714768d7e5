//! Text that crosses from a connector or a publisher to a person: one sanitiser for all of it.

/// `text` cut to `max_chars` characters (with `…` when cut) and with every control character
/// replaced by a space, so a connector or publisher cannot move a terminal's cursor, clear
/// its screen or forge a line of Airlock's own output.
pub fn sanitize(text: &str, max_chars: usize) -> String {
    let mut out: String = text
        .chars()
        .take(max_chars)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().nth(max_chars).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::sanitize;

    #[test]
    fn terminal_escapes_and_newlines_cannot_reach_the_merchant_terminal() {
        assert_eq!(sanitize("ok\x1b[2Jwiped\nnext", 100), "ok [2Jwiped next");
        assert_eq!(sanitize("abcdef", 3), "abc…");
    }
}
