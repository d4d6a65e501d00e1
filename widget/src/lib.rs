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
pub mod events;
pub mod host;
/// The survey's strings: one table per language, shared with the edge's hosted survey page.
pub use nps_protocol::i18n;
pub mod survey;
pub mod ui;

use config::{Config, Theme};
use host::Host;
use survey::Survey;

// The survey makes a few hundred small allocations and runs on the page's one thread; a free
// list is plenty and is 4 KB of wasm smaller than std's dlmalloc.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
#[allow(unsafe_code)]
// SAFETY: wasm32-unknown-unknown without the atomics feature has a single thread, so the
// allocator is never used concurrently.
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };

/// The widget's stylesheet (one file, adopted by the shadow root; no comments in it: it ships as
/// is). Theming: `--nps-accent`, `--nps-radius` or `--nps-font` on the host element (custom
/// properties cross the shadow boundary; nothing else does). `:host` is reset with `!important`
/// so page CSS such as `* {all: unset !important}` cannot hide or restyle it (inner-context
/// `!important` wins).
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

/// Focuses the first element matching `selector` in the mounted widget, if any.
pub fn focus(selector: &str) {
    let el = HOST.with(|h| h.borrow().as_ref().and_then(|h| h.shadow_root()));
    if let Some(el) = el.and_then(|r| r.query_selector(selector).ok().flatten()) {
        let _ = el.unchecked_into::<HtmlElement>().focus();
    }
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
    let listener = events::listen(&root, survey);
    let handle = leptos::mount::mount_to(
        root.unchecked_into(),
        move || view! { <ui::Panel s=survey/> },
    );
    MOUNTED.with(|m| *m.borrow_mut() = Some(Box::new((handle, listener))));
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
