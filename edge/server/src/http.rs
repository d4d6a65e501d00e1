//! The HTTP surface. Handlers take the raw request and run the core's checks in order, so every
//! refusal goes through `nps_edge_core::EdgeError` and [`problem`] (no extractor rejections with
//! another body shape).

use std::net::SocketAddr;

use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use nps_edge_core::dedup::{DuplicateKind, Status};
use nps_edge_core::error::PROBLEM_CONTENT_TYPE;
use nps_edge_core::{cors, ingest, iphash, payload, ratelimit, routing, EdgeError};
use nps_protocol::limits::MAX_BODY_BYTES;

use crate::store::{NewResponse, StoreError};
use crate::{now_ms, AppState};

/// Buckets kept before idle ones are swept.
const LIMITER_SWEEP_AT: usize = 100_000;

/// The whole HTTP surface.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route(
            "/v1/responses",
            post(post_response)
                .options(preflight)
                .fallback(method_not_allowed),
        )
        .route(
            "/v1/events",
            post(post_event)
                .options(preflight)
                .fallback(method_not_allowed),
        )
        .route("/healthz", get(healthz).fallback(method_not_allowed))
        .route("/metrics", get(metrics).fallback(method_not_allowed))
        .merge(crate::report::routes())
        .merge(crate::suppressions::routes())
        .fallback(fallback)
        .with_state(state)
}

/// The one place an [`EdgeError`] becomes a response.
pub(crate) fn problem(e: &EdgeError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut resp = (status, e.to_problem_json()).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
    );
    if let Some(s) = e.retry_after_secs() {
        h.insert(header::RETRY_AFTER, HeaderValue::from(s));
    }
    resp
}

fn json(status: StatusCode, body: String) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn origin(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::ORIGIN).and_then(|v| v.to_str().ok())
}

fn with_headers(mut resp: Response, extra: Vec<(&'static str, String)>) -> Response {
    for (k, v) in extra {
        if let Ok(v) = HeaderValue::from_str(&v) {
            resp.headers_mut().insert(k, v);
        }
    }
    resp
}

async fn preflight(State(st): State<AppState>, headers: HeaderMap) -> Response {
    match cors::preflight(st.config(), origin(&headers)) {
        Ok(h) => with_headers(StatusCode::NO_CONTENT.into_response(), h),
        Err(e) => {
            st.inner.metrics.reject(&e);
            problem(&e)
        }
    }
}

async fn method_not_allowed(State(st): State<AppState>) -> Response {
    let e = EdgeError::MethodNotAllowed;
    st.inner.metrics.reject(&e);
    problem(&e)
}

async fn healthz() -> Response {
    json(StatusCode::OK, "{\"status\":\"ok\"}".into())
}

async fn metrics(State(st): State<AppState>) -> Response {
    let (outbox, disabled) = {
        let mut guard = match st.inner.reader.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if guard.is_none() {
            *guard = st.store().reader().ok();
        }
        match guard.as_ref() {
            Some(c) => (
                crate::store::outbox_counts(c).unwrap_or_default(),
                crate::store::disabled_sinks(c).unwrap_or_default(),
            ),
            None => (Vec::new(), Vec::new()),
        }
    };
    let body = st.inner.metrics.render(&outbox, &disabled);
    let mut resp = body.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    resp
}

/// Reads the body with the size limit, after the cheap header checks.
async fn read_body(headers: &HeaderMap, body: Body) -> Result<axum::body::Bytes, EdgeError> {
    ingest::check_content_type(
        headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
    )?;
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
    {
        ingest::check_body_len(len)?;
    }
    to_bytes(body, MAX_BODY_BYTES).await.map_err(|e| {
        // The only error the limit produces is "length limit exceeded"; anything else is a
        // broken upload, still the client's doing.
        let msg = std::error::Error::source(&e)
            .map(|s| s.to_string())
            .unwrap_or_else(|| e.to_string());
        if msg.contains("length limit") {
            EdgeError::TooLarge
        } else {
            EdgeError::BadJson(format!("could not read body: {msg}"))
        }
    })
}

/// Client address: the peer, or the first `X-Forwarded-For` entry when configured. Only ever
/// used as input to the keyed hash.
fn client_hash(st: &AppState, parts: &axum::http::request::Parts, now: u64) -> String {
    let forwarded = st
        .config()
        .trust_forwarded_for
        .then(|| parts.headers.get("x-forwarded-for"))
        .flatten()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|s| s.trim().to_string());
    let ip = forwarded
        .or_else(|| {
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string())
        })
        .unwrap_or_default();
    let day = nps_edge_core::time::day_of(now);
    let salt = {
        let mut cached = match st.inner.ip_salt.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if cached.0 != day {
            *cached = (day, iphash::daily_salt(&st.inner.ip_key, day));
        }
        cached.1
    };
    iphash::hash_ip(&salt, &ip)
}

fn rate_limit(
    st: &AppState,
    site: &nps_edge_core::config::Site,
    client: &str,
    now: u64,
) -> Result<(), EdgeError> {
    let mut map = match st.inner.limiter.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    if map.len() >= LIMITER_SWEEP_AT {
        // Full buckets carry no information: forgetting them keeps memory bounded.
        map.retain(|_, b| !b.is_idle(&site.rate_limit, now));
    }
    let key = ratelimit::key(&site.id, client);
    let (bucket, res) = ratelimit::take(map.get(&key).copied(), now, &site.rate_limit);
    map.insert(key, bucket);
    res
}

fn store_error(e: StoreError) -> EdgeError {
    match e {
        StoreError::Busy => EdgeError::Unavailable("store queue is full".into()),
        StoreError::Failed(m) => {
            eprintln!("{{\"level\":\"error\",\"msg\":\"store write failed\",\"error\":{m:?}}}");
            EdgeError::Unavailable("store write failed".into())
        }
    }
}

async fn post_response(State(st): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let cors_h = cors::response_headers(st.config(), origin(&parts.headers));
    let resp = match handle_response(&st, &parts, body).await {
        Ok(body) => json(StatusCode::ACCEPTED, body),
        Err(e) => {
            st.inner.metrics.reject(&e);
            problem(&e)
        }
    };
    with_headers(resp, cors_h)
}

async fn handle_response(
    st: &AppState,
    parts: &axum::http::request::Parts,
    body: Body,
) -> Result<String, EdgeError> {
    let bytes = read_body(&parts.headers, body).await?;
    let r = ingest::parse_response(&bytes)?;
    let site = ingest::authorize(st.config(), &r.site, origin(&parts.headers))?;
    let now = now_ms();
    rate_limit(st, site, &client_hash(st, parts, now), now)?;
    let sinks: Vec<String> = routing::sinks_for(st.config(), &r)
        .map(|s| s.name().to_string())
        .filter(|n| st.inner.delivery_sinks.contains(n))
        .collect();
    // Built here, on the request's task, so the single writer thread only does SQL.
    let deliveries = (!sinks.is_empty()).then(|| (payload::response_payload(&r, now), sinks));
    let wire = nps_protocol::json::response_to_json(&r);
    let new = NewResponse {
        body: wire,
        deliveries,
        id_window_ms: site.id_window_ms(),
        respondent_window_ms: site.respondent_window_ms(),
        now_ms: now,
        response: r,
    };
    let r_id = new.response.id.clone();
    let r_rev = new.response.rev;
    let seg = new.response.segment();
    let d = st.store().put_response(new).await.map_err(store_error)?;
    let m = &st.inner.metrics;
    let counter = match (d.status, d.duplicate) {
        (Status::Accepted, _) => &m.accepted,
        (Status::Updated, _) => &m.updated,
        (Status::Duplicate, Some(DuplicateKind::Respondent)) => &m.duplicate_respondent,
        (Status::Duplicate, _) => &m.duplicate_id,
    };
    counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Ok(ingest::accepted_json_parts(&r_id, r_rev, seg, d.status))
}

async fn post_event(State(st): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let cors_h = cors::response_headers(st.config(), origin(&parts.headers));
    let resp = match handle_event(&st, &parts, body).await {
        Ok(body) => json(StatusCode::ACCEPTED, body),
        Err(e) => {
            st.inner.metrics.reject(&e);
            problem(&e)
        }
    };
    with_headers(resp, cors_h)
}

async fn handle_event(
    st: &AppState,
    parts: &axum::http::request::Parts,
    body: Body,
) -> Result<String, EdgeError> {
    let bytes = read_body(&parts.headers, body).await?;
    let e = ingest::parse_event(&bytes)?;
    let site = ingest::authorize(st.config(), &e.site, origin(&parts.headers))?;
    let now = now_ms();
    rate_limit(st, site, &client_hash(st, parts, now), now)?;
    crate::suppressions::check_shown(st, &e).await?;
    let dup = st
        .store()
        .put_event(e.clone(), now)
        .await
        .map_err(store_error)?;
    let m = &st.inner.metrics;
    if dup {
        &m.events_duplicate
    } else {
        &m.events_accepted
    }
    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Ok(ingest::event_accepted_json(&e, dup))
}

/// Unknown paths: static assets when configured (GET/HEAD), else a 404 problem.
async fn fallback(State(st): State<AppState>, req: Request) -> Response {
    let not_found = |st: &AppState| {
        let e = EdgeError::NotFound;
        st.inner.metrics.reject(&e);
        problem(&e)
    };
    let Some(root) = st.inner.assets.as_ref() else {
        return not_found(&st);
    };
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return not_found(&st);
    }
    let Some(path) = crate::assets::resolve(root, req.uri().path()) else {
        return not_found(&st);
    };
    match tokio::fs::read(&path).await {
        Ok(bytes) => {
            let mut resp = if req.method() == Method::HEAD {
                let len = bytes.len();
                let mut r = Response::new(Body::empty());
                r.headers_mut()
                    .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
                r
            } else {
                Response::new(Body::from(bytes))
            };
            let h = resp.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(crate::assets::content_type(&path)),
            );
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static(crate::assets::cache_control(&path)),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
            h.insert(
                "x-content-type-options",
                HeaderValue::from_static("nosniff"),
            );
            resp
        }
        Err(_) => not_found(&st),
    }
}
