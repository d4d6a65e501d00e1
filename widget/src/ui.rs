//! The three screens: question, follow-up, thanks. Small components; state lives in [`Survey`].

use leptos::either::EitherOf3;
use leptos::html::{Div, Input, Textarea};
use leptos::prelude::*;
use nps_protocol::limits::{MAX_COMMENT_CHARS, MAX_SCORE};
use nps_protocol::Segment;
use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, KeyboardEvent, SubmitEvent};

use crate::survey::{Step, Survey};

/// Focuses an element on the next frame (after it is in the document).
fn focus_soon(el: impl Fn() -> Option<HtmlElement> + 'static) {
    request_animation_frame(move || {
        if let Some(el) = el() {
            let _ = el.focus();
        }
    });
}

/// The panel: close button and the current screen. Escape anywhere inside closes it.
#[component]
pub fn Panel(
    /// The survey.
    s: Survey,
) -> impl IntoView {
    let t = s.t;
    let on_key = move |ev: KeyboardEvent| {
        if ev.key() == "Escape" {
            ev.stop_propagation();
            s.dismiss();
        }
    };
    view! {
        <div class="card" role="dialog" aria-label=t.dialog lang=t.lang dir=if t.rtl { "rtl" } else { "ltr" }
            on:keydown=on_key>
            <button type="button" class="x" aria-label=t.close on:click=move |_| s.dismiss()>
                <svg viewBox="0 0 16 16" aria-hidden="true"><path d="M4 4l8 8M12 4l-8 8"></path></svg>
            </button>
            {move || match s.step.get() {
                Step::Question => EitherOf3::A(view! { <Question s/> }),
                Step::FollowUp(segment) => EitherOf3::B(view! { <FollowUp s segment/> }),
                Step::Thanks => EitherOf3::C(view! { <Thanks s/> }),
            }}
        </div>
    }
}

/// 0–10 as a radiogroup with a roving tabindex. Arrows/Home/End move focus without answering
/// (an answer is sent the moment it is chosen); Space, Enter, click or tap choose.
#[component]
fn Question(
    /// The survey.
    s: Survey,
) -> impl IntoView {
    let t = s.t;
    let active = RwSignal::new(0u8);
    let group = NodeRef::<Div>::new();
    let button = move |i: u8| {
        group
            .get_untracked()
            .and_then(|g| g.children().item(i.into()))
            .and_then(|e| e.dyn_into::<HtmlElement>().ok())
    };
    let on_key = move |ev: KeyboardEvent| {
        let cur = active.get_untracked();
        let (up, down) = ((cur + 1).min(MAX_SCORE), cur.saturating_sub(1));
        let next = match ev.key().as_str() {
            "ArrowRight" if t.rtl => down,
            "ArrowLeft" if t.rtl => up,
            "ArrowRight" | "ArrowDown" => up,
            "ArrowLeft" | "ArrowUp" => down,
            "Home" => 0,
            "End" => MAX_SCORE,
            _ => return,
        };
        ev.prevent_default();
        active.set(next);
        if let Some(b) = button(next) {
            let _ = b.focus();
        }
    };
    if s.cfg(|c| c.autofocus).unwrap_or(false) {
        focus_soon(move || button(0));
    }
    let buttons = (0..=MAX_SCORE)
        .map(|n| {
            let label = match n {
                0 => Some(t.low),
                MAX_SCORE => Some(t.high),
                _ => None,
            };
            view! {
                <button type="button" role="radio" class="s" aria-checked="false"
                    aria-description=label
                    tabindex=move || if active.get() == n { "0" } else { "-1" }
                    on:focus=move |_| active.set(n)
                    on:click=move |_| s.choose(n)>{n}</button>
            }
        })
        .collect_view();
    view! {
        <p class="q" id="nps-q">{s.question()}</p>
        <div class="scale" role="radiogroup" aria-labelledby="nps-q" node_ref=group on:keydown=on_key>
            {buttons}
        </div>
        <div class="ends" aria-hidden="true"><span>{t.low}</span><span>{t.high}</span></div>
    }
}

/// The segment's follow-up question, the comment box and, per segment, the contact opt-in
/// (detractors) or the review link (promoters).
#[component]
fn FollowUp(
    /// The survey.
    s: Survey,
    /// Segment of the chosen score.
    segment: Segment,
) -> impl IntoView {
    let t = s.t;
    let text = NodeRef::<Textarea>::new();
    let contact = NodeRef::<Input>::new();
    let prompt = match segment {
        Segment::Promoter => t.promoter,
        Segment::Passive => t.passive,
        Segment::Detractor => t.detractor,
    };
    focus_soon(move || text.get_untracked().map(Into::into));
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let comment = text.get_untracked().map(|e| e.value()).unwrap_or_default();
        let ok = contact.get_untracked().is_some_and(|c| c.checked());
        s.submit(&comment, ok);
    };
    let review = (segment == Segment::Promoter)
        .then(|| s.review_url())
        .flatten()
        .map(|href| {
            view! {
                <a class="rv" href=href target="_blank" rel="noopener noreferrer"
                    on:click=move |_| s.review_clicked()>{t.review}</a>
            }
        });
    let opt_in = (segment == Segment::Detractor).then(|| {
        view! {
            <label class="chk"><input type="checkbox" node_ref=contact/><span>{t.contact}</span></label>
        }
    });
    view! {
        <form class="fu" on:submit=on_submit>
            <label class="q" for="nps-c">{prompt}</label>
            <textarea id="nps-c" node_ref=text rows="3" maxlength=MAX_COMMENT_CHARS
                placeholder=t.placeholder></textarea>
            {opt_in}
            <div class="row">{review}<button type="submit" class="primary">{t.send}</button></div>
        </form>
    }
}

/// Thank-you; takes focus so that focus is never lost while it shows, then the widget closes.
#[component]
fn Thanks(
    /// The survey.
    s: Survey,
) -> impl IntoView {
    let t = s.t;
    let el = NodeRef::<leptos::html::P>::new();
    focus_soon(move || el.get_untracked().map(Into::into));
    view! {
        <p class="q thanks" role="status" tabindex="-1" node_ref=el>
            <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M5 12.5l4.5 4.5L19 7.5"></path></svg>
            <span>{t.thanks}</span>
        </p>
    }
}
