//! Self-hosted native NPS edge: the edge application (`nps-edge-app`) on axum, over the
//! embedded SQLite store and its durable outbox, with sink deliverers on their own threads.
//! Every route and rule is the application's; this crate is the I/O.
//!
//! - [`app`] builds the HTTP surface from an [`AppState`] (testable without a socket).
//! - [`Edge::start`] migrates and opens the store, starts the writer and deliverer threads and
//!   returns the state; [`Edge::shutdown`] stops the deliverers.

pub mod assets;
mod backend;
pub mod delivery;
mod http;
pub mod serve;
pub mod sinks;
pub mod store;

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use nps_edge_app::App;
use nps_edge_core::config::{ConfigError, SinkConfig};
use nps_edge_core::Config;

pub use backend::SqliteBackend;
pub use http::app;

use crate::store::Store;

/// The application over the native backend.
pub type EdgeApp = App<SqliteBackend>;

/// Shared state of the HTTP surface.
#[derive(Clone)]
pub struct AppState {
    app: Arc<EdgeApp>,
    /// Serve static files from here at `/` (paths that are not API routes).
    assets: Option<PathBuf>,
    /// The console's build (`dist/console`), served at `/console/`.
    console: Option<PathBuf>,
}

impl AppState {
    /// The configuration in force.
    pub fn config(&self) -> &Config {
        self.app.config()
    }

    /// The store handle.
    pub fn store(&self) -> &Store {
        self.app.backend().store()
    }

    /// The application.
    pub fn app(&self) -> &EdgeApp {
        &self.app
    }
}

/// Why the edge could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The config is invalid.
    #[error("invalid config: {0}")]
    Config(#[from] ConfigError),
    /// The store cannot be opened or migrated.
    #[error("store: {0}")]
    Store(#[from] store::OpenError),
    /// A sink cannot be built.
    #[error("sinks[{index}]: {reason}")]
    Sink {
        /// Position in `sinks`.
        index: usize,
        /// What is wrong.
        #[source]
        reason: sinks::SinkError,
    },
    /// The random source failed.
    #[error("random source: {0}")]
    Random(getrandom::Error),
    /// A thread cannot be started.
    #[error("thread: {0}")]
    Thread(#[from] std::io::Error),
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
    /// The console's build directory (`dist/console`).
    pub console: Option<PathBuf>,
    /// Override the store path (else `[native] db`).
    pub db_path: Option<String>,
}

impl Edge {
    /// Validates the config, opens the store and starts the deliverers. Secrets must already be
    /// resolved ([`Config::resolve_secrets`]).
    pub fn start(config: Config, opts: Options) -> Result<Edge, StartError> {
        config.validate()?;
        let path = opts
            .db_path
            .clone()
            .unwrap_or_else(|| config.native.db.clone());
        let mut pokes = Vec::new();
        let mut receivers = Vec::new();
        for s in &config.sinks {
            let (tx, rx) = std::sync::mpsc::sync_channel(1);
            pokes.push((s.name().to_string(), tx));
            receivers.push(rx);
        }
        let store = Store::open(&path, config.native.synchronous.as_str(), pokes)?;
        let mut ip_key = [0u8; 32];
        getrandom::getrandom(&mut ip_key).map_err(StartError::Random)?;
        let widget = (opts.assets.as_ref()).is_some_and(|d| d.join("nps-widget.js").is_file());
        let backend = SqliteBackend::new(store.clone()).with_widget(widget);
        let app = Arc::new(App::new(config, backend, ip_key));
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for (index, (cfg, poke)) in app.config().sinks.iter().zip(receivers).enumerate() {
            let counters = app.metrics().sink(cfg.name());
            let sink = sinks::build(cfg, &path, counters.clone())
                .map_err(|reason| StartError::Sink { index, reason })?;
            let d = delivery::Deliverer {
                name: cfg.name().to_string(),
                sink,
                policy: app.config().retry,
                counters,
                poke,
            };
            threads.push(delivery::spawn(d, store.clone(), stop.clone())?);
        }
        let c = app.config();
        let retention = c.sites.iter().any(|s| s.retention_days.is_some());
        let overdue = c.sites.iter().any(|s| s.cases.enabled)
            && c.sinks.iter().any(|s| matches!(s, SinkConfig::Alert(_)));
        let reminders = c.sites.iter().any(|s| s.links.deliver.is_some());
        // The retention sweep also forgets applied helpdesk events.
        let helpdesk = c.sites.iter().any(|s| s.cases.helpdesk_secret.is_some());
        // Case messages a team's change owes, when handing them on failed.
        let cases = c.sites.iter().any(|s| s.cases.enabled);
        if retention || overdue || reminders || helpdesk || cases {
            threads.push(spawn_sweeps(app.clone(), stop.clone())?);
        }
        Ok(Edge {
            state: AppState {
                app,
                assets: opts.assets,
                console: opts.console,
            },
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

/// How often the retention sweep runs (and once at start).
const RETENTION_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);
/// The sweeps' thread: [`App::sweep_retention`] at start, then hourly; [`App::sweep_overdue`],
/// [`App::sweep_case_notices`] and [`App::sweep_reminders`] every `native.sweep_seconds`.
fn spawn_sweeps(app: Arc<EdgeApp>, stop: Arc<AtomicBool>) -> std::io::Result<JoinHandle<()>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("nps-sweeps".into())
        .spawn(move || {
            use std::sync::atomic::Ordering;
            let mut retention_due = std::time::Instant::now();
            while !stop.load(Ordering::Relaxed) {
                if std::time::Instant::now() >= retention_due {
                    if let Err(e) = rt.block_on(app.sweep_retention()) {
                        tracing::error!(error = %e, "retention sweep failed; retried in an hour");
                    }
                    retention_due = std::time::Instant::now() + RETENTION_EVERY;
                }
                if let Err(e) = rt.block_on(app.sweep_overdue()) {
                    tracing::error!(error = %e, "overdue sweep failed; retried in a minute");
                }
                if let Err(e) = rt.block_on(app.sweep_case_notices()) {
                    tracing::error!(error = %e, "case webhook sweep failed; retried in a minute");
                }
                if let Err(e) = rt.block_on(app.sweep_reminders()) {
                    tracing::error!(error = %e, "reminder sweep failed; retried in a minute");
                }
                let next = std::time::Instant::now()
                    + std::time::Duration::from_secs(app.config().native.sweep_seconds);
                while !stop.load(Ordering::Relaxed) && std::time::Instant::now() < next {
                    std::thread::sleep(std::time::Duration::from_millis(250));
                }
            }
        })
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
