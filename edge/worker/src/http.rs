//! The fetch side of the worker adapter: the runtime's `Request` becomes the application's (only
//! the headers it reads cross the boundary), `App::handle` answers, and the answer becomes the
//! runtime's `Response` in one constructor call.

use nps_edge_app::http::{Body, Method, Request, Response, MAX_REQUEST_BYTES, READ_HEADERS};
use nps_edge_app::ApiError;
use nps_edge_core::EdgeError;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use worker::worker_sys::web_sys;
use worker::Env;

use crate::loaded;

/// Answers one request. Never fails: every refusal is a problem+json answer.
pub(crate) async fn handle(req: web_sys::Request, env: Env) -> web_sys::Response {
    let loaded = match loaded::get(&env) {
        Ok(l) => l,
        Err(e) => {
            return to_js(ApiError::from(EdgeError::Unavailable(e.to_string())).to_response())
        }
    };
    let url = req.url();
    let after_scheme = url.find("://").map_or(url.as_str(), |i| &url[i + 3..]);
    let path_and_query = after_scheme.find('/').map_or("/", |i| &after_scheme[i..]);
    let path_and_query = path_and_query.split('#').next().unwrap_or("/");
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let js_headers = req.headers();
    let header = |name: &str| js_headers.get(name).ok().flatten();
    let headers: Vec<(String, String)> = READ_HEADERS
        .iter()
        .filter_map(|h| Some((h.to_string(), header(h)?)))
        .collect();
    let method = Method::parse(&req.method());
    let body = if matches!(method, Method::Get | Method::Head | Method::Options) {
        Body::Bytes(Vec::new())
    } else {
        read_body(&req, headers.iter().find(|(k, _)| k == "content-length")).await
    };
    let request = Request {
        method,
        path: path.to_string(),
        query: query.to_string(),
        headers,
        body,
        peer: header("cf-connecting-ip"),
    };
    to_js(loaded.app.handle(request).await)
}

/// The body, at most [`MAX_REQUEST_BYTES`] (a declared longer one is not read at all).
async fn read_body(req: &web_sys::Request, declared: Option<&(String, String)>) -> Body {
    if declared
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .is_some_and(|n| n > MAX_REQUEST_BYTES)
    {
        return Body::TooLarge;
    }
    let read = match req.array_buffer() {
        Ok(p) => JsFuture::from(p).await,
        Err(e) => Err(e),
    };
    match read {
        Ok(buf) => {
            let bytes = js_sys::Uint8Array::new(&buf);
            if bytes.length() as usize > MAX_REQUEST_BYTES {
                Body::TooLarge
            } else {
                Body::Bytes(bytes.to_vec())
            }
        }
        Err(e) => Body::Unreadable(crate::js::JsError::from(e).0),
    }
}

fn to_js(r: Response) -> web_sys::Response {
    let headers = web_sys::Headers::new()
        .unwrap_or_else(|_| wasm_bindgen::JsCast::unchecked_into(js_sys::Object::new()));
    for (k, v) in &r.headers {
        let _ = headers.set(k, v);
    }
    let init = web_sys::ResponseInit::new();
    init.set_status(r.status);
    init.set_headers(&headers);
    let body = (!r.body.is_empty() && r.status != 204 && r.status != 304).then_some(&*r.body);
    web_sys::Response::new_with_opt_str_and_init(body, &init)
        .unwrap_or_else(|_| wasm_bindgen::JsCast::unchecked_into(JsValue::NULL))
}
