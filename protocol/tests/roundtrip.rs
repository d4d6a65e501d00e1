//! Property tests: everything valid round-trips through the wire form; invalid input is refused.

use nps_protocol::json::{event_to_json, response_to_json};
use nps_protocol::limits::*;
use nps_protocol::parse::{parse_event, parse_response, ParseError};
use nps_protocol::text::{clean_comment, clean_line};
use nps_protocol::{Event, EventType, Response, Segment, User};
use proptest::prelude::*;

fn id() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_.:-]{1,64}"
}

fn opt<T: std::fmt::Debug + Clone>(
    s: impl Strategy<Value = T>,
) -> impl Strategy<Value = Option<T>> {
    prop::option::of(s)
}

fn user() -> impl Strategy<Value = Option<User>> {
    opt((
        opt(id()),
        opt(id()),
        opt(id()),
        opt("[a-z]{1,10}@[a-z]{1,10}\\.[a-z]{2,4}"),
    )
        .prop_map(|(id, account, order, email)| User {
            id,
            account,
            order,
            email,
            signature: None,
        }))
    .prop_map(|u| u.filter(|u| !u.is_empty()))
}

prop_compose! {
    fn response()(
        id in id(), rev in 1..=MAX_REV, site in id(), survey in id(), score in 0..=MAX_SCORE,
        comment in opt(any::<String>()), locale in opt("[a-z]{2}(-[A-Z]{2})?"), visitor in id(),
        page in opt("https://[a-z]{1,20}\\.example/[ -~]{0,100}".prop_filter("no spaces", |p| !p.contains(' '))),
        contact_ok in opt(any::<bool>()), review_clicked in opt(any::<bool>()), user in user(),
        properties in prop::collection::btree_map("[a-z_]{1,64}", "[^\\p{Cc}]{0,50}".prop_map(|s| clean_line(&s)), 0..=MAX_PROPERTIES),
    ) -> Response {
        let comment = comment.map(|c| clean_comment(&c)).filter(|c| !c.is_empty() && c.chars().count() <= MAX_COMMENT_CHARS);
        Response { id, rev, site, survey, score, comment, locale, visitor, page, contact_ok, review_clicked, user, properties,
                   sent_at: Some("2026-11-23T10:00:00Z".into()) }
    }
}

proptest! {
    #[test]
    fn valid_responses_round_trip(r in response()) {
        let json = response_to_json(&r);
        prop_assert!(json.len() <= MAX_BODY_BYTES * 4);
        // Our writer's output is standard JSON…
        let _: serde_json::Value = serde_json::from_str(&json).unwrap();
        // …and parses back to the same value.
        prop_assert_eq!(parse_response(json.as_bytes()).unwrap(), r);
    }

    #[test]
    fn valid_events_round_trip(id in id(), site in id(), survey in id(), visitor in id(), shown in any::<bool>(), user in user()) {
        let e = Event { id, site, survey, visitor, kind: if shown { EventType::Shown } else { EventType::Dismissed }, user };
        prop_assert_eq!(parse_event(event_to_json(&e).as_bytes()).unwrap(), e);
    }

    #[test]
    fn out_of_range_scores_are_refused(mut r in response(), score in 11u8..=255) {
        r.score = score;
        let json = response_to_json(&r);
        prop_assert!(matches!(parse_response(json.as_bytes()), Err(ParseError::Invalid(p)) if p.iter().any(|p| p.field == "score")));
    }

    #[test]
    fn ids_with_foreign_characters_are_refused(mut r in response(), bad in "[^A-Za-z0-9_.:-]") {
        r.visitor = format!("v{bad}");
        let json = response_to_json(&r);
        prop_assert!(matches!(parse_response(json.as_bytes()), Err(ParseError::Invalid(p)) if p.iter().any(|p| p.field == "visitor")));
    }

    #[test]
    fn overlong_comments_are_refused(mut r in response(), extra in 1usize..100) {
        r.comment = Some("x".repeat(MAX_COMMENT_CHARS + extra));
        let json = response_to_json(&r);
        prop_assert!(matches!(parse_response(json.as_bytes()), Err(ParseError::Invalid(p)) if p.iter().any(|p| p.field == "comment")));
    }

    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_response(&body);
        let _ = parse_event(&body);
    }

    #[test]
    fn segment_is_total_on_the_scale(score in 0..=MAX_SCORE) {
        let s = Segment::of(score).unwrap();
        prop_assert_eq!(s == Segment::Promoter, score >= 9);
        prop_assert_eq!(s == Segment::Detractor, score <= 6);
    }
}
