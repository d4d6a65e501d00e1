//! `POST /v1/responses`, `POST /v1/events` and their CORS preflights.
//!
//! Order of checks (each refusal changes nothing): content type → size → parse + validate →
//! site + origin → rate limit → (events: suppression) → the backend's atomic step.

use nps_edge_core::case_notice::{self, CaseEvent};
use nps_edge_core::config::Site;
use nps_edge_core::dedup::{Decision, DuplicateKind};
use nps_edge_core::{cors, identity, ingest, payload, routing, EdgeError};
use nps_protocol::EventType;

use crate::backend::{Backend, NewEvent, NewResponse, SqlValue, VisitorQuery};
use crate::followup;
use crate::handlers::{eligibility, json_body};
use crate::http::{ApiError, Request, Response};
use crate::routes::Params;
use crate::store::{CASE_OF_RESURVEY, RECORD_RESURVEY};
use crate::{unavailable, App};

/// Stores one rev of an answer and forwards it to the routed sinks.
#[cfg_attr(feature = "openapi", utoipa::path(
    post, path = "/v1/responses", tag = "ingest",
    description = "One rev of an answer, as the widget sends it (`application/json`, or `text/plain` from `sendBeacon`). \
A new id is `accepted`; a higher rev of a known id is `updated`; an equal or lower rev, or a second answer of the same \
respondent to the same survey within the site's respondent window, is `duplicate` (stored and forwarded once). \
Requires an `Origin` on the site's allowlist.",
    request_body(content = crate::openapi::ResponseBody, content_type = "application/json"),
    params(("origin" = String, Header, description = "The page's origin; must be on the site's allowlist.")),
    responses(
        (status = 202, description = "Stored (or recognised as a duplicate).", body = crate::openapi::Accepted),
        (status = 400, description = "Not JSON, or not an object.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Unknown site; `Origin` missing or not allowed for that site; or, on a site with identity `required`, a user without a valid `user.signature`.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The id belongs to another visitor (or user): only the sender of its first rev may send later ones. Nothing changed.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 16 KiB.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Content type other than application/json or text/plain.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, all listed in `errors`.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited; `Retry-After` says when to try again.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The store cannot take it right now; nothing was stored.", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
))]
pub(crate) async fn post_response<B: Backend>(
    app: &App<B>,
    req: &Request,
    _: &Params,
) -> Result<Response, ApiError> {
    let mut r = ingest::parse_response(json_body(req)?)?;
    let site = ingest::authorize(app.config(), &r.site, req.origin())?;
    let now = app.backend().now_ms();
    app.rate_limit(site, req, now)?;
    r.user = identity::apply(site, r.user.take())?;
    let (id, rev, segment) = (r.id.clone(), r.rev, r.segment());
    let d = accept(app, site, r, now).await?;
    Ok(Response::json(
        202,
        ingest::accepted_json_parts(&id, rev, segment, d.status),
    ))
}

/// Records an authorized answer (from a page or a signed link): its re-survey tag, the backend's
/// atomic step, the case's record and announcement, the metrics.
pub(crate) async fn accept<B: Backend>(
    app: &App<B>,
    site: &Site,
    mut r: nps_protocol::Response,
    now: u64,
) -> Result<Decision, ApiError> {
    let (id, rev, score) = (r.id.clone(), r.rev, r.score);
    // Only the edge says which case an answer follows up.
    r.properties.remove(RESURVEY_PROPERTY);
    // Re-surveys concern identified users on a site with cases; nobody else pays a lookup.
    let user = (site.cases.enabled)
        .then(|| r.user.as_ref().and_then(|u| u.id.clone()))
        .flatten();
    let mut follows = match (&user, rev) {
        (Some(_), 2..) => case_of_resurvey(app, &site.id, &id).await?,
        _ => None,
    };
    if let Some(case_id) = &follows {
        tag(&mut r, case_id);
    }
    // A first rev may be the re-survey of a resolved case: kept aside in case the respondent
    // rule calls it a duplicate (the only time the due re-surveys are looked up).
    let candidate = (user.is_some() && rev == 1).then(|| r.clone());
    let (mut d, mut case_changed) = record(app, site, r, now, false).await?;
    if let (Some(mut r), Some(user), Some(DuplicateKind::Respondent)) =
        (candidate, &user, d.duplicate)
    {
        if let Some(case_id) = eligibility::due_resurvey(app, &site.id, user, now).await? {
            tag(&mut r, &case_id);
            (d, case_changed) = record(app, site, r, now, true).await?;
            follows = Some(case_id);
        }
    }
    if let (Some(case_id), true) = (&follows, d.store) {
        app.backend()
            .execute(
                RECORD_RESURVEY,
                vec![
                    SqlValue::Text(site.id.clone()),
                    SqlValue::Text(case_id.clone()),
                    SqlValue::Text(id.clone()),
                    SqlValue::Int(score.into()),
                    SqlValue::Int(now as i64),
                ],
            )
            .await
            .map_err(unavailable)?;
        tracing::info!(site = %site.id, case = %case_id, score, rev, "re-survey answer");
    }
    if case_changed && d.store && !B::ANNOUNCES_CASES {
        announce_case(app, &site.id, &id, now).await;
    }
    app.metrics().response(&d);
    Ok(d)
}

/// Property a re-survey answer carries: the id of the case it follows up.
pub(crate) const RESURVEY_PROPERTY: &str = "resurvey_of";

/// Says which case the answer follows up, when the page left room for one more property.
fn tag(r: &mut nps_protocol::Response, case_id: &str) {
    if r.properties.len() < nps_protocol::limits::MAX_PROPERTIES {
        r.properties
            .insert(RESURVEY_PROPERTY.into(), case_id.into());
    }
}

/// The case whose re-survey answer has this response id (a runtime without a store has none).
async fn case_of_resurvey<B: Backend>(
    app: &App<B>,
    site: &str,
    id: &str,
) -> Result<Option<String>, ApiError> {
    let params = vec![SqlValue::Text(site.into()), SqlValue::Text(id.into())];
    Ok(crate::handlers::first_texts(app, CASE_OF_RESURVEY, params)
        .await?
        .into_iter()
        .next())
}

/// Tells the case's listeners that this answer opened or changed it. The answer is stored
/// whatever happens here: a failure is logged, not answered (a retry would be a duplicate).
async fn announce_case<B: Backend>(app: &App<B>, site: &str, id: &str, now: u64) {
    if !followup::anyone_listens(app, site) {
        return;
    }
    let outcome = match followup::read_case(app, site, id).await {
        Ok(Some(case)) => {
            followup::announce(app, site, CaseEvent::of_answer(&case, now), &case).await
        }
        Ok(None) => Ok(()),
        Err(e) => Err(e),
    };
    if let Err(e) = outcome {
        tracing::error!(site, case = id, error = %e, "case webhook not handed to the sinks");
    }
}

/// Routes, builds the payload and records one rev (the backend's atomic step); a conflict is a
/// 409. Also says whether the rev opens or changes a case.
async fn record<B: Backend>(
    app: &App<B>,
    site: &Site,
    r: nps_protocol::Response,
    now: u64,
    fresh_respondent: bool,
) -> Result<(Decision, bool), ApiError> {
    let sinks: Vec<String> = routing::sinks_for(app.config(), &r)
        .map(|s| s.name().to_string())
        .collect();
    let payload = (!sinks.is_empty()).then(|| payload::response_payload(&r, now));
    let case = nps_edge_core::cases::action(&site.cases, &r, now);
    let has_case = case.is_some();
    let case_sinks = if has_case {
        case_notice::notice_sinks(app.config(), &site.id, Some(&r.survey), r.segment())
    } else {
        Vec::new()
    };
    let new = NewResponse {
        body: nps_protocol::json::response_to_json(&r),
        case,
        response: r,
        sinks,
        payload,
        id_window_ms: site.id_window_ms(),
        respondent_window_ms: site.respondent_window_ms(),
        now_ms: now,
        fresh_respondent,
        case_sinks,
    };
    let d = app
        .backend()
        .record_response(new)
        .await
        .map_err(unavailable)?;
    if d.conflict {
        return Err(EdgeError::Conflict.into());
    }
    Ok((d, has_case))
}

/// Stores a `shown` or `dismissed` event once per id.
#[cfg_attr(feature = "openapi", utoipa::path(
    post, path = "/v1/events", tag = "ingest",
    description = "An impression (`shown`) or a dismissal, stored once per id (the response rate's denominator). \
A `shown` event of a suppressed user or account is refused (403).",
    request_body(content = crate::openapi::EventBody, content_type = "application/json"),
    params(("origin" = String, Header, description = "The page's origin; must be on the site's allowlist.")),
    responses(
        (status = 202, description = "Stored, or already stored (`duplicate`).", body = crate::openapi::EventAccepted),
        (status = 400, description = "Not JSON, or not an object.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Unknown site, origin not allowed, a user without a valid signature (identity `required`), or a `shown` event of a suppressed user.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 16 KiB.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Unsupported content type.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The store cannot take it right now.", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
))]
pub(crate) async fn post_event<B: Backend>(
    app: &App<B>,
    req: &Request,
    _: &Params,
) -> Result<Response, ApiError> {
    let mut e = ingest::parse_event(json_body(req)?)?;
    let site = ingest::authorize(app.config(), &e.site, req.origin())?;
    let now = app.backend().now_ms();
    app.rate_limit(site, req, now)?;
    e.user = identity::apply(site, e.user.take())?;
    check_shown(app, &e, now).await?;
    let duplicate = app
        .backend()
        .record_event(NewEvent {
            event: e.clone(),
            now_ms: now,
        })
        .await
        .map_err(unavailable)?;
    app.metrics().event(duplicate);
    Ok(Response::json(
        202,
        ingest::event_accepted_json(&e, duplicate),
    ))
}

/// Refuses a `shown` event from a suppressed user or account, so no impression is counted for
/// someone who must not be surveyed. A store error lets the event through: counting an
/// impression is better than losing one.
async fn check_shown<B: Backend>(
    app: &App<B>,
    e: &nps_protocol::Event,
    now: u64,
) -> Result<(), EdgeError> {
    let Some(u) = e.user.as_ref().filter(|_| e.kind == EventType::Shown) else {
        return Ok(());
    };
    let subjects = nps_edge_core::suppression::subjects(u.id.as_deref(), u.account.as_deref());
    if subjects.is_empty() {
        return Ok(());
    }
    let q = VisitorQuery {
        site: e.site.clone(),
        subjects: subjects.iter().map(|s| s.to_string()).collect(),
        respondent: None,
    };
    match app.backend().visitor(q).await {
        Ok(v)
            if nps_edge_core::suppression::is_suppressed(
                &v.suppressions,
                u.id.as_deref(),
                u.account.as_deref(),
                now,
            ) =>
        {
            Err(EdgeError::Suppressed)
        }
        Ok(_) => Ok(()),
        Err(err) => {
            tracing::warn!(error = %err, "suppression check failed; event let through");
            Ok(())
        }
    }
}

/// The CORS preflight: a preflight has no body, hence no site, so it is answered for an origin
/// that ANY site allows; the request itself is then checked against its own site.
pub(crate) fn preflight<B: Backend>(app: &App<B>, req: &Request) -> Result<Response, ApiError> {
    let headers = cors::preflight(app.config(), req.origin())?;
    let mut r = Response::empty(204);
    for (k, v) in headers {
        r.insert(k, v);
    }
    Ok(r)
}

/// CORS preflight of `POST /v1/responses`.
#[cfg_attr(feature = "openapi", utoipa::path(
    options, path = "/v1/responses", tag = "ingest",
    params(("origin" = String, Header, description = "Allowed by some site.")),
    responses(
        (status = 204, description = "Allowed: `Access-Control-Allow-*` headers."),
        (status = 403, description = "No site allows this origin.", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
))]
pub(crate) async fn preflight_responses<B: Backend>(
    app: &App<B>,
    req: &Request,
    _: &Params,
) -> Result<Response, ApiError> {
    preflight(app, req)
}

/// CORS preflight of `POST /v1/events`.
#[cfg_attr(feature = "openapi", utoipa::path(
    options, path = "/v1/events", tag = "ingest",
    params(("origin" = String, Header, description = "Allowed by some site.")),
    responses(
        (status = 204, description = "Allowed: `Access-Control-Allow-*` headers."),
        (status = 403, description = "No site allows this origin.", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
))]
pub(crate) async fn preflight_events<B: Backend>(
    app: &App<B>,
    req: &Request,
    _: &Params,
) -> Result<Response, ApiError> {
    preflight(app, req)
}
