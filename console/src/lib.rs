//! The team's console (`/console`): the follow-up figures, the cases board (overdue first) with
//! its filters, and one case — the customer's words and context, notes, status, owner, and the
//! before/after of a resolved case. A client-side Leptos app over the edge's API (gloo-net, the
//! bearer token from the URL fragment as the report page takes it). Everything from answers is
//! text: no HTML is ever built from it.

pub mod api;
pub mod board;
pub mod case_view;
pub mod session;

use leptos::prelude::*;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::session::Session;

/// Mounts the console on the page's body.
#[wasm_bindgen(start)]
pub fn start() {
    leptos::mount::mount_to_body(App);
}

/// What the whole console shares: the session, the selected case, a message for the live region,
/// and a counter that makes the board and the figures read again after a change.
#[derive(Clone, Copy)]
pub struct Ctx {
    pub session: Session,
    pub selected: RwSignal<Option<String>>,
    pub status: RwSignal<String>,
    pub reload: RwSignal<u32>,
}

impl Ctx {
    /// Reads the board and the figures again.
    pub fn refresh(&self) {
        self.reload.update(|n| *n += 1);
    }
}

#[component]
fn App() -> impl IntoView {
    let session = Session::from_location();
    let ctx = Ctx {
        session,
        selected: RwSignal::new(session::case_in_fragment()),
        status: RwSignal::new(String::new()),
        reload: RwSignal::new(0),
    };
    provide_context(ctx);
    view! {
        <header class="top">
            <h1>"NPS console"</h1>
            <Show when=move || session.token.get().is_some() fallback=|| ()>
                <session::SitePicker/>
                <a class="link" href=move || format!("/report#site={}", session.site.get().unwrap_or_default())>
                    "Report"
                </a>
                <button type="button" class="quiet" on:click=move |_| session.sign_out()>"Sign out"</button>
            </Show>
        </header>
        <p class="live" role="status" aria-live="polite">{move || ctx.status.get()}</p>
        <Show when=move || session.token.get().is_some() fallback=|| view! { <session::SignIn/> }>
            <Show when=move || session.site.get().is_some() fallback=|| view! { <p class="empty">"Loading sites…"</p> }>
                <board::Figures/>
                <main class="split">
                    <board::Board/>
                    <case_view::CaseView/>
                </main>
            </Show>
        </Show>
    }
}

/// Hours as people say them: minutes under one hour, days over two.
pub fn duration(hours: f64) -> String {
    if hours < 1.0 {
        format!("{} min", (hours * 60.0).round().max(0.0))
    } else if hours < 48.0 {
        format!("{:.1} h", hours)
    } else {
        format!("{:.1} days", hours / 24.0)
    }
}

/// How long ago an RFC 3339 time was, in words.
pub fn age(rfc3339: &str) -> String {
    let then = js_sys::Date::parse(rfc3339);
    if then.is_nan() {
        return String::new();
    }
    duration((js_sys::Date::now() - then) / 3_600_000.0)
}

/// The day and time of an RFC 3339 time, in the browser's zone.
pub fn when(rfc3339: &str) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(rfc3339));
    String::from(d.to_locale_string("en-GB", &wasm_bindgen::JsValue::UNDEFINED))
}
