//! Identity verification (the way Intercom's and AskNicely's work): a site may hold an identity
//! secret; the site's server computes the lowercase hex `HMAC-SHA256(secret, user id)` and the page
//! passes it with `nps('identify', {id, …, signature})`. On the wire it is `user.signature` (and
//! `signature=` on the eligibility check). The secret never reaches the browser, so a forged
//! `user.id` cannot carry a valid signature.
//!
//! Per site ([`IdentityMode`]): `off` takes the user as given; `optional` keeps a correctly signed
//! user and drops an unsigned or wrongly signed one (the answer is kept, anonymous); `required`
//! refuses (403) a request that names a user without a valid signature. The signature is checked
//! in constant time and never stored.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use nps_protocol::User;

use crate::config::Site;
use crate::error::EdgeError;

/// How a site treats `user` fields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityMode {
    /// The user is taken as given (no secret).
    #[default]
    Off,
    /// A signed user is kept; an unsigned or wrongly signed one is dropped (anonymous answer).
    Optional,
    /// A request naming a user without a valid signature is refused (403).
    Required,
}

/// The signature of `user_id` under `secret`: lowercase hex HMAC-SHA256 (what the site's server
/// computes).
pub fn sign(secret: &[u8], user_id: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(user_id.as_bytes());
    let tag = mac.finalize().into_bytes();
    let mut out = String::with_capacity(64);
    for b in tag {
        out.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        out.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
    }
    out
}

/// True when `signature` is the signature of `user_id`; constant time in the signature's content.
pub fn verify(secret: &[u8], user_id: &str, signature: &str) -> bool {
    let Some(tag) = decode_hex(signature) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(user_id.as_bytes());
    mac.verify_slice(&tag).is_ok()
}

fn decode_hex(s: &str) -> Option<[u8; 32]> {
    let b = s.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = nibble(b[2 * i])? << 4 | nibble(b[2 * i + 1])?;
    }
    Some(out)
}

fn refused(field: &'static str, reason: &'static str) -> EdgeError {
    EdgeError::Identity(field, reason)
}

/// Applies the site's rule to the `user` of an answer or an event: the user to keep (its
/// signature removed), or the refusal.
pub fn apply(site: &Site, user: Option<User>) -> Result<Option<User>, EdgeError> {
    let Some(mut u) = user.filter(|u| !u.is_empty()) else {
        return Ok(None);
    };
    let signature = u.signature.take();
    let secret = site.identity_secret.as_deref().unwrap_or("").as_bytes();
    match site.identity {
        IdentityMode::Off => Ok(Some(u)),
        mode => {
            let signed = match (&u.id, &signature) {
                (Some(id), Some(sig)) => verify(secret, id, sig),
                _ => false,
            };
            match (signed, mode) {
                (true, _) => Ok(Some(u)),
                (false, IdentityMode::Optional) => Ok(None),
                (false, _) => Err(match (&u.id, &signature) {
                    (None, _) => refused(
                        "user.id",
                        "is required (and signed) to name a user on this site",
                    ),
                    (Some(_), None) => refused("user.signature", "is required on this site"),
                    (Some(_), Some(_)) => refused("user.signature", "does not match user.id"),
                }),
            }
        }
    }
}

/// The same rule for the eligibility check's `user`, `account` and `signature` parameters: the
/// `(user, account)` to look up, or the refusal. Dropped (optional) means anonymous.
pub fn apply_query(
    site: &Site,
    user: Option<String>,
    account: Option<String>,
    signature: Option<String>,
) -> Result<(Option<String>, Option<String>), EdgeError> {
    let u = User {
        id: user,
        account,
        signature,
        ..Default::default()
    };
    Ok(match apply(site, Some(u))? {
        Some(u) => (u.id, u.account),
        None => (None, None),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(mode: IdentityMode) -> Site {
        let mut s: Site =
            serde_json::from_str(r#"{"id":"demo","origins":["https://shop.example"]}"#).unwrap();
        s.identity = mode;
        s.identity_secret = Some("a-site-secret-0123456789".into());
        s
    }

    fn user(id: Option<&str>, sig: Option<String>) -> Option<User> {
        Some(User {
            id: id.map(str::to_string),
            email: Some("ann@example.com".into()),
            signature: sig,
            ..Default::default()
        })
    }

    #[test]
    fn a_known_vector() {
        // HMAC-SHA256(key = "key", "The quick brown fox jumps over the lazy dog"), RFC 4231 style.
        assert_eq!(
            sign(b"key", "The quick brown fox jumps over the lazy dog"),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
        let sig = sign(b"key", "u-1");
        assert!(verify(b"key", "u-1", &sig));
        assert!(!verify(b"key", "u-2", &sig));
        assert!(!verify(b"other", "u-1", &sig));
        assert!(!verify(b"key", "u-1", &sig.to_uppercase()));
        assert!(!verify(b"key", "u-1", &sig[..63]));
    }

    #[test]
    fn required_refuses_an_unsigned_or_forged_user() {
        let s = site(IdentityMode::Required);
        let good = sign(b"a-site-secret-0123456789", "u-1");
        let kept = apply(&s, user(Some("u-1"), Some(good))).unwrap().unwrap();
        assert_eq!((kept.id.as_deref(), kept.signature), (Some("u-1"), None));
        for (u, field) in [
            (user(Some("u-1"), None), "user.signature"),
            (
                user(Some("u-1"), Some(sign(b"guess", "u-1"))),
                "user.signature",
            ),
            (user(None, None), "user.id"),
        ] {
            match apply(&s, u) {
                Err(EdgeError::Identity(f, _)) => assert_eq!(f, field),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(
            apply(&s, None).unwrap(),
            None,
            "anonymous answers stay welcome"
        );
    }

    #[test]
    fn optional_drops_what_is_not_signed_and_off_keeps_it() {
        let s = site(IdentityMode::Optional);
        assert_eq!(apply(&s, user(Some("u-1"), None)).unwrap(), None);
        let good = sign(b"a-site-secret-0123456789", "u-1");
        assert!(apply(&s, user(Some("u-1"), Some(good))).unwrap().is_some());
        let off = site(IdentityMode::Off);
        assert_eq!(
            apply(&off, user(Some("u-1"), None))
                .unwrap()
                .unwrap()
                .id
                .as_deref(),
            Some("u-1")
        );
        assert_eq!(
            apply_query(&s, Some("u-1".into()), Some("acme".into()), None).unwrap(),
            (None, None)
        );
    }
}
