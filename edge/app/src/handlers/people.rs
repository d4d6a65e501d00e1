//! Erasure of a person (admin token): the right to be forgotten, for a site's customers.

use nps_edge_core::auth::Role;
use nps_edge_core::erasure::{self, Person};

use crate::backend::{Backend, BackendError, Erasure, SqlValue};
use crate::handlers::{known_site, param, scope};
use crate::http::{ApiError, Request, Response};
use crate::routes::Params;
use crate::store::{Found, ERASE_INVITATIONS, PERSON_RESPONSES};
use crate::{unavailable, App};

/// Erases everything a site holds about one person.
#[cfg_attr(feature = "openapi", utoipa::path(
    delete, path = "/v1/sites/{site}/people/{key}", tag = "people",
    description = "Removes the person's answers (found by user id, or by e-mail without regard to case; an answer found by e-mail also brings the other answers of its user id), their events (by user id, and those of the browsers they answered from), their respondent records (they may be surveyed again), the suppressions of their user ids, and every delivery of their data still waiting (webhook, chat alert, dead letters). Then every webhook and stdout sink of the site that takes answers, and the site's mail service (the webhook sink `links.deliver` names, which received their e-mail address with each invitation), gets an `nps.person.erased` message (`data` = this answer) so the systems that received their data can follow. Idempotent: a second call finds nothing and answers zeros.",
    params(
        ("site" = String, Path, description = "Site id."),
        ("key" = String, Path, description = "The person's user id, or their e-mail address (percent-encode `+`)."),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "What was erased.", body = crate::openapi::ErasedRecord),
        (status = 401, description = "No bearer token.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token does not grant the admin scope for this site.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown site.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The key is neither a user id nor an e-mail address.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The store cannot do it right now; nothing reported erased. Retry.", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
))]
pub(crate) async fn erase_person<B: Backend>(
    app: &App<B>,
    req: &Request,
    params: &Params,
) -> Result<Response, ApiError> {
    let (site, key) = (param(params, 0), param(params, 1));
    scope(app, req, Role::Admin, Some(site))?;
    known_site(app, site)?;
    let person = erasure::parse_key(key)?;
    let found = find(app.backend(), site, &person)
        .await
        .map_err(unavailable)?;
    let notice_sinks = erasure::notice_sinks(app.config(), site);
    let now_ms = app.backend().now_ms();
    let erased = app
        .backend()
        .erase_person(Erasure {
            site: site.to_string(),
            person: person.clone(),
            found,
            notice_sinks,
            now_ms,
        })
        .await
        .map_err(unavailable)?;
    // Their invitations (the e-mail address, the order), by user id or e-mail.
    let (users, email) = match &person {
        Person::User(id) => (vec![id.clone()], None),
        Person::Email(e) => (Vec::new(), Some(e.as_str())),
    };
    let params = vec![
        SqlValue::Text(site.to_string()),
        SqlValue::Text(erasure::string_array(&users)),
        SqlValue::opt_text(email),
    ];
    match app.backend().execute(ERASE_INVITATIONS, params).await {
        Ok(_) | Err(BackendError::NoStore) => {}
        Err(e) => return Err(unavailable(e).into()),
    }
    // The key names a person: the log says what was done, not to whom.
    tracing::info!(
        site,
        responses = erased.responses,
        events = erased.events,
        suppressions = erased.suppressions,
        deliveries = erased.deliveries,
        "person erased"
    );
    Ok(Response::json(200, erased.to_json(site, &person, now_ms)))
}

/// The person's answers in the response store: by the key, then by every user id those answers
/// name (an answer found by e-mail brings the user's other answers). A runtime without a
/// response store finds none there.
async fn find<B: Backend>(backend: &B, site: &str, person: &Person) -> Result<Found, BackendError> {
    let mut found = Found::default();
    let email = match person {
        Person::User(id) => {
            found.user_ids.push(id.clone());
            None
        }
        Person::Email(e) => Some(e.as_str()),
    };
    let lookup = |users: &Found| {
        vec![
            crate::SqlValue::Text(site.to_string()),
            crate::SqlValue::Text(erasure::string_array(&users.user_ids)),
            crate::SqlValue::opt_text(email),
        ]
    };
    let rows = match backend.query(PERSON_RESPONSES, lookup(&found)).await {
        Err(BackendError::NoStore) => return Ok(found),
        r => r?,
    };
    if found.add_rows(&rows) {
        let rows = backend.query(PERSON_RESPONSES, lookup(&found)).await?;
        found.add_rows(&rows);
    }
    found.sort();
    Ok(found)
}
