//! The fetch side of the worker adapter. The JS shell (`js/shim.mjs`) hands over the request in
//! one call — method, URL, the headers the application reads (one string), the body bytes — and
//! gets the answer back as one string it turns into a `Response`: two boundary crossings where
//! the runtime's objects would take dozens (see edge/README.md, "One application").

use nps_edge_app::http::{
    is_bulk_path, Body, Method, Request, Response, MAX_BULK_REQUEST_BYTES, MAX_REQUEST_BYTES,
    READ_HEADERS,
};
use nps_edge_app::statics::STATIC_FILE_HEADER;
use nps_edge_app::ApiError;
use nps_edge_core::EdgeError;
use wasm_bindgen::prelude::*;
use worker::Env;

use crate::loaded;

/// Names of the headers the shell passes, in order, newline-separated: the application's, then
/// the one that holds the client's address (`worker.client_address_header`; hashed, never kept).
#[wasm_bindgen(js_name = requestHeaders)]
pub fn request_headers(env: Env) -> String {
    let peer = loaded::get(&env)
        .map(|l| l.config().worker.client_address_header.clone())
        .unwrap_or_else(|_| "cf-connecting-ip".into());
    let mut names = READ_HEADERS.join("\n");
    names.push('\n');
    names.push_str(&peer.to_ascii_lowercase());
    names
}

/// The longest body the shell reads.
#[wasm_bindgen(js_name = maxRequestBytes)]
pub fn max_request_bytes() -> usize {
    MAX_REQUEST_BYTES
}

/// The longest body the shell reads for a bulk path (see [`is_bulk`]).
#[wasm_bindgen(js_name = maxBulkRequestBytes)]
pub fn max_bulk_request_bytes() -> usize {
    MAX_BULK_REQUEST_BYTES
}

/// True when the shell may read up to [`max_bulk_request_bytes`] for this path (asked only of
/// a body longer than [`max_request_bytes`]).
#[wasm_bindgen(js_name = isBulkPath)]
pub fn is_bulk(path: &str) -> bool {
    is_bulk_path(path)
}

/// Answers one request (see the module doc for the shapes). `headers` holds the values of
/// [`request_headers`], in order, an empty line for an absent one; `body` is `None` when it was
/// longer than [`max_request_bytes`].
pub(crate) async fn handle(
    method: String,
    url: String,
    headers: String,
    body: Option<Vec<u8>>,
    env: Env,
) -> String {
    let loaded = match loaded::get(&env) {
        Ok(l) => l,
        Err(e) => return unavailable(&e.to_string()),
    };
    let after_scheme = url.find("://").map_or(url.as_str(), |i| &url[i + 3..]);
    let path_and_query = after_scheme.find('/').map_or("/", |i| &after_scheme[i..]);
    let path_and_query = path_and_query.split('#').next().unwrap_or("/");
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let mut values = headers.split('\n');
    let mut list: Vec<(String, String)> = Vec::with_capacity(READ_HEADERS.len());
    for name in READ_HEADERS {
        if let Some(v) = values.next().filter(|v| !v.is_empty()) {
            list.push((name.to_string(), v.to_string()));
        }
    }
    let peer = values.next().filter(|v| !v.is_empty()).map(str::to_string);
    let request = Request {
        method: Method::parse(&method),
        path: path.to_string(),
        query: query.to_string(),
        headers: list,
        body: body.map_or(Body::TooLarge, Body::Bytes),
        peer,
    };
    let mut resp = loaded.app.handle(request).await;
    // A built file: the shell fetches it from the assets binding named here (bytes never cross
    // into wasm).
    for (k, v) in resp.headers.iter_mut() {
        if *k == STATIC_FILE_HEADER {
            *v = format!("{} {v}", loaded.config().worker.assets);
        }
    }
    encode(resp)
}

/// A 503 answer (retryable) with `detail`.
pub(crate) fn unavailable(detail: &str) -> String {
    encode(ApiError::from(EdgeError::Unavailable(detail.to_string())).to_response())
}

/// `status`, then a `name` and a `value` line per header, an empty line, then the body.
fn encode(r: Response) -> String {
    let mut out = String::with_capacity(r.body.len() + 256);
    out.push_str(&r.status.to_string());
    for (k, v) in &r.headers {
        out.push('\n');
        out.push_str(k);
        out.push('\n');
        out.push_str(v);
    }
    out.push_str("\n\n");
    out.push_str(&r.body);
    out
}
