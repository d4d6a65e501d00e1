//! Problem+json: the core's `EdgeError` (the ONE mapping of refusals to status + RFC 9457 body,
//! shared with the native server) and its content-type check.

pub use nps_edge_core::error::{EdgeError, PROBLEM_CONTENT_TYPE};
pub use nps_edge_core::ingest::check_content_type;
