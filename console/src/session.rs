//! Who is signed in, on which site. The token comes as the report page takes it: typed in, or in
//! the URL fragment (`#token=…`, never sent to a server), kept in `sessionStorage` (the same key
//! as the report page, so one sign-in opens both) and removed from the address bar.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;

/// The `sessionStorage` key the report page uses too.
const TOKEN_KEY: &str = "nps-report-token";

/// The token and the site.
#[derive(Clone, Copy)]
pub struct Session {
    pub token: RwSignal<Option<String>>,
    pub site: RwSignal<Option<String>>,
    pub sites: RwSignal<Vec<String>>,
    /// Why the last sign-in failed.
    pub message: RwSignal<String>,
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

fn fragment() -> Vec<(String, String)> {
    let hash = web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default();
    hash.trim_start_matches('#')
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| {
            let v = js_sys::decode_uri_component(v).map_or(v.to_string(), String::from);
            (k.to_string(), v)
        })
        .collect()
}

/// The case named in the fragment (`#case=…`), e.g. by a chat alert's link.
pub fn case_in_fragment() -> Option<String> {
    fragment()
        .into_iter()
        .find(|(k, _)| k == "case")
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
            if let Some(h) = web_sys::window().and_then(|w| w.history().ok()) {
                let url = format!("/console#{}", rest.join("&"));
                let _ = h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
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
                        .filter(|w| list.contains(w))
                        .or_else(|| list.first().cloned());
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
                ctx.selected.set(None);
            }>
                {move || {
                    let current = s.site.get();
                    s.sites
                        .get()
                        .into_iter()
                        .map(|id| {
                            let selected = current.as_deref() == Some(id.as_str());
                            view! { <option value=id.clone() selected=selected>{id.clone()}</option> }
                        })
                        .collect_view()
                }}
            </select>
        </label>
    }
}
