//! Every validation limit of the wire contract, named once. The widget uses the same constants
//! (e.g. the comment `maxlength`), so the browser and the edge cannot disagree.

/// Largest request body the edge reads, in bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// Longest comment, in characters, after control characters are removed and the text is trimmed.
pub const MAX_COMMENT_CHARS: usize = 2000;
/// Longest identifier (`id`, `site`, `survey`, `visitor`, user ids, property keys), in characters.
pub const MAX_ID_CHARS: usize = 64;
/// Most properties on one response.
pub const MAX_PROPERTIES: usize = 30;
/// Longest property key, in characters.
pub const MAX_PROPERTY_KEY_CHARS: usize = 64;
/// Longest property value, in characters.
pub const MAX_PROPERTY_VALUE_CHARS: usize = 500;
/// Longest page URL, in characters.
pub const MAX_PAGE_CHARS: usize = 2000;
/// Longest e-mail address (RFC 5321 path limit).
pub const MAX_EMAIL_CHARS: usize = 254;
/// Length of `user.signature`: lowercase hex of an HMAC-SHA256.
pub const SIGNATURE_CHARS: usize = 64;
/// Longest locale tag (BCP 47 tags in practice stay far below).
pub const MAX_LOCALE_CHARS: usize = 35;
/// Longest `sent_at` timestamp.
pub const MAX_TIMESTAMP_CHARS: usize = 40;
/// Highest score on the NPS scale (the lowest is 0).
pub const MAX_SCORE: u8 = 10;
/// Highest revision a visitor can reach; a real visitor changes an answer a handful of times.
pub const MAX_REV: u32 = 10_000;

/// True for the characters allowed in identifiers: `[A-Za-z0-9_.:-]`.
pub fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-')
}

/// True when `s` is a valid identifier: 1..=[`MAX_ID_CHARS`] characters of `[A-Za-z0-9_.:-]`.
pub fn is_valid_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_ID_CHARS && s.chars().all(is_id_char)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_length_limit_is_inclusive() {
        assert!(is_valid_id(&"a".repeat(MAX_ID_CHARS)));
        assert!(!is_valid_id(&"a".repeat(MAX_ID_CHARS + 1)));
        assert!(!is_valid_id(""));
    }

    #[test]
    fn id_charset() {
        assert!(is_valid_id("0b6f-AZ_az.09:x"));
        for bad in ["a b", "a/b", "é", "a\u{0}", "<script>", "a\"b", "a,b"] {
            assert!(!is_valid_id(bad), "{bad:?} accepted");
        }
    }

    #[test]
    fn body_limit_is_16_kib() {
        assert_eq!(MAX_BODY_BYTES, 16384);
    }
}
