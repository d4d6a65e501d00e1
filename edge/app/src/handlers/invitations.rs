//! `POST /v1/sites/{site}/invitations`: signed links and rendered e-mails for a list of
//! recipients, skipping those who must not be asked now.

use std::collections::HashSet;

use nps_edge_core::auth::Role;
use nps_edge_core::invitations::{self, Skip};
use nps_edge_core::link_text::text_for;
use nps_edge_core::links;
use nps_edge_core::EdgeError;
use nps_protocol::i18n::strings_for;
use nps_protocol::json::{push_str, ObjectWriter};

use crate::backend::{Backend, BackendError, SqlValue};
use crate::handlers::eligibility::{hold_back, Person, Reason};
use crate::handlers::{bulk_body, known_site, param, scope};
use crate::http::{ApiError, Request, Response};
use crate::mail::{self, Invitation};
use crate::routes::Params;
use crate::store::{
    INSERT_INVITATIONS, INVITATION_FUNNEL, MARK_SENT, NON_RESPONDENTS, UNMARK_SENT,
};
use crate::unavailable;
use crate::App;

/// Links and e-mails for up to 1,000 recipients.
#[cfg_attr(feature = "openapi", utoipa::path(
    post, path = "/v1/sites/{site}/invitations", tag = "links",
    description = "Per recipient: the signed page link, the eleven one-click score links (score 0 first) and the \
e-mail in the recipient's language (subject, HTML, text). Recipients who are suppressed, have an open case, or \
answered this survey within the site's respondent window are skipped, with the reason (`suppressed`, `open_case`, \
`answered`; `repeated` for a second entry of one person). The same `batch` and recipient always give the same \
answer (a later request's link differs only by its expiry), and `\"send\": true` hands each link's e-mail to the \
site's `links.deliver` sink once, so a retried request e-mails nobody twice. Needs the site's `links` section \
(a link secret).",
    params(("site" = String, Path, description = "Site id.")),
    request_body(content = crate::openapi::InvitationsBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The invitations and the skipped recipients.", body = crate::openapi::Invitations),
        (status = 400, description = "Not JSON.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No bearer token.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token is not an admin token of this site.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown site.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The site has no link secret (`links.secret`).", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON content.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 512 KiB.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad fields, all listed (`recipients[3].email`…); `send` on a site without a `links.deliver` sink.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The store cannot answer right now.", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
))]
pub(crate) async fn post_invitations<B: Backend>(
    app: &App<B>,
    req: &Request,
    params: &Params,
) -> Result<Response, ApiError> {
    let site = param(params, 0);
    scope(app, req, Role::Admin, Some(site))?;
    let site_cfg = known_site(app, site)?;
    let (Some(secret), Some(base)) = (
        site_cfg.links.secret.as_deref(),
        site_cfg.links.base_url.as_deref(),
    ) else {
        return Err(EdgeError::NoLinks.into());
    };
    nps_edge_core::ingest::check_content_type(req.header("content-type"))?;
    let body = invitations::parse(bulk_body(req)?)?;
    let deliver = match (body.send, site_cfg.links.deliver.as_deref()) {
        (false, _) => None,
        (true, Some(sink)) => Some(sink),
        (true, None) => {
            return Err(EdgeError::Invalid(vec![nps_protocol::Problem::new(
                "send",
                nps_protocol::ProblemCode::Format,
                "the site has no links.deliver sink: send the e-mails yourself",
            )])
            .into())
        }
    };
    // The e-mails to hand to the mail sink once the invitations are recorded.
    let mut outgoing: Vec<(String, String)> = Vec::new();
    let now = app.backend().now_ms();
    let batch = body.batch.clone().unwrap_or_else(|| now.to_string());
    let brand = links::brand(site_cfg);
    let mut seen = HashSet::new();
    let mut out = String::with_capacity(body.recipients.len() * 30_000);
    let mut skipped = String::new();
    out.push_str("{\"batch\":");
    push_str(&mut out, &batch);
    out.push_str(",\"invitations\":[");
    let mut first = true;
    // The rows of INSERT_INVITATIONS, one JSON array each.
    let mut rows = String::from("[");
    for r in &body.recipients {
        let key = r.key();
        let claims = invitations::claims(site_cfg, secret.as_bytes(), &body.survey, &batch, r, now);
        let visitor = links::visitor_id(secret.as_bytes(), site, claims.recipient());
        let skip = if !seen.insert(key.clone()) {
            Some(Skip::Repeated)
        } else {
            let person = Person {
                user: r.user.as_deref(),
                account: r.account.as_deref(),
                respondent: Some(r.user.as_deref().unwrap_or(&visitor)),
            };
            match hold_back(app, site_cfg, Some(&body.survey), person, now)
                .await?
                .0
            {
                None => None,
                Some(Reason::Suppressed) => Some(Skip::Suppressed),
                Some(Reason::OpenCase) => Some(Skip::OpenCase),
                Some(Reason::Answered) => Some(Skip::Answered),
            }
        };
        if let Some(why) = skip {
            if !skipped.is_empty() {
                skipped.push(',');
            }
            let mut w = ObjectWriter::new(&mut skipped);
            w.str("recipient", &r.email).str("reason", why.as_str());
            w.end();
            continue;
        }
        let response_id = links::response_id(secret.as_bytes(), &claims);
        if rows.len() > 1 {
            rows.push(',');
        }
        rows.push('[');
        for (i, v) in [
            Some(response_id.as_str()),
            Some(body.survey.as_str()),
            Some(batch.as_str()),
            Some(r.email.as_str()),
            r.user.as_deref(),
            r.account.as_deref(),
            r.order.as_deref(),
            r.locale.as_deref(),
            Some(claims.nonce.as_str()),
        ]
        .into_iter()
        .enumerate()
        {
            if i > 0 {
                rows.push(',');
            }
            match v {
                Some(v) => push_str(&mut rows, v),
                None => rows.push_str("null"),
            }
        }
        rows.push_str(&format!(",{}]", claims.expires_s * 1000));
        let token = links::sign(secret.as_bytes(), &claims);
        let url = format!("{base}/s/{token}");
        let score_urls: Vec<String> = (0..=10).map(|n| format!("{url}?score={n}")).collect();
        let email = mail::render(&Invitation {
            strings: strings_for(claims.lang()),
            text: text_for(claims.lang()),
            brand,
            url: &url,
            score_urls: &score_urls,
            reminder: false,
        });
        if deliver.is_some() {
            let o = invitations::Outgoing {
                site,
                survey: &body.survey,
                batch: &batch,
                response_id: &response_id,
                to: &r.email,
                user: r.user.as_deref(),
                account: r.account.as_deref(),
                order: r.order.as_deref(),
                locale: r.locale.as_deref(),
                url: &url,
                subject: &email.subject,
                html: &email.html,
                text: &email.text,
                reminder: false,
            };
            outgoing.push((response_id.clone(), invitations::payload(&o, now)));
        }
        if !first {
            out.push(',');
        }
        first = false;
        let urls = {
            let mut a = String::from("[");
            for (i, u) in score_urls.iter().enumerate() {
                if i > 0 {
                    a.push(',');
                }
                push_str(&mut a, u);
            }
            a.push(']');
            a
        };
        let mail_json = {
            let mut m = String::new();
            let mut w = ObjectWriter::new(&mut m);
            w.str("subject", &email.subject)
                .str("html", &email.html)
                .str("text", &email.text);
            w.end();
            m
        };
        let mut w = ObjectWriter::new(&mut out);
        w.str("recipient", &r.email)
            .str(
                "response_id",
                &links::response_id(secret.as_bytes(), &claims),
            )
            .str("url", &url)
            .raw("score_urls", &urls)
            .str(
                "expires_at",
                &nps_edge_core::time::rfc3339_ms(claims.expires_s * 1000),
            )
            .raw("email", &mail_json);
        w.end();
    }
    rows.push(']');
    if rows.len() > 2 {
        let params = vec![
            SqlValue::Text(site.to_string()),
            SqlValue::Int(now as i64),
            SqlValue::Text(rows),
        ];
        match app.backend().execute(INSERT_INVITATIONS, params).await {
            Ok(_) | Err(BackendError::NoStore) => {}
            Err(e) => return Err(unavailable(e).into()),
        }
    }
    let mut sent = 0u64;
    if let Some(sink) = deliver {
        for (response_id, payload) in outgoing {
            if send_once(app, site, sink, &response_id, payload, now).await? {
                sent += 1;
            }
        }
    }
    out.push_str("],\"skipped\":[");
    out.push_str(&skipped);
    out.push_str(&format!("],\"sent\":{sent}}}"));
    tracing::info!(site, survey = %body.survey, batch = %batch, sent, "invitations made");
    Ok(Response::json(200, out).set("cache-control", "no-store"))
}

/// Hands one invitation to the mail sink, the first time only: the invitation is marked sent,
/// then the message is handed over durably (outbox or queue); if that fails the mark is undone
/// and the request fails (503), so the same batch made again sends it. True when handed over.
pub(crate) async fn send_once<B: Backend>(
    app: &App<B>,
    site: &str,
    sink: &str,
    response_id: &str,
    payload: String,
    now: u64,
) -> Result<bool, ApiError> {
    let key = |extra: SqlValue| {
        vec![
            SqlValue::Text(site.to_string()),
            SqlValue::Text(response_id.to_string()),
            extra,
        ]
    };
    let first = app
        .backend()
        .execute(MARK_SENT, key(SqlValue::Int(now as i64)))
        .await
        .map_err(unavailable)?;
    if first == 0 {
        return Ok(false);
    }
    let msg_id = invitations::message_id(site, response_id, false);
    if let Err(e) = app
        .backend()
        .notify(site, vec![sink.to_string()], msg_id, payload)
        .await
    {
        let undo = app
            .backend()
            .execute(UNMARK_SENT, key(SqlValue::Null))
            .await;
        if let Err(u) = undo {
            tracing::error!(site, error = %u, "invitation marked sent but not handed over");
        }
        return Err(unavailable(e).into());
    }
    Ok(true)
}

/// The e-mail funnel: per survey and batch, and who did not answer.
#[cfg_attr(feature = "openapi", utoipa::path(
    get, path = "/v1/sites/{site}/invitations", tag = "links",
    description = "Per survey and batch, newest first (at most 200): invited, sent (handed to the mail sink), \
delivered (accepted by the mail server), opened (the page was loaded; link scanners count too), answered, with a \
comment, and the response rate (answered / invited). Then the non-respondents (at most 1,000, newest first): \
who was invited and has not answered.",
    params(
        ("site" = String, Path, description = "Site id."),
        ("survey" = Option<String>, Query, description = "One survey."),
        ("batch" = Option<String>, Query, description = "One batch."),
    ),
    responses(
        (status = 200, description = "The funnel and the non-respondents.", body = crate::openapi::InvitationFunnel),
        (status = 401, description = "No bearer token.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token does not grant reading this site.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown site.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad or unknown parameter.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The store cannot answer right now (or this runtime has none).", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
))]
pub(crate) async fn get_funnel<B: Backend>(
    app: &App<B>,
    req: &Request,
    params: &Params,
) -> Result<Response, ApiError> {
    let site = param(params, 0);
    scope(app, req, Role::Read, Some(site))?;
    known_site(app, site)?;
    let (survey, batch) = invitations::parse_funnel_query(&req.query)?;
    let args = || {
        vec![
            SqlValue::Text(site.to_string()),
            SqlValue::opt_text(survey.as_deref()),
            SqlValue::opt_text(batch.as_deref()),
        ]
    };
    let funnel = app
        .backend()
        .query(INVITATION_FUNNEL, args())
        .await
        .map_err(unavailable)?;
    let missing = app
        .backend()
        .query(NON_RESPONDENTS, args())
        .await
        .map_err(unavailable)?;
    let int = |r: &[SqlValue], i: usize| r.get(i).and_then(SqlValue::as_i64).unwrap_or(0);
    let text = |r: &[SqlValue], i: usize| r.get(i).and_then(SqlValue::as_str).map(str::to_string);
    let time = |r: &[SqlValue], i: usize| {
        r.get(i)
            .and_then(SqlValue::as_i64)
            .map(|ms| nps_edge_core::time::rfc3339_ms(ms.max(0) as u64))
    };
    let mut out = String::from("{\"batches\":[");
    for (n, r) in funnel.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        let (invited, answered) = (int(r, 2), int(r, 6));
        let rate = if invited > 0 {
            answered as f64 / invited as f64
        } else {
            0.0
        };
        let mut w = ObjectWriter::new(&mut out);
        w.str("survey", &text(r, 0).unwrap_or_default())
            .str("batch", &text(r, 1).unwrap_or_default())
            .num("invited", invited as u64)
            .num("sent", int(r, 3) as u64)
            .num("delivered", int(r, 4) as u64)
            .num("opened", int(r, 5) as u64)
            .num("answered", answered as u64)
            .num("commented", int(r, 7) as u64)
            .raw("response_rate", &format!("{:.4}", rate))
            .opt_str("first_invited_at", time(r, 8).as_deref());
        w.end();
    }
    out.push_str("],\"non_respondents\":[");
    for (n, r) in missing.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        let mut w = ObjectWriter::new(&mut out);
        w.str("recipient", &text(r, 0).unwrap_or_default())
            .opt_str("user", text(r, 1).as_deref())
            .opt_str("account", text(r, 2).as_deref())
            .opt_str("order", text(r, 3).as_deref())
            .str("survey", &text(r, 4).unwrap_or_default())
            .str("batch", &text(r, 5).unwrap_or_default())
            .opt_str("invited_at", time(r, 6).as_deref())
            .opt_str("sent_at", time(r, 7).as_deref())
            .opt_str("opened_at", time(r, 8).as_deref())
            .opt_str("reminded_at", time(r, 9).as_deref());
        w.end();
    }
    out.push_str("]}");
    Ok(Response::json(200, out).set("cache-control", "no-store"))
}
