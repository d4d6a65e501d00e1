//! Detractor alerts: the `alert` sink's config, its once-per-response timing rule, and the
//! message it posts to a chat incoming webhook (Slack-compatible blocks, or plain JSON).
//!
//! # Timing: one alert per response id
//!
//! A visitor first sends the score (rev 1), then usually the comment (rev 2) a few seconds later.
//! Alerting on rev 1 would post an alert without the comment; waiting for ever would lose the
//! alert of a visitor who never writes one. So (see [`plan`]):
//!
//! - a routed rev that **carries a comment** makes the alert due **now**;
//! - a routed rev **without a comment** schedules it at `received + grace_ms` (default 20 s),
//!   unless one is already scheduled (a later rev never pushes the deadline back);
//! - a rev that is no longer routed (the visitor changed 3 → 9) cancels a scheduled alert;
//! - once sent, nothing more is ever sent for that response id (a comment added after the alert
//!   went out does not produce a second alert; it is in the report).
//!
//! The message is always built from the **latest** stored rev at the time of sending.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use nps_protocol::json::{push_str, user_json, ObjectWriter};
use nps_protocol::limits::is_valid_id;
use nps_protocol::{Response, Segment};

use crate::config::{check_id, check_segments, check_surveys_and_sites, ConfigError, RetryPolicy};
use crate::routing::Route;
use crate::time::rfc3339_ms;

/// Retry schedule of an alert post, on both runtimes: alerts are worth little after an hour, so
/// from 1 s up to 5 min between attempts, 15 attempts (about 40 min), then given up.
pub const ALERT_RETRY: RetryPolicy = RetryPolicy {
    base_ms: 1000,
    max_ms: 300_000,
    max_attempts: 15,
};

/// Message format of an alert sink.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertFormat {
    /// Slack incoming-webhook JSON (`text` fallback + `blocks`); also accepted by Mattermost and
    /// Rocket.Chat incoming webhooks.
    #[default]
    Slack,
    /// A flat JSON object (`{"type":"nps.alert",…}`) for other receivers.
    Json,
}

/// Config of one `type = "alert"` sink.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertSinkConfig {
    /// Unique sink name (metrics label, alert-state key). Default `alert`.
    #[serde(default = "default_name")]
    pub name: String,
    /// Incoming-webhook URL (http or https), or `env:VAR` naming where it is (chat webhook URLs
    /// are secrets: whoever has one can post to the channel).
    pub url: String,
    /// `slack` (default) or `json`.
    #[serde(default)]
    pub format: AlertFormat,
    /// Segments that alert. Default `["detractor"]`.
    #[serde(default = "default_segments")]
    pub segments: Vec<String>,
    /// Per-survey override of `segments`, e.g. `checkout = ["detractor", "passive"]`;
    /// an empty list silences that survey.
    #[serde(default)]
    pub survey_segments: BTreeMap<String, Vec<String>>,
    /// Only these survey ids; empty = all.
    #[serde(default)]
    pub surveys: Vec<String>,
    /// Only these site ids; empty = all.
    #[serde(default)]
    pub sites: Vec<String>,
    /// How long to wait for a comment after a score without one, in ms. Default 20000.
    #[serde(default = "default_grace_ms")]
    pub grace_ms: u64,
    /// Public URL of the report (e.g. `https://nps.example.com/report`, which redirects to the
    /// console's report view with the fragment kept); when set, every alert links to the
    /// response there.
    #[serde(default)]
    pub report_url: Option<String>,
    /// Per-attempt timeout. Default 5000 ms.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Show the respondent's e-mail in the alert. Default `false`: a chat channel is read by
    /// more people, and kept longer, than the report; the user id and account still say who.
    #[serde(default)]
    pub include_email: bool,
}

fn default_name() -> String {
    "alert".into()
}
fn default_segments() -> Vec<String> {
    vec!["detractor".into()]
}
/// Default grace period for a comment to follow a score.
pub const DEFAULT_GRACE_MS: u64 = 20_000;
fn default_grace_ms() -> u64 {
    DEFAULT_GRACE_MS
}
fn default_timeout_ms() -> u64 {
    5000
}

impl AlertSinkConfig {
    /// A config with every default and this URL.
    pub fn new(url: impl Into<String>) -> Self {
        AlertSinkConfig {
            name: default_name(),
            url: url.into(),
            format: AlertFormat::default(),
            segments: default_segments(),
            survey_segments: BTreeMap::new(),
            surveys: Vec::new(),
            sites: Vec::new(),
            grace_ms: DEFAULT_GRACE_MS,
            report_url: None,
            timeout_ms: default_timeout_ms(),
            include_email: false,
        }
    }

    /// Coarse routing filter (sites, surveys, and the union of every segment that may alert),
    /// for code that only knows [`Route`]; [`AlertSinkConfig::wants`] is the exact rule.
    pub fn route(&self) -> Route {
        let mut segments: Vec<Segment> = self
            .segments
            .iter()
            .chain(self.survey_segments.values().flatten())
            .filter_map(|s| Segment::parse(s))
            .collect();
        segments.sort();
        segments.dedup();
        // NB: an empty list means "all" to `Route`; callers must still ask `wants`.
        Route {
            segments,
            surveys: self.surveys.clone(),
            sites: self.sites.clone(),
        }
    }

    /// Segments that alert for this survey.
    pub fn segments_for(&self, survey: &str) -> Vec<Segment> {
        self.survey_segments
            .get(survey)
            .unwrap_or(&self.segments)
            .iter()
            .filter_map(|s| Segment::parse(s))
            .collect()
    }

    /// The exact routing rule: does this (latest) rev of a response alert?
    pub fn wants(&self, r: &Response) -> bool {
        (self.sites.is_empty() || self.sites.contains(&r.site))
            && (self.surveys.is_empty() || self.surveys.contains(&r.survey))
            && r.segment()
                .is_some_and(|g| self.segments_for(&r.survey).contains(&g))
    }

    /// Pure checks; `k` is the key of this sink (`sinks[2]`), `site_exists` tells known sites.
    pub fn validate(&self, k: &str, site_exists: impl Fn(&str) -> bool) -> Result<(), ConfigError> {
        let err = |key: String, reason: String| Err(ConfigError { key, reason });
        check_id(format!("{k}.name"), &self.name)?;
        if let Some(var) = self.url.strip_prefix("env:") {
            if var.is_empty() {
                return err(format!("{k}.url"), "env: needs a variable name".into());
            }
        } else if !is_http_url(&self.url) {
            return err(
                format!("{k}.url"),
                "must be an http(s) URL or env:VAR".into(),
            );
        }
        check_segments(&format!("{k}.segments"), &self.segments)?;
        for (survey, segs) in &self.survey_segments {
            if !is_valid_id(survey) {
                return err(
                    format!("{k}.survey_segments.{survey}"),
                    "is not a valid survey id".into(),
                );
            }
            check_segments(&format!("{k}.survey_segments.{survey}"), segs)?;
        }
        check_surveys_and_sites(k, &self.surveys, &self.sites, site_exists)?;
        if self.grace_ms > 600_000 {
            return err(
                format!("{k}.grace_ms"),
                "must be at most 600000 (10 min)".into(),
            );
        }
        if let Some(u) = &self.report_url {
            if !is_http_url(u) {
                return err(format!("{k}.report_url"), "must be an http(s) URL".into());
            }
        }
        if self.timeout_ms == 0 {
            return err(format!("{k}.timeout_ms"), "must be at least 1".into());
        }
        Ok(())
    }

    /// Replaces an `env:VAR` url with `lookup(VAR)`.
    pub fn resolve_secrets(
        &mut self,
        k: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<(), ConfigError> {
        let key = format!("{k}.url");
        if let Some((var, value)) = crate::config::resolve_env(&key, Some(&self.url), &lookup)? {
            if !is_http_url(&value) {
                return Err(ConfigError {
                    key: format!("{k}.url"),
                    reason: format!("{var}: must be an http(s) URL"),
                });
            }
            self.url = value;
        }
        Ok(())
    }
}

fn is_http_url(s: &str) -> bool {
    nps_protocol::validate::is_http_url(s) && s.len() >= 10
}

/// Stored alert state of one response id (per sink).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertState {
    /// Will be sent at this time (ms since the epoch) unless cancelled.
    Due(u64),
    /// Sent (or given up on): never again for this response id.
    Done,
}

/// What to do with the stored state after a new rev was accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertPlan {
    /// Leave the state as it is.
    Keep,
    /// Store `Due(ms)`; when `ms <= now`, send right away.
    Due(u64),
    /// Remove the scheduled alert (the latest rev is no longer routed).
    Cancel,
}

/// The timing rule (see the module docs). `wanted` = [`AlertSinkConfig::wants`] for this rev.
pub fn plan(
    state: Option<AlertState>,
    wanted: bool,
    has_comment: bool,
    now_ms: u64,
    grace_ms: u64,
) -> AlertPlan {
    match (state, wanted) {
        (Some(AlertState::Done), _) => AlertPlan::Keep,
        (Some(AlertState::Due(_)), false) => AlertPlan::Cancel,
        (None, false) => AlertPlan::Keep,
        (_, true) if has_comment => AlertPlan::Due(now_ms),
        (Some(AlertState::Due(_)), true) => AlertPlan::Keep,
        (None, true) => AlertPlan::Due(now_ms.saturating_add(grace_ms)),
    }
}

/// Link to a response in the report: `{report_url}#site=…&response=…` (ids are URL-safe by
/// construction: `[A-Za-z0-9_.:-]`).
pub fn response_link(report_url: &str, site: &str, id: &str) -> String {
    format!(
        "{}#site={site}&response={id}",
        report_url.trim_end_matches('#')
    )
}

/// Escapes the three characters Slack `mrkdwn` treats as control characters (`&`, `<`, `>`), so
/// user text can never form a link, a mention (`<!channel>`) or a user reference.
pub fn escape_mrkdwn(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn yes_no(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "not asked",
    }
}

fn segment_name(r: &Response) -> &'static str {
    r.segment().map_or("unknown", |g| g.as_str())
}

impl AlertSinkConfig {
    /// This sink's message for `r` (its format and report link; the e-mail only when
    /// `include_email`).
    pub fn render(&self, r: &Response, received_ms: u64) -> String {
        if self.include_email || r.user.as_ref().is_none_or(|u| u.email.is_none()) {
            return message(self.format, r, received_ms, self.report_url.as_deref());
        }
        let mut r = r.clone();
        if let Some(u) = r.user.as_mut() {
            u.email = None;
        }
        message(self.format, &r, received_ms, self.report_url.as_deref())
    }
}

/// The message body for `format`. `received_ms` is the receive time of the first rev;
/// `report_url` the report (see [`response_link`]).
pub fn message(
    format: AlertFormat,
    r: &Response,
    received_ms: u64,
    report_url: Option<&str>,
) -> String {
    match format {
        AlertFormat::Slack => slack_message(r, received_ms, report_url),
        AlertFormat::Json => json_message(r, received_ms, report_url),
    }
}

/// Slack incoming-webhook message: a `text` fallback (notifications) and `blocks`: header,
/// the quoted comment, a field grid (survey, user, account, order, locale, contact opt-in,
/// review click, page), a context line and an "Open in report" button. Every piece of user text
/// is mrkdwn-escaped and cut to Slack's block limits.
pub fn slack_message(r: &Response, received_ms: u64, report_url: Option<&str>) -> String {
    let seg = segment_name(r);
    let icon = match r.segment() {
        Some(Segment::Detractor) => ":red_circle:",
        Some(Segment::Passive) => ":large_yellow_circle:",
        Some(Segment::Promoter) => ":large_green_circle:",
        None => ":white_circle:",
    };
    let user = r.user.clone().unwrap_or_default();
    let who = user
        .email
        .as_deref()
        .or(user.id.as_deref())
        .unwrap_or("anonymous visitor");
    let mut fallback = format!("NPS {} {}/10 on {} ({})", seg, r.score, r.survey, r.site);
    if let Some(c) = &r.comment {
        fallback.push_str(": \"");
        fallback.push_str(&truncate(c, 200));
        fallback.push('"');
    }

    let mut blocks: Vec<String> = Vec::new();
    // Header (plain_text, max 150 chars; ids only, no free text).
    let header = truncate(
        &format!(
            "{} {}/10 · {} · {}",
            capitalise(seg),
            r.score,
            r.survey,
            truncate(who, 60)
        ),
        150,
    );
    blocks.push(format!(
        r#"{{"type":"header","text":{{"type":"plain_text","text":{},"emoji":true}}}}"#,
        json_str(&header)
    ));
    // The comment, quoted line by line (section text max 3000 chars).
    let comment = match &r.comment {
        Some(c) => {
            let quoted: Vec<String> = truncate(c, 1400)
                .lines()
                .map(|l| format!(">{}", escape_mrkdwn(l)))
                .collect();
            truncate(&format!("{icon} *Comment*\n{}", quoted.join("\n")), 3000)
        }
        None => format!("{icon} _No comment_"),
    };
    blocks.push(section_text(&comment));
    // Fields (max 10, each max 2000 chars).
    let field =
        |label: &str, value: &str| format!("*{label}*\n{}", truncate(&escape_mrkdwn(value), 300));
    let contact = match r.contact_ok {
        Some(true) => "yes: follow up".to_string(),
        v => yes_no(v).to_string(),
    };
    let fields = [
        field("Score", &format!("{}/10 ({seg})", r.score)),
        field("Survey", &r.survey),
        field("User", user.id.as_deref().unwrap_or("—")),
        field("Account", user.account.as_deref().unwrap_or("—")),
        field("Order", user.order.as_deref().unwrap_or("—")),
        field("E-mail", user.email.as_deref().unwrap_or("—")),
        field("Locale", r.locale.as_deref().unwrap_or("—")),
        field("Contact opt-in", &contact),
        field("Review link clicked", yes_no(r.review_clicked)),
        field("Page", r.page.as_deref().unwrap_or("—")),
    ];
    let mut fs = String::from(r#"{"type":"section","fields":["#);
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            fs.push(',');
        }
        fs.push_str(&format!(r#"{{"type":"mrkdwn","text":{}}}"#, json_str(f)));
    }
    fs.push_str("]}");
    blocks.push(fs);
    // Context.
    let ctx = format!(
        "site `{}` · response `{}` rev {} · received {}",
        escape_mrkdwn(&r.site),
        escape_mrkdwn(&r.id),
        r.rev,
        rfc3339_ms(received_ms)
    );
    blocks.push(format!(
        r#"{{"type":"context","elements":[{{"type":"mrkdwn","text":{}}}]}}"#,
        json_str(&ctx)
    ));
    if let Some(base) = report_url {
        blocks.push(format!(
            r#"{{"type":"actions","elements":[{{"type":"button","text":{{"type":"plain_text","text":"Open in report"}},"url":{},"action_id":"nps_open_report"}}]}}"#,
            json_str(&response_link(base, &r.site, &r.id))
        ));
    }

    let mut out = String::with_capacity(2048);
    let mut w = ObjectWriter::new(&mut out);
    w.str("text", &escape_mrkdwn(&fallback));
    w.raw("blocks", &format!("[{}]", blocks.join(",")));
    w.end();
    out
}

/// Plain JSON: `{"type":"nps.alert","site","survey","id","rev","score","segment","comment",
/// "page","locale","user":{…},"contact_ok","review_clicked","received_at","report_link"}`.
pub fn json_message(r: &Response, received_ms: u64, report_url: Option<&str>) -> String {
    let mut out = String::with_capacity(512);
    let mut w = ObjectWriter::new(&mut out);
    w.str("type", "nps.alert")
        .str("site", &r.site)
        .str("survey", &r.survey)
        .str("id", &r.id)
        .num("rev", r.rev.into())
        .num("score", r.score.into())
        .str("segment", segment_name(r))
        .opt_str("comment", r.comment.as_deref())
        .opt_str("page", r.page.as_deref())
        .opt_str("locale", r.locale.as_deref());
    if let Some(u) = r.user.as_ref().filter(|u| !u.is_empty()) {
        w.raw("user", &user_json(u));
    }
    w.opt_bool("contact_ok", r.contact_ok)
        .opt_bool("review_clicked", r.review_clicked)
        .str("received_at", &rfc3339_ms(received_ms));
    if let Some(base) = report_url {
        w.str("report_link", &response_link(base, &r.site, &r.id));
    }
    w.end();
    out
}

fn section_text(mrkdwn: &str) -> String {
    format!(
        r#"{{"type":"section","text":{{"type":"mrkdwn","text":{}}}}}"#,
        json_str(mrkdwn)
    )
}

fn json_str(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    push_str(&mut o, s);
    o
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Link to a case in the console, which the edge serves next to the report's address:
/// `{report_url minus /report}/console#site=…&case=…`.
pub fn case_link(report_url: &str, site: &str, case_id: &str) -> String {
    let base = report_url.trim_end_matches('#').trim_end_matches('/');
    let base = base.strip_suffix("/report").unwrap_or(base);
    format!("{base}/console#site={site}&case={case_id}")
}

/// The overdue alert of a case, in the sink's format: who owns it (or that nobody does), since
/// when it waits, the customer's words and who they are, and a link to the case. The e-mail
/// only with `include_email`, as for answers.
pub fn overdue_message(
    cfg: &AlertSinkConfig,
    site: &str,
    case: &crate::cases::Case,
    now_ms: u64,
) -> String {
    let owner = case.owner.as_deref().unwrap_or("nobody");
    let email = case.email.as_deref().filter(|_| cfg.include_email);
    let link = cfg
        .report_url
        .as_deref()
        .map(|base| case_link(base, site, &case.id));
    let late_h = now_ms.saturating_sub(case.due_ms) / 3_600_000;
    let mut out = String::with_capacity(1024);
    let mut w = ObjectWriter::new(&mut out);
    match cfg.format {
        AlertFormat::Json => {
            w.str("type", "nps.case.overdue")
                .str("site", site)
                .str("survey", &case.survey)
                .str("case", &case.id)
                .num("score", case.score.into())
                .str("segment", case.segment().as_str())
                .opt_str("comment", case.comment.as_deref())
                .opt_str("owner", case.owner.as_deref())
                .str("opened_at", &rfc3339_ms(case.opened_ms))
                .str("due_at", &rfc3339_ms(case.due_ms))
                .opt_str("user_id", case.user_id.as_deref())
                .opt_str("account", case.account.as_deref())
                .opt_str("order", case.order.as_deref())
                .opt_str("email", email)
                .opt_str("case_link", link.as_deref());
        }
        AlertFormat::Slack => {
            let fallback = format!(
                "Overdue NPS case: {}/10 on {} ({site}), owner {owner}, due {}",
                case.score,
                case.survey,
                rfc3339_ms(case.due_ms)
            );
            let header = truncate(
                &format!(
                    ":alarm_clock: Overdue case · {}/10 · {} · owner {}",
                    case.score,
                    case.survey,
                    truncate(owner, 40)
                ),
                150,
            );
            let mut blocks = vec![format!(
                r#"{{"type":"header","text":{{"type":"plain_text","text":{},"emoji":true}}}}"#,
                json_str(&header)
            )];
            let words = match &case.comment {
                Some(c) => truncate(
                    &truncate(c, 1400)
                        .lines()
                        .map(|l| format!(">{}", escape_mrkdwn(l)))
                        .collect::<Vec<_>>()
                        .join("\n"),
                    3000,
                ),
                None => "_No comment_".into(),
            };
            blocks.push(section_text(&words));
            let field = |label: &str, value: &str| {
                format!(
                    r#"{{"type":"mrkdwn","text":{}}}"#,
                    json_str(&format!(
                        "*{label}*\n{}",
                        truncate(&escape_mrkdwn(value), 300)
                    ))
                )
            };
            let fields = [
                field("Owner", owner),
                field(
                    "Late by",
                    &format!("{late_h} h (due {})", rfc3339_ms(case.due_ms)),
                ),
                field("Opened", &rfc3339_ms(case.opened_ms)),
                field("User", case.user_id.as_deref().unwrap_or("—")),
                field("Account", case.account.as_deref().unwrap_or("—")),
                field("Order", case.order.as_deref().unwrap_or("—")),
                field("E-mail", email.unwrap_or("—")),
            ];
            blocks.push(format!(
                r#"{{"type":"section","fields":[{}]}}"#,
                fields.join(",")
            ));
            if let Some(url) = &link {
                blocks.push(format!(
                    r#"{{"type":"actions","elements":[{{"type":"button","text":{{"type":"plain_text","text":"Open case"}},"url":{},"action_id":"nps_open_case"}}]}}"#,
                    json_str(url)
                ));
            }
            w.str("text", &escape_mrkdwn(&fallback))
                .raw("blocks", &format!("[{}]", blocks.join(",")));
        }
    }
    w.end();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use nps_protocol::User;
    use serde_json::Value;

    fn detractor() -> Response {
        Response {
            id: "r-1".into(),
            rev: 2,
            site: "demo".into(),
            survey: "checkout".into(),
            score: 3,
            comment: Some(
                "Paid twice <!channel> & <https://evil.example|click>\nsecond line > quote".into(),
            ),
            locale: Some("fr-FR".into()),
            visitor: "v1".into(),
            page: Some("https://shop.example/cart?a=1&b=<2>".into()),
            contact_ok: Some(true),
            user: Some(User {
                id: Some("u-42".into()),
                account: Some("acme".into()),
                order: Some("o-9".into()),
                email: Some("ann@example.com".into()),
                signature: None,
            }),
            ..Default::default()
        }
    }

    fn texts(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(a) => a.iter().for_each(|x| texts(x, out)),
            Value::Object(o) => o.values().for_each(|x| texts(x, out)),
            _ => {}
        }
    }

    #[test]
    fn the_email_reaches_the_chat_only_when_the_sink_asks() {
        let mut sink = AlertSinkConfig::new("https://chat.example/hook");
        for format in [AlertFormat::Slack, AlertFormat::Json] {
            sink.format = format;
            sink.include_email = false;
            let m = sink.render(&detractor(), 0);
            assert!(!m.contains("ann@example.com"), "{m}");
            assert!(m.contains("u-42"), "the user id still says who: {m}");
            sink.include_email = true;
            assert!(sink.render(&detractor(), 0).contains("ann@example.com"));
        }
        let off: AlertSinkConfig = toml::from_str("url = \"https://chat.example/hook\"").unwrap();
        assert!(!off.include_email, "off unless asked");
    }

    #[test]
    fn slack_message_has_everything_and_escapes_user_text() {
        let m = slack_message(
            &detractor(),
            1_795_998_759_123,
            Some("https://nps.example/report"),
        );
        let v: Value = serde_json::from_str(&m).unwrap();
        let blocks = v["blocks"].as_array().unwrap();
        assert_eq!(blocks[0]["type"], "header");
        assert_eq!(
            blocks[0]["text"]["text"],
            "Detractor 3/10 · checkout · ann@example.com"
        );
        let comment = blocks[1]["text"]["text"].as_str().unwrap();
        assert!(
            comment
                .contains(">Paid twice &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;"),
            "{comment}"
        );
        assert!(comment.contains("\n>second line &gt; quote"), "{comment}");
        let fields: Vec<&str> = blocks[2]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["text"].as_str().unwrap())
            .collect();
        assert_eq!(fields.len(), 10);
        for want in [
            "*Score*\n3/10 (detractor)",
            "*User*\nu-42",
            "*Account*\nacme",
            "*Order*\no-9",
            "*Locale*\nfr-FR",
            "*Contact opt-in*\nyes: follow up",
            "*Page*\nhttps://shop.example/cart?a=1&amp;b=&lt;2&gt;",
        ] {
            assert!(fields.contains(&want), "missing {want:?} in {fields:?}");
        }
        assert!(blocks[3]["elements"][0]["text"]
            .as_str()
            .unwrap()
            .contains("2026-11-30T00:32:39.123Z"));
        assert_eq!(
            blocks[4]["elements"][0]["url"],
            "https://nps.example/report#site=demo&response=r-1"
        );
        // No raw control sequence survives anywhere in mrkdwn/plain text.
        let mut all = Vec::new();
        texts(&v, &mut all);
        for t in all.iter().filter(|t| !t.starts_with("https://nps.example")) {
            assert!(!t.contains("<!") && !t.contains("<http"), "unescaped: {t}");
        }
        assert!(v["text"]
            .as_str()
            .unwrap()
            .starts_with("NPS detractor 3/10 on checkout (demo): \"Paid twice &lt;!channel&gt;"));
    }

    #[test]
    fn slack_message_without_comment_or_user() {
        let r = Response {
            comment: None,
            user: None,
            contact_ok: None,
            page: None,
            ..detractor()
        };
        let v: Value = serde_json::from_str(&slack_message(&r, 0, None)).unwrap();
        let blocks = v["blocks"].as_array().unwrap();
        assert_eq!(blocks.len(), 4, "no button without a report url");
        assert!(blocks[1]["text"]["text"]
            .as_str()
            .unwrap()
            .contains("No comment"));
        assert!(blocks[0]["text"]["text"]
            .as_str()
            .unwrap()
            .contains("anonymous visitor"));
    }

    #[test]
    fn long_comment_stays_within_block_limits() {
        let r = Response {
            comment: Some("&".repeat(2000)),
            ..detractor()
        };
        let v: Value = serde_json::from_str(&slack_message(&r, 0, None)).unwrap();
        assert!(
            v["blocks"][1]["text"]["text"]
                .as_str()
                .unwrap()
                .chars()
                .count()
                <= 3000
        );
        assert!(
            v["blocks"][0]["text"]["text"]
                .as_str()
                .unwrap()
                .chars()
                .count()
                <= 150
        );
    }

    #[test]
    fn json_message_is_plain() {
        let m = json_message(&detractor(), 0, Some("https://nps.example/report"));
        let v: Value = serde_json::from_str(&m).unwrap();
        assert_eq!(v["type"], "nps.alert");
        assert_eq!(v["segment"], "detractor");
        assert_eq!(v["score"], 3);
        assert_eq!(v["comment"], detractor().comment.unwrap());
        assert_eq!(v["user"]["account"], "acme");
        assert_eq!(v["contact_ok"], true);
        assert_eq!(
            v["report_link"],
            "https://nps.example/report#site=demo&response=r-1"
        );
        assert!(!m.contains('<'), "`<` is JSON-escaped: {m}");
    }

    #[test]
    fn routing_defaults_to_detractors_and_is_per_survey() {
        let mut c: AlertSinkConfig = toml::from_str("url = \"https://hooks.example/x\"").unwrap();
        assert_eq!(c.grace_ms, 20_000);
        let mut r = detractor();
        assert!(c.wants(&r));
        r.score = 8;
        assert!(!c.wants(&r));
        r.score = 10;
        assert!(!c.wants(&r));
        c.survey_segments.insert(
            "checkout".into(),
            vec!["detractor".into(), "passive".into()],
        );
        c.survey_segments.insert("quiet".into(), vec![]);
        r.score = 7;
        assert!(c.wants(&r));
        r.survey = "quiet".into();
        r.score = 0;
        assert!(!c.wants(&r));
        r.survey = "other".into();
        assert!(c.wants(&r));
        c.surveys = vec!["checkout".into()];
        assert!(!c.wants(&r));
        let route = c.route();
        assert_eq!(route.segments, vec![Segment::Detractor, Segment::Passive]);
    }

    #[test]
    fn config_validation_names_keys() {
        let ok = |_: &str| true;
        let mut c = AlertSinkConfig::new("https://hooks.example/x");
        c.validate("sinks[1]", ok).unwrap();
        c.segments = vec!["fans".into()];
        assert_eq!(
            c.validate("sinks[1]", ok).unwrap_err().key,
            "sinks[1].segments[0]"
        );
        c = AlertSinkConfig::new("ftp://x");
        assert_eq!(c.validate("sinks[1]", ok).unwrap_err().key, "sinks[1].url");
        c = AlertSinkConfig::new("env:SLACK_URL");
        c.validate("sinks[1]", ok).unwrap();
        assert!(c.clone().resolve_secrets("sinks[1]", |_| None).is_err());
        c.resolve_secrets("sinks[1]", |_| {
            Some("https://hooks.slack.com/services/T/B/X".into())
        })
        .unwrap();
        assert_eq!(c.url, "https://hooks.slack.com/services/T/B/X");
        let e = toml::from_str::<AlertSinkConfig>("url = \"https://h.example/x\"\ngrace = 1")
            .unwrap_err();
        assert!(e.to_string().contains("grace"), "{e}");
    }

    #[test]
    fn alert_sink_in_the_config_file() {
        use crate::config::{Config, SinkConfig};
        let src = r#"
[[sites]]
id = "demo"
origins = ["https://shop.example"]

[[tokens]]
name = "ops"
role = "admin"
sites = ["*"]
secret = "env:NPS_ADMIN_TOKEN"

[[sinks]]
type = "alert"
name = "cx-slack"
url = "env:SLACK_URL"
report_url = "https://nps.example/report"
grace_ms = 5000
[sinks.survey_segments]
checkout = ["detractor", "passive"]
"#;
        let mut c = Config::load_toml(src).unwrap();
        assert_eq!(c.sinks[0].name(), "cx-slack");
        let SinkConfig::Alert(a) = &c.sinks[0] else {
            panic!("{:?}", c.sinks[0])
        };
        assert_eq!((a.grace_ms, a.format), (5000, AlertFormat::Slack));
        assert_eq!(
            c.sinks[0].route().segments,
            vec![Segment::Detractor, Segment::Passive]
        );
        c.resolve_secrets(|v| match v {
            "SLACK_URL" => Some("https://hooks.slack.com/services/T0/B0/x".into()),
            "NPS_ADMIN_TOKEN" => Some("0123456789abcdef0123".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.tokens.0[0].secret, "0123456789abcdef0123");
        // Round trip (JSON: the worker var shape), and typos are refused inside the variant too.
        let mut back = Config::from_json_str(&serde_json::to_string(&c).unwrap()).unwrap();
        back.secrets_resolved = true; // state of this process, not of the document
        assert_eq!(back, c);
        let e = Config::from_toml_str(&src.replace("grace_ms", "grace")).unwrap_err();
        assert!(e.reason.contains("grace"), "{e}");
        let e = Config::load_toml(&src.replace("\"passive\"]", "\"fans\"]")).unwrap_err();
        assert_eq!(e.key, "sinks[0].survey_segments.checkout[1]");
    }

    #[test]
    fn timing_rule() {
        use AlertPlan::*;
        // Score without comment: due after the grace period.
        assert_eq!(plan(None, true, false, 1000, 20_000), Due(21_000));
        // The comment arrives: due now.
        assert_eq!(
            plan(Some(AlertState::Due(21_000)), true, true, 4000, 20_000),
            Due(4000)
        );
        // Another rev without comment never postpones.
        assert_eq!(
            plan(Some(AlertState::Due(21_000)), true, false, 9000, 20_000),
            Keep
        );
        // Score changed to a promoter: cancel.
        assert_eq!(
            plan(Some(AlertState::Due(21_000)), false, true, 9000, 20_000),
            Cancel
        );
        assert_eq!(plan(None, false, true, 9000, 20_000), Keep);
        // Sent: never again.
        assert_eq!(plan(Some(AlertState::Done), true, true, 9000, 20_000), Keep);
        // Comment on the first rev: due now.
        assert_eq!(plan(None, true, true, 5, 20_000), Due(5));
    }

    #[test]
    fn overdue_message_names_the_owner_and_links_the_case() {
        let mut cfg = AlertSinkConfig::new("https://chat.example/hook");
        cfg.report_url = Some("https://nps.example/report".into());
        let case = crate::cases::Case {
            id: "r9".into(),
            survey: "checkout".into(),
            score: 3,
            comment: Some("<!channel> late & broken".into()),
            email: Some("ana@example.com".into()),
            owner: Some("Ana".into()),
            opened_ms: 0,
            due_ms: 3_600_000,
            ..Default::default()
        };
        let v: serde_json::Value =
            serde_json::from_str(&overdue_message(&cfg, "shop", &case, 4 * 3_600_000)).unwrap();
        let all = v.to_string();
        assert!(v["text"].as_str().unwrap().contains("owner Ana"));
        assert!(all.contains("https://nps.example/console#site=shop&case=r9"));
        assert!(all.contains("3 h (due"));
        assert!(all.contains("&lt;!channel&gt; late &amp; broken"), "{all}");
        assert!(
            !all.contains("ana@example.com"),
            "no e-mail without include_email"
        );
        cfg.format = AlertFormat::Json;
        cfg.include_email = true;
        let v: serde_json::Value =
            serde_json::from_str(&overdue_message(&cfg, "shop", &case, 4 * 3_600_000)).unwrap();
        assert_eq!(v["type"], "nps.case.overdue");
        assert_eq!(v["owner"], "Ana");
        assert_eq!(v["email"], "ana@example.com");
        assert_eq!(
            v["case_link"],
            "https://nps.example/console#site=shop&case=r9"
        );
    }
}
