//! Test harness of the snippet (scripts/test-identity-snippets.sh): reads one user id per line
//! (a JSON string) and prints, per id, `{"signature", "script"}` as one line of JSON.
use std::io::BufRead;

use nps_identity_snippet::{identify_script, identity_signature};

fn main() {
    let secret = std::env::var("NPS_IDENTITY_SECRET").expect("NPS_IDENTITY_SECRET is set");
    for line in std::io::stdin().lock().lines() {
        let id: String = serde_json::from_str(&line.expect("stdin")).expect("a JSON string");
        let script = identify_script(&id).expect("NPS_IDENTITY_SECRET is set");
        let signature = identity_signature(&secret, &id);
        let out = serde_json::json!({ "signature": signature, "script": script });
        println!("{out}");
    }
}
