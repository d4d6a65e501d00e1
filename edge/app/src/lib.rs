//! The NPS edge application: ONE program for both runtimes.
//!
//! It owns the route table ([`routes`]) and every HTTP handler (ingest, events, CORS,
//! eligibility, suppressions, the report API and page, metrics, health, the OpenAPI document),
//! written once against [`Backend`]: what a runtime provides (atomic dedup-check-and-store with
//! the hand-off to delivery sinks, events, suppressions, reads, the clock). The native server
//! (`edge/server`: axum + SQLite) and the Cloudflare worker (`edge/worker`: a Durable Object, D1
//! and a Queue) are adapters: they turn their request into a [`Request`], call [`App::handle`]
//! and send the [`Response`] back. A handler never knows which runtime runs it.
//!
//! Pure rules (validation, dedup decisions, CORS, tokens, report arithmetic) stay in
//! `nps-edge-core` and `nps-protocol`; this crate adds the order they run in and the I/O calls
//! between them.

pub mod backend;
mod followup;
mod handlers;
pub mod http;
mod link_page;
mod mail;
pub mod metrics;
#[cfg(feature = "openapi")]
pub mod openapi;
mod reminders;
pub mod routes;
pub mod statics;
pub mod store;

use std::collections::HashMap;
use std::sync::Mutex;

use nps_edge_core::client::{self, Cidr};
use nps_edge_core::config::Site;
use nps_edge_core::ratelimit::{self, Bucket};
use nps_edge_core::{iphash, Config, EdgeError};

pub use backend::{Backend, BackendError, NewEvent, NewResponse, SqlValue};
pub use http::{ApiError, Body, Method, Request, Response};
pub use metrics::Metrics;

/// Rate-limit buckets kept before idle ones are swept.
const LIMITER_SWEEP_AT: usize = 100_000;

/// The application: config, backend, counters and the rate limiter.
pub struct App<B> {
    config: Config,
    backend: B,
    metrics: Metrics,
    limiter: Mutex<HashMap<String, Bucket>>,
    /// Random key for hashing client addresses, drawn by the runtime at start and never stored:
    /// hashes cannot be linked across restarts.
    ip_key: [u8; 32],
    /// Salt of the current UTC day derived from `ip_key` (two HMACs saved per request).
    ip_salt: Mutex<(u64, [u8; 32])>,
    /// `trusted_proxies`, parsed once.
    trusted_proxies: Vec<Cidr>,
}

impl<B: Backend> App<B> {
    /// An application over `backend`. The config must be validated and its secrets resolved;
    /// `ip_key` must come from the runtime's cryptographic random source.
    pub fn new(config: Config, backend: B, ip_key: [u8; 32]) -> App<B> {
        App {
            metrics: Metrics::new(&config.sinks),
            // Validated with the config: nothing is dropped here.
            trusted_proxies: config
                .trusted_proxies
                .iter()
                .filter_map(|c| Cidr::parse(c).ok())
                .collect(),
            config,
            backend,
            limiter: Mutex::new(HashMap::new()),
            ip_key,
            ip_salt: Mutex::new((u64::MAX, [0; 32])),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The backend.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// The counters (the runtimes' deliverers count their deliveries here).
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Answers one request. Never fails: every refusal is a problem+json answer.
    pub async fn handle(&self, req: Request) -> Response {
        routes::dispatch(self, req).await
    }

    /// Applies every site's `retention_days`: deletes what was received before its cutoff (and
    /// forgets the helpdesk events applied over a week ago). The runtimes call it periodically
    /// (hourly natively, the worker's scheduled handler).
    pub async fn sweep_retention(&self) -> Result<Vec<(String, backend::Purged)>, BackendError> {
        let now = self.backend.now_ms();
        let before = now.saturating_sub(store::HELPDESK_EVENT_KEEP_MS) as i64;
        let params = vec![backend::SqlValue::Int(before)];
        match self
            .backend
            .execute(store::PURGE_HELPDESK_EVENTS, params)
            .await
        {
            Ok(_) | Err(BackendError::NoStore) => {}
            Err(e) => return Err(e),
        }
        let mut out = Vec::new();
        for site in &self.config.sites {
            let Some(cutoff) = site.retention_cutoff_ms(now) else {
                continue;
            };
            let mut purged = self.backend.purge(site, cutoff).await?;
            let params = vec![
                backend::SqlValue::Text(site.id.clone()),
                backend::SqlValue::Int(cutoff as i64),
            ];
            match self.backend.execute(store::PURGE_INVITATIONS, params).await {
                Ok(n) => purged.other += n,
                Err(BackendError::NoStore) => {}
                Err(e) => return Err(e),
            }
            if purged != backend::Purged::default() {
                tracing::info!(
                    site = %site.id,
                    responses = purged.responses,
                    events = purged.events,
                    other = purged.other,
                    "retention: old records deleted"
                );
            }
            out.push((site.id.clone(), purged));
        }
        Ok(out)
    }

    /// Token bucket per site + keyed hash of the client address (the raw address is never
    /// kept; see `nps_edge_core::client` for which address that is). A request whose client
    /// address is unknown is refused rather than put in one bucket shared by everyone.
    pub(crate) fn rate_limit(&self, site: &Site, req: &Request, now: u64) -> Result<(), EdgeError> {
        let ip = client::address(
            req.peer.as_deref(),
            req.header("x-forwarded-for"),
            &self.trusted_proxies,
        )
        .ok_or_else(|| {
            tracing::error!("request without a client address: check worker.client_address_header");
            EdgeError::Unavailable("the client address is unknown".into())
        })?;
        let client = {
            let day = nps_edge_core::time::day_of(now);
            let mut cached = self.ip_salt.lock().unwrap_or_else(|p| p.into_inner());
            if cached.0 != day {
                *cached = (day, iphash::daily_salt(&self.ip_key, day));
            }
            iphash::hash_ip(&cached.1, &client::key(ip))
        };
        let mut map = self.limiter.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= LIMITER_SWEEP_AT {
            // Full buckets carry no information: forgetting them keeps memory bounded.
            map.retain(|_, b| !b.is_idle(&site.rate_limit, now));
        }
        let key = ratelimit::key(&site.id, &client);
        let (bucket, res) = ratelimit::take(map.get(&key).copied(), now, &site.rate_limit);
        map.insert(key, bucket);
        res
    }
}

/// A backend failure as the client sees it (503 + `Retry-After`); the cause goes to the log.
pub(crate) fn unavailable(e: BackendError) -> EdgeError {
    match &e {
        BackendError::Failed(m) => tracing::error!(error = %m, "store call failed"),
        BackendError::Busy => tracing::warn!("store queue is full"),
        BackendError::NoStore => {}
    }
    EdgeError::Unavailable(match e {
        BackendError::Busy => "store queue is full".into(),
        BackendError::NoStore => "no response store is configured (worker.d1)".into(),
        BackendError::Failed(_) => "store call failed".into(),
    })
}
