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

#[derive(Deserialize)]
struct Site {
    id: String,
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

/// The part of the summary the console shows.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Summary {
    pub responses: u64,
    pub nps: Option<f64>,
    pub nps_ci: Option<Interval>,
    pub low_sample: bool,
    pub response_rate: Option<f64>,
    pub non_respondents: u64,
    pub cases: Figures,
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
        let enc = |s: &str| String::from(js_sys::encode_uri_component(s.trim()));
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
pub async fn sites(token: &str) -> Result<Vec<String>, String> {
    let list: SiteList = read(authed(Request::get("/v1/sites"), token).send().await).await?;
    Ok(list.sites.into_iter().map(|s| s.id).collect())
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

/// The last 30 days' summary.
pub async fn summary(token: &str, site: &str) -> Result<Summary, String> {
    let url = format!("{}/summary", site_path(site));
    read(authed(Request::get(&url), token).send().await).await
}
