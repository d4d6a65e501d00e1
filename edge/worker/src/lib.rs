//! The NPS edge as a Cloudflare Worker (workers-rs): the edge application (`nps-edge-app`, the
//! same route table and handlers as the native server) over a Cloudflare backend.
//!
//! - `fetch` ([`http`]): the runtime's request → the application → the runtime's response.
//! - [`backend`]: the application's backend — the [`SiteState`] Durable Object (dedup records,
//!   the durable record of each answer until D1 and the Queue have it, suppressions, alert
//!   states), D1 (the response store) and the delivery Queue.
//! - `queue` ([`delivery`]): the Queue consumer (signed webhooks, alert jobs, dead letters).
//! - [`loaded`]: the config document (`NPS_CONFIG`, the same one `nps-edge --config` reads),
//!   loaded once per isolate.
//!
//! Everything here is runtime glue, so the crate is empty on other targets (its rules are the
//! application's and the core's, tested natively there).
#![cfg(target_arch = "wasm32")]

mod backend;
mod delivery;
mod http;
mod js;
mod loaded;
mod ops;
mod site_state;

pub use site_state::SiteState;

use wasm_bindgen::prelude::*;
use worker::worker_sys::web_sys;
use worker::Env;

/// HTTP entry point.
#[wasm_bindgen]
pub async fn fetch(
    req: web_sys::Request,
    env: Env,
    _ctx: JsValue,
) -> std::result::Result<web_sys::Response, JsValue> {
    Ok(http::handle(req, env).await)
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
