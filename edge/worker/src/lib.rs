//! The NPS edge as a Cloudflare Worker (workers-rs): the edge application (`nps-edge-app`, the
//! same route table and handlers as the native server) over a Cloudflare backend.
//!
//! - `fetch` ([`http`]): the request's parts → the application → the answer as one string; the
//!   JS shell (`js/shim.mjs`) reads the request and builds the `Response`.
//! - [`backend`]: the application's backend — the [`SiteState`] Durable Object (dedup records,
//!   the durable record of each answer until D1 and the Queue have it, suppressions, alert
//!   states), D1 (the response store) and the delivery Queue.
//! - `queue` ([`delivery`]): the Queue consumer (signed webhooks, alert jobs, dead letters).
//! - `scheduled`: the cron trigger; overdue case alerts and each site's `retention_days`.
//! - [`loaded`]: the config document (`NPS_CONFIG`, the same one `nps-edge --config` reads),
//!   loaded once per isolate.
//!
//! Everything here is runtime glue, so the crate is empty on other targets (its rules are the
//! application's and the core's, tested natively there).
#![cfg(target_arch = "wasm32")]

mod backend;
mod delivery;
mod driven;
mod http;
mod js;
mod loaded;
mod logs;
mod ops;
mod site_state;

pub use driven::resume;
pub use http::{is_bulk, max_bulk_request_bytes, max_request_bytes, request_headers};
pub use site_state::SiteState;

use wasm_bindgen::prelude::*;
use worker::Env;

/// HTTP entry point, called by the JS shell with the request's parts (see [`http`]); the answer,
/// an object call for the shell to make, or a promise (see [`driven`]).
#[wasm_bindgen]
pub fn fetch(
    method: String,
    url: String,
    headers: String,
    body: Option<Vec<u8>>,
    env: Env,
) -> JsValue {
    driven::start(http::handle(method, url, headers, body, env))
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

/// Scheduled entry point (the cron trigger in wrangler.toml): overdue cases, owed case webhooks,
/// reminders, then each site's retention (each finds nothing to do when nothing is due, so every
/// trigger runs them all).
#[wasm_bindgen]
pub async fn scheduled(env: Env) -> std::result::Result<JsValue, JsValue> {
    let l = loaded::get(&env).map_err(|e| JsValue::from_str(&e.to_string()))?;
    let overdue = l.app.sweep_overdue().await;
    if let Err(e) = &overdue {
        tracing::error!(error = %e, "overdue sweep failed; retried at the next trigger");
    }
    if let Err(e) = l.app.sweep_case_notices().await {
        tracing::error!(error = %e, "case webhook sweep failed; retried at the next trigger");
    }
    if let Err(e) = l.app.sweep_reminders().await {
        tracing::error!(error = %e, "reminder sweep failed; retried at the next trigger");
    }
    match (l.app.sweep_retention().await, overdue) {
        (Ok(_), Ok(_)) => Ok(JsValue::UNDEFINED),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, "a sweep failed; retried at the next trigger");
            Err(JsValue::from_str(&e.to_string()))
        }
    }
}
