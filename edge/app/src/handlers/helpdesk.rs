//! The helpdesk's way in: a Standard-Webhooks-signed event ("ticket solved", "ticket reopened",
//! "ticket updated") moves the case it names, so a team working in Zendesk or similar keeps its
//! cases here in step without a second tool. The signature is the authentication (a helpdesk
//! holds no bearer token); it is checked before the body is even parsed.

use nps_edge_core::auth::AuthError;
use nps_edge_core::cases::{Patch, Status};
use nps_edge_core::helpdesk::{self, TOLERANCE_SECS};
use nps_edge_core::webhook::WebhookSecret;
use nps_edge_core::EdgeError;

use crate::backend::{Backend, SqlValue};
use crate::handlers::{any_body, cases, known_site, param};
use crate::http::{ApiError, Request, Response};
use crate::routes::Params;
use crate::store::{CASES_OF_TICKET, HELPDESK_EVENT_SEEN, RECORD_HELPDESK_EVENT};
use crate::App;

/// Author of the notes a helpdesk adds.
const AUTHOR: &str = "helpdesk";

/// A helpdesk event about a case.
#[cfg_attr(feature = "openapi", utoipa::path(
    post, path = "/v1/sites/{site}/helpdesk", tag = "cases",
    description = "For a helpdesk's webhook or automation: signed with Standard Webhooks (`webhook-id`, `webhook-timestamp` within 5 minutes, `webhook-signature` = `v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`) by the site's `cases.helpdesk_secret`, no bearer token. `ticket.solved` resolves the case (lifting its suppression and scheduling the re-survey), `ticket.reopened` reopens a resolved one, `ticket.updated` only sets the owner or adds the note; an event that finds the case already there changes nothing, and a retry of an event already applied (the same `webhook-id`, kept a week) is answered as the first delivery was, changing nothing (no second note, no reopening after a later `ticket.solved`). The case is named by `case`, or by the ticket linked to it (`external_ref`, set with PATCH or by sending both).",
    request_body(content = crate::openapi::HelpdeskEvent, content_type = "application/json"),
    params(
        ("site" = String, Path, description = "Site id."),
        ("webhook-id" = String, Header, description = "The event's id."),
        ("webhook-timestamp" = String, Header, description = "Unix seconds, within 5 minutes of the edge's clock."),
        ("webhook-signature" = String, Header, description = "`v1,<base64>` entries, space-separated."),
    ),
    responses(
        (status = 200, description = "The cases the event reached, as they are now.", body = crate::openapi::HelpdeskResult),
        (status = 400, description = "Not a JSON object.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong signature, or a timestamp more than 5 minutes away. Nothing changed.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown site, a site without `cases.helpdesk_secret`, or no case with that id or ticket.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 16 KiB.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown type, no case named, bad or unknown fields, all listed.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The store cannot take it right now; the helpdesk retries.", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
))]
pub(crate) async fn post_event<B: Backend>(
    app: &App<B>,
    req: &Request,
    params: &Params,
) -> Result<Response, ApiError> {
    let site = param(params, 0);
    let site_cfg = known_site(app, site)?;
    let secret = site_cfg
        .cases
        .helpdesk_secret
        .as_deref()
        .and_then(|s| WebhookSecret::parse(s).ok())
        .ok_or(EdgeError::NotFound)?;
    let body = any_body(req)?;
    let now = app.backend().now_ms();
    let event_id = verify(&secret, req, body, now / 1000)?;
    let event = helpdesk::parse_event(body)?;
    // A retry of an event already applied is answered like the first delivery, changing nothing.
    let seen_params = vec![SqlValue::Text(site.into()), SqlValue::Text(event_id.into())];
    let repeat = !crate::handlers::first_texts(app, HELPDESK_EVENT_SEEN, seen_params)
        .await?
        .is_empty();
    let ids = match (&event.case, &event.external_ref) {
        (Some(id), _) => vec![id.clone()],
        (None, Some(ticket)) => cases_of_ticket(app, site, ticket).await?,
        (None, None) => Vec::new(),
    };
    if ids.is_empty() {
        return Err(EdgeError::NotFound.into());
    }
    let mut out = Vec::with_capacity(ids.len());
    for id in &ids {
        let case = cases::load(app, site, id).await?;
        let current = Status::parse(&case.status).unwrap_or(Status::Open);
        let patch = Patch {
            status: event.action.status_for(current),
            owner: event.owner.clone().filter(|o| *o != case.owner),
            // Both named: the event links its ticket to the case.
            external_ref: event
                .case
                .as_ref()
                .and(event.external_ref.clone())
                .filter(|r| case.external_ref.as_ref() != Some(r))
                .map(Some),
        };
        if repeat {
            tracing::info!(site, case = %id, event = event_id, "helpdesk event repeated: nothing to do");
        } else {
            if patch != Patch::default() {
                cases::change(app, site_cfg, id, &patch).await?;
            }
            if let Some(note) = &event.note {
                cases::add_note_by(app, site, id, AUTHOR, note, now).await?;
            }
            tracing::info!(site, case = %id, action = ?event.action, "helpdesk event");
        }
        let case = cases::load(app, site, id).await?;
        let notes = cases::notes(app, site, id).await?;
        out.push(case.to_json(site, now, Some(&notes)));
    }
    // Recorded once applied: a failure before this point is answered 503 and the helpdesk's
    // retry applies the event (at worst twice after a crash right here; never lost).
    if !repeat {
        let params = vec![
            SqlValue::Text(site.into()),
            SqlValue::Text(event_id.into()),
            SqlValue::Int(now as i64),
        ];
        app.backend()
            .execute(RECORD_HELPDESK_EVENT, params)
            .await
            .map_err(crate::unavailable)?;
    }
    Ok(Response::json(
        200,
        format!("{{\"cases\":[{}]}}", out.join(",")),
    ))
}

/// Standard Webhooks verification of the request; the event's `webhook-id`.
fn verify<'r>(
    secret: &WebhookSecret,
    req: &'r Request,
    body: &[u8],
    now_secs: u64,
) -> Result<&'r str, AuthError> {
    let (Some(id), Some(ts), Some(sig)) = (
        req.header("webhook-id"),
        req.header("webhook-timestamp")
            .and_then(|t| t.trim().parse::<u64>().ok()),
        req.header("webhook-signature"),
    ) else {
        return Err(AuthError::BadSignature);
    };
    if secret.verify(id, ts, body, sig, now_secs, TOLERANCE_SECS) {
        Ok(id)
    } else {
        Err(AuthError::BadSignature)
    }
}

async fn cases_of_ticket<B: Backend>(
    app: &App<B>,
    site: &str,
    ticket: &str,
) -> Result<Vec<String>, ApiError> {
    let params = vec![SqlValue::Text(site.into()), SqlValue::Text(ticket.into())];
    crate::handlers::first_texts(app, CASES_OF_TICKET, params).await
}
