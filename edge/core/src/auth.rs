//! Bearer tokens of the management API (suppressions) and the report API (summary, responses).
//!
//! - `Authorization` missing or not `Bearer <token>` → **401** (with `WWW-Authenticate: Bearer`);
//! - a well-formed token that is not the configured one (or no token configured) → **403**.
//!
//! Tokens are compared in constant time: both sides are hashed with SHA-256 first and the digests
//! compared with a data-independent fold, so neither the content nor the length of the expected
//! token leaks through timing.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use nps_protocol::json::{push_str, ObjectWriter};

use crate::config::ConfigError;
use crate::error::PROBLEM_CONTENT_TYPE;

/// Shortest token accepted in the config (128 bits of base64/hex entropy is ~22+ chars).
pub const MIN_TOKEN_CHARS: usize = 16;

/// The `[tokens]` table of the config.
///
/// ```toml
/// [tokens]
/// admin = "env:NPS_ADMIN_TOKEN"  # PUT/DELETE suppressions; also reads the report
/// read = "env:NPS_READ_TOKEN"    # summary, responses, CSV export, report page
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tokens {
    /// Admin token (suppressions API), literal or `env:VAR`. Unset = the API refuses everyone.
    #[serde(default)]
    pub admin: Option<String>,
    /// Read-only token (report API), literal or `env:VAR`. The admin token is accepted too.
    #[serde(default)]
    pub read: Option<String>,
}

impl Tokens {
    /// Pure checks (length of literal tokens, `env:` syntax).
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (key, v) in [("tokens.admin", &self.admin), ("tokens.read", &self.read)] {
            let Some(v) = v else { continue };
            match v.strip_prefix("env:") {
                Some("") => {
                    return Err(ConfigError {
                        key: key.into(),
                        reason: "env: needs a variable name".into(),
                    })
                }
                Some(_) => {}
                None => check_literal(key, v)?,
            }
        }
        Ok(())
    }

    /// Replaces `env:VAR` references with their values.
    pub fn resolve_secrets(
        &mut self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<(), ConfigError> {
        for (key, v) in [
            ("tokens.admin", &mut self.admin),
            ("tokens.read", &mut self.read),
        ] {
            let Some(var) = v
                .as_deref()
                .and_then(|s| s.strip_prefix("env:"))
                .map(str::to_string)
            else {
                continue;
            };
            let value = lookup(&var).ok_or_else(|| ConfigError {
                key: key.into(),
                reason: format!(
                    "{var} is not set (an environment variable natively, a secret on the worker)"
                ),
            })?;
            check_literal(key, &value)?;
            *v = Some(value);
        }
        Ok(())
    }

    /// Checks an `Authorization` header for the admin scope.
    pub fn check_admin(&self, authorization: Option<&str>) -> Result<(), AuthError> {
        check(authorization, &[self.admin.as_deref()])
    }

    /// Checks an `Authorization` header for the read scope (read or admin token).
    pub fn check_read(&self, authorization: Option<&str>) -> Result<(), AuthError> {
        check(
            authorization,
            &[self.read.as_deref(), self.admin.as_deref()],
        )
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
}

impl AuthError {
    /// 401 or 403.
    pub fn status(&self) -> u16 {
        match self {
            AuthError::Missing | AuthError::Malformed => 401,
            AuthError::Forbidden => 403,
        }
    }

    /// Metrics label / problem `type` slug.
    pub fn reason(&self) -> &'static str {
        match self {
            AuthError::Missing | AuthError::Malformed => "unauthorized",
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
            AuthError::Forbidden => {}
        }
        h
    }

    /// RFC 9457 body, same shape as [`crate::EdgeError::to_problem_json`].
    pub fn to_problem_json(&self) -> String {
        let title = match self {
            AuthError::Missing | AuthError::Malformed => "Unauthorized",
            AuthError::Forbidden => "Forbidden",
        };
        problem_json(
            self.reason(),
            title,
            self.status(),
            &self.to_string(),
            &[("authorization", &self.to_string())],
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

/// Checks the header against the accepted tokens (`None` entries are unconfigured scopes).
/// Every configured token is compared, so the time taken does not depend on which one matched.
pub fn check(authorization: Option<&str>, accepted: &[Option<&str>]) -> Result<(), AuthError> {
    let token = bearer_token(authorization)?;
    let mut ok = false;
    for t in accepted.iter().flatten() {
        ok |= constant_time_eq(token.as_bytes(), t.as_bytes());
    }
    if ok {
        Ok(())
    } else {
        Err(AuthError::Forbidden)
    }
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

    fn tokens() -> Tokens {
        Tokens {
            admin: Some(ADMIN.into()),
            read: Some(READ.into()),
        }
    }

    #[test]
    fn missing_and_malformed_are_401() {
        let t = tokens();
        assert_eq!(t.check_admin(None), Err(AuthError::Missing));
        for bad in ["", "Basic abc", "Bearer", "Bearer ", "Bearer a b", ADMIN] {
            assert_eq!(
                t.check_admin(Some(bad)).unwrap_err().status(),
                401,
                "{bad:?}"
            );
        }
        assert!(AuthError::Missing
            .headers()
            .contains(&("www-authenticate", "Bearer")));
    }

    #[test]
    fn wrong_token_is_403_and_scopes_hold() {
        let t = tokens();
        let h = |s: &str| format!("Bearer {s}");
        assert_eq!(t.check_admin(Some(&h(ADMIN))), Ok(()));
        assert_eq!(
            t.check_admin(Some(&h(&ADMIN.to_uppercase()))),
            Err(AuthError::Forbidden)
        );
        assert_eq!(
            t.check_admin(Some(&h(READ))),
            Err(AuthError::Forbidden),
            "read token cannot admin"
        );
        assert_eq!(t.check_read(Some(&h(READ))), Ok(()));
        assert_eq!(t.check_read(Some(&h(ADMIN))), Ok(()), "admin can read");
        assert_eq!(t.check_read(Some(&format!("bearer  {READ} "))), Ok(()));
        assert_eq!(
            t.check_read(Some(&h(&READ[..READ.len() - 1]))),
            Err(AuthError::Forbidden)
        );
        assert_eq!(
            Tokens::default().check_read(Some(&h(READ))),
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
        let mut t: Tokens = toml::from_str("admin = \"env:ADM\"\nread = \"short\"").unwrap();
        assert_eq!(t.validate().unwrap_err().key, "tokens.read");
        t.read = None;
        t.validate().unwrap();
        assert_eq!(
            t.clone().resolve_secrets(|_| None).unwrap_err().key,
            "tokens.admin"
        );
        assert_eq!(
            t.clone()
                .resolve_secrets(|_| Some("x".into()))
                .unwrap_err()
                .key,
            "tokens.admin"
        );
        t.resolve_secrets(|v| (v == "ADM").then(|| ADMIN.to_string()))
            .unwrap();
        assert_eq!(t.admin.as_deref(), Some(ADMIN));
        assert!(toml::from_str::<Tokens>("admn = \"x\"").is_err());
    }

    #[test]
    fn constant_time_eq_is_equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(constant_time_eq(b"", b""));
    }
}
