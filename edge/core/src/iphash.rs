//! Keyed, daily-rotating hashing of client addresses: the raw IP is used for one HMAC and then
//! dropped; nothing stored or logged can be reversed to it, and yesterday's hashes cannot be
//! linked to today's. The runtime supplies a random secret key (kept in memory, or a worker
//! secret) and the day; the salt of the day is derived from both.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail; the fallback keeps the
    // request path free of unwrap anyway.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return [0; 32],
    };
    for p in parts {
        mac.update(p);
        mac.update(b"\x1f");
    }
    mac.finalize().into_bytes().into()
}

/// Salt of the day: `HMAC(secret, "nps-ip-salt" | day)`.
pub fn daily_salt(secret: &[u8], day: u64) -> [u8; 32] {
    hmac(secret, &[b"nps-ip-salt", &day.to_be_bytes()])
}

/// Hash of a client address under a salt: 16 bytes, hex (enough to key rate-limit buckets).
pub fn hash_ip(salt: &[u8; 32], ip: &str) -> String {
    let h = hmac(salt, &[ip.trim().as_bytes()]);
    let mut s = String::with_capacity(32);
    for b in &h[..16] {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// `hash_ip(daily_salt(secret, day_of(now_ms)), ip)` in one call.
pub fn client_hash(secret: &[u8], now_ms: u64, ip: &str) -> String {
    hash_ip(&daily_salt(secret, crate::time::day_of(now_ms)), ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_within_a_day_rotates_across_days() {
        let k = b"secret";
        let a = client_hash(k, 1_000, "203.0.113.9");
        assert_eq!(a, client_hash(k, 86_399_999, "203.0.113.9"));
        assert_ne!(a, client_hash(k, 86_400_000, "203.0.113.9"));
        assert_ne!(a, client_hash(b"other", 1_000, "203.0.113.9"));
        assert_ne!(a, client_hash(k, 1_000, "203.0.113.10"));
        assert_eq!(a.len(), 32);
        assert!(!a.contains("203"));
    }
}
