//! What the loader hands to the widget, read from a plain JS object (no serde: it would cost tens
//! of kilobytes of wasm). Every value is cleaned against the wire limits of `nps-protocol`, so a
//! sloppy `nps('identify', …)` call cannot get a whole answer rejected by the edge.

use std::collections::BTreeMap;

use js_sys::{Object, Reflect};
use nps_protocol::limits::{
    is_valid_id, MAX_EMAIL_CHARS, MAX_PAGE_CHARS, MAX_PROPERTIES, MAX_PROPERTY_VALUE_CHARS,
};
use nps_protocol::text::clean_line;
use nps_protocol::validate::{is_http_url, is_plausible_email, is_plausible_locale, is_signature};
use nps_protocol::User;
use wasm_bindgen::{JsCast, JsValue};

/// Light, dark, or following the visitor's system setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Theme {
    /// Always light.
    Light,
    /// Always dark.
    Dark,
    /// `prefers-color-scheme`.
    Auto,
}

/// Everything the widget needs to render and send one survey.
#[derive(Clone, Debug)]
pub struct Config {
    /// Site id on the edge.
    pub site: String,
    /// Survey id within the site.
    pub survey: String,
    /// Random visitor id kept by the loader.
    pub visitor: String,
    /// BCP 47 locale to show the survey in (already validated).
    pub locale: Option<String>,
    /// Brand named in the question.
    pub brand: Option<String>,
    /// Review/share link offered to promoters (http/https only).
    pub review: Option<String>,
    /// Accent colour (a CSS colour, sanitised).
    pub accent: Option<String>,
    /// Colour scheme.
    pub theme: Theme,
    /// Slide-in corner panel (`true`) or inline block.
    pub float: bool,
    /// Float on the left instead of the right.
    pub left: bool,
    /// Page URL, trimmed to the wire limit.
    pub page: Option<String>,
    /// Customer context from `nps('identify')`.
    pub user: Option<User>,
    /// Free-form properties from `nps('identify')`.
    pub properties: BTreeMap<String, String>,
    /// Move focus into the widget when it opens (the loader says so when nothing else has focus).
    pub autofocus: bool,
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// A non-empty string property (numbers are accepted and stringified).
fn text(obj: &JsValue, key: &str) -> Option<String> {
    let v = get(obj, key);
    let s = match v.as_string() {
        Some(s) => s,
        None => v
            .as_f64()
            .map(|n| js_sys::Number::from(n).to_string_with_radix(10).ok())??
            .into(),
    };
    let s = clean_line(&s);
    (!s.is_empty()).then_some(s)
}

/// Cuts `s` to at most `max` characters.
pub fn truncate_chars(mut s: String, max: usize) -> String {
    if let Some((i, _)) = s.char_indices().nth(max) {
        s.truncate(i);
    }
    s
}

fn id(obj: &JsValue, key: &str) -> Option<String> {
    text(obj, key).filter(|s| {
        let ok = is_valid_id(s);
        if !ok {
            crate::warn("nps: ignoring an identify value that is not a valid id (A-Z a-z 0-9 _ . : -, 64 max)");
        }
        ok
    })
}

/// Only characters that can form a CSS colour, so the value cannot escape its declaration.
fn css_colour(s: String) -> Option<String> {
    let ok = s.len() <= 64
        && s.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '#' | '(' | ')' | ',' | '.' | '%' | ' ' | '-')
        });
    ok.then_some(s)
}

impl Config {
    /// Reads the loader's config object. `site`, `survey` and `visitor` must be valid ids.
    pub fn from_js(obj: &JsValue) -> Option<Config> {
        let site = id(obj, "site")?;
        let survey = id(obj, "survey")?;
        let visitor = id(obj, "visitor")?;
        let user_obj = get(obj, "user");
        let user = user_obj.is_object().then(|| User {
            id: id(&user_obj, "id"),
            account: id(&user_obj, "account"),
            order: id(&user_obj, "order"),
            email: text(&user_obj, "email")
                .filter(|e| e.chars().count() <= MAX_EMAIL_CHARS && is_plausible_email(e)),
            signature: text(&user_obj, "signature").filter(|s| is_signature(s)),
        });
        let mut properties = BTreeMap::new();
        let props = get(obj, "properties");
        if let Some(p) = props.dyn_ref::<Object>() {
            for key in Object::keys(p).iter() {
                let Some(k) = key.as_string().filter(|k| is_valid_id(k)) else {
                    continue;
                };
                if let Some(v) = text(&props, &k) {
                    if properties.len() < MAX_PROPERTIES {
                        properties.insert(k, truncate_chars(v, MAX_PROPERTY_VALUE_CHARS));
                    }
                }
            }
        }
        let theme = match text(obj, "theme").as_deref() {
            Some("dark") => Theme::Dark,
            Some("auto") => Theme::Auto,
            _ => Theme::Light,
        };
        Some(Config {
            site,
            survey,
            visitor,
            locale: text(obj, "locale").filter(|l| is_plausible_locale(l)),
            brand: text(obj, "brand").map(|b| truncate_chars(b, 80)),
            review: text(obj, "review").filter(|u| is_http_url(u)),
            accent: text(obj, "accent").and_then(css_colour),
            theme,
            float: text(obj, "mode").as_deref() != Some("inline"),
            left: text(obj, "position").is_some_and(|p| p.contains("left")),
            page: text(obj, "page")
                .map(|p| truncate_chars(p, MAX_PAGE_CHARS))
                .filter(|p| is_http_url(p)),
            user: user.filter(|u| !u.is_empty()),
            properties,
            autofocus: get(obj, "autofocus").is_truthy(),
        })
    }
}
