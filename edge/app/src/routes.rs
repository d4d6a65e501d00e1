//! THE route table of the edge, for both runtimes. Adding an endpoint = one line here plus its
//! handler (with its `#[utoipa::path]` documentation) in `handlers/`: the same line puts it in
//! the dispatcher and in the OpenAPI document, and the conformance suite runs against both
//! runtimes from there (see edge/README.md, "Adding an endpoint").
//!
//! Paths are templates: `{name}` matches one non-empty segment, percent-decoded. A GET route
//! answers HEAD too. A path that matches with another method is a 405 (with `Allow`), anything
//! else a 404. Routes marked `cors` answer every request — success or refusal — with the CORS
//! headers of an origin that some site allows (never a foreign one).

use std::future::Future;
use std::pin::Pin;

use nps_edge_core::{cors, EdgeError};

use crate::backend::Backend;
use crate::handlers::{
    cases, eligibility, helpdesk, ingest, invitations, page, people, report, suppressions,
    survey_link, system,
};
use crate::http::{decode_segment, ApiError, Method, Request, Response};
#[cfg(feature = "openapi")]
use crate::openapi::Info as OpenApiInfo;
use crate::App;

/// Path parameters of a matched route, in template order (percent-decoded).
pub type Params = Vec<String>;

/// A handler's answer to come (`Send` natively, where the server runs handlers on many threads).
#[cfg(not(target_arch = "wasm32"))]
type Handled<'a> = Pin<Box<dyn Future<Output = Result<Response, ApiError>> + Send + 'a>>;
#[cfg(target_arch = "wasm32")]
type Handled<'a> = Pin<Box<dyn Future<Output = Result<Response, ApiError>> + 'a>>;

/// One entry of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// Method.
    pub method: Method,
    /// Path template.
    pub path: &'static str,
    /// Answers carry CORS headers (browser-facing routes).
    pub cors: bool,
}

macro_rules! routes {
    ($( $method:ident $path:literal $($cors:ident)? => $handler:path ),* $(,)?) => {
        /// Every route, in matching order.
        pub const ROUTES: &[Route] = &[
            $( Route { method: Method::$method, path: $path, cors: routes!(@cors $($cors)?) } ),*
        ];

        /// The handler of route `i`, its future boxed: a small state machine per handler
        /// rather than one holding them all, so that the worker's wasm engine, which compiles
        /// each function on its first call, compiles only the handlers that run.
        fn call<'a, B: Backend>(
            i: usize,
            app: &'a App<B>,
            req: &'a Request,
            params: &'a Params,
        ) -> Handled<'a> {
            let mut n = 0usize;
            $(
                if i == n {
                    return Box::pin($handler(app, req, params));
                }
                n += 1;
            )*
            let _ = n;
            Box::pin(std::future::ready(Err(EdgeError::NotFound.into())))
        }

        /// The OpenAPI document of API v1, generated from this table (`crate::openapi`).
        #[cfg(feature = "openapi")]
        #[derive(utoipa::OpenApi)]
        #[openapi(
            paths($( $handler ),*),
            modifiers(&OpenApiInfo),
        )]
        pub struct ApiDoc;
    };
    (@cors cors) => { true };
    (@cors) => { false };
}

routes! {
    POST    "/v1/responses" cors                         => ingest::post_response,
    OPTIONS "/v1/responses" cors                         => ingest::preflight_responses,
    POST    "/v1/events" cors                            => ingest::post_event,
    OPTIONS "/v1/events" cors                            => ingest::preflight_events,
    GET     "/v1/sites/{site}/eligibility" cors          => eligibility::get_eligibility,
    OPTIONS "/v1/sites/{site}/eligibility" cors          => eligibility::preflight_eligibility,
    GET     "/v1/sites"                                  => report::list_sites,
    GET     "/v1/sites/{site}/summary"                   => report::summary,
    GET     "/v1/sites/{site}/responses"                 => report::list_responses,
    GET     "/v1/sites/{site}/responses/{id}"            => report::get_response,
    GET     "/v1/sites/{site}/suppressions"              => suppressions::list_suppressions,
    GET     "/v1/sites/{site}/suppressions/{subject}"    => suppressions::get_suppression,
    PUT     "/v1/sites/{site}/suppressions/{subject}"    => suppressions::put_suppression,
    DELETE  "/v1/sites/{site}/suppressions/{subject}"    => suppressions::delete_suppression,
    DELETE  "/v1/sites/{site}/people/{key}"              => people::erase_person,
    GET     "/v1/sites/{site}/cases"                     => cases::list_cases,
    GET     "/v1/sites/{site}/cases/{id}"                => cases::get_case,
    PATCH   "/v1/sites/{site}/cases/{id}"                => cases::patch_case,
    POST    "/v1/sites/{site}/cases/{id}/notes"          => cases::add_note,
    POST    "/v1/sites/{site}/helpdesk"                  => helpdesk::post_event,
    POST    "/v1/sites/{site}/invitations"               => invitations::post_invitations,
    GET     "/v1/sites/{site}/invitations"               => invitations::get_funnel,
    GET     "/s/{token}"                                 => survey_link::get_page,
    POST    "/s/{token}"                                 => survey_link::post_page,
    GET     "/healthz"                                   => system::healthz,
    GET     "/metrics"                                   => system::metrics,
    GET     "/openapi.json"                              => system::openapi_json,
    GET     "/report"                                    => page::report_redirect,
    GET     "/report/"                                   => page::report_redirect_slash,
    GET     "/console"                                   => page::console_html,
    GET     "/console/{file}"                            => page::console_file,
}

/// Matches `path` against a template; the captured segments, decoded.
fn matches(template: &str, path: &str) -> Option<Params> {
    let mut params = Vec::new();
    let mut t = template.split('/');
    let mut p = path.split('/');
    loop {
        match (t.next(), p.next()) {
            (None, None) => return Some(params),
            (Some(ts), Some(ps)) if ts.starts_with('{') => {
                if ps.is_empty() {
                    return None;
                }
                params.push(decode_segment(ps)?);
            }
            (Some(ts), Some(ps)) if ts == ps => {}
            _ => return None,
        }
    }
}

/// What the table says about a request.
enum Found {
    Route(usize, Params),
    WrongMethod(Vec<&'static str>, bool),
    Nothing,
}

fn find(method: Method, path: &str) -> Found {
    let want = if method == Method::Head {
        Method::Get
    } else {
        method
    };
    let depth = path.bytes().filter(|&b| b == b'/').count();
    let mut allowed: Vec<&'static str> = Vec::new();
    let mut cors_path = false;
    for (i, r) in ROUTES.iter().enumerate() {
        // Cheap reject first: a template matches only paths with as many segments.
        if r.path.bytes().filter(|&b| b == b'/').count() != depth {
            continue;
        }
        let Some(params) = matches(r.path, path) else {
            continue;
        };
        if r.method == want {
            return Found::Route(i, params);
        }
        allowed.push(r.method.as_str());
        if r.method == Method::Get {
            allowed.push("HEAD");
        }
        cors_path |= r.cors;
    }
    if allowed.is_empty() {
        Found::Nothing
    } else {
        Found::WrongMethod(allowed, cors_path)
    }
}

/// True when some route has this path (the native adapter serves static files for the rest).
pub fn is_api_path(path: &str) -> bool {
    ROUTES.iter().any(|r| matches(r.path, path).is_some())
}

/// Routes, calls, and turns the outcome into the answer: refusals through
/// [`ApiError::to_response`] (counted by reason), CORS on `cors` routes, `no-store` unless the
/// handler chose a cache policy, no body for HEAD.
pub(crate) async fn dispatch<B: Backend>(app: &App<B>, req: Request) -> Response {
    let (outcome, cors_route) = match find(req.method, &req.path) {
        Found::Route(i, params) => (call(i, app, &req, &params).await, ROUTES[i].cors),
        Found::WrongMethod(allowed, cors) => {
            let mut r = ApiError::from(EdgeError::MethodNotAllowed).to_response();
            r.insert("allow", allowed.join(", "));
            app.metrics.reject("method_not_allowed");
            (Ok(r), cors)
        }
        Found::Nothing => (Err(EdgeError::NotFound.into()), false),
    };
    let mut resp = outcome.unwrap_or_else(|e| {
        app.metrics.reject(e.reason());
        e.to_response()
    });
    if cors_route {
        for (k, v) in cors::response_headers(&app.config, req.origin()) {
            resp.insert(k, v);
        }
    }
    if resp.header("cache-control").is_none() {
        resp.insert("cache-control", "no-store");
    }
    if req.method == Method::Head {
        resp.insert("content-length", resp.body.len().to_string());
        resp.body = "".into();
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_whole_segments_and_decode_them() {
        assert_eq!(
            matches(
                "/v1/sites/{site}/responses/{id}",
                "/v1/sites/demo/responses/r%2D1"
            ),
            Some(vec!["demo".to_string(), "r-1".to_string()])
        );
        assert_eq!(
            matches("/v1/sites/{site}/summary", "/v1/sites//summary"),
            None
        );
        assert_eq!(
            matches("/v1/sites/{site}/summary", "/v1/sites/a/summary/x"),
            None
        );
        assert_eq!(
            matches("/v1/sites/{site}/summary", "/v1/sites/%zz/summary"),
            None
        );
        assert_eq!(matches("/healthz", "/healthz"), Some(vec![]));
    }

    #[test]
    fn wrong_methods_list_the_right_ones() {
        match find(Method::Post, "/v1/sites/demo/suppressions/u1") {
            Found::WrongMethod(allowed, cors) => {
                assert_eq!(allowed, ["GET", "HEAD", "PUT", "DELETE"]);
                assert!(!cors);
            }
            _ => panic!("expected 405"),
        }
        assert!(matches!(find(Method::Head, "/healthz"), Found::Route(..)));
        assert!(matches!(find(Method::Get, "/nope"), Found::Nothing));
        assert!(is_api_path("/v1/responses") && !is_api_path("/nps.js"));
    }

    #[test]
    fn every_route_is_unique() {
        for (i, a) in ROUTES.iter().enumerate() {
            for b in &ROUTES[..i] {
                assert!(!(a.method == b.method && a.path == b.path), "{a:?}");
            }
        }
    }
}
