//! Deduplication decisions. The runtime loads what it remembers about the response id and the
//! respondent, calls [`decide`], and stores according to the [`Decision`].
//!
//! Rules:
//! - **By id + rev** (window `dedup_window_hours`, default 24 h): a new id is `accepted`; a higher
//!   rev of a known id is `updated` (stored and forwarded again, same webhook-id family
//!   `{id}.{rev}`); an equal or lower rev is a `duplicate` (not stored, not forwarded). So a
//!   rev 2 that overtakes rev 1 wins, and the late rev 1 is dropped.
//! - **By respondent** (window `respondent_window_days`, default 90 d): one response id per
//!   respondent (user id when the page identified the visitor, else the visitor id) per survey.
//!   A different response id inside the window is answered `duplicate` and neither stored nor
//!   forwarded: the first answer stands, the visitor's later revisions of THAT answer still
//!   count. We chose "first answer wins" because the widget already lets a visitor change the
//!   answer (revs), so a second id means a second survey display, which the product promises
//!   not to do; counting it would double-weight that respondent in the NPS.
//! - **Replays after the id window**: the respondent record remembers the highest rev of the id
//!   that claimed it, so a replay of that id (equal or lower rev) arriving after the id window
//!   but inside the respondent window is still a `duplicate`: a response is never forwarded
//!   twice while either record is live.
//! - **Ownership**: an id belongs to the visitor (and the user, when one was named) who sent its
//!   first rev. Any rev of a known id from someone else is a conflict (409): ids travel in
//!   webhooks, alerts and DOM events, and knowing one must not let anybody rewrite the answer.

use nps_protocol::Response;

/// What the edge remembers about a response id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeenId {
    /// Highest rev stored.
    pub rev: u32,
    /// When that id was last accepted or updated, ms since the epoch.
    pub at_ms: u64,
}

/// Who sent the first rev of a known response id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner<'a> {
    /// Its visitor id.
    pub visitor: &'a str,
    /// Its user id, when it named one.
    pub user: Option<&'a str>,
}

impl Owner<'_> {
    /// True when `r` comes from this owner.
    pub fn owns(&self, r: &Response) -> bool {
        let user = r.user.as_ref().and_then(|u| u.id.as_deref());
        self.visitor == r.visitor && self.user.is_none_or(|u| Some(u) == user)
    }
}

/// What the edge remembers about a respondent on a survey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRespondent {
    /// The response id that claimed the window.
    pub response_id: String,
    /// Highest rev stored for that response id (so a replay after the id window is still a
    /// duplicate).
    pub rev: u32,
    /// When it was first accepted, ms since the epoch (the window starts there).
    pub at_ms: u64,
}

/// Outcome reported to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// First time this id is seen: stored and forwarded.
    Accepted,
    /// Higher rev of a known id: stored and forwarded.
    Updated,
    /// Already have it (same or higher rev), or the respondent already answered: dropped.
    Duplicate,
}

impl Status {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Accepted => "accepted",
            Status::Updated => "updated",
            Status::Duplicate => "duplicate",
        }
    }

    /// Parses a wire name (the inverse of [`Status::as_str`]).
    pub fn parse(s: &str) -> Option<Status> {
        [Status::Accepted, Status::Updated, Status::Duplicate]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// Why a duplicate is one (metrics label).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DuplicateKind {
    /// Same id, same or lower rev.
    Id,
    /// Another response id from the same respondent on the same survey.
    Respondent,
}

impl DuplicateKind {
    /// Metrics label.
    pub fn as_str(self) -> &'static str {
        match self {
            DuplicateKind::Id => "id",
            DuplicateKind::Respondent => "respondent",
        }
    }
}

/// What to do with a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Answer to the client.
    pub status: Status,
    /// Why it is a duplicate, when it is.
    pub duplicate: Option<DuplicateKind>,
    /// Store the response (insert or replace with this rev) and `SeenId { rev, at_ms: now }`.
    pub store: bool,
    /// Deliver to the routed sinks.
    pub forward: bool,
    /// Store `SeenRespondent { response_id: id, rev, at_ms: now }` (a new window starts). When
    /// `store` is set without it, the live respondent record names this id: keep its `at_ms`
    /// and raise its `rev` to this one.
    pub claim_respondent: bool,
    /// The id belongs to another visitor or user: refuse (409), change nothing.
    pub conflict: bool,
}

impl Decision {
    fn duplicate(kind: DuplicateKind) -> Decision {
        Decision {
            status: Status::Duplicate,
            duplicate: Some(kind),
            store: false,
            forward: false,
            claim_respondent: false,
            conflict: false,
        }
    }

    fn conflict() -> Decision {
        Decision {
            conflict: true,
            ..Decision::duplicate(DuplicateKind::Id)
        }
    }
}

/// Decides. `seen_id`/`seen_respondent` are what the store holds (`None` if nothing), `owner`
/// who sent the id's first rev when the store knows the id; windows in ms
/// (`respondent_window_ms == 0` disables the respondent rule).
pub fn decide(
    seen_id: Option<SeenId>,
    seen_respondent: Option<&SeenRespondent>,
    owner: Option<Owner<'_>>,
    response: &Response,
    now_ms: u64,
    id_window_ms: u64,
    respondent_window_ms: u64,
) -> Decision {
    if owner.is_some_and(|o| !o.owns(response)) {
        return Decision::conflict();
    }
    let live_id = seen_id.filter(|s| now_ms.saturating_sub(s.at_ms) < id_window_ms);
    let live_resp = seen_respondent.filter(|s| {
        respondent_window_ms > 0 && now_ms.saturating_sub(s.at_ms) < respondent_window_ms
    });
    if let Some(r) = live_resp {
        if r.response_id != response.id {
            return Decision::duplicate(DuplicateKind::Respondent);
        }
    }
    // The highest rev known for this id: its own record, or the live respondent record that
    // names it (which outlives the id record).
    let known_rev = match (live_id, live_resp) {
        (Some(s), Some(r)) => Some(s.rev.max(r.rev)),
        (Some(s), None) => Some(s.rev),
        (None, Some(r)) => Some(r.rev),
        (None, None) => None,
    };
    match known_rev {
        Some(k) if response.rev <= k => Decision::duplicate(DuplicateKind::Id),
        Some(_) => Decision {
            status: Status::Updated,
            duplicate: None,
            store: true,
            forward: true,
            claim_respondent: live_resp.is_none() && respondent_window_ms > 0,
            conflict: false,
        },
        None => Decision {
            status: Status::Accepted,
            duplicate: None,
            store: true,
            forward: true,
            claim_respondent: live_resp.is_none() && respondent_window_ms > 0,
            conflict: false,
        },
    }
}

/// Key of the respondent record: site, survey and respondent (user id, else visitor).
pub fn respondent_key(r: &Response) -> String {
    format!("{}|{}|{}", r.site, r.survey, r.respondent())
}

/// Key of the id record (ids are unique per site).
pub fn id_key(r: &Response) -> String {
    format!("{}|{}", r.site, r.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: u64 = 3_600_000;
    const D: u64 = 24 * H;

    fn resp(id: &str, rev: u32) -> Response {
        Response {
            id: id.into(),
            rev,
            site: "demo".into(),
            survey: "checkout".into(),
            visitor: "v1".into(),
            score: 3,
            ..Default::default()
        }
    }

    fn d(seen: Option<SeenId>, who: Option<&SeenRespondent>, r: &Response, now: u64) -> Decision {
        decide(seen, who, None, r, now, D, 90 * D)
    }

    #[test]
    fn new_id_is_accepted_and_claims() {
        let x = d(None, None, &resp("a", 1), 0);
        assert_eq!(
            (x.status, x.store, x.forward, x.claim_respondent),
            (Status::Accepted, true, true, true)
        );
    }

    #[test]
    fn revs() {
        let seen = Some(SeenId { rev: 2, at_ms: 0 });
        let me = SeenRespondent {
            response_id: "a".into(),
            rev: 2,
            at_ms: 0,
        };
        assert_eq!(
            d(seen, Some(&me), &resp("a", 1), 10).status,
            Status::Duplicate
        );
        assert_eq!(
            d(seen, Some(&me), &resp("a", 2), 10).duplicate,
            Some(DuplicateKind::Id)
        );
        let up = d(seen, Some(&me), &resp("a", 3), 10);
        assert_eq!((up.status, up.claim_respondent), (Status::Updated, false));
    }

    #[test]
    fn id_window_expires() {
        let seen = Some(SeenId { rev: 2, at_ms: 0 });
        assert_eq!(
            decide(seen, None, None, &resp("a", 1), D, D, 0).status,
            Status::Accepted
        );
        assert_eq!(
            decide(seen, None, None, &resp("a", 1), D - 1, D, 0).status,
            Status::Duplicate
        );
    }

    #[test]
    fn respondent_window() {
        let other = SeenRespondent {
            response_id: "first".into(),
            rev: 1,
            at_ms: 0,
        };
        let x = d(None, Some(&other), &resp("second", 1), 89 * D);
        assert_eq!(
            (x.status, x.duplicate, x.store),
            (Status::Duplicate, Some(DuplicateKind::Respondent), false)
        );
        let x = d(None, Some(&other), &resp("second", 1), 90 * D);
        assert_eq!((x.status, x.claim_respondent), (Status::Accepted, true));
        // Disabled window: never a respondent duplicate.
        assert_eq!(
            decide(None, Some(&other), None, &resp("second", 1), 1, D, 0).status,
            Status::Accepted
        );
    }

    #[test]
    fn replay_after_the_id_window_is_still_a_duplicate() {
        // Accepted at 0: id record (24 h) and respondent record (90 d) both name "a" at rev 2.
        let me = SeenRespondent {
            response_id: "a".into(),
            rev: 2,
            at_ms: 0,
        };
        let seen = Some(SeenId { rev: 2, at_ms: 0 });
        // Two days later the id record has expired; the respondent record still remembers rev 2.
        for rev in [1, 2] {
            let x = d(seen, Some(&me), &resp("a", rev), 2 * D);
            assert_eq!(
                (x.status, x.duplicate, x.store, x.forward),
                (Status::Duplicate, Some(DuplicateKind::Id), false, false),
                "rev {rev}"
            );
            let x = d(None, Some(&me), &resp("a", rev), 2 * D);
            assert_eq!(x.status, Status::Duplicate, "rev {rev}, no id record");
        }
        // A higher rev is still an update, inside the same respondent window.
        let x = d(None, Some(&me), &resp("a", 3), 2 * D);
        assert_eq!(
            (x.status, x.store, x.forward, x.claim_respondent),
            (Status::Updated, true, true, false)
        );
        // After both windows the id is new again.
        assert_eq!(
            d(None, Some(&me), &resp("a", 2), 90 * D).status,
            Status::Accepted
        );
    }

    #[test]
    fn status_words_round_trip() {
        for s in [Status::Accepted, Status::Updated, Status::Duplicate] {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert_eq!(Status::parse("nope"), None);
    }

    #[test]
    fn keys_use_user_id_when_given() {
        let mut r = resp("a", 1);
        assert_eq!(respondent_key(&r), "demo|checkout|v1");
        r.user = Some(nps_protocol::User {
            id: Some("u9".into()),
            ..Default::default()
        });
        assert_eq!(respondent_key(&r), "demo|checkout|u9");
        assert_eq!(id_key(&r), "demo|a");
    }

    #[test]
    fn a_known_id_belongs_to_its_first_visitor_and_user() {
        let mut r = resp("a", 5);
        let mine = Owner {
            visitor: &r.visitor.clone(),
            user: None,
        };
        let seen = Some(SeenId { rev: 1, at_ms: 0 });
        assert_eq!(
            decide(seen, None, Some(mine), &r, 1, D, 0).status,
            Status::Updated
        );
        let theirs = Owner {
            visitor: "someone-else",
            user: None,
        };
        let d = decide(seen, None, Some(theirs), &r, 1, D, 0);
        assert!(d.conflict && !d.store && !d.forward);
        // Past the id window too: the owner is the store's, not the window's.
        assert!(decide(None, None, Some(theirs), &r, 10 * D, D, 0).conflict);
        let visitor = r.visitor.clone();
        let signed = Owner {
            visitor: &visitor,
            user: Some("u-1"),
        };
        assert!(
            decide(seen, None, Some(signed), &r, 1, D, 0).conflict,
            "user missing"
        );
        r.user = Some(nps_protocol::User {
            id: Some("u-1".into()),
            ..Default::default()
        });
        assert!(!decide(seen, None, Some(signed), &r, 1, D, 0).conflict);
    }
}
