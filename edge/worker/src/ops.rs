//! The calls the worker makes on its `SiteState` Durable Object (one JS RPC method, `call`, with
//! one JSON request; the answer is JSON text). Internal to this crate: both ends ship together.

use serde::{Deserialize, Serialize};

/// One request to a state object.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub(crate) enum Op {
    /// Decide, record and hand off one rev of an answer (`nps_edge_app::NewResponse`).
    Record {
        /// Wire JSON of the answer.
        body: String,
        /// Routed delivery sinks.
        sinks: Vec<String>,
        /// Their payload.
        payload: Option<String>,
        id_window_ms: u64,
        respondent_window_ms: u64,
        now_ms: u64,
    },
    /// Suppressions of some subjects, and the answer time of `(survey, respondent)`.
    Visitor {
        subjects: Vec<String>,
        /// Survey, respondent, respondent window.
        respondent: Option<(String, String, u64)>,
    },
    /// Create or replace a suppression.
    SupPut {
        subject: String,
        expires_ms: Option<u64>,
        reason: Option<String>,
        created_ms: u64,
    },
    /// Delete a suppression: `true` when there was one.
    SupDel { subject: String },
    /// Every suppression of the site.
    SupList,
    /// Claim an alert for sending: `{"claim":"send"|"wait"|"skip","ms":…}`.
    AlertClaim {
        sink: String,
        id: String,
        lease_ms: u64,
    },
    /// Run the alarm's work now (expiry sweep, due outbox rows): for operators and tests.
    Maintain,
    /// Record the outcome of a claimed alert: `sent`, `failed`, `release` or `cancel`.
    AlertDone {
        sink: String,
        id: String,
        result: String,
        rev: u32,
    },
}

/// Answer of [`Op::Record`].
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Recorded {
    /// `accepted`, `updated` or `duplicate`.
    pub(crate) status: String,
    /// `id` or `respondent` for a duplicate.
    pub(crate) duplicate: Option<String>,
    pub(crate) store: bool,
    pub(crate) forward: bool,
    pub(crate) claim_respondent: bool,
}

/// A suppression as it travels.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct SuppressionRow {
    pub(crate) subject: String,
    pub(crate) expires_ms: Option<u64>,
    pub(crate) reason: Option<String>,
    pub(crate) created_ms: u64,
}

/// Answer of [`Op::Visitor`].
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct VisitorAnswer {
    pub(crate) suppressions: Vec<SuppressionRow>,
    pub(crate) answered_ms: Option<u64>,
}

/// Answer of [`Op::AlertClaim`].
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Claim {
    /// `send` (attempt number in `n`), `wait` (ms in `n`) or `skip`.
    pub(crate) claim: String,
    pub(crate) n: u64,
}
