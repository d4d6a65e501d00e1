//! The one error enum of the edge, and the ONE place that maps it to an HTTP status, a metrics
//! reason and an RFC 9457 `application/problem+json` body. Both runtimes answer every refusal
//! through [`EdgeError::status`] and [`EdgeError::to_problem_json`], so they cannot drift.

use nps_protocol::json::{push_str, ObjectWriter};
use nps_protocol::limits::MAX_BODY_BYTES;
use nps_protocol::Problem;

/// Media type of every error body.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// Every way the edge refuses a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EdgeError {
    /// The body is not JSON (or not UTF-8). 400.
    #[error("body is not valid JSON: {0}")]
    BadJson(String),
    /// The body is JSON but not an object. 400.
    #[error("body must be a JSON object")]
    NotObject,
    /// The body is larger than [`MAX_BODY_BYTES`]. 413.
    #[error("body is larger than {MAX_BODY_BYTES} bytes")]
    TooLarge,
    /// Content type other than `application/json` / `text/plain`. 415. Holds what was sent.
    #[error("unsupported content type {0:?}")]
    UnsupportedMediaType(String),
    /// A JSON object with invalid fields; every problem is listed. 422.
    #[error("{} invalid field(s)", .0.len())]
    Invalid(Vec<Problem>),
    /// The `site` is not configured. 403.
    #[error("unknown site {0:?}")]
    UnknownSite(String),
    /// The `Origin` is missing or not on the site's allowlist. 403. Holds the origin ("" if none).
    #[error("origin {0:?} is not allowed")]
    OriginNotAllowed(String),
    /// A `shown` event for a user or account with an active suppression (see
    /// [`crate::suppression`]). 403.
    #[error("surveys are suppressed for this user")]
    Suppressed,
    /// The site requires a verified identity and this one is not (see [`crate::identity`]).
    /// 403. Holds the field and why.
    #[error("{0} {1}")]
    Identity(&'static str, &'static str),
    /// A later rev of an answer from someone other than the visitor (and user) who sent its
    /// first rev. 409.
    #[error("this answer belongs to another visitor")]
    Conflict,
    /// Too many requests; retry after this many seconds. 429.
    #[error("rate limited, retry after {0} s")]
    RateLimited(u64),
    /// No such route. 404.
    #[error("not found")]
    NotFound,
    /// Known route, wrong method. 405.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The site has no link secret: no links, no invitations. 409.
    #[error("the site has no link secret (links.secret)")]
    NoLinks,
    /// The store or queue cannot take the request right now (not the client's fault). 503.
    #[error("temporarily unavailable: {0}")]
    Unavailable(String),
}

impl EdgeError {
    /// HTTP status code.
    pub fn status(&self) -> u16 {
        match self {
            EdgeError::BadJson(_) | EdgeError::NotObject => 400,
            EdgeError::UnknownSite(_)
            | EdgeError::OriginNotAllowed(_)
            | EdgeError::Suppressed
            | EdgeError::Identity(..) => 403,
            EdgeError::Conflict | EdgeError::NoLinks => 409,
            EdgeError::NotFound => 404,
            EdgeError::MethodNotAllowed => 405,
            EdgeError::TooLarge => 413,
            EdgeError::UnsupportedMediaType(_) => 415,
            EdgeError::Invalid(_) => 422,
            EdgeError::RateLimited(_) => 429,
            EdgeError::Unavailable(_) => 503,
        }
    }

    /// Low-cardinality reason, used as the `type` slug and as the metrics label.
    pub fn reason(&self) -> &'static str {
        match self {
            EdgeError::BadJson(_) => "bad_json",
            EdgeError::NotObject => "not_object",
            EdgeError::TooLarge => "too_large",
            EdgeError::UnsupportedMediaType(_) => "unsupported_media_type",
            EdgeError::Invalid(_) => "invalid",
            EdgeError::UnknownSite(_) => "unknown_site",
            EdgeError::OriginNotAllowed(_) => "origin_not_allowed",
            EdgeError::Suppressed => "suppressed",
            EdgeError::Identity(..) => "identity_not_verified",
            EdgeError::Conflict => "conflict",
            EdgeError::NoLinks => "links_off",
            EdgeError::RateLimited(_) => "rate_limited",
            EdgeError::NotFound => "not_found",
            EdgeError::MethodNotAllowed => "method_not_allowed",
            EdgeError::Unavailable(_) => "unavailable",
        }
    }

    /// Every reason, for pre-declaring metrics series.
    pub const REASONS: [&'static str; 15] = [
        "bad_json",
        "not_object",
        "too_large",
        "unsupported_media_type",
        "invalid",
        "unknown_site",
        "origin_not_allowed",
        "rate_limited",
        "not_found",
        "method_not_allowed",
        "unavailable",
        "suppressed",
        "identity_not_verified",
        "conflict",
        "links_off",
    ];

    /// Short human title (RFC 9457 `title`): the same for every instance of a reason.
    pub fn title(&self) -> &'static str {
        match self {
            EdgeError::BadJson(_) => "Malformed JSON",
            EdgeError::NotObject => "Body is not a JSON object",
            EdgeError::TooLarge => "Body too large",
            EdgeError::UnsupportedMediaType(_) => "Unsupported content type",
            EdgeError::Invalid(_) => "Invalid fields",
            EdgeError::UnknownSite(_) => "Unknown site",
            EdgeError::OriginNotAllowed(_) => "Origin not allowed",
            EdgeError::Suppressed => "Suppressed",
            EdgeError::Identity(..) => "Identity not verified",
            EdgeError::Conflict => "Conflict",
            EdgeError::NoLinks => "Links not configured",
            EdgeError::RateLimited(_) => "Too many requests",
            EdgeError::NotFound => "Not found",
            EdgeError::MethodNotAllowed => "Method not allowed",
            EdgeError::Unavailable(_) => "Temporarily unavailable",
        }
    }

    /// `Retry-After` seconds to send with the error, if any.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            EdgeError::RateLimited(s) => Some(*s),
            EdgeError::Unavailable(_) => Some(1),
            _ => None,
        }
    }

    /// Field-level problems (`errors` member): the invalid fields for 422, or one entry naming
    /// the offending field for the other client errors, so clients can rely on the member.
    fn errors(&self) -> Vec<(String, String)> {
        match self {
            EdgeError::Invalid(ps) => ps
                .iter()
                .map(|p| {
                    (
                        p.field.clone(),
                        format!("{}: {}", p.code.as_str(), p.reason),
                    )
                })
                .collect(),
            EdgeError::UnknownSite(_) => {
                vec![("site".into(), "is not configured on this edge".into())]
            }
            EdgeError::Suppressed => vec![("user".into(), "is suppressed on this site".into())],
            EdgeError::Identity(field, reason) => vec![(field.to_string(), reason.to_string())],
            EdgeError::Conflict => vec![(
                "visitor".into(),
                "is not the visitor (and user) who sent the first rev of this id".into(),
            )],
            EdgeError::NoLinks => vec![(
                "links.secret".into(),
                "is not set for this site: set it to make links and invitations".into(),
            )],
            EdgeError::OriginNotAllowed(_) => {
                vec![("origin".into(), "is not on the site's allowlist".into())]
            }
            EdgeError::UnsupportedMediaType(_) => vec![(
                "content-type".into(),
                "must be application/json or text/plain".into(),
            )],
            EdgeError::TooLarge => {
                vec![("".into(), format!("must be at most {MAX_BODY_BYTES} bytes"))]
            }
            EdgeError::BadJson(_) | EdgeError::NotObject => {
                vec![("".into(), "must be one JSON object".into())]
            }
            _ => Vec::new(),
        }
    }

    /// The RFC 9457 body: `type`, `title`, `status`, `detail`, `errors: [{field, reason}]`.
    /// Client-supplied text is echoed only JSON-escaped and truncated.
    pub fn to_problem_json(&self) -> String {
        let mut out = String::with_capacity(256);
        let mut w = ObjectWriter::new(&mut out);
        w.str(
            "type",
            &format!(
                "https://nps.dev/problems/{}",
                self.reason().replace('_', "-")
            ),
        )
        .str("title", self.title())
        .num("status", self.status().into())
        .str("detail", &truncate(&self.to_string(), 300));
        let mut errs = String::from("[");
        for (i, (field, reason)) in self.errors().iter().enumerate() {
            if i > 0 {
                errs.push(',');
            }
            errs.push_str("{\"field\":");
            push_str(&mut errs, field);
            errs.push_str(",\"reason\":");
            push_str(&mut errs, reason);
            errs.push('}');
        }
        errs.push(']');
        w.raw("errors", &errs);
        if let Some(s) = self.retry_after_secs() {
            w.num("retry_after", s);
        }
        w.end();
        out
    }
}

impl From<nps_protocol::parse::ParseError> for EdgeError {
    fn from(e: nps_protocol::parse::ParseError) -> Self {
        use nps_protocol::parse::ParseError;
        match e {
            ParseError::Syntax(s) => EdgeError::BadJson(truncate(&s, 200)),
            ParseError::NotObject => EdgeError::NotObject,
            ParseError::Invalid(p) => EdgeError::Invalid(p),
        }
    }
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use nps_protocol::ProblemCode;

    #[test]
    fn every_reason_is_listed_once() {
        let all = [
            EdgeError::BadJson("x".into()),
            EdgeError::NotObject,
            EdgeError::TooLarge,
            EdgeError::UnsupportedMediaType("x".into()),
            EdgeError::Invalid(vec![]),
            EdgeError::UnknownSite("x".into()),
            EdgeError::OriginNotAllowed("x".into()),
            EdgeError::RateLimited(1),
            EdgeError::NotFound,
            EdgeError::MethodNotAllowed,
            EdgeError::Unavailable("x".into()),
            EdgeError::Suppressed,
            EdgeError::Identity("user.signature", "is required on this site"),
            EdgeError::Conflict,
            EdgeError::NoLinks,
        ];
        let reasons: Vec<_> = all.iter().map(|e| e.reason()).collect();
        assert_eq!(reasons, EdgeError::REASONS);
        for e in &all {
            let v: serde_json::Value = serde_json::from_str(&e.to_problem_json()).unwrap();
            assert_eq!(v["status"], e.status());
            assert!(v["errors"].is_array());
            assert!(v["title"].is_string() && v["type"].is_string() && v["detail"].is_string());
        }
    }

    #[test]
    fn invalid_lists_fields_and_escapes() {
        let e = EdgeError::Invalid(vec![
            Problem::new("score", ProblemCode::Range, "must be 0-10"),
            Problem::new("properties.<x\"", ProblemCode::Charset, "bad"),
        ]);
        assert_eq!(e.status(), 422);
        let v: serde_json::Value = serde_json::from_str(&e.to_problem_json()).unwrap();
        assert_eq!(v["errors"][0]["field"], "score");
        assert_eq!(v["errors"][1]["field"], "properties.<x\"");
        assert_eq!(v["errors"][0]["reason"], "range: must be 0-10");
    }

    #[test]
    fn rate_limited_carries_retry_after() {
        let e = EdgeError::RateLimited(7);
        assert_eq!((e.status(), e.retry_after_secs()), (429, Some(7)));
        assert!(e.to_problem_json().contains("\"retry_after\":7"));
    }
}
