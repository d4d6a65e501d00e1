//! HTTP API v1, declared in one place: `handle` routes, each handler runs
//! parse → core decisions → bindings, and every refusal goes through `problem`.

use std::cell::RefCell;
use std::collections::HashMap;

use nps_edge_core::iphash::client_hash;
use nps_edge_core::ratelimit::{self, Bucket};
use nps_protocol::json::ObjectWriter;
use nps_protocol::parse::{parse_event, parse_response};
use nps_protocol::{Response as NpsResponse, Segment};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen_futures::JsFuture;
use worker::worker_sys::web_sys::{Headers, Request, Response, ResponseInit};
use worker::Env;

use nps_edge_core::cors;
use nps_edge_core::dedup::Status;
use nps_edge_core::error::{EdgeError, PROBLEM_CONTENT_TYPE};
use nps_edge_core::ingest::{check_body_len, check_content_type};

use crate::local_core::config::{Shard, Sink, Site};
use crate::metrics::{self, inc, Metric};
use crate::sinks;
use crate::state::{self, Loaded};

/// Rate-limit buckets kept per isolate before idle ones are dropped.
const MAX_BUCKETS: usize = 50_000;

#[wasm_bindgen]
extern "C" {
    /// RPC view of a `Deduper` stub (see `dedup_object`).
    type DedupRpc;
    #[wasm_bindgen(method, catch)]
    fn check(this: &DedupRpc, line: &str) -> Result<js_sys::Promise, wasm_bindgen::JsValue>;
}

thread_local! {
    static BUCKETS: RefCell<HashMap<String, Bucket>> = RefCell::new(HashMap::new());
}

/// What the answer needs to know about the request's origin.
pub(crate) struct Cors<'a> {
    pub(crate) origin: Option<&'a str>,
}

/// Routes one request. Never fails: every error becomes a problem+json answer.
///
/// Works on the runtime's own `Request`/`Response` objects (web-sys) rather than the worker
/// crate's wrappers: the wrappers eagerly read `cf` (a JSON-built object), the URL and the
/// method on every request, and build the answer through a byte copy; here only what is used
/// crosses the boundary, and a body crosses once, as a string.
pub(crate) async fn handle(req: Request, env: Env) -> Response {
    let url = req.url();
    let path = path_of(&url);
    let method = req.method();
    match (path, method.as_str()) {
        ("/healthz", "GET" | "HEAD") => text(200, "text/plain; charset=utf-8", "ok\n"),
        ("/metrics", "GET") => text(
            200,
            "text/plain; version=0.0.4; charset=utf-8",
            &metrics::render(),
        ),
        ("/v1/responses" | "/v1/events", "OPTIONS") => preflight(&req, &env),
        ("/v1/responses", "POST") => {
            let origin = header(&req, "origin");
            let cors = Cors {
                origin: origin.as_deref(),
            };
            match post_response(&req, &env, &cors).await {
                Ok(body) => json(202, &body, &cors),
                Err(e) => problem(&e, &cors),
            }
        }
        ("/v1/events", "POST") => {
            let origin = header(&req, "origin");
            let cors = Cors {
                origin: origin.as_deref(),
            };
            match post_event(&req, &env, &cors).await {
                Ok(body) => json(202, &body, &cors),
                Err(e) => problem(&e, &cors),
            }
        }
        ("/v1/responses" | "/v1/events" | "/healthz" | "/metrics", _) => {
            problem(&EdgeError::MethodNotAllowed, &Cors { origin: None })
        }
        (p, m) if p == "/v1/sites" || p.starts_with("/v1/sites/") || p.starts_with("/report") => {
            let query = query_of(&url).to_string();
            crate::routes::handle(&req, &env, p, m, &query).await
        }
        _ => problem(&EdgeError::NotFound, &Cors { origin: None }),
    }
}

/// Path of an absolute URL, without the query (no URL parser on the hot path).
fn path_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(url, |i| &url[i + 3..]);
    let path = after_scheme.find('/').map_or("/", |i| &after_scheme[i..]);
    path.split(['?', '#']).next().unwrap_or("/")
}

/// Raw query string of an absolute URL (without `?` and fragment).
pub(crate) fn query_of(url: &str) -> &str {
    let q = url.split_once('?').map_or("", |(_, q)| q);
    q.split('#').next().unwrap_or("")
}

/// 401/403 problem+json of the token check (`WWW-Authenticate` on 401), never cached.
pub(crate) fn auth_problem(e: nps_edge_core::auth::AuthError) -> Response {
    metrics::rejected(e.reason());
    let h = new_headers();
    for (k, v) in e.headers() {
        set(&h, k, v);
    }
    set(&h, "cache-control", "no-store");
    respond(e.status(), h, Some(&e.to_problem_json()))
}

/// Body bytes of any request (no content-type rule), at most 16 KiB.
pub(crate) async fn read_raw_body(req: &Request) -> Result<Vec<u8>, EdgeError> {
    if let Some(len) = header(req, "content-length").and_then(|v| v.trim().parse::<usize>().ok()) {
        check_body_len(len)?;
    }
    let unreadable = |_| EdgeError::BadJson("unreadable body".into());
    let buf = JsFuture::from(req.array_buffer().map_err(unreadable)?)
        .await
        .map_err(unreadable)?;
    let bytes = js_sys::Uint8Array::new(&buf);
    check_body_len(bytes.length() as usize)?;
    Ok(bytes.to_vec())
}

pub(crate) fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

pub(crate) fn loaded(env: &Env) -> Result<std::rc::Rc<Loaded>, EdgeError> {
    state::get(env).map_err(|e| EdgeError::Unavailable(e.to_string()))
}

/// Content type, size, then the body bytes (one copy, from the runtime's ArrayBuffer).
async fn read_body(req: &Request) -> Result<Vec<u8>, EdgeError> {
    check_content_type(header(req, "content-type").as_deref())?;
    read_raw_body(req).await
}

/// Site exists, origin allowed (a request without `Origin` is not a browser's cross-origin one).
fn authorize<'a>(l: &'a Loaded, site: &str, cors: &Cors<'_>) -> Result<&'a Site, EdgeError> {
    let s = l
        .config
        .site(site)
        .ok_or_else(|| EdgeError::UnknownSite(site.chars().take(64).collect()))?;
    match cors.origin {
        Some(o) if !s.allows_origin(o) => {
            Err(EdgeError::OriginNotAllowed(o.chars().take(200).collect()))
        }
        _ => Ok(s),
    }
}

/// Token bucket per site + keyed hash of the client address (the raw address is never kept).
fn rate_limit(l: &Loaded, site: &Site, req: &Request, now: f64) -> Result<(), EdgeError> {
    let addr = header(req, "cf-connecting-ip").unwrap_or_default();
    let now_ms = now as u64;
    let key = ratelimit::key(&site.id, &client_hash(&l.client_hash_key, now_ms, &addr));
    let limit = site.rate_limit;
    BUCKETS.with(|b| {
        let mut b = b.borrow_mut();
        if b.len() > MAX_BUCKETS {
            b.retain(|_, v| !v.is_idle(&limit, now_ms));
        }
        let (nb, verdict) = ratelimit::take(b.get(&key).copied(), now_ms, &limit);
        b.insert(key, nb);
        verdict
    })
}

fn now_iso(now_ms: u64) -> String {
    nps_edge_core::time::rfc3339_ms(now_ms)
}

async fn post_response(req: &Request, env: &Env, cors: &Cors<'_>) -> Result<String, EdgeError> {
    let l = loaded(env)?;
    let body = read_body(req).await?;
    let r = parse_response(&body)?;
    let site = authorize(&l, &r.site, cors)?;
    let now = js_sys::Date::now();
    rate_limit(&l, site, req, now)?;
    let seg =
        Segment::of(r.score).ok_or_else(|| EdgeError::Unavailable("score out of range".into()))?;

    let status = dedup(env, &l, site, &r, "check").await?;
    match status {
        Status::Duplicate => inc(Metric::Duplicate),
        Status::Accepted | Status::Updated => {
            if let Err(e) = store_and_forward(env, &l, &r, seg).await {
                // Nothing was promised: forget the mark so the client's retry is accepted again.
                let _ = dedup(env, &l, site, &r, "undo").await;
                return Err(e);
            }
            inc(if status == Status::Accepted {
                Metric::Accepted
            } else {
                Metric::Updated
            });
        }
    }
    let mut out = String::with_capacity(128);
    ObjectWriter::new(&mut out)
        .str("id", &r.id)
        .num("rev", r.rev.into())
        .str("segment", seg.as_str())
        .str("status", status.as_str())
        .end();
    Ok(out)
}

/// Asks the site's Durable Object; strongly consistent.
async fn dedup(
    env: &Env,
    l: &Loaded,
    site: &Site,
    r: &NpsResponse,
    op: &str,
) -> Result<Status, EdgeError> {
    let unavailable = |e: worker::Error| EdgeError::Unavailable(format!("dedup: {e}"));
    let ns = env
        .durable_object(&l.config.dedup.binding)
        .map_err(unavailable)?;
    let name = match l.config.dedup.shard {
        Shard::Site => site.id.clone(),
        Shard::SiteSurvey => format!("{}/{}", site.id, r.survey),
    };
    let stub = ns.get_by_name(&name).map_err(unavailable)?;
    let body = format!(
        "{op}\n{}\n{}\n{}\n{}\n{}\n{}",
        r.id,
        r.rev,
        r.survey,
        r.respondent(),
        site.id_window_ms() as f64,
        site.respondent_window_ms() as f64
    );
    let rpc: DedupRpc = stub.into_rpc();
    let dedup_err = |e: wasm_bindgen::JsValue| EdgeError::Unavailable(format!("dedup: {e:?}"));
    let promise = rpc.check(&body).map_err(dedup_err)?;
    let word = JsFuture::from(promise)
        .await
        .map_err(dedup_err)?
        .as_string()
        .unwrap_or_default();
    if op == "undo" {
        return Ok(Status::Duplicate);
    }
    Status::parse(&word).ok_or_else(|| EdgeError::Unavailable(format!("dedup answered {word:?}")))
}

/// D1 first, then the delivery queue(s); both durable before the 202.
async fn store_and_forward(
    env: &Env,
    l: &Loaded,
    r: &NpsResponse,
    seg: Segment,
) -> Result<(), EdgeError> {
    if l.config.sinks.is_empty() {
        return Ok(());
    }
    let now_ms = js_sys::Date::now() as u64;
    let received = now_iso(now_ms);
    for sink in &l.config.sinks {
        let res = match sink {
            // After every store write (second pass below): the job reads the stored rev.
            Sink::Alert(_) => continue,
            Sink::D1 { binding } => match env.d1(binding) {
                Ok(db) => sinks::d1::store_response(&db, r, seg, &received).await,
                Err(e) => Err(e),
            },
            Sink::Webhook {
                name, queue, route, ..
            } => {
                if !route.matches(&r.survey, seg) {
                    continue;
                }
                match env.queue(queue) {
                    Ok(q) => sinks::webhook::enqueue(&q, name, r, now_ms)
                        .await
                        .map(|_| inc(Metric::QueueSent)),
                    Err(e) => Err(e),
                }
            }
        };
        res.map_err(|e| EdgeError::Unavailable(format!("sink: {e}")))?;
    }
    for sink in &l.config.sinks {
        if let Sink::Alert(a) = sink {
            sinks::alert::plan_and_enqueue(env, l, a, r).await?;
        }
    }
    Ok(())
}

async fn post_event(req: &Request, env: &Env, cors: &Cors<'_>) -> Result<String, EdgeError> {
    let l = loaded(env)?;
    let body = read_body(req).await?;
    let e = parse_event(&body)?;
    let site = authorize(&l, &e.site, cors)?;
    rate_limit(&l, site, req, js_sys::Date::now())?;
    crate::routes::check_shown(env, &l, &e).await?;
    let received = now_iso(js_sys::Date::now() as u64);
    for sink in &l.config.sinks {
        if let Sink::D1 { binding } = sink {
            let db = env
                .d1(binding)
                .map_err(|e| EdgeError::Unavailable(format!("sink: {e}")))?;
            sinks::d1::store_event(&db, &e, &received)
                .await
                .map_err(|e| EdgeError::Unavailable(format!("sink: {e}")))?;
        }
    }
    inc(Metric::Event);
    let mut out = String::with_capacity(64);
    ObjectWriter::new(&mut out)
        .str("id", &e.id)
        .str("status", "accepted")
        .end();
    Ok(out)
}

/// Preflight: allowed when any site lists the origin (the site is only known from the body).
pub(crate) fn preflight(req: &Request, env: &Env) -> Response {
    let origin = header(req, "origin");
    let none = Cors { origin: None };
    let l = match loaded(env) {
        Ok(l) => l,
        Err(e) => return problem(&e, &none),
    };
    let Some(o) = origin.as_deref().filter(|o| l.config.any_site_allows(o)) else {
        return problem(
            &EdgeError::OriginNotAllowed(origin.unwrap_or_default()),
            &none,
        );
    };
    let h = new_headers();
    set(&h, "access-control-allow-origin", o);
    set(&h, "access-control-allow-methods", cors::ALLOW_METHODS);
    set(&h, "access-control-allow-headers", cors::ALLOW_HEADERS);
    set(
        &h,
        "access-control-max-age",
        &cors::MAX_AGE_SECS.to_string(),
    );
    set(&h, "vary", "Origin");
    respond(204, h, None)
}

pub(crate) fn new_headers() -> Headers {
    // `new Headers()` cannot throw.
    Headers::new().unwrap_or_else(|_| unreachable_headers())
}

#[cold]
fn unreachable_headers() -> Headers {
    wasm_bindgen::JsCast::unchecked_into(js_sys::Object::new())
}

pub(crate) fn set(h: &Headers, k: &str, v: &str) {
    let _ = h.set(k, v);
}

pub(crate) fn respond(status: u16, headers: Headers, body: Option<&str>) -> Response {
    let init = ResponseInit::new();
    init.set_status(status);
    init.set_headers(&headers);
    Response::new_with_opt_str_and_init(body, &init)
        .unwrap_or_else(|_| wasm_bindgen::JsCast::unchecked_into(js_sys::Object::new()))
}

pub(crate) fn base_headers(content_type: &str, cors: &Cors<'_>) -> Headers {
    let h = new_headers();
    set(&h, "content-type", content_type);
    set(&h, "cache-control", "no-store");
    if let Some(o) = cors.origin {
        set(&h, "access-control-allow-origin", o);
        set(&h, "vary", "Origin");
        if content_type == PROBLEM_CONTENT_TYPE {
            // So the page can read Retry-After of a 429/503.
            set(&h, "access-control-expose-headers", cors::EXPOSE_HEADERS);
        }
    }
    h
}

pub(crate) fn text(status: u16, content_type: &str, body: &str) -> Response {
    respond(
        status,
        base_headers(content_type, &Cors { origin: None }),
        Some(body),
    )
}

pub(crate) fn json(status: u16, body: &str, cors: &Cors<'_>) -> Response {
    respond(status, base_headers("application/json", cors), Some(body))
}

/// The one place an `EdgeError` becomes an HTTP answer. CORS headers are sent for refused
/// cross-origin requests too (so the page can read the problem), except when the origin itself
/// or the site is what was refused.
pub(crate) fn problem(e: &EdgeError, cors: &Cors<'_>) -> Response {
    metrics::rejected(e.reason());
    let cors = match e {
        EdgeError::OriginNotAllowed(_) | EdgeError::UnknownSite(_) => Cors { origin: None },
        _ => Cors {
            origin: cors.origin,
        },
    };
    let h = base_headers(PROBLEM_CONTENT_TYPE, &cors);
    if let Some(s) = e.retry_after_secs() {
        set(&h, "retry-after", &s.to_string());
    }
    respond(e.status(), h, Some(&e.to_problem_json()))
}

#[cfg(test)]
mod tests {
    use super::path_of;

    #[test]
    fn paths() {
        assert_eq!(path_of("http://h:1/v1/responses?x=1"), "/v1/responses");
        assert_eq!(path_of("https://h"), "/");
        assert_eq!(path_of("https://h/healthz#a"), "/healthz");
    }
}
