//! Component tests in headless Chromium (wasm-bindgen-test + chromedriver): mount the widget with a
//! recording host, click, wait a tick, assert on the shadow DOM and on the JSON handed to the host.

use js_sys::{Array, Function, Object, Reflect};
use nps_widget::i18n::strings_for;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;
use web_sys::{HtmlElement, HtmlInputElement, HtmlTextAreaElement, ShadowRoot};

wasm_bindgen_test_configure!(run_in_browser);

struct Fixture {
    host_el: HtmlElement,
    log: Array,
}

fn set(o: &JsValue, k: &str, v: impl Into<JsValue>) {
    Reflect::set(o, &k.into(), &v.into()).unwrap();
}

/// Mounts the widget; every host callback appends `[name, a, b, c]` to `log`.
fn mount(extra: &[(&str, &str)]) -> Fixture {
    let doc = web_sys::window().unwrap().document().unwrap();
    let host_el: HtmlElement = doc.create_element("nps-survey").unwrap().unchecked_into();
    doc.body().unwrap().append_child(&host_el).unwrap();
    let cfg: JsValue = Object::new().into();
    for (k, v) in [
        ("site", "demo"),
        ("survey", "checkout"),
        ("visitor", "v_test"),
        ("page", "https://shop.example/thanks"),
    ]
    .iter()
    .chain(extra)
    {
        set(&cfg, k, *v);
    }
    let log = Array::new();
    let api: JsValue = Object::new().into();
    for name in ["send", "emit", "close"] {
        let f = Function::new_with_args("a,b,c", &format!("this.log.push(['{name}',a,b,c])"));
        set(&api, name, f);
    }
    set(
        &api,
        "id",
        Function::new_no_args("return crypto.randomUUID()"),
    );
    set(&api, "log", log.clone());
    assert!(nps_widget::mount(host_el.clone(), cfg, api));
    Fixture { host_el, log }
}

impl Fixture {
    fn shadow(&self) -> ShadowRoot {
        self.host_el.shadow_root().unwrap()
    }
    fn q(&self, sel: &str) -> Option<HtmlElement> {
        self.shadow()
            .query_selector(sel)
            .unwrap()
            .map(|e| e.unchecked_into())
    }
    fn all(&self, sel: &str) -> Vec<HtmlElement> {
        let list = self.shadow().query_selector_all(sel).unwrap();
        (0..list.length())
            .map(|i| list.item(i).unwrap().unchecked_into())
            .collect()
    }
    /// `(kind, a, b)` of every host call.
    fn calls(&self) -> Vec<(String, String, String)> {
        self.log
            .iter()
            .map(|e| {
                let e: Array = e.unchecked_into();
                let s = |i| e.get(i).as_string().unwrap_or_default();
                (s(0), s(1), s(2))
            })
            .collect()
    }
    /// Bodies sent to `path`, parsed.
    fn sent(&self, path: &str) -> Vec<JsValue> {
        self.log
            .iter()
            .filter_map(|e| {
                let e: Array = e.unchecked_into();
                (e.get(0).as_string()? == "send" && e.get(1).as_string()? == path)
                    .then(|| js_sys::JSON::parse(&e.get(3).as_string().unwrap()).unwrap())
            })
            .collect()
    }
    fn done(self) {
        nps_widget::unmount();
        self.host_el.remove();
    }
}

fn get(o: &JsValue, k: &str) -> JsValue {
    Reflect::get(o, &k.into()).unwrap()
}

async fn tick() {
    leptos::task::tick().await;
}

#[wasm_bindgen_test]
async fn renders_question_scale_and_sends_shown() {
    let f = mount(&[("brand", "Maison")]);
    tick().await;
    assert_eq!(
        f.q(".q").unwrap().text_content().unwrap(),
        "How likely are you to recommend Maison to a friend or colleague?"
    );
    let radios = f.all(".s");
    assert_eq!(radios.len(), 11);
    assert_eq!(
        f.q("[role=radiogroup]")
            .unwrap()
            .get_attribute("aria-labelledby")
            .unwrap(),
        "nps-q"
    );
    // Roving tabindex: exactly one tab stop.
    let stops = radios.iter().filter(|r| r.tab_index() == 0).count();
    assert_eq!(stops, 1);
    let shown = f.sent("/v1/events");
    assert_eq!(shown.len(), 1);
    assert_eq!(get(&shown[0], "type"), "shown");
    assert_eq!(get(&shown[0], "visitor"), "v_test");
    assert!(f.calls().iter().any(|c| c.0 == "emit" && c.1 == "shown"));
    f.done();
}

#[wasm_bindgen_test]
async fn detractor_flow_sends_rev1_then_rev2_with_contact_opt_in() {
    let f = mount(&[("locale", "fr-FR")]);
    tick().await;
    f.all(".s")[3].click();
    tick().await;
    let sent = f.sent("/v1/responses");
    assert_eq!(sent.len(), 1);
    assert_eq!(get(&sent[0], "rev").as_f64(), Some(1.0));
    assert_eq!(get(&sent[0], "score").as_f64(), Some(3.0));
    assert_eq!(get(&sent[0], "locale"), "fr-FR");
    assert_eq!(
        f.q("label.q").unwrap().text_content().unwrap(),
        strings_for("fr").detractor
    );
    let ta: HtmlTextAreaElement = f.q("textarea").unwrap().unchecked_into();
    assert_eq!(
        ta.max_length(),
        nps_protocol::limits::MAX_COMMENT_CHARS as i32
    );
    ta.set_value("  <img src=x onerror=alert(1)> lent\u{0}  ");
    let cb: HtmlInputElement = f.q("input[type=checkbox]").unwrap().unchecked_into();
    cb.click();
    f.q("button.primary").unwrap().click();
    tick().await;
    let sent = f.sent("/v1/responses");
    assert_eq!(sent.len(), 2);
    assert_eq!(get(&sent[1], "id"), get(&sent[0], "id"));
    assert_eq!(get(&sent[1], "rev").as_f64(), Some(2.0));
    assert_eq!(
        get(&sent[1], "comment"),
        "<img src=x onerror=alert(1)> lent"
    );
    assert_eq!(get(&sent[1], "contact_ok"), JsValue::TRUE);
    assert!(f.q("img").is_none(), "comment never rendered as HTML");
    assert!(f.q(".thanks").is_some());
    let emits: Vec<String> = f
        .calls()
        .into_iter()
        .filter(|c| c.0 == "emit")
        .map(|c| c.1)
        .collect();
    assert_eq!(emits, ["shown", "answered", "submitted"]);
    f.done();
}

#[wasm_bindgen_test]
async fn promoter_gets_review_link_and_passive_does_not() {
    let f = mount(&[("review", "https://reviews.example/x")]);
    tick().await;
    f.all(".s")[10].click();
    tick().await;
    assert_eq!(
        f.q("label.q").unwrap().text_content().unwrap(),
        strings_for("en").promoter
    );
    let link = f.q("a.rv").unwrap();
    assert_eq!(
        link.get_attribute("href").unwrap(),
        "https://reviews.example/x"
    );
    assert!(f.q("input[type=checkbox]").is_none());
    f.done();

    let f = mount(&[("review", "javascript:alert(1)")]);
    tick().await;
    f.all(".s")[7].click();
    tick().await;
    assert_eq!(
        f.q("label.q").unwrap().text_content().unwrap(),
        strings_for("en").passive
    );
    assert!(f.q("a.rv").is_none());
    f.done();
}

#[wasm_bindgen_test]
async fn dismiss_before_answer_sends_dismissed_and_closes() {
    let f = mount(&[]);
    tick().await;
    f.q("button.x").unwrap().click();
    tick().await;
    let events = f.sent("/v1/events");
    assert_eq!(events.len(), 2);
    assert_eq!(get(&events[1], "type"), "dismissed");
    assert!(f
        .calls()
        .iter()
        .any(|c| c.0 == "close" && c.1 == "dismissed"));
    f.done();
}

#[wasm_bindgen_test]
async fn arrow_keys_move_focus_without_answering() {
    let f = mount(&[]);
    tick().await;
    let radios = f.all(".s");
    radios[0].focus().unwrap();
    let group = f.q("[role=radiogroup]").unwrap();
    for key in ["ArrowRight", "ArrowRight", "End", "ArrowLeft"] {
        let init = web_sys::KeyboardEventInit::new();
        init.set_key(key);
        init.set_bubbles(true);
        let ev =
            web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
        f.shadow()
            .active_element()
            .unwrap()
            .dispatch_event(&ev)
            .unwrap();
    }
    tick().await;
    let active = f.shadow().active_element().unwrap();
    assert_eq!(active.text_content().unwrap(), "9");
    assert_eq!(f.all(".s")[9].tab_index(), 0);
    assert_eq!(f.all(".s")[0].tab_index(), -1);
    assert!(f.sent("/v1/responses").is_empty());
    let _ = group;
    f.done();
}

#[wasm_bindgen_test]
async fn identify_values_are_cleaned_against_the_wire_limits() {
    let doc = web_sys::window().unwrap().document().unwrap();
    let host_el: HtmlElement = doc.create_element("nps-survey").unwrap().unchecked_into();
    doc.body().unwrap().append_child(&host_el).unwrap();
    let cfg: JsValue = Object::new().into();
    set(&cfg, "site", "demo");
    set(&cfg, "survey", "checkout");
    set(&cfg, "visitor", "v1");
    set(&cfg, "page", "javascript:alert(1)");
    let user: JsValue = Object::new().into();
    set(&user, "id", "not an id!");
    set(&user, "account", "acme");
    set(&user, "email", "nope");
    set(&cfg, "user", user);
    let props: JsValue = Object::new().into();
    set(&props, "plan", "pro");
    set(&props, "n", 3.0);
    set(&props, "bad key", "x");
    set(&cfg, "properties", props);
    let log = Array::new();
    let api: JsValue = Object::new().into();
    set(
        &api,
        "send",
        Function::new_with_args("a,b,c", "this.log.push(c)"),
    );
    set(
        &api,
        "id",
        Function::new_no_args("return crypto.randomUUID()"),
    );
    set(&api, "log", log.clone());
    assert!(nps_widget::mount(host_el.clone(), cfg, api));
    tick().await;
    let s: HtmlElement = host_el
        .shadow_root()
        .unwrap()
        .query_selector_all(".s")
        .unwrap()
        .item(5)
        .unwrap()
        .unchecked_into();
    s.click();
    tick().await;
    let body = log.get(1).as_string().unwrap();
    assert_eq!(
        body.split(",\"sent_at\"")
            .next()
            .unwrap()
            .split(",\"visitor\"")
            .nth(1)
            .unwrap(),
        r#":"v1","user":{"account":"acme"},"properties":{"n":"3","plan":"pro"}"#
    );
    nps_widget::unmount();
    host_el.remove();
}

#[wasm_bindgen_test]
fn invalid_config_is_refused_without_throwing() {
    let doc = web_sys::window().unwrap().document().unwrap();
    let host_el: HtmlElement = doc.create_element("nps-survey").unwrap().unchecked_into();
    let cfg: JsValue = Object::new().into();
    set(&cfg, "site", "bad site");
    assert!(!nps_widget::mount(host_el, cfg, Object::new().into()));
}

#[wasm_bindgen_test]
fn every_locale_has_a_table_and_unknown_falls_back_to_english() {
    for l in ["en", "fr", "de", "es", "it", "pt", "ar"] {
        assert_eq!(strings_for(l).lang, l);
    }
    assert_eq!(strings_for("fr-CA").lang, "fr");
    assert_eq!(strings_for("zz").lang, "en");
    assert!(strings_for("ar-EG").rtl);
}

#[wasm_bindgen_test]
fn roving_keys_follow_reading_direction_and_stop_at_the_ends() {
    use nps_widget::events::rove;
    assert_eq!(rove("ArrowRight", 3, false), Some(4));
    assert_eq!(rove("ArrowRight", 3, true), Some(2));
    assert_eq!(rove("ArrowLeft", 3, true), Some(4));
    assert_eq!(rove("ArrowLeft", 0, false), Some(0));
    assert_eq!(rove("ArrowDown", 10, false), Some(10));
    assert_eq!(rove("Home", 7, true), Some(0));
    assert_eq!(rove("End", 2, false), Some(10));
    assert_eq!(rove("a", 2, false), None);
}

/// The wasm-streams shim (`widget/shims/wasm-streams`, patched in for leptos → server_fn): a Rust
/// stream becomes a real JS `ReadableStream` and reads back item by item, in order, to the end.
#[wasm_bindgen_test]
async fn stream_shim_round_trips() {
    use futures_util::StreamExt;
    let items: Vec<Result<JsValue, JsValue>> = vec![Ok(1.into()), Ok("two".into()), Ok(3.into())];
    let raw =
        wasm_streams::ReadableStream::from_stream(futures_util::stream::iter(items)).into_raw();
    assert!(raw.is_instance_of::<web_sys::ReadableStream>());
    let back: Vec<Result<JsValue, JsValue>> = wasm_streams::ReadableStream::from_raw(raw)
        .into_stream()
        .collect()
        .await;
    let back: Vec<JsValue> = back.into_iter().map(Result::unwrap).collect();
    assert_eq!(back, [JsValue::from(1), "two".into(), 3.into()]);
}
