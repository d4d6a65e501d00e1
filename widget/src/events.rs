//! Everything a visitor does, handled by ONE listener on the widget root: clicks, keys, focus and
//! the comment form. Leptos' own event delegation listens on `window` and cannot see into a
//! Shadow DOM, and an `on:` handler per element costs rendering code for each; dispatching by
//! target here keeps the views static (see the size notes in the README).

use nps_protocol::limits::MAX_SCORE;
use wasm_bindgen::prelude::*;
use web_sys::{Element, Event, HtmlElement, HtmlInputElement, HtmlTextAreaElement, KeyboardEvent};

use crate::survey::Survey;

/// Event types the root listens to.
pub const TYPES: [&str; 4] = ["click", "keydown", "focusin", "submit"];

/// Attaches the listener to `root` (the widget's container in the shadow root). The returned
/// closure must live as long as the listener: the caller keeps it with the mounted widget. It is
/// `Fn`, not `FnMut`, because it is re-entered: focusing a score from a keydown fires `focusin`.
pub fn listen(root: &Element, s: Survey) -> Closure<dyn Fn(Event)> {
    let cb = Closure::<dyn Fn(Event)>::new(move |ev: Event| handle(s, ev));
    for ty in TYPES {
        let _ = root.add_event_listener_with_callback(ty, cb.as_ref().unchecked_ref());
    }
    cb
}

/// The score button at or around `el`, with its score (`0`…`10`, from its text).
fn score_button(el: &Element) -> Option<(Element, u8)> {
    let b = el.closest(".s").ok()??;
    let n = b.text_content()?.parse().ok()?;
    Some((b, n))
}

fn handle(s: Survey, ev: Event) {
    let Some(target) = ev.target().and_then(|t| t.dyn_into::<Element>().ok()) else {
        return;
    };
    match ev.type_().as_str() {
        "click" => {
            if let Some((_, n)) = score_button(&target) {
                s.choose(n);
            } else if target.closest(".x").ok().flatten().is_some() {
                s.dismiss();
            } else if target.closest(".rv").ok().flatten().is_some() {
                s.review_clicked();
            }
        }
        "keydown" => {
            let key = ev.unchecked_ref::<KeyboardEvent>().key();
            if key == "Escape" {
                ev.stop_propagation();
                s.dismiss();
            } else if let Some((b, n)) = score_button(&target) {
                if let Some(next) = rove(&key, n, s.t.rtl) {
                    ev.prevent_default();
                    if let Some(e) = b
                        .parent_element()
                        .and_then(|g| g.children().item(next.into()))
                    {
                        let _ = e.unchecked_into::<HtmlElement>().focus();
                    }
                }
            }
        }
        // Roving tabindex: the focused score is the group's only tab stop.
        "focusin" => {
            if let Some((b, n)) = score_button(&target) {
                if let Some(group) = b.parent_element() {
                    let all = group.children();
                    for i in 0..all.length() {
                        if let Some(e) = all.item(i) {
                            let stop = if i == u32::from(n) { "0" } else { "-1" };
                            let _ = e.set_attribute("tabindex", stop);
                        }
                    }
                }
            }
        }
        "submit" => {
            ev.prevent_default();
            let find = |sel| target.query_selector(sel).ok().flatten();
            let comment = find("textarea")
                .map(|e| e.unchecked_into::<HtmlTextAreaElement>().value())
                .unwrap_or_default();
            let contact_ok =
                find("input").is_some_and(|e| e.unchecked_into::<HtmlInputElement>().checked());
            s.submit(&comment, contact_ok);
        }
        _ => {}
    }
}

/// Where an arrow/Home/End key moves focus in the scale from score `cur` (arrows follow the
/// reading direction); `None` for other keys. Moving never answers: choosing is explicit.
pub fn rove(key: &str, cur: u8, rtl: bool) -> Option<u8> {
    let (up, down) = ((cur + 1).min(MAX_SCORE), cur.saturating_sub(1));
    Some(match key {
        "ArrowRight" if rtl => down,
        "ArrowLeft" if rtl => up,
        "ArrowRight" | "ArrowDown" => up,
        "ArrowLeft" | "ArrowUp" => down,
        "Home" => 0,
        "End" => MAX_SCORE,
        _ => return None,
    })
}
