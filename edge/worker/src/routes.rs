//! Close-the-loop HTTP API (issue 7) on the worker, same routes and answers as the native server
//! (`edge/server/src/{suppressions,report}.rs`); every decision and body comes from the core:
//!
//! - `PUT/DELETE/GET /v1/sites/{site}/suppressions[/{id}]` (admin token): `suppression::parse_put`,
//!   records in the site's Durable Object (`close_loop`).
//! - `GET /v1/sites/{site}/eligibility?survey=&user=&account=` (public, CORS): `{"show":bool}`,
//!   `Cache-Control: private, max-age=60`.
//! - `GET /v1/sites`, `/v1/sites/{site}/summary`, `/v1/sites/{site}/responses[/{id}]` (read
//!   token), from D1: `report::summarize`, `report_api::{summary_json, responses_page_json}`, `csv`.
//! - `GET /report` (+ `report.js`, `report.css`): the native server's page, embedded as is.

use nps_edge_core::report::{self, day_of_date, Row};
use nps_edge_core::report_api::{
    self, EligibilityQuery, Format, ResponsesQuery, SummaryQuery, DAY_MS,
};
use nps_edge_core::suppression::{self, check_subject, eligibility_json};
use nps_edge_core::time::rfc3339_ms;
use nps_edge_core::{csv, EdgeError};
use serde_json::json;
use worker::worker_sys::web_sys::{Request, Response};
use worker::{D1Database, Env};

use crate::api::{
    auth_problem, base_headers, header, json, loaded, new_headers, problem, read_raw_body, respond,
    set, Cors,
};
use crate::close_loop::{self, parse_records, response_object, site_object};
use crate::local_core::config::Sink;
use crate::sinks::d1;
use crate::state::Loaded;

const PAGE_HTML: &str = include_str!("../../app/src/report_page/index.html");
const PAGE_JS: &str = include_str!("../../app/src/report_page/report.js");
const PAGE_CSS: &str = include_str!("../../app/src/report_page/report.css");

/// Content-Security-Policy of the report page (the native server's).
const REPORT_CSP: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const NONE: Cors<'static> = Cors { origin: None };

/// Routes `/v1/sites…` and `/report…`.
pub(crate) async fn handle(
    req: &Request,
    env: &Env,
    path: &str,
    method: &str,
    query: &str,
) -> Response {
    let get = matches!(method, "GET" | "HEAD");
    match path {
        "/report" | "/report/" if get => asset("text/html; charset=utf-8", PAGE_HTML),
        "/report/report.js" if get => asset("text/javascript; charset=utf-8", PAGE_JS),
        "/report/report.css" if get => asset("text/css; charset=utf-8", PAGE_CSS),
        "/report" | "/report/" | "/report/report.js" | "/report/report.css" => {
            problem(&EdgeError::MethodNotAllowed, &NONE)
        }
        "/v1/sites" if get => reply(sites(req, env).await),
        "/v1/sites" => problem(&EdgeError::MethodNotAllowed, &NONE),
        _ => {
            let rest = path.strip_prefix("/v1/sites/").unwrap_or("");
            let parts: Vec<&str> = rest.split('/').collect();
            match (parts.as_slice(), method) {
                ([site, "eligibility"], "GET" | "HEAD") => eligibility(req, env, site, query).await,
                ([_, "eligibility"], "OPTIONS") => crate::api::preflight(req, env),
                ([site, "summary"], "GET" | "HEAD") => reply(summary(req, env, site, query).await),
                ([site, "responses"], "GET" | "HEAD") => responses(req, env, site, query).await,
                ([site, "responses", id], "GET" | "HEAD") => {
                    reply(one_response(req, env, site, id).await)
                }
                ([site, "suppressions"], "GET" | "HEAD") => reply(list(req, env, site).await),
                ([site, "suppressions", id], "GET" | "HEAD") => {
                    reply(get_one(req, env, site, id).await)
                }
                ([site, "suppressions", id], "PUT") => reply(put(req, env, site, id).await),
                ([site, "suppressions", id], "DELETE") => match delete(req, env, site, id).await {
                    Ok(()) => respond(204, base_headers("text/plain", &NONE), None),
                    Err(r) => r,
                },
                (
                    [_, "eligibility" | "summary" | "responses" | "suppressions"]
                    | [_, "responses" | "suppressions", _],
                    _,
                ) => problem(&EdgeError::MethodNotAllowed, &NONE),
                _ => problem(&EdgeError::NotFound, &NONE),
            }
        }
    }
}

/// An early refusal (a ready `Response`) or a JSON body for a 200.
type Answer = Result<String, Response>;

fn reply(a: Answer) -> Response {
    match a {
        Ok(body) => json(200, &body, &NONE),
        Err(r) => r,
    }
}

fn edge(e: EdgeError) -> Response {
    problem(&e, &NONE)
}

fn asset(content_type: &str, body: &str) -> Response {
    let h = new_headers();
    set(&h, "content-type", content_type);
    set(&h, "cache-control", "no-cache");
    set(&h, "content-security-policy", REPORT_CSP);
    set(&h, "x-content-type-options", "nosniff");
    set(&h, "referrer-policy", "no-referrer");
    set(&h, "x-frame-options", "DENY");
    respond(200, h, Some(body))
}

/// Token (admin or read scope) first, then the site: 401/403, then 404.
fn authorize(
    req: &Request,
    env: &Env,
    site: Option<&str>,
    admin: bool,
) -> Result<std::rc::Rc<Loaded>, Response> {
    let l = loaded(env).map_err(edge)?;
    let auth = header(req, "authorization");
    let checked = if admin {
        l.config.tokens.check_admin(auth.as_deref())
    } else {
        l.config.tokens.check_read(auth.as_deref())
    };
    checked.map_err(auth_problem)?;
    if let Some(s) = site {
        if l.config.site(s).is_none() {
            return Err(edge(EdgeError::NotFound));
        }
    }
    Ok(l)
}

fn db(env: &Env, l: &Loaded) -> Result<D1Database, Response> {
    let binding = l.config.sinks.iter().find_map(|s| match s {
        Sink::D1 { binding } => Some(binding),
        _ => None,
    });
    let Some(b) = binding else {
        return Err(edge(EdgeError::Unavailable(
            "the report needs a d1 sink (none configured)".into(),
        )));
    };
    env.d1(b)
        .map_err(|e| edge(EdgeError::Unavailable(format!("d1: {e}"))))
}

fn store_err(e: worker::Error) -> Response {
    worker::console_error!("nps-worker report query: {e}");
    edge(EdgeError::Unavailable("store query failed".into()))
}

fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

// ---- suppressions ---------------------------------------------------------------------------

async fn put(req: &Request, env: &Env, site: &str, subject: &str) -> Answer {
    let l = authorize(req, env, Some(site), true)?;
    let body = read_raw_body(req).await.map_err(edge)?;
    let now = now_ms();
    let s = suppression::parse_put(subject, &body, now).map_err(edge)?;
    let request = json!({
        "op": "sup_put", "subject": s.subject, "expires_ms": s.expires_ms,
        "reason": s.reason, "created_ms": s.created_ms,
    });
    close_loop::call(env, &l, &site_object(site), &request)
        .await
        .map_err(edge)?;
    worker::console_log!("nps-worker: suppression set site={site} subject={subject}");
    Ok(s.to_json(site, now))
}

async fn delete(req: &Request, env: &Env, site: &str, subject: &str) -> Result<(), Response> {
    let l = authorize(req, env, Some(site), true)?;
    check_subject(subject).map_err(edge)?;
    let n = close_loop::call(
        env,
        &l,
        &site_object(site),
        &json!({"op": "sup_del", "subject": subject}),
    )
    .await
    .map_err(edge)?;
    if n != "1" {
        return Err(edge(EdgeError::NotFound));
    }
    worker::console_log!("nps-worker: suppression deleted site={site} subject={subject}");
    Ok(())
}

async fn get_one(req: &Request, env: &Env, site: &str, subject: &str) -> Answer {
    let l = authorize(req, env, Some(site), true)?;
    check_subject(subject).map_err(edge)?;
    let text = close_loop::call(
        env,
        &l,
        &site_object(site),
        &json!({"op": "sup_get", "subjects": [subject]}),
    )
    .await
    .map_err(edge)?;
    parse_records(&text)
        .first()
        .map(|r| r.to_json(site, now_ms()))
        .ok_or_else(|| edge(EdgeError::NotFound))
}

async fn list(req: &Request, env: &Env, site: &str) -> Answer {
    let l = authorize(req, env, Some(site), true)?;
    let text = close_loop::call(
        env,
        &l,
        &site_object(site),
        &json!({"op": "sup_get", "subjects": []}),
    )
    .await
    .map_err(edge)?;
    let now = now_ms();
    let items: Vec<String> = parse_records(&text)
        .iter()
        .map(|r| r.to_json(site, now))
        .collect();
    Ok(format!("{{\"items\":[{}]}}", items.join(",")))
}

/// Is a visitor blocked: `Some("suppressed" | "answered")`, `None` when free. `respondent`
/// (survey, user) also checks "already answered within the respondent window".
async fn blocked(
    env: &Env,
    l: &Loaded,
    site: &str,
    user: Option<&str>,
    account: Option<&str>,
    respondent: Option<(&str, &str)>,
) -> Result<Option<String>, EdgeError> {
    let sup_obj = site_object(site);
    let key = respondent.map(|(survey, user)| {
        (
            response_object(l, site, survey),
            format!("{survey}\n{user}"),
        )
    });
    // One call when the respondent record lives in the site object too (`shard = "site"`).
    let same = key.as_ref().is_none_or(|(o, _)| *o == sup_obj);
    let first = json!({
        "op": "blocked", "user": user, "account": account,
        "respondent_key": if same { key.as_ref().map(|(_, k)| k.clone()) } else { None },
    });
    let a = close_loop::call(env, l, &sup_obj, &first).await?;
    if a != "ok" {
        return Ok(Some(a));
    }
    if let (false, Some((obj, k))) = (same, key) {
        let b =
            close_loop::call(env, l, &obj, &json!({"op": "blocked", "respondent_key": k})).await?;
        if b != "ok" {
            return Ok(Some(b));
        }
    }
    Ok(None)
}

/// Refuses a `shown` event from a suppressed user or account (403 `EdgeError::Suppressed`).
/// A store error lets the event through (as natively: an impression is better than nothing).
pub(crate) async fn check_shown(
    env: &Env,
    l: &Loaded,
    e: &nps_protocol::Event,
) -> Result<(), EdgeError> {
    let Some(u) = e
        .user
        .as_ref()
        .filter(|_| e.kind == nps_protocol::EventType::Shown)
    else {
        return Ok(());
    };
    if u.id.is_none() && u.account.is_none() {
        return Ok(());
    }
    match blocked(env, l, &e.site, u.id.as_deref(), u.account.as_deref(), None).await {
        Ok(Some(_)) => Err(EdgeError::Suppressed),
        _ => Ok(()),
    }
}

/// `{"show":false}` when the user or the account has an active suppression, or this user already
/// answered this survey within the site's respondent window; else `{"show":true}`.
async fn eligibility(req: &Request, env: &Env, site: &str, query: &str) -> Response {
    let origin = header(req, "origin");
    let res = async {
        let l = loaded(env)?;
        let s = l
            .config
            .site(site)
            .ok_or_else(|| EdgeError::UnknownSite(site.chars().take(64).collect()))?;
        if let Some(o) = origin.as_deref() {
            if !s.allows_origin(o) {
                return Err(EdgeError::OriginNotAllowed(o.chars().take(200).collect()));
            }
        }
        let q = EligibilityQuery::parse(query)?;
        if q.user.is_none() && q.account.is_none() {
            return Ok(true);
        }
        let respondent = match (q.survey.as_deref(), q.user.as_deref()) {
            (Some(survey), Some(user)) if s.respondent_window_days > 0 => Some((survey, user)),
            _ => None,
        };
        Ok(blocked(
            env,
            &l,
            site,
            q.user.as_deref(),
            q.account.as_deref(),
            respondent,
        )
        .await?
        .is_none())
    }
    .await;
    let cors_ok = origin
        .as_deref()
        .filter(|o| loaded(env).is_ok_and(|l| l.config.any_site_allows(o)));
    let resp = match res {
        Ok(show) => {
            let h = base_headers("application/json", &Cors { origin: cors_ok });
            set(&h, "cache-control", "private, max-age=60");
            respond(200, h, Some(eligibility_json(show)))
        }
        Err(e) => problem(&e, &Cors { origin: cors_ok }),
    };
    let _ = resp.headers().set("vary", "Origin");
    resp
}

// ---- report ---------------------------------------------------------------------------------

async fn sites(req: &Request, env: &Env) -> Answer {
    let l = authorize(req, env, None, false)?;
    let db = db(env, &l)?;
    let mut body = String::from("{\"sites\":[");
    for (i, s) in l.config.sites.iter().enumerate() {
        let surveys = d1::surveys(&db, &s.id).await.map_err(store_err)?;
        if i > 0 {
            body.push(',');
        }
        body.push_str("{\"id\":");
        nps_protocol::json::push_str(&mut body, &s.id);
        body.push_str(",\"surveys\":[");
        for (j, v) in surveys.iter().enumerate() {
            if j > 0 {
                body.push(',');
            }
            nps_protocol::json::push_str(&mut body, v);
        }
        body.push_str("]}");
    }
    body.push_str("]}");
    Ok(body)
}

/// Receive-time bound as stored text (`received_at` is fixed-width RFC 3339 with ms, so text
/// order is time order).
fn bound(ms: u64) -> String {
    if ms >= 253_402_300_800_000 {
        "~".into() // after any year-9999 timestamp
    } else {
        rfc3339_ms(ms)
    }
}

async fn summary(req: &Request, env: &Env, site: &str, query: &str) -> Answer {
    let l = authorize(req, env, Some(site), false)?;
    let today = (now_ms() / DAY_MS) as i64;
    let q = SummaryQuery::parse(query, today).map_err(edge)?;
    let db = db(env, &l)?;
    let (start, end) = q.range_ms();
    let counts = d1::day_counts(&db, site, q.survey.as_deref(), &bound(start), &bound(end))
        .await
        .map_err(store_err)?;
    let mut rows = Vec::new();
    for c in counts {
        let Some(day) = day_of_date(&c.day) else {
            continue;
        };
        let at_ms = day * DAY_MS as i64;
        let n = c.n.max(0.0) as u64;
        let row = match c.kind.as_str() {
            "shown" => Row::Shown { at_ms },
            "dismissed" => Row::Dismissed { at_ms },
            "response" => Row::Response {
                at_ms,
                score: c.score.unwrap_or(0.0).clamp(0.0, 10.0) as u8,
            },
            _ => continue,
        };
        rows.extend(std::iter::repeat_n(row, n as usize));
    }
    match report::summarize(rows, q.from, q.to, q.interval) {
        Some(s) => Ok(report_api::summary_json(site, &q, &s)),
        None => Err(edge(EdgeError::Invalid(vec![nps_protocol::Problem::new(
            "from",
            nps_protocol::ProblemCode::Range,
            "period too long",
        )]))),
    }
}

async fn responses(req: &Request, env: &Env, site: &str, query: &str) -> Response {
    let l = match authorize(req, env, Some(site), false) {
        Ok(l) => l,
        Err(r) => return r,
    };
    let accept = header(req, "accept");
    let q = match ResponsesQuery::parse(query, accept.as_deref()) {
        Ok(q) => q,
        Err(e) => return edge(e),
    };
    let db = match db(env, &l) {
        Ok(db) => db,
        Err(r) => return r,
    };
    let (start, end) = q.range_ms();
    let limit = match q.format {
        Format::Json => Some(q.limit + 1),
        Format::Csv => None,
    };
    let cursor = q
        .cursor
        .as_ref()
        .map(|c| (rfc3339_ms(c.received_ms), c.id.clone()));
    let page = d1::ResponsesFilter {
        site,
        survey: q.survey.as_deref(),
        scores: q.score_range(),
        start: bound(start),
        end: bound(end),
        cursor,
        limit,
    };
    let mut rows = match d1::responses_page(&db, &page).await {
        Ok(r) => r,
        Err(e) => return store_err(e),
    };
    match q.format {
        Format::Json => {
            let has_more = rows.len() > q.limit as usize;
            rows.truncate(q.limit as usize);
            json(
                200,
                &report_api::responses_page_json(&rows, has_more),
                &NONE,
            )
        }
        Format::Csv => {
            let mut body = csv::header();
            for (r, ms) in &rows {
                csv::push_response(&mut body, r, *ms);
            }
            let h = base_headers(csv::CONTENT_TYPE, &NONE);
            set(
                &h,
                "content-disposition",
                &format!(
                    "attachment; filename=\"nps-{site}-{}.csv\"",
                    report::date_of_day((now_ms() / DAY_MS) as i64)
                ),
            );
            set(&h, "x-content-type-options", "nosniff");
            respond(200, h, Some(&body))
        }
    }
}

async fn one_response(req: &Request, env: &Env, site: &str, id: &str) -> Answer {
    let l = authorize(req, env, Some(site), false)?;
    if !nps_protocol::limits::is_valid_id(id) {
        return Err(edge(EdgeError::NotFound));
    }
    let db = db(env, &l)?;
    match d1::latest_response(&db, site, id)
        .await
        .map_err(store_err)?
    {
        Some((r, ms)) => Ok(report_api::response_item_json(&r, ms)),
        None => Err(edge(EdgeError::NotFound)),
    }
}
