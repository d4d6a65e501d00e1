//! Cases: the follow-up of an unhappy customer. An answer in a site's case segments (default:
//! detractors) opens one case per response id, ever; a later rev of the answer updates it, and a
//! rev that leaves the segments withdraws it. The team moves it `open → in_progress → resolved`
//! (`reopened` after that), with an owner and notes; while it is open the person is not surveyed.
//!
//! The rules live here (statuses, transitions, limits, the per-site config); the application runs
//! them and the store's shared statements keep the records on both runtimes.

use std::collections::BTreeMap;

use nps_protocol::json::ObjectWriter;
use nps_protocol::validate::{Problem, ProblemCode};
use nps_protocol::{Response, Segment};
use serde::{Deserialize, Serialize};

use crate::config::ConfigError;
use crate::error::EdgeError;

/// Longest owner name.
pub const MAX_OWNER_CHARS: usize = 120;
/// Longest note.
pub const MAX_NOTE_CHARS: usize = 4000;

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Opened by the answer; nobody has acted yet.
    Open,
    /// Someone is on it.
    InProgress,
    /// Solved: the person may be surveyed again (after the site's re-survey delay).
    Resolved,
    /// Solved, then opened again by the team.
    Reopened,
    /// A later rev of the answer left the case segments (the customer changed their mind).
    Withdrawn,
}

/// Every status, in the order the API lists them.
pub const STATUSES: [Status; 5] = [
    Status::Open,
    Status::InProgress,
    Status::Resolved,
    Status::Reopened,
    Status::Withdrawn,
];

impl Status {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::InProgress => "in_progress",
            Status::Resolved => "resolved",
            Status::Reopened => "reopened",
            Status::Withdrawn => "withdrawn",
        }
    }

    /// From the wire name.
    pub fn parse(s: &str) -> Option<Status> {
        STATUSES.into_iter().find(|x| x.as_str() == s)
    }

    /// The person is kept out of surveys (open, in progress, reopened).
    pub fn is_active(self) -> bool {
        matches!(self, Status::Open | Status::InProgress | Status::Reopened)
    }
}

/// Checks a status change asked by the team. The same status is allowed (and changes nothing),
/// so two agents resolving one case get one outcome.
pub fn check_transition(from: Status, to: Status) -> Result<(), EdgeError> {
    use Status::*;
    let ok = from == to
        || matches!(
            (from, to),
            (Open, InProgress)
                | (Open, Resolved)
                | (InProgress, Open)
                | (InProgress, Resolved)
                | (Resolved, Reopened)
                | (Reopened, InProgress)
                | (Reopened, Resolved)
        );
    if ok {
        Ok(())
    } else {
        Err(EdgeError::Invalid(vec![Problem::new(
            "status",
            ProblemCode::Format,
            format!(
                "a case that is {} cannot become {}",
                from.as_str(),
                to.as_str()
            ),
        )]))
    }
}

/// A site's cases (`[sites.cases]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CasesConfig {
    /// Open cases at all. Default true.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Segments that open a case. Default `["detractor"]`.
    #[serde(default = "default_segments")]
    pub segments: Vec<String>,
    /// Per-survey override of `segments` (`[]` opens none for that survey).
    #[serde(default)]
    pub survey_segments: BTreeMap<String, Vec<String>>,
    /// Time to a first touch, in hours. Default 48.
    #[serde(default = "default_sla_hours")]
    pub sla_hours: u64,
    /// Delay after resolution before the person is surveyed again, in seconds. Default 7 days.
    #[serde(default = "default_resurvey_after_seconds")]
    pub resurvey_after_seconds: u64,
    /// The Standard Webhooks secret (`whsec_…`) a helpdesk signs its events with
    /// (`POST /v1/sites/{site}/helpdesk`), `env:NAME` in the file. Unset = no helpdesk.
    #[serde(default)]
    pub helpdesk_secret: Option<String>,
}

fn yes() -> bool {
    true
}
fn default_segments() -> Vec<String> {
    vec!["detractor".into()]
}
fn default_sla_hours() -> u64 {
    48
}
fn default_resurvey_after_seconds() -> u64 {
    7 * 86_400
}

impl Default for CasesConfig {
    fn default() -> Self {
        CasesConfig {
            enabled: true,
            segments: default_segments(),
            survey_segments: BTreeMap::new(),
            sla_hours: default_sla_hours(),
            resurvey_after_seconds: default_resurvey_after_seconds(),
            helpdesk_secret: None,
        }
    }
}

impl CasesConfig {
    /// Checks the section; `k` names it in errors.
    pub fn validate(&self, k: &str) -> Result<(), ConfigError> {
        let seg = |key: String, list: &[String]| {
            for (i, s) in list.iter().enumerate() {
                if Segment::parse(s).is_none() {
                    return Err(ConfigError::new(
                        format!("{key}[{i}]"),
                        "must be detractor, passive or promoter",
                    ));
                }
            }
            Ok(())
        };
        seg(format!("{k}.segments"), &self.segments)?;
        for (survey, list) in &self.survey_segments {
            seg(format!("{k}.survey_segments.{survey}"), list)?;
        }
        if self.sla_hours == 0 || self.sla_hours > 24 * 365 {
            return Err(ConfigError::new(
                format!("{k}.sla_hours"),
                "must be between 1 and 8760",
            ));
        }
        if self.resurvey_after_seconds > 365 * 86_400 {
            return Err(ConfigError::new(
                format!("{k}.resurvey_after_seconds"),
                "must be at most a year (31536000)",
            ));
        }
        Ok(())
    }

    /// Whether an answer of this survey and segment opens (or keeps) a case.
    pub fn opens(&self, survey: &str, segment: Option<Segment>) -> bool {
        let Some(seg) = segment else { return false };
        self.enabled
            && self
                .survey_segments
                .get(survey)
                .unwrap_or(&self.segments)
                .iter()
                .any(|s| s == seg.as_str())
    }

    /// When a case opened at `opened_ms` is due for its first touch.
    pub fn due_ms(&self, opened_ms: u64) -> u64 {
        opened_ms.saturating_add(self.sla_hours.saturating_mul(3_600_000))
    }

    /// When a case resolved at `resolved_ms` lets its person be surveyed again.
    pub fn resurvey_ms(&self, resolved_ms: u64) -> u64 {
        resolved_ms.saturating_add(self.resurvey_after_seconds.saturating_mul(1000))
    }
}

/// What an accepted rev of an answer does to its case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Open the case (or update it: score, comment, contact opt-in), due at `due_ms`.
    Open {
        /// First-touch deadline when it opens now.
        due_ms: u64,
    },
    /// The answer left the case segments: withdraw an active case.
    Withdraw,
}

/// The case action of an accepted rev received at `now_ms`; `None` when there is nothing to do
/// (a first rev outside the segments cannot have a case).
pub fn action(cfg: &CasesConfig, r: &Response, now_ms: u64) -> Option<Action> {
    if cfg.opens(&r.survey, r.segment()) {
        Some(Action::Open {
            due_ms: cfg.due_ms(now_ms),
        })
    } else if r.rev > 1 && cfg.enabled {
        Some(Action::Withdraw)
    } else {
        None
    }
}

/// A change asked with `PATCH …/cases/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Patch {
    /// New status.
    pub status: Option<Status>,
    /// New owner: `Some(None)` unassigns.
    pub owner: Option<Option<String>>,
    /// The helpdesk ticket that follows the case: `Some(None)` unlinks.
    pub external_ref: Option<Option<String>>,
}

/// Longest `external_ref` (a helpdesk ticket id or URL).
pub const MAX_EXTERNAL_REF_CHARS: usize = 200;

fn invalid(field: &str, code: ProblemCode, reason: impl Into<String>) -> EdgeError {
    EdgeError::Invalid(vec![Problem::new(field, code, reason)])
}

fn object(body: &[u8]) -> Result<serde_json::Map<String, serde_json::Value>, EdgeError> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| EdgeError::BadJson(e.to_string()))?;
    match v {
        serde_json::Value::Object(m) => Ok(m),
        _ => Err(EdgeError::NotObject),
    }
}

/// A free-text field (owner, ticket, note): not blank, at most `max` characters, no control
/// characters but newlines and tabs.
pub(crate) fn check_text(field: &str, s: &str, max: usize) -> Result<(), EdgeError> {
    if s.trim().is_empty() {
        return Err(invalid(field, ProblemCode::Format, "must not be empty"));
    }
    if s.chars().count() > max {
        return Err(invalid(
            field,
            ProblemCode::TooLong,
            format!("must be at most {max} characters"),
        ));
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(invalid(
            field,
            ProblemCode::Format,
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// Parses a PATCH body: `{"status"?, "owner"?, "external_ref"?}` (`null` unassigns / unlinks);
/// anything else is a 422.
pub fn parse_patch(body: &[u8]) -> Result<Patch, EdgeError> {
    let m = object(body)?;
    let mut problems = Vec::new();
    let mut patch = Patch::default();
    for (k, v) in &m {
        match (k.as_str(), v) {
            ("status", serde_json::Value::String(s)) => match Status::parse(s) {
                Some(st) => patch.status = Some(st),
                None => problems.push(Problem::new(
                    "status",
                    ProblemCode::Format,
                    "must be open, in_progress, resolved or reopened",
                )),
            },
            ("owner", serde_json::Value::Null) => patch.owner = Some(None),
            ("owner", serde_json::Value::String(s)) => {
                match check_text("owner", s, MAX_OWNER_CHARS) {
                    Ok(()) => patch.owner = Some(Some(s.trim().to_string())),
                    Err(EdgeError::Invalid(p)) => problems.extend(p),
                    Err(e) => return Err(e),
                }
            }
            ("external_ref", serde_json::Value::Null) => patch.external_ref = Some(None),
            ("external_ref", serde_json::Value::String(s)) => {
                match check_text("external_ref", s, MAX_EXTERNAL_REF_CHARS) {
                    Ok(()) => patch.external_ref = Some(Some(s.trim().to_string())),
                    Err(EdgeError::Invalid(p)) => problems.extend(p),
                    Err(e) => return Err(e),
                }
            }
            ("status" | "owner" | "external_ref", _) => problems.push(Problem::new(
                k.clone(),
                ProblemCode::Type,
                "must be a string",
            )),
            _ => problems.push(Problem::new(
                k.clone(),
                ProblemCode::Unknown,
                "unknown field",
            )),
        }
    }
    if patch.status == Some(Status::Withdrawn) {
        problems.push(Problem::new(
            "status",
            ProblemCode::Format,
            "withdrawn is set by the customer's answer, not by hand",
        ));
    }
    if patch == Patch::default() && problems.is_empty() {
        problems.push(Problem::new(
            "",
            ProblemCode::Missing,
            "give status, owner and/or external_ref",
        ));
    }
    if problems.is_empty() {
        Ok(patch)
    } else {
        Err(EdgeError::Invalid(problems))
    }
}

/// Parses a note body `{"text"}`.
pub fn parse_note(body: &[u8]) -> Result<String, EdgeError> {
    let m = object(body)?;
    for k in m.keys() {
        if k != "text" {
            return Err(invalid(k, ProblemCode::Unknown, "unknown field"));
        }
    }
    match m.get("text") {
        Some(serde_json::Value::String(s)) => {
            check_text("text", s, MAX_NOTE_CHARS)?;
            Ok(s.trim().to_string())
        }
        Some(_) => Err(invalid("text", ProblemCode::Type, "must be a string")),
        None => Err(invalid("text", ProblemCode::Missing, "is required")),
    }
}

/// `GET …/cases` filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    /// Only this status.
    pub status: Option<Status>,
    /// Only this owner.
    pub owner: Option<String>,
    /// Only this survey.
    pub survey: Option<String>,
    /// Only overdue cases.
    pub overdue: bool,
    /// Only this segment (by the latest score).
    pub segment: Option<Segment>,
    /// Page size (1-500, default 100).
    pub limit: u32,
    /// Cases to skip (the `next_cursor` of the previous page).
    pub offset: u64,
}

/// Default and largest page of `GET …/cases`.
pub const DEFAULT_LIST_LIMIT: u32 = 100;
/// Largest page of `GET …/cases`.
pub const MAX_LIST_LIMIT: u32 = 500;

impl ListQuery {
    /// Parses the query string; every problem at once (422), unknown parameters included.
    pub fn parse(raw: &str) -> Result<ListQuery, EdgeError> {
        let mut q = ListQuery {
            limit: DEFAULT_LIST_LIMIT,
            ..Default::default()
        };
        let mut problems = Vec::new();
        let mut bad = |k: &str, code, reason: &str| problems.push(Problem::new(k, code, reason));
        for (k, v) in crate::report_api::parse_query(raw) {
            match k.as_str() {
                "status" => match Status::parse(&v) {
                    Some(st) => q.status = Some(st),
                    None => bad(
                        "status",
                        ProblemCode::Format,
                        "must be open, in_progress, resolved, reopened or withdrawn",
                    ),
                },
                "owner" => match check_text("owner", &v, MAX_OWNER_CHARS) {
                    Ok(()) => q.owner = Some(v),
                    Err(_) => bad("owner", ProblemCode::Format, "must be an owner name"),
                },
                "survey" if nps_protocol::limits::is_valid_id(&v) => q.survey = Some(v),
                "survey" => bad("survey", ProblemCode::Charset, "must be a survey id"),
                "overdue" => match v.as_str() {
                    "true" | "1" => q.overdue = true,
                    "false" | "0" => q.overdue = false,
                    _ => bad("overdue", ProblemCode::Format, "must be true or false"),
                },
                "segment" => match Segment::parse(&v) {
                    Some(g) => q.segment = Some(g),
                    None => bad(
                        "segment",
                        ProblemCode::Format,
                        "must be detractor, passive or promoter",
                    ),
                },
                "limit" => match v.parse::<u32>() {
                    Ok(n) if (1..=MAX_LIST_LIMIT).contains(&n) => q.limit = n,
                    _ => bad("limit", ProblemCode::Range, "must be 1-500"),
                },
                "cursor" => match v.parse::<u64>() {
                    Ok(n) => q.offset = n,
                    Err(_) => bad(
                        "cursor",
                        ProblemCode::Format,
                        "is not a cursor returned by this API",
                    ),
                },
                _ => bad(&k, ProblemCode::Unknown, "unknown parameter"),
            }
        }
        if problems.is_empty() {
            Ok(q)
        } else {
            Err(EdgeError::Invalid(problems))
        }
    }
}

/// A stored case, as the API shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Case {
    /// Case id (the response id: one case per answer, ever).
    pub id: String,
    /// Survey.
    pub survey: String,
    /// Who: the user id, else the visitor id.
    pub respondent: String,
    /// User id, account, order, e-mail when the answer named them.
    pub user_id: Option<String>,
    /// Account.
    pub account: Option<String>,
    /// Order.
    pub order: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Latest score, and the score that opened the case.
    pub score: u8,
    /// The score that opened it.
    pub first_score: u8,
    /// Latest comment.
    pub comment: Option<String>,
    /// Contact opt-in.
    pub contact_ok: Option<bool>,
    /// Status.
    pub status: String,
    /// Owner.
    pub owner: Option<String>,
    /// Times, ms.
    pub opened_ms: u64,
    /// First-touch deadline.
    pub due_ms: u64,
    /// First status change or note.
    pub first_touch_ms: Option<u64>,
    /// Resolution.
    pub resolved_ms: Option<u64>,
    /// From when the person may be surveyed again.
    pub resurvey_ms: Option<u64>,
    /// The re-survey's score, when it came.
    pub resurvey_score: Option<u8>,
    /// The re-survey's response id.
    pub resurvey_id: Option<String>,
    /// The helpdesk ticket that follows the case.
    pub external_ref: Option<String>,
    /// Last change.
    pub updated_ms: u64,
}

impl Case {
    /// Past its due time without a first touch, while still open.
    pub fn is_overdue(&self, now_ms: u64) -> bool {
        self.first_touch_ms.is_none()
            && matches!(
                Status::parse(&self.status),
                Some(Status::Open | Status::Reopened)
            )
            && now_ms > self.due_ms
    }

    /// The case's segment (from its latest score).
    pub fn segment(&self) -> Segment {
        Segment::of(self.score).unwrap_or(Segment::Detractor)
    }

    /// The person came back: resolved, and the re-survey left the detractor segment.
    pub fn recovered(&self) -> Option<bool> {
        self.resurvey_score
            .map(|s| Segment::of(s) != Some(Segment::Detractor))
    }

    /// `{"id","response_id","site","survey","status","owner",…}`, times in RFC 3339.
    pub fn to_json(&self, site: &str, now_ms: u64, notes: Option<&[Note]>) -> String {
        use crate::time::rfc3339_ms;
        let t = |v: Option<u64>| v.map(rfc3339_ms);
        let mut out = String::with_capacity(512);
        let mut w = ObjectWriter::new(&mut out);
        w.str("id", &self.id)
            .str("response_id", &self.id)
            .str("site", site)
            .str("survey", &self.survey)
            .str("status", &self.status)
            .opt_str("owner", self.owner.as_deref())
            .num("score", self.score.into())
            .num("first_score", self.first_score.into())
            .str("segment", self.segment().as_str())
            .opt_str("comment", self.comment.as_deref())
            .opt_bool("contact_ok", self.contact_ok)
            .str("respondent", &self.respondent)
            .opt_str("user_id", self.user_id.as_deref())
            .opt_str("account", self.account.as_deref())
            .opt_str("order", self.order.as_deref())
            .opt_str("email", self.email.as_deref())
            .str("opened_at", &rfc3339_ms(self.opened_ms))
            .str("due_at", &rfc3339_ms(self.due_ms))
            .opt_str("first_touch_at", t(self.first_touch_ms).as_deref())
            .opt_str("resolved_at", t(self.resolved_ms).as_deref())
            .opt_str("resurvey_at", t(self.resurvey_ms).as_deref());
        if let Some(s) = self.resurvey_score {
            w.num("resurvey_score", s.into());
        }
        w.opt_str("resurvey_response_id", self.resurvey_id.as_deref());
        w.opt_str("external_ref", self.external_ref.as_deref());
        w.opt_bool("recovered", self.recovered());
        w.raw(
            "overdue",
            if self.is_overdue(now_ms) {
                "true"
            } else {
                "false"
            },
        )
        .str("updated_at", &rfc3339_ms(self.updated_ms));
        if let Some(notes) = notes {
            let mut list = String::from("[");
            for (i, n) in notes.iter().enumerate() {
                if i > 0 {
                    list.push(',');
                }
                let mut one = String::new();
                let mut nw = ObjectWriter::new(&mut one);
                nw.num("seq", n.seq)
                    .str("at", &rfc3339_ms(n.at_ms))
                    .str("author", &n.author)
                    .str("text", &n.text);
                nw.end();
                list.push_str(&one);
            }
            list.push(']');
            w.raw("notes", &list);
        }
        w.end();
        out
    }
}

/// A note on a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// 1, 2, … per case.
    pub seq: u64,
    /// When.
    pub at_ms: u64,
    /// The token's name that wrote it.
    pub author: String,
    /// Text (shown as text, never HTML).
    pub text: String,
}

/// One hour in ms.
const HOUR_MS: f64 = 3_600_000.0;

/// The middle of `values` (the mean of the two middle ones for an even count); `None` when empty.
pub fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

/// Hours from `from_ms` to `to_ms`, 0 at least (a clock step back must not give a negative time).
fn hours_between(from_ms: u64, to_ms: u64) -> f64 {
    to_ms.saturating_sub(from_ms) as f64 / HOUR_MS
}

/// The cases figures of a summary: the cases OPENED in its period, where they stand now.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    /// Cases opened in the period, whatever became of them (withdrawn included).
    pub opened: u64,
    /// Of those, still open, in progress or reopened.
    pub open: u64,
    /// Of those, overdue now ([`Case::is_overdue`]).
    pub overdue: u64,
    /// Of those, resolved now.
    pub resolved: u64,
    /// Median time from opening to the first touch, in hours, over the touched cases.
    pub median_first_touch_hours: Option<f64>,
    /// Median time from opening to resolution, in hours, over the resolved cases.
    pub median_resolution_hours: Option<f64>,
    /// Resolved cases whose person answered the re-survey.
    pub resurveyed: u64,
    /// Of those, the ones whose re-survey left the detractor segment ([`Case::recovered`]).
    pub recovered: u64,
}

impl Figures {
    /// The figures of `cases` (those opened in the period) at `now_ms`. A status this version
    /// does not know counts as opened only.
    pub fn of(cases: &[Case], now_ms: u64) -> Figures {
        let count = |f: &dyn Fn(&Case) -> bool| cases.iter().filter(|c| f(c)).count() as u64;
        let status = |c: &Case| Status::parse(&c.status);
        let resolved = |c: &Case| status(c) == Some(Status::Resolved);
        let first_touch = cases
            .iter()
            .filter_map(|c| Some(hours_between(c.opened_ms, c.first_touch_ms?)))
            .collect();
        // A reopened case is not resolved: its old resolution time says nothing of the work left.
        let resolution = cases
            .iter()
            .filter(|c| resolved(c))
            .filter_map(|c| Some(hours_between(c.opened_ms, c.resolved_ms?)))
            .collect();
        Figures {
            opened: cases.len() as u64,
            open: count(&|c| status(c).is_some_and(Status::is_active)),
            overdue: count(&|c| c.is_overdue(now_ms)),
            resolved: count(&resolved),
            median_first_touch_hours: median(first_touch),
            median_resolution_hours: median(resolution),
            resurveyed: count(&|c| c.resurvey_score.is_some()),
            recovered: count(&|c| c.recovered() == Some(true)),
        }
    }

    /// Recovered ÷ re-surveyed, 0…1; `None` before any re-survey answer.
    pub fn recovery_rate(&self) -> Option<f64> {
        (self.resurveyed > 0).then(|| self.recovered as f64 / self.resurveyed as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(score: u8, rev: u32, survey: &str) -> Response {
        Response {
            id: "r1".into(),
            rev,
            site: "s".into(),
            survey: survey.into(),
            score,
            visitor: "v".into(),
            ..Default::default()
        }
    }

    #[test]
    fn detractors_open_cases_by_default_and_surveys_can_differ() {
        let mut cfg = CasesConfig::default();
        let hour = 3_600_000;
        assert_eq!(
            action(&cfg, &answer(3, 1, "checkout"), 0),
            Some(Action::Open { due_ms: 48 * hour })
        );
        assert_eq!(action(&cfg, &answer(8, 1, "checkout"), 0), None);
        assert_eq!(
            action(&cfg, &answer(9, 2, "checkout"), 0),
            Some(Action::Withdraw),
            "a later rev that leaves the segment withdraws"
        );
        cfg.survey_segments
            .insert("support".into(), vec!["detractor".into(), "passive".into()]);
        cfg.survey_segments.insert("beta".into(), vec![]);
        assert!(cfg.opens("support", Some(Segment::Passive)));
        assert!(!cfg.opens("beta", Some(Segment::Detractor)));
        cfg.enabled = false;
        assert_eq!(action(&cfg, &answer(0, 2, "checkout"), 0), None);
    }

    #[test]
    fn transitions() {
        use Status::*;
        for (a, b) in [
            (Open, InProgress),
            (Open, Resolved),
            (InProgress, Resolved),
            (Resolved, Reopened),
            (Reopened, Resolved),
            (Resolved, Resolved),
        ] {
            assert!(check_transition(a, b).is_ok(), "{a:?} → {b:?}");
        }
        for (a, b) in [
            (Withdrawn, Resolved),
            (Resolved, Open),
            (Resolved, InProgress),
            (Withdrawn, Reopened),
        ] {
            let e = check_transition(a, b).unwrap_err();
            assert_eq!(e.status(), 422);
            assert!(e.to_problem_json().contains("\"status\""));
        }
    }

    #[test]
    fn patch_and_note_bodies() {
        assert_eq!(
            parse_patch(br#"{"status":"in_progress","owner":"Ana"}"#).unwrap(),
            Patch {
                status: Some(Status::InProgress),
                owner: Some(Some("Ana".into())),
                external_ref: None,
            }
        );
        assert_eq!(parse_patch(br#"{"owner":null}"#).unwrap().owner, Some(None));
        assert_eq!(
            parse_patch(br#"{"external_ref":" ZD-77 "}"#)
                .unwrap()
                .external_ref,
            Some(Some("ZD-77".into()))
        );
        for (body, field) in [
            (r#"{"status":"done"}"#.to_string(), "status"),
            (r#"{"status":"withdrawn"}"#.to_string(), "status"),
            (format!(r#"{{"owner":"{}"}}"#, "x".repeat(121)), "owner"),
            (r#"{"external_ref":7}"#.to_string(), "external_ref"),
            (r#"{"owner":"  "}"#.to_string(), "owner"),
            (r#"{"colour":"red"}"#.to_string(), "colour"),
            ("{}".to_string(), ""),
        ] {
            let e = parse_patch(body.as_bytes()).unwrap_err();
            assert_eq!(e.status(), 422, "{body}");
            assert!(
                e.to_problem_json()
                    .contains(&format!("\"field\":\"{field}\"")),
                "{body}: {}",
                e.to_problem_json()
            );
        }
        assert_eq!(parse_patch(b"[1]").unwrap_err().status(), 400);
        assert_eq!(
            parse_note(br#"{"text":" Called, refund sent "}"#).unwrap(),
            "Called, refund sent"
        );
        assert_eq!(parse_note(br#"{"text":""}"#).unwrap_err().status(), 422);
        assert_eq!(parse_note(br#"{}"#).unwrap_err().status(), 422);
        let long = format!(r#"{{"text":"{}"}}"#, "n".repeat(MAX_NOTE_CHARS + 1));
        assert_eq!(parse_note(long.as_bytes()).unwrap_err().status(), 422);
    }

    #[test]
    fn list_filters() {
        let q = ListQuery::parse(
            "status=in_progress&owner=Ana%20B&overdue=true&segment=detractor&limit=20&cursor=40",
        )
        .unwrap();
        assert_eq!(q.status, Some(Status::InProgress));
        assert_eq!(q.owner.as_deref(), Some("Ana B"));
        assert!(q.overdue);
        assert_eq!((q.limit, q.offset), (20, 40));
        assert_eq!(ListQuery::parse("").unwrap().limit, DEFAULT_LIST_LIMIT);
        let e = ListQuery::parse("status=closed&limit=0&colour=red").unwrap_err();
        let body = e.to_problem_json();
        for f in ["status", "limit", "colour"] {
            assert!(body.contains(&format!("\"field\":\"{f}\"")), "{body}");
        }
    }

    #[test]
    fn overdue_and_recovered() {
        let c = Case {
            status: "open".into(),
            due_ms: 100,
            score: 3,
            ..Default::default()
        };
        assert!(!c.is_overdue(100));
        assert!(c.is_overdue(101));
        let touched = Case {
            first_touch_ms: Some(50),
            ..c.clone()
        };
        assert!(!touched.is_overdue(101));
        let back = Case {
            status: "resolved".into(),
            resurvey_score: Some(9),
            ..c.clone()
        };
        assert_eq!(back.recovered(), Some(true));
        assert_eq!(c.recovered(), None);
        let v: serde_json::Value = serde_json::from_str(&c.to_json("s", 101, Some(&[]))).unwrap();
        assert_eq!(v["overdue"], true);
        assert_eq!(v["segment"], "detractor");
        assert_eq!(v["notes"], serde_json::json!([]));
    }

    #[test]
    fn medians_by_hand() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![5.0]), Some(5.0));
        assert_eq!(
            median(vec![3.0, 1.0, 2.0]),
            Some(2.0),
            "odd: the middle one"
        );
        assert_eq!(
            median(vec![4.0, 1.0, 3.0, 2.0]),
            Some(2.5),
            "even: the mean of the two middle ones"
        );
        assert_eq!(median(vec![10.0, 0.5]), Some(5.25));
    }

    #[test]
    fn figures_of_a_period() {
        let h = 3_600_000;
        let case = |status: &str, opened: u64, touch: Option<u64>, resolved: Option<u64>| Case {
            status: status.into(),
            opened_ms: opened * h,
            due_ms: opened * h + 48 * h,
            first_touch_ms: touch.map(|t| t * h),
            resolved_ms: resolved.map(|t| t * h),
            score: 2,
            ..Default::default()
        };
        let resurveyed = |c: Case, score: u8| Case {
            resurvey_score: Some(score),
            ..c
        };
        let cases = [
            case("open", 0, None, None), // untouched past due: overdue at 50 h
            case("in_progress", 1, Some(3), None),
            resurveyed(case("resolved", 0, Some(1), Some(5)), 9),
            resurveyed(case("resolved", 2, Some(6), Some(12)), 4),
            Case {
                first_touch_ms: Some(h / 2),
                ..case("resolved", 0, None, Some(3))
            },
            case("resolved", 10, Some(10), Some(10)),
            case("withdrawn", 0, None, None), // opened, never open now, never overdue
            case("reopened", 0, Some(2), Some(3)), // open again: not in the resolution median
        ];
        let f = Figures::of(&cases, 50 * h);
        assert_eq!((f.opened, f.open, f.overdue, f.resolved), (8, 3, 1, 4));
        // First touches 2, 1, 4, 0.5, 0, 2 h → 0 0.5 1 | 2 2 4 → (1 + 2) / 2.
        assert_eq!(f.median_first_touch_hours, Some(1.5));
        // Resolutions 5, 10, 3, 0 h → 0 3 | 5 10 → (3 + 5) / 2.
        assert_eq!(f.median_resolution_hours, Some(4.0));
        assert_eq!((f.resurveyed, f.recovered), (2, 1));
        assert_eq!(f.recovery_rate(), Some(0.5));
        // Odd counts: without the last resolved case, resolutions 5, 10, 3 h → 5.
        let f = Figures::of(&[&cases[..5], &cases[6..]].concat(), 50 * h);
        assert_eq!(f.median_resolution_hours, Some(5.0));
        assert_eq!(f.median_first_touch_hours, Some(2.0), "0.5 1 2 2 4");
    }

    #[test]
    fn figures_without_cases_or_with_a_clock_step_back() {
        let f = Figures::of(&[], 0);
        assert_eq!(f, Figures::default());
        assert_eq!(
            (
                f.median_first_touch_hours,
                f.median_resolution_hours,
                f.recovery_rate()
            ),
            (None, None, None)
        );
        let early = Case {
            status: "resolved".into(),
            opened_ms: 10_000,
            first_touch_ms: Some(9_000),
            resolved_ms: Some(9_500),
            ..Default::default()
        };
        let f = Figures::of(&[early], 20_000);
        assert_eq!(f.median_first_touch_hours, Some(0.0));
        assert_eq!(f.median_resolution_hours, Some(0.0));
        assert_eq!(f.recovery_rate(), None, "resolved but not re-surveyed");
    }
}
