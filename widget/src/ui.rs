//! The three screens: question, follow-up, thanks. State lives in [`Survey`]; what a visitor does
//! (click, keys, submit) is handled by one listener on the widget root ([`crate::events`]), so the
//! views carry no `on:` handlers and their static parts compile to inert HTML templates (each
//! `on:`/reactive attribute is monomorphised rendering code: see the size notes in the README).

use leptos::either::EitherOf3;
use leptos::prelude::*;
use nps_protocol::Segment;

use crate::survey::{Step, Survey};

/// `maxlength` of the comment box, written out (an integer attribute would pull integer
/// formatting into the wasm); `tests/web.rs` checks it equals `limits::MAX_COMMENT_CHARS`.
const MAX_COMMENT_ATTR: &str = "2000";

/// Focuses the element matching `selector` in the widget on the next frame (after it is in the
/// document).
fn focus_soon(selector: &'static str) {
    request_animation_frame(move || crate::focus(selector));
}

/// The panel: close button and the current screen.
#[component]
pub fn Panel(
    /// The survey.
    s: Survey,
) -> impl IntoView {
    let t = s.t;
    view! {
        <div class="card" role="dialog" aria-label=t.dialog lang=t.lang dir=if t.rtl { "rtl" } else { "ltr" }>
            <button type="button" class="x" aria-label=t.close>
                <svg viewBox="0 0 16 16" aria-hidden="true"><path d="M4 4l8 8M12 4l-8 8"></path></svg>
            </button>
            {move || match s.step.get() {
                Step::Question => EitherOf3::A(question(s)),
                Step::FollowUp(segment) => EitherOf3::B(follow_up(s, segment)),
                Step::Thanks => EitherOf3::C(thanks(s)),
            }}
        </div>
    }
}

/// 0–10 as a radiogroup with a roving tabindex (moved by [`crate::events`]). The eleven buttons
/// are written out so the whole group is one static template; the end labels describe 0 and 10.
fn question(s: Survey) -> impl IntoView {
    let t = s.t;
    if s.cfg(|c| c.autofocus).unwrap_or(false) {
        focus_soon(".s[tabindex='0']");
    }
    view! {
        <p class="q" id="nps-q">{s.question()}</p>
        <div class="scale" role="radiogroup" aria-labelledby="nps-q">
            <button type="button" role="radio" class="s" aria-checked="false" tabindex="0" aria-describedby="nps-lo">"0"</button>
            <button type="button" role="radio" class="s" aria-checked="false" tabindex="-1">"1"</button>
            <button type="button" role="radio" class="s" aria-checked="false" tabindex="-1">"2"</button>
            <button type="button" role="radio" class="s" aria-checked="false" tabindex="-1">"3"</button>
            <button type="button" role="radio" class="s" aria-checked="false" tabindex="-1">"4"</button>
            <button type="button" role="radio" class="s" aria-checked="false" tabindex="-1">"5"</button>
            <button type="button" role="radio" class="s" aria-checked="false" tabindex="-1">"6"</button>
            <button type="button" role="radio" class="s" aria-checked="false" tabindex="-1">"7"</button>
            <button type="button" role="radio" class="s" aria-checked="false" tabindex="-1">"8"</button>
            <button type="button" role="radio" class="s" aria-checked="false" tabindex="-1">"9"</button>
            <button type="button" role="radio" class="s" aria-checked="false" tabindex="-1" aria-describedby="nps-hi">"10"</button>
        </div>
        <div class="ends" aria-hidden="true"><span id="nps-lo">{t.low}</span><span id="nps-hi">{t.high}</span></div>
    }
}

/// The segment's follow-up question, the comment box and, per segment, the contact opt-in
/// (detractors) or the review link (promoters).
fn follow_up(s: Survey, segment: Segment) -> impl IntoView {
    let t = s.t;
    let prompt = match segment {
        Segment::Promoter => t.promoter,
        Segment::Passive => t.passive,
        Segment::Detractor => t.detractor,
    };
    focus_soon("textarea");
    let review = (segment == Segment::Promoter)
        .then(|| s.review_url())
        .flatten()
        .map(|href| {
            view! { <a class="rv" href=href target="_blank" rel="noopener noreferrer">{t.review}</a> }
        });
    let opt_in = (segment == Segment::Detractor).then(|| {
        view! { <label class="chk"><input type="checkbox"/><span>{t.contact}</span></label> }
    });
    view! {
        <form class="fu">
            <label class="q" for="nps-c">{prompt}</label>
            <textarea id="nps-c" rows="3" maxlength=MAX_COMMENT_ATTR placeholder=t.placeholder></textarea>
            {opt_in}
            <div class="row">{review}<button type="submit" class="primary">{t.send}</button></div>
        </form>
    }
}

/// Thank-you; takes focus so that focus is never lost while it shows, then the widget closes.
fn thanks(s: Survey) -> impl IntoView {
    focus_soon(".thanks");
    view! {
        <p class="q thanks" role="status" tabindex="-1">
            <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M5 12.5l4.5 4.5L19 7.5"></path></svg>
            <span>{s.t.thanks}</span>
        </p>
    }
}
