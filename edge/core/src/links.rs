//! Signed survey links: what a survey e-mail points to (`/s/{token}`). The token says who is
//! asked (site, survey, recipient, optional account / order / locale) until when, and is signed
//! with the site's link secret (HMAC-SHA256), so the page needs no login and a recipient cannot
//! answer for someone else by editing the link.
//!
//! Wire form: `base64url(claims JSON) "." base64url(HMAC-SHA256(secret, claims part))`, no
//! padding. The claims are readable by whoever holds the link (the recipient's own e-mail
//! address, order): signed, not encrypted, like a JWT.
//!
//! The answer's id is derived from the token's signature, so every click of the same link
//! updates one answer instead of creating new ones, and two invitations of one person (two
//! nonces) are two answers.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use nps_protocol::limits::is_valid_id;
use nps_protocol::validate::{is_plausible_email, is_plausible_locale};

use crate::config::{Config, ConfigError, Site};

/// Longest token accepted (a link stays well under the 2,000 characters mail clients keep).
pub const MAX_TOKEN_CHARS: usize = 1200;

/// A site's `links` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinksConfig {
    /// The link secret, `env:NAME` (at least 32 characters). Unset: the site has no links, no
    /// hosted page and no invitations.
    #[serde(default)]
    pub secret: Option<String>,
    /// The edge's public address as recipients reach it (`https://nps.shop.example`); links
    /// are built on it.
    #[serde(default)]
    pub base_url: Option<String>,
    /// How long a link works, in days (1–365). Default 30.
    #[serde(default = "default_ttl_days")]
    pub ttl_days: u32,
    /// The name recipients know the site by ("How likely are you to recommend Maison Lumière…").
    /// Default: the site id.
    #[serde(default)]
    pub brand: Option<String>,
    /// One reminder to those who have not answered, this many days after the invitation
    /// (1–30). Default 3.
    #[serde(default = "default_reminder_days")]
    pub reminder_days: u32,
    /// Another delay for some surveys (`{ "post-delivery" = 7 }`), 1–30 days each.
    #[serde(default)]
    pub survey_reminder_days: std::collections::BTreeMap<String, u32>,
    /// The sink that sends the invitations (`"send": true`) and the reminder: an `smtp` sink
    /// (native) or a `webhook` sink (the site's own mail service gets `nps.invitation` events).
    /// Unset: the API gives the e-mails and the site sends them itself.
    #[serde(default)]
    pub deliver: Option<String>,
}

fn default_ttl_days() -> u32 {
    30
}
fn default_reminder_days() -> u32 {
    3
}

impl Default for LinksConfig {
    fn default() -> Self {
        LinksConfig {
            secret: None,
            base_url: None,
            ttl_days: default_ttl_days(),
            brand: None,
            reminder_days: default_reminder_days(),
            survey_reminder_days: Default::default(),
            deliver: None,
        }
    }
}

impl LinksConfig {
    /// Checks the section at `k` (`sites[0].links`).
    pub fn validate(&self, k: &str, resolved: bool) -> Result<(), ConfigError> {
        if !(1..=365).contains(&self.ttl_days) {
            return Err(ConfigError::new(
                format!("{k}.ttl_days"),
                "must be between 1 and 365",
            ));
        }
        if !(1..=30).contains(&self.reminder_days) {
            return Err(ConfigError::new(
                format!("{k}.reminder_days"),
                "must be between 1 and 30",
            ));
        }
        for (survey, days) in &self.survey_reminder_days {
            if !nps_protocol::limits::is_valid_id(survey) || !(1..=30).contains(days) {
                return Err(ConfigError::new(
                    format!("{k}.survey_reminder_days.{survey}"),
                    "must name a survey id and be between 1 and 30",
                ));
            }
        }
        if let Some(s) = &self.secret {
            if !resolved && (!s.starts_with("env:") || s.len() <= 4) {
                return Err(ConfigError::new(
                    format!("{k}.secret"),
                    "must be env:NAME: a secret never belongs in the file",
                ));
            }
            if self.base_url.is_none() {
                return Err(ConfigError::new(
                    format!("{k}.base_url"),
                    "is required with a link secret: links are built on it",
                ));
            }
        }
        if let Some(u) = &self.base_url {
            let ok = (u.starts_with("https://") || u.starts_with("http://"))
                && !u.ends_with('/')
                && !u.contains(['?', '#', ' ', '"', '<', '>']);
            if !ok {
                return Err(ConfigError::new(
                    format!("{k}.base_url"),
                    "must be an http(s) URL without a trailing slash, query or fragment",
                ));
            }
        }
        if let Some(b) = &self.brand {
            if b.trim().is_empty() || b.chars().count() > 80 {
                return Err(ConfigError::new(
                    format!("{k}.brand"),
                    "must be 1-80 characters",
                ));
            }
        }
        Ok(())
    }
}

/// What a link says. Short keys (`s v u m a o l x n`): they travel in every link. Written and
/// read by hand over `serde_json::Value` rather than derived: the worker's bundle pays for each
/// derived deserializer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// Site id (`s`).
    pub site: String,
    /// Survey id (`v`).
    pub survey: String,
    /// The site's user id, when known (`u`).
    pub user: Option<String>,
    /// The recipient's e-mail (`m`).
    pub email: Option<String>,
    /// Account id (`a`).
    pub account: Option<String>,
    /// Order id (`o`).
    pub order: Option<String>,
    /// BCP 47 locale of the page and the e-mail (`l`).
    pub locale: Option<String>,
    /// Expiry, seconds since the Unix epoch (`x`).
    pub expires_s: u64,
    /// Per invitation: two invitations of one person are two answers (`n`).
    pub nonce: String,
}

impl Claims {
    /// The JSON of the claims (the signed part of a token, before base64url).
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(160);
        let mut w = nps_protocol::json::ObjectWriter::new(&mut out);
        w.str("s", &self.site)
            .str("v", &self.survey)
            .opt_str("u", self.user.as_deref())
            .opt_str("m", self.email.as_deref())
            .opt_str("a", self.account.as_deref())
            .opt_str("o", self.order.as_deref())
            .opt_str("l", self.locale.as_deref())
            .num("x", self.expires_s)
            .str("n", &self.nonce);
        w.end();
        out
    }

    /// Reads claims from their JSON; `None` when a field is missing or of the wrong type.
    pub fn from_json(raw: &[u8]) -> Option<Claims> {
        let v: serde_json::Value = serde_json::from_slice(raw).ok()?;
        let o = v.as_object()?;
        let text = |k: &str| o.get(k).and_then(|x| x.as_str()).map(str::to_string);
        let opt = |k: &str| match o.get(k) {
            None | Some(serde_json::Value::Null) => Some(None),
            Some(x) => x.as_str().map(|s| Some(s.to_string())),
        };
        Some(Claims {
            site: text("s")?,
            survey: text("v")?,
            user: opt("u")?,
            email: opt("m")?,
            account: opt("a")?,
            order: opt("o")?,
            locale: opt("l")?,
            expires_s: o.get("x")?.as_u64()?,
            nonce: text("n")?,
        })
    }

    /// The recipient key: the user id when known, else the e-mail.
    pub fn recipient(&self) -> &str {
        self.user
            .as_deref()
            .or(self.email.as_deref())
            .unwrap_or_default()
    }

    /// The locale to speak, `en` when the link names none.
    pub fn lang(&self) -> &str {
        self.locale.as_deref().unwrap_or("en")
    }
}

/// Why a link is refused. The page says it in the recipient's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkError {
    /// Not a token (truncated, edited by hand, wrong encoding): 400.
    Malformed,
    /// Signed by someone else, or for a site without links: 403.
    Forged,
    /// Past its expiry: 410. The claims are known (the language of the page).
    Expired(Box<Claims>),
}

impl LinkError {
    /// HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            LinkError::Malformed => 400,
            LinkError::Forged => 403,
            LinkError::Expired(_) => 410,
        }
    }
}

fn mac(secret: &[u8]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length")
}

/// Signs `claims` with `secret`: the token.
pub fn sign(secret: &[u8], claims: &Claims) -> String {
    let body = URL_SAFE_NO_PAD.encode(claims.to_json());
    let mut m = mac(secret);
    m.update(body.as_bytes());
    let tag = URL_SAFE_NO_PAD.encode(m.finalize().into_bytes());
    format!("{body}.{tag}")
}

/// Checks a token at `now_s`: its claims, when it is intact, signed by its site's secret and not
/// expired. The signature is checked (in constant time) before anything else is trusted.
pub fn verify(config: &Config, token: &str, now_s: u64) -> Result<Claims, LinkError> {
    if token.len() > MAX_TOKEN_CHARS {
        return Err(LinkError::Malformed);
    }
    let (body, tag) = token.split_once('.').ok_or(LinkError::Malformed)?;
    let tag = URL_SAFE_NO_PAD
        .decode(tag)
        .map_err(|_| LinkError::Malformed)?;
    let raw = URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|_| LinkError::Malformed)?;
    let claims = Claims::from_json(&raw).ok_or(LinkError::Malformed)?;
    let secret = config
        .site(&claims.site)
        .and_then(|s| s.links.secret.as_deref())
        .ok_or(LinkError::Forged)?;
    let mut m = mac(secret.as_bytes());
    m.update(body.as_bytes());
    m.verify_slice(&tag).map_err(|_| LinkError::Forged)?;
    if !claims_valid(&claims) {
        // Signed but unusable: only a buggy signer makes these.
        return Err(LinkError::Malformed);
    }
    if now_s >= claims.expires_s {
        return Err(LinkError::Expired(Box::new(claims)));
    }
    Ok(claims)
}

/// The claims' fields are what an answer may carry.
fn claims_valid(c: &Claims) -> bool {
    let id = |v: &Option<String>| v.as_deref().is_none_or(is_valid_id);
    is_valid_id(&c.site)
        && is_valid_id(&c.survey)
        && id(&c.user)
        && id(&c.account)
        && id(&c.order)
        && c.email.as_deref().is_none_or(is_plausible_email)
        && c.locale.as_deref().is_none_or(is_plausible_locale)
        && (c.user.is_some() || c.email.is_some())
        && !c.nonce.is_empty()
        && c.nonce.len() <= 64
}

/// The answer id of a link: the same for every click of it, different for each invitation.
/// `lnk-` and 32 hex digits of a keyed hash of its claims but the expiry (not its signature: a
/// link signed again, later, for the same person and nonce is the same answer).
pub fn response_id(secret: &[u8], claims: &Claims) -> String {
    let mut m = mac(secret);
    m.update(b"nps-link-response\0");
    // Not the expiry: the same batch made again later is the same answer.
    let mut key = claims.clone();
    key.expires_s = 0;
    m.update(key.to_json().as_bytes());
    prefixed_hex("lnk-", &m.finalize().into_bytes()[..16])
}

fn prefixed_hex(prefix: &str, bytes: &[u8]) -> String {
    let mut out = String::with_capacity(prefix.len() + 2 * bytes.len());
    out.push_str(prefix);
    for b in bytes {
        out.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        out.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
    }
    out
}

/// The visitor id of a link's answers: one per person and site (the user id, else the e-mail in
/// lower case), so that two invitations of one person are one respondent for the site's
/// respondent window, as two visits of the widget are. `lnv-` and 32 hex digits.
pub fn visitor_id(secret: &[u8], site: &str, person: &str) -> String {
    let mut m = mac(secret);
    m.update(b"nps-link-visitor\0");
    m.update(site.as_bytes());
    m.update(b"\0");
    m.update(person.to_ascii_lowercase().as_bytes());
    prefixed_hex("lnv-", &m.finalize().into_bytes()[..16])
}

/// A CSP source for an inline script or style: `sha256-` and the base64 SHA-256 of its text.
pub fn csp_hash(text: &str) -> String {
    use base64::engine::general_purpose::STANDARD;
    use sha2::Digest;
    format!(
        "sha256-{}",
        STANDARD.encode(Sha256::digest(text.as_bytes()))
    )
}

/// The brand name recipients know the site by.
pub fn brand(site: &Site) -> &str {
    site.links.brand.as_deref().unwrap_or(&site.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "a-link-secret-of-at-least-32-chars!!";

    fn config() -> Config {
        let mut c = Config::from_toml_str(
            r#"
[[sites]]
id = "shop"
origins = ["https://shop.example"]
[sites.links]
secret = "env:LINKS"
base_url = "https://nps.shop.example"

[[sites]]
id = "other"
origins = ["https://other.example"]
[sites.links]
secret = "env:OTHER"
base_url = "https://nps.other.example"
"#,
        )
        .unwrap();
        c.resolve_secrets(|v| match v {
            "LINKS" => Some(SECRET.into()),
            "OTHER" => Some("another-secret-of-at-least-32-chars".into()),
            _ => None,
        })
        .unwrap();
        c.validate().unwrap();
        c
    }

    fn claims() -> Claims {
        Claims {
            site: "shop".into(),
            survey: "post-purchase".into(),
            user: Some("u-42".into()),
            email: Some("ann@example.com".into()),
            account: None,
            order: Some("A-1001".into()),
            locale: Some("fr".into()),
            expires_s: 2_000_000_000,
            nonce: "n1".into(),
        }
    }

    #[test]
    fn a_signed_link_verifies_until_it_expires() {
        let c = config();
        let t = sign(SECRET.as_bytes(), &claims());
        assert_eq!(verify(&c, &t, 1_900_000_000).unwrap(), claims());
        match verify(&c, &t, 2_000_000_000) {
            Err(LinkError::Expired(cl)) => assert_eq!(cl.lang(), "fr"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn tampered_forged_and_malformed_links_are_refused() {
        let c = config();
        let t = sign(SECRET.as_bytes(), &claims());
        // Another recipient in the same claims part, old signature kept.
        let mut other = claims();
        other.user = Some("u-43".into());
        let forged_body = sign(SECRET.as_bytes(), &other);
        let tampered = format!(
            "{}.{}",
            forged_body.split_once('.').unwrap().0,
            t.split_once('.').unwrap().1
        );
        assert_eq!(verify(&c, &tampered, 0), Err(LinkError::Forged));
        // Signed by another site's secret, claiming this site.
        let wrong = sign(b"another-secret-of-at-least-32-chars", &claims());
        assert_eq!(verify(&c, &wrong, 0), Err(LinkError::Forged));
        // A site that does not exist.
        let mut nowhere = claims();
        nowhere.site = "nowhere".into();
        assert_eq!(
            verify(&c, &sign(SECRET.as_bytes(), &nowhere), 0),
            Err(LinkError::Forged)
        );
        for bad in ["", "abc", "a.b", &t[..t.len() - 3], &format!("{t}x"), "é.é"] {
            assert!(
                matches!(
                    verify(&c, bad, 0),
                    Err(LinkError::Malformed | LinkError::Forged)
                ),
                "{bad:?}"
            );
        }
        assert_eq!(verify(&c, "abc", 0), Err(LinkError::Malformed));
        assert_eq!(
            verify(&c, &"a".repeat(MAX_TOKEN_CHARS + 1), 0),
            Err(LinkError::Malformed)
        );
        // Signed, but a field an answer may not carry.
        let mut bad = claims();
        bad.order = Some("<script>".into());
        assert_eq!(
            verify(&c, &sign(SECRET.as_bytes(), &bad), 0),
            Err(LinkError::Malformed)
        );
    }

    #[test]
    fn one_link_one_answer_id() {
        let a = response_id(SECRET.as_bytes(), &claims());
        assert_eq!(a, response_id(SECRET.as_bytes(), &claims()));
        assert!(a.starts_with("lnk-") && a.len() == 36 && is_valid_id(&a));
        let mut again = claims();
        again.nonce = "n2".into();
        assert_ne!(a, response_id(SECRET.as_bytes(), &again));
        let mut later = claims();
        later.expires_s += 86_400;
        assert_eq!(
            a,
            response_id(SECRET.as_bytes(), &later),
            "the expiry is not the answer"
        );
        assert_ne!(
            a,
            response_id(b"another-secret-of-at-least-32-chars", &claims())
        );
    }

    #[test]
    fn the_section_is_checked_key_by_key() {
        let bad = |toml: &str, key: &str| {
            let doc = format!(
                "[[sites]]\nid = \"shop\"\norigins = [\"https://shop.example\"]\n[sites.links]\n{toml}"
            );
            let e = Config::from_toml_str(&doc)
                .and_then(|c| c.validate())
                .unwrap_err();
            assert_eq!(e.key, key, "{toml}");
        };
        bad(
            "secret = \"plain\"\nbase_url = \"https://x.example\"",
            "sites[0].links.secret",
        );
        bad("secret = \"env:L\"", "sites[0].links.base_url");
        bad(
            "base_url = \"https://x.example/\"",
            "sites[0].links.base_url",
        );
        bad("ttl_days = 0", "sites[0].links.ttl_days");
        bad("reminder_days = 31", "sites[0].links.reminder_days");
        bad(
            "survey_reminder_days = { late = 0 }",
            "sites[0].links.survey_reminder_days.late",
        );
        bad("brand = \"\"", "sites[0].links.brand");
        let e = Config::from_toml_str(
            "[[sites]]\nid = \"shop\"\norigins = [\"https://shop.example\"]\n[sites.links]\ncolour = 1",
        )
        .unwrap_err();
        assert!(e.reason.contains("colour"), "{e}");
    }
}
