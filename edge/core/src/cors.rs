//! CORS: exact-origin allowlists, preflight, and the headers of a CORS response.
//!
//! A preflight carries no body, hence no `site`: it is answered when ANY site allows the origin;
//! the POST itself is then checked against its own site's list ([`crate::ingest::authorize`]).

use crate::config::Config;
use crate::error::EdgeError;

/// Methods the API accepts cross-origin.
pub const ALLOW_METHODS: &str = "POST, GET, OPTIONS";
/// Request headers a browser may send (`content-type: application/json` triggers a preflight).
pub const ALLOW_HEADERS: &str = "content-type";
/// Response headers the widget may read.
pub const EXPOSE_HEADERS: &str = "retry-after";
/// Preflight cache lifetime, seconds.
pub const MAX_AGE_SECS: u32 = 86_400;

/// One allowlist entry: `scheme://host[:port]`, or `scheme://host:*` for any port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginPattern {
    /// `scheme://host` (lower case).
    prefix: String,
    /// `None` = exactly `prefix`; `Some(None)` = any port; `Some(Some(p))` = that port.
    port: Option<Option<u16>>,
}

impl OriginPattern {
    /// Parses an allowlist entry; the error says what is wrong.
    pub fn parse(s: &str) -> Result<OriginPattern, String> {
        let lower = s.to_ascii_lowercase();
        let rest = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"))
            .ok_or_else(|| format!("{s:?} must start with http:// or https://"))?;
        if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) || s.ends_with('/') {
            return Err(format!("{s:?} must be scheme://host[:port] with no path"));
        }
        let scheme_len = lower.len() - rest.len();
        match rest.rsplit_once(':') {
            Some((host, "*")) if !host.is_empty() => Ok(OriginPattern {
                prefix: format!("{}{host}", &lower[..scheme_len]),
                port: Some(None),
            }),
            Some((host, port)) if !host.is_empty() && !port.contains(']') => {
                let p: u16 = port
                    .parse()
                    .ok()
                    .filter(|_| port.chars().all(|c| c.is_ascii_digit()))
                    .ok_or_else(|| format!("{s:?} has an invalid port"))?;
                Ok(OriginPattern {
                    prefix: format!("{}{host}", &lower[..scheme_len]),
                    port: Some(Some(p)),
                })
            }
            _ => {
                if rest.contains('*') {
                    return Err(format!("{s:?}: only the port may be a wildcard (`:*`)"));
                }
                Ok(OriginPattern {
                    prefix: lower,
                    port: None,
                })
            }
        }
    }

    /// True when a browser `Origin` header value matches this entry (case-insensitive host).
    pub fn matches(&self, origin: &str) -> bool {
        let o = origin.to_ascii_lowercase();
        match self.port {
            None => o == self.prefix,
            Some(want) => {
                let Some(rest) = o.strip_prefix(&self.prefix) else {
                    return false;
                };
                let Some(port) = rest.strip_prefix(':') else {
                    return false;
                };
                match port.parse::<u16>() {
                    Ok(p) => want.is_none_or(|w| w == p) && !port.starts_with('+'),
                    Err(_) => false,
                }
            }
        }
    }
}

/// True when `origin` matches the allowlist entry `pattern` (a string that
/// [`OriginPattern::parse`] accepts), without allocating: exact match ignoring ASCII case, or for
/// `scheme://host:*`, the same prefix followed by `:` and a port number.
pub fn origin_matches(pattern: &str, origin: &str) -> bool {
    match pattern.strip_suffix(":*") {
        Some(prefix) => {
            let n = prefix.len();
            origin.len() > n + 1
                && origin.is_char_boundary(n)
                && origin[..n].eq_ignore_ascii_case(prefix)
                && origin.as_bytes()[n] == b':'
                && origin[n + 1..].len() <= 5
                && origin[n + 1..].bytes().all(|b| b.is_ascii_digit())
                && origin[n + 1..].parse::<u16>().is_ok()
        }
        None => pattern.eq_ignore_ascii_case(origin),
    }
}

/// Headers to add to a response to an allowed cross-origin request (`Vary: Origin` always, since
/// the answer depends on it). Empty when the origin is not allowed by any site.
pub fn response_headers(config: &Config, origin: Option<&str>) -> Vec<(&'static str, String)> {
    let mut h = vec![("vary", "Origin".to_string())];
    if let Some(o) = origin.filter(|o| config.any_site_allows(o)) {
        h.push(("access-control-allow-origin", o.to_string()));
        h.push(("access-control-expose-headers", EXPOSE_HEADERS.to_string()));
    }
    h
}

/// Answers a preflight: `Ok(headers)` for a 204, or 403 when no site allows the origin.
pub fn preflight(
    config: &Config,
    origin: Option<&str>,
) -> Result<Vec<(&'static str, String)>, EdgeError> {
    match origin {
        Some(o) if config.any_site_allows(o) => Ok(vec![
            ("vary", "Origin".to_string()),
            ("access-control-allow-origin", o.to_string()),
            ("access-control-allow-methods", ALLOW_METHODS.to_string()),
            ("access-control-allow-headers", ALLOW_HEADERS.to_string()),
            ("access-control-max-age", MAX_AGE_SECS.to_string()),
        ]),
        other => Err(EdgeError::OriginNotAllowed(
            other.unwrap_or("").chars().take(200).collect(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> OriginPattern {
        OriginPattern::parse(s).unwrap()
    }

    #[test]
    fn exact_origins() {
        let pat = p("https://Shop.example");
        assert!(pat.matches("https://shop.example"));
        assert!(!pat.matches("https://shop.example:443"));
        assert!(!pat.matches("https://shop.example.evil"));
        assert!(!pat.matches("http://shop.example"));
        assert!(!pat.matches("null"));
    }

    #[test]
    fn ports() {
        assert!(p("http://localhost:*").matches("http://localhost:5173"));
        assert!(!p("http://localhost:*").matches("http://localhost"));
        assert!(!p("http://localhost:*").matches("http://localhost:abc"));
        assert!(!p("http://localhost:*").matches("http://localhost.evil:80"));
        assert!(p("http://localhost:8080").matches("http://localhost:8080"));
        assert!(!p("http://localhost:8080").matches("http://localhost:8081"));
    }

    #[test]
    fn fast_matcher_agrees_with_the_parsed_pattern() {
        let pats = [
            "https://Shop.example",
            "http://localhost:*",
            "http://localhost:8080",
            "http://[::1]:*",
        ];
        let origins = [
            "https://shop.example",
            "https://shop.example:443",
            "http://localhost:5173",
            "http://localhost",
            "http://localhost:abc",
            "http://localhost:99999",
            "http://localhost.evil:80",
            "http://localhost:8080",
            "http://localhost:+80",
            "http://[::1]:3000",
            "null",
            "",
            "http://localhost:",
            "http://éxample:1",
        ];
        for p in pats {
            let parsed = p_(p);
            for o in origins {
                assert_eq!(origin_matches(p, o), parsed.matches(o), "{p} vs {o}");
            }
        }
    }

    fn p_(s: &str) -> OriginPattern {
        OriginPattern::parse(s).unwrap()
    }

    #[test]
    fn bad_patterns() {
        for bad in [
            "shop.example",
            "https://shop.example/",
            "https://shop.example/x",
            "https://*.example",
            "https://",
            "https://a:99999",
        ] {
            assert!(OriginPattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn preflight_needs_some_site() {
        let c = Config::demo();
        assert!(preflight(&c, Some("http://localhost:3000")).is_ok());
        assert_eq!(
            preflight(&c, Some("https://evil.example"))
                .unwrap_err()
                .status(),
            403
        );
        assert_eq!(preflight(&c, None).unwrap_err().status(), 403);
        assert_eq!(response_headers(&c, Some("https://evil.example")).len(), 1);
        assert_eq!(response_headers(&c, Some("http://127.0.0.1:1")).len(), 3);
    }
}
