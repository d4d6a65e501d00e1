//! The survey's state and every action a visitor can take. Components only call these methods,
//! so the wire behaviour (revs, events, DOM events) is defined in one place.

use std::cell::RefCell;

use leptos::prelude::*;
use nps_protocol::json::{event_to_json, response_to_json};
use nps_protocol::limits::MAX_COMMENT_CHARS;
use nps_protocol::text::clean_comment;
use nps_protocol::{Event, EventType, Response, Segment};
use wasm_bindgen::JsValue;

use crate::config::{truncate_chars, Config};
use crate::host::Host;
use crate::i18n::{strings_for, Strings};

/// Which screen is showing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The 0–10 question.
    Question,
    /// The segment's follow-up question and comment box.
    FollowUp(Segment),
    /// Thank-you, then the widget closes.
    Thanks,
}

/// Data that is not reactive: the config, the loader bridge and the answer being built.
pub struct Data {
    /// Loader configuration (its context fields are moved into `response`).
    pub cfg: Config,
    /// Loader callbacks.
    pub host: Host,
    /// The current answer; `rev == 0` until a score is chosen.
    pub response: Response,
}

thread_local! {
    // One survey per page. A thread-local costs less wasm than a reactive `StoredValue`.
    static DATA: RefCell<Option<Data>> = const { RefCell::new(None) };
}

/// Runs `f` on the survey data; `None` once the survey is unmounted (or on re-entry).
fn with_data<R>(f: impl FnOnce(&mut Data) -> R) -> Option<R> {
    DATA.with(|d| d.try_borrow_mut().ok()?.as_mut().map(f))
}

/// Forgets the survey data (on unmount).
pub fn clear() {
    DATA.with(|d| {
        if let Ok(mut d) = d.try_borrow_mut() {
            *d = None;
        }
    });
}

/// The survey handle, handed to every component as a prop (it is `Copy`; a prop costs less wasm
/// than a context lookup).
#[derive(Clone, Copy)]
pub struct Survey {
    /// Current screen.
    pub step: RwSignal<Step>,
    /// Strings in the survey's language.
    pub t: &'static Strings,
}

/// How long the thank-you stays before the widget closes.
const THANKS_MS: u64 = 2500;

/// `{id, site, survey, score?, segment?, comment?}` for DOM events.
fn detail(d: &Data) -> JsValue {
    let o = js_sys::Object::new();
    let set = |k: &str, v: JsValue| {
        let _ = js_sys::Reflect::set(&o, &JsValue::from_str(k), &v);
    };
    set("site", d.response.site.as_str().into());
    set("survey", d.response.survey.as_str().into());
    if d.response.rev > 0 {
        set("id", d.response.id.as_str().into());
        set("score", d.response.score.into());
        if let Some(s) = d.response.segment() {
            set("segment", s.as_str().into());
        }
        if let Some(c) = &d.response.comment {
            set("comment", c.as_str().into());
        }
    }
    o.into()
}

impl Survey {
    /// Builds the survey for a config (replacing any previous one).
    pub fn new(mut cfg: Config, host: Host) -> Survey {
        let t = strings_for(cfg.locale.as_deref().unwrap_or("en"));
        // The answer owns the context (moved, not cloned: less wasm); events read it from there.
        let take = std::mem::take::<String>;
        let response = Response {
            id: host.id(),
            site: take(&mut cfg.site),
            survey: take(&mut cfg.survey),
            locale: cfg.locale.take(),
            visitor: take(&mut cfg.visitor),
            page: cfg.page.take(),
            user: cfg.user.take(),
            properties: std::mem::take(&mut cfg.properties),
            ..Response::default()
        };
        DATA.with(|d| {
            *d.borrow_mut() = Some(Data {
                cfg,
                host,
                response,
            })
        });
        Survey {
            step: RwSignal::new(Step::Question),
            t,
        }
    }

    /// Reads the config.
    pub fn cfg<R>(&self, f: impl FnOnce(&Config) -> R) -> Option<R> {
        with_data(|d| f(&d.cfg))
    }

    /// The question with the brand filled in.
    pub fn question(&self) -> String {
        let [before, after] = self.t.question;
        let mut q = String::from(before);
        let brand = self.cfg(|c| c.brand.clone()).flatten();
        q.push_str(brand.as_deref().unwrap_or(self.t.brand_fallback));
        q.push_str(after);
        q
    }

    /// The promoter review link, when configured.
    pub fn review_url(&self) -> Option<String> {
        self.cfg(|c| c.review.clone()).flatten()
    }

    /// Sends an event and fires the matching DOM event. Host calls happen outside the data
    /// borrow, so a page listener may call back into the widget (e.g. `nps('hide')`).
    fn event(&self, kind: EventType) {
        let Some((host, json, id, detail)) = with_data(|d| {
            let r = &d.response;
            let e = Event {
                id: d.host.id(),
                site: r.site.clone(),
                survey: r.survey.clone(),
                visitor: r.visitor.clone(),
                kind,
                user: r.user.clone(),
            };
            (d.host.clone(), event_to_json(&e), e.id, detail(d))
        }) else {
            return;
        };
        host.send("/v1/events", &id, &json);
        host.emit(kind.as_str(), &detail);
    }

    /// Sends the next rev of the answer after `change` updated it, then fires `nps:<emit>`.
    fn send_next_rev(&self, emit: Option<&str>, change: impl FnOnce(&mut Response)) {
        let Some((host, json, id, detail)) = with_data(|d| {
            change(&mut d.response);
            d.response.rev += 1;
            d.response.sent_at = js_sys::Date::new_0().to_iso_string().as_string();
            let json = response_to_json(&d.response);
            (d.host.clone(), json, d.response.id.clone(), detail(d))
        }) else {
            return;
        };
        host.send("/v1/responses", &id, &json);
        if let Some(name) = emit {
            host.emit(name, &detail);
        }
    }

    /// The widget became visible: `shown` event.
    pub fn shown(&self) {
        self.event(EventType::Shown);
    }

    /// A score was clicked: send it at once (rev 1), then ask the segment's follow-up.
    pub fn choose(&self, score: u8) {
        let Some(segment) = Segment::of(score) else {
            return;
        };
        self.step.set(Step::FollowUp(segment));
        self.send_next_rev(Some("answered"), |r| r.score = score);
    }

    /// The comment was submitted: next rev with the comment (and the detractor's opt-in).
    pub fn submit(&self, raw_comment: &str, contact_ok: bool) {
        let comment = truncate_chars(clean_comment(raw_comment), MAX_COMMENT_CHARS);
        self.step.set(Step::Thanks);
        self.send_next_rev(Some("submitted"), |r| {
            r.comment = (!comment.is_empty()).then_some(comment);
            if r.segment() == Some(Segment::Detractor) {
                r.contact_ok = Some(contact_ok);
            }
        });
        let me = *self;
        set_timeout(
            move || me.close(),
            std::time::Duration::from_millis(THANKS_MS),
        );
    }

    /// The promoter opened the review link: next rev with `review_clicked`.
    pub fn review_clicked(&self) {
        self.send_next_rev(None, |r| r.review_clicked = Some(true));
    }

    /// Close button or Escape: a `dismissed` event before any score, a plain close after.
    pub fn dismiss(&self) {
        if self.step.get_untracked() == Step::Question {
            self.event(EventType::Dismissed);
            self.close_with("dismissed");
        } else {
            self.close();
        }
    }

    /// Asks the loader to remove the widget (a no-op once it is gone: the thank-you timer may
    /// outlive a manual close).
    pub fn close(&self) {
        self.close_with("done");
    }

    fn close_with(&self, reason: &str) {
        if let Some(host) = with_data(|d| d.host.clone()) {
            host.close(reason);
        }
    }
}
