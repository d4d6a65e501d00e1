//! What of the worker's pure logic is not (yet) in `nps-edge-core`.
//!
//! - `config`: the worker's config document — its sink kinds (`d1`, `webhook` through a Queue
//!   binding), binding names, Durable Object sharding and Queue delivery settings. Site ids,
//!   origins, rate limits, alert sinks and tokens are checked like the native server's, with the
//!   core's types and helpers where the keys are the same.
//!
//! Everything else comes from the core: CORS (`cors`), problem+json (`error::EdgeError`),
//! content-type check (`ingest`), dedup decisions (`dedup::decide`), token bucket (`ratelimit`),
//! retry schedule (`retry`, in whole seconds for Queues via `retry::delay_secs`), Standard
//! Webhooks signing (`webhook`), payloads, RFC 3339 time and IP hashing.

pub mod config;
