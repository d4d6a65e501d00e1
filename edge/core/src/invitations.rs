//! E-mail invitations: `POST /v1/sites/{site}/invitations` takes a survey and up to 1,000
//! recipients and gives, per recipient, a signed page link, the eleven one-click score links and
//! the rendered e-mail (the application renders it). The rules here: the request's shape and
//! limits, each link's claims, and why a recipient is skipped.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use nps_protocol::limits::is_valid_id;
use nps_protocol::validate::{is_plausible_email, is_plausible_locale, Problem, ProblemCode};

use crate::config::Site;
use crate::error::EdgeError;
use crate::links::Claims;

/// Most recipients in one request.
pub const MAX_RECIPIENTS: usize = 1000;

/// One recipient as the site sends it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Recipient {
    /// Where the e-mail goes (also the recipient key when no user id is given).
    pub email: String,
    /// The site's user id.
    pub user: Option<String>,
    /// Account id.
    pub account: Option<String>,
    /// The order the survey is about.
    pub order: Option<String>,
    /// BCP 47 locale of the e-mail and the page (default `en`).
    pub locale: Option<String>,
}

impl Recipient {
    /// The person's key: the user id when given, else the e-mail (lower case).
    pub fn key(&self) -> String {
        self.user
            .clone()
            .unwrap_or_else(|| self.email.to_ascii_lowercase())
    }
}

/// The request body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Request {
    /// Survey id.
    pub survey: String,
    /// The batch's name (an order number, a campaign): the same batch and recipient give the
    /// same answers, so a retried request sends nobody a second e-mail. Default: the
    /// time of the request.
    pub batch: Option<String>,
    /// Who to ask.
    pub recipients: Vec<Recipient>,
    /// Send the e-mails through the site's `links.deliver` sink (each at most once per link).
    pub send: bool,
}

/// Reads the body's shape (read over `serde_json::Value`, not derived: the worker's bundle pays
/// for each derived deserializer); wrong types and unknown fields are problems.
fn shape(body: &[u8], p: &mut Vec<Problem>) -> Result<Request, EdgeError> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| EdgeError::BadJson(e.to_string()))?;
    let serde_json::Value::Object(o) = v else {
        return Err(EdgeError::NotObject);
    };
    let mut bad =
        |field: String, reason: &str| p.push(Problem::new(field, ProblemCode::Format, reason));
    let text =
        |v: Option<&serde_json::Value>, field: &str, bad: &mut dyn FnMut(String, &str)| match v {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(_) => {
                bad(field.to_string(), "must be a string");
                None
            }
        };
    let mut req = Request::default();
    for (k, v) in &o {
        match k.as_str() {
            "survey" => req.survey = text(Some(v), "survey", &mut bad).unwrap_or_default(),
            "batch" => req.batch = text(Some(v), "batch", &mut bad),
            "send" => match v.as_bool() {
                Some(b) => req.send = b,
                None => bad("send".into(), "must be true or false"),
            },
            "recipients" => match v.as_array() {
                Some(list) => {
                    for (i, r) in list.iter().enumerate() {
                        let Some(r) = r.as_object() else {
                            bad(format!("recipients[{i}]"), "must be an object");
                            continue;
                        };
                        let mut one = Recipient::default();
                        for (rk, rv) in r {
                            let f = format!("recipients[{i}].{rk}");
                            let val = text(Some(rv), &f, &mut bad);
                            match rk.as_str() {
                                "email" => one.email = val.unwrap_or_default(),
                                "user" => one.user = val,
                                "account" => one.account = val,
                                "order" => one.order = val,
                                "locale" => one.locale = val,
                                _ => bad(f, "is not a field of a recipient"),
                            }
                        }
                        req.recipients.push(one);
                    }
                }
                None => bad("recipients".into(), "must be an array"),
            },
            other => bad(other.to_string(), "is not a field of this request"),
        }
    }
    Ok(req)
}

/// Parses and checks a request; every bad field is listed (422).
pub fn parse(body: &[u8]) -> Result<Request, EdgeError> {
    let mut p = Vec::new();
    let req = shape(body, &mut p)?;
    if !is_valid_id(&req.survey) {
        p.push(Problem::new(
            "survey",
            ProblemCode::Charset,
            "must be 1-64 characters of A-Z a-z 0-9 _ . : -",
        ));
    }
    if let Some(b) = &req.batch {
        if !is_valid_id(b) {
            p.push(Problem::new(
                "batch",
                ProblemCode::Charset,
                "must be 1-64 characters of A-Z a-z 0-9 _ . : -",
            ));
        }
    }
    if req.recipients.is_empty() || req.recipients.len() > MAX_RECIPIENTS {
        p.push(Problem::new(
            "recipients",
            ProblemCode::TooMany,
            format!("must hold 1 to {MAX_RECIPIENTS} recipients"),
        ));
    }
    for (i, r) in req.recipients.iter().enumerate().take(MAX_RECIPIENTS) {
        let f = |name: &str| format!("recipients[{i}].{name}");
        if !is_plausible_email(&r.email) {
            p.push(Problem::new(
                f("email"),
                ProblemCode::Format,
                "must be an e-mail address",
            ));
        }
        for (name, v) in [
            ("user", &r.user),
            ("account", &r.account),
            ("order", &r.order),
        ] {
            if v.as_deref().is_some_and(|v| !is_valid_id(v)) {
                p.push(Problem::new(
                    f(name),
                    ProblemCode::Charset,
                    "must be 1-64 characters of A-Z a-z 0-9 _ . : -",
                ));
            }
        }
        if r.locale.as_deref().is_some_and(|l| !is_plausible_locale(l)) {
            p.push(Problem::new(
                f("locale"),
                ProblemCode::Format,
                "must be a BCP 47 language tag such as fr-FR",
            ));
        }
    }
    if p.is_empty() {
        Ok(req)
    } else {
        Err(EdgeError::Invalid(p))
    }
}

/// The `survey` and `batch` filters of the funnel (`GET …/invitations`); anything else is a 422.
pub fn parse_funnel_query(raw: &str) -> Result<(Option<String>, Option<String>), EdgeError> {
    let mut p = Vec::new();
    let (mut survey, mut batch) = (None, None);
    for (k, v) in crate::report_api::parse_query(raw) {
        let slot = match k.as_str() {
            "survey" => &mut survey,
            "batch" => &mut batch,
            _ => {
                p.push(Problem::new(
                    k,
                    ProblemCode::Format,
                    "is not a parameter of this request",
                ));
                continue;
            }
        };
        if is_valid_id(&v) {
            *slot = Some(v);
        } else {
            p.push(Problem::new(
                k,
                ProblemCode::Charset,
                "must be 1-64 characters of A-Z a-z 0-9 _ . : -",
            ));
        }
    }
    if p.is_empty() {
        Ok((survey, batch))
    } else {
        Err(EdgeError::Invalid(p))
    }
}

/// The claims of one recipient's link. The nonce is a keyed hash of the batch and the person,
/// so the same request made twice gives the same answers (the links differ by their expiry).
pub fn claims(
    site: &Site,
    secret: &[u8],
    survey: &str,
    batch: &str,
    r: &Recipient,
    now_ms: u64,
) -> Claims {
    let mut m = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    m.update(b"nps-link-nonce\0");
    for part in [survey, batch, &r.key()] {
        m.update(part.as_bytes());
        m.update(b"\0");
    }
    let tag = m.finalize().into_bytes();
    let nonce: String = tag[..9]
        .iter()
        .flat_map(|b| [b >> 4, b & 15])
        .map(|n| char::from(b"0123456789abcdef"[usize::from(n)]))
        .collect();
    Claims {
        site: site.id.clone(),
        survey: survey.to_string(),
        user: r.user.clone(),
        email: Some(r.email.clone()),
        account: r.account.clone(),
        order: r.order.clone(),
        locale: r.locale.clone(),
        expires_s: now_ms / 1000 + u64::from(site.links.ttl_days) * 86_400,
        nonce,
    }
}

/// `type` of the message that hands an invitation to the site's mail sink.
pub const INVITATION_TYPE: &str = "nps.invitation";

/// The delivery id of a link's invitation (`reminder` for its one reminder): stable, so a
/// receiver deduplicates on it (`webhook-id`) and the native mail sink marks the invitation
/// delivered by it.
pub fn message_id(site: &str, response_id: &str, reminder: bool) -> String {
    let kind = if reminder { "reminder" } else { "invitation" };
    format!("{kind}.{site}.{response_id}")
}

/// The site and response id of an invitation's delivery id, when it is one.
pub fn parse_message_id(msg_id: &str) -> Option<(&str, &str)> {
    let rest = msg_id
        .strip_prefix("invitation.")
        .or_else(|| msg_id.strip_prefix("reminder."))?;
    rest.rsplit_once('.')
}

/// One e-mail to send, as the mail sink (or the site's mail service) gets it.
pub struct Outgoing<'a> {
    /// Site id.
    pub site: &'a str,
    /// Survey id.
    pub survey: &'a str,
    /// Batch.
    pub batch: &'a str,
    /// The link's answer id.
    pub response_id: &'a str,
    /// Recipient.
    pub to: &'a str,
    /// The person's user id, account and order, when known.
    pub user: Option<&'a str>,
    /// Account.
    pub account: Option<&'a str>,
    /// Order.
    pub order: Option<&'a str>,
    /// Locale.
    pub locale: Option<&'a str>,
    /// The page link.
    pub url: &'a str,
    /// Subject, HTML and text.
    pub subject: &'a str,
    /// HTML part.
    pub html: &'a str,
    /// Text part.
    pub text: &'a str,
    /// The one reminder.
    pub reminder: bool,
}

/// `{"type":"nps.invitation","timestamp","data":{site, survey, batch, response_id, to, user:{id,
/// account, order, email}, locale, url, reminder, subject, html, text}}`.
pub fn payload(o: &Outgoing<'_>, now_ms: u64) -> String {
    use nps_protocol::json::ObjectWriter;
    let mut user = String::new();
    let mut u = ObjectWriter::new(&mut user);
    u.opt_str("id", o.user)
        .opt_str("account", o.account)
        .opt_str("order", o.order)
        .str("email", o.to);
    u.end();
    let mut data = String::with_capacity(o.html.len() + o.text.len() + 512);
    let mut d = ObjectWriter::new(&mut data);
    d.str("site", o.site)
        .str("survey", o.survey)
        .str("batch", o.batch)
        .str("response_id", o.response_id)
        .str("to", o.to)
        .raw("user", &user)
        .opt_str("locale", o.locale)
        .str("url", o.url)
        .opt_bool("reminder", Some(o.reminder))
        .str("subject", o.subject)
        .str("html", o.html)
        .str("text", o.text);
    d.end();
    let mut out = String::with_capacity(data.len() + 80);
    let mut w = ObjectWriter::new(&mut out);
    w.str("type", INVITATION_TYPE)
        .str("timestamp", &crate::time::rfc3339_ms(now_ms))
        .raw("data", &data);
    w.end();
    out
}

/// Why a recipient gets no invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// The same person twice in one request.
    Repeated,
    /// The user or account is on the suppression list.
    Suppressed,
    /// The user has a case the team has not closed.
    OpenCase,
    /// They answered this survey within the site's respondent window.
    Answered,
}

impl Skip {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Skip::Repeated => "repeated",
            Skip::Suppressed => "suppressed",
            Skip::OpenCase => "open_case",
            Skip::Answered => "answered",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> Site {
        serde_json::from_str(r#"{"id":"shop","origins":["https://shop.example"]}"#).unwrap()
    }

    #[test]
    fn every_bad_field_is_listed() {
        let body = br#"{"survey":"bad survey","batch":"b 1","recipients":[
            {"email":"ann@example.com"},
            {"email":"nope","user":"u 1","locale":"??"}
        ]}"#;
        match parse(body) {
            Err(EdgeError::Invalid(p)) => {
                let fields: Vec<&str> = p.iter().map(|p| p.field.as_str()).collect();
                assert_eq!(
                    fields,
                    [
                        "survey",
                        "batch",
                        "recipients[1].email",
                        "recipients[1].user",
                        "recipients[1].locale"
                    ]
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(parse(b"{"), Err(EdgeError::BadJson(_))));
        assert!(matches!(
            parse(br#"{"survey":"s","recipients":[{"email":"a@b.example","colour":1}]}"#),
            Err(EdgeError::Invalid(_))
        ));
        assert!(matches!(
            parse(br#"{"survey":"s","recipients":[]}"#),
            Err(EdgeError::Invalid(_))
        ));
        let many = format!(
            r#"{{"survey":"s","recipients":[{}]}}"#,
            vec![r#"{"email":"a@b.example"}"#; MAX_RECIPIENTS + 1].join(",")
        );
        assert!(matches!(parse(many.as_bytes()), Err(EdgeError::Invalid(_))));
    }

    #[test]
    fn message_ids_name_their_invitation() {
        let id = message_id("shop.fr", "lnk-00ff", false);
        assert_eq!(id, "invitation.shop.fr.lnk-00ff");
        assert_eq!(parse_message_id(&id), Some(("shop.fr", "lnk-00ff")));
        assert_eq!(
            parse_message_id(&message_id("s", "lnk-1", true)),
            Some(("s", "lnk-1"))
        );
        assert_eq!(parse_message_id("case-overdue.s.c"), None);
    }

    #[test]
    fn the_same_batch_gives_the_same_link_and_another_batch_another() {
        let r = Recipient {
            email: "Ann@Example.com".into(),
            user: None,
            account: None,
            order: Some("A-1".into()),
            locale: Some("fr".into()),
        };
        assert_eq!(r.key(), "ann@example.com");
        let a = claims(&site(), b"k", "nps", "b1", &r, 1_000_000);
        assert_eq!(a, claims(&site(), b"k", "nps", "b1", &r, 1_000_000));
        assert_ne!(
            a.nonce,
            claims(&site(), b"k", "nps", "b2", &r, 1_000_000).nonce
        );
        assert_eq!(a.expires_s, 1_000 + 30 * 86_400);
        assert_eq!((a.order.as_deref(), a.lang()), (Some("A-1"), "fr"));
    }
}
