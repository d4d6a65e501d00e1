//! The wire types. Plain data: parsing lives in `parse` (edge), writing in `json` (both sides).

use std::collections::BTreeMap;

use crate::segment::Segment;

/// The visitor's current answer, sent whole each time it changes.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Response {
    /// Client-generated UUID: the idempotency key.
    pub id: String,
    /// Starts at 1, +1 each time the visitor changes the answer; the highest rev wins.
    pub rev: u32,
    /// Site id, as configured on the edge.
    pub site: String,
    /// Survey id within the site (e.g. `checkout`).
    pub survey: String,
    /// 0–10.
    pub score: u8,
    /// Follow-up comment, already cleaned (see [`crate::text::clean_comment`]).
    pub comment: Option<String>,
    /// BCP 47 locale the survey was shown in.
    pub locale: Option<String>,
    /// Random visitor id kept by the widget.
    pub visitor: String,
    /// Page the survey was answered on.
    pub page: Option<String>,
    /// Detractor opted in to be contacted about their answer.
    pub contact_ok: Option<bool>,
    /// Promoter clicked the review/share link.
    pub review_clicked: Option<bool>,
    /// Customer context from the host page (`nps('identify', …)`).
    pub user: Option<User>,
    /// Free-form context from the host page (plan, cart value…), as strings.
    pub properties: BTreeMap<String, String>,
    /// Client clock when sent (informational; the edge keeps its own receive time).
    pub sent_at: Option<String>,
}

impl Response {
    /// Segment of the score; a validated response always has one.
    pub fn segment(&self) -> Option<Segment> {
        Segment::of(self.score)
    }

    /// The respondent key for "one answer per respondent per survey": the user id when the host
    /// page identified the visitor, else the visitor id.
    pub fn respondent(&self) -> &str {
        self.user
            .as_ref()
            .and_then(|u| u.id.as_deref())
            .unwrap_or(&self.visitor)
    }
}

/// Customer context supplied by the host page.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct User {
    /// The site's own user id.
    pub id: Option<String>,
    /// Account / company id.
    pub account: Option<String>,
    /// Order id the survey is about.
    pub order: Option<String>,
    /// Contact e-mail, for follow-up.
    pub email: Option<String>,
    /// Identity verification: lowercase hex `HMAC-SHA256(site's identity secret, id)`, computed
    /// by the site's server. Checked by the edge, never stored.
    pub signature: Option<String>,
}

impl User {
    /// True when no identifying field is set (a lone signature identifies nobody).
    pub fn is_empty(&self) -> bool {
        self.id.is_none() && self.account.is_none() && self.order.is_none() && self.email.is_none()
    }
}

/// Survey impression events, for response rate and non-respondents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventType {
    /// The survey became visible.
    Shown,
    /// The visitor closed the survey without finishing it.
    Dismissed,
}

impl EventType {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Shown => "shown",
            EventType::Dismissed => "dismissed",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<EventType> {
        match s {
            "shown" => Some(EventType::Shown),
            "dismissed" => Some(EventType::Dismissed),
            _ => None,
        }
    }
}

/// A `shown` or `dismissed` event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Client-generated id (idempotency key).
    pub id: String,
    /// Site id.
    pub site: String,
    /// Survey id.
    pub survey: String,
    /// Random visitor id.
    pub visitor: String,
    /// What happened.
    pub kind: EventType,
    /// Identified user, when known (lets the edge honour suppressions).
    pub user: Option<User>,
}
