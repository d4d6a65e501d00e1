//! Suppressions: "don't survey someone with an open case".
//!
//! A suppression is keyed by `(site, subject)` where the subject is a user id **or** an account
//! id (the host page's `nps('identify', {id, account})`): suppressing `acme` silences every
//! user of account `acme`, suppressing `u-42` silences that user. It may expire (`expires_at`
//! or `ttl_seconds` in the PUT body); an expired suppression no longer counts and the runtime may
//! delete it lazily.
//!
//! The edge answers `GET …/eligibility` from [`is_suppressed`] and refuses a `shown` event from a
//! suppressed user with [`suppressed_problem_json`] (403).

use serde_json::Value;

use nps_protocol::json::ObjectWriter;
use nps_protocol::limits::is_valid_id;
use nps_protocol::{Problem, ProblemCode};

use crate::error::EdgeError;
use crate::time::rfc3339_ms;

/// Longest `reason` kept with a suppression.
pub const MAX_REASON_CHARS: usize = 500;
/// Longest suppression (about 10 years); longer is refused so typos in ms/s are caught.
pub const MAX_TTL_MS: u64 = 10 * 366 * 86_400_000;

/// One suppression record, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// User id or account id.
    pub subject: String,
    /// When it stops applying (ms since the epoch); `None` = until deleted.
    pub expires_ms: Option<u64>,
    /// Free text for the CX team (e.g. a ticket number). Never shown to the visitor.
    pub reason: Option<String>,
    /// When it was created or last replaced (ms since the epoch).
    pub created_ms: u64,
}

impl Suppression {
    /// True while it applies (expiry is exclusive: at `expires_ms` it is over).
    pub fn is_active(&self, now_ms: u64) -> bool {
        self.expires_ms.is_none_or(|e| now_ms < e)
    }

    /// `{"subject","created_at","expires_at"?,"reason"?,"active"}`.
    pub fn to_json(&self, site: &str, now_ms: u64) -> String {
        let mut s = String::with_capacity(160);
        let mut w = ObjectWriter::new(&mut s);
        w.str("site", site)
            .str("subject", &self.subject)
            .str("created_at", &rfc3339_ms(self.created_ms))
            .opt_str("expires_at", self.expires_ms.map(rfc3339_ms).as_deref())
            .opt_str("reason", self.reason.as_deref())
            .opt_bool("active", Some(self.is_active(now_ms)));
        w.end();
        s
    }
}

/// The subjects to look up for a visitor: the user id and the account id, when given.
pub fn subjects<'a>(user: Option<&'a str>, account: Option<&'a str>) -> Vec<&'a str> {
    let mut v: Vec<&str> = [user, account]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect();
    v.dedup();
    v
}

/// True when any record for the visitor's user or account id is active at `now_ms`.
/// `records` are the stored suppressions for (some of) the subjects; others are ignored.
pub fn is_suppressed<'a>(
    records: impl IntoIterator<Item = &'a Suppression>,
    user: Option<&str>,
    account: Option<&str>,
    now_ms: u64,
) -> bool {
    let subs = subjects(user, account);
    records
        .into_iter()
        .any(|r| r.is_active(now_ms) && subs.contains(&r.subject.as_str()))
}

/// Checks a path subject (`{user-or-account-id}`): the protocol's identifier rules.
pub fn check_subject(subject: &str) -> Result<(), EdgeError> {
    if is_valid_id(subject) {
        Ok(())
    } else {
        Err(EdgeError::Invalid(vec![Problem::new(
            "subject",
            ProblemCode::Charset,
            "must be 1-64 characters of A-Z a-z 0-9 _ . : -",
        )]))
    }
}

/// Parses the optional PUT body: empty, or a JSON object with at most one of
/// `expires_at` (RFC 3339, in the future) / `ttl_seconds` (≥ 1), and an optional `reason`.
pub fn parse_put(subject: &str, body: &[u8], now_ms: u64) -> Result<Suppression, EdgeError> {
    check_subject(subject)?;
    let mut s = Suppression {
        subject: subject.to_string(),
        expires_ms: None,
        reason: None,
        created_ms: now_ms,
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(s);
    }
    crate::ingest::check_body_len(body.len())?;
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| EdgeError::BadJson(e.to_string().chars().take(200).collect()))?;
    let obj = v.as_object().ok_or(EdgeError::NotObject)?;
    let mut problems = Vec::new();
    for k in obj.keys() {
        if !matches!(k.as_str(), "expires_at" | "ttl_seconds" | "reason") {
            problems.push(Problem::new(
                k.chars().take(64).collect::<String>(),
                ProblemCode::Unknown,
                "allowed: expires_at, ttl_seconds, reason",
            ));
        }
    }
    match (obj.get("expires_at"), obj.get("ttl_seconds")) {
        (Some(_), Some(_)) => problems.push(Problem::new(
            "ttl_seconds",
            ProblemCode::Format,
            "give expires_at or ttl_seconds, not both",
        )),
        (Some(Value::Null), None) | (None, Some(Value::Null)) | (None, None) => {}
        (Some(Value::String(t)), None) => match parse_rfc3339_ms(t) {
            Some(ms) if ms <= now_ms => problems.push(Problem::new(
                "expires_at",
                ProblemCode::Range,
                "must be in the future",
            )),
            Some(ms) if ms - now_ms > MAX_TTL_MS => problems.push(Problem::new(
                "expires_at",
                ProblemCode::Range,
                "must be within 10 years",
            )),
            Some(ms) => s.expires_ms = Some(ms),
            None => problems.push(Problem::new(
                "expires_at",
                ProblemCode::Format,
                "must be an RFC 3339 timestamp, e.g. 2026-12-31T00:00:00Z",
            )),
        },
        (Some(_), None) => problems.push(Problem::new(
            "expires_at",
            ProblemCode::Type,
            "must be a string",
        )),
        (None, Some(n)) => match n.as_u64() {
            Some(secs) if secs >= 1 && secs.saturating_mul(1000) <= MAX_TTL_MS => {
                s.expires_ms = Some(now_ms + secs * 1000)
            }
            Some(_) => problems.push(Problem::new(
                "ttl_seconds",
                ProblemCode::Range,
                "must be from 1 s to 10 years",
            )),
            None => problems.push(Problem::new(
                "ttl_seconds",
                ProblemCode::Type,
                "must be a positive integer",
            )),
        },
    }
    match obj.get("reason") {
        None | Some(Value::Null) => {}
        Some(Value::String(r)) => {
            let r = nps_protocol::text::clean_line(r);
            if r.chars().count() > MAX_REASON_CHARS {
                problems.push(Problem::new(
                    "reason",
                    ProblemCode::TooLong,
                    format!("at most {MAX_REASON_CHARS} characters"),
                ));
            } else if !r.is_empty() {
                s.reason = Some(r);
            }
        }
        Some(_) => problems.push(Problem::new(
            "reason",
            ProblemCode::Type,
            "must be a string",
        )),
    }
    if problems.is_empty() {
        Ok(s)
    } else {
        Err(EdgeError::Invalid(problems))
    }
}

/// `{"show":true|false}`: the eligibility answer.
pub fn eligibility_json(show: bool) -> &'static str {
    if show {
        "{\"show\":true}"
    } else {
        "{\"show\":false}"
    }
}

/// 403 body for a `shown` event from a suppressed user. Deliberately says nothing about why or
/// until when (the visitor's browser reads it).
pub fn suppressed_problem_json() -> String {
    EdgeError::Suppressed.to_problem_json()
}

/// Parses an RFC 3339 timestamp (`Z` or `±HH:MM`, optional fraction) to ms since the epoch.
pub fn parse_rfc3339_ms(s: &str) -> Option<u64> {
    if !nps_protocol::validate::is_rfc3339(s) {
        return None;
    }
    let day = crate::report::day_of_date(&s[..10])?;
    let n = |r: std::ops::Range<usize>| s[r].parse::<i64>().ok();
    let (h, mi, sec) = (n(11..13)?, n(14..16)?, n(17..19)?.min(59));
    let mut i = 19;
    let mut ms = 0i64;
    let b = s.as_bytes();
    if b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let frac = &s[start..i];
        ms = format!("{:0<3}", &frac[..frac.len().min(3)]).parse().ok()?;
    }
    let offset_min = match &s[i..] {
        "Z" | "z" => 0,
        tz => {
            let sign = if tz.starts_with('-') { -1 } else { 1 };
            sign * (tz[1..3].parse::<i64>().ok()? * 60 + tz[4..6].parse::<i64>().ok()?)
        }
    };
    let total = ((day * 86_400 + h * 3600 + mi * 60 + sec - offset_min * 60) * 1000) + ms;
    u64::try_from(total).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_795_998_759_123; // 2026-11-30T00:32:39.123Z

    fn sup(subject: &str, expires_ms: Option<u64>) -> Suppression {
        Suppression {
            subject: subject.into(),
            expires_ms,
            reason: None,
            created_ms: 0,
        }
    }

    #[test]
    fn user_or_account_matches_until_expiry() {
        let recs = [sup("u-42", None), sup("acme", Some(NOW + 1000))];
        assert!(is_suppressed(&recs, Some("u-42"), None, NOW));
        assert!(is_suppressed(&recs, Some("u-7"), Some("acme"), NOW));
        assert!(!is_suppressed(&recs, Some("u-7"), Some("other"), NOW));
        assert!(!is_suppressed(&recs, None, None, NOW));
        assert!(
            !is_suppressed(&recs, Some("u-7"), Some("acme"), NOW + 1000),
            "expiry is exclusive"
        );
        assert!(is_suppressed(
            &recs,
            Some("u-42"),
            Some("acme"),
            NOW + 10_000_000
        ));
        assert_eq!(subjects(Some("a"), Some("a")), vec!["a"]);
    }

    #[test]
    fn put_bodies() {
        let s = parse_put("u-42", b"", NOW).unwrap();
        assert_eq!((s.expires_ms, s.reason), (None, None));
        let s = parse_put(
            "u-42",
            br#"{"ttl_seconds":60,"reason":"ticket #123 \u0007"}"#,
            NOW,
        )
        .unwrap();
        assert_eq!(s.expires_ms, Some(NOW + 60_000));
        assert_eq!(s.reason.as_deref(), Some("ticket #123"));
        let s = parse_put(
            "acme",
            br#"{"expires_at":"2026-12-31T00:00:00+01:00"}"#,
            NOW,
        )
        .unwrap();
        assert_eq!(
            s.expires_ms.map(rfc3339_ms).as_deref(),
            Some("2026-12-30T23:00:00.000Z")
        );
        let s = parse_put("acme", br#"{"expires_at":null}"#, NOW).unwrap();
        assert_eq!(s.expires_ms, None);
    }

    #[test]
    fn bad_put_bodies() {
        let status = |subject: &str, body: &str| {
            parse_put(subject, body.as_bytes(), NOW)
                .unwrap_err()
                .status()
        };
        assert_eq!(status("u-42", "{"), 400);
        assert_eq!(status("u-42", "[]"), 400);
        assert_eq!(
            status("u-42", r#"{"expires_at":"2020-01-01T00:00:00Z"}"#),
            422
        );
        assert_eq!(status("u-42", r#"{"expires_at":"tomorrow"}"#), 422);
        assert_eq!(status("u-42", r#"{"expires_at":1}"#), 422);
        assert_eq!(status("u-42", r#"{"ttl_seconds":0}"#), 422);
        assert_eq!(status("u-42", r#"{"ttl_seconds":-5}"#), 422);
        assert_eq!(status("u-42", r#"{"ttl_seconds":1e20}"#), 422);
        assert_eq!(
            status(
                "u-42",
                r#"{"ttl_seconds":60,"expires_at":"2027-01-01T00:00:00Z"}"#
            ),
            422
        );
        assert_eq!(status("u-42", r#"{"until":"x"}"#), 422);
        assert_eq!(status("u 42", ""), 422);
        assert_eq!(
            status("u-42", &format!(r#"{{"reason":"{}"}}"#, "x".repeat(501))),
            422
        );
        assert_eq!(
            status("u-42", &" ".repeat(20_000).replacen(' ', "{", 1)),
            413
        );
    }

    #[test]
    fn rfc3339() {
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339_ms("2026-11-30T00:32:39.123Z"), Some(NOW));
        assert_eq!(parse_rfc3339_ms("2026-11-30T00:32:39.1234567Z"), Some(NOW));
        assert_eq!(parse_rfc3339_ms("2026-11-30T02:32:39.123+02:00"), Some(NOW));
        assert_eq!(
            parse_rfc3339_ms("2026-11-29T23:32:39.1-01:00"),
            Some(NOW - 23)
        );
        assert_eq!(parse_rfc3339_ms("2026-02-30T00:00:00Z"), None);
        assert_eq!(parse_rfc3339_ms("2026-11-30"), None);
    }

    #[test]
    fn json_shapes() {
        let s = Suppression {
            reason: Some("case <1>".into()),
            ..sup("u-42", Some(NOW))
        };
        let v: serde_json::Value = serde_json::from_str(&s.to_json("demo", NOW - 1)).unwrap();
        assert_eq!(v["subject"], "u-42");
        assert_eq!(v["active"], true);
        assert_eq!(v["expires_at"], "2026-11-30T00:32:39.123Z");
        assert_eq!(v["reason"], "case <1>");
        let v: serde_json::Value = serde_json::from_str(&suppressed_problem_json()).unwrap();
        assert_eq!(v["status"], 403);
        assert_eq!(eligibility_json(false), r#"{"show":false}"#);
    }
}
