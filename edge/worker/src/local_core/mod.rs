//! Pure edge logic the worker needs that `nps-edge-core` does not provide in the needed shape.
//!
//! SHOULD MOVE TO CORE: every module here is pure (no I/O, no clock, no randomness — all passed
//! in). What already comes from the core: problem+json (`EdgeError`), content-type check,
//! payload, Standard Webhooks signing, `webhook-id`, RFC 3339 time, IP hashing, token bucket.
//! - `config`: the worker's sink kinds (`d1`, `webhook` through a Queue binding) and binding names.
//! - `cors`: exact-origin match + preflight constants.
//! - `dedup`: id/rev + respondent decision over expiry times (the respondent record remembers the
//!   rev, so a replay after the id window is still a duplicate — see the module).
//! - `webhook`: retry schedule in whole seconds for Queue `retry({delaySeconds})`.

pub mod config;
pub mod cors;
pub mod dedup;
pub mod problem;
pub mod webhook;
