//! The bridge to the loader. The loader owns delivery (fetch, the localStorage outbox, retries,
//! `sendBeacon` on pagehide) because it must also flush the outbox on page views that never load
//! the widget; the widget only builds the wire JSON and hands it over.

use js_sys::{Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};

/// The loader's callbacks: `id()`, `send(path, key, body)`, `emit(name, detail)`,
/// `close(reason)`.
#[derive(Clone)]
pub struct Host(JsValue);

impl Host {
    /// Wraps the loader's API object.
    pub fn new(obj: JsValue) -> Host {
        Host(obj)
    }

    fn call(&self, name: &str, a: &JsValue, b: &JsValue, c: &JsValue) -> JsValue {
        let f = Reflect::get(&self.0, &JsValue::from_str(name)).ok();
        f.as_ref()
            .and_then(|f| f.dyn_ref::<Function>())
            // A throwing host callback must not break the widget.
            .and_then(|f| f.call3(&self.0, a, b, c).ok())
            .unwrap_or(JsValue::UNDEFINED)
    }

    /// A new random UUID v4 for a response or an event (made in `nps-send.js`: crypto in plain JS
    /// is smaller than its wasm bindings). Empty if the loader gave none: the edge then refuses
    /// the body with a clear 422 instead of the widget inventing a weak id.
    pub fn id(&self) -> String {
        let u = JsValue::UNDEFINED;
        self.call("id", &u, &u, &u).as_string().unwrap_or_default()
    }

    /// Queues a JSON body for `POST {endpoint}{path}`; `key` dedups the outbox (a newer rev of
    /// the same response replaces an unsent older one).
    pub fn send(&self, path: &str, key: &str, body: &str) {
        let (p, k, b) = (
            JsValue::from_str(path),
            JsValue::from_str(key),
            JsValue::from_str(body),
        );
        let _ = self.call("send", &p, &k, &b);
    }

    /// Fires `nps:<name>` on `document`, with `detail` (a JS object).
    pub fn emit(&self, name: &str, detail: &JsValue) {
        let _ = self.call(
            "emit",
            &JsValue::from_str(name),
            detail,
            &JsValue::UNDEFINED,
        );
    }

    /// Asks the loader to remove the widget (`done` or `dismissed`).
    pub fn close(&self, reason: &str) {
        let _ = self.call(
            "close",
            &JsValue::from_str(reason),
            &JsValue::UNDEFINED,
            &JsValue::UNDEFINED,
        );
    }
}
