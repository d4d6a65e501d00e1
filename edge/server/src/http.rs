//! The axum side of the native adapter: every request goes to the application
//! (`nps_edge_app::App::handle`); only static files (`--assets`) are served here, for paths that
//! are not API routes.

use std::net::SocketAddr;
use std::path::Path;

use axum::body::{to_bytes, Body as AxumBody};
use axum::extract::{ConnectInfo, Request as AxumRequest, State};
use axum::http::{header, HeaderName, HeaderValue, Method as AxumMethod, StatusCode};
use axum::response::{IntoResponse, Response as AxumResponse};
use axum::Router;
use nps_edge_app::http::{max_request_bytes, Body, Method, Request, Response, READ_HEADERS};
use nps_edge_app::routes::is_api_path;
use nps_edge_app::statics::STATIC_FILE_HEADER;

use crate::AppState;

/// How long a request's body may take to arrive.
const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The whole HTTP surface.
pub fn app(state: AppState) -> Router {
    Router::new().fallback(handle).with_state(state)
}

async fn handle(State(st): State<AppState>, req: AxumRequest) -> AxumResponse {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path();
    let read_only = parts.method == AxumMethod::GET || parts.method == AxumMethod::HEAD;
    if let (Some(root), true, false) = (st.assets.as_deref(), read_only, is_api_path(path)) {
        if let Some(resp) = asset(root, path, parts.method == AxumMethod::HEAD).await {
            return resp;
        }
    }
    let headers = READ_HEADERS
        .iter()
        .filter_map(|h| {
            let v = parts.headers.get(*h)?.to_str().ok()?;
            Some((h.to_string(), v.to_string()))
        })
        .collect();
    // A client that trickles its body holds a connection: it gets BODY_TIMEOUT in all.
    let read = tokio::time::timeout(BODY_TIMEOUT, to_bytes(body, max_request_bytes(path))).await;
    let body = match read {
        Err(_) => Body::Unreadable("the body did not arrive in time".into()),
        Ok(Ok(b)) => Body::Bytes(b.into()),
        Ok(Err(e)) => {
            // The only error the limit produces is "length limit exceeded"; anything else is a
            // broken upload, still the client's doing.
            let msg = std::error::Error::source(&e)
                .map(|s| s.to_string())
                .unwrap_or_else(|| e.to_string());
            if msg.contains("length limit") {
                Body::TooLarge
            } else {
                Body::Unreadable(msg)
            }
        }
    };
    let req = Request {
        method: Method::parse(parts.method.as_str()),
        path: path.to_string(),
        query: parts.uri.query().unwrap_or("").to_string(),
        headers,
        body,
        peer: parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string()),
    };
    let resp = st.app.handle(req).await;
    match resp.header(STATIC_FILE_HEADER).map(str::to_string) {
        Some(name) => built_file(st.console.as_deref(), &name, resp).await,
        None => to_axum(resp),
    }
}

/// A built file the application asked for (`console/…`), from `--console DIR`; a 503 problem
/// naming the flag when the server was started without it or the file is missing.
async fn built_file(console: Option<&Path>, name: &str, mut resp: Response) -> AxumResponse {
    resp.headers.retain(|(k, _)| *k != STATIC_FILE_HEADER);
    let file = name
        .strip_prefix("console/")
        .zip(console)
        .and_then(|(rel, root)| crate::assets::resolve(root, rel));
    let bytes = match file {
        Some(path) => tokio::fs::read(&path).await.ok(),
        None => None,
    };
    let Some(bytes) = bytes else {
        tracing::error!(name, "console file missing: start nps-edge with --console dist/console (scripts/build-console.sh)");
        let e = nps_edge_core::EdgeError::Unavailable(
            "the console is not deployed with this server (nps-edge --console DIR)".into(),
        );
        return to_axum(nps_edge_app::ApiError::from(e).to_response());
    };
    let mut out = AxumResponse::new(AxumBody::from(bytes));
    *out.status_mut() = StatusCode::from_u16(resp.status).unwrap_or(StatusCode::OK);
    let h = out.headers_mut();
    for (k, v) in resp.headers {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(HeaderName::from_static(k), v);
        }
    }
    out
}

fn to_axum(r: Response) -> AxumResponse {
    let mut resp = AxumResponse::new(AxumBody::from(r.body.into_owned()));
    *resp.status_mut() =
        StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    for (k, v) in r.headers {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(HeaderName::from_static(k), v);
        }
    }
    resp
}

/// A static file under `root`, or `None` (the application answers 404).
async fn asset(root: &Path, url_path: &str, head: bool) -> Option<AxumResponse> {
    let path = crate::assets::resolve(root, url_path)?;
    let bytes = tokio::fs::read(&path).await.ok()?;
    let mut resp = if head {
        let len = bytes.len();
        let mut r = AxumResponse::new(AxumBody::empty());
        r.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        r
    } else {
        bytes.into_response()
    };
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(crate::assets::content_type(&path)),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(crate::assets::cache_control(&path)),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    Some(resp)
}
