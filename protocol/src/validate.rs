//! Validation of typed wire values. Returns ALL problems, never just the first, so a client sees
//! everything wrong with a request at once.

use crate::limits::*;
use crate::model::{Event, Response, User};
use crate::text::char_len;

/// Machine-readable kind of a problem (a low-cardinality label for metrics).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProblemCode {
    /// A required field is absent.
    Missing,
    /// The field has the wrong JSON type.
    Type,
    /// The field is not part of the contract.
    Unknown,
    /// A number is outside its range.
    Range,
    /// A text is longer than its limit.
    TooLong,
    /// A collection has too many entries.
    TooMany,
    /// An identifier uses characters outside `[A-Za-z0-9_.:-]` or is empty.
    Charset,
    /// A value does not have the expected shape (URL, e-mail, timestamp, locale).
    Format,
}

impl ProblemCode {
    /// Wire/metrics name.
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemCode::Missing => "missing",
            ProblemCode::Type => "type",
            ProblemCode::Unknown => "unknown_field",
            ProblemCode::Range => "range",
            ProblemCode::TooLong => "too_long",
            ProblemCode::TooMany => "too_many",
            ProblemCode::Charset => "charset",
            ProblemCode::Format => "format",
        }
    }
}

/// One thing wrong with a request: which field, and why (human-readable).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Dotted path of the field (`user.id`, `properties.plan`); empty for the whole body.
    pub field: String,
    /// Kind of problem.
    pub code: ProblemCode,
    /// What a developer needs to fix it.
    pub reason: String,
}

impl Problem {
    /// Builds a problem.
    pub fn new(field: impl Into<String>, code: ProblemCode, reason: impl Into<String>) -> Self {
        Problem {
            field: field.into(),
            code,
            reason: reason.into(),
        }
    }
}

/// Collects problems while checking.
#[derive(Default)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    /// Adds a problem.
    pub fn push(&mut self, field: impl Into<String>, code: ProblemCode, reason: impl Into<String>) {
        self.0.push(Problem::new(field, code, reason));
    }

    /// Checks an identifier.
    pub fn id(&mut self, field: &str, v: &str) {
        if v.len() > MAX_ID_CHARS {
            self.push(
                field,
                ProblemCode::TooLong,
                format!("must be at most {MAX_ID_CHARS} characters"),
            );
        } else if !is_valid_id(v) {
            self.push(
                field,
                ProblemCode::Charset,
                "must be 1-64 characters of A-Z a-z 0-9 _ . : -",
            );
        }
    }

    fn max_chars(&mut self, field: &str, v: &str, max: usize) -> bool {
        if char_len(v) > max {
            self.push(
                field,
                ProblemCode::TooLong,
                format!("must be at most {max} characters"),
            );
            false
        } else {
            true
        }
    }

    fn user(&mut self, u: &User) {
        if let Some(v) = &u.id {
            self.id("user.id", v);
        }
        if let Some(v) = &u.signature {
            if !is_signature(v) {
                self.push(
                    "user.signature",
                    ProblemCode::Format,
                    "must be the lowercase hex HMAC-SHA256 of user.id (64 characters)",
                );
            }
        }
        if let Some(v) = &u.account {
            self.id("user.account", v);
        }
        if let Some(v) = &u.order {
            self.id("user.order", v);
        }
        if let Some(v) = &u.email {
            if self.max_chars("user.email", v, MAX_EMAIL_CHARS) && !is_plausible_email(v) {
                self.push(
                    "user.email",
                    ProblemCode::Format,
                    "must be an e-mail address",
                );
            }
        }
    }
}

/// True for the shape of an identity signature: 64 lowercase hex digits.
pub fn is_signature(s: &str) -> bool {
    s.len() == SIGNATURE_CHARS && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Checks every limit of a response; empty when valid.
pub fn validate_response(r: &Response) -> Vec<Problem> {
    let mut p = Problems::default();
    p.id("id", &r.id);
    if r.rev == 0 || r.rev > MAX_REV {
        p.push(
            "rev",
            ProblemCode::Range,
            format!("must be an integer from 1 to {MAX_REV}"),
        );
    }
    p.id("site", &r.site);
    p.id("survey", &r.survey);
    if r.score > MAX_SCORE {
        p.push(
            "score",
            ProblemCode::Range,
            "must be an integer from 0 to 10",
        );
    }
    if let Some(c) = &r.comment {
        p.max_chars("comment", c, MAX_COMMENT_CHARS);
    }
    if let Some(l) = &r.locale {
        if !is_plausible_locale(l) {
            p.push(
                "locale",
                ProblemCode::Format,
                "must be a BCP 47 language tag such as fr-FR",
            );
        }
    }
    p.id("visitor", &r.visitor);
    if let Some(page) = &r.page {
        if p.max_chars("page", page, MAX_PAGE_CHARS) && !is_http_url(page) {
            p.push("page", ProblemCode::Format, "must be an http(s) URL");
        }
    }
    if let Some(u) = &r.user {
        p.user(u);
    }
    if r.properties.len() > MAX_PROPERTIES {
        p.push(
            "properties",
            ProblemCode::TooMany,
            format!("must have at most {MAX_PROPERTIES} entries"),
        );
    }
    for (k, v) in &r.properties {
        let field = format!("properties.{}", truncate(k, MAX_PROPERTY_KEY_CHARS));
        if k.len() > MAX_PROPERTY_KEY_CHARS || !is_valid_id(k) {
            p.push(
                field.clone(),
                ProblemCode::Charset,
                "keys must be 1-64 characters of A-Z a-z 0-9 _ . : -",
            );
        }
        p.max_chars(&field, v, MAX_PROPERTY_VALUE_CHARS);
    }
    if let Some(t) = &r.sent_at {
        if !is_rfc3339(t) {
            p.push(
                "sent_at",
                ProblemCode::Format,
                "must be an RFC 3339 timestamp",
            );
        }
    }
    p.0
}

/// Checks every limit of an event; empty when valid.
pub fn validate_event(e: &Event) -> Vec<Problem> {
    let mut p = Problems::default();
    p.id("id", &e.id);
    p.id("site", &e.site);
    p.id("survey", &e.survey);
    p.id("visitor", &e.visitor);
    if let Some(u) = &e.user {
        p.user(u);
    }
    p.0
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// `local@domain.tld`-shaped, no spaces or controls. Deliverability is not our business.
pub fn is_plausible_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"'))
}

/// Language tag shape: 2-8 letter primary subtag, then alphanumeric subtags, joined by `-`.
pub fn is_plausible_locale(s: &str) -> bool {
    if s.is_empty() || s.len() > MAX_LOCALE_CHARS {
        return false;
    }
    let mut parts = s.split(['-', '_']);
    let primary = parts.next().unwrap_or("");
    (2..=8).contains(&primary.len())
        && primary.chars().all(|c| c.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// `http://` or `https://` followed by a host, and no whitespace or control characters.
pub fn is_http_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    match rest {
        Some(r) => {
            !r.is_empty()
                && !r.starts_with('/')
                && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
pub fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    if s.len() > MAX_TIMESTAMP_CHARS || b.len() < 20 {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let num = |r: std::ops::Range<usize>| s[r].parse::<u32>().unwrap_or(99);
    let shape = digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b'T' | b't' | b' ')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !shape
        || !(1..=12).contains(&num(5..7))
        || !(1..=31).contains(&num(8..10))
        || num(11..13) > 23
        || num(14..16) > 59
        || num(17..19) > 60
    {
        return false;
    }
    let mut i = 19;
    if b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match &s[i..] {
        "Z" | "z" => true,
        tz => {
            let t = tz.as_bytes();
            t.len() == 6
                && matches!(t[0], b'+' | b'-')
                && t[1..3].iter().all(u8::is_ascii_digit)
                && t[3] == b':'
                && t[4..6].iter().all(u8::is_ascii_digit)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::clean_comment;

    pub(crate) fn valid() -> Response {
        Response {
            id: "0b6f8a2e-5c1d-4f7a-9e3b-2d1c0a9f8e7d".into(),
            rev: 1,
            site: "demo".into(),
            survey: "checkout".into(),
            score: 4,
            comment: Some("La livraison a pris 3 semaines".into()),
            locale: Some("fr-FR".into()),
            visitor: "v_9f2c".into(),
            page: Some("https://shop.example/checkout/thanks".into()),
            contact_ok: Some(true),
            review_clicked: None,
            user: Some(User {
                id: Some("u_42".into()),
                account: Some("acme".into()),
                order: Some("o_981".into()),
                email: Some("a@b.c".into()),
                signature: None,
            }),
            properties: [("plan".to_string(), "pro".to_string())].into(),
            sent_at: Some("2026-11-23T10:00:00Z".into()),
        }
    }

    fn fields(r: &Response) -> Vec<(String, ProblemCode)> {
        validate_response(r)
            .into_iter()
            .map(|p| (p.field, p.code))
            .collect()
    }

    #[test]
    fn the_example_is_valid() {
        assert_eq!(validate_response(&valid()), vec![]);
    }

    #[test]
    fn comment_limit_applies_after_cleaning() {
        let mut r = valid();
        let raw = format!("  {}\u{0}\u{1}  ", "é".repeat(MAX_COMMENT_CHARS));
        r.comment = Some(clean_comment(&raw));
        assert_eq!(fields(&r), vec![]);
        r.comment = Some("é".repeat(MAX_COMMENT_CHARS + 1));
        assert_eq!(fields(&r), vec![("comment".into(), ProblemCode::TooLong)]);
    }

    #[test]
    fn id_fields_are_limited() {
        let long = "a".repeat(MAX_ID_CHARS + 1);
        let mut r = valid();
        r.id = long.clone();
        r.site = "bad site".into();
        r.survey = String::new();
        r.visitor = long.clone();
        r.user.as_mut().unwrap().order = Some("o/1".into());
        assert_eq!(
            fields(&r),
            vec![
                ("id".into(), ProblemCode::TooLong),
                ("site".into(), ProblemCode::Charset),
                ("survey".into(), ProblemCode::Charset),
                ("visitor".into(), ProblemCode::TooLong),
                ("user.order".into(), ProblemCode::Charset),
            ]
        );
    }

    #[test]
    fn score_and_rev_ranges() {
        let mut r = valid();
        r.score = 10;
        r.rev = MAX_REV;
        assert_eq!(fields(&r), vec![]);
        r.score = 11;
        r.rev = 0;
        assert_eq!(
            fields(&r),
            vec![
                ("rev".into(), ProblemCode::Range),
                ("score".into(), ProblemCode::Range)
            ]
        );
    }

    #[test]
    fn property_limits() {
        let mut r = valid();
        r.properties = (0..MAX_PROPERTIES)
            .map(|i| (format!("k{i}"), "v".repeat(MAX_PROPERTY_VALUE_CHARS)))
            .collect();
        assert_eq!(fields(&r), vec![]);
        r.properties.insert("one_more".into(), "x".into());
        assert_eq!(
            fields(&r),
            vec![("properties".into(), ProblemCode::TooMany)]
        );
        r.properties = [
            ("k".repeat(MAX_PROPERTY_KEY_CHARS), "ok".into()),
            ("k".repeat(MAX_PROPERTY_KEY_CHARS + 1), "ok".into()),
            ("v".into(), "x".repeat(MAX_PROPERTY_VALUE_CHARS + 1)),
            ("bad key".into(), "x".into()),
        ]
        .into();
        let got = fields(&r);
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(got.contains(&("properties.v".into(), ProblemCode::TooLong)));
        assert!(got.contains(&("properties.bad key".into(), ProblemCode::Charset)));
    }

    #[test]
    fn page_limit_and_scheme() {
        let mut r = valid();
        let base = "https://shop.example/";
        r.page = Some(format!("{base}{}", "a".repeat(MAX_PAGE_CHARS - base.len())));
        assert_eq!(fields(&r), vec![]);
        r.page = Some(format!(
            "{base}{}",
            "a".repeat(MAX_PAGE_CHARS + 1 - base.len())
        ));
        assert_eq!(fields(&r), vec![("page".into(), ProblemCode::TooLong)]);
        for bad in ["javascript:alert(1)", "ftp://x", "https://", "https://a b"] {
            r.page = Some(bad.into());
            assert_eq!(
                fields(&r),
                vec![("page".into(), ProblemCode::Format)],
                "{bad}"
            );
        }
    }

    #[test]
    fn email_locale_timestamp_shapes() {
        for ok in ["a@b.c", "first.last+tag@sub.example.org"] {
            assert!(is_plausible_email(ok), "{ok}");
        }
        for bad in ["", "a", "a@b", "@b.c", "a b@c.d", "a@.c", "<a@b.c>"] {
            assert!(!is_plausible_email(bad), "{bad}");
        }
        for ok in ["en", "fr-FR", "zh-Hant-TW", "pt_BR", "ar"] {
            assert!(is_plausible_locale(ok), "{ok}");
        }
        for bad in ["", "e", "fr--FR", "12", "fr FR", "x".repeat(40).as_str()] {
            assert!(!is_plausible_locale(bad), "{bad}");
        }
        for ok in [
            "2026-11-23T10:00:00Z",
            "2026-11-23T10:00:00.123+01:00",
            "2026-11-23t10:00:00z",
        ] {
            assert!(is_rfc3339(ok), "{ok}");
        }
        for bad in [
            "2026-11-23",
            "2026-13-23T10:00:00Z",
            "2026-11-23T25:00:00Z",
            "2026-11-23T10:00:00",
            "2026-11-23T10:00:00.Z",
        ] {
            assert!(!is_rfc3339(bad), "{bad}");
        }
    }

    #[test]
    fn event_ids_are_checked() {
        let e = Event {
            id: "e1".into(),
            site: "demo".into(),
            survey: "".into(),
            visitor: "v 1".into(),
            kind: crate::EventType::Shown,
            user: None,
        };
        let got: Vec<_> = validate_event(&e).into_iter().map(|p| p.field).collect();
        assert_eq!(got, vec!["survey", "visitor"]);
    }

    #[test]
    fn a_signature_is_64_lowercase_hex() {
        assert!(is_signature(&"ab01".repeat(16)));
        for bad in [
            "AB01".repeat(16),
            "ab01".repeat(15),
            format!("{}g", "a".repeat(63)),
        ] {
            assert!(!is_signature(&bad), "{bad}");
        }
        let mut r = valid();
        r.user = Some(User {
            id: Some("u1".into()),
            signature: Some("not-hex".into()),
            ..Default::default()
        });
        let p = validate_response(&r);
        assert_eq!(p.len(), 1);
        assert_eq!(
            (p[0].field.as_str(), p[0].code),
            ("user.signature", ProblemCode::Format)
        );
    }
}
