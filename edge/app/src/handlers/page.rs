//! The pages: the team's console (a Leptos app: its page, style sheet, boot module, glue and
//! wasm, served with a strict Content-Security-Policy — no inline script or style; the data
//! comes from the API with the bearer token), the redirect of the former report page to it, and
//! the static files read from the runtime (the OpenAPI document).

use std::borrow::Cow;

use nps_edge_core::EdgeError;

use crate::backend::Backend;
use crate::http::{ApiError, Request, Response};
use crate::routes::Params;
use crate::{unavailable, App};

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

/// The headers every page answer carries (the console's files, the report redirect).
fn page_headers(r: Response, csp: &str, cache: &str) -> Response {
    r.set("cache-control", cache)
        .set("content-security-policy", csp)
        .set("x-content-type-options", "nosniff")
        .set("referrer-policy", "no-referrer")
        .set("x-frame-options", "DENY")
}

/// Where the report lives now: the console's report view. The report page's links and
/// bookmarks carry their state in the fragment (`#token=…&site=…&response=…`), which the
/// browser keeps across the redirect, so the location needs no part of the request (and
/// reflects none).
pub(crate) const REPORT_LOCATION: &str = "/console?view=report";

/// The former report page: a redirect to the console's report view, so that bookmarks and the
/// chat alerts' "Open in report" links keep working. Not cached: the place may move again.
#[cfg_attr(feature = "openapi", utoipa::path(
    get, path = "/report", tag = "report",
    responses((status = 302, description = "To the console's report view (`/console?view=report`); the browser keeps the fragment (`#token=…&site=…&response=…`).",
        headers(("location" = String, description = "/console?view=report"))))
))]
pub(crate) async fn report_redirect<B: Backend>(
    _: &App<B>,
    _: &Request,
    _: &Params,
) -> Result<Response, ApiError> {
    let r = Response::empty(302).set("location", REPORT_LOCATION);
    Ok(page_headers(r, CONSOLE_CSP, "no-cache"))
}

/// The former report page, with a trailing slash: the same redirect.
#[cfg_attr(feature = "openapi", utoipa::path(
    get, path = "/report/", tag = "report",
    responses((status = 302, description = "To the console's report view, as `/report`.",
        headers(("location" = String, description = "/console?view=report"))))
))]
pub(crate) async fn report_redirect_slash<B: Backend>(
    app: &App<B>,
    req: &Request,
    p: &Params,
) -> Result<Response, ApiError> {
    report_redirect(app, req, p).await
}

/// Content-Security-Policy of the console: its own scripts and wasm, its own API, nothing else.
pub(crate) const CONSOLE_CSP: &str =
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; \
frame-ancestors 'none'";

/// The console's files, with their content types.
const CONSOLE_FILES: [(&str, &str); 4] = [
    ("console.css", "text/css; charset=utf-8"),
    ("boot.js", "text/javascript; charset=utf-8"),
    ("nps_console.js", "text/javascript; charset=utf-8"),
    ("nps_console_bg.wasm", "application/wasm"),
];

fn console_asset(name: &str, content_type: &str, cache: &str) -> Response {
    let r = Response::new(200, content_type, "").set(
        crate::statics::STATIC_FILE_HEADER,
        format!("console/{name}"),
    );
    page_headers(r, CONSOLE_CSP, cache)
}

/// The team's console: the report, the cases board, one case, the follow-up figures (`#token=…`).
#[cfg_attr(feature = "openapi", utoipa::path(
    get, path = "/console", tag = "report",
    responses((status = 200, description = "The console page (a Leptos app; its files are under /console/).", body = String, content_type = "text/html; charset=utf-8"))
))]
pub(crate) async fn console_html<B: Backend>(
    _: &App<B>,
    _: &Request,
    _: &Params,
) -> Result<Response, ApiError> {
    Ok(console_asset(
        "index.html",
        "text/html; charset=utf-8",
        "no-cache",
    ))
}

/// One of the console's files.
#[cfg_attr(feature = "openapi", utoipa::path(
    get, path = "/console/{file}", tag = "report",
    params(("file" = String, Path, description = "console.css, boot.js, nps_console.js or nps_console_bg.wasm.")),
    responses(
        (status = 200, description = "The file (CSS, JavaScript or WebAssembly, by its name)."),
        (status = 404, description = "No such file.", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
))]
pub(crate) async fn console_file<B: Backend>(
    _: &App<B>,
    _: &Request,
    params: &Params,
) -> Result<Response, ApiError> {
    let file = crate::handlers::param(params, 0);
    let (name, content_type) = CONSOLE_FILES
        .iter()
        .find(|(n, _)| *n == file)
        .ok_or(EdgeError::NotFound)?;
    // Names are not content-hashed: revalidate, so a new release is picked up at once.
    Ok(console_asset(name, content_type, "no-cache"))
}
