//! The backend interface: everything the application needs from a runtime, and nothing more —
//! storage (the atomic dedup-check-and-store with its hand-off to the delivery sinks, events,
//! suppressions, reads), the clock. Randomness and secrets are given once, at start
//! ([`crate::App::new`], [`nps_edge_core::Config::resolve_secrets`]).
//!
//! The native server implements it on SQLite (`edge/server`), the Cloudflare worker on a Durable
//! Object per site, D1 and a Queue (`edge/worker`). Rules stay in the application and the core:
//! a backend loads and stores, it does not decide (the one exception is
//! [`Backend::record_response`], which must run `nps_edge_core::dedup::decide` inside its
//! atomic step — the decision and the durable record cannot be two steps).

use std::future::Future;

use nps_edge_core::config::Site;
use nps_edge_core::dedup::Decision;
use nps_edge_core::erasure::{Erased, Person};
use nps_edge_core::suppression::Suppression;
use nps_protocol::{Event, Response};

use crate::store::Found;

/// `Send` on native targets (the server runs handlers on a multi-threaded runtime); nothing on
/// wasm32 (the worker is single-threaded and its JS futures are not `Send`).
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSend: Send {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Send + ?Sized> MaybeSend for T {}
/// `Send` on native targets; nothing on wasm32.
#[cfg(target_arch = "wasm32")]
pub trait MaybeSend {}
#[cfg(target_arch = "wasm32")]
impl<T: ?Sized> MaybeSend for T {}

/// `Sync` on native targets; nothing on wasm32.
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSync: Sync {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Sync + ?Sized> MaybeSync for T {}
/// `Sync` on native targets; nothing on wasm32.
#[cfg(target_arch = "wasm32")]
pub trait MaybeSync {}
#[cfg(target_arch = "wasm32")]
impl<T: ?Sized> MaybeSync for T {}

/// Why a backend could not serve a call. Never the client's fault: answered 503 + `Retry-After`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendError {
    /// Too much load right now (a full queue): try again shortly.
    Busy,
    /// No response store is configured (a worker without `worker.d1`).
    NoStore,
    /// The storage call failed; the text is for the log, never for the client.
    Failed(String),
}

impl std::fmt::Display for BackendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BackendError::Busy => f.write_str("store queue is full"),
            BackendError::NoStore => f.write_str("no response store is configured"),
            BackendError::Failed(m) => write!(f, "store call failed: {m}"),
        }
    }
}

/// An accepted-for-processing response, with everything the atomic step needs computed ahead.
#[derive(Debug, Clone)]
pub struct NewResponse {
    /// The validated response.
    pub response: Response,
    /// Its wire JSON (the stored `body`).
    pub body: String,
    /// Delivery sinks routed to this response (webhook, stdout, alert), by name.
    pub sinks: Vec<String>,
    /// The sink payload (`{"type":"nps.response",…}`), when `sinks` is not empty.
    pub payload: Option<String>,
    /// Id + rev dedup window.
    pub id_window_ms: u64,
    /// One answer per respondent and survey within this window (0 = off).
    pub respondent_window_ms: u64,
    /// Receive time.
    pub now_ms: u64,
    /// What this rev does to its case (`nps_edge_core::cases::action`), written with the answer
    /// when it is stored ([`crate::store::case_write`]).
    pub case: Option<nps_edge_core::cases::Action>,
    /// A re-survey after a resolved case: the respondent's earlier answer does not count, and
    /// this one claims the respondent (its later revs are updates of it).
    pub fresh_respondent: bool,
    /// The sinks that hear about the case this rev opens or changes (`nps.case.*`). A backend
    /// with [`Backend::ANNOUNCES_CASES`] hands that message over from the answer's durable record
    /// (natively in the answer's transaction; on the worker once the case is in D1); for the
    /// others the application hands it over right after.
    pub case_sinks: Vec<String>,
}

/// A validated event to store once per id.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// The event.
    pub event: Event,
    /// Receive time.
    pub now_ms: u64,
}

/// What is known about a visitor: their suppressions and when they last answered a survey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitorQuery {
    /// Site.
    pub site: String,
    /// User and account ids to look up suppressions for.
    pub subjects: Vec<String>,
    /// `(survey, respondent)` whose answer time is wanted, with the site's respondent window
    /// (the worker stores expiry times, not answer times).
    pub respondent: Option<(String, String, u64)>,
}

/// The answer to a [`VisitorQuery`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VisitorRecords {
    /// Stored suppressions among the subjects (active or not: the rule is the core's).
    pub suppressions: Vec<Suppression>,
    /// When the respondent's current answer to the survey was first accepted, if one is on
    /// record.
    pub answered_ms: Option<u64>,
}

/// A value bound to, or read from, the response store (SQLite natively, D1 on the worker).
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    /// NULL.
    Null,
    /// INTEGER.
    Int(i64),
    /// REAL (D1 returns every number as one).
    Real(f64),
    /// TEXT.
    Text(String),
}

impl SqlValue {
    /// An integer (a REAL holding a whole number counts: D1 returns numbers as floats).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            SqlValue::Int(v) => Some(*v),
            SqlValue::Real(v) if v.fract() == 0.0 && v.is_finite() => Some(*v as i64),
            _ => None,
        }
    }

    /// Text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            SqlValue::Text(s) => Some(s),
            _ => None,
        }
    }

    /// Text or NULL.
    pub fn opt_text(v: Option<&str>) -> SqlValue {
        v.map_or(SqlValue::Null, |s| SqlValue::Text(s.to_string()))
    }

    /// Integer or NULL.
    pub fn opt_int(v: Option<i64>) -> SqlValue {
        v.map_or(SqlValue::Null, SqlValue::Int)
    }
}

/// A person's erasure, planned by the application (`DELETE /v1/sites/{site}/people/{key}`).
#[derive(Debug, Clone)]
pub struct Erasure {
    /// Site.
    pub site: String,
    /// Who.
    pub person: Person,
    /// Their answers as found in the response store (a backend adds those it holds elsewhere,
    /// e.g. not yet written to the store).
    pub found: Found,
    /// Delivery sinks the `nps.person.erased` message goes to (built with
    /// `nps_edge_core::erasure::notice_payload` once the counts are known).
    pub notice_sinks: Vec<String>,
    /// When.
    pub now_ms: u64,
}

/// What a retention sweep deleted on one site.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    /// Answers.
    pub responses: u64,
    /// Events.
    pub events: u64,
    /// Respondent records, dead letters and other runtime records.
    pub other: u64,
}

/// Rows of a store query, columns in `SELECT` order.
pub type Rows = Vec<Vec<SqlValue>>;

/// Delivery state of one sink, for `/metrics` (where the runtime can see it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkGauge {
    /// Sink name.
    pub sink: String,
    /// Messages waiting.
    pub pending: i64,
    /// Dead letters kept.
    pub dead: i64,
    /// Disabled by a 410.
    pub disabled: bool,
}

/// What a runtime implements. Futures are `Send` natively ([`MaybeSend`]).
pub trait Backend: MaybeSend + MaybeSync + 'static {
    /// Whether the backend hands the case's `nps.case.*` message to the sinks itself, from the
    /// answer's durable record (see [`NewResponse::case_sinks`]), so that no crash or outage
    /// between the answer and the message can lose it.
    const ANNOUNCES_CASES: bool = false;

    /// Wall clock, ms since the Unix epoch.
    fn now_ms(&self) -> u64;

    /// True when this runtime serves the widget's files at `/` (the native server with
    /// `--assets`): the hosted survey page then offers the widget's full-page mode. The worker
    /// leaves them to a CDN.
    fn serves_widget(&self) -> bool {
        false
    }

    /// In ONE atomic step: load the dedup records, decide with
    /// `nps_edge_core::dedup::decide`, store the answer (conditionally on its rev: a stored
    /// answer is never replaced by a lower rev), claim the respondent, and hand the payload to
    /// every routed sink (durable outbox rows or queue records). Resolves only once all of that
    /// is durable: no crash, cancellation or sink outage may leave a mark without its answer.
    fn record_response(
        &self,
        new: NewResponse,
    ) -> impl Future<Output = Result<Decision, BackendError>> + MaybeSend;

    /// Stores an event once per `(site, id)`; `Ok(true)` when the id was already stored.
    fn record_event(
        &self,
        new: NewEvent,
    ) -> impl Future<Output = Result<bool, BackendError>> + MaybeSend;

    /// Suppressions of some subjects and the respondent's answer time (strongly consistent:
    /// a suppression set a moment ago counts).
    fn visitor(
        &self,
        q: VisitorQuery,
    ) -> impl Future<Output = Result<VisitorRecords, BackendError>> + MaybeSend;

    /// Creates or replaces a suppression.
    fn put_suppression(
        &self,
        site: &str,
        s: Suppression,
    ) -> impl Future<Output = Result<(), BackendError>> + MaybeSend;

    /// Deletes a suppression; `Ok(false)` when there was none.
    fn delete_suppression(
        &self,
        site: &str,
        subject: &str,
    ) -> impl Future<Output = Result<bool, BackendError>> + MaybeSend;

    /// Every suppression of a site (ordered by subject, at most 10,000).
    fn list_suppressions(
        &self,
        site: &str,
    ) -> impl Future<Output = Result<Vec<Suppression>, BackendError>> + MaybeSend;

    /// Runs one of the write statements of [`crate::store`] on the response store (cases, notes);
    /// the number of rows it changed.
    fn execute(
        &self,
        sql: &'static str,
        params: Vec<SqlValue>,
    ) -> impl Future<Output = Result<u64, BackendError>> + MaybeSend;

    /// Runs one of the read statements of [`crate::store`] on the response store.
    fn query(
        &self,
        sql: &'static str,
        params: Vec<SqlValue>,
    ) -> impl Future<Output = Result<Rows, BackendError>> + MaybeSend;

    /// Hands one message to delivery sinks durably (outbox rows or queue records), delivered
    /// and retried like an answer's: `msg_id` is its `webhook-id`, `payload` its exact bytes.
    fn notify(
        &self,
        site: &str,
        sinks: Vec<String>,
        msg_id: String,
        payload: String,
    ) -> impl Future<Output = Result<(), BackendError>> + MaybeSend;

    /// A static file of [`crate::statics::FILES`] by name; `Ok(None)` when the runtime has none
    /// of that name.
    fn static_text(
        &self,
        name: &'static str,
    ) -> impl Future<Output = Result<Option<std::borrow::Cow<'static, str>>, BackendError>> + MaybeSend;

    /// Outbox gauges per delivery sink; empty where the runtime cannot see them (a Queue's
    /// depth is not observable from inside a worker).
    fn sink_gauges(
        &self,
    ) -> impl Future<Output = Result<Option<Vec<SinkGauge>>, BackendError>> + MaybeSend;

    /// Erases a person in one step where the runtime allows it: their answers (those found and
    /// any the backend still holds on their way to the store), events, respondent records,
    /// suppressions of their user ids, and every delivery of their data still waiting; then
    /// hands the `nps.person.erased` message to `notice_sinks` durably. Idempotent: running it
    /// again finds nothing more and sends another notice.
    fn erase_person(
        &self,
        erasure: Erasure,
    ) -> impl Future<Output = Result<Erased, BackendError>> + MaybeSend;

    /// Deletes a site's records received before `before_ms`: answers, events (the shared
    /// statements of [`crate::store`]), respondent records and dead letters.
    fn purge(
        &self,
        site: &Site,
        before_ms: u64,
    ) -> impl Future<Output = Result<Purged, BackendError>> + MaybeSend;
}
