//! The signatures of docs/identity/vectors.json are the edge's own: each is what
//! [`identity::sign`] computes, and a site with `identity = "required"` keeps a user carrying it and
//! refuses one carrying anything else. scripts/test-identity-snippets.sh runs the server-side
//! snippets of docs/identity.md on the same file, so a snippet passes only when it signs as the
//! edge verifies.

use nps_edge_core::config::Site;
use nps_edge_core::identity::{self, IdentityMode};
use nps_protocol::{limits::is_valid_id, User};
use serde_json::Value;

const VECTORS: &str = include_str!("../../../docs/identity/vectors.json");

fn site(secret: &str) -> Site {
    let mut s: Site =
        serde_json::from_str(r#"{"id":"shop","origins":["https://shop.example"]}"#).unwrap();
    s.identity = IdentityMode::Required;
    s.identity_secret = Some(secret.to_string());
    s
}

fn user(id: &str, signature: &str) -> Option<User> {
    Some(User {
        id: Some(id.to_string()),
        signature: Some(signature.to_string()),
        ..Default::default()
    })
}

#[test]
fn the_documented_vectors_are_the_edges_signatures() {
    let vectors: Value = serde_json::from_str(VECTORS).unwrap();
    let mut checked = 0;
    for set in vectors["sets"].as_array().unwrap() {
        let secret = set["secret"].as_str().unwrap();
        let site = site(secret);
        for case in set["cases"].as_array().unwrap() {
            let id = case["id"].as_str().unwrap();
            let expected = case["signature"].as_str().unwrap();
            assert_eq!(
                identity::sign(secret.as_bytes(), id),
                expected,
                "signature of {id:?} under {secret:?}"
            );
            assert_eq!(
                is_valid_id(id),
                case["valid_id"].as_bool().unwrap(),
                "valid_id of {id:?}"
            );
            let kept = identity::apply(&site, user(id, expected)).unwrap().unwrap();
            assert_eq!(kept.id.as_deref(), Some(id));
            let mut other = expected.to_string();
            other.replace_range(..1, if other.starts_with('0') { "1" } else { "0" });
            assert!(identity::apply(&site, user(id, &other)).is_err(), "{id:?}");
            checked += 1;
        }
    }
    assert!(checked >= 10, "{checked} vectors");
}
