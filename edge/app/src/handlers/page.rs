//! The report page: static HTML, JS and CSS, served with a strict Content-Security-Policy (no
//! inline script or style; the data comes from the report API with the read token).

use std::borrow::Cow;

use nps_edge_core::EdgeError;

use crate::backend::Backend;
use crate::http::{ApiError, Request, Response};
use crate::routes::Params;
use crate::{unavailable, App};

/// Content-Security-Policy of the report page.
pub(crate) const REPORT_CSP: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// A static file from the runtime (compiled in natively, the assets binding on the worker).
pub(crate) async fn static_file<B: Backend>(
    app: &App<B>,
    name: &'static str,
) -> Result<Cow<'static, str>, ApiError> {
    match app.backend().static_text(name).await {
        Ok(Some(text)) => Ok(text),
        Ok(None) => {
            tracing::error!(
                name,
                "static file missing: check the worker's assets binding"
            );
            Err(EdgeError::Unavailable(format!("{name} is not deployed with this edge")).into())
        }
        Err(e) => Err(unavailable(e).into()),
    }
}

async fn asset<B: Backend>(
    app: &App<B>,
    content_type: &str,
    name: &'static str,
) -> Result<Response, ApiError> {
    let body = static_file(app, name).await?;
    Ok(Response::new(200, content_type, body)
        .set("cache-control", "no-cache")
        .set("content-security-policy", REPORT_CSP)
        .set("x-content-type-options", "nosniff")
        .set("referrer-policy", "no-referrer")
        .set("x-frame-options", "DENY"))
}

/// The page (`#token=…` in the fragment, never sent to a server).
#[cfg_attr(feature = "openapi", utoipa::path(
    get, path = "/report", tag = "report",
    responses((status = 200, description = "The report page.", body = String, content_type = "text/html; charset=utf-8"))
))]
pub(crate) async fn report_html<B: Backend>(
    app: &App<B>,
    _: &Request,
    _: &Params,
) -> Result<Response, ApiError> {
    asset(app, "text/html; charset=utf-8", "report/index.html").await
}

/// The page, with a trailing slash.
#[cfg_attr(feature = "openapi", utoipa::path(
    get, path = "/report/", tag = "report",
    responses((status = 200, description = "The report page.", body = String, content_type = "text/html; charset=utf-8"))
))]
pub(crate) async fn report_html_slash<B: Backend>(
    app: &App<B>,
    req: &Request,
    p: &Params,
) -> Result<Response, ApiError> {
    report_html(app, req, p).await
}

/// The page's script.
#[cfg_attr(feature = "openapi", utoipa::path(
    get, path = "/report/report.js", tag = "report",
    responses((status = 200, description = "The page's script.", body = String, content_type = "text/javascript; charset=utf-8"))
))]
pub(crate) async fn report_js<B: Backend>(
    app: &App<B>,
    _: &Request,
    _: &Params,
) -> Result<Response, ApiError> {
    asset(app, "text/javascript; charset=utf-8", "report/report.js").await
}

/// The page's style sheet.
#[cfg_attr(feature = "openapi", utoipa::path(
    get, path = "/report/report.css", tag = "report",
    responses((status = 200, description = "The page's style sheet.", body = String, content_type = "text/css; charset=utf-8"))
))]
pub(crate) async fn report_css<B: Backend>(
    app: &App<B>,
    _: &Request,
    _: &Params,
) -> Result<Response, ApiError> {
    asset(app, "text/css; charset=utf-8", "report/report.css").await
}
