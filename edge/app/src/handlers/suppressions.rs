//! Suppressions (admin token): "don't survey someone whose case is handled elsewhere".
//! `{subject}` is a user id or an account id (suppressing `acme` silences every user of it).

use nps_edge_core::suppression::{self, Suppression};
use nps_edge_core::EdgeError;

use crate::backend::Backend;
use crate::handlers::{any_body, known_site, param, scope};
use crate::http::{ApiError, Request, Response};
use crate::routes::Params;
use crate::{unavailable, App};
use nps_edge_core::auth::Role;

/// Creates or replaces a suppression.
#[cfg_attr(feature = "openapi", utoipa::path(
    put, path = "/v1/sites/{site}/suppressions/{subject}", tag = "suppressions",
    description = "Body empty, or `{\"expires_at\"}` (RFC 3339) or `{\"ttl_seconds\"}` (at most 10 years), with an optional `reason`.",
    request_body(content = Option<crate::openapi::SuppressionPut>, content_type = "application/json"),
    params(
        ("site" = String, Path, description = "Site id."),
        ("subject" = String, Path, description = "User id or account id."),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The record.", body = crate::openapi::SuppressionRecord),
        (status = 400, description = "Body is not a JSON object.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No bearer token.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token does not grant the admin scope.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown site.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 16 KiB.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid subject or fields.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The store cannot take it right now.", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
))]
pub(crate) async fn put_suppression<B: Backend>(
    app: &App<B>,
    req: &Request,
    params: &Params,
) -> Result<Response, ApiError> {
    let (site, subject) = (param(params, 0), param(params, 1));
    scope(app, req, Role::Admin, Some(site))?;
    known_site(app, site)?;
    let now = app.backend().now_ms();
    let s = suppression::parse_put(subject, any_body(req)?, now)?;
    app.backend()
        .put_suppression(site, s.clone())
        .await
        .map_err(unavailable)?;
    tracing::info!(site, subject, "suppression set");
    Ok(Response::json(200, s.to_json(site, now)))
}

/// Deletes a suppression.
#[cfg_attr(feature = "openapi", utoipa::path(
    delete, path = "/v1/sites/{site}/suppressions/{subject}", tag = "suppressions",
    params(
        ("site" = String, Path, description = "Site id."),
        ("subject" = String, Path, description = "User id or account id."),
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, description = "No bearer token.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the admin scope.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown site, or no such suppression.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid subject.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The store cannot take it right now.", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
))]
pub(crate) async fn delete_suppression<B: Backend>(
    app: &App<B>,
    req: &Request,
    params: &Params,
) -> Result<Response, ApiError> {
    let (site, subject) = (param(params, 0), param(params, 1));
    scope(app, req, Role::Admin, Some(site))?;
    known_site(app, site)?;
    suppression::check_subject(subject)?;
    let deleted = app
        .backend()
        .delete_suppression(site, subject)
        .await
        .map_err(unavailable)?;
    if !deleted {
        return Err(EdgeError::NotFound.into());
    }
    tracing::info!(site, subject, "suppression deleted");
    Ok(Response::empty(204))
}

/// One suppression.
#[cfg_attr(feature = "openapi", utoipa::path(
    get, path = "/v1/sites/{site}/suppressions/{subject}", tag = "suppressions",
    params(
        ("site" = String, Path, description = "Site id."),
        ("subject" = String, Path, description = "User id or account id."),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The record (`active` says whether it applies now).", body = crate::openapi::SuppressionRecord),
        (status = 401, description = "No bearer token.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the admin scope.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown site, or no such suppression.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid subject.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The store cannot answer right now.", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
))]
pub(crate) async fn get_suppression<B: Backend>(
    app: &App<B>,
    req: &Request,
    params: &Params,
) -> Result<Response, ApiError> {
    let (site, subject) = (param(params, 0), param(params, 1));
    scope(app, req, Role::Admin, Some(site))?;
    known_site(app, site)?;
    suppression::check_subject(subject)?;
    let records = app
        .backend()
        .visitor(crate::backend::VisitorQuery {
            site: site.to_string(),
            subjects: vec![subject.to_string()],
            respondent: None,
        })
        .await
        .map_err(unavailable)?
        .suppressions;
    let now = app.backend().now_ms();
    records
        .iter()
        .find(|r| r.subject == subject)
        .map(|r| Response::json(200, r.to_json(site, now)))
        .ok_or_else(|| EdgeError::NotFound.into())
}

/// Every suppression of a site.
#[cfg_attr(feature = "openapi", utoipa::path(
    get, path = "/v1/sites/{site}/suppressions", tag = "suppressions",
    params(("site" = String, Path, description = "Site id.")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every record, by subject.", body = crate::openapi::SuppressionList),
        (status = 401, description = "No bearer token.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the admin scope.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown site.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The store cannot answer right now.", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
))]
pub(crate) async fn list_suppressions<B: Backend>(
    app: &App<B>,
    req: &Request,
    params: &Params,
) -> Result<Response, ApiError> {
    let site = param(params, 0);
    scope(app, req, Role::Admin, Some(site))?;
    known_site(app, site)?;
    let records: Vec<Suppression> = app
        .backend()
        .list_suppressions(site)
        .await
        .map_err(unavailable)?;
    let now = app.backend().now_ms();
    let items: Vec<String> = records.iter().map(|r| r.to_json(site, now)).collect();
    Ok(Response::json(
        200,
        format!("{{\"items\":[{}]}}", items.join(",")),
    ))
}
