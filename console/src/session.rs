//! Who is signed in, on which site. The token is typed in, or comes in the URL fragment
//! (`#token=…`, never sent to a server); it is kept in `sessionStorage` (this tab only) and
//! removed from the address bar at once.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;

/// The `sessionStorage` key. The former report page (`/report`, now a redirect here) used it
/// too: a tab signed in there stays signed in.
const TOKEN_KEY: &str = "nps-report-token";

/// The token and the site.
#[derive(Clone, Copy)]
pub struct Session {
    pub token: RwSignal<Option<String>>,
    pub site: RwSignal<Option<String>>,
    pub sites: RwSignal<Vec<api::Site>>,
    /// Why the last sign-in failed.
    pub message: RwSignal<String>,
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

/// The `key=value` pairs of a fragment or a query string, decoded.
fn pairs(raw: &str) -> Vec<(String, String)> {
    raw.trim_start_matches(['#', '?'])
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| {
            let v = js_sys::decode_uri_component(v).map_or(v.to_string(), String::from);
            (k.to_string(), v)
        })
        .collect()
}

fn fragment() -> Vec<(String, String)> {
    let hash = web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default();
    pairs(&hash)
}

/// A value of a query string (`?view=report`).
pub fn query(search: &str, key: &str) -> Option<String> {
    pairs(search)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

/// A value of the fragment: the case (`#case=…`) or the answer (`#response=…`) a chat alert's
/// link names, the site, the view.
pub fn in_fragment(key: &str) -> Option<String> {
    fragment()
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

impl Session {
    /// The session this page starts with; the token leaves the address bar.
    pub fn from_location() -> Session {
        let frag = fragment();
        let token = frag
            .iter()
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.clone());
        if let (Some(t), Some(s)) = (&token, storage()) {
            let _ = s.set_item(TOKEN_KEY, t);
            let rest: Vec<String> = frag
                .iter()
                .filter(|(k, _)| k != "token")
                .map(|(k, v)| format!("{k}={}", js_sys::encode_uri_component(v)))
                .collect();
            if let Some(w) = web_sys::window() {
                let search = w.location().search().unwrap_or_default();
                let url = format!("/console{search}#{}", rest.join("&"));
                if let Ok(h) = w.history() {
                    let _ = h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
                }
            }
        }
        let token = token.or_else(|| storage()?.get_item(TOKEN_KEY).ok()?);
        let site = frag.into_iter().find(|(k, _)| k == "site").map(|(_, v)| v);
        let s = Session {
            token: RwSignal::new(token),
            site: RwSignal::new(None),
            sites: RwSignal::new(Vec::new()),
            message: RwSignal::new(String::new()),
        };
        s.load_sites(site);
        s
    }

    /// Reads the sites this token opens and picks one (the fragment's, or the first).
    fn load_sites(&self, wanted: Option<String>) {
        let Some(token) = self.token.get_untracked() else {
            return;
        };
        let s = *self;
        spawn_local(async move {
            match api::sites(&token).await {
                Ok(list) => {
                    let pick = wanted
                        .filter(|w| list.iter().any(|s| &s.id == w))
                        .or_else(|| list.first().map(|s| s.id.clone()));
                    s.sites.set(list);
                    s.site.set(pick);
                }
                Err(e) => {
                    s.sign_out();
                    s.message.set(e);
                }
            }
        });
    }

    /// Forgets the token.
    pub fn sign_out(&self) {
        if let Some(s) = storage() {
            let _ = s.remove_item(TOKEN_KEY);
        }
        self.token.set(None);
        self.site.set(None);
    }

    fn sign_in(&self, token: String) {
        if let Some(s) = storage() {
            let _ = s.set_item(TOKEN_KEY, &token);
        }
        self.message.set(String::new());
        self.token.set(Some(token));
        self.load_sites(None);
    }
}

/// The sign-in form (a token from the edge's operator).
#[component]
pub fn SignIn() -> impl IntoView {
    let ctx = expect_context::<crate::Ctx>();
    let value = RwSignal::new(String::new());
    view! {
        <form class="signin" on:submit=move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let t = value.get_untracked().trim().to_string();
            if !t.is_empty() {
                value.set(String::new());
                ctx.session.sign_in(t);
            }
        }>
            <label for="token">"Access token"</label>
            <input id="token" type="password" autocomplete="off" required
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))/>
            <button type="submit">"Sign in"</button>
            <p class="error" role="alert">{move || ctx.session.message.get()}</p>
        </form>
    }
}

/// The site this console works on.
#[component]
pub fn SitePicker() -> impl IntoView {
    let ctx = expect_context::<crate::Ctx>();
    let s = ctx.session;
    view! {
        <label class="site">
            "Site "
            <select on:change=move |ev| {
                s.site.set(Some(event_target_value(&ev)));
                // A case or an answer belongs to the site it was opened on.
                ctx.selected.set(None);
                ctx.focus.set(None);
            }>
                {move || {
                    let current = s.site.get();
                    s.sites
                        .get()
                        .into_iter()
                        .map(|site| {
                            let id = site.id;
                            let selected = current.as_deref() == Some(id.as_str());
                            view! { <option value=id.clone() selected=selected>{id.clone()}</option> }
                        })
                        .collect_view()
                }}
            </select>
        </label>
    }
}
