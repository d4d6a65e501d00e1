//! Signed identity for the NPS survey, on a Rust server.
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Lowercase hex HMAC-SHA256(secret, user_id): the `signature` the edge checks.
pub fn identity_signature(secret: &str, user_id: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(user_id.as_bytes());
    format!("{:x}", mac.finalize().into_bytes())
}

/// The `<script>` that tells the survey who the signed-in user is; render it into the page.
pub fn identify_script(user_id: &str) -> Result<String, std::env::VarError> {
    let secret = std::env::var("NPS_IDENTITY_SECRET")?; // the edge's identity_secret: server only
    let signature = identity_signature(&secret, user_id);
    let user = serde_json::json!({ "id": user_id, "signature": signature });
    // JSON-encoded, and `<` escaped so that no value can end the script element.
    let json = user.to_string().replace('<', "\\u003c");
    Ok(format!("<script>nps('identify', {json});</script>"))
}
