//! Helpers of the close-the-loop API (suppressions, eligibility, report, alerts): the extra
//! tables, a small pool of read/write connections, and response builders that keep the
//! problem+json shape of the rest of the edge.
//!
//! These tables are NOT written by the store writer thread: suppressions and alert states are
//! rare writes, done on their own WAL connections (SQLite serialises writers; `busy_timeout`
//! absorbs the wait). The ingest hot path only ever reads `suppressions` (for `shown` events).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use nps_edge_core::auth::AuthError;
use nps_edge_core::EdgeError;
use rusqlite::Connection;

/// Tables owned by the close-the-loop features (created on first use, idempotent).
pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS suppressions (
  site TEXT NOT NULL, subject TEXT NOT NULL, expires_ms INTEGER, reason TEXT,
  created_ms INTEGER NOT NULL,
  PRIMARY KEY (site, subject)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alerts (
  sink TEXT NOT NULL, site TEXT NOT NULL, response_id TEXT NOT NULL,
  state INTEGER NOT NULL DEFAULT 0, due_ms INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
  sent_ms INTEGER, sent_rev INTEGER, last_error TEXT, created_ms INTEGER NOT NULL,
  PRIMARY KEY (sink, site, response_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS alerts_due ON alerts(sink, state, due_ms);
";

/// Opens a connection to the store file with the extra tables in place.
pub(crate) fn open(path: &str) -> rusqlite::Result<Connection> {
    let conn = crate::store::open_conn(path)?;
    conn.execute_batch(SCHEMA)?;
    Ok(conn)
}

/// Idle connections per database path (keyed by path so several edges in one process, as in
/// tests, never share a connection to the wrong file).
fn pool() -> &'static Mutex<HashMap<String, Vec<Connection>>> {
    static POOL: OnceLock<Mutex<HashMap<String, Vec<Connection>>>> = OnceLock::new();
    POOL.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Most idle connections kept per path.
const POOL_MAX: usize = 8;

/// Runs `f` with a pooled connection on the blocking pool. Errors become 503 problems.
pub(crate) async fn with_conn<T, F>(path: &str, f: F) -> Result<T, EdgeError>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
{
    let path = path.to_string();
    let joined = tokio::task::spawn_blocking(move || {
        let taken = {
            let mut p = pool().lock().unwrap_or_else(|e| e.into_inner());
            p.get_mut(&path).and_then(Vec::pop)
        };
        let conn = match taken {
            Some(c) => c,
            None => open(&path)?,
        };
        let out = f(&conn);
        let mut p = pool().lock().unwrap_or_else(|e| e.into_inner());
        let idle = p.entry(path).or_default();
        if idle.len() < POOL_MAX {
            idle.push(conn);
        }
        out
    })
    .await;
    match joined {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => {
            eprintln!("{{\"level\":\"error\",\"msg\":\"report/suppression query failed\",\"error\":{:?}}}", e.to_string());
            Err(EdgeError::Unavailable("store query failed".into()))
        }
        Err(_) => Err(EdgeError::Unavailable("store query failed".into())),
    }
}

/// A problem+json response for an [`EdgeError`] (same shape as the ingest API).
pub(crate) fn problem(e: &EdgeError) -> Response {
    no_store(crate::http::problem(e))
}

/// 401/403 problem+json (with `WWW-Authenticate` on 401).
pub(crate) fn auth_problem(e: AuthError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNAUTHORIZED);
    let mut resp = (status, e.to_problem_json()).into_response();
    for (k, v) in e.headers() {
        resp.headers_mut().insert(k, HeaderValue::from_static(v));
    }
    no_store(resp)
}

/// A JSON response.
pub(crate) fn json(status: StatusCode, body: String) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// `Cache-Control: no-store` (authenticated answers must not be cached by anyone).
pub(crate) fn no_store(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// The `Authorization` header as text.
pub(crate) fn authorization(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
}
