//! Typed edge config (sites, origins, windows, rate limits, sinks with routing), parsed from JSON
//! and validated once, with errors that name the bad key.

use nps_protocol::Segment;
use serde::Deserialize;

/// The whole edge config.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Sites allowed to post, each with its own origins and windows.
    pub sites: Vec<Site>,
    /// Where accepted responses and events go.
    #[serde(default)]
    pub sinks: Vec<Sink>,
    /// Deduplication (Durable Object) settings.
    #[serde(default)]
    pub dedup: Dedup,
    /// Webhook delivery (queue consumer) settings.
    #[serde(default)]
    pub delivery: Delivery,
    /// Bearer tokens of the suppression (admin) and report (read) APIs: each value NAMES a
    /// secret (`wrangler secret put NPS_ADMIN_TOKEN`), resolved at load (`env:NAME` also works).
    #[serde(default)]
    pub tokens: nps_edge_core::auth::Tokens,
}

/// Sites and their rate limits: the core's types (same keys and checks as the native server;
/// `id_window_hours` is accepted as the worker's name of `dedup_window_hours`).
pub use nps_edge_core::config::{RateLimit, Site};

/// Deduplication settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dedup {
    /// Durable Object namespace binding.
    #[serde(default = "default_dedup_binding")]
    pub binding: String,
    /// One Durable Object per `site` (default) or per `site_survey` (more throughput).
    #[serde(default)]
    pub shard: Shard,
}

fn default_dedup_binding() -> String {
    "DEDUP".into()
}

impl Default for Dedup {
    fn default() -> Self {
        Dedup {
            binding: default_dedup_binding(),
            shard: Shard::Site,
        }
    }
}

/// Sharding of the dedup Durable Objects.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Shard {
    /// One object per site.
    #[default]
    Site,
    /// One object per site + survey.
    SiteSurvey,
}

/// Webhook delivery from the queue consumer.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    /// First retry delay, seconds; doubles each attempt (plus jitter).
    #[serde(default = "default_backoff_base")]
    pub backoff_base_seconds: u32,
    /// Longest retry delay, seconds.
    #[serde(default = "default_backoff_max")]
    pub backoff_max_seconds: u32,
    /// Name of the dead-letter queue (consumed by this worker into D1 `dead_letters`).
    #[serde(default = "default_dlq")]
    pub dead_letter_queue: String,
    /// Per-attempt HTTP timeout, milliseconds.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u32,
    /// Queue producer binding alert jobs go to (consumed by this worker, like webhooks).
    #[serde(default = "default_queue_binding")]
    pub queue: String,
}

fn default_backoff_base() -> u32 {
    2
}
fn default_backoff_max() -> u32 {
    600
}
fn default_dlq() -> String {
    "nps-deliveries-dlq".into()
}
fn default_timeout_ms() -> u32 {
    10_000
}

impl Default for Delivery {
    fn default() -> Self {
        Delivery {
            backoff_base_seconds: default_backoff_base(),
            backoff_max_seconds: default_backoff_max(),
            dead_letter_queue: default_dlq(),
            timeout_ms: default_timeout_ms(),
            queue: default_queue_binding(),
        }
    }
}

/// A sink: where accepted data goes, with optional routing.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Sink {
    /// Responses and events in D1 (tables from `migrations/`).
    D1 {
        /// D1 binding name.
        #[serde(default = "default_d1_binding")]
        binding: String,
    },
    /// Standard Webhooks POSTs, delivered from a Queue with retries and a dead-letter queue.
    Webhook {
        /// Sink name (stable: it travels in queue messages).
        #[serde(default = "default_webhook_name")]
        name: String,
        /// Receiver URL.
        url: String,
        /// Name of the secret binding (`wrangler secret put NAME`) holding `whsec_…`.
        secret: String,
        /// Queue producer binding the accepted responses are sent to.
        #[serde(default = "default_queue_binding")]
        queue: String,
        /// Routing.
        #[serde(default)]
        route: Route,
    },
    /// Chat alert (Slack-compatible or plain JSON) once per response id: the native server's
    /// keys (`nps_edge_core::alert::AlertSinkConfig`), jobs through the `delivery.queue` Queue.
    Alert(nps_edge_core::alert::AlertSinkConfig),
}

fn default_d1_binding() -> String {
    "DB".into()
}
fn default_webhook_name() -> String {
    "webhook".into()
}
fn default_queue_binding() -> String {
    "DELIVERIES".into()
}

/// Routing: empty lists mean "everything".
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// Only these segments (`detractor`, `passive`, `promoter`).
    #[serde(default)]
    pub segments: Vec<String>,
    /// Only these survey ids.
    #[serde(default)]
    pub surveys: Vec<String>,
}

impl Route {
    /// True when a response of `survey` in `segment` goes to this sink.
    pub fn matches(&self, survey: &str, segment: Segment) -> bool {
        (self.segments.is_empty() || self.segments.iter().any(|s| s == segment.as_str()))
            && (self.surveys.is_empty() || self.surveys.iter().any(|s| s == survey))
    }
}

/// A config error naming the bad key.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// Dotted path of the bad key (`sites[0].origins[1]`).
    pub key: String,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid config at `{}`: {}", self.key, self.reason)
    }
}

fn err(key: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        key: key.into(),
        reason: reason.into(),
    }
}

impl Config {
    /// Parses JSON text.
    pub fn from_json(text: &str) -> Result<Config, ConfigError> {
        serde_json::from_str(text).map_err(|e| err("(document)", e.to_string()))
    }

    /// Parses TOML text.
    #[cfg(feature = "toml")]
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        toml::from_str(text).map_err(|e| err("(document)", e.to_string().replace('\n', " ")))
    }

    /// Parses TOML text (this build has no TOML support).
    #[cfg(not(feature = "toml"))]
    pub fn from_toml(_text: &str) -> Result<Config, ConfigError> {
        Err(err(
            "(document)",
            "this build reads JSON only (built without the `toml` feature)",
        ))
    }

    /// JSON when the text starts with `{`, TOML otherwise.
    pub fn from_text(text: &str) -> Result<Config, ConfigError> {
        if text.trim_start().starts_with('{') {
            Config::from_json(text)
        } else {
            Config::from_toml(text)
        }
    }

    /// Pure checks, run once at load. `has_secret` tells whether a secret binding exists and
    /// holds a usable value.
    pub fn validate(&self) -> Result<(), ConfigError> {
        nps_edge_core::config::validate_sites(&self.sites).map_err(|e| err(e.key, e.reason))?;
        let mut names: Vec<&str> = Vec::new();
        for (i, sink) in self.sinks.iter().enumerate() {
            if let Sink::Alert(a) = sink {
                let k = format!("sinks[{i}]");
                a.validate(&k, |s| self.site(s).is_some())
                    .map_err(|e| err(e.key, e.reason))?;
                if names.contains(&a.name.as_str()) {
                    return Err(err(format!("{k}.name"), "duplicate sink name"));
                }
                names.push(&a.name);
                if !self.sinks.iter().any(|s| matches!(s, Sink::D1 { .. })) {
                    return Err(err(
                        format!("{k}.type"),
                        "an alert sink needs a d1 sink (alerts are built from the latest stored rev)",
                    ));
                }
            }
            if let Sink::Webhook {
                name,
                url,
                secret,
                route,
                ..
            } = sink
            {
                if names.contains(&name.as_str()) {
                    return Err(err(
                        format!("sinks[{i}].name"),
                        "duplicate webhook sink name",
                    ));
                }
                names.push(name);
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Err(err(format!("sinks[{i}].url"), "must be an http(s) URL"));
                }
                if secret.is_empty() {
                    return Err(err(
                        format!("sinks[{i}].secret"),
                        "must name a secret binding",
                    ));
                }
                for (j, seg) in route.segments.iter().enumerate() {
                    if Segment::parse(seg).is_none() {
                        return Err(err(
                            format!("sinks[{i}].route.segments[{j}]"),
                            "must be detractor, passive or promoter",
                        ));
                    }
                }
            }
        }
        if self.delivery.backoff_base_seconds == 0
            || self.delivery.backoff_max_seconds < self.delivery.backoff_base_seconds
        {
            return Err(err(
                "delivery.backoff_base_seconds",
                "must be at least 1 and at most backoff_max_seconds",
            ));
        }
        Ok(())
    }

    /// The site with this id.
    pub fn site(&self, id: &str) -> Option<&Site> {
        self.sites.iter().find(|s| s.id == id)
    }

    /// True when any site allows `origin` (answers preflights, which carry no site).
    pub fn any_site_allows(&self, origin: &str) -> bool {
        self.sites.iter().any(|s| s.allows_origin(origin))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_validation() {
        let c =
            Config::from_json(r#"{"sites":[{"id":"demo","origins":["http://127.0.0.1:8080"]}]}"#)
                .unwrap();
        assert_eq!(c.sites[0].dedup_window_hours, 24);
        assert_eq!(c.sites[0].respondent_window_days, 90);
        assert!(c.validate().is_ok());
        let c = Config::from_json(r#"{"sites":[{"id":"demo","origins":["http://x/"]}]}"#).unwrap();
        assert_eq!(c.validate().unwrap_err().key, "sites[0].origins[0]");
        assert!(Config::from_json(r#"{"sites":[],"nope":1}"#).is_err());
        #[cfg(feature = "toml")]
        let t = Config::from_text("[[sites]]\nid = \"demo\"\norigins = [\"https://a.example\"]\n[[sinks]]\ntype = \"d1\"\n").unwrap();
        #[cfg(feature = "toml")]
        {
            assert!(t.validate().is_ok());
            assert!(matches!(t.sinks[0], Sink::D1 { .. }));
        }
    }
}
