//! API tokens: named, each with a role and the sites it grants.
//!
//! ```toml
//! [[tokens]]
//! name = "cx-team"              # for logs and audits
//! role = "read"                 # read: report API | agent: read + work cases
//!                               # | admin: everything (suppressions, erasure) | metrics
//! sites = ["shop"]              # or ["*"] for every site
//! secret = "env:NPS_TOKEN_CX"   # tokens come from the environment / worker secrets, never the file
//! ```
//!
//! - `Authorization` missing or not `Bearer <token>` → **401** (with `WWW-Authenticate: Bearer`);
//! - a token that is not configured, lacks the role, or does not grant the site → **403**.
//!
//! Tokens are compared in constant time: both sides are hashed with SHA-256 first and the digests
//! compared with a data-independent fold, so neither the content nor the length of a configured
//! token leaks through timing; every configured token is compared on every request.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use nps_protocol::json::{push_str, ObjectWriter};

use crate::config::{check_id, ConfigError};
use crate::error::PROBLEM_CONTENT_TYPE;

/// Shortest token accepted (128 bits of base64/hex entropy is ~22+ chars).
pub const MIN_TOKEN_CHARS: usize = 16;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The report API and page of its sites.
    Read,
    /// What `read` does, and working cases: status, owner, notes.
    Agent,
    /// Everything on its sites: read, cases, suppressions, erasure; and `/metrics`.
    Admin,
    /// `/metrics` only (for a scraper).
    Metrics,
}

impl Role {
    /// True when a token of this role may act as `needed`.
    pub fn grants(self, needed: Role) -> bool {
        self == needed || self == Role::Admin || (self == Role::Agent && needed == Role::Read)
    }
}

/// One configured token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Token {
    /// Its name (logs, audits; 1-64 of `A-Z a-z 0-9 _ . : -`).
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// The sites it grants, or `["*"]` for every site.
    pub sites: Vec<String>,
    /// `env:NAME` until resolved, then the token itself.
    pub secret: String,
}

impl Token {
    /// True when it grants `site`.
    pub fn grants_site(&self, site: &str) -> bool {
        self.sites.iter().any(|s| s == "*" || s == site)
    }
}

/// The `[[tokens]]` of the config.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Tokens(pub Vec<Token>);

impl Tokens {
    /// Pure checks: names unique ids, sites configured, secrets `env:NAME`.
    pub fn validate(&self, site_exists: impl Fn(&str) -> bool) -> Result<(), ConfigError> {
        for (i, t) in self.0.iter().enumerate() {
            let k = format!("tokens[{i}]");
            check_id(format!("{k}.name"), &t.name)?;
            if self.0[..i].iter().any(|o| o.name == t.name) {
                return Err(ConfigError {
                    key: format!("{k}.name"),
                    reason: format!("duplicate token name {:?}", t.name),
                });
            }
            if t.sites.is_empty() {
                return Err(ConfigError {
                    key: format!("{k}.sites"),
                    reason: "list the sites it grants, or [\"*\"] for every site".into(),
                });
            }
            for (j, s) in t.sites.iter().enumerate() {
                if s != "*" && !site_exists(s) {
                    return Err(ConfigError {
                        key: format!("{k}.sites[{j}]"),
                        reason: format!("{s:?} is not a configured site"),
                    });
                }
            }
            if !t.secret.starts_with("env:") || t.secret.len() <= 4 {
                return Err(ConfigError {
                    key: format!("{k}.secret"),
                    reason: "must be env:NAME: a token never belongs in the file".into(),
                });
            }
        }
        Ok(())
    }

    /// Two tokens with one value would be one token with two names: refused.
    pub fn check_unique(&self) -> Result<(), ConfigError> {
        for (i, t) in self.0.iter().enumerate() {
            if self.0[..i].iter().any(|o| o.secret == t.secret) {
                return Err(ConfigError {
                    key: format!("tokens[{i}].secret"),
                    reason: "holds the same token as another entry".into(),
                });
            }
        }
        Ok(())
    }

    /// Replaces the `env:NAME` secrets with their values.
    pub fn resolve_secrets(
        &mut self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<(), ConfigError> {
        for (i, t) in self.0.iter_mut().enumerate() {
            let key = format!("tokens[{i}].secret");
            if let Some((_, value)) = crate::config::resolve_env(&key, Some(&t.secret), &lookup)? {
                check_literal(&key, &value)?;
                t.secret = value;
            }
        }
        Ok(())
    }

    /// The token of an `Authorization` header if it has `role` (and grants `site`, when one is
    /// named): 401 without a well-formed bearer token, 403 otherwise.
    pub fn check(
        &self,
        authorization: Option<&str>,
        role: Role,
        site: Option<&str>,
    ) -> Result<&Token, AuthError> {
        let given = bearer_token(authorization)?;
        let mut found = None;
        for t in &self.0 {
            if constant_time_eq(given.as_bytes(), t.secret.as_bytes()) && found.is_none() {
                found = Some(t);
            }
        }
        match found {
            Some(t) if t.role.grants(role) && site.is_none_or(|s| t.grants_site(s)) => Ok(t),
            _ => Err(AuthError::Forbidden),
        }
    }
}

fn check_literal(key: &str, v: &str) -> Result<(), ConfigError> {
    if v.chars().count() < MIN_TOKEN_CHARS || !v.chars().all(|c| c.is_ascii_graphic()) {
        return Err(ConfigError {
            key: key.into(),
            reason: format!(
                "must be at least {MIN_TOKEN_CHARS} printable ASCII characters, no spaces"
            ),
        });
    }
    Ok(())
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization` header. 401.
    #[error("missing Authorization: Bearer <token>")]
    Missing,
    /// Not `Bearer <token>`. 401.
    #[error("Authorization must be `Bearer <token>`")]
    Malformed,
    /// A token, but not the right one (or none configured for this scope). 403.
    #[error("this token does not grant access")]
    Forbidden,
    /// A signed event (Standard Webhooks) whose `webhook-signature` does not verify, or whose
    /// `webhook-timestamp` is more than 5 minutes away. 401.
    #[error("webhook-signature does not verify with this site's secret (or webhook-timestamp is more than 5 minutes away)")]
    BadSignature,
}

impl AuthError {
    /// 401 or 403.
    pub fn status(&self) -> u16 {
        match self {
            AuthError::Missing | AuthError::Malformed | AuthError::BadSignature => 401,
            AuthError::Forbidden => 403,
        }
    }

    /// Metrics label / problem `type` slug.
    pub fn reason(&self) -> &'static str {
        match self {
            AuthError::Missing | AuthError::Malformed | AuthError::BadSignature => "unauthorized",
            AuthError::Forbidden => "forbidden",
        }
    }

    /// Headers to send with the error (`WWW-Authenticate` on 401, RFC 6750).
    pub fn headers(&self) -> Vec<(&'static str, &'static str)> {
        let mut h = vec![("content-type", PROBLEM_CONTENT_TYPE)];
        match self {
            AuthError::Missing => h.push(("www-authenticate", "Bearer")),
            AuthError::Malformed => {
                h.push(("www-authenticate", "Bearer error=\"invalid_request\""))
            }
            AuthError::Forbidden | AuthError::BadSignature => {}
        }
        h
    }

    /// RFC 9457 body, same shape as [`crate::EdgeError::to_problem_json`].
    pub fn to_problem_json(&self) -> String {
        let (title, field) = match self {
            AuthError::Missing | AuthError::Malformed => ("Unauthorized", "authorization"),
            AuthError::BadSignature => ("Unauthorized", "webhook-signature"),
            AuthError::Forbidden => ("Forbidden", "authorization"),
        };
        problem_json(
            self.reason(),
            title,
            self.status(),
            &self.to_string(),
            &[(field, &self.to_string())],
        )
    }
}

/// Builds an RFC 9457 body: `type`, `title`, `status`, `detail`, `errors: [{field, reason}]`.
pub fn problem_json(
    reason: &str,
    title: &str,
    status: u16,
    detail: &str,
    errors: &[(&str, &str)],
) -> String {
    let mut out = String::with_capacity(256);
    let mut w = ObjectWriter::new(&mut out);
    w.str(
        "type",
        &format!("https://nps.dev/problems/{}", reason.replace('_', "-")),
    )
    .str("title", title)
    .num("status", status.into())
    .str("detail", detail);
    let mut errs = String::from("[");
    for (i, (field, why)) in errors.iter().enumerate() {
        if i > 0 {
            errs.push(',');
        }
        errs.push_str("{\"field\":");
        push_str(&mut errs, field);
        errs.push_str(",\"reason\":");
        push_str(&mut errs, why);
        errs.push('}');
    }
    errs.push(']');
    w.raw("errors", &errs);
    w.end();
    out
}

/// Extracts the token of `Authorization: Bearer <token>` (scheme case-insensitive, RFC 6750).
pub fn bearer_token(authorization: Option<&str>) -> Result<&str, AuthError> {
    let h = authorization.ok_or(AuthError::Missing)?.trim();
    let (scheme, token) = h.split_once(' ').ok_or(AuthError::Malformed)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.contains(' ') {
        return Err(AuthError::Malformed);
    }
    Ok(token)
}

/// Equality whose running time does not depend on where the inputs differ, nor on their lengths
/// (both are hashed to 32 bytes first).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let (ha, hb) = (Sha256::digest(a), Sha256::digest(b));
    let diff = ha
        .iter()
        .zip(hb.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // `black_box` keeps the optimiser from short-circuiting the fold.
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADMIN: &str = "adm_0123456789abcdef";
    const READ: &str = "read_0123456789abcdef";
    const OTHER: &str = "other_0123456789abcdef";

    fn tokens() -> Tokens {
        let t = |name: &str, role, sites: &[&str], secret: &str| Token {
            name: name.into(),
            role,
            sites: sites.iter().map(|s| s.to_string()).collect(),
            secret: secret.into(),
        };
        Tokens(vec![
            t("ops", Role::Admin, &["*"], ADMIN),
            t("cx", Role::Read, &["shop"], READ),
            t("other", Role::Admin, &["other"], OTHER),
        ])
    }

    #[test]
    fn missing_and_malformed_are_401() {
        let t = tokens();
        assert_eq!(t.check(None, Role::Admin, None), Err(AuthError::Missing));
        for bad in ["", "Basic abc", "Bearer", "Bearer ", "Bearer a b", ADMIN] {
            assert_eq!(
                t.check(Some(bad), Role::Admin, None).unwrap_err().status(),
                401,
                "{bad:?}"
            );
        }
        assert!(AuthError::Missing
            .headers()
            .contains(&("www-authenticate", "Bearer")));
    }

    #[test]
    fn roles_and_sites_hold() {
        let t = tokens();
        let h = |s: &str| format!("Bearer {s}");
        let ok = |tok: &str, role, site| t.check(Some(&h(tok)), role, site).map(|x| x.name.clone());
        assert_eq!(ok(ADMIN, Role::Admin, Some("shop")), Ok("ops".into()));
        assert_eq!(
            ok(ADMIN, Role::Read, Some("anything")),
            Ok("ops".into()),
            "admin reads, every site"
        );
        assert_eq!(ok(ADMIN, Role::Metrics, None), Ok("ops".into()));
        assert_eq!(ok(READ, Role::Read, Some("shop")), Ok("cx".into()));
        assert_eq!(
            ok(READ, Role::Read, Some("other")),
            Err(AuthError::Forbidden),
            "another site"
        );
        assert_eq!(
            ok(READ, Role::Admin, Some("shop")),
            Err(AuthError::Forbidden),
            "read cannot admin"
        );
        assert_eq!(ok(READ, Role::Metrics, None), Err(AuthError::Forbidden));
        assert_eq!(
            ok(OTHER, Role::Admin, Some("shop")),
            Err(AuthError::Forbidden)
        );
        assert_eq!(
            ok(&ADMIN.to_uppercase(), Role::Read, None),
            Err(AuthError::Forbidden)
        );
        assert_eq!(
            ok(&READ[..READ.len() - 1], Role::Read, None),
            Err(AuthError::Forbidden)
        );
        assert_eq!(
            t.check(Some(&format!("bearer  {READ} ")), Role::Read, Some("shop"))
                .map(|x| x.name.as_str()),
            Ok("cx")
        );
        assert_eq!(
            Tokens::default().check(Some(&h(READ)), Role::Read, None),
            Err(AuthError::Forbidden),
            "nothing configured"
        );
    }

    #[test]
    fn problem_bodies() {
        for (e, status) in [(AuthError::Missing, 401), (AuthError::Forbidden, 403)] {
            let v: serde_json::Value = serde_json::from_str(&e.to_problem_json()).unwrap();
            assert_eq!(v["status"], status);
            assert_eq!(v["errors"][0]["field"], "authorization");
            assert!(v["type"]
                .as_str()
                .unwrap()
                .starts_with("https://nps.dev/problems/"));
        }
    }

    #[test]
    fn config_and_secrets() {
        #[derive(Deserialize)]
        struct Doc {
            tokens: Tokens,
        }
        let parse = |s: &str| toml::from_str::<Doc>(s).map(|d| d.tokens);
        let mut t = parse(
            "[[tokens]]\nname = \"ops\"\nrole = \"admin\"\nsites = [\"*\"]\nsecret = \"env:ADM\"",
        )
        .unwrap();
        let exists = |s: &str| s == "shop";
        t.validate(exists).unwrap();
        let mut bad = t.clone();
        bad.0[0].secret = "a-literal-token-0123456789".into();
        assert_eq!(bad.validate(exists).unwrap_err().key, "tokens[0].secret");
        let mut bad = t.clone();
        bad.0[0].sites = vec!["elsewhere".into()];
        assert_eq!(bad.validate(exists).unwrap_err().key, "tokens[0].sites[0]");
        let mut bad = t.clone();
        bad.0[0].sites.clear();
        assert_eq!(bad.validate(exists).unwrap_err().key, "tokens[0].sites");
        assert_eq!(
            t.clone().resolve_secrets(|_| None).unwrap_err().key,
            "tokens[0].secret"
        );
        assert_eq!(
            t.clone()
                .resolve_secrets(|_| Some("x".into()))
                .unwrap_err()
                .key,
            "tokens[0].secret"
        );
        t.resolve_secrets(|v| (v == "ADM").then(|| ADMIN.to_string()))
            .unwrap();
        assert_eq!(t.0[0].secret, ADMIN);
        assert!(
            parse("[[tokens]]\nname = \"x\"\nrole = \"god\"\nsites = []\nsecret = \"env:X\"")
                .is_err()
        );
        assert!(
            parse("[tokens]\nadmin = \"env:ADM\"").is_err(),
            "the first release's table"
        );
    }

    #[test]
    fn constant_time_eq_is_equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(constant_time_eq(b"", b""));
    }
}
