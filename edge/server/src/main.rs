//! `nps-edge --config FILE --listen ADDR [--assets DIR] [--console DIR] [--db FILE]`
//!
//! Without `--config`, runs the built-in demo config (site `demo`, origins
//! `http://127.0.0.1:*` and `http://localhost:*`, store `nps-edge.sqlite`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use nps_edge::serve::Limits;
use nps_edge::{app, Edge, Options};
use nps_edge_core::Config;

const USAGE: &str =
    "usage: nps-edge [--config FILE] [--listen ADDR] [--assets DIR] [--console DIR] [--db FILE]
  --config FILE   config document, TOML or JSON (the worker's NPS_CONFIG takes the same;
                  default: built-in demo config, site `demo`, origins http://127.0.0.1:* and
                  http://localhost:*)
  --listen ADDR   address to bind (default 127.0.0.1:8787)
  --assets DIR    serve static files from DIR at / (e.g. dist/widget)
  --console DIR   the team's console build (dist/console, scripts/build-console.sh) at /console
  --db FILE       SQLite store path (overrides [native] db)
  --max-connections N  connections open at once (default 10000); more are refused
  --header-timeout-ms N  time to receive a request's head, and the longest idle keep-alive
                  (default 10000)
  --check         validate the config and exit";

struct Args {
    config: Option<PathBuf>,
    listen: String,
    assets: Option<PathBuf>,
    console: Option<PathBuf>,
    db: Option<String>,
    check: bool,
    max_connections: usize,
    header_timeout_ms: u64,
}

/// Why the command line is refused (the usage follows).
#[derive(Debug, thiserror::Error)]
enum ArgsError {
    #[error("{0} needs a value")]
    NoValue(&'static str),
    #[error("{0} needs a positive number")]
    NotPositive(&'static str),
    #[error("unknown argument {0:?}")]
    Unknown(String),
    /// `--help`: the usage alone.
    #[error("")]
    Help,
}

fn parse_args() -> Result<Args, ArgsError> {
    let mut a = Args {
        config: None,
        listen: "127.0.0.1:8787".into(),
        assets: None,
        console: None,
        db: None,
        check: false,
        max_connections: Limits::default().max_connections,
        header_timeout_ms: Limits::default().header_timeout.as_millis() as u64,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = |name: &'static str| it.next().ok_or(ArgsError::NoValue(name));
        match flag.as_str() {
            "--config" => a.config = Some(val("--config")?.into()),
            "--listen" => a.listen = val("--listen")?,
            "--assets" => a.assets = Some(val("--assets")?.into()),
            "--console" => a.console = Some(val("--console")?.into()),
            "--db" => a.db = Some(val("--db")?),
            "--check" => a.check = true,
            "--max-connections" => {
                a.max_connections = val("--max-connections")?
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or(ArgsError::NotPositive("--max-connections"))?
            }
            "--header-timeout-ms" => {
                a.header_timeout_ms = val("--header-timeout-ms")?
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or(ArgsError::NotPositive("--header-timeout-ms"))?
            }
            "-h" | "--help" => return Err(ArgsError::Help),
            other => return Err(ArgsError::Unknown(other.to_string())),
        }
    }
    Ok(a)
}

/// JSON lines on stderr; the level from `NPS_LOG` (`info` by default, e.g. `nps_edge=debug`).
fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("NPS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_current_span(false)
        .init();
}

fn main() -> ExitCode {
    init_logs();
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if !matches!(e, ArgsError::Help) {
                eprintln!("nps-edge: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let config = match &args.config {
        Some(path) => {
            let text = match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("nps-edge: {}: {e}", path.display());
                    return ExitCode::from(2);
                }
            };
            let mut c = match Config::load_text(&text) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("nps-edge: {}: {e}", path.display());
                    return ExitCode::from(2);
                }
            };
            if let Err(e) = c.resolve_secrets(|k| std::env::var(k).ok()) {
                eprintln!("nps-edge: {}: {e}", path.display());
                return ExitCode::from(2);
            }
            c
        }
        None => Config::demo(),
    };
    if args.check {
        println!("config ok");
        return ExitCode::SUCCESS;
    }
    let addr: SocketAddr = match args.listen.parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("nps-edge: --listen {}: {e}", args.listen);
            return ExitCode::from(2);
        }
    };
    let edge = match Edge::start(
        config,
        Options {
            assets: args.assets,
            console: args.console,
            db_path: args.db,
        },
    ) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("nps-edge: {e}");
            return ExitCode::from(1);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("nps-edge: {e}");
            return ExitCode::from(1);
        }
    };
    let router = app(edge.state.clone());
    let store_path = edge.state.store().path().to_string();
    let res = rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        tracing::info!(addr = %listener.local_addr()?, store = %store_path, "listening");
        let limits = Limits {
            max_connections: args.max_connections,
            header_timeout: std::time::Duration::from_millis(args.header_timeout_ms),
        };
        nps_edge::serve::serve(listener, router, limits, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
    });
    edge.shutdown();
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nps-edge: {e}");
            ExitCode::from(1)
        }
    }
}
