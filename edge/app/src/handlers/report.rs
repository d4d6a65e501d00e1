//! The report API (read token), from the response store: one row per response id (its latest
//! rev), counted on the UTC day its first rev arrived. The statements are `crate::store`'s, the
//! arithmetic and the JSON the core's: the figures cannot differ between runtimes.

use nps_edge_core::cases::{Case, Figures};
use nps_edge_core::report::{self, Row};
use nps_edge_core::report_api::{self, Format, ResponsesQuery, SummaryQuery, DAY_MS};
use nps_edge_core::{csv, EdgeError};
use nps_protocol::{Problem, ProblemCode};

use crate::backend::{Backend, BackendError, SqlValue};
use crate::handlers::{known_site, param, scope};
use crate::http::{ApiError, Request, Response};
use crate::routes::Params;
use crate::store;
use crate::{unavailable, App};
use nps_edge_core::auth::Role;

/// Sites and the surveys that have answers (the report's pickers).
#[cfg_attr(feature = "openapi", utoipa::path(
    get, path = "/v1/sites", tag = "report",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Configured sites, each with its surveys.", body = crate::openapi::SiteList),
        (status = 401, description = "No bearer token.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the read scope.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The store cannot answer right now.", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
))]
pub(crate) async fn list_sites<B: Backend>(
    app: &App<B>,
    req: &Request,
    _: &Params,
) -> Result<Response, ApiError> {
    let token = scope(app, req, Role::Read, None)?;
    let mut body = String::from("{\"sites\":[");
    let granted = app
        .config()
        .sites
        .iter()
        .filter(|s| token.grants_site(&s.id));
    for (i, site) in granted.enumerate() {
        let rows = app
            .backend()
            .query(store::SURVEYS, vec![SqlValue::Text(site.id.clone())])
            .await
            .map_err(unavailable)?;
        if i > 0 {
            body.push(',');
        }
        body.push_str("{\"id\":");
        nps_protocol::json::push_str(&mut body, &site.id);
        body.push_str(",\"surveys\":[");
        let surveys = rows
            .iter()
            .filter_map(|r| r.first().and_then(SqlValue::as_str));
        for (j, s) in surveys.enumerate() {
            if j > 0 {
                body.push(',');
            }
            nps_protocol::json::push_str(&mut body, s);
        }
        body.push_str("]}");
    }
    body.push_str("]}");
    Ok(Response::json(200, body))
}

/// NPS with its 95% confidence interval, segments, scores, response rate, non-respondents, the
/// cases opened and the series of a period, optionally compared with another period.
#[cfg_attr(feature = "openapi", utoipa::path(
    get, path = "/v1/sites/{site}/summary", tag = "report",
    params(
        ("site" = String, Path, description = "Site id."),
        ("survey" = Option<String>, Query, description = "Only this survey."),
        ("from" = Option<String>, Query, description = "First day (YYYY-MM-DD, UTC). Default: 30 days (day) or 12 weeks (week) back."),
        ("to" = Option<String>, Query, description = "Last day (YYYY-MM-DD, UTC). Default: today."),
        ("interval" = Option<String>, Query, description = "`day` (default) or `week` (ISO weeks)."),
        ("compare_from" = Option<String>, Query, description = "First day of a period to compare with (YYYY-MM-DD, UTC); requires `compare_to`."),
        ("compare_to" = Option<String>, Query, description = "Last day of the period to compare with (YYYY-MM-DD, UTC); requires `compare_from`."),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The figures (`nps` -100..100 with its 95% interval `nps_ci`, null without answers; `cases` of the cases opened in the period; `comparison` only when asked).", body = crate::openapi::Summary),
        (status = 401, description = "No bearer token.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the read scope.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown site.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad dates or interval, only one of compare_from/compare_to, unknown parameters, or a period over 3700 days.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The store cannot answer right now.", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
))]
pub(crate) async fn summary<B: Backend>(
    app: &App<B>,
    req: &Request,
    params: &Params,
) -> Result<Response, ApiError> {
    let site = param(params, 0);
    scope(app, req, Role::Read, Some(site))?;
    known_site(app, site)?;
    let today = (app.backend().now_ms() / DAY_MS) as i64;
    let q = SummaryQuery::parse(&req.query, today)?;
    let survey = q.survey.as_deref();
    let input = day_counts(app, site, survey, q.range_ms()).await?;
    let cases = case_figures(app, site, survey, q.range_ms()).await?;
    let touch = touchpoints(app, site, survey, q.range_ms()).await?;
    let other = match q.compare {
        Some(c) => {
            let rows = day_counts(app, site, survey, c.range_ms()).await?;
            // Only the totals of the other period are used: weekly buckets keep the work small.
            let counts = report::summarize(rows, c.from, c.to, report::Interval::Week);
            let cases = case_figures(app, site, survey, c.range_ms()).await?;
            counts.map(|s| (s.counts, cases))
        }
        None => None,
    };
    let other = other.as_ref().map(|(counts, cases)| (counts, cases));
    match report::summarize(input, q.from, q.to, q.interval) {
        Some(s) => Ok(Response::json(
            200,
            report_api::add_touchpoints(
                report_api::summary_json(site, &q, &s, &cases, other),
                &touch,
            ),
        )),
        None => Err(EdgeError::Invalid(vec![Problem::new(
            "from",
            ProblemCode::Range,
            "period too long",
        )])
        .into()),
    }
}

/// The parameters of a period statement: `?1` site, `?2` survey or NULL, `[?3, ?4)` ms.
fn range_params(site: &str, survey: Option<&str>, (start, end): (u64, u64)) -> Vec<SqlValue> {
    vec![
        SqlValue::Text(site.to_string()),
        SqlValue::opt_text(survey),
        SqlValue::Int(start as i64),
        SqlValue::Int(end.min(i64::MAX as u64) as i64),
    ]
}

/// The rows of a period statement.
async fn in_range<B: Backend>(
    app: &App<B>,
    sql: &'static str,
    site: &str,
    survey: Option<&str>,
    range: (u64, u64),
) -> Result<crate::backend::Rows, ApiError> {
    let params = range_params(site, survey, range);
    Ok(app
        .backend()
        .query(sql, params)
        .await
        .map_err(unavailable)?)
}

/// The widget's and the e-mail's figures over `[start, end)` ms ([`store::TOUCHPOINTS`]).
async fn touchpoints<B: Backend>(
    app: &App<B>,
    site: &str,
    survey: Option<&str>,
    (start, end): (u64, u64),
) -> Result<report_api::Touchpoints, ApiError> {
    let rows = in_range(app, store::TOUCHPOINTS, site, survey, (start, end)).await?;
    let n = |i: usize| {
        rows.first()
            .and_then(|r| r.get(i))
            .and_then(SqlValue::as_i64)
            .map_or(0, |v| v.max(0) as u64)
    };
    Ok(report_api::Touchpoints {
        shown: n(0),
        widget_answered: n(1),
        invited: n(2),
        sent: n(3),
        email_answered: n(4),
    })
}

/// The rows of [`store::DAY_COUNTS`] over `[start, end)` ms, expanded into the core's input.
async fn day_counts<B: Backend>(
    app: &App<B>,
    site: &str,
    survey: Option<&str>,
    (start, end): (u64, u64),
) -> Result<Vec<Row>, ApiError> {
    let rows = in_range(app, store::DAY_COUNTS, site, survey, (start, end)).await?;
    let mut input = Vec::new();
    for r in &rows {
        let (Some(day), Some(kind), Some(n)) = (
            r.first().and_then(SqlValue::as_i64),
            r.get(1).and_then(SqlValue::as_str),
            r.get(3).and_then(SqlValue::as_i64),
        ) else {
            continue;
        };
        let at_ms = day * DAY_MS as i64;
        let row = match kind {
            "shown" => Row::Shown { at_ms },
            "dismissed" => Row::Dismissed { at_ms },
            "response" => Row::Response {
                at_ms,
                score: r
                    .get(2)
                    .and_then(SqlValue::as_i64)
                    .unwrap_or(0)
                    .clamp(0, 10) as u8,
            },
            _ => continue,
        };
        input.extend(std::iter::repeat_n(row, n.max(0) as usize));
    }
    Ok(input)
}

/// The figures of the cases opened in `[start, end)` ms, as they stand now; a runtime without a
/// response store has no cases.
async fn case_figures<B: Backend>(
    app: &App<B>,
    site: &str,
    survey: Option<&str>,
    range: (u64, u64),
) -> Result<Figures, ApiError> {
    let params = range_params(site, survey, range);
    let rows = match app.backend().query(store::CASES_OPENED, params).await {
        Ok(rows) => rows,
        Err(BackendError::NoStore) => Vec::new(),
        Err(e) => return Err(unavailable(e).into()),
    };
    let cases: Vec<Case> = rows.iter().filter_map(|r| opened_case(r)).collect();
    Ok(Figures::of(&cases, app.backend().now_ms()))
}

/// A case from a row of [`store::CASES_OPENED`], with only the fields the figures read.
fn opened_case(row: &[SqlValue]) -> Option<Case> {
    let n = |i: usize| row.get(i).and_then(SqlValue::as_i64);
    let ms = |i: usize| n(i).map(|v| v.max(0) as u64);
    Some(Case {
        status: row.first()?.as_str()?.to_string(),
        opened_ms: ms(1)?,
        due_ms: ms(2)?,
        first_touch_ms: ms(3),
        resolved_ms: ms(4),
        resurvey_score: n(5).map(|v| v.clamp(0, 10) as u8),
        ..Case::default()
    })
}

/// Answers, newest first: JSON pages by keyset cursor, or every matching answer as CSV.
#[cfg_attr(feature = "openapi", utoipa::path(
    get, path = "/v1/sites/{site}/responses", tag = "report",
    params(
        ("site" = String, Path, description = "Site id."),
        ("segment" = Option<String>, Query, description = "detractor, passive or promoter."),
        ("survey" = Option<String>, Query, description = "Only this survey."),
        ("from" = Option<String>, Query, description = "First day (YYYY-MM-DD, UTC)."),
        ("to" = Option<String>, Query, description = "Last day (YYYY-MM-DD, UTC)."),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page."),
        ("limit" = Option<u32>, Query, description = "1-500, default 50."),
        ("format" = Option<String>, Query, description = "`json` (default) or `csv` (also chosen by `Accept: text/csv`)."),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of answers (JSON), or all of them (CSV, RFC 4180, formulas neutralised).",
         content((crate::openapi::ResponsesPage = "application/json"), (String = "text/csv; charset=utf-8; header=present"))),
        (status = 401, description = "No bearer token.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the read scope.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown site.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad filter, cursor or limit, or unknown parameters.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The store cannot answer right now.", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
))]
pub(crate) async fn list_responses<B: Backend>(
    app: &App<B>,
    req: &Request,
    params: &Params,
) -> Result<Response, ApiError> {
    let site = param(params, 0);
    scope(app, req, Role::Read, Some(site))?;
    known_site(app, site)?;
    let q = ResponsesQuery::parse(&req.query, req.header("accept"))?;
    let (start, end) = q.range_ms();
    let (lo, hi) = q.score_range();
    let limit = match q.format {
        Format::Json => i64::from(q.limit) + 1,
        Format::Csv => -1,
    };
    let (cur_ms, cur_id) = match &q.cursor {
        Some(c) => (
            SqlValue::Int(c.received_ms as i64),
            SqlValue::Text(c.id.clone()),
        ),
        None => (SqlValue::Null, SqlValue::Null),
    };
    let rows = app
        .backend()
        .query(
            store::RESPONSES_PAGE,
            vec![
                SqlValue::Text(site.to_string()),
                SqlValue::opt_text(q.survey.as_deref()),
                SqlValue::Int(lo.into()),
                SqlValue::Int(hi.into()),
                SqlValue::Int(start as i64),
                SqlValue::Int(end.min(i64::MAX as u64) as i64),
                cur_ms,
                cur_id,
                SqlValue::Int(limit),
            ],
        )
        .await
        .map_err(unavailable)?;
    let mut items: Vec<_> = rows
        .iter()
        .filter_map(|r| store::response_of_row(r))
        .collect();
    match q.format {
        Format::Json => {
            let has_more = items.len() > q.limit as usize;
            items.truncate(q.limit as usize);
            Ok(Response::json(
                200,
                report_api::responses_page_json(&items, has_more),
            ))
        }
        Format::Csv => {
            let mut body = csv::header();
            for (r, ms) in &items {
                csv::push_response(&mut body, r, *ms);
            }
            let day = report::date_of_day((app.backend().now_ms() / DAY_MS) as i64);
            Ok(Response::new(200, csv::CONTENT_TYPE, body)
                .set(
                    "content-disposition",
                    format!("attachment; filename=\"nps-{site}-{day}.csv\""),
                )
                .set("x-content-type-options", "nosniff"))
        }
    }
}

/// One answer (the report's "response from the alert").
#[cfg_attr(feature = "openapi", utoipa::path(
    get, path = "/v1/sites/{site}/responses/{id}", tag = "report",
    params(
        ("site" = String, Path, description = "Site id."),
        ("id" = String, Path, description = "Response id."),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The latest rev of the answer.", body = crate::openapi::ResponseItem),
        (status = 401, description = "No bearer token.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the read scope.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown site or response.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The store cannot answer right now.", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
))]
pub(crate) async fn get_response<B: Backend>(
    app: &App<B>,
    req: &Request,
    params: &Params,
) -> Result<Response, ApiError> {
    let (site, id) = (param(params, 0), param(params, 1));
    scope(app, req, Role::Read, Some(site))?;
    known_site(app, site)?;
    if !nps_protocol::limits::is_valid_id(id) {
        return Err(EdgeError::NotFound.into());
    }
    let rows = app
        .backend()
        .query(
            store::ONE_RESPONSE,
            vec![
                SqlValue::Text(site.to_string()),
                SqlValue::Text(id.to_string()),
            ],
        )
        .await
        .map_err(unavailable)?;
    match rows.first().and_then(|r| store::response_of_row(r)) {
        Some((r, ms)) => Ok(Response::json(200, report_api::response_item_json(&r, ms))),
        None => Err(EdgeError::NotFound.into()),
    }
}
