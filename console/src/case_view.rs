//! One case: the customer's words and who they are, the before/after of a resolved case, the
//! status moves an agent may make, the owner, and the notes.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, Case, Patch};
use crate::board::customer;
use crate::{when, Ctx};

/// The moves offered from a status (the edge checks them again).
fn moves(status: &str) -> &'static [(&'static str, &'static str)] {
    match status {
        "open" => &[("in_progress", "Start"), ("resolved", "Resolve")],
        "in_progress" => &[("resolved", "Resolve"), ("open", "Back to open")],
        "reopened" => &[("in_progress", "Start"), ("resolved", "Resolve")],
        "resolved" => &[("reopened", "Reopen")],
        _ => &[],
    }
}

/// The selected case, or a hint.
#[component]
pub fn CaseView() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let case = RwSignal::new(None::<Case>);
    Effect::new(move |_| {
        let (Some(token), Some(site), Some(id)) = (
            ctx.session.token.get(),
            ctx.session.site.get(),
            ctx.selected.get(),
        ) else {
            case.set(None);
            return;
        };
        spawn_local(async move {
            match api::case(&token, &site, &id).await {
                Ok(c) => case.set(Some(c)),
                Err(e) => ctx.status.set(e),
            }
        });
    });
    view! {
        <section class="case" aria-labelledby="case-title">
            {move || match case.get() {
                None => view! {
                    <h2 id="case-title">"Case"</h2>
                    <p class="empty">"Choose a case on the board."</p>
                }.into_any(),
                Some(c) => details(ctx, case, c).into_any(),
            }}
        </section>
    }
}

/// Runs a change and shows its outcome.
fn act(
    ctx: Ctx,
    case: RwSignal<Option<Case>>,
    done: &'static str,
    f: impl AsyncFnOnce(String, String) -> Result<Case, String> + 'static,
) {
    let (Some(token), Some(site)) = (
        ctx.session.token.get_untracked(),
        ctx.session.site.get_untracked(),
    ) else {
        return;
    };
    spawn_local(async move {
        match f(token, site).await {
            Ok(c) => {
                case.set(Some(c));
                ctx.status.set(done.to_string());
                ctx.refresh();
            }
            Err(e) => ctx.status.set(e),
        }
    });
}

fn details(ctx: Ctx, case: RwSignal<Option<Case>>, c: Case) -> impl IntoView {
    let note = RwSignal::new(String::new());
    let owner = RwSignal::new(c.owner.clone().unwrap_or_default());
    let id = c.id.clone();
    let fact = |label: &'static str, value: Option<String>| {
        value.map(|v| view! { <dt>{label}</dt><dd>{v}</dd> })
    };
    let after = c.resurvey_score.map(|s| {
        let verdict = if c.recovered == Some(true) {
            "recovered"
        } else {
            "still a detractor"
        };
        format!("{} → {} ({verdict})", c.first_score, s)
    });
    let buttons = moves(&c.status)
        .iter()
        .map(|(to, label)| {
            let id = id.clone();
            let to = to.to_string();
            view! {
                <button type="button" on:click=move |_| {
                    let (id, to) = (id.clone(), to.clone());
                    act(ctx, case, "Case updated.", async move |token, site| {
                        api::patch(&token, &site, &id, &Patch { status: Some(to), owner: None }).await
                    });
                }>{*label}</button>
            }
        })
        .collect_view();
    let owner_id = id.clone();
    let note_id = id.clone();
    view! {
        <h2 id="case-title">"Case " <span class="mono">{c.id.clone()}</span></h2>
        <p class="state">
            <span class=format!("badge {}", c.status)>{c.status.replace('_', " ")}</span>
            {c.overdue.then(|| view! { <span class="badge late">"Overdue"</span> })}
            " Score " <strong>{c.score}</strong> " (" {c.segment.clone()} ")"
        </p>
        <blockquote class="words">{c.comment.clone().unwrap_or_else(|| "No comment.".into())}</blockquote>
        <dl class="facts">
            {fact("Customer", Some(customer(&c)).filter(|s| !s.is_empty()))}
            {fact("E-mail", c.email.clone())}
            {fact("May be contacted", c.contact_ok.map(|v| if v { "yes".to_string() } else { "no".to_string() }))}
            {fact("Survey", Some(c.survey.clone()))}
            {fact("Opened", Some(when(&c.opened_at)))}
            {fact("First touch due", Some(when(&c.due_at)))}
            {fact("First touch", c.first_touch_at.as_deref().map(when))}
            {fact("Resolved", c.resolved_at.as_deref().map(when))}
            {fact("Asked again from", c.resurvey_at.as_deref().map(when))}
            {fact("Before → after", after)}
            {fact("Helpdesk ticket", c.external_ref.clone())}
        </dl>
        <div class="moves" role="group" aria-label="Status">{buttons}</div>
        <form class="owner" on:submit=move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let (id, who) = (owner_id.clone(), owner.get_untracked().trim().to_string());
            act(ctx, case, "Owner saved.", async move |token, site| {
                let p = Patch { status: None, owner: Some((!who.is_empty()).then_some(who)) };
                api::patch(&token, &site, &id, &p).await
            });
        }>
            <label for="owner">"Owner"</label>
            <input id="owner" prop:value=move || owner.get() on:input=move |ev| owner.set(event_target_value(&ev))/>
            <button type="submit">"Assign"</button>
        </form>
        <h3>"Notes"</h3>
        <ol class="notes">
            {c.notes.iter().map(|n| view! {
                <li><p>{n.text.clone()}</p><small>{format!("{} · {}", n.author, when(&n.at))}</small></li>
            }).collect_view()}
        </ol>
        <form class="note" on:submit=move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let text = note.get_untracked().trim().to_string();
            if text.is_empty() {
                return;
            }
            note.set(String::new());
            let id = note_id.clone();
            act(ctx, case, "Note added.", async move |token, site| api::note(&token, &site, &id, &text).await);
        }>
            <label for="note">"Add a note"</label>
            <textarea id="note" rows="3" maxlength="4000" prop:value=move || note.get()
                on:input=move |ev| note.set(event_target_value(&ev))></textarea>
            <button type="submit">"Add note"</button>
        </form>
    }
}
