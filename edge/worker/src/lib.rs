//! NPS edge as a Cloudflare Worker (workers-rs): the same HTTP API v1 as the native server.
//!
//! - `fetch`: API v1 (`api`), dedup through the `Deduper` Durable Object, D1 sink, and the
//!   webhook sink's durable outbox (a Queue).
//! - `queue`: the Queue consumer delivering webhooks and alert jobs, and the dead-letter consumer
//!   (`delivery`).
//! - Close the loop (issue 7): tokens, report API from D1 and the report page (`routes`),
//!   suppressions / eligibility / alert states in the Durable Object (`close_loop`), the `alert`
//!   sink (`sinks::alert`) — decisions and bodies from `nps-edge-core`.
//!
//! Pure logic lives in `nps-protocol` and `nps-edge-core` (CORS, problem+json, dedup decisions,
//! token bucket, retry schedule, signing, sites); `local_core::config` keeps only the worker's
//! own config document (its sink kinds, bindings, sharding, Queue delivery settings).

mod api;
mod close_loop;
mod dedup_object;
mod delivery;
pub mod local_core;
mod metrics;
mod routes;
mod sinks;
mod state;

pub use dedup_object::Deduper;

use wasm_bindgen::prelude::*;
use worker::worker_sys::web_sys;
use worker::Env;

/// HTTP entry point (what `#[event(fetch)]` would export, minus the request/response wrapping:
/// see `api::handle`).
#[wasm_bindgen]
pub async fn fetch(
    req: web_sys::Request,
    env: Env,
    _ctx: JsValue,
) -> std::result::Result<web_sys::Response, JsValue> {
    Ok(api::handle(req, env).await)
}

/// Queue consumer entry point (delivery queue and dead-letter queue).
#[wasm_bindgen]
pub async fn queue(
    batch: delivery::QueueBatch,
    env: Env,
    _ctx: JsValue,
) -> std::result::Result<JsValue, JsValue> {
    delivery::handle_batch(batch, env).await;
    Ok(JsValue::UNDEFINED)
}
