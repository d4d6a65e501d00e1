//! Leptos/WASM NPS survey widget.
//!
//! The plain-JS loader (`loader/nps.js`) decides whether and when to show the survey, then loads
//! this module and calls [`mount`] with a host element, a config object and its callbacks. The
//! widget renders into a Shadow DOM styled by a constructable stylesheet (strict-CSP friendly),
//! builds the wire JSON with `nps-protocol` and hands it to the loader, which delivers it.

use std::cell::{Cell, RefCell};

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use web_sys::{CssStyleSheet, HtmlElement, ShadowRootInit, ShadowRootMode};

pub mod config;
pub mod host;
pub mod i18n;
pub mod survey;
pub mod ui;

use config::{Config, Theme};
use host::Host;
use survey::Survey;

/// The widget's stylesheet (one file, scoped by the Shadow DOM).
pub const CSS: &str = include_str!("style.css");

thread_local! {
    static MOUNTED: RefCell<Option<Box<dyn std::any::Any>>> = RefCell::new(None);
    static HOST: RefCell<Option<HtmlElement>> = const { RefCell::new(None) };
    static WARNED: Cell<bool> = const { Cell::new(false) };
}

/// Logs to the console once per page: the host page never sees more than one line from us.
pub fn warn(msg: &str) {
    if !WARNED.with(|w| w.replace(true)) {
        web_sys::console::warn_1(&JsValue::from_str(msg));
    }
}

/// A random UUID v4 (the idempotency key of responses and events).
pub fn uuid() -> String {
    let mut b = [0u8; 16];
    let crypto = web_sys::window().and_then(|w| w.crypto().ok());
    if crypto
        .and_then(|c| c.get_random_values_with_u8_array(&mut b).ok())
        .is_none()
    {
        for x in b.iter_mut() {
            *x = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut s = String::with_capacity(36);
    for (i, x) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        for n in [x >> 4, x & 15] {
            s.push(char::from_digit(n.into(), 16).unwrap_or('0'));
        }
    }
    s
}

/// On a panic (an abort follows: the profile has `panic = "abort"`): one console line, and the
/// widget leaves the page. No unwinding, no formatting of the panic message (it costs wasm).
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|_| {
        warn("nps: the survey widget hit an internal error and was hidden");
        let _ = HOST.try_with(|h| {
            if let Some(h) = h.try_borrow().ok().as_ref().and_then(|h| h.as_ref()) {
                h.remove();
            }
        });
    }));
}

/// The full stylesheet: the base CSS plus the configured accent colour.
pub fn stylesheet(cfg: &Config) -> String {
    let mut css = String::from(CSS);
    if let Some(a) = &cfg.accent {
        css.push_str(":host{--nps-accent:");
        css.push_str(a);
        css.push('}');
    }
    css
}

/// Renders the survey into `host_el`'s (open) shadow root. `config` and `api` come from the
/// loader (see `loader/nps.js`). Returns `false` when the config is invalid.
#[wasm_bindgen]
pub fn mount(host_el: HtmlElement, config: JsValue, api: JsValue) -> bool {
    install_panic_hook();
    unmount();
    let Some(cfg) = Config::from_js(&config) else {
        warn("nps: data-site, data-survey and the visitor id must be ids (A-Z a-z 0-9 _ . : -)");
        return false;
    };
    let shadow = match host_el.shadow_root() {
        Some(s) => s,
        None => match host_el.attach_shadow(&ShadowRootInit::new(ShadowRootMode::Open)) {
            Ok(s) => s,
            Err(_) => return false,
        },
    };
    shadow.set_inner_html("");
    let css = stylesheet(&cfg);
    match CssStyleSheet::new() {
        Ok(sheet) if sheet.replace_sync(&css).is_ok() => {
            shadow.set_adopted_style_sheets(&js_sys::Array::of1(&sheet));
        }
        // No constructable stylesheets (very old browsers): a <style> element, which a strict
        // CSP without 'unsafe-inline' will block; the survey still works, unstyled.
        _ => {
            if let Ok(style) = document().create_element("style") {
                style.set_text_content(Some(&css));
                let _ = shadow.append_child(&style);
            }
        }
    }
    let Ok(root) = document().create_element("div") else {
        return false;
    };
    let mut class = String::from("w");
    class.push_str(if cfg.float { " float" } else { " inline" });
    if cfg.left {
        class.push_str(" left");
    }
    class.push_str(match cfg.theme {
        Theme::Light => "",
        Theme::Dark => " dark",
        Theme::Auto => " auto",
    });
    root.set_class_name(&class);
    if shadow.append_child(&root).is_err() {
        return false;
    }
    let survey = Survey::new(cfg, Host::new(api));
    let handle = leptos::mount::mount_to(
        root.unchecked_into(),
        move || view! { <ui::Panel s=survey/> },
    );
    MOUNTED.with(|m| *m.borrow_mut() = Some(Box::new(handle)));
    HOST.with(|h| *h.borrow_mut() = Some(host_el));
    survey.shown();
    true
}

/// Removes the survey (the loader removes the host element).
#[wasm_bindgen]
pub fn unmount() {
    let old = MOUNTED.with(|m| m.borrow_mut().take());
    drop(old);
    survey::clear();
    HOST.with(|h| h.borrow_mut().take());
}
