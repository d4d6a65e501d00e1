//! Config loaded once per isolate at the first request, validated, with secrets resolved.
//! A bad config is reported on every request as a clear 503 problem naming the bad key.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::JsValue;
use worker::Env;

use crate::local_core::config::{Config, Sink};
use nps_edge_core::config::ConfigError;
use nps_edge_core::webhook::WebhookSecret;

/// Name of the var holding the config (JSON or TOML text, or an object var in wrangler.toml).
pub(crate) const CONFIG_VAR: &str = "NPS_CONFIG";

/// The validated config plus what was resolved from secrets.
pub(crate) struct Loaded {
    pub(crate) config: Config,
    /// Webhook sink name → signing secret (`whsec_…`).
    pub(crate) webhook_keys: Vec<(String, WebhookSecret)>,
    /// Per-isolate random key for hashing client addresses (never leaves memory).
    pub(crate) client_hash_key: [u8; 32],
}

impl Loaded {
    pub(crate) fn webhook_key(&self, name: &str) -> Option<&WebhookSecret> {
        self.webhook_keys
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, k)| k)
    }
}

thread_local! {
    static LOADED: RefCell<Option<Result<Rc<Loaded>, Rc<str>>>> = const { RefCell::new(None) };
}

/// The config of this isolate, loading it on first use.
pub(crate) fn get(env: &Env) -> Result<Rc<Loaded>, Rc<str>> {
    if let Some(r) = LOADED.with(|l| l.borrow().clone()) {
        return r;
    }
    let r = load(env).map(Rc::new).map_err(|e| {
        worker::console_error!("nps-worker: {e}");
        Rc::<str>::from(e)
    });
    LOADED.with(|l| *l.borrow_mut() = Some(r.clone()));
    r
}

fn load(env: &Env) -> Result<Loaded, String> {
    let raw =
        js_sys::Reflect::get(env, &JsValue::from_str(CONFIG_VAR)).unwrap_or(JsValue::UNDEFINED);
    let text = if let Some(s) = raw.as_string() {
        s
    } else if raw.is_object() {
        js_sys::JSON::stringify(&raw)
            .ok()
            .and_then(|s| s.as_string())
            .unwrap_or_default()
    } else {
        return Err(format!(
            "invalid config at `{CONFIG_VAR}`: the var is not set (see wrangler.toml)"
        ));
    };
    let mut config = Config::from_text(&text).map_err(|e| e.to_string())?;
    config.validate().map_err(|e| e.to_string())?;
    resolve_close_loop(env, &mut config)?;
    let mut webhook_keys = Vec::new();
    for (i, sink) in config.sinks.iter().enumerate() {
        match sink {
            Sink::Webhook {
                name,
                secret,
                queue,
                ..
            } => {
                let value = js_sys::Reflect::get(env, &JsValue::from_str(secret))
                    .ok()
                    .and_then(|v| v.as_string())
                    .ok_or_else(|| {
                        format!("invalid config at `sinks[{i}].secret`: secret `{secret}` is not set (wrangler secret put {secret})")
                    })?;
                let key = WebhookSecret::parse(value.trim()).map_err(|e| {
                    format!("invalid config at `sinks[{i}].secret`: secret `{secret}` {e}")
                })?;
                env.queue(queue).map_err(|_| {
                    format!(
                        "invalid config at `sinks[{i}].queue`: no queue producer binding `{queue}`"
                    )
                })?;
                webhook_keys.push((name.clone(), key));
            }
            Sink::Alert(_) => {}
            Sink::D1 { binding } => {
                env.d1(binding).map_err(|_| {
                    format!("invalid config at `sinks[{i}].binding`: no D1 binding `{binding}`")
                })?;
            }
        }
    }
    env.durable_object(&config.dedup.binding).map_err(|_| {
        format!(
            "invalid config at `dedup.binding`: no Durable Object binding `{}`",
            config.dedup.binding
        )
    })?;
    let mut client_hash_key = [0u8; 32];
    for b in client_hash_key.iter_mut() {
        *b = (js_sys::Math::random() * 256.0) as u8;
    }
    Ok(Loaded {
        config,
        webhook_keys,
        client_hash_key,
    })
}

/// The value of a secret or var binding, when it is a string.
fn env_string(env: &Env, name: &str) -> Option<String> {
    js_sys::Reflect::get(env, &JsValue::from_str(name))
        .ok()
        .and_then(|v| v.as_string())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// A secret that failed to resolve, worded for the worker (its `env:` values are secrets).
fn secret_error(e: ConfigError) -> String {
    format!(
        "invalid config at `{}`: {}",
        e.key,
        e.reason.replace("environment variable", "secret")
    )
}

/// Tokens and alert URLs: the config names secrets (`wrangler secret put NAME`), resolved here
/// through the core's own checks (token length, http(s) URL).
fn resolve_close_loop(env: &Env, config: &mut Config) -> Result<(), String> {
    let t = &mut config.tokens;
    for v in [&mut t.admin, &mut t.read].into_iter().flatten() {
        if !v.starts_with("env:") {
            *v = format!("env:{v}");
        }
    }
    config
        .tokens
        .resolve_secrets(|name| env_string(env, name))
        .map_err(secret_error)?;
    let mut needs_queue = false;
    for (i, sink) in config.sinks.iter_mut().enumerate() {
        if let Sink::Alert(a) = sink {
            needs_queue = true;
            a.resolve_secrets(&format!("sinks[{i}]"), |name| env_string(env, name))
                .map_err(secret_error)?;
        }
    }
    if needs_queue {
        env.queue(&config.delivery.queue).map_err(|_| {
            format!(
                "invalid config at `delivery.queue`: no queue producer binding `{}` (alert jobs go there)",
                config.delivery.queue
            )
        })?;
    }
    Ok(())
}
