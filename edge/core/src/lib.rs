//! Pure edge logic shared by the native server (`edge/server`) and the Cloudflare worker
//! (`edge/worker`).
//!
//! Nothing here does I/O, reads a clock or draws a random number: the runtime passes in the time
//! (`now_ms`, milliseconds since the Unix epoch), the stored state (dedup records, rate-limit
//! buckets) and any randomness (retry jitter, hashing keys), and gets back a decision plus the new
//! state to store. The crate builds for `wasm32-unknown-unknown`.
//!
//! # The request path, step by step (what a runtime does)
//!
//! ```text
//! OPTIONS /v1/*           cors::preflight(&config, origin)            -> 204 + headers | EdgeError
//! POST /v1/responses      ingest::check_content_type(ct)?             -> 415
//!                         ingest::check_body_len(len)?                -> 413
//!                         ingest::parse_response(body)?               -> 400 / 422
//!                         ingest::authorize(&config, &r.site, origin)? -> 403 (unknown site / origin)
//!                         ratelimit::take(bucket, now_ms, &site.rate_limit) -> 429 + Retry-After
//!                         dedup::decide(seen_id, seen_respondent, &r, now_ms, site)  (load state first)
//!                         store per `Decision`, then route: routing::sinks_for(&config, &r)
//!                         ingest::accepted_json(&r, decision.status)  -> 202 body
//! any error               err.status(), err.to_problem_json(), err.retry_after_secs()
//! ```
//!
//! # Public API (stable: things are added, never renamed)
//!
//! - [`config`]: [`Config`] (`from_toml_str`, `from_json_str`, `validate`, `resolve_secrets`,
//!   `site`), [`config::Site`], [`config::RateLimit`], [`config::SinkConfig`]
//!   (`sqlite` / `webhook` / `stdout`), [`config::RetryPolicy`], [`config::ConfigError`].
//! - [`error`]: [`EdgeError`] — every refusal, mapped to status, metrics reason and RFC 9457
//!   problem+json in one place.
//! - [`ingest`]: content-type / size checks, parsing into protocol types, site + origin
//!   authorization, the 202 bodies.
//! - [`cors`]: origin patterns, preflight and response headers.
//! - [`ratelimit`]: token bucket, state in → state out.
//! - [`dedup`]: id+rev and per-respondent decisions.
//! - [`routing`]: which sinks get a response.
//! - [`payload`]: sink payloads (`{"type":"nps.response","timestamp":…,"data":{…,"segment"}}`).
//! - [`webhook`]: Standard Webhooks v1 signing and verification.
//! - [`retry`]: delivery outcome classification and the backoff + jitter schedule.
//! - [`iphash`]: keyed, daily-rotating hashing of client IPs (raw IPs never leave the request).
//! - [`time`]: RFC 3339 formatting of `now_ms` (no clock, just arithmetic).

pub mod alert;
pub mod auth;
pub mod case_notice;
pub mod cases;
pub mod client;
pub mod config;
pub mod cors;
pub mod csv;
pub mod dedup;
pub mod erasure;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod helpdesk;
pub mod identity;
pub mod ingest;
pub mod invitations;
pub mod iphash;
pub mod link_text;
pub mod links;
pub mod payload;
pub mod ratelimit;
pub mod report;
pub mod report_api;
pub mod retry;
pub mod routing;
pub mod suppression;
pub mod time;
pub mod webhook;

pub use config::Config;
pub use dedup::{Decision, Status};
pub use error::EdgeError;
pub use nps_protocol;
