//! The report API (read token) and the report page, computed from the embedded store (one row
//! per response id = its latest rev; `received_ms` = when its first rev arrived).
//!
//! - `GET /v1/sites` → `{"sites":[{"id","surveys":[…]}]}`
//! - `GET /v1/sites/{site}/summary?survey=&from=&to=&interval=day|week`
//! - `GET /v1/sites/{site}/responses?segment=&survey=&from=&to=&cursor=&limit=&format=json|csv`
//!   (or `Accept: text/csv`): newest first; JSON pages by cursor, CSV = every matching row.
//! - `GET /v1/sites/{site}/responses/{id}` → one response.
//! - `GET /report`, `/report/report.js`, `/report/report.css`: the static page (strict CSP).

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use nps_edge_core::report::{self, Row};
use nps_edge_core::report_api::{self, Format, ResponsesQuery, SummaryQuery, DAY_MS};
use nps_edge_core::{csv, EdgeError};
use nps_protocol::Response as NpsResponse;
use rusqlite::{params, Connection, OptionalExtension};

use crate::api_util::{auth_problem, authorization, json, no_store, problem, with_conn};
use crate::{now_ms, AppState};

const PAGE_HTML: &str = include_str!("report_page/index.html");
const PAGE_JS: &str = include_str!("report_page/report.js");
const PAGE_CSS: &str = include_str!("report_page/report.css");

/// Content-Security-Policy of the report page: no inline script or style, same-origin fetches.
pub(crate) const REPORT_CSP: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Routes of this module (merged into [`crate::app`]).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/sites", get(sites).fallback(method_not_allowed))
        .route(
            "/v1/sites/{site}/summary",
            get(summary).fallback(method_not_allowed),
        )
        .route(
            "/v1/sites/{site}/responses",
            get(responses).fallback(method_not_allowed),
        )
        .route(
            "/v1/sites/{site}/responses/{id}",
            get(one_response).fallback(method_not_allowed),
        )
        .route("/report", get(page_html).fallback(method_not_allowed))
        .route("/report/", get(page_html).fallback(method_not_allowed))
        .route(
            "/report/report.js",
            get(page_js).fallback(method_not_allowed),
        )
        .route(
            "/report/report.css",
            get(page_css).fallback(method_not_allowed),
        )
}

async fn method_not_allowed() -> Response {
    problem(&EdgeError::MethodNotAllowed)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(REPORT_CSP),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    r
}

async fn page_html() -> Response {
    asset("text/html; charset=utf-8", PAGE_HTML)
}
async fn page_js() -> Response {
    asset("text/javascript; charset=utf-8", PAGE_JS)
}
async fn page_css() -> Response {
    asset("text/css; charset=utf-8", PAGE_CSS)
}

/// Read-token check + known site: `Some(refusal)` when the request must be refused.
fn refuse(st: &AppState, headers: &HeaderMap, site: Option<&str>) -> Option<Response> {
    if let Err(e) = st.config().tokens.check_read(authorization(headers)) {
        return Some(auth_problem(e));
    }
    match site {
        Some(s) if st.config().site(s).is_none() => Some(problem(&EdgeError::NotFound)),
        _ => None,
    }
}

async fn sites(State(st): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(r) = refuse(&st, &headers, None) {
        return r;
    }
    let ids: Vec<String> = st.config().sites.iter().map(|s| s.id.clone()).collect();
    let res = with_conn(st.store().path(), move |c| {
        let mut out = Vec::new();
        for id in ids {
            let surveys: Vec<String> = c
                .prepare_cached("SELECT DISTINCT survey FROM responses WHERE site = ?1 ORDER BY survey LIMIT 200")
                .and_then(|mut q| q.query_map(params![id], |r| r.get(0))?.collect())
                .or_else(no_table(Vec::new()))?;
            out.push((id, surveys));
        }
        Ok(out)
    })
    .await;
    match res {
        Ok(list) => {
            let mut body = String::from("{\"sites\":[");
            for (i, (id, surveys)) in list.iter().enumerate() {
                if i > 0 {
                    body.push(',');
                }
                body.push_str("{\"id\":");
                nps_protocol::json::push_str(&mut body, id);
                body.push_str(",\"surveys\":[");
                for (j, s) in surveys.iter().enumerate() {
                    if j > 0 {
                        body.push(',');
                    }
                    nps_protocol::json::push_str(&mut body, s);
                }
                body.push_str("]}");
            }
            body.push_str("]}");
            no_store(json(StatusCode::OK, body))
        }
        Err(e) => problem(&e),
    }
}

/// Treats "no such table" (nothing stored yet) as an empty result.
fn no_table<T: Clone>(empty: T) -> impl Fn(rusqlite::Error) -> rusqlite::Result<T> {
    move |e| {
        if e.to_string().contains("no such table") {
            Ok(empty.clone())
        } else {
            Err(e)
        }
    }
}

async fn summary(
    State(st): State<AppState>,
    Path(site): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = refuse(&st, &headers, Some(&site)) {
        return r;
    }
    let today = (now_ms() / DAY_MS) as i64;
    let q = match SummaryQuery::parse(query.as_deref().unwrap_or(""), today) {
        Ok(q) => q,
        Err(e) => return problem(&e),
    };
    let (site2, q2) = (site.clone(), q.clone());
    let rows = with_conn(st.store().path(), move |c| summary_rows(c, &site2, &q2)).await;
    let rows = match rows {
        Ok(r) => r,
        Err(e) => return problem(&e),
    };
    match report::summarize(rows, q.from, q.to, q.interval) {
        Some(s) => no_store(json(
            StatusCode::OK,
            report_api::summary_json(&site, &q, &s),
        )),
        None => problem(&EdgeError::Invalid(vec![nps_protocol::Problem::new(
            "from",
            nps_protocol::ProblemCode::Range,
            "period too long",
        )])),
    }
}

fn summary_rows(c: &Connection, site: &str, q: &SummaryQuery) -> rusqlite::Result<Vec<Row>> {
    let (start, end) = q.range_ms();
    let (start, end) = (start as i64, end.min(i64::MAX as u64) as i64);
    let mut rows = Vec::new();
    let survey = q.survey.as_deref();
    {
        let mut st = c.prepare_cached(
            "SELECT score, received_ms FROM responses
             WHERE site = ?1 AND (?2 IS NULL OR survey = ?2) AND received_ms >= ?3 AND received_ms < ?4",
        )?;
        let it = st.query_map(params![site, survey, start, end], |r| {
            Ok(Row::Response {
                score: r.get::<_, u8>(0)?,
                at_ms: r.get(1)?,
            })
        });
        match it {
            Ok(it) => {
                for r in it {
                    rows.push(r?);
                }
            }
            Err(e) => no_table(())(e)?,
        }
    }
    let mut st = c.prepare_cached(
        "SELECT type, received_ms FROM events
         WHERE site = ?1 AND (?2 IS NULL OR survey = ?2) AND received_ms >= ?3 AND received_ms < ?4",
    )?;
    let it = st.query_map(params![site, survey, start, end], |r| {
        let kind: String = r.get(0)?;
        let at_ms: i64 = r.get(1)?;
        Ok(if kind == "shown" {
            Some(Row::Shown { at_ms })
        } else if kind == "dismissed" {
            Some(Row::Dismissed { at_ms })
        } else {
            None
        })
    })?;
    for r in it {
        if let Some(r) = r? {
            rows.push(r);
        }
    }
    Ok(rows)
}

async fn responses(
    State(st): State<AppState>,
    Path(site): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = refuse(&st, &headers, Some(&site)) {
        return r;
    }
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let q = match ResponsesQuery::parse(query.as_deref().unwrap_or(""), accept) {
        Ok(q) => q,
        Err(e) => return problem(&e),
    };
    let (site2, q2) = (site.clone(), q.clone());
    let limit = match q.format {
        Format::Json => Some(q.limit as i64 + 1),
        Format::Csv => None,
    };
    let rows = with_conn(st.store().path(), move |c| page(c, &site2, &q2, limit)).await;
    let mut rows = match rows {
        Ok(r) => r,
        Err(e) => return problem(&e),
    };
    match q.format {
        Format::Json => {
            let has_more = rows.len() > q.limit as usize;
            rows.truncate(q.limit as usize);
            no_store(json(
                StatusCode::OK,
                report_api::responses_page_json(&rows, has_more),
            ))
        }
        Format::Csv => {
            let mut body = csv::header();
            for (r, ms) in &rows {
                csv::push_response(&mut body, r, *ms);
            }
            let mut resp = no_store((StatusCode::OK, body).into_response());
            let h = resp.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(csv::CONTENT_TYPE),
            );
            let name = format!(
                "attachment; filename=\"nps-{site}-{}.csv\"",
                report::date_of_day((now_ms() / DAY_MS) as i64)
            );
            if let Ok(v) = HeaderValue::from_str(&name) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            h.insert(
                "x-content-type-options",
                HeaderValue::from_static("nosniff"),
            );
            resp
        }
    }
}

/// Newest first, strictly after the cursor; `limit = None` = everything.
fn page(
    c: &Connection,
    site: &str,
    q: &ResponsesQuery,
    limit: Option<i64>,
) -> rusqlite::Result<Vec<(NpsResponse, u64)>> {
    let (start, end) = q.range_ms();
    let (lo, hi) = q.score_range();
    let (cur_ms, cur_id) = match &q.cursor {
        Some(c) => (Some(c.received_ms as i64), Some(c.id.clone())),
        None => (None, None),
    };
    let mut st = match c.prepare_cached(
        "SELECT body, received_ms FROM responses
         WHERE site = ?1 AND (?2 IS NULL OR survey = ?2) AND score BETWEEN ?3 AND ?4
           AND received_ms >= ?5 AND received_ms < ?6
           AND (?7 IS NULL OR received_ms < ?7 OR (received_ms = ?7 AND id < ?8))
         ORDER BY received_ms DESC, id DESC LIMIT ?9",
    ) {
        Ok(st) => st,
        Err(e) => return no_table(Vec::new())(e),
    };
    let rows = st.query_map(
        params![
            site,
            q.survey,
            lo,
            hi,
            start as i64,
            end.min(i64::MAX as u64) as i64,
            cur_ms,
            cur_id,
            limit.unwrap_or(-1)
        ],
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
    )?;
    let mut out = Vec::new();
    for row in rows {
        let (body, ms) = row?;
        if let Ok(r) = nps_protocol::parse::parse_response(body.as_bytes()) {
            out.push((r, ms.max(0) as u64));
        }
    }
    Ok(out)
}

async fn one_response(
    State(st): State<AppState>,
    Path((site, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = refuse(&st, &headers, Some(&site)) {
        return r;
    }
    if !nps_protocol::limits::is_valid_id(&id) {
        return problem(&EdgeError::NotFound);
    }
    let res = with_conn(st.store().path(), move |c| {
        let row: Option<(String, i64)> = match c
            .prepare_cached("SELECT body, received_ms FROM responses WHERE site = ?1 AND id = ?2")
        {
            Ok(mut q) => q
                .query_row(params![site, id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?,
            Err(e) => no_table(None)(e)?,
        };
        Ok(row)
    })
    .await;
    match res {
        Ok(Some((body, ms))) => match nps_protocol::parse::parse_response(body.as_bytes()) {
            Ok(r) => no_store(json(
                StatusCode::OK,
                report_api::response_item_json(&r, ms.max(0) as u64),
            )),
            Err(_) => problem(&EdgeError::NotFound),
        },
        Ok(None) => problem(&EdgeError::NotFound),
        Err(e) => problem(&e),
    }
}
