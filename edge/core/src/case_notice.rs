//! What the edge tells other systems about cases, through the delivery sinks (durable, retried):
//!
//! - `nps.case.opened`, `nps.case.updated`, `nps.case.resolved` to the webhook and stdout sinks
//!   whose route takes the case's site, survey and segment; `data` is the case as the cases API
//!   shows it (without notes: they are the team's own words);
//! - one overdue alert per case to the chat (`alert`) sinks that would alert on its answer, once
//!   the case is past its due time without a first touch.

use nps_protocol::Segment;

use crate::alert::AlertSinkConfig;
use crate::cases::Case;
use crate::config::{Config, SinkConfig};
use crate::time::rfc3339_ms;

/// A change of a case that its webhook receivers hear about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseEvent {
    /// An answer opened it.
    Opened,
    /// Its answer changed (comment, score, withdrawn), or an agent moved or assigned it.
    Updated,
    /// An agent (or the helpdesk) resolved it.
    Resolved,
}

impl CaseEvent {
    /// The message's `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseEvent::Opened => "nps.case.opened",
            CaseEvent::Updated => "nps.case.updated",
            CaseEvent::Resolved => "nps.case.resolved",
        }
    }

    /// The event of a message type (`nps.case.updated`); `None` for anything else.
    pub fn parse(kind: &str) -> Option<CaseEvent> {
        [CaseEvent::Opened, CaseEvent::Updated, CaseEvent::Resolved]
            .into_iter()
            .find(|e| e.as_str() == kind)
    }

    /// What an answer's rev received at `now_ms` did to `case` (as stored after it): a case opened
    /// by that very rev is `Opened`, any other change `Updated`.
    pub fn of_answer(case: &Case, now_ms: u64) -> CaseEvent {
        if case.opened_ms == now_ms {
            CaseEvent::Opened
        } else {
            CaseEvent::Updated
        }
    }

    fn word(self) -> &'static str {
        self.as_str().rsplit('.').next().unwrap_or("updated")
    }
}

/// The webhook and stdout sinks of `site` whose route takes this survey and segment (`None`:
/// any), in config order.
pub fn notice_sinks(
    config: &Config,
    site: &str,
    survey: Option<&str>,
    segment: Option<Segment>,
) -> Vec<String> {
    config
        .sinks
        .iter()
        .filter(|s| matches!(s, SinkConfig::Webhook { .. } | SinkConfig::Stdout { .. }))
        .filter(|s| s.takes_answers())
        .filter(|s| {
            let r = s.route();
            (r.sites.is_empty() || r.sites.iter().any(|x| x == site))
                && survey.is_none_or(|v| r.surveys.is_empty() || r.surveys.iter().any(|x| x == v))
                && segment.is_none_or(|g| r.segments.is_empty() || r.segments.contains(&g))
        })
        .map(|s| s.name().to_string())
        .collect()
}

/// `{"type":"nps.case.…","timestamp","data":{…the case…}}`.
pub fn case_payload(event: CaseEvent, site: &str, case: &Case, now_ms: u64) -> String {
    format!(
        "{{\"type\":\"{}\",\"timestamp\":\"{}\",\"data\":{}}}",
        event.as_str(),
        rfc3339_ms(now_ms),
        case.to_json(site, now_ms, None)
    )
}

/// The message's `webhook-id`: one per change of a case (its time), stable across retries.
pub fn case_msg_id(event: CaseEvent, site: &str, case: &Case) -> String {
    format!(
        "case.{site}.{}.{}.{}",
        case.id,
        event.word(),
        case.updated_ms
    )
}

/// The alert sinks that alert on this case's answer (site, survey, segment).
pub fn overdue_sinks<'a>(config: &'a Config, site: &str, case: &Case) -> Vec<&'a AlertSinkConfig> {
    config
        .sinks
        .iter()
        .filter_map(|s| match s {
            SinkConfig::Alert(a) => Some(a),
            _ => None,
        })
        .filter(|a| {
            (a.sites.is_empty() || a.sites.iter().any(|x| x == site))
                && (a.surveys.is_empty() || a.surveys.contains(&case.survey))
                && a.segments_for(&case.survey).contains(&case.segment())
        })
        .collect()
}

/// Prefix of an overdue alert's message id: the chat sinks post such a message as it is,
/// where they plan an answer's alert for any other.
pub const OVERDUE_PREFIX: &str = "case-overdue.";

/// The overdue alert's id: one per case, ever.
pub fn overdue_msg_id(site: &str, case_id: &str) -> String {
    format!("{OVERDUE_PREFIX}{site}.{case_id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn an_event_is_read_back_from_its_message_type() {
        for e in [CaseEvent::Opened, CaseEvent::Updated, CaseEvent::Resolved] {
            assert_eq!(CaseEvent::parse(e.as_str()), Some(e));
        }
        assert_eq!(CaseEvent::parse("resolved"), None);
        assert_eq!(CaseEvent::parse("nps.case.closed"), None);
    }

    fn config() -> Config {
        Config::from_toml_str(
            r#"
[[sites]]
id = "shop"
origins = ["https://shop.example"]

[[sinks]]
type = "webhook"
name = "crm"
url = "https://crm.example/hook"
secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

[[sinks]]
type = "webhook"
name = "promoters"
url = "https://reviews.example/hook"
secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
segments = ["promoter"]

[[sinks]]
type = "webhook"
name = "elsewhere"
url = "https://other.example/hook"
secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
surveys = ["delivery"]

[[sinks]]
type = "alert"
url = "https://chat.example/hook"

[[sinks]]
type = "alert"
name = "delivery-chat"
url = "https://chat.example/hook2"
surveys = ["delivery"]
"#,
        )
        .unwrap()
    }

    fn case() -> Case {
        Case {
            id: "r1".into(),
            survey: "checkout".into(),
            respondent: "u:1".into(),
            score: 2,
            first_score: 2,
            status: "open".into(),
            opened_ms: 1_000,
            due_ms: 2_000,
            updated_ms: 1_500,
            ..Default::default()
        }
    }

    #[test]
    fn sinks_follow_each_route() {
        let c = config();
        let det = Some(Segment::Detractor);
        assert_eq!(notice_sinks(&c, "shop", Some("checkout"), det), ["crm"]);
        assert_eq!(
            notice_sinks(&c, "shop", Some("delivery"), det),
            ["crm", "elsewhere"]
        );
        assert_eq!(
            notice_sinks(&c, "shop", None, None),
            ["crm", "promoters", "elsewhere"]
        );
        let names: Vec<&str> = overdue_sinks(&c, "shop", &case())
            .iter()
            .map(|a| a.name.as_str())
            .collect();
        assert_eq!(names, ["alert"]);
        let promoter = Case {
            score: 10,
            ..case()
        };
        assert!(overdue_sinks(&c, "shop", &promoter).is_empty());
    }

    #[test]
    fn payload_and_ids() {
        let p: serde_json::Value =
            serde_json::from_str(&case_payload(CaseEvent::Resolved, "shop", &case(), 3_000))
                .unwrap();
        assert_eq!(p["type"], "nps.case.resolved");
        assert_eq!(p["data"]["id"], "r1");
        assert_eq!(p["data"]["site"], "shop");
        assert!(p["data"].get("notes").is_none());
        assert_eq!(
            case_msg_id(CaseEvent::Opened, "shop", &case()),
            "case.shop.r1.opened.1500"
        );
        assert_eq!(overdue_msg_id("shop", "r1"), "case-overdue.shop.r1");
    }
}
