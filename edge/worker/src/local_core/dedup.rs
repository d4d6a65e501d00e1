//! Dedup decisions by id (+ rev) and per respondent, on state loaded by the runtime
//! (SHOULD MOVE TO CORE: `nps_edge_core::dedup`).

/// Outcome for one posted response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// New response: store and forward.
    Accepted,
    /// Higher rev of a known id: store (replace) and forward.
    Updated,
    /// Seen (equal/lower rev), or a second response of the respondent in the window: 202, not stored.
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

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Status> {
        [Status::Accepted, Status::Updated, Status::Duplicate]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// What is remembered about a response id.
#[derive(Clone, Debug, PartialEq)]
pub struct SeenId {
    /// Highest rev stored.
    pub rev: u32,
    /// Forgotten after this time (ms since the epoch).
    pub until_ms: f64,
}

/// What is remembered about a respondent in a survey.
#[derive(Clone, Debug, PartialEq)]
pub struct SeenRespondent {
    /// The response id that counts for this respondent.
    pub id: String,
    /// Its highest rev.
    pub rev: u32,
    /// End of the window (ms since the epoch).
    pub until_ms: f64,
}

/// The decision and the state to store when it is not a duplicate.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// What to answer.
    pub status: Status,
    /// New id record (store when `Some`).
    pub id: Option<SeenId>,
    /// New respondent record (store when `Some`).
    pub respondent: Option<SeenRespondent>,
}

/// Decides for response `id`/`rev` given what was seen. Expired records count as absent.
/// `respondent_window_ms == 0` disables the per-respondent rule.
pub fn decide(
    seen_id: Option<&SeenId>,
    seen_resp: Option<&SeenRespondent>,
    id: &str,
    rev: u32,
    now_ms: f64,
    id_window_ms: f64,
    respondent_window_ms: f64,
) -> Decision {
    let seen_id = seen_id.filter(|s| s.until_ms > now_ms);
    let seen_resp = seen_resp.filter(|s| s.until_ms > now_ms && respondent_window_ms > 0.0);
    let dup = Decision {
        status: Status::Duplicate,
        id: None,
        respondent: None,
    };
    // The highest rev known for this id: its own record, or the respondent record that names it
    // (which outlives the id record).
    let known_rev = match (seen_id, seen_resp) {
        (Some(s), _) => Some(s.rev),
        (None, Some(r)) if r.id == id => Some(r.rev),
        (None, Some(_)) => return dup, // another response of this respondent in the window
        (None, None) => None,
    };
    let status = match known_rev {
        Some(k) if rev <= k => return dup,
        Some(_) => Status::Updated,
        None => Status::Accepted,
    };
    let id_rec = SeenId {
        rev,
        until_ms: now_ms + id_window_ms,
    };
    let resp_rec = (respondent_window_ms > 0.0).then(|| SeenRespondent {
        id: id.to_string(),
        rev,
        until_ms: match seen_resp {
            Some(r) if r.id == id => r.until_ms,
            _ => now_ms + respondent_window_ms,
        },
    });
    Decision {
        status,
        id: Some(id_rec),
        respondent: resp_rec,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: f64 = 3_600_000.0;

    #[test]
    fn id_and_rev() {
        let d = decide(None, None, "a", 1, 0.0, H, 90.0 * 24.0 * H);
        assert_eq!(d.status, Status::Accepted);
        let d2 = decide(
            d.id.as_ref(),
            d.respondent.as_ref(),
            "a",
            1,
            1.0,
            H,
            90.0 * 24.0 * H,
        );
        assert_eq!(d2.status, Status::Duplicate);
        let d3 = decide(
            d.id.as_ref(),
            d.respondent.as_ref(),
            "a",
            3,
            1.0,
            H,
            90.0 * 24.0 * H,
        );
        assert_eq!(d3.status, Status::Updated);
        let d4 = decide(
            d3.id.as_ref(),
            d3.respondent.as_ref(),
            "a",
            2,
            2.0,
            H,
            90.0 * 24.0 * H,
        );
        assert_eq!(d4.status, Status::Duplicate);
    }

    #[test]
    fn respondent_window_outlives_id_window() {
        let d = decide(None, None, "a", 2, 0.0, H, 10.0 * H);
        // id record expired, respondent record still names "a" at rev 2
        assert_eq!(
            decide(None, d.respondent.as_ref(), "a", 2, 2.0 * H, H, 10.0 * H).status,
            Status::Duplicate
        );
        assert_eq!(
            decide(None, d.respondent.as_ref(), "b", 1, 2.0 * H, H, 10.0 * H).status,
            Status::Duplicate
        );
        assert_eq!(
            decide(None, d.respondent.as_ref(), "b", 1, 11.0 * H, H, 10.0 * H).status,
            Status::Accepted
        );
    }
}
