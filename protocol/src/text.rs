//! Text normalisation applied before limits are checked.

/// Removes control characters except newline, normalises `\r\n`/`\r` to `\n`, and trims.
///
/// The comment limit is measured on this result, so what is stored is what was counted.
pub fn clean_comment(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push('\n');
                }
            }
            '\n' => out.push('\n'),
            c if c.is_control() || is_invisible_format(c) => {}
            c => out.push(c),
        }
    }
    out.trim().to_string()
}

/// Removes every control character (newlines included) and trims: for one-line values.
pub fn clean_line(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_control() && !is_invisible_format(*c))
        .collect::<String>()
        .trim()
        .to_string()
}

/// Bidi overrides and similar format characters that can disguise text in a report.
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// Number of characters (Unicode scalar values), the unit of every text limit.
pub fn char_len(s: &str) -> usize {
    s.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_newlines_drops_other_controls() {
        assert_eq!(clean_comment("  a\u{0}b\tc\r\nd\re\u{7f}  "), "abc\nd\ne");
    }

    #[test]
    fn drops_bidi_overrides() {
        assert_eq!(clean_comment("abc\u{202E}def"), "abcdef");
        assert_eq!(clean_line("x\u{2066}y\n"), "xy");
    }

    #[test]
    fn counts_chars_not_bytes() {
        assert_eq!(char_len("été"), 3);
        assert_eq!(char_len("👍"), 1);
    }
}
