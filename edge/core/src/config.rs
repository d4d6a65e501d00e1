//! Typed edge configuration: ONE document for both runtimes — `nps-edge --config FILE` natively,
//! the `NPS_CONFIG` var on the worker (TOML or JSON text, or an object var) — with the same keys,
//! the same validation and one [`ConfigError`] format naming the key. What only one runtime has
//! lives in its own section: `[native]` (the SQLite file) and `[worker]` (binding names); the
//! other runtime checks that section's syntax and ignores it.
//!
//! Two phases: parsing (serde, `deny_unknown_fields`, so a typo is an error, not a silent default)
//! and [`Config::validate`], which is pure and names the bad key (`sites[1].origins[0]: …`).
//! Secrets are referenced as `env:NAME` and resolved by the runtime with
//! [`Config::resolve_secrets`] (the core cannot read the environment): the process environment
//! natively, the worker's secret and var bindings on Cloudflare.

use serde::{Deserialize, Serialize};

use nps_protocol::limits::is_valid_id;
use nps_protocol::Segment;

use crate::cors::OriginPattern;
use crate::routing::Route;
use crate::webhook::WebhookSecret;

/// A configuration error, naming the bad key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{reason}", if key.is_empty() { String::new() } else { format!("{key}: ") })]
pub struct ConfigError {
    /// Dotted path of the bad key, e.g. `sites[1].origins[0]` (empty for a syntax error).
    pub key: String,
    /// What is wrong.
    pub reason: String,
}

impl ConfigError {
    pub(crate) fn new(key: impl Into<String>, reason: impl Into<String>) -> Self {
        ConfigError {
            key: key.into(),
            reason: reason.into(),
        }
    }
}

/// The whole edge configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Sites allowed to post (at least one).
    #[serde(default)]
    pub sites: Vec<Site>,
    /// Where accepted responses go besides the embedded store.
    #[serde(default)]
    pub sinks: Vec<SinkConfig>,
    /// Retry schedule of sink deliveries.
    #[serde(default)]
    pub retry: RetryPolicy,
    /// Your own proxies in front of the edge (CIDRs, e.g. `["10.0.0.0/8"]`). Empty (default):
    /// `X-Forwarded-For` is never read. Set: from a trusted peer, the right-most
    /// `X-Forwarded-For` hop that is not a trusted proxy is the client (see [`crate::client`]).
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// Bearer tokens of the suppression (admin) and report (read) APIs.
    #[serde(default)]
    pub tokens: crate::auth::Tokens,
    /// What only the native server has: its SQLite store.
    #[serde(default)]
    pub native: NativeConfig,
    /// What only the Cloudflare worker has: the names of its bindings.
    #[serde(default)]
    pub worker: WorkerConfig,
    /// Set by [`Config::resolve_secrets`]: the `env:` references now hold their values, so
    /// [`Config::validate`] no longer asks for `env:` where a secret must come from outside.
    #[serde(skip)]
    pub secrets_resolved: bool,
}

/// The `[native]` section: the embedded SQLite store of `nps-edge`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NativeConfig {
    /// Database file (responses, events, dedup records, outbox, suppressions). Default
    /// `nps-edge.sqlite`; `--db FILE` overrides it.
    #[serde(default = "default_db_path")]
    pub db: String,
    /// `full` (default): every commit is fsynced before the 202, so an accepted response
    /// survives a power loss. `normal`: fsync at checkpoints only — survives a crash or kill of
    /// the process (the WAL is in the OS), may lose the last commits on power loss.
    #[serde(default)]
    pub synchronous: Synchronous,
    /// How often overdue cases and owed case webhooks are looked for, in seconds (1–3600).
    /// Default 60.
    #[serde(default = "default_sweep_seconds")]
    pub sweep_seconds: u64,
}

fn default_sweep_seconds() -> u64 {
    60
}

impl Default for NativeConfig {
    fn default() -> Self {
        NativeConfig {
            db: default_db_path(),
            synchronous: Synchronous::Full,
            sweep_seconds: default_sweep_seconds(),
        }
    }
}

/// The `[worker]` section: binding names of the Cloudflare worker (as in `wrangler.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerConfig {
    /// Durable Object namespace of the per-site state (dedup records, the durable record of
    /// each answer until D1 and the queue have it, suppressions, alert states). Default
    /// `SITE_STATE`.
    #[serde(default = "default_state_binding")]
    pub state: String,
    /// One state object per `site` (default) or per `site_survey` (more throughput).
    #[serde(default)]
    pub shard: Shard,
    /// D1 database of responses, events and dead letters (the report API reads it). Unset: answers
    /// are deduplicated and forwarded but not stored, and the report API answers 503.
    #[serde(default)]
    pub d1: Option<String>,
    /// Queue producer of webhook deliveries and alert jobs (consumed by the same worker; the
    /// binding must exist when a webhook or alert sink is configured). Default `DELIVERIES`.
    #[serde(default = "default_queue_binding")]
    pub queue: String,
    /// Name of the dead-letter queue of `queue` (as in `wrangler.toml`), consumed into D1
    /// `dead_letters`. Default `nps-deliveries-dlq`.
    #[serde(default = "default_dead_letter_queue")]
    pub dead_letter_queue: String,
    /// The request header that holds the client's address (rate limiting). Default
    /// `cf-connecting-ip`, which Cloudflare sets; a self-hosted workerd names the header its
    /// proxy sets. A request without it is refused (503) rather than put in a bucket shared by
    /// everyone.
    #[serde(default = "default_client_address_header")]
    pub client_address_header: String,
    /// Static-assets binding that holds the report page and the OpenAPI document (kept out of
    /// the wasm: its size is the cold start). Default `ASSETS`.
    #[serde(default = "default_assets_binding")]
    pub assets: String,
}

fn default_assets_binding() -> String {
    "ASSETS".into()
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            state: default_state_binding(),
            shard: Shard::Site,
            d1: None,
            queue: default_queue_binding(),
            dead_letter_queue: default_dead_letter_queue(),
            client_address_header: default_client_address_header(),
            assets: default_assets_binding(),
        }
    }
}

/// Sharding of the worker's state objects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shard {
    /// One object per site.
    #[default]
    Site,
    /// One object per site + survey.
    SiteSurvey,
}

fn default_db_path() -> String {
    "nps-edge.sqlite".into()
}
fn default_state_binding() -> String {
    "SITE_STATE".into()
}
fn default_client_address_header() -> String {
    "cf-connecting-ip".into()
}
fn default_queue_binding() -> String {
    "DELIVERIES".into()
}
fn default_dead_letter_queue() -> String {
    "nps-deliveries-dlq".into()
}

impl WorkerConfig {
    /// Name of the state object holding the dedup records of a (site, survey).
    pub fn object_for(&self, site: &str, survey: &str) -> String {
        match self.shard {
            Shard::Site => site.to_string(),
            Shard::SiteSurvey => format!("{site}/{survey}"),
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let names = [
            ("worker.state", Some(&self.state)),
            ("worker.d1", self.d1.as_ref()),
            ("worker.queue", Some(&self.queue)),
            ("worker.assets", Some(&self.assets)),
        ];
        for (key, v) in names {
            if let Some(v) = v {
                if !is_binding_name(v) {
                    return Err(ConfigError::new(key, BINDING_CHARS));
                }
            }
        }
        let h = &self.client_address_header;
        if h.is_empty()
            || h.len() > 64
            || !h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(ConfigError::new(
                "worker.client_address_header",
                "must be an HTTP header name",
            ));
        }
        if self.dead_letter_queue.is_empty() || self.dead_letter_queue.len() > 64 {
            return Err(ConfigError::new(
                "worker.dead_letter_queue",
                "must be a queue name of 1-64 characters",
            ));
        }
        Ok(())
    }
}

const BINDING_CHARS: &str = "must be a binding name: a letter or _, then letters, digits or _";

fn is_binding_name(v: &str) -> bool {
    let mut b = v.bytes();
    matches!(b.next(), Some(c) if c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
        && v.len() <= 64
}

/// One site (one customer web site) and its rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// Site id, as sent by the widget in `site`.
    pub id: String,
    /// Allowed `Origin`s, exact (`https://shop.example`) or with any port
    /// (`http://localhost:*`). A browser origin is `scheme://host[:port]`, no path.
    pub origins: Vec<String>,
    /// How long a response id (+rev) is remembered for deduplication, in hours. Default 24.
    /// (`id_window_hours` is accepted too: the worker's name for it.)
    #[serde(default = "default_id_window_hours", alias = "id_window_hours")]
    pub dedup_window_hours: u64,
    /// One answer per respondent per survey within this many days. 0 disables. Default 90.
    #[serde(default = "default_respondent_window_days")]
    pub respondent_window_days: u64,
    /// Token bucket per site + client.
    #[serde(default)]
    pub rate_limit: RateLimit,
    /// Verification of `user.id` by `user.signature`: `off` (default), `optional`, `required`
    /// (see [`crate::identity`]).
    #[serde(default)]
    pub identity: crate::identity::IdentityMode,
    /// The site's identity secret, `env:NAME` (never in the file; at least 16 characters). Needed
    /// unless `identity` is `off`.
    #[serde(default)]
    pub identity_secret: Option<String>,
    /// Answers, events, respondent records and dead letters older than this many days are
    /// deleted (hourly natively, by the scheduled handler on the worker). Unset = kept.
    #[serde(default)]
    pub retention_days: Option<u32>,
    /// Cases: which answers open one, the time to a first touch, the re-survey delay (see
    /// [`crate::cases`]). Default: every detractor opens one, due in 48 hours.
    #[serde(default)]
    pub cases: crate::cases::CasesConfig,
    /// Signed survey links, the hosted survey page and e-mail invitations (see
    /// [`crate::links`]). Off until a link secret is set.
    #[serde(default)]
    pub links: crate::links::LinksConfig,
}

fn default_id_window_hours() -> u64 {
    24
}
fn default_respondent_window_days() -> u64 {
    90
}

impl Site {
    /// Id dedup window in milliseconds.
    pub fn id_window_ms(&self) -> u64 {
        self.dedup_window_hours.saturating_mul(3_600_000)
    }

    /// The oldest receive time kept at `now_ms`, when the site has a retention.
    pub fn retention_cutoff_ms(&self, now_ms: u64) -> Option<u64> {
        self.retention_days
            .map(|d| now_ms.saturating_sub(u64::from(d) * 86_400_000))
    }

    /// Respondent window in milliseconds (0 = disabled).
    pub fn respondent_window_ms(&self) -> u64 {
        self.respondent_window_days.saturating_mul(86_400_000)
    }

    /// True when `origin` is on this site's allowlist.
    pub fn allows_origin(&self, origin: &str) -> bool {
        // Allocation-free: this runs twice per request. Patterns were checked by `validate`.
        self.origins
            .iter()
            .any(|p| crate::cors::origin_matches(p, origin))
    }
}

/// `v` must be an id (`A-Z a-z 0-9 _ . : -`, 1–64 characters); `key` names it in the error.
pub(crate) fn check_id(key: impl Into<String>, v: &str) -> Result<(), ConfigError> {
    if is_valid_id(v) {
        Ok(())
    } else {
        Err(ConfigError::new(key, ID_CHARS))
    }
}

const ID_CHARS: &str = "must be 1-64 characters of A-Z a-z 0-9 _ . : -";

/// Every entry of a sink's `segments` list (at `key`) must name a segment.
pub(crate) fn check_segments(key: &str, list: &[String]) -> Result<(), ConfigError> {
    for (j, s) in list.iter().enumerate() {
        if Segment::parse(s).is_none() {
            return Err(ConfigError::new(
                format!("{key}[{j}]"),
                format!("{s:?} is not one of detractor, passive, promoter"),
            ));
        }
    }
    Ok(())
}

/// A sink's `surveys` and `sites` filters (under sink key `k`): valid survey ids, configured
/// sites.
pub(crate) fn check_surveys_and_sites(
    k: &str,
    surveys: &[String],
    sites: &[String],
    site_exists: impl Fn(&str) -> bool,
) -> Result<(), ConfigError> {
    for (j, s) in surveys.iter().enumerate() {
        if !is_valid_id(s) {
            return Err(ConfigError::new(
                format!("{k}.surveys[{j}]"),
                "is not a valid survey id",
            ));
        }
    }
    for (j, s) in sites.iter().enumerate() {
        if !site_exists(s) {
            return Err(ConfigError::new(
                format!("{k}.sites[{j}]"),
                format!("{s:?} is not a configured site"),
            ));
        }
    }
    Ok(())
}

/// Checks the sites of a config (at least one, ids unique, then each [`Site::validate`]); errors
/// name the key (`sites[1].origins[0]`). Part of [`Config::validate`]; public so that a runtime
/// with its own config document (the worker) checks its sites with the same rules.
pub fn validate_sites(sites: &[Site], resolved: bool) -> Result<(), ConfigError> {
    if sites.is_empty() {
        return Err(ConfigError::new("sites", "at least one site is required"));
    }
    for (i, site) in sites.iter().enumerate() {
        let k = format!("sites[{i}]");
        if is_valid_id(&site.id) && sites[..i].iter().any(|s| s.id == site.id) {
            return Err(ConfigError::new(
                format!("{k}.id"),
                format!("duplicate site id {:?}", site.id),
            ));
        }
        site.validate(&k, resolved)?;
    }
    Ok(())
}

impl Site {
    /// Checks one site (id, origin patterns, windows, rate limit); `key` is its path in the
    /// document (`sites[0]`), prefixed to the bad key of the error.
    pub fn validate(&self, key: &str, resolved: bool) -> Result<(), ConfigError> {
        let k = key;
        check_id(format!("{k}.id"), &self.id)?;
        if self.origins.is_empty() {
            return Err(ConfigError::new(
                format!("{k}.origins"),
                "at least one origin is required",
            ));
        }
        for (j, o) in self.origins.iter().enumerate() {
            OriginPattern::parse(o)
                .map_err(|r| ConfigError::new(format!("{k}.origins[{j}]"), r))?;
        }
        if self.dedup_window_hours == 0 {
            return Err(ConfigError::new(
                format!("{k}.dedup_window_hours"),
                "must be at least 1",
            ));
        }
        if self.rate_limit.per_minute == 0 {
            return Err(ConfigError::new(
                format!("{k}.rate_limit.per_minute"),
                "must be at least 1",
            ));
        }
        if self.rate_limit.burst == 0 {
            return Err(ConfigError::new(
                format!("{k}.rate_limit.burst"),
                "must be at least 1",
            ));
        }
        self.cases.validate(&format!("{k}.cases"))?;
        self.links.validate(&format!("{k}.links"), resolved)?;
        if let Some(s) = &self.cases.helpdesk_secret {
            if !resolved && (!s.starts_with("env:") || s.len() <= 4) {
                return Err(ConfigError::new(
                    format!("{k}.cases.helpdesk_secret"),
                    "must be env:NAME: a secret never belongs in the file",
                ));
            }
        }
        if let Some(d) = self.retention_days {
            if !(1..=36_500).contains(&d) {
                return Err(ConfigError::new(
                    format!("{k}.retention_days"),
                    "must be between 1 and 36500 (leave it out to keep everything)",
                ));
            }
        }
        match (&self.identity_secret, self.identity) {
            (None, crate::identity::IdentityMode::Off) => {}
            (None, _) => {
                return Err(ConfigError::new(
                    format!("{k}.identity_secret"),
                    "is required when identity is optional or required (env:NAME)",
                ))
            }
            (Some(s), _) if !resolved && (!s.starts_with("env:") || s.len() <= 4) => {
                return Err(ConfigError::new(
                    format!("{k}.identity_secret"),
                    "must be env:NAME: a secret never belongs in the file",
                ))
            }
            (Some(_), _) => {}
        }
        Ok(())
    }
}

/// Token-bucket parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Sustained requests per minute per client. Default 60.
    #[serde(default = "default_per_minute")]
    pub per_minute: u32,
    /// Bucket size: requests allowed in a burst. Default 20.
    #[serde(default = "default_burst")]
    pub burst: u32,
}

fn default_per_minute() -> u32 {
    60
}
fn default_burst() -> u32 {
    20
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            per_minute: default_per_minute(),
            burst: default_burst(),
        }
    }
}

/// Retry schedule for sink deliveries: exponential backoff from `base_ms`, capped at `max_ms`,
/// with jitter; after `max_attempts` failed attempts the delivery becomes a dead letter.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryPolicy {
    /// First retry delay. Default 1000 ms.
    #[serde(default = "default_base_ms")]
    pub base_ms: u64,
    /// Longest delay between attempts. Default 600000 ms (10 min).
    #[serde(default = "default_max_ms")]
    pub max_ms: u64,
    /// Attempts before a dead letter. Default 20 (about 2 h with the defaults).
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
}

fn default_base_ms() -> u64 {
    1000
}
fn default_max_ms() -> u64 {
    600_000
}
fn default_max_attempts() -> u32 {
    20
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            base_ms: default_base_ms(),
            max_ms: default_max_ms(),
            max_attempts: default_max_attempts(),
        }
    }
}

/// A sink: where accepted responses are delivered. Tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum SinkConfig {
    /// The store used to be a sink; it is now always there and configured in `[native]` /
    /// `[worker]`. Parsed only to answer an old config with a message saying where it went.
    #[doc(hidden)]
    Sqlite {
        /// Ignored.
        #[serde(default)]
        path: Option<String>,
        /// Ignored.
        #[serde(default)]
        synchronous: Option<Synchronous>,
    },
    /// Signed HTTP POST (Standard Webhooks v1) per response, retried, then dead-lettered.
    Webhook {
        /// Unique sink name (metrics label, outbox key). Default `webhook`.
        #[serde(default = "default_webhook_name")]
        name: String,
        /// Receiver URL (http or https).
        url: String,
        /// `whsec_<base64>` or `env:VAR` naming where it is.
        secret: String,
        /// Only these segments (`detractor`, `passive`, `promoter`); empty = all.
        #[serde(default)]
        segments: Vec<String>,
        /// Only these survey ids; empty = all.
        #[serde(default)]
        surveys: Vec<String>,
        /// Only these site ids; empty = all.
        #[serde(default)]
        sites: Vec<String>,
        /// Per-attempt timeout. Default 5000 ms.
        #[serde(default = "default_timeout_ms")]
        timeout_ms: u64,
        /// Answers and case events go to it (default). `false` for a site's mail service that
        /// takes only the invitations (`links.deliver`).
        #[serde(default = "default_true")]
        answers: bool,
    },
    /// One JSON line per response on standard output.
    Stdout {
        /// Unique sink name. Default `stdout`.
        #[serde(default = "default_stdout_name")]
        name: String,
        /// Only these segments; empty = all.
        #[serde(default)]
        segments: Vec<String>,
        /// Only these survey ids; empty = all.
        #[serde(default)]
        surveys: Vec<String>,
        /// Only these site ids; empty = all.
        #[serde(default)]
        sites: Vec<String>,
    },
    /// Chat alert (Slack-compatible or plain JSON) once per response id; see [`crate::alert`].
    Alert(crate::alert::AlertSinkConfig),
    /// E-mail through an SMTP server (native only): the invitations of the sites whose
    /// `links.deliver` names it. Never takes answers.
    Smtp {
        /// Unique sink name. Default `mail`.
        #[serde(default = "default_smtp_name")]
        name: String,
        /// `smtp://host:port` (plain, e.g. a local relay or MailDev), `smtp://host:587?tls=required`
        /// (STARTTLS) or `smtps://host:465`; user and password in the URL, or `env:NAME` naming
        /// a variable that holds the whole URL.
        url: String,
        /// The sender, `Maison Lumière <avis@maison-lumiere.fr>`.
        from: String,
        /// At most this many e-mails a minute (1–6000). Default 60.
        #[serde(default = "default_smtp_per_minute")]
        per_minute: u32,
        /// Per-attempt timeout. Default 10000 ms.
        #[serde(default = "default_smtp_timeout_ms")]
        timeout_ms: u64,
    },
}

fn default_true() -> bool {
    true
}

fn default_smtp_name() -> String {
    "mail".into()
}
fn default_smtp_per_minute() -> u32 {
    60
}
fn default_smtp_timeout_ms() -> u64 {
    10_000
}

/// SQLite `synchronous` level of the native store (see [`NativeConfig::synchronous`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Synchronous {
    /// fsync every commit.
    #[default]
    Full,
    /// fsync at checkpoints (WAL): durable against process crashes, not power loss.
    Normal,
}

impl Synchronous {
    /// The PRAGMA value.
    pub fn as_str(self) -> &'static str {
        match self {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        }
    }
}

fn default_webhook_name() -> String {
    "webhook".into()
}
fn default_stdout_name() -> String {
    "stdout".into()
}
fn default_timeout_ms() -> u64 {
    5000
}

impl SinkConfig {
    /// Unique name.
    pub fn name(&self) -> &str {
        match self {
            SinkConfig::Sqlite { .. } => "sqlite",
            SinkConfig::Webhook { name, .. }
            | SinkConfig::Stdout { name, .. }
            | SinkConfig::Smtp { name, .. } => name,
            SinkConfig::Alert(a) => &a.name,
        }
    }

    /// True for a sink that answers are routed to (every kind but the mail sink).
    pub fn takes_answers(&self) -> bool {
        match self {
            SinkConfig::Smtp { .. } => false,
            SinkConfig::Webhook { answers, .. } => *answers,
            _ => true,
        }
    }

    /// True for a sink the worker feeds through its queue (webhook and alert jobs).
    pub fn needs_queue(&self) -> bool {
        matches!(self, SinkConfig::Webhook { .. } | SinkConfig::Alert(_))
    }

    /// The `segments`, `surveys` and `sites` filters of a webhook or stdout sink (the store has
    /// none; an alert sink has its own, richer ones).
    fn filters(&self) -> Option<(&[String], &[String], &[String])> {
        match self {
            SinkConfig::Webhook {
                segments,
                surveys,
                sites,
                ..
            }
            | SinkConfig::Stdout {
                segments,
                surveys,
                sites,
                ..
            } => Some((segments, surveys, sites)),
            SinkConfig::Sqlite { .. } | SinkConfig::Alert(_) | SinkConfig::Smtp { .. } => None,
        }
    }

    /// Routing filter (the store takes everything). Invalid segment names are ignored here;
    /// `validate` refuses them.
    pub fn route(&self) -> Route {
        match (self, self.filters()) {
            (SinkConfig::Alert(a), _) => a.route(),
            (_, Some((segments, surveys, sites))) => Route {
                segments: segments.iter().filter_map(|s| Segment::parse(s)).collect(),
                surveys: surveys.to_vec(),
                sites: sites.to_vec(),
            },
            (_, None) => Route::default(),
        }
    }
}

impl Config {
    /// Parses TOML (syntax and types only; call [`Config::validate`] next).
    pub fn from_toml_str(s: &str) -> Result<Config, ConfigError> {
        toml::from_str(s).map_err(|e| ConfigError::new("", e.to_string().trim().to_string()))
    }

    /// Parses JSON (the same shape as the TOML), e.g. from a worker var.
    pub fn from_json_str(s: &str) -> Result<Config, ConfigError> {
        serde_json::from_str(s).map_err(|e| ConfigError::new("", e.to_string()))
    }

    /// Parses and validates in one go; the usual entry point.
    pub fn load_toml(s: &str) -> Result<Config, ConfigError> {
        let c = Config::from_toml_str(s)?;
        c.validate()?;
        Ok(c)
    }

    /// Parses a config document in either format — JSON when it starts with `{`, TOML otherwise —
    /// and validates it: what `nps-edge --config` and the worker's `NPS_CONFIG` both accept.
    pub fn load_text(s: &str) -> Result<Config, ConfigError> {
        if s.trim_start().starts_with('{') {
            Config::load_json(s)
        } else {
            Config::load_toml(s)
        }
    }

    /// Parses JSON and validates.
    pub fn load_json(s: &str) -> Result<Config, ConfigError> {
        let c = Config::from_json_str(s)?;
        c.validate()?;
        Ok(c)
    }

    /// The demo configuration used when no file is given: site `demo`, origins
    /// `http://127.0.0.1:*` and `http://localhost:*`, the embedded store only.
    pub fn demo() -> Config {
        Config {
            sites: vec![Site {
                id: "demo".into(),
                origins: vec!["http://127.0.0.1:*".into(), "http://localhost:*".into()],
                dedup_window_hours: default_id_window_hours(),
                respondent_window_days: default_respondent_window_days(),
                rate_limit: RateLimit::default(),
                identity: Default::default(),
                identity_secret: None,
                retention_days: None,
                cases: Default::default(),
                links: Default::default(),
            }],
            sinks: Vec::new(),
            retry: RetryPolicy::default(),
            trusted_proxies: Vec::new(),
            tokens: Default::default(),
            native: NativeConfig::default(),
            worker: WorkerConfig::default(),
            secrets_resolved: false,
        }
    }

    /// The site with this id.
    pub fn site(&self, id: &str) -> Option<&Site> {
        self.sites.iter().find(|s| s.id == id)
    }

    /// True when `origin` is allowed by at least one site (used for preflight, which carries no
    /// body and so no site).
    pub fn any_site_allows(&self, origin: &str) -> bool {
        self.sites.iter().any(|s| s.allows_origin(origin))
    }

    /// Checks everything that serde cannot; the error names the first bad key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate_sites(&self.sites, self.secrets_resolved)?;
        for (i, sink) in self.sinks.iter().enumerate() {
            let k = format!("sinks[{i}]");
            if self.sinks[..i].iter().any(|s| s.name() == sink.name()) {
                return Err(ConfigError::new(
                    format!("{k}.name"),
                    format!("duplicate sink name {:?}", sink.name()),
                ));
            }
            match sink {
                SinkConfig::Sqlite { .. } => {
                    return Err(ConfigError::new(
                        format!("{k}.type"),
                        "the store is no longer a sink: remove this [[sinks]] entry and set \
                         `db` and `synchronous` under [native] (the worker names its D1 \
                         binding under [worker])",
                    ));
                }
                SinkConfig::Webhook {
                    name,
                    url,
                    secret,
                    timeout_ms,
                    ..
                } => {
                    check_id(format!("{k}.name"), name)?;
                    if !(url.starts_with("http://") || url.starts_with("https://"))
                        || url.len() < 10
                    {
                        return Err(ConfigError::new(
                            format!("{k}.url"),
                            "must be an http(s) URL",
                        ));
                    }
                    if !secret.starts_with("env:") {
                        WebhookSecret::parse(secret)
                            .map_err(|r| ConfigError::new(format!("{k}.secret"), r))?;
                    } else if secret.len() <= 4 {
                        return Err(ConfigError::new(
                            format!("{k}.secret"),
                            "env: needs a variable name",
                        ));
                    }
                    if *timeout_ms == 0 {
                        return Err(ConfigError::new(
                            format!("{k}.timeout_ms"),
                            "must be at least 1",
                        ));
                    }
                }
                SinkConfig::Alert(a) => a.validate(&k, |s| self.site(s).is_some())?,
                SinkConfig::Stdout { name, .. } => {
                    check_id(format!("{k}.name"), name)?;
                }
                SinkConfig::Smtp {
                    name,
                    url,
                    from,
                    per_minute,
                    timeout_ms,
                } => {
                    check_id(format!("{k}.name"), name)?;
                    let ok = url.starts_with("smtp://")
                        || url.starts_with("smtps://")
                        || (url.starts_with("env:") && url.len() > 4);
                    if !ok {
                        return Err(ConfigError::new(
                            format!("{k}.url"),
                            "must be smtp://host:port, smtps://host:port or env:NAME",
                        ));
                    }
                    let addr = from.rsplit('<').next().unwrap_or("").trim_end_matches('>');
                    if !nps_protocol::validate::is_plausible_email(addr.trim()) {
                        return Err(ConfigError::new(
                            format!("{k}.from"),
                            "must be an address, alone or as Name <address>",
                        ));
                    }
                    if !(1..=6000).contains(per_minute) {
                        return Err(ConfigError::new(
                            format!("{k}.per_minute"),
                            "must be between 1 and 6000",
                        ));
                    }
                    if *timeout_ms == 0 {
                        return Err(ConfigError::new(
                            format!("{k}.timeout_ms"),
                            "must be at least 1",
                        ));
                    }
                }
            }
            if let Some((segments, surveys, sites)) = sink.filters() {
                check_segments(&format!("{k}.segments"), segments)?;
                check_surveys_and_sites(&k, surveys, sites, |s| self.site(s).is_some())?;
            }
        }
        for (i, site) in self.sites.iter().enumerate() {
            let Some(d) = &site.links.deliver else {
                continue;
            };
            match self.sinks.iter().find(|s| s.name() == d) {
                Some(SinkConfig::Smtp { .. } | SinkConfig::Webhook { .. }) => {}
                _ => {
                    return Err(ConfigError::new(
                        format!("sites[{i}].links.deliver"),
                        format!("{d:?} is not a configured smtp or webhook sink"),
                    ))
                }
            }
        }
        if self.native.db.trim().is_empty() {
            return Err(ConfigError::new("native.db", "must not be empty"));
        }
        if !(1..=3600).contains(&self.native.sweep_seconds) {
            return Err(ConfigError::new(
                "native.sweep_seconds",
                "must be between 1 and 3600",
            ));
        }
        self.worker.validate()?;
        for (i, c) in self.trusted_proxies.iter().enumerate() {
            crate::client::Cidr::parse(c)
                .map_err(|r| ConfigError::new(format!("trusted_proxies[{i}]"), r))?;
        }
        if self.retry.base_ms == 0 || self.retry.max_ms < self.retry.base_ms {
            return Err(ConfigError::new(
                "retry.base_ms",
                "must be at least 1 and at most retry.max_ms",
            ));
        }
        if self.retry.max_attempts == 0 {
            return Err(ConfigError::new("retry.max_attempts", "must be at least 1"));
        }
        if !self.secrets_resolved {
            self.tokens.validate(|s| self.site(s).is_some())?;
        }
        Ok(())
    }

    /// Replaces every `env:NAME` secret with `lookup(NAME)`; errors name the key whose variable
    /// is missing or whose value is not a `whsec_` secret.
    pub fn resolve_secrets(
        &mut self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<(), ConfigError> {
        self.tokens.resolve_secrets(&lookup)?;
        self.tokens.check_unique()?;
        self.secrets_resolved = true;
        for (i, site) in self.sites.iter_mut().enumerate() {
            let key = format!("sites[{i}].identity_secret");
            if let Some((var, value)) = resolve_env(&key, site.identity_secret.as_deref(), &lookup)?
            {
                if value.chars().count() < 16 {
                    return Err(ConfigError::new(
                        key,
                        format!("{var} must be at least 16 characters"),
                    ));
                }
                site.identity_secret = Some(value);
            }
            let key = format!("sites[{i}].cases.helpdesk_secret");
            let helpdesk = site.cases.helpdesk_secret.as_deref();
            if let Some((var, value)) = resolve_env(&key, helpdesk, &lookup)? {
                WebhookSecret::parse(&value)
                    .map_err(|r| ConfigError::new(key, format!("{var}: {r}")))?;
                site.cases.helpdesk_secret = Some(value);
            }
            let key = format!("sites[{i}].links.secret");
            if let Some((var, value)) = resolve_env(&key, site.links.secret.as_deref(), &lookup)? {
                if value.chars().count() < 32 {
                    return Err(ConfigError::new(
                        key,
                        format!("{var} must be at least 32 characters"),
                    ));
                }
                site.links.secret = Some(value);
            }
        }
        for (i, sink) in self.sinks.iter_mut().enumerate() {
            if let SinkConfig::Alert(a) = sink {
                a.resolve_secrets(&format!("sinks[{i}]"), &lookup)?;
            }
            if let SinkConfig::Smtp { url, .. } = sink {
                let key = format!("sinks[{i}].url");
                if let Some((_, value)) = resolve_env(&key, Some(url.as_str()), &lookup)? {
                    *url = value;
                }
            }
            if let SinkConfig::Webhook { secret, .. } = sink {
                let key = format!("sinks[{i}].secret");
                if let Some((var, value)) = resolve_env(&key, Some(secret.as_str()), &lookup)? {
                    WebhookSecret::parse(&value)
                        .map_err(|r| ConfigError::new(key, format!("{var}: {r}")))?;
                    *secret = value;
                }
            }
        }
        Ok(())
    }
}

/// The value of an `env:NAME` secret (`None` when the key is not an `env:` reference), with the
/// variable's name; an error naming `key` when the variable is not set.
pub(crate) fn resolve_env(
    key: &str,
    raw: Option<&str>,
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<Option<(String, String)>, ConfigError> {
    let Some(var) = raw.and_then(|s| s.strip_prefix("env:")) else {
        return Ok(None);
    };
    let value = lookup(var).ok_or_else(|| {
        ConfigError::new(
            key,
            format!("{var} is not set (an environment variable natively, a secret on the worker)"),
        )
    })?;
    Ok(Some((var.to_string(), value)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    fn toml_with(sites: &str, sinks: &str) -> String {
        format!("{sites}\n{sinks}")
    }

    const SITE: &str = r#"
[[sites]]
id = "demo"
origins = ["https://shop.example", "http://localhost:*"]
"#;

    #[test]
    fn sites_alone_and_the_worker_spelling_of_the_id_window() {
        let site: Site = serde_json::from_str(
            r#"{"id":"demo","origins":["https://shop.example"],"id_window_hours":6}"#,
        )
        .unwrap();
        assert_eq!(site.dedup_window_hours, 6);
        assert_eq!(site.id_window_ms(), 6 * 3_600_000);
        assert!(validate_sites(std::slice::from_ref(&site), false).is_ok());
        assert_eq!(validate_sites(&[], false).unwrap_err().key, "sites");
        let dup = validate_sites(&[site.clone(), site.clone()], false).unwrap_err();
        assert_eq!(
            (dup.key.as_str(), dup.reason.contains("duplicate")),
            ("sites[1].id", true)
        );
        let mut bad = site;
        bad.origins = vec!["https://shop.example/".into()];
        assert_eq!(
            bad.validate("sites[3]", false).unwrap_err().key,
            "sites[3].origins[0]"
        );
    }

    #[test]
    fn minimal_toml_gets_defaults() {
        let c = Config::load_toml(SITE).unwrap();
        let s = &c.sites[0];
        assert_eq!((s.dedup_window_hours, s.respondent_window_days), (24, 90));
        assert_eq!(
            s.rate_limit,
            RateLimit {
                per_minute: 60,
                burst: 20
            }
        );
        assert!(s.allows_origin("http://localhost:5173"));
        assert!(!s.allows_origin("https://evil.example"));
    }

    #[test]
    fn sinks_are_tagged_and_routed() {
        let src = toml_with(
            SITE,
            &format!(
                r#"
[[sinks]]
type = "webhook"
name = "crm"
url = "https://hooks.example/nps"
secret = "{SECRET}"
segments = ["detractor"]

[native]
db = "/tmp/x.sqlite"
synchronous = "normal"

[worker]
d1 = "DB"
"#
            ),
        );
        let c = Config::load_toml(&src).unwrap();
        assert_eq!(c.native.db, "/tmp/x.sqlite");
        assert_eq!(c.native.synchronous, Synchronous::Normal);
        assert_eq!(Config::demo().native.synchronous, Synchronous::Full);
        assert_eq!(c.worker.d1.as_deref(), Some("DB"));
        assert_eq!(
            (c.worker.state.as_str(), c.worker.queue.as_str()),
            ("SITE_STATE", "DELIVERIES")
        );
        assert_eq!(c.sinks[0].name(), "crm");
        assert_eq!(c.sinks[0].route().segments, vec![Segment::Detractor]);
    }

    #[test]
    fn runtime_sections_are_checked_on_both_runtimes() {
        let e = Config::load_toml(&format!("{SITE}\n[worker]\nqueue = \"\"\n")).unwrap_err();
        assert_eq!(e.key, "worker.queue");
        let e = Config::load_toml(&format!("{SITE}\n[worker]\nd1 = \"my db\"\n")).unwrap_err();
        assert_eq!(e.to_string(), format!("worker.d1: {BINDING_CHARS}"));
        let e = Config::load_toml(&format!("{SITE}\n[native]\ndb = \" \"\n")).unwrap_err();
        assert_eq!(e.key, "native.db");
        let e = Config::from_toml_str(&format!("{SITE}\n[worker]\nbinding = \"X\"\n")).unwrap_err();
        assert!(e.reason.contains("binding"), "{e}");
        // A config of the release before: the store was a `sqlite` sink.
        let e = Config::load_toml(&format!(
            "{SITE}\n[[sinks]]\ntype = \"sqlite\"\npath = \"x.sqlite\"\n"
        ))
        .unwrap_err();
        assert_eq!(e.key, "sinks[0].type");
        assert!(e.reason.contains("[native]"), "{e}");
        let c = Config::load_toml(&format!("{SITE}\n[worker]\nshard = \"site_survey\"\n")).unwrap();
        assert_eq!(c.worker.object_for("demo", "checkout"), "demo/checkout");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let e = Config::from_toml_str(&format!("{SITE}\norigin = 1\n")).unwrap_err();
        assert!(e.reason.contains("origin"), "{e}");
        let e = Config::from_toml_str(&format!(
            "{SITE}\n[[sinks]]\ntype = \"stdout\"\nsegmentz = []\n"
        ))
        .unwrap_err();
        assert!(e.reason.contains("segmentz"), "{e}");
        let e =
            Config::from_toml_str(&format!("{SITE}\n[[sinks]]\ntype = \"kafka\"\n")).unwrap_err();
        assert!(e.reason.contains("kafka"), "{e}");
    }

    #[test]
    fn validation_names_the_bad_key() {
        let two = r#"
[[sites]]
id = "a"
origins = ["https://a.example"]
[[sites]]
id = "b"
origins = ["https://b.example/path"]
"#;
        let e = Config::load_toml(two).unwrap_err();
        assert_eq!(e.key, "sites[1].origins[0]");
        let e = Config::load_toml(&format!(
            "{SITE}\n[[sinks]]\ntype = \"stdout\"\nsegments = [\"fans\"]\n"
        ))
        .unwrap_err();
        assert_eq!(e.key, "sinks[0].segments[0]");
        for (filter, key, reason) in [
            (
                "surveys = [\"ok\", \"no way\"]",
                "sinks[0].surveys[1]",
                "is not a valid survey id",
            ),
            (
                "sites = [\"elsewhere\"]",
                "sinks[0].sites[0]",
                "\"elsewhere\" is not a configured site",
            ),
            (
                "name = \"two words\"",
                "sinks[0].name",
                "must be 1-64 characters of A-Z a-z 0-9 _ . : -",
            ),
        ] {
            let toml = format!("{SITE}\n[[sinks]]\ntype = \"stdout\"\n{filter}\n");
            let e = Config::load_toml(&toml).unwrap_err();
            assert_eq!((e.key.as_str(), e.reason.as_str()), (key, reason));
        }
        let e = Config::load_toml(&format!("{SITE}\n[[sinks]]\ntype = \"webhook\"\nurl = \"https://x.example\"\nsecret = \"nope\"\n")).unwrap_err();
        assert_eq!(e.key, "sinks[0].secret");
        assert_eq!(Config::load_toml("").unwrap_err().key, "sites");
        let e = Config::load_toml(&format!("{SITE}retention_days = 0\n")).unwrap_err();
        assert_eq!(e.key, "sites[0].retention_days");
        let kept = Config::load_toml(&format!("{SITE}retention_days = 30\n")).unwrap();
        let day = 86_400_000;
        assert_eq!(kept.sites[0].retention_cutoff_ms(40 * day), Some(10 * day));
    }

    #[test]
    fn json_has_the_same_shape() {
        let c = Config::load_json(
            r#"{"sites":[{"id":"demo","origins":["https://shop.example"],"rate_limit":{"per_minute":5,"burst":1}}],
                "sinks":[{"type":"stdout","surveys":["checkout"]}]}"#,
        )
        .unwrap();
        assert_eq!(c.sites[0].rate_limit.burst, 1);
        assert!(Config::from_json_str(r#"{"sites":[],"extra":1}"#).is_err());
    }

    #[test]
    fn env_secrets_resolve() {
        let mut c = Config::load_toml(&format!(
            "{SITE}\n[[sinks]]\ntype = \"webhook\"\nurl = \"https://x.example\"\nsecret = \"env:HOOK\"\n"
        ))
        .unwrap();
        let e = c.clone().resolve_secrets(|_| None).unwrap_err();
        assert_eq!(e.key, "sinks[0].secret");
        c.resolve_secrets(|k| (k == "HOOK").then(|| SECRET.to_string()))
            .unwrap();
        assert!(matches!(&c.sinks[0], SinkConfig::Webhook { secret, .. } if secret == SECRET));
    }

    #[test]
    fn demo_config_is_valid() {
        Config::demo().validate().unwrap();
    }
}
