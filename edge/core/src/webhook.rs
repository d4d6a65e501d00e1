//! Standard Webhooks v1 signing: `webhook-id`, `webhook-timestamp`, `webhook-signature`
//! (`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, key = base64-decoded `whsec_` secret).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// A decoded `whsec_<base64>` secret.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(…)")
    }
}

impl WebhookSecret {
    /// Parses `whsec_<base64>` (at least 16 key bytes).
    pub fn parse(s: &str) -> Result<WebhookSecret, String> {
        let b64 = s.strip_prefix("whsec_").ok_or("must start with whsec_")?;
        let key = STANDARD
            .decode(b64)
            .map_err(|_| "the part after whsec_ must be base64")?;
        if key.len() < 16 {
            return Err("must hold at least 16 bytes of key".into());
        }
        Ok(WebhookSecret(key))
    }

    /// Wraps raw key bytes.
    pub fn from_bytes(key: &[u8]) -> WebhookSecret {
        WebhookSecret(key.to_vec())
    }

    /// The `whsec_…` form.
    pub fn to_whsec(&self) -> String {
        format!("whsec_{}", STANDARD.encode(&self.0))
    }

    fn mac(&self, msg_id: &str, timestamp: u64, body: &[u8]) -> Option<HmacSha256> {
        let mut mac = HmacSha256::new_from_slice(&self.0).ok()?;
        mac.update(msg_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        Some(mac)
    }

    /// `v1,<base64 signature>`.
    pub fn sign(&self, msg_id: &str, timestamp: u64, body: &[u8]) -> String {
        match self.mac(msg_id, timestamp, body) {
            Some(m) => format!("v1,{}", STANDARD.encode(m.finalize().into_bytes())),
            None => String::new(),
        }
    }

    /// Verifies a `webhook-signature` header (space-separated list; any `v1,` entry may match),
    /// in constant time per entry, and that `timestamp` is within `tolerance_secs` of `now_secs`.
    pub fn verify(
        &self,
        msg_id: &str,
        timestamp: u64,
        body: &[u8],
        header: &str,
        now_secs: u64,
        tolerance_secs: u64,
    ) -> bool {
        if now_secs.abs_diff(timestamp) > tolerance_secs {
            return false;
        }
        header
            .split(' ')
            .filter_map(|e| e.strip_prefix("v1,"))
            .any(|sig| {
                let Ok(raw) = STANDARD.decode(sig) else {
                    return false;
                };
                self.mac(msg_id, timestamp, body)
                    .is_some_and(|m| m.verify_slice(&raw).is_ok())
            })
    }
}

/// `webhook-id` of a response: `{id}.{rev}` — stable across retries, so receivers dedupe on it,
/// and distinct per rev, so an update is a new message.
pub fn message_id(response_id: &str, rev: u32) -> String {
    format!("{response_id}.{rev}")
}

/// The three headers of one delivery attempt (`timestamp_secs` = now, per attempt).
pub fn headers(
    secret: &WebhookSecret,
    msg_id: &str,
    timestamp_secs: u64,
    body: &[u8],
) -> [(&'static str, String); 3] {
    [
        ("webhook-id", msg_id.to_string()),
        ("webhook-timestamp", timestamp_secs.to_string()),
        (
            "webhook-signature",
            secret.sign(msg_id, timestamp_secs, body),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_webhooks_reference_vector() {
        // The test vector published with the Standard Webhooks specification's libraries.
        let s = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        let sig = s.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(s.verify(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            body,
            &format!("v0,xx {sig}"),
            1614265331,
            300
        ));
        assert!(!s.verify(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            b"{}",
            &sig,
            1614265331,
            300
        ));
        assert!(!s.verify(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            body,
            &sig,
            1614265330 + 301,
            300
        ));
    }

    #[test]
    fn secret_shapes() {
        assert!(WebhookSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
        assert!(WebhookSecret::parse("whsec_!!!").is_err());
        assert!(WebhookSecret::parse("whsec_c2hvcnQ=").is_err());
        let s = WebhookSecret::from_bytes(&[7; 24]);
        assert_eq!(WebhookSecret::parse(&s.to_whsec()).unwrap(), s);
        assert_eq!(message_id("abc", 3), "abc.3");
        assert!(!format!("{s:?}").contains('7'));
    }
}
