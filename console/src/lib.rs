//! The team's console (`/console`), three views: the report (NPS with its interval and comparison,
//! trend, segments, scores, surveys, the latest answers, CSV) and the cases (the follow-up
//! figures, the board, overdue first, with its filters, and one case — the customer's words and
//! context, notes, status, owner, and the before/after of a resolved case) and the e-mail
//! invitations (each batch's funnel, who did not answer). A client-side Leptos
//! app over the edge's API (gloo-net, the bearer token from the URL fragment or typed in).
//! Everything from answers is text: no HTML is ever built from it.

pub mod api;
pub mod board;
pub mod case_view;
pub mod email;
pub mod report;
pub mod session;

use leptos::prelude::*;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::session::Session;

/// Mounts the console on the page's body.
#[wasm_bindgen(start)]
pub fn start() {
    leptos::mount::mount_to_body(App);
}

/// The console's views.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Report,
    Cases,
    Email,
}

impl View {
    fn name(self) -> &'static str {
        match self {
            View::Report => "report",
            View::Cases => "cases",
            View::Email => "email",
        }
    }

    /// The view a link asks for: `?view=report` (where `/report` redirects), an answer
    /// (`#response=…`, a chat alert's link) or a case (`#case=…`); the cases otherwise.
    fn from_location() -> View {
        let search = web_sys::window()
            .and_then(|w| w.location().search().ok())
            .unwrap_or_default();
        let asked = session::query(&search, "view").or_else(|| session::in_fragment("view"));
        match asked.as_deref() {
            Some("report") => View::Report,
            Some("cases") => View::Cases,
            Some("email") => View::Email,
            _ if session::in_fragment("case").is_some() => View::Cases,
            _ if session::in_fragment("response").is_some() => View::Report,
            _ => View::Cases,
        }
    }

    /// Keeps the view in the address (`?view=…`), so a reload or a bookmark comes back to it;
    /// the fragment (site, case, answer; never the token, already gone) stays.
    fn remember(self) {
        let Some(w) = web_sys::window() else {
            return;
        };
        let hash = w.location().hash().unwrap_or_default();
        if let Ok(h) = w.history() {
            let url = format!("/console?view={}{hash}", self.name());
            let _ = h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
        }
    }
}

/// What the whole console shares: the session, the view, the selected case, the answer a link
/// points to, a message for the live region, and a counter that makes the views read again
/// after a change.
#[derive(Clone, Copy)]
pub struct Ctx {
    pub session: Session,
    pub view: RwSignal<View>,
    pub selected: RwSignal<Option<String>>,
    pub focus: RwSignal<Option<String>>,
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
    let view = View::from_location();
    let session = Session::from_location();
    let ctx = Ctx {
        session,
        view: RwSignal::new(view),
        selected: RwSignal::new(session::in_fragment("case")),
        focus: RwSignal::new(session::in_fragment("response")),
        status: RwSignal::new(String::new()),
        reload: RwSignal::new(0),
    };
    provide_context(ctx);
    let tab = move |v: View, label: &'static str| {
        view! {
            <button type="button" class="tab" data-view=v.name()
                aria-current=move || (ctx.view.get() == v).then_some("page")
                on:click=move |_| {
                    ctx.view.set(v);
                    v.remember();
                }>
                {label}
            </button>
        }
    };
    view! {
        <header class="top">
            <h1>"NPS console"</h1>
            <Show when=move || session.token.get().is_some() fallback=|| ()>
                <nav class="views" aria-label="Views">
                    {tab(View::Report, "Report")}
                    {tab(View::Cases, "Cases")}
                    {tab(View::Email, "E-mail")}
                </nav>
                <session::SitePicker/>
                <button type="button" class="quiet" on:click=move |_| session.sign_out()>"Sign out"</button>
            </Show>
        </header>
        <p class="live" role="status" aria-live="polite">{move || ctx.status.get()}</p>
        <Show when=move || session.token.get().is_some() fallback=|| view! { <session::SignIn/> }>
            <Show when=move || session.site.get().is_some() fallback=|| view! { <p class="empty">"Loading sites…"</p> }>
                {move || match ctx.view.get() {
                    View::Report => view! { <main><report::Report/></main> }.into_any(),
                    View::Email => view! { <main><email::Email/></main> }.into_any(),
                    View::Cases => view! {
                        <board::Figures/>
                        <main class="split">
                            <board::Board/>
                            <case_view::CaseView/>
                        </main>
                    }.into_any(),
                }}
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
