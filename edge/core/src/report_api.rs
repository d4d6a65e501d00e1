//! The report API, pure parts: query-string parsing (`summary`, `responses`, `eligibility`),
//! keyset cursors, and the JSON rendering of [`crate::report::Summary`] and of response pages.
//!
//! Both runtimes fetch rows from their store (SQLite / D1: the latest rev per response id), feed
//! them to [`crate::report::summarize`] and answer with [`summary_json`], so the figures cannot
//! differ between them.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use nps_protocol::json::{write_response_fields, ObjectWriter};
use nps_protocol::limits::is_valid_id;
use nps_protocol::{Problem, ProblemCode, Response, Segment};

use crate::cases::Figures;
use crate::error::EdgeError;
use crate::report::{
    compare, date_of_day, day_of_date, Counts, Interval, NpsInterval, Summary, MAX_BUCKETS,
};
use crate::time::rfc3339_ms;

/// One day in ms.
pub const DAY_MS: u64 = 86_400_000;
/// Default page size of `GET …/responses`.
pub const DEFAULT_LIMIT: u32 = 50;
/// Largest page size of `GET …/responses` (JSON); the CSV export streams every page.
pub const MAX_LIMIT: u32 = 500;

/// Decodes an `application/x-www-form-urlencoded` query string (`+` = space, `%XX`); invalid
/// escapes are kept literally, invalid UTF-8 is replaced.
pub fn parse_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let hex = |c: u8| (c as char).to_digit(16);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Query parameters, checked one by one; every problem is reported at once (422).
struct Params {
    pairs: Vec<(String, String)>,
    problems: Vec<Problem>,
}

impl Params {
    fn new(raw: &str, allowed: &[&str]) -> Params {
        let pairs = parse_query(raw);
        let mut problems = Vec::new();
        for (i, (k, _)) in pairs.iter().enumerate() {
            if !allowed.contains(&k.as_str()) {
                problems.push(Problem::new(
                    k.chars().take(64).collect::<String>(),
                    ProblemCode::Unknown,
                    format!("allowed: {}", allowed.join(", ")),
                ));
            } else if pairs[..i].iter().any(|(k2, _)| k2 == k) {
                problems.push(Problem::new(
                    k.clone(),
                    ProblemCode::TooMany,
                    "given more than once",
                ));
            }
        }
        Params { pairs, problems }
    }

    fn get(&self, k: &str) -> Option<String> {
        self.pairs
            .iter()
            .find(|(k2, _)| k2 == k)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    }

    fn id(&mut self, k: &str) -> Option<String> {
        let v = self.get(k)?.to_string();
        if is_valid_id(&v) {
            Some(v)
        } else {
            self.problems.push(Problem::new(
                k,
                ProblemCode::Charset,
                "must be 1-64 characters of A-Z a-z 0-9 _ . : -",
            ));
            None
        }
    }

    fn date(&mut self, k: &str) -> Option<i64> {
        let v = self.get(k)?;
        match day_of_date(&v) {
            Some(d) => Some(d),
            None => {
                self.problems.push(Problem::new(
                    k,
                    ProblemCode::Format,
                    "must be a date YYYY-MM-DD",
                ));
                None
            }
        }
    }

    /// `compare_from` and `compare_to`: both or neither, a period of 1 to [`MAX_BUCKETS`] days.
    fn compare_period(&mut self) -> Option<ComparePeriod> {
        let (from, to) = (self.date("compare_from"), self.date("compare_to"));
        let given = |k| self.get(k).is_some();
        let (has_from, has_to) = (given("compare_from"), given("compare_to"));
        if has_from != has_to {
            let (missing, other) = if has_from {
                ("compare_to", "compare_from")
            } else {
                ("compare_from", "compare_to")
            };
            self.problems.push(Problem::new(
                missing,
                ProblemCode::Missing,
                format!("required with `{other}`"),
            ));
            return None;
        }
        let (from, to) = (from?, to?);
        if from > to {
            self.problems.push(Problem::new(
                "compare_from",
                ProblemCode::Range,
                "must not be after `compare_to`",
            ));
            None
        } else if to - from >= MAX_BUCKETS as i64 {
            self.problems.push(Problem::new(
                "compare_from",
                ProblemCode::Range,
                format!("the period must be at most {MAX_BUCKETS} days"),
            ));
            None
        } else {
            Some(ComparePeriod { from, to })
        }
    }

    fn finish<T>(self, v: T) -> Result<T, EdgeError> {
        if self.problems.is_empty() {
            Ok(v)
        } else {
            Err(EdgeError::Invalid(self.problems))
        }
    }
}

/// The period a summary is compared with: days since epoch (UTC), inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComparePeriod {
    /// First day.
    pub from: i64,
    /// Last day.
    pub to: i64,
}

impl ComparePeriod {
    /// `[start, end)` of the period in ms since the epoch, for the store query.
    pub fn range_ms(&self) -> (u64, u64) {
        (day_ms(self.from), day_ms(self.to + 1))
    }
}

/// `GET /v1/sites/{site}/summary?survey=&from=&to=&interval=day|week&compare_from=&compare_to=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryQuery {
    /// Only this survey; `None` = all surveys of the site.
    pub survey: Option<String>,
    /// First day (days since epoch, UTC), inclusive.
    pub from: i64,
    /// Last day, inclusive.
    pub to: i64,
    /// Series bucket width.
    pub interval: Interval,
    /// The other period of a comparison (`compare_from` and `compare_to`, given together).
    pub compare: Option<ComparePeriod>,
}

impl SummaryQuery {
    /// Parses the raw query string. Defaults: `to` = today (UTC), `from` = 29 days before `to`
    /// (30 days) for `day`, 83 days before (12 weeks) for `week`; `interval` = `day`; no
    /// comparison. `compare_from` and `compare_to` come together, under the same rules as
    /// `from` and `to` (the two periods may overlap and differ in length).
    pub fn parse(raw: &str, today: i64) -> Result<SummaryQuery, EdgeError> {
        let mut p = Params::new(
            raw,
            &[
                "survey",
                "from",
                "to",
                "interval",
                "compare_from",
                "compare_to",
            ],
        );
        let survey = p.id("survey");
        let interval = match p.get("interval") {
            None => Interval::Day,
            Some(s) => Interval::parse(&s).unwrap_or_else(|| {
                p.problems.push(Problem::new(
                    "interval",
                    ProblemCode::Format,
                    "must be day or week",
                ));
                Interval::Day
            }),
        };
        let to = p.date("to").unwrap_or(today);
        let span = if interval == Interval::Week { 83 } else { 29 };
        let from = p.date("from").unwrap_or(to - span);
        if from > to {
            p.problems.push(Problem::new(
                "from",
                ProblemCode::Range,
                "must not be after `to`",
            ));
        } else if to - from >= MAX_BUCKETS as i64 {
            p.problems.push(Problem::new(
                "from",
                ProblemCode::Range,
                format!("the period must be at most {MAX_BUCKETS} days"),
            ));
        }
        let compare = p.compare_period();
        p.finish(SummaryQuery {
            survey,
            from,
            to,
            interval,
            compare,
        })
    }

    /// `[start, end)` of the period in ms since the epoch, for the store query.
    pub fn range_ms(&self) -> (u64, u64) {
        (day_ms(self.from), day_ms(self.to + 1))
    }
}

fn day_ms(day: i64) -> u64 {
    u64::try_from(day).unwrap_or(0).saturating_mul(DAY_MS)
}

/// Output format of `GET …/responses`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON page.
    Json,
    /// CSV of every matching response (all pages).
    Csv,
}

/// Position after the last item of a page: newest first, so the next page holds items
/// strictly before `(received_ms, id)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// Receive time of the last item returned.
    pub received_ms: u64,
    /// Its response id (tie-breaker).
    pub id: String,
}

impl Cursor {
    /// Opaque URL-safe form.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}:{}", self.received_ms, self.id))
    }

    /// Parses [`Cursor::encode`] output.
    pub fn decode(s: &str) -> Option<Cursor> {
        let raw = URL_SAFE_NO_PAD.decode(s.as_bytes()).ok()?;
        let raw = String::from_utf8(raw).ok()?;
        let (ms, id) = raw.split_once(':')?;
        let received_ms = ms
            .parse()
            .ok()
            .filter(|_| ms.bytes().all(|b| b.is_ascii_digit()))?;
        is_valid_id(id).then(|| Cursor {
            received_ms,
            id: id.to_string(),
        })
    }
}

/// `GET /v1/sites/{site}/responses?segment=&survey=&from=&to=&cursor=&limit=&format=json|csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponsesQuery {
    /// Only this survey.
    pub survey: Option<String>,
    /// Only this segment.
    pub segment: Option<Segment>,
    /// Only responses received on or after this day.
    pub from: Option<i64>,
    /// Only responses received on or before this day.
    pub to: Option<i64>,
    /// Continue after this item.
    pub cursor: Option<Cursor>,
    /// Page size (1..=[`MAX_LIMIT`]).
    pub limit: u32,
    /// JSON page or CSV export.
    pub format: Format,
}

impl ResponsesQuery {
    /// Parses the raw query string; `accept` is the `Accept` header (`text/csv` selects CSV when
    /// no `format` is given).
    pub fn parse(raw: &str, accept: Option<&str>) -> Result<ResponsesQuery, EdgeError> {
        let mut p = Params::new(
            raw,
            &[
                "survey", "segment", "from", "to", "cursor", "limit", "format",
            ],
        );
        let survey = p.id("survey");
        let segment = p.get("segment").and_then(|s| {
            let g = Segment::parse(&s);
            if g.is_none() {
                p.problems.push(Problem::new(
                    "segment",
                    ProblemCode::Format,
                    "must be detractor, passive or promoter",
                ));
            }
            g
        });
        let (from, to) = (p.date("from"), p.date("to"));
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                p.problems.push(Problem::new(
                    "from",
                    ProblemCode::Range,
                    "must not be after `to`",
                ));
            }
        }
        let cursor = p.get("cursor").and_then(|c| {
            let cur = Cursor::decode(&c);
            if cur.is_none() {
                p.problems.push(Problem::new(
                    "cursor",
                    ProblemCode::Format,
                    "is not a cursor returned by this API",
                ));
            }
            cur
        });
        let limit = match p.get("limit").as_deref() {
            None => DEFAULT_LIMIT,
            Some(l) => match l.parse::<u32>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) && l.bytes().all(|b| b.is_ascii_digit()) => n,
                _ => {
                    p.problems.push(Problem::new(
                        "limit",
                        ProblemCode::Range,
                        format!("must be 1-{MAX_LIMIT}"),
                    ));
                    DEFAULT_LIMIT
                }
            },
        };
        let format = match p.get("format").as_deref() {
            Some("json") => Format::Json,
            Some("csv") => Format::Csv,
            Some(_) => {
                p.problems.push(Problem::new(
                    "format",
                    ProblemCode::Format,
                    "must be json or csv",
                ));
                Format::Json
            }
            None if accept.is_some_and(|a| a.to_ascii_lowercase().contains("text/csv")) => {
                Format::Csv
            }
            None => Format::Json,
        };
        p.finish(ResponsesQuery {
            survey,
            segment,
            from,
            to,
            cursor,
            limit,
            format,
        })
    }

    /// `[start, end)` receive-time bounds in ms.
    pub fn range_ms(&self) -> (u64, u64) {
        (
            self.from.map_or(0, day_ms),
            self.to.map_or(u64::MAX, |t| day_ms(t + 1)),
        )
    }

    /// Score range `[lo, hi]` of the segment filter (`0..=10` without one), for the store query.
    pub fn score_range(&self) -> (u8, u8) {
        match self.segment {
            None => (0, 10),
            Some(Segment::Detractor) => (0, 6),
            Some(Segment::Passive) => (7, 8),
            Some(Segment::Promoter) => (9, 10),
        }
    }
}

/// `GET /v1/sites/{site}/eligibility?survey=S&user=ID&account=ACC`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EligibilityQuery {
    /// Survey about to be shown.
    pub survey: Option<String>,
    /// The identified user's id.
    pub user: Option<String>,
    /// Their account id.
    pub account: Option<String>,
    /// The identity signature of `user` (see [`crate::identity`]).
    pub signature: Option<String>,
}

impl EligibilityQuery {
    /// Parses the raw query string (`visitor` is accepted and ignored, for loaders that send it).
    pub fn parse(raw: &str) -> Result<EligibilityQuery, EdgeError> {
        let mut p = Params::new(raw, &["survey", "user", "account", "signature", "visitor"]);
        let signature = p.get("signature");
        if signature
            .as_deref()
            .is_some_and(|s| !nps_protocol::validate::is_signature(s))
        {
            p.problems.push(Problem::new(
                "signature",
                ProblemCode::Format,
                "must be the lowercase hex HMAC-SHA256 of user (64 characters)",
            ));
        }
        let q = EligibilityQuery {
            survey: p.id("survey"),
            user: p.id("user"),
            account: p.id("account"),
            signature,
        };
        p.finish(q)
    }
}

/// Writes a finite float, or `null` for `None`/NaN/∞. Shortest representation that parses back
/// to the same `f64`, so figures are exact.
fn num_or_null(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() => {
            let s = format!("{x}");
            if s == "-0" {
                "0".into()
            } else {
                s
            }
        }
        _ => "null".into(),
    }
}

fn segments_json(c: &Counts) -> String {
    let mut s = String::new();
    let mut w = ObjectWriter::new(&mut s);
    for g in Segment::ALL {
        w.num(g.as_str(), c.segment(g));
    }
    w.end();
    s
}

fn scores_json(c: &Counts) -> String {
    let v: Vec<String> = c.by_score.iter().map(u64::to_string).collect();
    format!("[{}]", v.join(","))
}

fn ci_json(ci: Option<NpsInterval>) -> String {
    match ci {
        Some(ci) => format!(
            "{{\"low\":{},\"high\":{}}}",
            num_or_null(Some(ci.low)),
            num_or_null(Some(ci.high))
        ),
        None => "null".into(),
    }
}

fn bool_or_null(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "true",
        Some(false) => "false",
        None => "null",
    }
}

/// The cases figures of a period; medians and the rate null when there is nothing to measure.
fn cases_json(f: &Figures) -> String {
    let mut s = String::with_capacity(256);
    ObjectWriter::new(&mut s)
        .num("opened", f.opened)
        .num("open", f.open)
        .num("overdue", f.overdue)
        .num("resolved", f.resolved)
        .raw(
            "median_first_touch_hours",
            &num_or_null(f.median_first_touch_hours),
        )
        .raw(
            "median_resolution_hours",
            &num_or_null(f.median_resolution_hours),
        )
        .num("resurveyed", f.resurveyed)
        .num("recovered", f.recovered)
        .raw("recovery_rate", &num_or_null(f.recovery_rate()))
        .end();
    s
}

/// The summary answer:
///
/// ```json
/// {"site":"demo","survey":null,"from":"2026-11-01","to":"2026-11-30","interval":"day",
///  "responses":10,"nps":10,"nps_ci":{"low":-36.06474908950346,"high":51.44936447411885},
///  "low_sample":true,"by_segment":{"detractor":3,"passive":3,"promoter":4},
///  "by_score":[1,0,0,1,0,0,1,1,2,2,2],"shown":20,"dismissed":4,"response_rate":0.5,
///  "non_respondents":10,
///  "cases":{"opened":3,"open":1,"overdue":0,"resolved":2,"median_first_touch_hours":1.5,
///           "median_resolution_hours":20,"resurveyed":2,"recovered":1,"recovery_rate":0.5},
///  "series":[{"start":"2026-11-01","responses":0,"nps":null,"by_segment":{…},"shown":0,
///             "dismissed":0,"response_rate":null,"non_respondents":0}, …],
///  "comparison":{"from":"2026-10-01","to":"2026-10-31","responses":12,"nps":0,
///                "nps_ci":{…},"low_sample":true,"difference":10,"significant":false,
///                "cases":{…}}}
/// ```
///
/// `nps` is −100…100 (null without responses), `nps_ci` its adjusted-Wald 95% interval (null
/// without responses), `low_sample` true under [`crate::report::LOW_SAMPLE_THRESHOLD`]
/// responses, `response_rate` 0…1 (null when nothing was shown), `non_respondents` = shown −
/// responses (0 at least); every figure is the exact `f64` (clients round for display).
/// `cases` are the [`Figures`] of the cases opened in the period (medians null without a touched
/// or resolved case, `recovery_rate` null without a re-survey answer).
/// `comparison` is there only when the query asked for one (`q.compare`): pass the other
/// period's counts and cases figures as `other`. Its `difference` is `nps` − its `nps` and
/// `significant` the 95% test of [`crate::report::compare`], both null when either period has no
/// responses.
/// How each touchpoint did in a period: the widget (shown, and the answers it brought) and
/// e-mail (invited, sent by the edge, and the answers through the links).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Touchpoints {
    /// Widget impressions.
    pub shown: u64,
    /// Answers given in the widget.
    pub widget_answered: u64,
    /// E-mail invitations made.
    pub invited: u64,
    /// Of which the edge sent.
    pub sent: u64,
    /// Answers through the links of those invitations.
    pub email_answered: u64,
}

/// Adds `"touchpoints":{"widget":{"shown","answered","response_rate"},"email":{"invited","sent",
/// "answered","response_rate"}}` to a [`summary_json`] object. Each rate is its touchpoint's own
/// (answers over impressions, answers over invitations), so the two can be read side by side.
pub fn add_touchpoints(mut summary: String, t: &Touchpoints) -> String {
    let rate = |n: u64, d: u64| num_or_null((d > 0).then(|| (n as f64 / d as f64).min(1.0)));
    if summary.ends_with('}') {
        summary.pop();
        if !summary.ends_with('{') {
            summary.push(',');
        }
        summary.push_str(&format!(
            "\"touchpoints\":{{\"widget\":{{\"shown\":{},\"answered\":{},\"response_rate\":{}}},\
\"email\":{{\"invited\":{},\"sent\":{},\"answered\":{},\"response_rate\":{}}}}}}}",
            t.shown,
            t.widget_answered,
            rate(t.widget_answered, t.shown),
            t.invited,
            t.sent,
            t.email_answered,
            rate(t.email_answered, t.invited),
        ));
    }
    summary
}

pub fn summary_json(
    site: &str,
    q: &SummaryQuery,
    s: &Summary,
    cases: &Figures,
    other: Option<(&Counts, &Figures)>,
) -> String {
    let mut out = String::with_capacity(640 + s.series.len() * 180);
    let mut w = ObjectWriter::new(&mut out);
    w.str("site", site);
    match &q.survey {
        Some(v) => w.str("survey", v),
        None => w.raw("survey", "null"),
    };
    w.str("from", &date_of_day(q.from))
        .str("to", &date_of_day(q.to))
        .str(
            "interval",
            if q.interval == Interval::Week {
                "week"
            } else {
                "day"
            },
        )
        .num("responses", s.counts.total())
        .raw("nps", &num_or_null(s.counts.nps()))
        .raw("nps_ci", &ci_json(s.counts.nps_ci()))
        .raw("low_sample", bool_or_null(Some(s.counts.low_sample())))
        .raw("by_segment", &segments_json(&s.counts))
        .raw("by_score", &scores_json(&s.counts))
        .num("shown", s.shown)
        .num("dismissed", s.dismissed)
        .raw("response_rate", &num_or_null(s.response_rate()))
        .num("non_respondents", s.non_respondents())
        .raw("cases", &cases_json(cases));
    let mut series = String::from("[");
    for (i, b) in s.series.iter().enumerate() {
        if i > 0 {
            series.push(',');
        }
        let rate = (b.shown > 0).then(|| (b.counts.total() as f64 / b.shown as f64).min(1.0));
        let mut bw = ObjectWriter::new(&mut series);
        bw.str("start", &b.start)
            .num("responses", b.counts.total())
            .raw("nps", &num_or_null(b.counts.nps()))
            .raw("by_segment", &segments_json(&b.counts))
            .num("shown", b.shown)
            .num("dismissed", b.dismissed)
            .raw("response_rate", &num_or_null(rate))
            .num("non_respondents", b.non_respondents());
        bw.end();
    }
    series.push(']');
    w.raw("series", &series);
    if let (Some(period), Some((other, other_cases))) = (q.compare, other) {
        let change = compare(&s.counts, other);
        let mut c = String::with_capacity(256);
        ObjectWriter::new(&mut c)
            .str("from", &date_of_day(period.from))
            .str("to", &date_of_day(period.to))
            .num("responses", other.total())
            .raw("nps", &num_or_null(other.nps()))
            .raw("nps_ci", &ci_json(other.nps_ci()))
            .raw("low_sample", bool_or_null(Some(other.low_sample())))
            .raw("difference", &num_or_null(change.map(|c| c.difference)))
            .raw("significant", bool_or_null(change.map(|c| c.significant)))
            .raw("cases", &cases_json(other_cases))
            .end();
        w.raw("comparison", &c);
    }
    w.end();
    out
}

/// One response in a page: the wire fields plus `segment` and `received_at`.
pub fn response_item_json(r: &Response, received_ms: u64) -> String {
    let mut s = String::with_capacity(384);
    let mut w = ObjectWriter::new(&mut s);
    write_response_fields(&mut w, r);
    if let Some(g) = r.segment() {
        w.str("segment", g.as_str());
    }
    w.str("received_at", &rfc3339_ms(received_ms));
    w.end();
    s
}

/// `{"items":[…],"next_cursor":"…"|null}`. `items` are `(response, received_ms)`, newest first;
/// pass `has_more` when the store returned more than `limit` rows (fetch `limit + 1`).
pub fn responses_page_json(items: &[(Response, u64)], has_more: bool) -> String {
    let mut out = String::from("{\"items\":[");
    for (i, (r, ms)) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&response_item_json(r, *ms));
    }
    out.push_str("],\"next_cursor\":");
    match items.last().filter(|_| has_more) {
        Some((r, ms)) => nps_protocol::json::push_str(
            &mut out,
            &Cursor {
                received_ms: *ms,
                id: r.id.clone(),
            }
            .encode(),
        ),
        None => out.push_str("null"),
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{summarize, Row};
    use serde_json::Value;

    const TODAY: i64 = 20_787; // 2026-11-30

    fn problems(e: EdgeError) -> Vec<String> {
        match e {
            EdgeError::Invalid(ps) => ps.into_iter().map(|p| p.field).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn touchpoints_sit_side_by_side_in_the_summary() {
        let t = Touchpoints {
            shown: 40,
            widget_answered: 10,
            invited: 8,
            sent: 8,
            email_answered: 4,
        };
        let v: Value =
            serde_json::from_str(&add_touchpoints("{\"site\":\"demo\"}".into(), &t)).unwrap();
        assert_eq!(v["site"], "demo");
        assert_eq!(v["touchpoints"]["widget"]["response_rate"], 0.25);
        assert_eq!(v["touchpoints"]["email"]["response_rate"], 0.5);
        assert_eq!(v["touchpoints"]["email"]["sent"], 8);
        let none: Value =
            serde_json::from_str(&add_touchpoints("{}".into(), &Touchpoints::default())).unwrap();
        assert!(none["touchpoints"]["email"]["response_rate"].is_null());
    }

    #[test]
    fn query_decoding() {
        let q = parse_query("a=1&b=x+y&c=%41%2b&d&e=%zz&&f=%e2%9c%93&g=%4");
        assert_eq!(
            q,
            [
                ("a", "1"),
                ("b", "x y"),
                ("c", "A+"),
                ("d", ""),
                ("e", "%zz"),
                ("f", "✓"),
                ("g", "%4")
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
        );
    }

    #[test]
    fn summary_query_defaults_and_errors() {
        assert_eq!(date_of_day(TODAY), "2026-11-30");
        let q = SummaryQuery::parse("", TODAY).unwrap();
        assert_eq!(
            (q.from, q.to, q.interval, q.survey),
            (TODAY - 29, TODAY, Interval::Day, None)
        );
        let q = SummaryQuery::parse("interval=week&survey=checkout&to=2026-11-29", TODAY).unwrap();
        assert_eq!(
            (q.to, q.from, q.survey.as_deref()),
            (TODAY - 1, TODAY - 84, Some("checkout"))
        );
        assert_eq!(q.range_ms(), (day_ms(TODAY - 84), day_ms(TODAY)));
        let e = SummaryQuery::parse("interval=month&from=2026-13-01&survey=a%20b&x=1", TODAY)
            .unwrap_err();
        assert_eq!(e.status(), 422);
        assert_eq!(problems(e), ["x", "survey", "interval", "from"]);
        assert_eq!(
            problems(SummaryQuery::parse("from=2026-12-01&to=2026-11-01", TODAY).unwrap_err()),
            ["from"]
        );
        assert_eq!(
            problems(SummaryQuery::parse("from=1970-01-01", TODAY).unwrap_err()),
            ["from"]
        );
        assert_eq!(
            problems(SummaryQuery::parse("to=2026-11-01&to=2026-11-02", TODAY).unwrap_err()),
            ["to"]
        );
    }

    #[test]
    fn summary_query_comparison() {
        let q = SummaryQuery::parse(
            "from=2026-11-01&to=2026-11-30&compare_from=2026-10-01&compare_to=2026-10-31",
            TODAY,
        )
        .unwrap();
        let c = q.compare.unwrap();
        assert_eq!(
            (date_of_day(c.from), date_of_day(c.to)),
            ("2026-10-01".into(), "2026-10-31".into())
        );
        assert_eq!(c.range_ms(), (day_ms(c.from), day_ms(c.to + 1)));
        // Overlapping, of another length, a single day: all fine.
        let q =
            SummaryQuery::parse("compare_from=2026-11-30&compare_to=2026-11-30", TODAY).unwrap();
        assert_eq!(q.compare.map(|c| c.to - c.from), Some(0));
        // Empty values count as absent, like the other parameters.
        assert_eq!(
            SummaryQuery::parse("compare_from=&compare_to=", TODAY)
                .unwrap()
                .compare,
            None
        );
        for (raw, fields) in [
            ("compare_from=2026-10-01", &["compare_to"][..]),
            ("compare_to=2026-10-01", &["compare_from"]),
            (
                "compare_from=2026-10-31&compare_to=2026-10-01",
                &["compare_from"],
            ),
            (
                "compare_from=1970-01-01&compare_to=2026-10-01",
                &["compare_from"],
            ),
            (
                "compare_from=2026-10-1&compare_to=2026-13-01",
                &["compare_from", "compare_to"],
            ),
            (
                "compare_from=2026-10-01&compare_to=2026-10-02&compare_to=2026-10-03",
                &["compare_to"],
            ),
            ("compare=2026-10", &["compare"]),
        ] {
            let e = SummaryQuery::parse(raw, TODAY).unwrap_err();
            assert_eq!(e.status(), 422, "{raw}");
            assert_eq!(problems(e), fields, "{raw}");
        }
    }

    /// The comparison object, on the hand-computed cases of `report`'s tests.
    #[test]
    fn summary_comparison_rendering() {
        let d = day_of_date("2026-11-23").unwrap();
        let answers = |scores: &[u8], day: i64| -> Vec<Row> {
            scores
                .iter()
                .map(|&score| Row::Response {
                    at_ms: day * 86_400_000,
                    score,
                })
                .collect()
        };
        // This week: 4 promoters, 3 passives, 3 detractors (NPS 10); last week: 2, 4, 4 (−20).
        let now = answers(&[10, 9, 9, 10, 7, 8, 8, 0, 6, 3], d);
        let before = answers(&[10, 9, 7, 7, 8, 8, 0, 1, 2, 6], d - 7);
        let q = SummaryQuery {
            survey: None,
            from: d,
            to: d + 6,
            interval: Interval::Day,
            compare: Some(ComparePeriod {
                from: d - 7,
                to: d - 1,
            }),
        };
        let s = summarize(now, q.from, q.to, q.interval).unwrap();
        let none = Figures::default();
        let other = summarize(before, d - 7, d - 1, Interval::Week)
            .unwrap()
            .counts;
        let v: Value =
            serde_json::from_str(&summary_json("demo", &q, &s, &none, Some((&other, &none))))
                .unwrap();
        let c = &v["comparison"];
        assert_eq!(
            (c["from"].as_str(), c["to"].as_str()),
            (Some("2026-11-16"), Some("2026-11-22"))
        );
        assert_eq!(
            (c["responses"].as_u64(), c["nps"].as_f64()),
            (Some(10), Some(-20.0))
        );
        // By hand (see report's tests): −20 ± …, NPS' = −2/13, bounds −55.81862856583458 and
        // 25.04939779660381 (Var/n' = 93.5/2197, 1.96·SE = 0.4043401318121920).
        assert!((c["nps_ci"]["low"].as_f64().unwrap() + 55.81862856583458).abs() < 1e-9);
        assert!((c["nps_ci"]["high"].as_f64().unwrap() - 25.04939779660381).abs() < 1e-9);
        assert_eq!(c["low_sample"], true);
        assert_eq!(c["difference"].as_f64(), Some(30.0));
        assert_eq!(
            c["significant"], false,
            "30 points on 10 answers each is noise"
        );
        assert_eq!(c["cases"]["opened"], 0, "the other period's cases");
        // The other period without answers: its figures and the change are null.
        let empty = Counts::default();
        let v: Value =
            serde_json::from_str(&summary_json("demo", &q, &s, &none, Some((&empty, &none))))
                .unwrap();
        let c = &v["comparison"];
        assert_eq!(c["responses"], 0);
        for k in ["nps", "nps_ci", "difference", "significant"] {
            assert_eq!(c[k], Value::Null, "{k}");
        }
        assert_eq!(c["low_sample"], true);
        // No comparison asked: no object, even with counts.
        let plain = SummaryQuery { compare: None, ..q };
        let v: Value = serde_json::from_str(&summary_json(
            "demo",
            &plain,
            &s,
            &none,
            Some((&other, &none)),
        ))
        .unwrap();
        assert!(v.get("comparison").is_none());
    }

    #[test]
    fn responses_query() {
        let q = ResponsesQuery::parse("", None).unwrap();
        assert_eq!(
            (q.limit, q.format, q.score_range()),
            (DEFAULT_LIMIT, Format::Json, (0, 10))
        );
        assert_eq!(q.range_ms(), (0, u64::MAX));
        let q = ResponsesQuery::parse("segment=passive&limit=500", Some("text/csv")).unwrap();
        assert_eq!(
            (q.limit, q.format, q.score_range()),
            (500, Format::Csv, (7, 8))
        );
        assert_eq!(
            ResponsesQuery::parse("format=json", Some("text/csv"))
                .unwrap()
                .format,
            Format::Json
        );
        let c = Cursor {
            received_ms: 1_795_998_759_123,
            id: "r:1.x".into(),
        };
        let q = ResponsesQuery::parse(&format!("cursor={}", c.encode()), None).unwrap();
        assert_eq!(q.cursor, Some(c));
        let e =
            ResponsesQuery::parse("segment=fans&limit=0&cursor=!!&format=xml", None).unwrap_err();
        assert_eq!(problems(e), ["segment", "cursor", "limit", "format"]);
        assert_eq!(
            problems(ResponsesQuery::parse("limit=+5", None).unwrap_err()),
            ["limit"]
        );
        assert!(Cursor::decode(&URL_SAFE_NO_PAD.encode("12:bad id")).is_none());
        assert!(Cursor::decode(&URL_SAFE_NO_PAD.encode("-1:a")).is_none());
    }

    #[test]
    fn eligibility_query() {
        let q =
            EligibilityQuery::parse("survey=checkout&user=u-42&account=acme&visitor=v").unwrap();
        assert_eq!(
            (q.user.as_deref(), q.account.as_deref()),
            (Some("u-42"), Some("acme"))
        );
        assert_eq!(
            problems(EligibilityQuery::parse("user=%3Cscript%3E").unwrap_err()),
            ["user"]
        );
    }

    #[test]
    fn summary_rendering_is_exact() {
        let d = day_of_date("2026-11-23").unwrap();
        let mut rows: Vec<Row> = [10, 9, 9, 10, 7, 8, 8, 0, 6, 3]
            .iter()
            .map(|&score| Row::Response {
                at_ms: d * 86_400_000 + 1,
                score,
            })
            .collect();
        rows.extend((0..20).map(|_| Row::Shown {
            at_ms: (d + 1) * 86_400_000,
        }));
        rows.push(Row::Response {
            at_ms: (d + 2) * 86_400_000,
            score: 0,
        });
        let q = SummaryQuery {
            survey: Some("checkout".into()),
            from: d,
            to: d + 6,
            interval: Interval::Day,
            compare: None,
        };
        let s = summarize(rows, q.from, q.to, q.interval).unwrap();
        let v: Value =
            serde_json::from_str(&summary_json("demo", &q, &s, &Figures::default(), None)).unwrap();
        assert_eq!(v["responses"], 11);
        assert_eq!(v["nps"].as_f64().unwrap(), 100.0 * (4.0 - 4.0) / 11.0);
        assert_eq!(v["by_segment"]["detractor"], 4);
        assert_eq!(v["by_score"].as_array().unwrap().len(), 11);
        assert_eq!(v["by_score"][0], 2);
        assert_eq!(v["response_rate"].as_f64().unwrap(), 0.55);
        assert_eq!(v["non_respondents"], 9, "20 shown − 11 answers");
        assert_eq!(v["low_sample"], true);
        assert!(v["nps_ci"]["low"].as_f64().unwrap() < 0.0);
        assert!(v["nps_ci"]["high"].as_f64().unwrap() > 0.0);
        assert!(v.get("comparison").is_none(), "absent when not asked");
        assert_eq!(v["series"][0]["non_respondents"], 0);
        assert_eq!(v["series"][1]["non_respondents"], 20);
        assert!(v["series"][0].get("nps_ci").is_none());
        assert_eq!(v["series"].as_array().unwrap().len(), 7);
        assert_eq!(v["series"][0]["nps"].as_f64().unwrap(), 10.0);
        assert_eq!(v["series"][1]["nps"], Value::Null);
        assert_eq!(v["series"][1]["response_rate"].as_f64().unwrap(), 0.0);
        assert_eq!(v["series"][2]["nps"].as_f64().unwrap(), -100.0);
        assert_eq!(v["series"][3]["response_rate"], Value::Null);
        assert_eq!(
            (v["from"].as_str(), v["survey"].as_str()),
            (Some("2026-11-23"), Some("checkout"))
        );
        // 1/3 round-trips exactly.
        let mut c = Counts::default();
        c.add(10);
        c.add(7);
        c.add(7);
        assert_eq!(num_or_null(c.nps()).parse::<f64>().unwrap(), 100.0 / 3.0);
    }

    /// The cases object carries the figures as they are: counts, exact medians, null when there
    /// is nothing to measure.
    #[test]
    fn summary_cases_rendering() {
        let d = day_of_date("2026-11-23").unwrap();
        let q = SummaryQuery {
            survey: None,
            from: d,
            to: d,
            interval: Interval::Day,
            compare: None,
        };
        let s = summarize(Vec::<Row>::new(), q.from, q.to, q.interval).unwrap();
        let f = Figures {
            opened: 5,
            open: 2,
            overdue: 1,
            resolved: 2,
            median_first_touch_hours: Some(1.5),
            median_resolution_hours: None,
            resurveyed: 3,
            recovered: 1,
        };
        let v: Value = serde_json::from_str(&summary_json("demo", &q, &s, &f, None)).unwrap();
        let c = &v["cases"];
        assert_eq!(
            (
                c["opened"].as_u64(),
                c["open"].as_u64(),
                c["overdue"].as_u64(),
                c["resolved"].as_u64()
            ),
            (Some(5), Some(2), Some(1), Some(2))
        );
        assert_eq!(c["median_first_touch_hours"].as_f64(), Some(1.5));
        assert_eq!(c["median_resolution_hours"], Value::Null);
        assert_eq!(
            (c["resurveyed"].as_u64(), c["recovered"].as_u64()),
            (Some(3), Some(1))
        );
        assert_eq!(c["recovery_rate"].as_f64().unwrap(), 1.0 / 3.0);
        let v: Value =
            serde_json::from_str(&summary_json("demo", &q, &s, &Figures::default(), None)).unwrap();
        for k in [
            "median_first_touch_hours",
            "median_resolution_hours",
            "recovery_rate",
        ] {
            assert_eq!(v["cases"][k], Value::Null, "{k}");
        }
        assert_eq!(v["cases"]["opened"], 0);
    }

    #[test]
    fn pages_and_cursors() {
        let r = |id: &str| Response {
            id: id.into(),
            rev: 1,
            site: "s".into(),
            survey: "q".into(),
            score: 9,
            visitor: "v".into(),
            comment: Some("<b>hi</b>".into()),
            ..Default::default()
        };
        let page = responses_page_json(&[(r("a"), 2000), (r("b"), 1000)], true);
        let v: Value = serde_json::from_str(&page).unwrap();
        assert_eq!(v["items"][0]["segment"], "promoter");
        assert_eq!(v["items"][1]["received_at"], "1970-01-01T00:00:01.000Z");
        assert_eq!(v["items"][0]["comment"], "<b>hi</b>");
        let cur = Cursor::decode(v["next_cursor"].as_str().unwrap()).unwrap();
        assert_eq!(
            cur,
            Cursor {
                received_ms: 1000,
                id: "b".into()
            }
        );
        let v: Value =
            serde_json::from_str(&responses_page_json(&[(r("a"), 2000)], false)).unwrap();
        assert_eq!(v["next_cursor"], Value::Null);
        assert_eq!(
            responses_page_json(&[], true),
            r#"{"items":[],"next_cursor":null}"#
        );
    }

    proptest::proptest! {
        /// The JSON carries exactly the figures of the arithmetic: every f64 round-trips, every
        /// count matches, every bucket (empty ones included) is present.
        #[test]
        fn rendered_figures_are_exact(
            answers in proptest::collection::vec((0i64..40, 0u8..=10), 0..200),
            shown in proptest::collection::vec(0i64..40, 0..200),
            week in proptest::bool::ANY,
        ) {
            let base = day_of_date("2026-01-01").unwrap();
            let rows = answers
                .iter()
                .map(|&(d, score)| Row::Response { at_ms: (base + d) * 86_400_000 + 7, score })
                .chain(shown.iter().map(|&d| Row::Shown { at_ms: (base + d) * 86_400_000 }));
            let interval = if week { Interval::Week } else { Interval::Day };
            let q = SummaryQuery { survey: None, from: base, to: base + 39, interval, compare: None };
            let s = summarize(rows, q.from, q.to, q.interval).unwrap();
            let v: Value = serde_json::from_str(&summary_json("demo", &q, &s, &Figures::default(), None)).unwrap();
            proptest::prop_assert_eq!(v["responses"].as_u64(), Some(answers.len() as u64));
            // The text is Rust's shortest round-trip form, so it parses back to the same f64
            // (serde_json's default parser may be 1 ulp off, hence `close` on parsed values).
            for x in [s.counts.nps(), s.response_rate()].into_iter().flatten() {
                proptest::prop_assert_eq!(num_or_null(Some(x)).parse::<f64>().unwrap(), x);
            }
            let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
                (Some(a), Some(b)) => (a - b).abs() <= 1e-12 * b.abs().max(1.0),
                (a, b) => a.is_none() && b.is_none(),
            };
            proptest::prop_assert!(close(v["nps"].as_f64(), s.counts.nps()));
            proptest::prop_assert!(close(v["response_rate"].as_f64(), s.response_rate()));
            let ci = s.counts.nps_ci();
            proptest::prop_assert!(close(v["nps_ci"]["low"].as_f64(), ci.map(|c| c.low)));
            proptest::prop_assert!(close(v["nps_ci"]["high"].as_f64(), ci.map(|c| c.high)));
            proptest::prop_assert_eq!(v["low_sample"].as_bool(), Some(s.counts.low_sample()));
            proptest::prop_assert_eq!(v["non_respondents"].as_u64(), Some(s.non_respondents()));
            let series = v["series"].as_array().unwrap();
            proptest::prop_assert_eq!(series.len(), s.series.len());
            for (b, j) in s.series.iter().zip(series) {
                proptest::prop_assert!(close(j["nps"].as_f64(), b.counts.nps()));
                proptest::prop_assert_eq!(j["responses"].as_u64(), Some(b.counts.total()));
                proptest::prop_assert_eq!(j["shown"].as_u64(), Some(b.shown));
                proptest::prop_assert_eq!(j["non_respondents"].as_u64(), Some(b.non_respondents()));
                let sum: u64 = Segment::ALL.iter().map(|g| j["by_segment"][g.as_str()].as_u64().unwrap()).sum();
                proptest::prop_assert_eq!(sum, b.counts.total());
            }
        }
    }
}
