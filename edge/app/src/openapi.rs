//! The OpenAPI 3.1 document of API v1: the operations come from the route table
//! (`crate::routes::ApiDoc`, one `#[utoipa::path]` per handler), the schemas below describe the
//! bodies the handlers write. They are documentation types — the bodies are written by the core's
//! JSON writers — so the conformance suite validates every answer of both runtimes against them,
//! and `additionalProperties: false` makes an undocumented field fail it.
//!
//! The document is committed (`edge/app/openapi.json`, served at `GET /openapi.json`); the test
//! below fails when it differs from what the code generates. Regenerate it with
//! `NPS_WRITE_OPENAPI=1 cargo test -p nps-edge-app openapi`.

#![allow(dead_code)]

use std::collections::BTreeMap;

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::InfoBuilder;
use utoipa::{Modify, OpenApi, ToSchema};

/// Title, version and the bearer scheme.
pub struct Info;

impl Modify for Info {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        api.info = InfoBuilder::new()
            .title("NPS edge API")
            .version("1")
            .description(Some(
                "The collection API of the NPS edge, the same on the native server and the \
                 Cloudflare worker. Errors are RFC 9457 problems (`application/problem+json`).",
            ))
            .build();
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document as JSON (pretty, with a final newline: the committed file).
pub fn document() -> String {
    let mut s = crate::routes::ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_default();
    s.push('\n');
    s
}

/// RFC 9457 problem.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Problem {
    /// `https://nps.dev/problems/<reason>`.
    r#type: String,
    /// The same for every problem of a type.
    title: String,
    /// HTTP status.
    status: u16,
    /// What happened.
    detail: String,
    /// The fields at fault (all of them for a 422).
    errors: Vec<FieldProblem>,
    /// Seconds to wait (429, 503).
    retry_after: Option<u64>,
}

/// One field at fault.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldProblem {
    /// JSON field, header or parameter name (empty for the whole body).
    field: String,
    /// Why.
    reason: String,
}

/// The identified customer.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct User {
    id: Option<String>,
    account: Option<String>,
    order: Option<String>,
    email: Option<String>,
    /// Lowercase hex `HMAC-SHA256(site's identity secret, id)`, computed by the site's server.
    /// Checked, never stored (so never in an answer the API returns).
    signature: Option<String>,
}

/// One rev of an answer (protocol v1; limits in `protocol/src/limits.rs`).
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponseBody {
    /// Response id (stable across revs).
    id: String,
    /// Revision, from 1; a higher rev replaces a lower one.
    rev: u32,
    site: String,
    survey: String,
    /// 0-10.
    #[schema(minimum = 0, maximum = 10)]
    score: u8,
    comment: Option<String>,
    locale: Option<String>,
    /// Anonymous visitor id.
    visitor: String,
    page: Option<String>,
    contact_ok: Option<bool>,
    review_clicked: Option<bool>,
    user: Option<User>,
    properties: Option<BTreeMap<String, String>>,
    sent_at: Option<String>,
}

/// One recipient of an invitation.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationRecipient {
    email: String,
    /// The site's user id (the person's key when given; else the e-mail).
    user: Option<String>,
    account: Option<String>,
    order: Option<String>,
    /// BCP 47 locale of the e-mail and the page (`en`, `fr`, `de`, `es`, `it`, `pt`, `ar`).
    locale: Option<String>,
}

/// Body of `POST /v1/sites/{site}/invitations`.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationsBody {
    survey: String,
    /// Names the batch: the same batch and recipient give the same answer. Default: the time.
    batch: Option<String>,
    /// 1 to 1,000.
    recipients: Vec<InvitationRecipient>,
    /// Send the e-mails through the site's `links.deliver` sink (default false: the caller
    /// sends them).
    send: Option<bool>,
}

/// A rendered e-mail.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationEmail {
    subject: String,
    html: String,
    text: String,
}

/// One invitation.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Invitation {
    /// The recipient's e-mail.
    recipient: String,
    /// The id the answer will have.
    response_id: String,
    /// The hosted survey page.
    url: String,
    /// Eleven one-click links, score 0 first.
    score_urls: Vec<String>,
    expires_at: String,
    email: InvitationEmail,
}

/// A recipient not invited.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationSkipped {
    recipient: String,
    /// `suppressed`, `open_case`, `answered` or `repeated`.
    reason: String,
}

/// 200 of `POST /v1/sites/{site}/invitations`.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Invitations {
    batch: String,
    invitations: Vec<Invitation>,
    skipped: Vec<InvitationSkipped>,
    /// E-mails handed to the site's mail sink by this request (`"send": true`; a link's e-mail
    /// is sent once, whatever the number of requests).
    sent: u64,
}

/// One survey and batch of the e-mail funnel.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FunnelBatch {
    survey: String,
    batch: String,
    invited: u64,
    /// Handed to the site's mail sink.
    sent: u64,
    /// Accepted by the mail server (SMTP natively; the receiver's 2xx for a webhook).
    delivered: u64,
    /// The page was loaded (link scanners count too).
    opened: u64,
    answered: u64,
    /// Answered with a comment.
    commented: u64,
    /// answered / invited.
    response_rate: f64,
    first_invited_at: Option<String>,
}

/// Someone invited who has not answered.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NonRespondent {
    recipient: String,
    user: Option<String>,
    account: Option<String>,
    order: Option<String>,
    survey: String,
    batch: String,
    invited_at: Option<String>,
    sent_at: Option<String>,
    opened_at: Option<String>,
    reminded_at: Option<String>,
}

/// 200 of `GET /v1/sites/{site}/invitations`.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationFunnel {
    batches: Vec<FunnelBatch>,
    non_respondents: Vec<NonRespondent>,
}

/// 202 of `POST /v1/responses`.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Accepted {
    id: String,
    rev: u32,
    /// `detractor`, `passive` or `promoter`.
    segment: Option<String>,
    /// `accepted`, `updated` or `duplicate`.
    status: String,
}

/// An event.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBody {
    id: String,
    site: String,
    survey: String,
    visitor: String,
    /// `shown` or `dismissed`.
    r#type: String,
    user: Option<User>,
}

/// 202 of `POST /v1/events`.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventAccepted {
    id: String,
    /// `accepted` or `duplicate`.
    status: String,
}

/// Eligibility answer.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Eligibility {
    show: bool,
    /// Why not (`suppressed`, `open_case`, `answered`): only to a verified identity.
    reason: Option<String>,
}

/// PUT body of a suppression.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuppressionPut {
    /// RFC 3339, in the future.
    expires_at: Option<String>,
    /// Seconds from now.
    ttl_seconds: Option<u64>,
    /// Free text for the team (never shown to the visitor).
    reason: Option<String>,
}

/// A stored suppression.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuppressionRecord {
    site: String,
    subject: String,
    created_at: String,
    expires_at: Option<String>,
    reason: Option<String>,
    /// Whether it applies now.
    active: bool,
}

/// All suppressions of a site.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuppressionList {
    items: Vec<SuppressionRecord>,
}

/// A note on a case.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseNote {
    /// 1, 2, … per case.
    seq: u64,
    /// RFC 3339.
    at: String,
    /// The name of the token that wrote it.
    author: String,
    /// Text (never HTML).
    text: String,
}

/// A case: the follow-up of one answer in the site's case segments.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseRecord {
    /// Case id (the response id).
    id: String,
    response_id: String,
    site: String,
    survey: String,
    /// open, in_progress, resolved, reopened, withdrawn.
    status: String,
    owner: Option<String>,
    /// Latest score.
    score: u8,
    /// The score that opened it.
    first_score: u8,
    /// By the latest score.
    segment: String,
    comment: Option<String>,
    contact_ok: Option<bool>,
    /// The user id, else the visitor id.
    respondent: String,
    user_id: Option<String>,
    account: Option<String>,
    order: Option<String>,
    email: Option<String>,
    opened_at: String,
    /// First-touch deadline (the site's `cases.sla_hours` after opening).
    due_at: String,
    first_touch_at: Option<String>,
    resolved_at: Option<String>,
    /// From when the person may be surveyed again.
    resurvey_at: Option<String>,
    /// The re-survey's score, when it came (its latest rev).
    resurvey_score: Option<u8>,
    /// The helpdesk ticket that follows the case.
    external_ref: Option<String>,
    /// The answer that re-surveyed the person (its `properties.resurvey_of` is this case's id).
    resurvey_response_id: Option<String>,
    /// Resolved and the re-survey left the detractor segment.
    recovered: Option<bool>,
    /// Past its deadline without a first touch.
    overdue: bool,
    updated_at: String,
    /// Every note, in order (one case only; not in lists).
    notes: Option<Vec<CaseNote>>,
}

/// A page of cases.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseList {
    items: Vec<CaseRecord>,
    /// The next page's `cursor`, or null at the end.
    next_cursor: Option<String>,
}

/// `PATCH …/cases/{id}`.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CasePatch {
    /// open, in_progress, resolved or reopened.
    status: Option<String>,
    /// Up to 120 characters; null unassigns.
    owner: Option<String>,
    /// The helpdesk ticket that follows the case (up to 200 characters; null unlinks), so that
    /// the helpdesk's events can name the case by it.
    external_ref: Option<String>,
}

/// `POST /v1/sites/{site}/helpdesk`: a helpdesk's event, signed with Standard Webhooks.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HelpdeskEvent {
    /// `ticket.solved` resolves the case (open, in progress or reopened), `ticket.reopened`
    /// reopens a resolved one, `ticket.updated` changes only the owner or adds the note.
    r#type: String,
    /// The case id; with `external_ref` too, links that ticket to it.
    case: Option<String>,
    /// The ticket: every case linked to it.
    external_ref: Option<String>,
    /// The agent working the ticket; null unassigns.
    owner: Option<String>,
    /// A note for the case (1-4,000 characters, text), signed `helpdesk`.
    note: Option<String>,
}

/// The cases a helpdesk event reached, as they are now.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HelpdeskResult {
    cases: Vec<CaseRecord>,
}

/// `POST …/cases/{id}/notes`.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    /// 1-4,000 characters of text.
    text: String,
}

/// What an erasure removed (also the `data` of the `nps.person.erased` webhook message).
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErasedRecord {
    site: String,
    /// The key as given (user id or e-mail).
    key: String,
    /// RFC 3339.
    erased_at: String,
    /// Answers erased.
    responses: u64,
    /// Events erased.
    events: u64,
    /// Suppressions erased.
    suppressions: u64,
    /// Waiting deliveries (webhook, alert, dead letters) cancelled.
    deliveries: u64,
    /// Ids of the erased answers.
    response_ids: Vec<String>,
}

/// A site and its surveys.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteSurveys {
    id: String,
    surveys: Vec<String>,
}

/// `GET /v1/sites`.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteList {
    sites: Vec<SiteSurveys>,
}

/// Answers per segment.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BySegment {
    detractor: u64,
    passive: u64,
    promoter: u64,
}

/// One bucket of the series.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeriesBucket {
    /// First day of the bucket.
    start: String,
    responses: u64,
    nps: Option<f64>,
    by_segment: BySegment,
    shown: u64,
    dismissed: u64,
    response_rate: Option<f64>,
    /// Shown minus answered, 0 at least.
    non_respondents: u64,
}

/// A 95% confidence interval of the NPS (adjusted-Wald), within -100..100.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NpsInterval {
    low: f64,
    high: f64,
}

/// The cases opened in a period (whatever their status now), where they stand now.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SummaryCases {
    /// Cases opened in the period, withdrawn ones included.
    opened: u64,
    /// Of those, still open, in progress or reopened.
    open: u64,
    /// Of those, past due without a first touch (open or reopened).
    overdue: u64,
    /// Of those, resolved.
    resolved: u64,
    /// Median hours from opening to the first touch (status change or note), over the touched
    /// cases; null when none was touched.
    median_first_touch_hours: Option<f64>,
    /// Median hours from opening to resolution, over the resolved cases; null when none is.
    median_resolution_hours: Option<f64>,
    /// Resolved cases whose person answered the re-survey.
    resurveyed: u64,
    /// Of those, the ones whose re-survey score is 7 or more.
    recovered: u64,
    /// `recovered` / `resurveyed`, 0..1; null before any re-survey answer.
    recovery_rate: Option<f64>,
}

/// The period the summary is compared with (only when `compare_from`/`compare_to` are given).
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SummaryComparison {
    /// First day of the other period.
    from: String,
    /// Last day of the other period.
    to: String,
    /// Answers in the other period.
    responses: u64,
    /// Its NPS, null without answers.
    nps: Option<f64>,
    /// Its NPS's 95% interval, null without answers.
    nps_ci: Option<NpsInterval>,
    /// Fewer than 30 answers in the other period.
    low_sample: bool,
    /// `nps` of the summary minus `nps` of the other period; null when either has no answers.
    difference: Option<f64>,
    /// Whether the difference is significant at 95% (adjusted-Wald); null when either period
    /// has no answers.
    significant: Option<bool>,
    /// The cases opened in the other period.
    cases: SummaryCases,
}

/// `GET /v1/sites/{site}/summary`.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    site: String,
    survey: Option<String>,
    from: String,
    to: String,
    /// `day` or `week`.
    interval: String,
    responses: u64,
    /// -100..100, null without answers.
    nps: Option<f64>,
    /// 95% confidence interval of `nps` (adjusted-Wald), null without answers.
    nps_ci: Option<NpsInterval>,
    /// Fewer than 30 answers: the NPS is too uncertain to act on.
    low_sample: bool,
    by_segment: BySegment,
    /// Answers per score, 0 to 10.
    #[schema(min_items = 11, max_items = 11)]
    by_score: Vec<u64>,
    shown: u64,
    dismissed: u64,
    /// Answers / shown, 0..1, null when nothing was shown.
    response_rate: Option<f64>,
    /// Shown minus answered, 0 at least.
    non_respondents: u64,
    /// The cases opened in the period.
    cases: SummaryCases,
    series: Vec<SeriesBucket>,
    /// Only when `compare_from` and `compare_to` are given.
    #[schema(nullable = false)]
    comparison: Option<SummaryComparison>,
    /// Each touchpoint's own figures, side by side.
    touchpoints: SummaryTouchpoints,
}

/// The widget's and the e-mail's figures in the period.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SummaryTouchpoints {
    widget: WidgetTouchpoint,
    email: EmailTouchpoint,
}

/// The widget in the period.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WidgetTouchpoint {
    /// Impressions.
    shown: u64,
    /// Answers given in the widget (not through a link).
    answered: u64,
    /// answered / shown, null when nothing was shown.
    response_rate: Option<f64>,
}

/// E-mail invitations made in the period.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailTouchpoint {
    invited: u64,
    /// Sent by the edge (`"send": true`).
    sent: u64,
    /// Answered through their links.
    answered: u64,
    /// answered / invited, null without invitations.
    response_rate: Option<f64>,
}

/// One stored answer: its latest rev, its segment and when its first rev arrived.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponseItem {
    id: String,
    rev: u32,
    site: String,
    survey: String,
    score: u8,
    comment: Option<String>,
    locale: Option<String>,
    visitor: String,
    page: Option<String>,
    contact_ok: Option<bool>,
    review_clicked: Option<bool>,
    user: Option<User>,
    properties: Option<BTreeMap<String, String>>,
    sent_at: Option<String>,
    segment: Option<String>,
    received_at: String,
}

/// A page of answers.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponsesPage {
    items: Vec<ResponseItem>,
    /// Pass as `cursor` for the next page; null on the last one.
    next_cursor: Option<String>,
}

/// Liveness.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Health {
    status: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_document_is_the_generated_one() {
        let generated = document();
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
        if std::env::var_os("NPS_WRITE_OPENAPI").is_some() {
            std::fs::write(path, &generated).unwrap();
        }
        assert!(
            std::fs::read_to_string(path).unwrap() == generated,
            "edge/app/openapi.json is stale: NPS_WRITE_OPENAPI=1 cargo test -p nps-edge-app openapi"
        );
    }

    #[test]
    fn every_route_is_documented_and_nothing_else() {
        let doc: serde_json::Value = serde_json::from_str(&document()).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        let mut documented = Vec::new();
        for (path, ops) in doc["paths"].as_object().unwrap() {
            for method in ops.as_object().unwrap().keys() {
                documented.push((method.to_uppercase(), path.clone()));
            }
        }
        let mut table: Vec<(String, String)> = crate::routes::ROUTES
            .iter()
            .map(|r| (r.method.as_str().to_string(), r.path.to_string()))
            .collect();
        documented.sort();
        table.sort();
        assert_eq!(documented, table);
    }
}
