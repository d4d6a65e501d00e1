//! The application's HTTP types, independent of any server: the request as a runtime received
//! it, the answer for the runtime to send, and [`ApiError`] — the one place a refusal becomes a
//! status, a metrics reason and an RFC 9457 problem+json body.
//!
//! Plain structs rather than `http::Request`/`axum`: the worker adapter fills them from the
//! runtime's `Request` in a handful of boundary crossings (see edge/README.md, "One application").

use std::borrow::Cow;

use nps_edge_core::auth::AuthError;
use nps_edge_core::error::PROBLEM_CONTENT_TYPE;
use nps_edge_core::EdgeError;

/// Largest request body a runtime reads; beyond it the adapter stops reading and passes
/// [`Body::TooLarge`].
pub const MAX_REQUEST_BYTES: usize = nps_protocol::limits::MAX_BODY_BYTES;

/// Largest body of a bulk route (invitations: up to 1,000 recipients); see [`is_bulk_path`].
pub const MAX_BULK_REQUEST_BYTES: usize = 512 * 1024;

/// True for the paths whose bodies may reach [`MAX_BULK_REQUEST_BYTES`] (admin routes behind a
/// token): a runtime reads that much only for them.
pub fn is_bulk_path(path: &str) -> bool {
    path.starts_with("/v1/sites/") && path.ends_with("/invitations")
}

/// The longest body a runtime reads for `path`.
pub fn max_request_bytes(path: &str) -> usize {
    if is_bulk_path(path) {
        MAX_BULK_REQUEST_BYTES
    } else {
        MAX_REQUEST_BYTES
    }
}

/// Request methods the application knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET
    Get,
    /// HEAD (answered as GET without a body)
    Head,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
    /// OPTIONS
    Options,
    /// Anything else.
    Other,
}

#[allow(missing_docs)]
impl Method {
    pub const GET: Method = Method::Get;
    pub const POST: Method = Method::Post;
    pub const PUT: Method = Method::Put;
    pub const PATCH: Method = Method::Patch;
    pub const DELETE: Method = Method::Delete;
    pub const OPTIONS: Method = Method::Options;
}

impl Method {
    /// Parses a method name (case-sensitive, as HTTP says).
    pub fn parse(s: &str) -> Method {
        match s {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            "OPTIONS" => Method::Options,
            _ => Method::Other,
        }
    }

    /// The method name.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
            Method::Other => "OTHER",
        }
    }
}

/// A request body as the runtime read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// The bytes (at most [`MAX_REQUEST_BYTES`]).
    Bytes(Vec<u8>),
    /// Longer than [`MAX_REQUEST_BYTES`]: the runtime stopped reading.
    TooLarge,
    /// The upload broke off.
    Unreadable(String),
}

/// One request.
#[derive(Debug, Clone)]
pub struct Request {
    /// Method.
    pub method: Method,
    /// Path as sent (still percent-encoded), without the query.
    pub path: String,
    /// Raw query string, without `?` (empty when none).
    pub query: String,
    /// Headers the application reads, names in lower case (see [`READ_HEADERS`]).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Body,
    /// The peer address as the runtime knows it (the socket peer natively, `CF-Connecting-IP`
    /// on Cloudflare). Only ever fed to the keyed hash; never stored or logged.
    pub peer: Option<String>,
}

/// The request headers the application reads: a runtime may copy only these.
pub const READ_HEADERS: [&str; 10] = [
    "origin",
    "content-type",
    "content-length",
    "authorization",
    "accept",
    "x-forwarded-for",
    // A helpdesk's signed events (Standard Webhooks).
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    // The language of a survey link's error page when the link itself cannot be read.
    "accept-language",
];

impl Request {
    /// A request with no headers and an empty body (tests and adapters fill the rest).
    pub fn new(method: Method, path_and_query: &str) -> Request {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        Request {
            method,
            path: path.to_string(),
            query: query.to_string(),
            headers: Vec::new(),
            body: Body::Bytes(Vec::new()),
            peer: None,
        }
    }

    /// Adds a header (the name is lower-cased).
    pub fn with_header(mut self, name: &str, value: &str) -> Request {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_string()));
        self
    }

    /// Sets the body.
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Request {
        self.body = Body::Bytes(body.into());
        self
    }

    /// The first value of a header (`name` in lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `Origin` header.
    pub fn origin(&self) -> Option<&str> {
        self.header("origin")
    }
}

/// An answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers, names in lower case.
    pub headers: Vec<(&'static str, String)>,
    /// Body (all bodies of the API are text).
    pub body: Cow<'static, str>,
}

impl Response {
    /// An answer with this status, content type and body.
    pub fn new(status: u16, content_type: &str, body: impl Into<Cow<'static, str>>) -> Response {
        Response {
            status,
            headers: vec![("content-type", content_type.to_string())],
            body: body.into(),
        }
    }

    /// `application/json`.
    pub fn json(status: u16, body: impl Into<Cow<'static, str>>) -> Response {
        Response::new(status, "application/json", body)
    }

    /// No content.
    pub fn empty(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Cow::Borrowed(""),
        }
    }

    /// Sets a header, replacing an earlier value.
    pub fn set(mut self, name: &'static str, value: impl Into<String>) -> Response {
        self.insert(name, value);
        self
    }

    /// Sets a header in place, replacing an earlier value.
    pub fn insert(&mut self, name: &'static str, value: impl Into<String>) {
        let value = value.into();
        match self.headers.iter_mut().find(|(k, _)| *k == name) {
            Some(h) => h.1 = value,
            None => self.headers.push((name, value)),
        }
    }

    /// The value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Every refusal a handler can answer with. [`ApiError::to_response`] is the one mapping to an
/// answer; the dispatcher adds CORS and counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// A refusal of the API (400/403/404/405/413/415/422/429/503).
    Edge(EdgeError),
    /// A missing, malformed or wrong bearer token (401/403).
    Auth(AuthError),
}

impl From<EdgeError> for ApiError {
    fn from(e: EdgeError) -> Self {
        ApiError::Edge(e)
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        ApiError::Auth(e)
    }
}

impl ApiError {
    /// Metrics label.
    pub fn reason(&self) -> &'static str {
        match self {
            ApiError::Edge(e) => e.reason(),
            ApiError::Auth(e) => e.reason(),
        }
    }

    /// The problem+json answer (`Retry-After` on 429/503, `WWW-Authenticate` on 401).
    pub fn to_response(&self) -> Response {
        match self {
            ApiError::Edge(e) => {
                let mut r = Response::new(e.status(), PROBLEM_CONTENT_TYPE, e.to_problem_json());
                if let Some(s) = e.retry_after_secs() {
                    r.insert("retry-after", s.to_string());
                }
                r
            }
            ApiError::Auth(e) => {
                let mut r = Response::new(e.status(), PROBLEM_CONTENT_TYPE, e.to_problem_json());
                for (k, v) in e.headers() {
                    r.insert(k, v);
                }
                r
            }
        }
    }
}

/// Decodes one percent-encoded path segment; `None` for a bad escape or invalid UTF-8.
pub fn decode_segment(s: &str) -> Option<String> {
    if !s.contains('%') {
        return Some(s.to_string());
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = |c: u8| (c as char).to_digit(16);
            let h = b.get(i + 1).copied().and_then(hex)?;
            let l = b.get(i + 2).copied().and_then(hex)?;
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_percent_decoded() {
        assert_eq!(decode_segment("u%2D42").as_deref(), Some("u-42"));
        assert_eq!(decode_segment("plain").as_deref(), Some("plain"));
        assert_eq!(decode_segment("%E2%82%AC").as_deref(), Some("€"));
        assert_eq!(decode_segment("%zz"), None);
        assert_eq!(decode_segment("%4"), None);
        assert_eq!(decode_segment("%FF"), None);
    }

    #[test]
    fn requests_split_path_and_query() {
        let r = Request::new(Method::Get, "/v1/sites/demo/summary?from=2026-11-01")
            .with_header("Origin", "https://a.example");
        assert_eq!(r.path, "/v1/sites/demo/summary");
        assert_eq!(r.query, "from=2026-11-01");
        assert_eq!(r.origin(), Some("https://a.example"));
    }

    #[test]
    fn refusals_map_to_problems() {
        let r = ApiError::from(EdgeError::RateLimited(7)).to_response();
        assert_eq!((r.status, r.header("retry-after")), (429, Some("7")));
        assert_eq!(r.header("content-type"), Some(PROBLEM_CONTENT_TYPE));
        let r = ApiError::from(AuthError::Missing).to_response();
        assert_eq!(
            (r.status, r.header("www-authenticate")),
            (401, Some("Bearer"))
        );
    }
}
