//! The calls the worker makes on its `SiteState` Durable Object: one JS RPC method, `call`, with
//! one text request. Recording an answer — the hot path — is a line protocol ([`Record`]); the
//! rest are JSON ([`Op`]). Internal to this crate: both ends ship together.

use serde::{Deserialize, Serialize};

/// One request to a state object.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub(crate) enum Op {
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
    /// Erase a person's records here ([`Erased`] answers): the records of their answers (ids
    /// given, plus any answer of theirs still waiting for D1, found by user id or e-mail), the
    /// respondent records and suppressions of their user ids, their waiting deliveries.
    Erase {
        response_ids: Vec<String>,
        user_ids: Vec<String>,
        email: Option<String>,
    },
    /// Hand one message to delivery sinks (durably, then fed to the Queue).
    Notify {
        sinks: Vec<String>,
        msg_id: String,
        payload: String,
    },
    /// Retention: forget respondent records of answers first given before `before_ms`.
    Purge {
        before_ms: u64,
        respondent_window_ms: u64,
    },
    /// Record the outcome of a claimed alert: `sent`, `failed`, `release` or `cancel`.
    AlertDone {
        sink: String,
        id: String,
        result: String,
        rev: u32,
    },
}

/// One rev of an answer to record (`nps_edge_app::NewResponse`): what the decision reads is
/// given apart, so the object parses the answer only when an alert sink needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    pub(crate) id: String,
    pub(crate) rev: u32,
    pub(crate) survey: String,
    /// User id when identified, else the visitor id.
    pub(crate) respondent: String,
    /// The visitor and the user id (empty when none) sending this rev: the id's owner when it
    /// is new, checked against the owner when it is known.
    pub(crate) visitor: String,
    pub(crate) user: String,
    /// Wire JSON of the answer.
    pub(crate) body: String,
    /// Routed delivery sinks.
    pub(crate) sinks: Vec<String>,
    /// Their payload.
    pub(crate) payload: Option<String>,
    /// The case action, written to D1 with the answer: `""` none, `o<due ms>` open, `w`
    /// withdraw.
    pub(crate) case: String,
    /// A re-survey: the respondent's earlier record does not count (`1`).
    pub(crate) fresh: bool,
    pub(crate) id_window_ms: u64,
    pub(crate) respondent_window_ms: u64,
    pub(crate) now_ms: u64,
}

impl Record {
    /// `R`, then one field per line; the answer's JSON last (ids, numbers and the protocol's JSON
    /// writer never put a raw newline in a field).
    pub(crate) fn to_line(&self) -> String {
        let mut s = String::with_capacity(self.body.len() + 256);
        for part in [
            "R",
            &self.id,
            &self.rev.to_string(),
            &self.survey,
            &self.respondent,
            &self.visitor,
            &self.user,
            &self.id_window_ms.to_string(),
            &self.respondent_window_ms.to_string(),
            &self.now_ms.to_string(),
            &self.sinks.join(","),
            &self.case,
            if self.fresh { "1" } else { "" },
            self.payload.as_deref().unwrap_or(""),
        ] {
            s.push_str(part);
            s.push('\n');
        }
        s.push_str(&self.body);
        s
    }

    /// The record of a line, `None` when it is not one.
    pub(crate) fn from_line(line: &str) -> Option<Record> {
        let mut it = line.splitn(15, '\n');
        (it.next()? == "R").then_some(())?;
        let mut next = || it.next();
        Some(Record {
            id: next()?.to_string(),
            rev: next()?.parse().ok()?,
            survey: next()?.to_string(),
            respondent: next()?.to_string(),
            visitor: next()?.to_string(),
            user: next()?.to_string(),
            id_window_ms: next()?.parse().ok()?,
            respondent_window_ms: next()?.parse().ok()?,
            now_ms: next()?.parse().ok()?,
            sinks: next()?
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            case: next()?.to_string(),
            fresh: next()? == "1",
            payload: Some(next()?).filter(|p| !p.is_empty()).map(str::to_string),
            body: next()?.to_string(),
        })
    }
}

/// Answer of a [`Record`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Recorded {
    /// `accepted`, `updated` or `duplicate`.
    pub(crate) status: String,
    /// `id` or `respondent` for a duplicate.
    pub(crate) duplicate: Option<String>,
    pub(crate) store: bool,
    pub(crate) forward: bool,
    pub(crate) claim_respondent: bool,
    pub(crate) conflict: bool,
}

impl Recorded {
    /// `status|duplicate|store|forward|claim|conflict`, flags as 0/1.
    pub(crate) fn to_line(&self) -> String {
        let f = |b: bool| if b { "1" } else { "0" };
        format!(
            "{}|{}|{}|{}|{}|{}",
            self.status,
            self.duplicate.as_deref().unwrap_or(""),
            f(self.store),
            f(self.forward),
            f(self.claim_respondent),
            f(self.conflict)
        )
    }

    /// The answer of a line.
    pub(crate) fn from_line(line: &str) -> Option<Recorded> {
        let mut it = line.split('|');
        Some(Recorded {
            status: it.next()?.to_string(),
            duplicate: Some(it.next()?)
                .filter(|d| !d.is_empty())
                .map(str::to_string),
            store: it.next()? == "1",
            forward: it.next()? == "1",
            claim_respondent: it.next()? == "1",
            conflict: it.next()? == "1",
        })
    }
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

/// Answer of [`Op::Erase`].
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Erased {
    /// Ids of the person's answers that were still waiting for D1 here (not in the ids given).
    pub(crate) pending_ids: Vec<String>,
    /// Waiting deliveries cancelled (queue records, alert jobs).
    pub(crate) deliveries: u64,
    /// Suppressions deleted.
    pub(crate) suppressions: u64,
    /// The person's user ids: those given, and those of waiting answers found by e-mail.
    pub(crate) user_ids: Vec<String>,
}
