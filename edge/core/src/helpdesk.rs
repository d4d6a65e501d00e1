//! Events from a helpdesk (Zendesk, Freshdesk, Help Scout… through their webhook or automation
//! feature), signed with Standard Webhooks by the site's `cases.helpdesk_secret`, so that a team
//! working in its helpdesk needs no second tool: "ticket solved" resolves the case (which lifts
//! its suppression and schedules the re-survey), "ticket reopened" reopens it.
//!
//! Body: `{"type":"ticket.solved"|"ticket.reopened"|"ticket.updated", "case"?, "external_ref"?,
//! "owner"?, "note"?}`. A case is named by its id (`case`), or by the ticket linked to it
//! (`external_ref`, set with `PATCH …/cases/{id}`); with both, the ticket is linked to that case.

use crate::cases::{check_text, Status, MAX_EXTERNAL_REF_CHARS, MAX_NOTE_CHARS, MAX_OWNER_CHARS};
use crate::EdgeError;
use nps_protocol::validate::{Problem, ProblemCode};

/// How far a helpdesk event's `webhook-timestamp` may be from now (Standard Webhooks' advice).
pub const TOLERANCE_SECS: u64 = 300;

/// What the ticket did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `ticket.solved`: resolve the case.
    Solved,
    /// `ticket.reopened`: reopen a resolved case.
    Reopened,
    /// `ticket.updated`: owner or note only.
    Updated,
}

/// A parsed helpdesk event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// What happened.
    pub action: Action,
    /// The case, by id.
    pub case: Option<String>,
    /// The ticket.
    pub external_ref: Option<String>,
    /// New owner (the agent working the ticket): `Some(None)` unassigns.
    pub owner: Option<Option<String>>,
    /// A note to add, signed "helpdesk".
    pub note: Option<String>,
}

impl Action {
    /// The status a case in `current` moves to: solving an open case resolves it, reopening a
    /// resolved one reopens it; anything else (already there, withdrawn) changes nothing, so a
    /// helpdesk that repeats itself is harmless.
    pub fn status_for(self, current: Status) -> Option<Status> {
        use Status::*;
        match (self, current) {
            (Action::Solved, Open | InProgress | Reopened) => Some(Resolved),
            (Action::Reopened, Resolved) => Some(Reopened),
            _ => None,
        }
    }
}

fn text(
    m: &serde_json::Map<String, serde_json::Value>,
    k: &str,
    max: usize,
    problems: &mut Vec<Problem>,
) -> Option<Option<String>> {
    match m.get(k)? {
        serde_json::Value::Null => Some(None),
        serde_json::Value::String(s) => match check_text(k, s, max) {
            Ok(()) => Some(Some(s.trim().to_string())),
            Err(EdgeError::Invalid(p)) => {
                problems.extend(p);
                None
            }
            Err(_) => None,
        },
        _ => {
            problems.push(Problem::new(k, ProblemCode::Type, "must be a string"));
            None
        }
    }
}

/// Parses an event body (already authenticated); every problem is listed in one 422.
pub fn parse_event(body: &[u8]) -> Result<Event, EdgeError> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| EdgeError::BadJson(e.to_string()))?;
    let serde_json::Value::Object(m) = v else {
        return Err(EdgeError::NotObject);
    };
    let mut problems = Vec::new();
    for k in m.keys() {
        if !["type", "case", "external_ref", "owner", "note"].contains(&k.as_str()) {
            problems.push(Problem::new(
                k.clone(),
                ProblemCode::Unknown,
                "unknown field",
            ));
        }
    }
    let action = match m.get("type").and_then(|t| t.as_str()) {
        Some("ticket.solved") => Some(Action::Solved),
        Some("ticket.reopened") => Some(Action::Reopened),
        Some("ticket.updated") => Some(Action::Updated),
        Some(_) => {
            problems.push(Problem::new(
                "type",
                ProblemCode::Format,
                "must be ticket.solved, ticket.reopened or ticket.updated",
            ));
            None
        }
        None => {
            problems.push(Problem::new("type", ProblemCode::Missing, "is required"));
            None
        }
    };
    let case = text(&m, "case", 200, &mut problems).flatten();
    let external_ref = text(&m, "external_ref", MAX_EXTERNAL_REF_CHARS, &mut problems).flatten();
    let owner = text(&m, "owner", MAX_OWNER_CHARS, &mut problems);
    let note = text(&m, "note", MAX_NOTE_CHARS, &mut problems).flatten();
    if case.is_none() && external_ref.is_none() && !m.contains_key("case") {
        problems.push(Problem::new(
            "case",
            ProblemCode::Missing,
            "name the case (case) or its ticket (external_ref)",
        ));
    }
    match (action, problems.is_empty()) {
        (Some(action), true) => Ok(Event {
            action,
            case,
            external_ref,
            owner,
            note,
        }),
        _ => Err(EdgeError::Invalid(problems)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_parse_and_every_problem_is_listed() {
        let e = parse_event(br#"{"type":"ticket.solved","external_ref":"ZD-1","note":"Refunded"}"#)
            .unwrap();
        assert_eq!(e.action, Action::Solved);
        assert_eq!(e.external_ref.as_deref(), Some("ZD-1"));
        assert_eq!(e.note.as_deref(), Some("Refunded"));
        let e = parse_event(br#"{"type":"ticket.updated","case":"r1","owner":null}"#).unwrap();
        assert_eq!((e.case.as_deref(), e.owner), (Some("r1"), Some(None)));
        let Err(EdgeError::Invalid(p)) =
            parse_event(br#"{"type":"ticket.closed","colour":1,"owner":3}"#)
        else {
            panic!("not a 422")
        };
        let fields: Vec<&str> = p.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["colour", "type", "owner", "case"]);
        assert!(matches!(parse_event(b"[1]"), Err(EdgeError::NotObject)));
        assert!(matches!(parse_event(b"{"), Err(EdgeError::BadJson(_))));
    }

    #[test]
    fn a_repeated_or_late_event_changes_nothing() {
        use Status::*;
        assert_eq!(Action::Solved.status_for(Open), Some(Resolved));
        assert_eq!(Action::Solved.status_for(Reopened), Some(Resolved));
        assert_eq!(Action::Solved.status_for(Resolved), None);
        assert_eq!(Action::Solved.status_for(Withdrawn), None);
        assert_eq!(Action::Reopened.status_for(Resolved), Some(Reopened));
        assert_eq!(Action::Reopened.status_for(Open), None);
        assert_eq!(Action::Updated.status_for(Open), None);
    }
}
