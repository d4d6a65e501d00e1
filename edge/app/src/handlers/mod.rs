//! Every handler of the route table (`crate::routes`), one module per part of the API. A
//! handler takes the application, the request and its path parameters, and answers or refuses
//! with an [`ApiError`]; it never knows which runtime runs it.

pub(crate) mod cases;
pub(crate) mod eligibility;
pub(crate) mod helpdesk;
pub(crate) mod ingest;
pub(crate) mod invitations;
pub(crate) mod page;
pub(crate) mod people;
pub(crate) mod report;
pub(crate) mod suppressions;
pub(crate) mod survey_link;
pub(crate) mod system;

use nps_edge_core::auth::{AuthError, Role, Token};
use nps_edge_core::config::Site;
use nps_edge_core::ingest::{check_body_len, check_content_type};
use nps_edge_core::EdgeError;

use crate::backend::Backend;
use crate::http::{Body, Request};
use crate::App;

/// The body of a JSON request: content type, then size (declared, then read), then the bytes.
pub(crate) fn json_body(req: &Request) -> Result<&[u8], EdgeError> {
    check_content_type(req.header("content-type"))?;
    any_body(req)
}

/// The body of any request (no content-type rule), within the size limit.
pub(crate) fn any_body(req: &Request) -> Result<&[u8], EdgeError> {
    if let Some(len) = req
        .header("content-length")
        .and_then(|v| v.trim().parse::<usize>().ok())
    {
        check_body_len(len)?;
    }
    match &req.body {
        Body::Bytes(b) => {
            check_body_len(b.len())?;
            Ok(b)
        }
        Body::TooLarge => Err(EdgeError::TooLarge),
        Body::Unreadable(m) => Err(EdgeError::BadJson(format!("could not read body: {m}"))),
    }
}

/// The body of a bulk request (see [`crate::http::is_bulk_path`]), within the bulk limit.
pub(crate) fn bulk_body(req: &Request) -> Result<&[u8], EdgeError> {
    let limit = crate::http::MAX_BULK_REQUEST_BYTES;
    let declared = req
        .header("content-length")
        .and_then(|v| v.trim().parse::<usize>().ok());
    match &req.body {
        _ if declared.is_some_and(|n| n > limit) => Err(EdgeError::TooLarge),
        Body::Bytes(b) if b.len() <= limit => Ok(b),
        Body::Bytes(_) | Body::TooLarge => Err(EdgeError::TooLarge),
        Body::Unreadable(m) => Err(EdgeError::BadJson(format!("could not read body: {m}"))),
    }
}

/// The configured site named in the path, or 404.
pub(crate) fn known_site<'a, B: Backend>(
    app: &'a App<B>,
    site: &str,
) -> Result<&'a Site, EdgeError> {
    app.config().site(site).ok_or(EdgeError::NotFound)
}

/// A token with `role` that grants `site` (any site when `None`): 401 without one, 403 when it
/// lacks the role or the site.
pub(crate) fn scope<'a, B: Backend>(
    app: &'a App<B>,
    req: &Request,
    role: Role,
    site: Option<&str>,
) -> Result<&'a Token, AuthError> {
    app.config()
        .tokens
        .check(req.header("authorization"), role, site)
}

/// The first path parameter (the route table guarantees it exists).
pub(crate) fn param(params: &[String], i: usize) -> &str {
    params.get(i).map_or("", String::as_str)
}

/// The first column of a store query's rows, as text; none from a runtime without a store.
pub(crate) async fn first_texts<B: Backend>(
    app: &App<B>,
    sql: &'static str,
    params: Vec<crate::backend::SqlValue>,
) -> Result<Vec<String>, crate::ApiError> {
    match app.backend().query(sql, params).await {
        Ok(rows) => Ok(rows
            .iter()
            .filter_map(|r| {
                r.first()
                    .and_then(crate::backend::SqlValue::as_str)
                    .map(str::to_string)
            })
            .collect()),
        Err(crate::backend::BackendError::NoStore) => Ok(Vec::new()),
        Err(e) => Err(crate::unavailable(e).into()),
    }
}
