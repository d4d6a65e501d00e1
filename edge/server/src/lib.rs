//! Self-hosted native NPS edge: HTTP API v1 on axum, the embedded SQLite store and durable
//! outbox, and sink deliverers. All rules come from `nps-edge-core`; this crate is the I/O.
//!
//! - [`app`] builds the whole HTTP surface from an [`AppState`] (testable without a socket).
//! - [`Edge::start`] opens the store, starts the writer and deliverer threads and returns the
//!   state; [`Edge::shutdown`] stops the deliverers.

mod api_util;
pub mod assets;
pub mod delivery;
mod http;
pub mod metrics;
mod report;
pub mod sinks;
pub mod store;
mod suppressions;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use nps_edge_core::ratelimit::Bucket;
use nps_edge_core::Config;

pub use http::app;

use crate::metrics::Metrics;
use crate::store::Store;

/// Shared state of the HTTP handlers.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    store: Store,
    metrics: Arc<Metrics>,
    limiter: Mutex<HashMap<String, Bucket>>,
    /// Random per-process key for hashing client addresses (never persisted: hashes cannot be
    /// linked across restarts either).
    ip_key: [u8; 32],
    /// Salt of the current UTC day derived from `ip_key` (cached: two HMACs saved per request).
    ip_salt: Mutex<(u64, [u8; 32])>,
    assets: Option<PathBuf>,
    /// Sinks that have a deliverer (outbox rows are only written for these).
    delivery_sinks: Vec<String>,
    /// Read connection for `/metrics`.
    reader: Mutex<Option<rusqlite::Connection>>,
}

/// A running edge: state for [`app`] plus the background threads.
pub struct Edge {
    /// Handler state.
    pub state: AppState,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

/// Start-up options besides the config.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Serve static files from this directory at `/`.
    pub assets: Option<PathBuf>,
    /// Override the store path (else the `sqlite` sink's path, else `nps-edge.sqlite`).
    pub db_path: Option<String>,
}

impl Edge {
    /// Validates the config, opens the store and starts the deliverers. Secrets must already be
    /// resolved ([`Config::resolve_secrets`]).
    pub fn start(config: Config, opts: Options) -> Result<Edge, String> {
        config.validate().map_err(|e| e.to_string())?;
        let path = opts
            .db_path
            .clone()
            .or_else(|| config.store_path().map(str::to_string))
            .unwrap_or_else(|| "nps-edge.sqlite".to_string());
        let mut built = Vec::new();
        for (i, s) in config.sinks.iter().enumerate() {
            if let Some(sink) = sinks::build(s, &path).map_err(|e| format!("sinks[{i}]: {e}"))? {
                built.push((s.name().to_string(), sink));
            }
        }
        let names: Vec<String> = built.iter().map(|(n, _)| n.clone()).collect();
        let metrics = Arc::new(Metrics::new(&names));
        let mut pokes = Vec::new();
        let mut deliverers = Vec::new();
        for (name, sink) in built {
            let (tx, rx) = std::sync::mpsc::sync_channel(1);
            pokes.push((name.clone(), tx));
            let counters = metrics.sinks.get(&name).cloned().unwrap_or_default();
            deliverers.push(delivery::Deliverer {
                name,
                sink,
                policy: config.retry,
                counters,
                poke: rx,
            });
        }
        let store = Store::open(&path, config.store_synchronous().as_str(), pokes)?;
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for d in deliverers {
            threads
                .push(delivery::spawn(d, store.clone(), stop.clone()).map_err(|e| e.to_string())?);
        }
        let reader = store.reader().ok();
        let mut ip_key = [0u8; 32];
        getrandom::getrandom(&mut ip_key).map_err(|e| e.to_string())?;
        let state = AppState {
            inner: Arc::new(Inner {
                config,
                store,
                metrics,
                limiter: Mutex::new(HashMap::new()),
                ip_key,
                ip_salt: Mutex::new((u64::MAX, [0; 32])),
                assets: opts.assets,
                delivery_sinks: names,
                reader: Mutex::new(reader),
            }),
        };
        Ok(Edge {
            state,
            stop,
            threads,
        })
    }

    /// Stops the deliverers (each finishes its current attempt). The writer thread ends when the
    /// last [`AppState`] is dropped.
    pub fn shutdown(self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for t in self.threads {
            let _ = t.join();
        }
    }
}

impl AppState {
    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The store handle.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }
}

/// Wall clock, ms since the epoch (0 if the clock is before 1970).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Small xorshift generator for retry jitter (not for secrets).
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new() -> Rng {
        let mut b = [0u8; 8];
        let _ = getrandom::getrandom(&mut b);
        Rng(u64::from_le_bytes(b) | 1)
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}
