//! Cases (read token to look, agent or admin token to work them): the follow-up of each unhappy
//! customer. Opened by the answer itself (the ingest step); listed, read, moved and annotated
//! here.

use nps_edge_core::auth::Role;
use nps_edge_core::cases::{self, Case, ListQuery, Note, Status};
use nps_edge_core::EdgeError;

use crate::backend::{Backend, SqlValue};
use crate::followup;
use crate::handlers::{any_body, known_site, param, scope};
use crate::http::{ApiError, Request, Response};
use crate::routes::Params;
use crate::store::{
    case_of_row, notice_of_row, CASE_NOTES, INSERT_NOTE, LIST_CASES, ONE_CASE, ONE_CASE_NOTICE,
    PATCH_CASE, TOUCH_CASE,
};
use crate::{unavailable, App};

/// How often a status change is re-read and retried when another change won the race.
const PATCH_ATTEMPTS: usize = 5;

fn text(s: &str) -> SqlValue {
    SqlValue::Text(s.to_string())
}

pub(crate) async fn load<B: Backend>(app: &App<B>, site: &str, id: &str) -> Result<Case, ApiError> {
    case_of_row(&load_row(app, ONE_CASE, site, id).await?).ok_or_else(|| EdgeError::NotFound.into())
}

/// The row of one case (`sql`: [`ONE_CASE`] or a statement with its columns first, site `?1`,
/// id `?2`); 404 when there is none.
async fn load_row<B: Backend>(
    app: &App<B>,
    sql: &'static str,
    site: &str,
    id: &str,
) -> Result<Vec<SqlValue>, ApiError> {
    let rows = app
        .backend()
        .query(sql, vec![text(site), text(id)])
        .await
        .map_err(unavailable)?;
    rows.into_iter()
        .next()
        .ok_or_else(|| EdgeError::NotFound.into())
}

pub(crate) async fn notes<B: Backend>(
    app: &App<B>,
    site: &str,
    id: &str,
) -> Result<Vec<Note>, ApiError> {
    let rows = app
        .backend()
        .query(CASE_NOTES, vec![text(site), text(id)])
        .await
        .map_err(unavailable)?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            Some(Note {
                seq: r.first()?.as_i64()?.max(0) as u64,
                at_ms: r.get(1)?.as_i64()?.max(0) as u64,
                author: r.get(2)?.as_str()?.to_string(),
                text: r.get(3)?.as_str()?.to_string(),
            })
        })
        .collect())
}

/// A site's cases, overdue first, then newest.
#[cfg_attr(feature = "openapi", utoipa::path(
    get, path = "/v1/sites/{site}/cases", tag = "cases",
    params(
        ("site" = String, Path, description = "Site id."),
        ("status" = Option<String>, Query, description = "open, in_progress, resolved, reopened or withdrawn."),
        ("owner" = Option<String>, Query, description = "Only this owner's."),
        ("survey" = Option<String>, Query, description = "Only this survey's."),
        ("overdue" = Option<bool>, Query, description = "Only those past their first-touch deadline without a touch."),
        ("segment" = Option<String>, Query, description = "By the latest score: detractor, passive or promoter."),
        ("limit" = Option<u32>, Query, description = "1-500, default 100."),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page."),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of cases.", body = crate::openapi::CaseList),
        (status = 401, description = "No bearer token.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token does not grant reading this site.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown site.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad filter, or an unknown parameter.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The store cannot answer right now.", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
))]
pub(crate) async fn list_cases<B: Backend>(
    app: &App<B>,
    req: &Request,
    params: &Params,
) -> Result<Response, ApiError> {
    let site = param(params, 0);
    scope(app, req, Role::Read, Some(site))?;
    known_site(app, site)?;
    let q = ListQuery::parse(&req.query)?;
    let now = app.backend().now_ms();
    let rows = app
        .backend()
        .query(
            LIST_CASES,
            vec![
                text(site),
                SqlValue::opt_text(q.status.map(Status::as_str)),
                SqlValue::opt_text(q.owner.as_deref()),
                SqlValue::opt_text(q.survey.as_deref()),
                SqlValue::Int(i64::from(q.overdue)),
                SqlValue::Int(now as i64),
                SqlValue::opt_text(q.segment.map(|s| s.as_str())),
                SqlValue::Int(i64::from(q.limit) + 1),
                SqlValue::Int(q.offset.min(i64::MAX as u64) as i64),
            ],
        )
        .await
        .map_err(unavailable)?;
    let mut items: Vec<Case> = rows.iter().filter_map(|r| case_of_row(r)).collect();
    let more = items.len() > q.limit as usize;
    items.truncate(q.limit as usize);
    let mut body = String::from("{\"items\":[");
    for (i, c) in items.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&c.to_json(site, now, None));
    }
    body.push_str("],\"next_cursor\":");
    if more {
        body.push_str(&format!("\"{}\"", q.offset + u64::from(q.limit)));
    } else {
        body.push_str("null");
    }
    body.push('}');
    Ok(Response::json(200, body))
}

/// One case with its notes.
#[cfg_attr(feature = "openapi", utoipa::path(
    get, path = "/v1/sites/{site}/cases/{id}", tag = "cases",
    params(
        ("site" = String, Path, description = "Site id."),
        ("id" = String, Path, description = "Case id (the response id)."),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The case and its notes.", body = crate::openapi::CaseRecord),
        (status = 401, description = "No bearer token.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token does not grant reading this site.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown site or case.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The store cannot answer right now.", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
))]
pub(crate) async fn get_case<B: Backend>(
    app: &App<B>,
    req: &Request,
    params: &Params,
) -> Result<Response, ApiError> {
    let (site, id) = (param(params, 0), param(params, 1));
    scope(app, req, Role::Read, Some(site))?;
    known_site(app, site)?;
    let case = load(app, site, id).await?;
    let notes = notes(app, site, id).await?;
    let now = app.backend().now_ms();
    Ok(Response::json(200, case.to_json(site, now, Some(&notes))))
}

/// Moves a case (`status`) and/or assigns it (`owner`).
#[cfg_attr(feature = "openapi", utoipa::path(
    patch, path = "/v1/sites/{site}/cases/{id}", tag = "cases",
    description = "`{\"status\"?, \"owner\"?, \"external_ref\"?}` (`null` unassigns / unlinks; `external_ref` is the helpdesk ticket that follows the case, see `POST …/helpdesk`). Statuses move open → in_progress → resolved, resolved → reopened → in_progress/resolved; `withdrawn` is set only by the customer's answer. The same status again changes nothing (two agents resolving one case get one outcome). The first status change is the case's first touch; resolving schedules the person's re-survey after the site's delay.",
    request_body(content = crate::openapi::CasePatch, content_type = "application/json"),
    params(
        ("site" = String, Path, description = "Site id."),
        ("id" = String, Path, description = "Case id."),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The case as it is now.", body = crate::openapi::CaseRecord),
        (status = 400, description = "Not a JSON object.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No bearer token.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token cannot work this site's cases (agent or admin).", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown site or case.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 16 KiB.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown status, a move the case cannot make, an owner over 120 characters, unknown fields.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The store cannot take it right now; nothing changed.", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
))]
pub(crate) async fn patch_case<B: Backend>(
    app: &App<B>,
    req: &Request,
    params: &Params,
) -> Result<Response, ApiError> {
    let (site, id) = (param(params, 0), param(params, 1));
    scope(app, req, Role::Agent, Some(site))?;
    let site_cfg = known_site(app, site)?;
    let patch = cases::parse_patch(any_body(req)?)?;
    let case = change(app, site_cfg, id, &patch).await?;
    let notes = notes(app, site, id).await?;
    let now = app.backend().now_ms();
    Ok(Response::json(200, case.to_json(site, now, Some(&notes))))
}

/// Applies a checked change to a case (re-read and retried when another change wins the race),
/// and tells the case's webhook receivers when something changed. The case as it is now.
pub(crate) async fn change<B: Backend>(
    app: &App<B>,
    site_cfg: &nps_edge_core::config::Site,
    id: &str,
    patch: &cases::Patch,
) -> Result<Case, ApiError> {
    let site = site_cfg.id.as_str();
    for _ in 0..PATCH_ATTEMPTS {
        let case = load(app, site, id).await?;
        let from = Status::parse(&case.status).unwrap_or(Status::Open);
        if let Some(to) = patch.status {
            cases::check_transition(from, to)?;
        }
        let now = app.backend().now_ms();
        let given = |v: &Option<Option<String>>| match v {
            Some(o) => (1, SqlValue::opt_text(o.as_deref())),
            None => (0, SqlValue::Null),
        };
        let ((owner_given, owner), (ref_given, external_ref)) =
            (given(&patch.owner), given(&patch.external_ref));
        let changed = app
            .backend()
            .execute(
                PATCH_CASE,
                vec![
                    text(site),
                    text(id),
                    text(from.as_str()),
                    SqlValue::opt_text(patch.status.map(Status::as_str)),
                    SqlValue::Int(owner_given),
                    owner,
                    SqlValue::Int(now as i64),
                    SqlValue::Int(site_cfg.cases.resurvey_ms(now) as i64),
                    SqlValue::Int(ref_given),
                    external_ref,
                ],
            )
            .await
            .map_err(unavailable)?;
        if changed == 1 {
            tracing::info!(site, case = id, status = ?patch.status, "case updated");
            let row = load_row(app, ONE_CASE_NOTICE, site, id).await?;
            let after = case_of_row(&row).ok_or(EdgeError::NotFound)?;
            // The change is made, and the message it owes is recorded with it: a failure to hand
            // it on is logged, not answered; the periodic sweep hands it on later.
            if let Some((event, at)) = notice_of_row(&row) {
                if let Err(e) = followup::give_notice(app, site, event, &after, at).await {
                    tracing::error!(site, case = id, error = %e, "case webhook not handed to the sinks yet");
                }
            }
            return Ok(after);
        }
        // Another change came first: read the case again and decide on what it is now.
    }
    Err(EdgeError::Unavailable("the case keeps changing; try again".into()).into())
}

/// Adds a note to a case that exists (404 otherwise); a note is a touch.
pub(crate) async fn add_note_by<B: Backend>(
    app: &App<B>,
    site: &str,
    id: &str,
    author: &str,
    note: &str,
    now: u64,
) -> Result<(), ApiError> {
    let added = app
        .backend()
        .execute(
            INSERT_NOTE,
            vec![
                text(site),
                text(id),
                SqlValue::Int(now as i64),
                text(author),
                text(note),
            ],
        )
        .await
        .map_err(unavailable)?;
    if added == 0 {
        return Err(EdgeError::NotFound.into());
    }
    app.backend()
        .execute(
            TOUCH_CASE,
            vec![text(site), text(id), SqlValue::Int(now as i64)],
        )
        .await
        .map_err(unavailable)?;
    Ok(())
}

/// Adds a note (text, never HTML) signed with the token's name.
#[cfg_attr(feature = "openapi", utoipa::path(
    post, path = "/v1/sites/{site}/cases/{id}/notes", tag = "cases",
    request_body(content = crate::openapi::NoteBody, content_type = "application/json"),
    params(
        ("site" = String, Path, description = "Site id."),
        ("id" = String, Path, description = "Case id."),
    ),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The case with every note, the new one last.", body = crate::openapi::CaseRecord),
        (status = 400, description = "Not a JSON object.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No bearer token.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token cannot work this site's cases (agent or admin).", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown site or case.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 16 KiB.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty text, over 4,000 characters, control characters, unknown fields.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The store cannot take it right now; nothing changed.", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
))]
pub(crate) async fn add_note<B: Backend>(
    app: &App<B>,
    req: &Request,
    params: &Params,
) -> Result<Response, ApiError> {
    let (site, id) = (param(params, 0), param(params, 1));
    let token = scope(app, req, Role::Agent, Some(site))?;
    known_site(app, site)?;
    let note = cases::parse_note(any_body(req)?)?;
    let now = app.backend().now_ms();
    add_note_by(app, site, id, &token.name, &note, now).await?;
    let case = load(app, site, id).await?;
    let notes = notes(app, site, id).await?;
    Ok(Response::json(201, case.to_json(site, now, Some(&notes))))
}
