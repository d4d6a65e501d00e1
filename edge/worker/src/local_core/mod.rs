//! Pure edge logic the worker needs and `nps-edge-core` did not provide yet.
//!
//! SHOULD MOVE TO CORE: every module here is pure (no I/O, no clock, no randomness — all passed
//! in) and is meant to be replaced by the matching `nps-edge-core` item once it lands, so the
//! native server and the worker cannot disagree.

pub mod config;
pub mod cors;
pub mod dedup;
pub mod problem;
pub mod ratelimit;
pub mod webhook;
