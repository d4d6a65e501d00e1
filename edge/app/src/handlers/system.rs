//! Health, metrics and the OpenAPI document.

use crate::backend::Backend;
use crate::http::{ApiError, Request, Response};
use crate::routes::Params;
use crate::App;

/// Liveness.
#[cfg_attr(feature = "openapi", utoipa::path(
    get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The edge is up.", body = crate::openapi::Health))
))]
pub(crate) async fn healthz<B: Backend>(
    _: &App<B>,
    _: &Request,
    _: &Params,
) -> Result<Response, ApiError> {
    Ok(Response::json(200, "{\"status\":\"ok\"}"))
}

/// Prometheus text format 0.0.4, for a token with the `metrics` (or `admin`) role.
#[cfg_attr(feature = "openapi", utoipa::path(
    get, path = "/metrics", tag = "operations",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Counters and outbox gauges (the same families on both runtimes).",
         body = String, content_type = "text/plain; version=0.0.4; charset=utf-8"),
        (status = 401, description = "No bearer token.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token has neither the metrics nor the admin role.", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
))]
pub(crate) async fn metrics<B: Backend>(
    app: &App<B>,
    req: &Request,
    _: &Params,
) -> Result<Response, ApiError> {
    crate::handlers::scope(app, req, nps_edge_core::auth::Role::Metrics, None)?;
    let gauges = match app.backend().sink_gauges().await {
        Ok(g) => g,
        Err(e) => {
            tracing::warn!(error = %e, "outbox gauges unavailable");
            None
        }
    };
    Ok(Response::new(
        200,
        "text/plain; version=0.0.4; charset=utf-8",
        app.metrics().render(gauges.as_deref()),
    ))
}

/// This document.
#[cfg_attr(feature = "openapi", utoipa::path(
    get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document of API v1.", body = Object))
))]
pub(crate) async fn openapi_json<B: Backend>(
    app: &App<B>,
    _: &Request,
    _: &Params,
) -> Result<Response, ApiError> {
    // Generated from the route table by `crate::openapi` and committed (a test keeps the file
    // equal to what the code generates), so no runtime carries the generator.
    let doc = crate::handlers::page::static_file(app, "openapi.json").await?;
    Ok(Response::json(200, doc)
        .set("cache-control", "no-cache")
        .set("access-control-allow-origin", "*"))
}
