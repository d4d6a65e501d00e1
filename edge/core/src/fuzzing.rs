//! The invariant the fuzz target (`edge/server/fuzz`) checks, kept here so a normal `cargo test`
//! can replay the corpus through exactly the same function.

use crate::{ingest, payload, Config};

/// Runs arbitrary bytes through parsing, validation, authorization and rendering, panicking on
/// any broken invariant: every refusal is a 4xx with a JSON problem body; every accepted
/// response re-parses identically from its wire form.
pub fn check_body(data: &[u8]) {
    let config = Config::demo();
    for ct in [Some("application/json"), Some("text/plain")] {
        match ingest::check_response(&config, ct, Some("http://localhost:3000"), data) {
            Ok(r) => {
                let wire = nps_protocol::json::response_to_json(&r);
                match nps_protocol::parse::parse_response(wire.as_bytes()) {
                    Ok(back) => assert_eq!(back, r, "wire form does not round-trip"),
                    Err(e) => panic!("accepted response does not re-parse: {e:?}"),
                }
                let p = payload::response_payload(&r, 0);
                assert!(p.starts_with('{') && p.ends_with('}'));
            }
            Err(e) => {
                assert!((400..500).contains(&e.status()), "{e:?}");
                let body = e.to_problem_json();
                assert!(body.starts_with('{') && body.ends_with('}'));
            }
        }
    }
    match ingest::parse_event(data) {
        Ok(e) => drop(payload::event_payload(&e, 0)),
        Err(e) => assert!((400..500).contains(&e.status()), "{e:?}"),
    }
}
