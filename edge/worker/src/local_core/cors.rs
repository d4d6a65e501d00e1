//! Exact-origin CORS decisions (SHOULD MOVE TO CORE: `nps_edge_core::cors`).

/// Methods answered to a preflight.
pub const ALLOW_METHODS: &str = "POST, GET, OPTIONS";
/// Request headers allowed by a preflight.
pub const ALLOW_HEADERS: &str = "Content-Type";
/// Response headers a page may read on a cross-origin refusal.
pub const EXPOSE_HEADERS: &str = "retry-after";
/// How long a browser may cache a preflight, seconds.
pub const MAX_AGE: &str = "86400";

/// True when `origin` is exactly one of `allowed`.
pub fn allowed(allowed: &[String], origin: &str) -> bool {
    allowed.iter().any(|o| o == origin)
}
