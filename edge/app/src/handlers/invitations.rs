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

use crate::backend::Backend;
use crate::handlers::eligibility::{hold_back, Person, Reason};
use crate::handlers::{bulk_body, known_site, param, scope};
use crate::http::{ApiError, Request, Response};
use crate::mail::{self, Invitation};
use crate::routes::Params;
use crate::App;

/// Links and e-mails for up to 1,000 recipients.
#[cfg_attr(feature = "openapi", utoipa::path(
    post, path = "/v1/sites/{site}/invitations", tag = "links",
    description = "Per recipient: the signed page link, the eleven one-click score links (score 0 first) and the \
e-mail in the recipient's language (subject, HTML, text). Recipients who are suppressed, have an open case, or \
answered this survey within the site's respondent window are skipped, with the reason (`suppressed`, `open_case`, \
`answered`; `repeated` for a second entry of one person). The same `batch` and recipient always give the same \
links, so a retried request invites nobody twice. Needs the site's `links` section (a link secret).",
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
        (status = 422, description = "Bad fields, all listed (`recipients[3].email`…).", body = crate::openapi::Problem, content_type = "application/problem+json"),
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
    out.push_str("],\"skipped\":[");
    out.push_str(&skipped);
    out.push_str("]}");
    tracing::info!(site, survey = %body.survey, batch = %batch, "invitations made");
    Ok(Response::json(200, out).set("cache-control", "no-store"))
}
