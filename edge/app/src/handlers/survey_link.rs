//! `GET /s/{token}` and `POST /s/{token}`: the hosted survey page of a signed link (see
//! `nps_edge_core::links`). The signed token is the credential (no `Origin` rule, no identity
//! signature: the site's server signed who is asked). A GET never records anything, because
//! mail security gateways open every link of an e-mail; the page itself posts the score, by
//! its script once it is seen or by one click without script.
//!
//! Every click of one link updates one answer: its id comes from the token, its rev is one more
//! than the stored one (and than the rev the page was given, in case the store is behind).

use nps_edge_core::dedup::{DuplicateKind, Status};
use nps_edge_core::link_text::{text_for, LinkText};
use nps_edge_core::links::{self, Claims, LinkError};
use nps_edge_core::report_api::parse_query;
use nps_edge_core::EdgeError;
use nps_protocol::i18n::strings_for;
use nps_protocol::limits::{MAX_REV, MAX_SCORE};
use nps_protocol::{Response as Answer, User};

use crate::backend::{Backend, BackendError, SqlValue};
use crate::handlers::{any_body, ingest, param};
use crate::http::{ApiError, Request, Response};
use crate::link_page::{self, View};
use crate::routes::Params;
use crate::store::{MARK_OPENED, ONE_RESPONSE};
use crate::App;

/// Property of an answer given through a link: the touchpoint it came from.
pub(crate) const TOUCHPOINT_PROPERTY: &str = "touchpoint";

/// A verified link: its claims, its site's brand and secret.
struct Link<'a> {
    claims: Claims,
    site: &'a nps_edge_core::config::Site,
    secret: &'a str,
    action: String,
}

impl Link<'_> {
    fn text(&self) -> &'static LinkText {
        text_for(self.claims.lang())
    }

    fn page(&self, status: u16, view: View) -> Response {
        let html = link_page::render(
            strings_for(self.claims.lang()),
            self.text(),
            links::brand(self.site),
            &self.action,
            view,
        );
        html_response(status, html)
    }

    fn answer_id(&self) -> String {
        links::response_id(self.secret.as_bytes(), &self.claims)
    }
}

fn html_response(status: u16, html: String) -> Response {
    Response::new(status, "text/html; charset=utf-8", html)
        .set("content-security-policy", link_page::csp())
        .set("cache-control", "no-store")
        .set("x-content-type-options", "nosniff")
        // The token is a credential: never in a Referer.
        .set("referrer-policy", "no-referrer")
        .set("x-frame-options", "DENY")
}

/// The error page of a refused link, in the link's language when it can be read, else in the
/// browser's first language.
fn refused(e: &LinkError, req: &Request) -> Response {
    let lang = match e {
        LinkError::Expired(c) => c.lang().to_string(),
        _ => req
            .header("accept-language")
            .and_then(|v| v.split([',', ';']).next())
            .map(|l| l.trim().to_string())
            .unwrap_or_else(|| "en".to_string()),
    };
    let t = text_for(&lang);
    let msg = match e {
        LinkError::Malformed => t.malformed,
        LinkError::Forged => t.forged,
        LinkError::Expired(_) => t.expired,
    };
    let html = link_page::render(strings_for(&lang), t, "", "", View::Message(msg));
    html_response(e.status(), html)
}

fn verify<'a, B: Backend>(
    app: &'a App<B>,
    req: &Request,
    params: &Params,
    now_ms: u64,
) -> Result<Link<'a>, Box<Response>> {
    let token = param(params, 0);
    let claims = links::verify(app.config(), token, now_ms / 1000).map_err(|e| {
        tracing::info!(reason = e.status(), "survey link refused");
        Box::new(refused(&e, req))
    })?;
    // `verify` found the site and its secret.
    let site = app
        .config()
        .site(&claims.site)
        .ok_or_else(|| Box::new(refused(&LinkError::Forged, req)))?;
    let secret = site
        .links
        .secret
        .as_deref()
        .ok_or_else(|| Box::new(refused(&LinkError::Forged, req)))?;
    Ok(Link {
        claims,
        site,
        secret,
        action: format!("/s/{token}"),
    })
}

/// The link's stored answer: its rev, score, comment and contact consent; none when nothing is
/// stored yet (or the runtime has no store).
async fn stored<B: Backend>(app: &App<B>, link: &Link<'_>) -> Result<Option<Stored>, EdgeError> {
    let params = vec![
        SqlValue::Text(link.claims.site.clone()),
        SqlValue::Text(link.answer_id()),
    ];
    let rows = match app.backend().query(ONE_RESPONSE, params).await {
        Ok(rows) => rows,
        Err(BackendError::NoStore) => return Ok(None),
        Err(e) => return Err(crate::unavailable(e)),
    };
    let Some(body) = rows
        .first()
        .and_then(|r| r.first())
        .and_then(SqlValue::as_str)
    else {
        return Ok(None);
    };
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let rev = v["rev"].as_u64().and_then(|r| u32::try_from(r).ok());
    let score = v["score"].as_u64().and_then(|s| u8::try_from(s).ok());
    Ok(rev.zip(score).map(|(rev, score)| Stored {
        rev,
        score,
        comment: v["comment"].as_str().map(str::to_string),
        contact_ok: v["contact_ok"].as_bool(),
    }))
}

/// What is stored of a link's answer.
struct Stored {
    rev: u32,
    score: u8,
    comment: Option<String>,
    contact_ok: Option<bool>,
}

fn query_u32(pairs: &[(String, String)], key: &str) -> Option<u32> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.parse().ok())
}

fn score_of(v: Option<u32>) -> Option<u8> {
    v.and_then(|s| u8::try_from(s).ok())
        .filter(|s| *s <= MAX_SCORE)
}

/// The hosted survey page.
#[cfg_attr(feature = "openapi", utoipa::path(
    get, path = "/s/{token}", tag = "links",
    description = "The hosted survey page of a signed link, in the link's language. Records nothing (link scanners \
open every link): `?score=N` shows N pre-selected and the page's script sends it once the page is seen (one click \
without script). Works without JavaScript (plain forms).",
    params(
        ("token" = String, Path, description = "The signed link token."),
        ("score" = Option<u8>, Query, description = "A score clicked in the e-mail (0-10)."),
    ),
    responses(
        (status = 200, description = "The page.", body = String, content_type = "text/html; charset=utf-8"),
        (status = 400, description = "Not a link token (error page).", body = String, content_type = "text/html; charset=utf-8"),
        (status = 403, description = "A link whose signature does not verify (error page).", body = String, content_type = "text/html; charset=utf-8"),
        (status = 410, description = "An expired link (error page, in the link's language).", body = String, content_type = "text/html; charset=utf-8"),
    )
))]
pub(crate) async fn get_page<B: Backend>(
    app: &App<B>,
    req: &Request,
    params: &Params,
) -> Result<Response, ApiError> {
    let now = app.backend().now_ms();
    let link = match verify(app, req, params, now) {
        Ok(l) => l,
        Err(page) => return Ok(*page),
    };
    mark_opened(app, &link, now).await;
    let q = parse_query(&req.query);
    let has = |k: &str| q.iter().any(|(key, _)| key == k);
    if has("done") {
        return Ok(link.page(200, View::Done));
    }
    if let (Some(score), Some(rev)) = (
        score_of(query_u32(&q, "answered")),
        query_u32(&q, "rev").filter(|r| (1..=MAX_REV).contains(r)),
    ) {
        return Ok(link.page(200, View::FollowUp { score, rev }));
    }
    let known = match stored(app, &link).await {
        Ok(k) => k,
        Err(e) => {
            tracing::warn!(error = %e, "survey link: stored answer not read");
            None
        }
    };
    let rev = known
        .as_ref()
        .map_or(1, |k| k.rev.saturating_add(1))
        .min(MAX_REV);
    let visitor = links::visitor_id(
        link.secret.as_bytes(),
        &link.claims.site,
        link.claims.recipient(),
    );
    let view = match score_of(query_u32(&q, "score")) {
        Some(score) => View::Confirm { score, rev },
        None => View::Scale {
            selected: known.map(|k| k.score),
            rev,
            widget: app.backend().serves_widget().then_some((
                link.claims.site.as_str(),
                link.claims.survey.as_str(),
                visitor.as_str(),
            )),
        },
    };
    Ok(link.page(200, view))
}

/// The invitation's funnel: its page was loaded (the first time counts). A failure is logged:
/// the page is worth more than the figure.
async fn mark_opened<B: Backend>(app: &App<B>, link: &Link<'_>, now: u64) {
    let params = vec![
        SqlValue::Text(link.claims.site.clone()),
        SqlValue::Text(link.answer_id()),
        SqlValue::Int(now as i64),
    ];
    match app.backend().execute(MARK_OPENED, params).await {
        Ok(_) | Err(BackendError::NoStore) => {}
        Err(e) => tracing::warn!(error = %e, "survey link: opening not recorded"),
    }
}

/// A form field's value.
fn field<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The answer a link's form sends. A new score keeps the comment already given (an answer is
/// sent whole, and the score buttons carry none); the follow-up form sets it.
fn answer(
    link: &Link<'_>,
    score: u8,
    rev: u32,
    form: &[(String, String)],
    known: Option<Stored>,
) -> Answer {
    let c = &link.claims;
    let detractor = nps_protocol::Segment::of(score) == Some(nps_protocol::Segment::Detractor);
    let (comment, contact_ok) = if field(form, "step") == Some("comment") {
        (
            field(form, "comment")
                .map(nps_protocol::text::clean_comment)
                .filter(|s| !s.is_empty()),
            detractor.then(|| field(form, "contact_ok") == Some("1")),
        )
    } else {
        let k = known.unwrap_or(Stored {
            rev: 0,
            score,
            comment: None,
            contact_ok: None,
        });
        (k.comment, k.contact_ok.filter(|_| detractor))
    };
    let mut r = Answer {
        visitor: links::visitor_id(link.secret.as_bytes(), &c.site, c.recipient()),
        id: link.answer_id(),
        rev,
        site: c.site.clone(),
        survey: c.survey.clone(),
        score,
        comment,
        locale: c.locale.clone(),
        contact_ok,
        user: Some(User {
            id: c.user.clone(),
            account: c.account.clone(),
            order: c.order.clone(),
            email: c.email.clone(),
            signature: None,
        }),
        ..Default::default()
    };
    r.properties
        .insert(TOUCHPOINT_PROPERTY.into(), "email".into());
    r
}

/// A score or a comment sent by the page's form.
#[cfg_attr(feature = "openapi", utoipa::path(
    post, path = "/s/{token}", tag = "links",
    description = "The page's form (`application/x-www-form-urlencoded`): `score` (0-10), `rev`, and for the \
follow-up `step=comment`, `comment`, `contact_ok=1`. Records one rev of the link's answer (the same wire contract \
and rules as `POST /v1/responses`), then redirects (303) to the follow-up question or the thank-you page.",
    params(("token" = String, Path, description = "The signed link token.")),
    responses(
        (status = 303, description = "Recorded: to the follow-up (`?answered=N&rev=R`) or the thank-you page (`?done`)."),
        (status = 200, description = "Not recorded: the recipient already answered this survey within the site's window (a page says so).", body = String, content_type = "text/html; charset=utf-8"),
        (status = 400, description = "Not a link token, or a form without a score 0-10 (error page).", body = String, content_type = "text/html; charset=utf-8"),
        (status = 403, description = "A link whose signature does not verify (error page).", body = String, content_type = "text/html; charset=utf-8"),
        (status = 410, description = "An expired link (error page).", body = String, content_type = "text/html; charset=utf-8"),
        (status = 429, description = "Rate limited (error page; `Retry-After`).", body = String, content_type = "text/html; charset=utf-8"),
        (status = 503, description = "The store cannot take it right now; nothing was stored (error page).", body = String, content_type = "text/html; charset=utf-8"),
    )
))]
pub(crate) async fn post_page<B: Backend>(
    app: &App<B>,
    req: &Request,
    params: &Params,
) -> Result<Response, ApiError> {
    let now = app.backend().now_ms();
    let link = match verify(app, req, params, now) {
        Ok(l) => l,
        Err(page) => return Ok(*page),
    };
    let t = link.text();
    let form = match any_body(req) {
        Ok(b) => parse_query(&String::from_utf8_lossy(b)),
        Err(_) => return Ok(link.page(400, View::Message(t.malformed))),
    };
    let Some(score) = score_of(field(&form, "score").and_then(|s| s.parse().ok())) else {
        return Ok(link.page(400, View::Message(t.malformed)));
    };
    if let Err(e) = app.rate_limit(link.site, req, now) {
        return Ok(later(&link, &e));
    }
    let given = field(&form, "rev")
        .and_then(|r| r.parse::<u32>().ok())
        .unwrap_or(1);
    let known = match stored(app, &link).await {
        Ok(k) => k,
        Err(e) => return Ok(later(&link, &e)),
    };
    let rev = given
        .max(known.as_ref().map_or(1, |k| k.rev.saturating_add(1)))
        .clamp(1, MAX_REV);
    let r = answer(&link, score, rev, &form, known);
    if !nps_protocol::validate::validate_response(&r).is_empty() {
        return Ok(link.page(400, View::Message(t.malformed)));
    }
    let d = match ingest::accept(app, link.site, r, now).await {
        Ok(d) => d,
        Err(ApiError::Edge(e)) => return Ok(later(&link, &e)),
        Err(e) => return Err(e),
    };
    if d.status == Status::Duplicate && d.duplicate == Some(DuplicateKind::Respondent) {
        return Ok(link.page(200, View::Already));
    }
    tracing::info!(site = %link.claims.site, survey = %link.claims.survey, rev, "link answer");
    let to = if field(&form, "step") == Some("comment") {
        format!("{}?done", link.action)
    } else {
        format!(
            "{}?answered={score}&rev={}",
            link.action,
            rev.saturating_add(1)
        )
    };
    Ok(Response::empty(303)
        .set("location", to)
        .set("cache-control", "no-store")
        .set("referrer-policy", "no-referrer"))
}

/// A refusal after the link was verified (rate limit, store outage): the page says to retry.
fn later(link: &Link<'_>, e: &EdgeError) -> Response {
    let mut r = link.page(e.status(), View::Message(link.text().later));
    if let Some(s) = e.retry_after_secs() {
        r.insert("retry-after", s.to_string());
    }
    r
}
