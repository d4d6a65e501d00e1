//! The request checks both runtimes run, in order, before touching any state.

use nps_protocol::limits::MAX_BODY_BYTES;
use nps_protocol::{Event, Response};

use crate::config::{Config, Site};
use crate::dedup::Status;
use crate::error::EdgeError;

/// Accepts `application/json` and `text/plain` (what `navigator.sendBeacon` sends with a
/// string body, and which skips the CORS preflight), with any parameters (`; charset=utf-8`).
/// A missing content type is refused: every browser path sets one.
pub fn check_content_type(content_type: Option<&str>) -> Result<(), EdgeError> {
    let ct = content_type.unwrap_or("");
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/json" | "text/plain" => Ok(()),
        _ => Err(EdgeError::UnsupportedMediaType(
            ct.chars().take(100).collect(),
        )),
    }
}

/// Refuses bodies over [`MAX_BODY_BYTES`] (check `Content-Length` first, then the bytes read).
pub fn check_body_len(len: usize) -> Result<(), EdgeError> {
    if len > MAX_BODY_BYTES {
        Err(EdgeError::TooLarge)
    } else {
        Ok(())
    }
}

/// Size check + parse + validation of a response body (all problems reported at once).
pub fn parse_response(body: &[u8]) -> Result<Response, EdgeError> {
    check_body_len(body.len())?;
    Ok(nps_protocol::parse::parse_response(body)?)
}

/// Size check + parse + validation of an event body.
pub fn parse_event(body: &[u8]) -> Result<Event, EdgeError> {
    check_body_len(body.len())?;
    Ok(nps_protocol::parse::parse_event(body)?)
}

/// The site must be configured and the `Origin` must be on ITS allowlist. Requests without an
/// `Origin` are refused: browsers always send one on these POSTs, so a missing one is a script,
/// and letting scripts skip the allowlist would make the allowlist decorative.
pub fn authorize<'a>(
    config: &'a Config,
    site: &str,
    origin: Option<&str>,
) -> Result<&'a Site, EdgeError> {
    let s = config
        .site(site)
        .ok_or_else(|| EdgeError::UnknownSite(site.chars().take(64).collect()))?;
    match origin {
        Some(o) if s.allows_origin(o) => Ok(s),
        other => Err(EdgeError::OriginNotAllowed(
            other.unwrap_or("").chars().take(200).collect(),
        )),
    }
}

/// The parsing + authorization pipeline in one call (what the fuzz target drives).
pub fn check_response(
    config: &Config,
    content_type: Option<&str>,
    origin: Option<&str>,
    body: &[u8],
) -> Result<Response, EdgeError> {
    check_content_type(content_type)?;
    let r = parse_response(body)?;
    authorize(config, &r.site, origin)?;
    Ok(r)
}

/// 202 body of `POST /v1/responses`: `{"id","rev","segment","status"}`.
pub fn accepted_json(r: &Response, status: Status) -> String {
    accepted_json_parts(&r.id, r.rev, r.segment(), status)
}

/// [`accepted_json`] from its parts (when the response itself was handed to the store).
pub fn accepted_json_parts(
    id: &str,
    rev: u32,
    segment: Option<nps_protocol::Segment>,
    status: Status,
) -> String {
    let mut s = String::with_capacity(128);
    let mut w = nps_protocol::json::ObjectWriter::new(&mut s);
    w.str("id", id)
        .num("rev", rev.into())
        .opt_str("segment", segment.map(|g| g.as_str()))
        .str("status", status.as_str());
    w.end();
    s
}

/// 202 body of `POST /v1/events`: `{"id","status"}` (`accepted` or `duplicate`).
pub fn event_accepted_json(e: &Event, duplicate: bool) -> String {
    let mut s = String::with_capacity(64);
    let mut w = nps_protocol::json::ObjectWriter::new(&mut s);
    w.str("id", &e.id)
        .str("status", if duplicate { "duplicate" } else { "accepted" });
    w.end();
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] =
        br#"{"id":"r1","rev":1,"site":"demo","survey":"checkout","score":6,"visitor":"v1"}"#;

    #[test]
    fn content_types() {
        for ok in [
            "application/json",
            "text/plain;charset=UTF-8",
            "Application/JSON; charset=utf-8",
        ] {
            assert!(check_content_type(Some(ok)).is_ok(), "{ok}");
        }
        for bad in [
            None,
            Some(""),
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data"),
            Some("text/json"),
        ] {
            assert_eq!(
                check_content_type(bad).unwrap_err().status(),
                415,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn pipeline_statuses() {
        let c = Config::demo();
        let o = Some("http://localhost:8000");
        let ct = Some("text/plain");
        let r = check_response(&c, ct, o, BODY).unwrap();
        assert_eq!(
            accepted_json(&r, Status::Accepted),
            r#"{"id":"r1","rev":1,"segment":"detractor","status":"accepted"}"#
        );
        let st = |ct, o, b: &[u8]| check_response(&c, ct, o, b).unwrap_err().status();
        assert_eq!(st(Some("image/png"), o, BODY), 415);
        assert_eq!(st(ct, o, b"{"), 400);
        assert_eq!(st(ct, o, b"[]"), 400);
        assert_eq!(st(ct, o, &vec![b' '; MAX_BODY_BYTES + 1]), 413);
        assert_eq!(st(ct, o, br#"{"id":"r1"}"#), 422);
        assert_eq!(st(ct, Some("https://evil.example"), BODY), 403);
        assert_eq!(st(ct, None, BODY), 403);
        let other =
            br#"{"id":"r1","rev":1,"site":"nope","survey":"checkout","score":6,"visitor":"v1"}"#;
        assert_eq!(
            check_response(&c, ct, o, other).unwrap_err(),
            EdgeError::UnknownSite("nope".into())
        );
    }
}
