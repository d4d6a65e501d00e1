//! `GET /v1/sites/{site}/eligibility`: may the loader show the survey to this visitor?

use nps_edge_core::report_api::EligibilityQuery;
use nps_edge_core::suppression::{eligibility_json, is_suppressed, subjects};
use nps_edge_core::{identity, EdgeError};

use crate::backend::{Backend, BackendError, SqlValue, VisitorQuery};
use crate::handlers::{ingest, param};
use crate::http::{ApiError, Request, Response};
use crate::routes::Params;
use crate::store::{ACTIVE_CASE_OF, DUE_RESURVEY_OF};
use crate::{unavailable, App};

/// `{"show":false}` when the user or the account has an active suppression or an open case, or
/// when this user already answered this survey within the site's respondent window (the edge
/// would answer a second response `duplicate` anyway); else `{"show":true}`. To a verified
/// identity it adds the `reason` (`suppressed`, `open_case`, `answered`). A user whose case was
/// resolved is shown the survey again once its re-survey is due, inside the window too
/// (`"reason":"resurvey"` to a verified identity). Public (the loader cannot hold a
/// secret), so keep user and account ids opaque.
#[cfg_attr(feature = "openapi", utoipa::path(
    get, path = "/v1/sites/{site}/eligibility", tag = "ingest",
    params(
        ("site" = String, Path, description = "Site id."),
        ("survey" = Option<String>, Query, description = "The survey about to be shown."),
        ("user" = Option<String>, Query, description = "The identified user's id."),
        ("account" = Option<String>, Query, description = "Their account id."),
        ("signature" = Option<String>, Query, description = "The identity signature of `user` (hex HMAC-SHA256 with the site's identity secret)."),
        ("visitor" = Option<String>, Query, description = "Accepted and ignored."),
        ("origin" = Option<String>, Header, description = "When present, must be on the site's allowlist."),
    ),
    responses(
        (status = 200, description = "Whether to show the survey (`Cache-Control: private, max-age=60`).", body = crate::openapi::Eligibility),
        (status = 403, description = "Unknown site, a foreign origin, or (identity `required`) a user without a valid signature.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid ids or unknown parameters.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited, like the answers of the same client.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The store cannot answer right now.", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
))]
pub(crate) async fn get_eligibility<B: Backend>(
    app: &App<B>,
    req: &Request,
    params: &Params,
) -> Result<Response, ApiError> {
    let site = param(params, 0);
    let site_cfg = app
        .config()
        .site(site)
        .ok_or_else(|| EdgeError::UnknownSite(site.chars().take(64).collect()))?;
    if let Some(o) = req.origin() {
        if !site_cfg.allows_origin(o) {
            return Err(EdgeError::OriginNotAllowed(o.chars().take(200).collect()).into());
        }
    }
    let mut q = EligibilityQuery::parse(&req.query)?;
    let now = app.backend().now_ms();
    app.rate_limit(site_cfg, req, now)?;
    (q.user, q.account) = identity::apply_query(site_cfg, q.user, q.account, q.signature.take())?;
    let person = Person {
        user: q.user.as_deref(),
        account: q.account.as_deref(),
        respondent: q.user.as_deref(),
    };
    let (reason, resurvey) = hold_back(app, site_cfg, q.survey.as_deref(), person, now).await?;
    // The reason is the person's business: said only to a verified identity (anyone may ask
    // about an unverified id, and "open case" would tell them of a complaint).
    let verified = site_cfg.identity != identity::IdentityMode::Off && q.user.is_some();
    let body = match (reason, verified) {
        (None, true) if resurvey => "{\"show\":true,\"reason\":\"resurvey\"}".to_string(),
        (None, _) => eligibility_json(true).to_string(),
        (Some(r), true) => format!("{{\"show\":false,\"reason\":\"{}\"}}", r.as_str()),
        (Some(_), false) => eligibility_json(false).to_string(),
    };
    // A re-survey is asked once: a cached "yes" would show it again on the next page view,
    // after the answer. Other answers may be reused for a minute.
    let cache = if resurvey {
        "no-store"
    } else {
        "private, max-age=60"
    };
    Ok(Response::json(200, body).set("cache-control", cache))
}

/// Who is asked about: subjects of suppressions and cases, and the respondent key of the
/// survey's window.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Person<'a> {
    /// The user id.
    pub user: Option<&'a str>,
    /// The account id.
    pub account: Option<&'a str>,
    /// The key the respondent window counts (the user id, or a link's visitor id).
    pub respondent: Option<&'a str>,
}

/// Why a person is not to be surveyed now (`None`: they may be), and whether it is the
/// re-survey of a resolved case.
pub(crate) async fn hold_back<B: Backend>(
    app: &App<B>,
    site_cfg: &nps_edge_core::config::Site,
    survey: Option<&str>,
    p: Person<'_>,
    now: u64,
) -> Result<(Option<Reason>, bool), ApiError> {
    let site = site_cfg.id.as_str();
    if p.user.is_none() && p.account.is_none() && p.respondent.is_none() {
        return Ok((None, false));
    }
    let window = site_cfg.respondent_window_ms();
    let respondent = match (survey, p.respondent) {
        (Some(survey), Some(key)) if window > 0 => {
            Some((survey.to_string(), key.to_string(), window))
        }
        _ => None,
    };
    let v = app
        .backend()
        .visitor(VisitorQuery {
            site: site.to_string(),
            subjects: subjects(p.user, p.account)
                .into_iter()
                .map(str::to_string)
                .collect(),
            respondent,
        })
        .await
        .map_err(unavailable)?;
    let answered = v
        .answered_ms
        .is_some_and(|at| window > 0 && now.saturating_sub(at) < window);
    if is_suppressed(&v.suppressions, p.user, p.account, now) {
        return Ok((Some(Reason::Suppressed), false));
    }
    if open_case(app, site, p.user).await? {
        return Ok((Some(Reason::OpenCase), false));
    }
    if !answered {
        return Ok((None, false));
    }
    match p.user {
        // A resolved case brings its customer back, inside the window too.
        Some(user) if due_resurvey(app, site, user, now).await?.is_some() => Ok((None, true)),
        _ => Ok((Some(Reason::Answered), false)),
    }
}

/// Why the survey is not shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reason {
    /// The user or account is on the suppression list.
    Suppressed,
    /// They have a case the team has not closed.
    OpenCase,
    /// They answered this survey within the respondent window.
    Answered,
}

impl Reason {
    /// Wire name.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Reason::Suppressed => "suppressed",
            Reason::OpenCase => "open_case",
            Reason::Answered => "answered",
        }
    }
}

/// The resolved case of `user` whose re-survey is due and not answered yet.
pub(crate) async fn due_resurvey<B: Backend>(
    app: &App<B>,
    site: &str,
    user: &str,
    now: u64,
) -> Result<Option<String>, ApiError> {
    let params = vec![
        SqlValue::Text(site.to_string()),
        SqlValue::Text(user.to_string()),
        SqlValue::Int(now as i64),
    ];
    Ok(crate::handlers::first_texts(app, DUE_RESURVEY_OF, params)
        .await?
        .into_iter()
        .next())
}

/// Whether the user has an active case (a runtime without a response store has none). The
/// person is the user: an account's other users are not held back by one user's complaint.
async fn open_case<B: Backend>(
    app: &App<B>,
    site: &str,
    user: Option<&str>,
) -> Result<bool, ApiError> {
    let Some(user) = user else { return Ok(false) };
    match app
        .backend()
        .query(
            ACTIVE_CASE_OF,
            vec![
                SqlValue::Text(site.to_string()),
                SqlValue::Text(user.to_string()),
            ],
        )
        .await
    {
        Ok(rows) => Ok(!rows.is_empty()),
        Err(BackendError::NoStore) => Ok(false),
        Err(e) => Err(unavailable(e).into()),
    }
}

/// CORS preflight of the eligibility check.
#[cfg_attr(feature = "openapi", utoipa::path(
    options, path = "/v1/sites/{site}/eligibility", tag = "ingest",
    params(
        ("site" = String, Path, description = "Site id."),
        ("origin" = String, Header, description = "Allowed by some site."),
    ),
    responses(
        (status = 204, description = "Allowed: `Access-Control-Allow-*` headers."),
        (status = 403, description = "No site allows this origin.", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
))]
pub(crate) async fn preflight_eligibility<B: Backend>(
    app: &App<B>,
    req: &Request,
    _: &Params,
) -> Result<Response, ApiError> {
    ingest::preflight(app, req)
}
