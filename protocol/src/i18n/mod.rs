//! The survey's words, one table per language, shared by the widget and the edge's hosted survey
//! page (the same question in both places). Adding a language = one file here, one `mod` line and one arm in
//! [`strings_for`]. Unknown locales fall back to English (tested in the widget's `tests/web.rs` and below).

mod ar;
mod de;
mod en;
mod es;
mod fr;
mod it;
mod pt;

/// Every text the widget shows, for one language.
pub struct Strings {
    /// BCP 47 primary language of this table (`en`, `fr`…).
    pub lang: &'static str,
    /// Right-to-left script.
    pub rtl: bool,
    /// Accessible name of the survey panel.
    pub dialog: &'static str,
    /// The NPS question, before and after the brand name (no `str::replace` in the wasm).
    pub question: [&'static str; 2],
    /// Label under 0.
    pub low: &'static str,
    /// Label under 10.
    pub high: &'static str,
    /// Follow-up question for promoters (9–10).
    pub promoter: &'static str,
    /// Follow-up question for passives (7–8).
    pub passive: &'static str,
    /// Follow-up question for detractors (0–6).
    pub detractor: &'static str,
    /// Placeholder of the comment box.
    pub placeholder: &'static str,
    /// Detractor opt-in to be contacted.
    pub contact: &'static str,
    /// Promoter review/share link text.
    pub review: &'static str,
    /// Submit button.
    pub send: &'static str,
    /// Thank-you message.
    pub thanks: &'static str,
    /// Close button accessible name.
    pub close: &'static str,
    /// Brand used when the page gives none ("us" is not always grammatical, so a neutral noun).
    pub brand_fallback: &'static str,
}

/// The table for a BCP 47 tag (`fr-CA` → French); unknown → English.
pub fn strings_for(locale: &str) -> &'static Strings {
    let primary = locale.split(['-', '_']).next().unwrap_or("");
    match primary.to_ascii_lowercase().as_str() {
        "fr" => &fr::STRINGS,
        "de" => &de::STRINGS,
        "es" => &es::STRINGS,
        "it" => &it::STRINGS,
        "pt" => &pt::STRINGS,
        "ar" => &ar::STRINGS,
        _ => &en::STRINGS,
    }
}
