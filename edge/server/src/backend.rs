//! The application's backend on SQLite: answers and events go through the store's writer thread
//! (one transaction decides dedup, stores and fills the outbox, group-committed); suppressions
//! and reads run on a small pool of WAL connections on tokio's blocking pool.

use std::sync::{Arc, Mutex};

use nps_edge_app::backend::{
    Backend, BackendError, Erasure, NewEvent, NewResponse, Purged, Rows, SinkGauge, SqlValue,
    VisitorQuery, VisitorRecords,
};
use nps_edge_app::store::{
    ERASE_CASES, ERASE_CASE_NOTES, ERASE_EVENTS, ERASE_OUTBOX, ERASE_RESPONSES, PERSON_RESPONSES,
    PURGE_CASES, PURGE_CASE_NOTES, PURGE_EVENTS, PURGE_RESPONSES,
};
use nps_edge_core::config::Site;
use nps_edge_core::dedup::Decision;
use nps_edge_core::erasure::{self, Erased};
use nps_edge_core::suppression::Suppression;
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, ToSql};

use crate::store::{self, Store, StoreError};

/// Idle connections kept for reads and the rare writes (suppressions).
const POOL_MAX: usize = 8;

/// An application value bound to a statement.
pub(crate) struct Sql(pub(crate) SqlValue);

impl ToSql for Sql {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match &self.0 {
            SqlValue::Null => ToSqlOutput::Owned(Value::Null),
            SqlValue::Int(v) => ToSqlOutput::Owned(Value::Integer(*v)),
            SqlValue::Real(v) => ToSqlOutput::Owned(Value::Real(*v)),
            SqlValue::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        })
    }
}

pub(crate) fn value_of(v: ValueRef<'_>) -> SqlValue {
    match v {
        ValueRef::Null => SqlValue::Null,
        ValueRef::Integer(i) => SqlValue::Int(i),
        ValueRef::Real(f) => SqlValue::Real(f),
        ValueRef::Text(t) | ValueRef::Blob(t) => {
            SqlValue::Text(String::from_utf8_lossy(t).into_owned())
        }
    }
}

/// The native backend.
#[derive(Clone)]
pub struct SqliteBackend {
    store: Store,
    pool: Arc<Mutex<Vec<Connection>>>,
    widget: bool,
}

impl SqliteBackend {
    /// A backend over a started store.
    pub fn new(store: Store) -> SqliteBackend {
        SqliteBackend {
            store,
            pool: Arc::default(),
            widget: false,
        }
    }

    /// Says that the server serves the widget's files (`--assets` holds them).
    pub fn with_widget(mut self, widget: bool) -> SqliteBackend {
        self.widget = widget;
        self
    }

    /// The store (writer handle and path).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Runs `f` with a pooled connection on the blocking pool.
    async fn with_conn<T, F>(&self, f: F) -> Result<T, BackendError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let pool = self.pool.clone();
        let path = self.store.path().to_string();
        tokio::task::spawn_blocking(move || {
            let taken = pool.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let conn = match taken {
                Some(c) => c,
                None => store::open_conn(&path).map_err(|e| BackendError::Failed(e.to_string()))?,
            };
            let out = f(&conn).map_err(|e| BackendError::Failed(e.to_string()));
            let mut idle = pool.lock().unwrap_or_else(|e| e.into_inner());
            if idle.len() < POOL_MAX {
                idle.push(conn);
            }
            out
        })
        .await
        .map_err(|e| BackendError::Failed(e.to_string()))?
    }
}

fn store_error(e: StoreError) -> BackendError {
    match e {
        StoreError::Busy => BackendError::Busy,
        StoreError::Failed(e) => BackendError::Failed(e.to_string()),
    }
}

fn suppression_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<Suppression> {
    Ok(Suppression {
        subject: row.get(0)?,
        expires_ms: row.get::<_, Option<i64>>(1)?.map(|v| v.max(0) as u64),
        reason: row.get(2)?,
        created_ms: row.get::<_, i64>(3)?.max(0) as u64,
    })
}

impl Backend for SqliteBackend {
    // The case's webhook rows are written in the answer's own transaction (store.rs).
    const ANNOUNCES_CASES: bool = true;

    fn now_ms(&self) -> u64 {
        crate::now_ms()
    }

    fn serves_widget(&self) -> bool {
        self.widget
    }

    async fn record_response(&self, new: NewResponse) -> Result<Decision, BackendError> {
        self.store.put_response(new).await.map_err(store_error)
    }

    async fn record_event(&self, new: NewEvent) -> Result<bool, BackendError> {
        self.store.put_event(new).await.map_err(store_error)
    }

    async fn visitor(&self, q: VisitorQuery) -> Result<VisitorRecords, BackendError> {
        self.with_conn(move |c| {
            let mut out = VisitorRecords::default();
            let mut st = c.prepare_cached(
                "SELECT subject, expires_ms, reason, created_ms FROM suppressions WHERE site = ?1 AND subject = ?2",
            )?;
            for s in &q.subjects {
                if let Some(r) = st.query_row(params![q.site, s], suppression_of).optional()? {
                    out.suppressions.push(r);
                }
            }
            if let Some((survey, respondent, _)) = &q.respondent {
                out.answered_ms = c
                    .prepare_cached(
                        "SELECT at_ms FROM respondents WHERE site = ?1 AND survey = ?2 AND respondent = ?3",
                    )?
                    .query_row(params![q.site, survey, respondent], |r| r.get::<_, i64>(0))
                    .optional()?
                    .map(|v| v.max(0) as u64);
            }
            Ok(out)
        })
        .await
    }

    async fn put_suppression(&self, site: &str, s: Suppression) -> Result<(), BackendError> {
        let site = site.to_string();
        self.with_conn(move |c| {
            c.prepare_cached(
                "INSERT INTO suppressions (site, subject, expires_ms, reason, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (site, subject) DO UPDATE SET expires_ms = excluded.expires_ms,
                   reason = excluded.reason, created_ms = excluded.created_ms",
            )?
            .execute(params![
                site,
                s.subject,
                s.expires_ms.map(|v| v as i64),
                s.reason,
                s.created_ms as i64
            ])
            .map(|_| ())
        })
        .await
    }

    async fn delete_suppression(&self, site: &str, subject: &str) -> Result<bool, BackendError> {
        let (site, subject) = (site.to_string(), subject.to_string());
        self.with_conn(move |c| {
            c.prepare_cached("DELETE FROM suppressions WHERE site = ?1 AND subject = ?2")?
                .execute(params![site, subject])
                .map(|n| n > 0)
        })
        .await
    }

    async fn list_suppressions(&self, site: &str) -> Result<Vec<Suppression>, BackendError> {
        let site = site.to_string();
        self.with_conn(move |c| {
            let mut q = c.prepare_cached(
                "SELECT subject, expires_ms, reason, created_ms FROM suppressions WHERE site = ?1 ORDER BY subject LIMIT 10000",
            )?;
            let rows = q.query_map(params![site], suppression_of)?;
            rows.collect()
        })
        .await
    }

    async fn execute(&self, sql: &'static str, params: Vec<SqlValue>) -> Result<u64, BackendError> {
        self.with_conn(move |c| {
            c.prepare_cached(sql)?
                .execute(params_from_iter(params.into_iter().map(Sql)))
                .map(|n| n as u64)
        })
        .await
    }

    async fn query(&self, sql: &'static str, params: Vec<SqlValue>) -> Result<Rows, BackendError> {
        self.with_conn(move |c| {
            let mut st = c.prepare_cached(sql)?;
            let n = st.column_count();
            let mut rows = st.query(params_from_iter(params.into_iter().map(Sql)))?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                let mut cols = Vec::with_capacity(n);
                for i in 0..n {
                    cols.push(value_of(row.get_ref(i)?));
                }
                out.push(cols);
            }
            Ok(out)
        })
        .await
    }

    async fn sink_gauges(&self) -> Result<Option<Vec<SinkGauge>>, BackendError> {
        self.with_conn(|c| {
            let disabled = store::disabled_sinks(c)?;
            let mut out: Vec<SinkGauge> = store::outbox_counts(c)?
                .into_iter()
                .map(|(sink, pending, dead)| SinkGauge {
                    disabled: disabled.contains(&sink),
                    sink,
                    pending,
                    dead,
                })
                .collect();
            for d in disabled {
                if !out.iter().any(|g| g.sink == d) {
                    out.push(SinkGauge {
                        sink: d,
                        pending: 0,
                        dead: 0,
                        disabled: true,
                    });
                }
            }
            Ok(Some(out))
        })
        .await
    }

    async fn notify(
        &self,
        _site: &str,
        sinks: Vec<String>,
        msg_id: String,
        payload: String,
    ) -> Result<(), BackendError> {
        let now_ms = crate::now_ms();
        self.store
            .put_notice(store::Notice {
                sinks,
                msg_id,
                payload,
                now_ms,
            })
            .await
            .map_err(store_error)
    }

    async fn static_text(
        &self,
        name: &'static str,
    ) -> Result<Option<std::borrow::Cow<'static, str>>, BackendError> {
        Ok(nps_edge_app::statics::embedded(name).map(std::borrow::Cow::Borrowed))
    }

    async fn erase_person(&self, e: Erasure) -> Result<Erased, BackendError> {
        self.with_conn(move |c| erase(c, &e)).await
    }

    async fn purge(&self, site: &Site, before_ms: u64) -> Result<Purged, BackendError> {
        let site = site.id.clone();
        self.with_conn(move |c| {
            let before = before_ms as i64;
            let responses = c.prepare_cached(PURGE_RESPONSES)?.execute(params![site, before])?;
            let events = c.prepare_cached(PURGE_EVENTS)?.execute(params![site, before])?;
            let mut other = c
                .prepare_cached("DELETE FROM respondents WHERE site = ?1 AND at_ms < ?2")?
                .execute(params![site, before])?;
            other += c.prepare_cached(PURGE_CASES)?.execute(params![site, before])?;
            c.prepare_cached(PURGE_CASE_NOTES)?.execute(params![site])?;
            other += c
                .prepare_cached("DELETE FROM alerts WHERE site = ?1 AND created_ms < ?2")?
                .execute(params![site, before])?;
            // Dead letters of the site (delivered rows leave the outbox at once).
            other += c
                .prepare_cached(
                    "DELETE FROM outbox WHERE state = 2 AND created_ms < ?2 AND json_extract(payload, '$.data.site') = ?1",
                )?
                .execute(params![site, before])?;
            Ok(Purged {
                responses: responses as u64,
                events: events as u64,
                other: other as u64,
            })
        })
        .await
    }
}

/// One transaction: the person's rows go, the notice's outbox rows come (the deliverers poll
/// the outbox every second).
fn erase(conn: &Connection, e: &Erasure) -> rusqlite::Result<Erased> {
    let tx = rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)?;
    // Look again inside the transaction: an answer that arrived since the application's look
    // is erased too.
    let mut found = e.found.clone();
    let email = match &e.person {
        erasure::Person::Email(m) => Some(m.as_str()),
        erasure::Person::User(_) => None,
    };
    let rows = {
        let mut st = tx.prepare_cached(PERSON_RESPONSES)?;
        let users = erasure::string_array(&found.user_ids);
        let mapped = st.query_map(params![e.site, users, email], |r| {
            Ok(vec![
                value_of(r.get_ref(0)?),
                value_of(r.get_ref(1)?),
                value_of(r.get_ref(2)?),
                value_of(r.get_ref(3)?),
            ])
        })?;
        mapped.collect::<rusqlite::Result<Vec<_>>>()?
    };
    found.add_rows(&rows);
    found.sort();
    let ids = erasure::string_array(&found.response_ids);
    let users = erasure::string_array(&found.user_ids);
    let visitors = erasure::string_array(&found.visitors);
    let mut out = Erased {
        responses: tx
            .prepare_cached(ERASE_RESPONSES)?
            .execute(params![e.site, ids])? as u64,
        events: tx
            .prepare_cached(ERASE_EVENTS)?
            .execute(params![e.site, users, visitors])? as u64,
        ..Default::default()
    };
    for sql in [ERASE_CASE_NOTES, ERASE_CASES] {
        tx.prepare_cached(sql)?.execute(params![e.site, ids])?;
    }
    tx.prepare_cached(
        "DELETE FROM respondents WHERE site = ?1 AND (respondent IN (SELECT value FROM json_each(?2)) OR response_id IN (SELECT value FROM json_each(?3)))",
    )?
    .execute(params![e.site, users, ids])?;
    out.suppressions = tx
        .prepare_cached(
            "DELETE FROM suppressions WHERE site = ?1 AND subject IN (SELECT value FROM json_each(?2))",
        )?
        .execute(params![e.site, users])? as u64;
    out.deliveries = tx
        .prepare_cached(ERASE_OUTBOX)?
        .execute(params![e.site, ids, users])? as u64;
    out.deliveries += tx
        .prepare_cached(
            "DELETE FROM alerts WHERE site = ?1 AND state = 0 AND response_id IN (SELECT value FROM json_each(?2))",
        )?
        .execute(params![e.site, ids])? as u64;
    out.response_ids = found.response_ids;
    out.user_ids = found.user_ids;
    if !e.notice_sinks.is_empty() {
        let payload = erasure::notice_payload(&e.site, &e.person, &out, e.now_ms);
        let msg_id = erasure::notice_id(&e.site, &e.person, e.now_ms);
        // The deliverers poll the outbox every second: nobody to wake from here.
        store::enqueue(
            &tx,
            &e.notice_sinks,
            &msg_id,
            &payload,
            e.now_ms,
            &mut Vec::new(),
        )?;
    }
    tx.commit()?;
    Ok(out)
}
