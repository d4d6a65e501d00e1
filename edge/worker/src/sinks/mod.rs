//! Sinks: where accepted responses and events go. One file per sink.
//!
//! - `d1`: written synchronously before the 202 (the embedded store on Cloudflare).
//! - `webhook`: the response is sent to a Cloudflare Queue before the 202 (durable outbox); the
//!   queue consumer in this worker delivers it (see `delivery`).

pub(crate) mod alert;
pub(crate) mod d1;
pub(crate) mod webhook;
