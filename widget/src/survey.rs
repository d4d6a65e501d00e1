//! The survey's state and every action a visitor can take. Components only call these methods,
//! so the wire behaviour (revs, events, DOM events) is defined in one place.

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
    /// Loader configuration.
    pub cfg: Config,
    /// Loader callbacks.
    pub host: Host,
    /// The current answer; `rev == 0` until a score is chosen.
    pub response: Response,
}

/// The survey, handed to every component as a prop (it is `Copy`; a prop costs less wasm than
/// a context lookup).
#[derive(Clone, Copy)]
pub struct Survey {
    /// Config, bridge and answer.
    pub data: StoredValue<Data, LocalStorage>,
    /// Current screen.
    pub step: RwSignal<Step>,
    /// Strings in the survey's language.
    pub t: &'static Strings,
}

/// How long the thank-you stays before the widget closes.
const THANKS_MS: u64 = 2500;

impl Survey {
    /// Builds the survey for a config.
    pub fn new(cfg: Config, host: Host) -> Survey {
        let t = strings_for(cfg.locale.as_deref().unwrap_or("en"));
        let response = Response {
            id: crate::uuid(),
            site: cfg.site.clone(),
            survey: cfg.survey.clone(),
            locale: cfg.locale.clone(),
            visitor: cfg.visitor.clone(),
            page: cfg.page.clone(),
            user: cfg.user.clone(),
            properties: cfg.properties.clone(),
            ..Response::default()
        };
        Survey {
            data: StoredValue::new_local(Data {
                cfg,
                host,
                response,
            }),
            step: RwSignal::new(Step::Question),
            t,
        }
    }

    /// The question with the brand filled in.
    pub fn question(&self) -> String {
        let [before, after] = self.t.question;
        let mut q = String::from(before);
        self.data
            .with_value(|d| q.push_str(d.cfg.brand.as_deref().unwrap_or(self.t.brand_fallback)));
        q.push_str(after);
        q
    }

    /// The promoter review link, when configured.
    pub fn review_url(&self) -> Option<String> {
        self.data.with_value(|d| d.cfg.review.clone())
    }

    fn event(&self, kind: EventType) {
        self.data.with_value(|d| {
            let e = Event {
                id: crate::uuid(),
                site: d.cfg.site.clone(),
                survey: d.cfg.survey.clone(),
                visitor: d.cfg.visitor.clone(),
                kind,
                user: d.cfg.user.clone(),
            };
            d.host.send("/v1/events", &e.id, &event_to_json(&e));
            d.host.emit(kind.as_str(), &self.detail(d, None));
        });
    }

    /// `{id, site, survey, score?, segment?, comment?}` for DOM events.
    fn detail(&self, d: &Data, comment: Option<&str>) -> JsValue {
        let o = js_sys::Object::new();
        let set = |k: &str, v: JsValue| {
            let _ = js_sys::Reflect::set(&o, &JsValue::from_str(k), &v);
        };
        set("site", d.cfg.site.as_str().into());
        set("survey", d.cfg.survey.as_str().into());
        if d.response.rev > 0 {
            set("id", d.response.id.as_str().into());
            set("score", d.response.score.into());
            if let Some(s) = d.response.segment() {
                set("segment", s.as_str().into());
            }
        }
        if let Some(c) = comment {
            set("comment", c.into());
        }
        o.into()
    }

    /// Sends the next rev of the answer after `change` updated it.
    fn send_next_rev(&self, change: impl FnOnce(&mut Response)) {
        self.data.update_value(|d| {
            change(&mut d.response);
            d.response.rev += 1;
            d.response.sent_at = js_sys::Date::new_0().to_iso_string().as_string();
            d.host.send(
                "/v1/responses",
                &d.response.id,
                &response_to_json(&d.response),
            );
        });
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
        self.send_next_rev(|r| r.score = score);
        self.data
            .with_value(|d| d.host.emit("answered", &self.detail(d, None)));
        self.step.set(Step::FollowUp(segment));
    }

    /// The comment was submitted: next rev with the comment (and the detractor's opt-in).
    pub fn submit(&self, raw_comment: &str, contact_ok: bool) {
        let comment = truncate_chars(clean_comment(raw_comment), MAX_COMMENT_CHARS);
        self.send_next_rev(|r| {
            r.comment = (!comment.is_empty()).then(|| comment.clone());
            if r.segment() == Some(Segment::Detractor) {
                r.contact_ok = Some(contact_ok);
            }
        });
        self.data.with_value(|d| {
            d.host
                .emit("submitted", &self.detail(d, d.response.comment.as_deref()))
        });
        self.step.set(Step::Thanks);
        let me = *self;
        set_timeout(
            move || me.close(),
            std::time::Duration::from_millis(THANKS_MS),
        );
    }

    /// The promoter opened the review link: next rev with `review_clicked`.
    pub fn review_clicked(&self) {
        self.send_next_rev(|r| r.review_clicked = Some(true));
    }

    /// Close button or Escape: a `dismissed` event before any score, a plain close after.
    pub fn dismiss(&self) {
        if self.step.get_untracked() == Step::Question {
            self.event(EventType::Dismissed);
            self.data.with_value(|d| d.host.close("dismissed"));
        } else {
            self.close();
        }
    }

    /// Asks the loader to remove the widget (idempotent on the loader side).
    pub fn close(&self) {
        // The survey may already be unmounted (the thank-you timer outlives a manual close).
        let _ = self.data.try_with_value(|d| d.host.close("done"));
    }
}
