//! Erasure of one person (`DELETE /v1/sites/{site}/people/{key}`): the key is the user id the
//! site identifies them by, or their e-mail address. What names them goes — their answers,
//! events, suppressions, respondent records and the deliveries still waiting — and the site's
//! webhook sinks get an `nps.person.erased` message, so the systems that received their answers
//! can follow.
//!
//! The rules live here; each backend finds and deletes the rows in one step.

use nps_protocol::json::ObjectWriter;
use nps_protocol::limits::{is_valid_id, MAX_EMAIL_CHARS};
use nps_protocol::validate::{is_plausible_email, Problem, ProblemCode};

use crate::config::{Config, SinkConfig};
use crate::error::EdgeError;
use crate::time::rfc3339_ms;

/// `type` of the erasure message.
pub const ERASED_TYPE: &str = "nps.person.erased";

/// The sinks the erasure message goes to: the site's webhook and stdout sinks that take answers
/// (they received the person's answers) and its mail service — the webhook sink `links.deliver`
/// names, which received their e-mail address with each invitation.
pub fn notice_sinks(config: &Config, site: &str) -> Vec<String> {
    let mut sinks = crate::case_notice::notice_sinks(config, site, None, None);
    let mail = config.site(site).and_then(|s| s.links.deliver.as_deref());
    if let Some(SinkConfig::Webhook { name, .. }) =
        mail.and_then(|m| config.sinks.iter().find(|s| s.name() == m))
    {
        if !sinks.contains(name) {
            sinks.push(name.clone());
        }
    }
    sinks
}

/// What the key names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Person {
    /// A user id (`user.id`).
    User(String),
    /// An e-mail address (`user.email`, compared without regard to ASCII case).
    Email(String),
}

impl Person {
    /// The key as given.
    pub fn key(&self) -> &str {
        match self {
            Person::User(k) | Person::Email(k) => k,
        }
    }
}

/// Parses the path key: an e-mail when it has an `@`, else a user id.
pub fn parse_key(key: &str) -> Result<Person, EdgeError> {
    let bad =
        |detail: &str| EdgeError::Invalid(vec![Problem::new("key", ProblemCode::Charset, detail)]);
    if key.contains('@') {
        if key.chars().count() <= MAX_EMAIL_CHARS && is_plausible_email(key) {
            Ok(Person::Email(key.to_string()))
        } else {
            Err(bad(
                "must be an e-mail address (local@domain.tld, at most 254 characters)",
            ))
        }
    } else if is_valid_id(key) {
        Ok(Person::User(key.to_string()))
    } else {
        Err(bad(
            "must be a user id (1-64 characters of A-Z a-z 0-9 _ . : -) or an e-mail address",
        ))
    }
}

/// What one erasure removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Erased {
    /// Answers (one per response id).
    pub responses: u64,
    /// Shown / dismissed events.
    pub events: u64,
    /// Suppressions of the person's user ids.
    pub suppressions: u64,
    /// Deliveries still waiting (webhook, stdout, alert, dead letters), cancelled.
    pub deliveries: u64,
    /// Ids of the erased answers (what downstream systems received them as), sorted.
    pub response_ids: Vec<String>,
    /// The user ids found for the person (the key itself for a user id).
    pub user_ids: Vec<String>,
}

impl Erased {
    /// The HTTP answer: `{"site","key","erased_at","responses","events","suppressions",
    /// "deliveries","response_ids"}`.
    pub fn to_json(&self, site: &str, person: &Person, now_ms: u64) -> String {
        let mut out = String::with_capacity(256);
        let mut w = ObjectWriter::new(&mut out);
        self.fields(&mut w, site, person, now_ms);
        w.end();
        out
    }

    fn fields(&self, w: &mut ObjectWriter<'_>, site: &str, person: &Person, now_ms: u64) {
        w.str("site", site)
            .str("key", person.key())
            .str("erased_at", &rfc3339_ms(now_ms))
            .num("responses", self.responses)
            .num("events", self.events)
            .num("suppressions", self.suppressions)
            .num("deliveries", self.deliveries)
            .raw("response_ids", &string_array(&self.response_ids));
    }
}

/// The webhook message: `{"type":"nps.person.erased","timestamp","data":{…as the answer…}}`.
pub fn notice_payload(site: &str, person: &Person, erased: &Erased, now_ms: u64) -> String {
    let mut data = String::with_capacity(256);
    let mut d = ObjectWriter::new(&mut data);
    erased.fields(&mut d, site, person, now_ms);
    d.end();
    let mut out = String::with_capacity(data.len() + 80);
    let mut w = ObjectWriter::new(&mut out);
    w.str("type", ERASED_TYPE)
        .str("timestamp", &rfc3339_ms(now_ms))
        .raw("data", &data);
    w.end();
    out
}

/// The message's `webhook-id`: unique per erasure (site, time, key digest), stable across
/// its delivery retries.
pub fn notice_id(site: &str, person: &Person, now_ms: u64) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(person.key().as_bytes());
    let mut hex = String::with_capacity(16);
    for b in &digest[..8] {
        hex.push_str(&format!("{b:02x}"));
    }
    format!("erasure.{site}.{now_ms}.{hex}")
}

/// The response id a delivery's `webhook-id` (`{id}.{rev}`) belongs to.
pub fn response_of_message(msg_id: &str) -> &str {
    msg_id.rsplit_once('.').map_or(msg_id, |(id, _)| id)
}

/// A JSON array of strings (the form list parameters take in the store's statements, read
/// with `json_each`).
pub fn string_array(items: &[String]) -> String {
    let mut out = String::from("[");
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&serde_json::Value::String(s.clone()).to_string());
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_user_ids_or_emails() {
        assert_eq!(parse_key("u_42").unwrap(), Person::User("u_42".into()));
        assert_eq!(
            parse_key("Ann@Example.com").unwrap(),
            Person::Email("Ann@Example.com".into())
        );
        for bad in ["", "a b", "x@", "@y.z", "a@b", &"u".repeat(65), "<a@b.c>"] {
            let e = parse_key(bad).unwrap_err();
            assert_eq!(e.status(), 422, "{bad:?}");
            assert!(e.to_problem_json().contains("\"key\""), "names the field");
        }
    }

    #[test]
    fn the_notice_reaches_the_answer_sinks_and_the_mail_service() {
        let doc = |deliver: &str| {
            format!(
                r#"
[[sites]]
id = "shop"
origins = ["https://shop.example"]
[sites.links]
secret = "env:LINK_SECRET"
base_url = "https://nps.example"
deliver = "{deliver}"

[[sites]]
id = "other"
origins = ["https://other.example"]

[[sinks]]
type = "webhook"
name = "crm"
url = "https://crm.example/hook"
secret = "env:WH"

[[sinks]]
type = "webhook"
name = "mailer"
url = "https://mail.example/hook"
secret = "env:WH"
answers = false

[[sinks]]
type = "smtp"
name = "smtp"
url = "smtp://127.0.0.1:2525"
from = "shop@example.com"
"#
            )
        };
        let c = Config::load_toml(&doc("mailer")).unwrap();
        assert_eq!(notice_sinks(&c, "shop"), ["crm", "mailer"]);
        // Another site's mail service received nothing of this site's people.
        assert_eq!(notice_sinks(&c, "other"), ["crm"]);
        // An SMTP server is not a system that can be told.
        let c = Config::load_toml(&doc("smtp")).unwrap();
        assert_eq!(notice_sinks(&c, "shop"), ["crm"]);
    }

    #[test]
    fn the_notice_says_who_and_what() {
        let p = Person::Email("ann@example.com".into());
        let e = Erased {
            responses: 2,
            events: 3,
            suppressions: 1,
            deliveries: 0,
            response_ids: vec!["r\"1".into(), "r2".into()],
            user_ids: vec!["u1".into()],
        };
        let v: serde_json::Value =
            serde_json::from_str(&notice_payload("demo", &p, &e, 1_795_998_759_123)).unwrap();
        assert_eq!(v["type"], ERASED_TYPE);
        assert_eq!(v["timestamp"], "2026-11-30T00:32:39.123Z");
        assert_eq!(v["data"]["key"], "ann@example.com");
        assert_eq!(v["data"]["responses"], 2);
        assert_eq!(v["data"]["response_ids"][0], "r\"1");
        let id = notice_id("demo", &p, 5);
        assert!(id.starts_with("erasure.demo.5.") && id.len() == "erasure.demo.5.".len() + 16);
        assert_ne!(id, notice_id("demo", &Person::User("u1".into()), 5));
    }

    #[test]
    fn message_ids_name_their_response() {
        assert_eq!(response_of_message("abc-1.2"), "abc-1");
        assert_eq!(response_of_message("plain"), "plain");
    }
}
