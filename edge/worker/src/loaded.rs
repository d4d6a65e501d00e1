//! What an isolate loads once, at its first request: the config document (`NPS_CONFIG`, the
//! same document `nps-edge --config` reads), validated, its `env:` secrets resolved from the
//! worker's secrets, its bindings checked, and the application over [`WorkerBackend`]. A bad
//! config is answered on every request as a 503 problem naming the key (and logged).

use std::cell::RefCell;
use std::rc::Rc;

use nps_edge_app::App;
use nps_edge_core::config::{ConfigError, SinkConfig};
use nps_edge_core::webhook::WebhookSecret;
use nps_edge_core::Config;
use wasm_bindgen::JsValue;
use worker::Env;

use crate::backend::WorkerBackend;
use crate::js::{binding, env_string, Assets, ObjectNamespace, QueueProducer, D1};

/// Name of the var holding the config (TOML or JSON text, or an object var in wrangler.toml).
pub(crate) const CONFIG_VAR: &str = "NPS_CONFIG";

/// The application of this isolate and what the deliverers need besides.
pub(crate) struct Loaded {
    pub(crate) app: App<WorkerBackend>,
    /// Webhook sink name → signing key.
    pub(crate) webhook_keys: Vec<(String, WebhookSecret)>,
}

impl Loaded {
    pub(crate) fn config(&self) -> &Config {
        self.app.config()
    }

    pub(crate) fn webhook_key(&self, name: &str) -> Option<&WebhookSecret> {
        self.webhook_keys
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, k)| k)
    }
}

/// The isolate's config does not load: answered on every request (503) and logged once.
#[derive(Debug, thiserror::Error)]
#[error("invalid config: {0}")]
pub(crate) struct InvalidConfig(ConfigError);

thread_local! {
    static LOADED: RefCell<Option<Result<Rc<Loaded>, Rc<InvalidConfig>>>> = const { RefCell::new(None) };
}

/// The application of this isolate, loading it on first use.
pub(crate) fn get(env: &Env) -> Result<Rc<Loaded>, Rc<InvalidConfig>> {
    if let Some(r) = LOADED.with(|l| l.borrow().clone()) {
        return r;
    }
    crate::logs::init();
    let r = load(env).map(Rc::new).map_err(|e| {
        tracing::error!(error = %e, "invalid config");
        Rc::new(InvalidConfig(e))
    });
    LOADED.with(|l| *l.borrow_mut() = Some(r.clone()));
    r
}

fn missing(key: &str, what: &str, name: &str) -> ConfigError {
    ConfigError {
        key: key.to_string(),
        reason: format!("no {what} binding `{name}` (see wrangler.toml)"),
    }
}

fn load(env: &Env) -> Result<Loaded, ConfigError> {
    let raw =
        js_sys::Reflect::get(env, &JsValue::from_str(CONFIG_VAR)).unwrap_or(JsValue::UNDEFINED);
    let Some(text) = raw.as_string() else {
        return Err(ConfigError {
            key: CONFIG_VAR.into(),
            reason: if raw.is_undefined() {
                "the var is not set (see wrangler.toml)".into()
            } else {
                "must be the config document as TOML text (see wrangler.toml)".into()
            },
        });
    };
    // TOML only: a second (JSON) parser of every config type would cost the bundle 18 KB gzip.
    if text.trim_start().starts_with('{') {
        return Err(ConfigError {
            key: CONFIG_VAR.into(),
            reason: "the worker reads the config document as TOML (JSON is for nps-edge only)"
                .into(),
        });
    }
    let mut config = Config::load_toml(&text)?;
    config.resolve_secrets(|name| env_string(env, name))?;
    let w = &config.worker;
    let state: ObjectNamespace = binding(env, &w.state)
        .ok_or_else(|| missing("worker.state", "Durable Object", &w.state))?;
    let d1: Option<D1> = match &w.d1 {
        Some(name) => Some(binding(env, name).ok_or_else(|| missing("worker.d1", "D1", name))?),
        None => None,
    };
    if let Some(i) = config.sinks.iter().position(SinkConfig::needs_queue) {
        binding::<QueueProducer>(env, &w.queue).ok_or_else(|| ConfigError {
            key: "worker.queue".into(),
            reason: format!(
                "no Queue producer binding `{}` (sinks[{i}] delivers through it)",
                w.queue
            ),
        })?;
    }
    if let (Some(i), None) = (
        config
            .sinks
            .iter()
            .position(|s| matches!(s, SinkConfig::Alert(_))),
        &d1,
    ) {
        return Err(ConfigError {
            key: format!("sinks[{i}].type"),
            reason: "an alert sink needs worker.d1 (alerts are built from the latest stored rev)"
                .into(),
        });
    }
    if let Some(i) = config
        .sinks
        .iter()
        .position(|s| matches!(s, SinkConfig::Smtp { .. }))
    {
        return Err(ConfigError {
            key: format!("sinks[{i}].type"),
            reason: "an smtp sink needs the native server: on the worker, point links.deliver \
                     at a webhook sink (the site's mail service gets nps.invitation events)"
                .into(),
        });
    }
    let mut webhook_keys = Vec::new();
    for (i, s) in config.sinks.iter().enumerate() {
        if let SinkConfig::Webhook { name, secret, .. } = s {
            let key = WebhookSecret::parse(secret).map_err(|reason| ConfigError {
                key: format!("sinks[{i}].secret"),
                reason,
            })?;
            webhook_keys.push((name.clone(), key));
        }
    }
    let mut ip_key = [0u8; 32];
    getrandom::getrandom(&mut ip_key).map_err(|e| ConfigError {
        key: String::new(),
        reason: format!("no random source: {e}"),
    })?;
    // Optional: without it the console and /openapi.json answer 503 (and say why in the log).
    let assets = binding::<Assets>(env, &w.assets);
    let backend = WorkerBackend::new(config.worker.clone(), state, d1, assets);
    Ok(Loaded {
        app: App::new(config, backend, ip_key),
        webhook_keys,
    })
}
