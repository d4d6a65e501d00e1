//! Suppressions API and the eligibility check the widget loader calls before showing a survey.
//!
//! - `PUT /v1/sites/{site}/suppressions/{subject}` (admin token): body empty or
//!   `{"expires_at": RFC 3339 | "ttl_seconds": n, "reason": "…"}` → 200 with the record.
//! - `DELETE /v1/sites/{site}/suppressions/{subject}` (admin) → 204, or 404 if there was none.
//! - `GET /v1/sites/{site}/suppressions[/{subject}]` (admin) → the record(s).
//! - `GET /v1/sites/{site}/eligibility?survey=&user=&account=` (public, CORS for the site's
//!   origins) → `{"show":true|false}`, `Cache-Control: private, max-age=60`.
//! - [`check_shown`]: the ingest path refuses a `shown` event from a suppressed user (403).

use axum::body::{to_bytes, Body};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use nps_edge_core::report_api::EligibilityQuery;
use nps_edge_core::suppression::{self, Suppression};
use nps_edge_core::{cors, EdgeError};
use nps_protocol::limits::MAX_BODY_BYTES;
use nps_protocol::{Event, EventType};
use rusqlite::{params, Connection, OptionalExtension};

use crate::api_util::{auth_problem, authorization, json, no_store, problem, with_conn};
use crate::{now_ms, AppState};

/// Routes of this module (merged into [`crate::app`]).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/sites/{site}/suppressions/{subject}",
            get(get_one)
                .put(put_one)
                .delete(delete_one)
                .fallback(method_not_allowed),
        )
        .route(
            "/v1/sites/{site}/suppressions",
            get(list).fallback(method_not_allowed),
        )
        .route(
            "/v1/sites/{site}/eligibility",
            get(eligibility)
                .options(preflight)
                .fallback(method_not_allowed),
        )
}

async fn method_not_allowed() -> Response {
    problem(&EdgeError::MethodNotAllowed)
}

fn known_site(st: &AppState, site: &str) -> Result<(), EdgeError> {
    st.config()
        .site(site)
        .map(|_| ())
        .ok_or(EdgeError::NotFound)
}

fn load(conn: &Connection, site: &str, subject: &str) -> rusqlite::Result<Option<Suppression>> {
    conn.prepare_cached("SELECT subject, expires_ms, reason, created_ms FROM suppressions WHERE site = ?1 AND subject = ?2")?
        .query_row(params![site, subject], row_to_suppression)
        .optional()
}

fn row_to_suppression(row: &rusqlite::Row<'_>) -> rusqlite::Result<Suppression> {
    Ok(Suppression {
        subject: row.get(0)?,
        expires_ms: row.get::<_, Option<i64>>(1)?.map(|v| v.max(0) as u64),
        reason: row.get(2)?,
        created_ms: row.get::<_, i64>(3)?.max(0) as u64,
    })
}

/// Active suppressions among the visitor's subjects (user id, account id).
fn active_for(
    conn: &Connection,
    site: &str,
    user: Option<&str>,
    account: Option<&str>,
    now: u64,
) -> rusqlite::Result<bool> {
    let mut recs = Vec::new();
    for s in suppression::subjects(user, account) {
        if let Some(r) = load(conn, site, s)? {
            recs.push(r);
        }
    }
    Ok(suppression::is_suppressed(&recs, user, account, now))
}

async fn put_one(
    State(st): State<AppState>,
    Path((site, subject)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Err(e) = st.config().tokens.check_admin(authorization(&headers)) {
        return auth_problem(e);
    }
    let res = async {
        known_site(&st, &site)?;
        let bytes = to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| EdgeError::TooLarge)?;
        let now = now_ms();
        let s = suppression::parse_put(&subject, &bytes, now)?;
        let record = s.clone();
        let site2 = site.clone();
        with_conn(st.store().path(), move |c| {
            c.prepare_cached(
                "INSERT INTO suppressions (site, subject, expires_ms, reason, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (site, subject) DO UPDATE SET expires_ms = excluded.expires_ms,
                   reason = excluded.reason, created_ms = excluded.created_ms",
            )?
            .execute(params![site2, record.subject, record.expires_ms.map(|v| v as i64), record.reason, record.created_ms as i64])
        })
        .await?;
        log("suppression set", &site, &subject);
        Ok::<_, EdgeError>(s.to_json(&site, now))
    }
    .await;
    match res {
        Ok(body) => no_store(json(StatusCode::OK, body)),
        Err(e) => problem(&e),
    }
}

async fn delete_one(
    State(st): State<AppState>,
    Path((site, subject)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = st.config().tokens.check_admin(authorization(&headers)) {
        return auth_problem(e);
    }
    let res = async {
        known_site(&st, &site)?;
        suppression::check_subject(&subject)?;
        let (site2, subject2) = (site.clone(), subject.clone());
        let n = with_conn(st.store().path(), move |c| {
            c.execute(
                "DELETE FROM suppressions WHERE site = ?1 AND subject = ?2",
                params![site2, subject2],
            )
        })
        .await?;
        if n == 0 {
            return Err(EdgeError::NotFound);
        }
        log("suppression deleted", &site, &subject);
        Ok(())
    }
    .await;
    match res {
        Ok(()) => no_store(StatusCode::NO_CONTENT.into_response()),
        Err(e) => problem(&e),
    }
}

async fn get_one(
    State(st): State<AppState>,
    Path((site, subject)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = st.config().tokens.check_admin(authorization(&headers)) {
        return auth_problem(e);
    }
    let res = async {
        known_site(&st, &site)?;
        suppression::check_subject(&subject)?;
        let (site2, subject2) = (site.clone(), subject.clone());
        let rec = with_conn(st.store().path(), move |c| load(c, &site2, &subject2)).await?;
        rec.map(|r| r.to_json(&site, now_ms()))
            .ok_or(EdgeError::NotFound)
    }
    .await;
    match res {
        Ok(body) => no_store(json(StatusCode::OK, body)),
        Err(e) => problem(&e),
    }
}

async fn list(
    State(st): State<AppState>,
    Path(site): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = st.config().tokens.check_admin(authorization(&headers)) {
        return auth_problem(e);
    }
    let res = async {
        known_site(&st, &site)?;
        let site2 = site.clone();
        let recs = with_conn(st.store().path(), move |c| {
            let mut q = c.prepare_cached(
                "SELECT subject, expires_ms, reason, created_ms FROM suppressions WHERE site = ?1 ORDER BY subject LIMIT 10000",
            )?;
            let rows = q.query_map(params![site2], row_to_suppression)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })
        .await?;
        let now = now_ms();
        let items: Vec<String> = recs.iter().map(|r| r.to_json(&site, now)).collect();
        Ok::<_, EdgeError>(format!("{{\"items\":[{}]}}", items.join(",")))
    }
    .await;
    match res {
        Ok(body) => no_store(json(StatusCode::OK, body)),
        Err(e) => problem(&e),
    }
}

fn origin(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::ORIGIN).and_then(|v| v.to_str().ok())
}

async fn preflight(State(st): State<AppState>, headers: HeaderMap) -> Response {
    match cors::preflight(st.config(), origin(&headers)) {
        Ok(h) => {
            let mut resp = StatusCode::NO_CONTENT.into_response();
            for (k, v) in h {
                if let Ok(v) = HeaderValue::from_str(&v) {
                    resp.headers_mut().insert(k, v);
                }
            }
            resp
        }
        Err(e) => problem(&e),
    }
}

/// `{"show":false}` when the user or the account has an active suppression, or when this user
/// already answered this survey within the site's respondent window (the edge would answer a
/// second response `duplicate` anyway); else `{"show":true}`.
async fn eligibility(
    State(st): State<AppState>,
    Path(site): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let origin = origin(&headers).map(str::to_string);
    let res = async {
        let site_cfg = st
            .config()
            .site(&site)
            .ok_or_else(|| EdgeError::UnknownSite(site.chars().take(64).collect()))?;
        if let Some(o) = origin.as_deref() {
            if !site_cfg.allows_origin(o) {
                return Err(EdgeError::OriginNotAllowed(o.chars().take(200).collect()));
            }
        }
        let q = EligibilityQuery::parse(query.as_deref().unwrap_or(""))?;
        if q.user.is_none() && q.account.is_none() {
            return Ok(true);
        }
        let window = site_cfg.respondent_window_ms();
        let site2 = site.clone();
        with_conn(st.store().path(), move |c| {
            let now = now_ms();
            if active_for(c, &site2, q.user.as_deref(), q.account.as_deref(), now)? {
                return Ok(false);
            }
            if let (Some(survey), Some(user), true) = (q.survey.as_deref(), q.user.as_deref(), window > 0) {
                let answered: Option<i64> = c
                    .prepare_cached("SELECT at_ms FROM respondents WHERE site = ?1 AND survey = ?2 AND respondent = ?3")
                    .and_then(|mut s| s.query_row(params![site2, survey, user], |r| r.get(0)).optional())
                    .unwrap_or(None);
                if answered.is_some_and(|at| now.saturating_sub(at.max(0) as u64) < window) {
                    return Ok(false);
                }
            }
            Ok(true)
        })
        .await
    }
    .await;
    let mut resp = match res {
        Ok(show) => {
            let mut r = json(
                StatusCode::OK,
                suppression::eligibility_json(show).to_string(),
            );
            r.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=60"),
            );
            r
        }
        Err(e) => problem(&e),
    };
    for (k, v) in cors::response_headers(st.config(), origin.as_deref()) {
        if let Ok(v) = HeaderValue::from_str(&v) {
            resp.headers_mut().insert(k, v);
        }
    }
    resp
}

/// Refuses a `shown` event from a suppressed user or account ([`EdgeError::Suppressed`], 403).
/// Other events, and events without a user, pass. A store error lets the event through
/// (counting an impression is better than losing it).
pub(crate) async fn check_shown(st: &AppState, e: &Event) -> Result<(), EdgeError> {
    let Some(u) = e.user.as_ref().filter(|_| e.kind == EventType::Shown) else {
        return Ok(());
    };
    if u.id.is_none() && u.account.is_none() {
        return Ok(());
    }
    let (site, user, account) = (e.site.clone(), u.id.clone(), u.account.clone());
    let suppressed = with_conn(st.store().path(), move |c| {
        active_for(c, &site, user.as_deref(), account.as_deref(), now_ms())
    })
    .await
    .unwrap_or(false);
    if suppressed {
        Err(EdgeError::Suppressed)
    } else {
        Ok(())
    }
}

fn log(msg: &str, site: &str, subject: &str) {
    eprintln!("{{\"level\":\"info\",\"msg\":\"{msg}\",\"site\":{site:?},\"subject\":{subject:?}}}");
}
