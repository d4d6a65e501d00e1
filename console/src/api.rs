//! The edge's API as the console uses it: the types it reads (serde) and one function per call
//! (gloo-net), each with the bearer token. Errors are the problem's `detail`, shown as text.

use gloo_net::http::{Request, RequestBuilder, Response};
use serde::{Deserialize, Serialize};

/// A case, as `GET /v1/sites/{site}/cases/{id}` shows it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Case {
    pub id: String,
    pub survey: String,
    pub status: String,
    pub owner: Option<String>,
    pub score: u8,
    pub first_score: u8,
    pub segment: String,
    pub comment: Option<String>,
    pub contact_ok: Option<bool>,
    pub user_id: Option<String>,
    pub account: Option<String>,
    pub order: Option<String>,
    pub email: Option<String>,
    pub opened_at: String,
    pub due_at: String,
    pub first_touch_at: Option<String>,
    pub resolved_at: Option<String>,
    pub resurvey_at: Option<String>,
    pub resurvey_score: Option<u8>,
    pub recovered: Option<bool>,
    pub external_ref: Option<String>,
    pub overdue: bool,
    #[serde(default)]
    pub notes: Vec<Note>,
}

/// A note on a case.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Note {
    pub seq: u64,
    pub at: String,
    pub author: String,
    pub text: String,
}

#[derive(Deserialize)]
struct CaseList {
    items: Vec<Case>,
}

#[derive(Deserialize)]
struct SiteList {
    sites: Vec<Site>,
}

/// A site this token reads, with the surveys that have answers.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Site {
    pub id: String,
    #[serde(default)]
    pub surveys: Vec<String>,
}

/// The follow-up figures of the summary (cases opened in the period).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Figures {
    pub opened: u64,
    pub open: u64,
    pub overdue: u64,
    pub resolved: u64,
    pub median_first_touch_hours: Option<f64>,
    pub median_resolution_hours: Option<f64>,
    pub resurveyed: u64,
    pub recovered: u64,
    pub recovery_rate: Option<f64>,
}

/// The NPS's 95% interval.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

/// Answers per segment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
pub struct Segments {
    pub detractor: u64,
    pub passive: u64,
    pub promoter: u64,
}

/// One bucket (a day or an ISO week) of the summary's series.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Bucket {
    pub start: String,
    pub responses: u64,
    pub nps: Option<f64>,
}

/// The period a summary is compared with, and whether the NPS moved beyond its noise.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Comparison {
    pub from: String,
    pub to: String,
    pub responses: u64,
    pub nps: Option<f64>,
    pub difference: Option<f64>,
    pub significant: Option<bool>,
}

/// The summary of a period (`GET …/summary`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Summary {
    pub site: String,
    pub survey: Option<String>,
    pub from: String,
    pub to: String,
    pub interval: String,
    pub responses: u64,
    pub nps: Option<f64>,
    pub nps_ci: Option<Interval>,
    pub low_sample: bool,
    pub by_segment: Segments,
    pub by_score: Vec<u64>,
    pub shown: u64,
    pub dismissed: u64,
    pub response_rate: Option<f64>,
    pub non_respondents: u64,
    pub cases: Figures,
    pub series: Vec<Bucket>,
    pub comparison: Option<Comparison>,
    pub touchpoints: Touchpoints,
}

/// Each touchpoint's own figures in the period.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Touchpoints {
    pub widget: WidgetTouchpoint,
    pub email: EmailTouchpoint,
}

/// The widget: impressions and the answers given in it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct WidgetTouchpoint {
    pub shown: u64,
    pub answered: u64,
    pub response_rate: Option<f64>,
}

/// E-mail: invitations and the answers through their links.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct EmailTouchpoint {
    pub invited: u64,
    pub sent: u64,
    pub answered: u64,
    pub response_rate: Option<f64>,
}

/// Who answered, as the site identified them.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct User {
    pub id: Option<String>,
    pub account: Option<String>,
    pub order: Option<String>,
    pub email: Option<String>,
}

/// An answer (`GET …/responses`, `GET …/responses/{id}`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Answer {
    pub id: String,
    pub survey: String,
    pub score: u8,
    pub segment: Option<String>,
    pub comment: Option<String>,
    pub locale: Option<String>,
    pub page: Option<String>,
    pub contact_ok: Option<bool>,
    pub review_clicked: Option<bool>,
    pub user: Option<User>,
    pub received_at: String,
}

/// A page of answers, newest first.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Page {
    pub items: Vec<Answer>,
    pub next_cursor: Option<String>,
}

/// Which answers, over which days (`YYYY-MM-DD`, UTC, inclusive).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Period {
    pub from: String,
    pub to: String,
    pub survey: String,
}

impl Period {
    fn query(&self) -> Vec<String> {
        let mut q = vec![format!("from={}", self.from), format!("to={}", self.to)];
        if !self.survey.is_empty() {
            q.push(format!("survey={}", enc(&self.survey)));
        }
        q
    }
}

fn enc(s: &str) -> String {
    String::from(js_sys::encode_uri_component(s.trim()))
}

#[derive(Deserialize)]
struct Problem {
    detail: String,
}

/// Which cases the board shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub status: String,
    pub overdue: bool,
    pub owner: String,
    pub survey: String,
}

impl Filter {
    fn query(&self) -> String {
        let mut q = vec!["limit=200".to_string()];
        if !self.status.is_empty() {
            q.push(format!("status={}", enc(&self.status)));
        }
        if self.overdue {
            q.push("overdue=true".into());
        }
        if !self.owner.trim().is_empty() {
            q.push(format!("owner={}", enc(&self.owner)));
        }
        if !self.survey.trim().is_empty() {
            q.push(format!("survey={}", enc(&self.survey)));
        }
        q.join("&")
    }
}

/// A change of a case (`PATCH`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Patch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<Option<String>>,
}

fn authed(b: RequestBuilder, token: &str) -> RequestBuilder {
    b.header("Authorization", &format!("Bearer {token}"))
        .header("Accept", "application/json")
}

async fn read<T: for<'de> Deserialize<'de>>(
    r: Result<Response, gloo_net::Error>,
) -> Result<T, String> {
    let r = r.map_err(|e| format!("The edge cannot be reached: {e}"))?;
    if r.ok() {
        return r.json::<T>().await.map_err(|e| e.to_string());
    }
    Err(match r.json::<Problem>().await {
        Ok(p) => p.detail,
        Err(_) => format!("HTTP {}", r.status()),
    })
}

fn site_path(site: &str) -> String {
    format!("/v1/sites/{}", js_sys::encode_uri_component(site))
}

/// The sites this token can read.
pub async fn sites(token: &str) -> Result<Vec<Site>, String> {
    let list: SiteList = read(authed(Request::get("/v1/sites"), token).send().await).await?;
    Ok(list.sites)
}

/// A page of cases, overdue first.
pub async fn cases(token: &str, site: &str, f: &Filter) -> Result<Vec<Case>, String> {
    let url = format!("{}/cases?{}", site_path(site), f.query());
    let list: CaseList = read(authed(Request::get(&url), token).send().await).await?;
    Ok(list.items)
}

fn case_path(site: &str, id: &str) -> String {
    format!(
        "{}/cases/{}",
        site_path(site),
        js_sys::encode_uri_component(id)
    )
}

/// One case with its notes.
pub async fn case(token: &str, site: &str, id: &str) -> Result<Case, String> {
    read(
        authed(Request::get(&case_path(site, id)), token)
            .send()
            .await,
    )
    .await
}

/// Moves or assigns a case.
pub async fn patch(token: &str, site: &str, id: &str, p: &Patch) -> Result<Case, String> {
    let req = authed(Request::patch(&case_path(site, id)), token)
        .json(p)
        .map_err(|e| e.to_string())?;
    read(req.send().await).await
}

/// Adds a note.
pub async fn note(token: &str, site: &str, id: &str, text: &str) -> Result<Case, String> {
    let url = format!("{}/notes", case_path(site, id));
    let req = authed(Request::post(&url), token)
        .json(&serde_json::json!({ "text": text }))
        .map_err(|e| e.to_string())?;
    read(req.send().await).await
}

/// One survey and batch of the e-mail funnel.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct FunnelBatch {
    pub survey: String,
    pub batch: String,
    pub invited: u64,
    pub sent: u64,
    pub delivered: u64,
    pub opened: u64,
    pub answered: u64,
    pub commented: u64,
    pub response_rate: f64,
    pub first_invited_at: Option<String>,
}

/// Someone invited who has not answered.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct NonRespondent {
    pub recipient: String,
    pub user: Option<String>,
    pub account: Option<String>,
    pub order: Option<String>,
    pub survey: String,
    pub batch: String,
    pub invited_at: Option<String>,
    pub sent_at: Option<String>,
    pub opened_at: Option<String>,
    pub reminded_at: Option<String>,
}

/// The e-mail funnel (`GET …/invitations`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Funnel {
    pub batches: Vec<FunnelBatch>,
    pub non_respondents: Vec<NonRespondent>,
}

/// The e-mail funnel of a site: per survey and batch, and who did not answer.
pub async fn funnel(token: &str, site: &str) -> Result<Funnel, String> {
    let url = format!("{}/invitations", site_path(site));
    read(authed(Request::get(&url), token).send().await).await
}

/// The last 30 days' summary.
pub async fn summary(token: &str, site: &str) -> Result<Summary, String> {
    let url = format!("{}/summary", site_path(site));
    read(authed(Request::get(&url), token).send().await).await
}

/// A period's summary by `interval` (`day` or `week`), compared with `previous` when given.
pub async fn report(
    token: &str,
    site: &str,
    p: &Period,
    interval: &str,
    previous: Option<(&str, &str)>,
) -> Result<Summary, String> {
    let mut q = p.query();
    q.push(format!("interval={}", enc(interval)));
    if let Some((from, to)) = previous {
        q.push(format!("compare_from={from}&compare_to={to}"));
    }
    let url = format!("{}/summary?{}", site_path(site), q.join("&"));
    read(authed(Request::get(&url), token).send().await).await
}

fn responses_url(site: &str, p: &Period, segment: &str, extra: &[String]) -> String {
    let mut q = p.query();
    if !segment.is_empty() {
        q.push(format!("segment={}", enc(segment)));
    }
    q.extend_from_slice(extra);
    format!("{}/responses?{}", site_path(site), q.join("&"))
}

/// A page of a period's answers (one segment, or all), after `cursor`.
pub async fn answers(
    token: &str,
    site: &str,
    p: &Period,
    segment: &str,
    cursor: Option<&str>,
    limit: u32,
) -> Result<Page, String> {
    let mut extra = vec![format!("limit={limit}")];
    if let Some(c) = cursor {
        extra.push(format!("cursor={}", enc(c)));
    }
    let url = responses_url(site, p, segment, &extra);
    read(authed(Request::get(&url), token).send().await).await
}

/// One answer (the one a chat alert links to).
pub async fn answer(token: &str, site: &str, id: &str) -> Result<Answer, String> {
    let url = format!(
        "{}/responses/{}",
        site_path(site),
        js_sys::encode_uri_component(id)
    );
    read(authed(Request::get(&url), token).send().await).await
}

/// Every answer of a period (one segment, or all) as CSV text.
pub async fn csv(token: &str, site: &str, p: &Period, segment: &str) -> Result<String, String> {
    let url = responses_url(site, p, segment, &["format=csv".to_string()]);
    let r = Request::get(&url)
        .header("Authorization", &format!("Bearer {token}"))
        .header("Accept", "text/csv")
        .send()
        .await
        .map_err(|e| format!("The edge cannot be reached: {e}"))?;
    if r.ok() {
        return r.text().await.map_err(|e| e.to_string());
    }
    Err(match r.json::<Problem>().await {
        Ok(p) => p.detail,
        Err(_) => format!("HTTP {}", r.status()),
    })
}
