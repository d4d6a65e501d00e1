//! The report page: static HTML, JS and CSS, served with a strict Content-Security-Policy (no
//! inline script or style; the data comes from the report API with the read token).

use crate::backend::Backend;
use crate::http::{ApiError, Request, Response};
use crate::routes::Params;
use crate::App;

const PAGE_HTML: &str = include_str!("../report_page/index.html");
const PAGE_JS: &str = include_str!("../report_page/report.js");
const PAGE_CSS: &str = include_str!("../report_page/report.css");

/// Content-Security-Policy of the report page.
pub(crate) const REPORT_CSP: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

fn asset(content_type: &str, body: &'static str) -> Result<Response, ApiError> {
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
    _: &App<B>,
    _: &Request,
    _: &Params,
) -> Result<Response, ApiError> {
    asset("text/html; charset=utf-8", PAGE_HTML)
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
    _: &App<B>,
    _: &Request,
    _: &Params,
) -> Result<Response, ApiError> {
    asset("text/javascript; charset=utf-8", PAGE_JS)
}

/// The page's style sheet.
#[cfg_attr(feature = "openapi", utoipa::path(
    get, path = "/report/report.css", tag = "report",
    responses((status = 200, description = "The page's style sheet.", body = String, content_type = "text/css; charset=utf-8"))
))]
pub(crate) async fn report_css<B: Backend>(
    _: &App<B>,
    _: &Request,
    _: &Params,
) -> Result<Response, ApiError> {
    asset("text/css; charset=utf-8", PAGE_CSS)
}
