//! The figures strip and the cases board: overdue first, then newest; filters by status, overdue,
//! owner and survey. A row's button opens the case.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, Case, Filter, Summary};
use crate::{age, duration, Ctx};

/// The follow-up figures of the last 30 days (cases opened in them).
#[component]
pub fn Figures() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let summary = RwSignal::new(None::<Summary>);
    Effect::new(move |_| {
        ctx.reload.track();
        let (Some(token), Some(site)) = (ctx.session.token.get(), ctx.session.site.get()) else {
            return;
        };
        spawn_local(async move {
            match api::summary(&token, &site).await {
                Ok(s) => summary.set(Some(s)),
                Err(e) => ctx.status.set(e),
            }
        });
    });
    let figure = |label: &'static str, value: String| {
        view! { <div class="figure"><dt>{label}</dt><dd>{value}</dd></div> }
    };
    view! {
        <section class="figures" aria-label="Follow-up, last 30 days">
            {move || summary.get().map(|s| {
                let c = s.cases;
                let hours = |v: Option<f64>| v.map(duration).unwrap_or_else(|| "—".into());
                let rate = c.recovery_rate.map(|r| format!("{:.0} %", r * 100.0)).unwrap_or_else(|| "—".into());
                let nps = match (s.nps, &s.nps_ci) {
                    (Some(n), Some(ci)) => format!("{n:.0} (95 %: {:.0} to {:.0})", ci.low, ci.high),
                    (Some(n), None) => format!("{n:.0}"),
                    _ => "—".into(),
                };
                let answered = match s.response_rate {
                    Some(r) => format!("{} ({:.0} % of shown; {} did not answer)", s.responses, r * 100.0, s.non_respondents),
                    None => s.responses.to_string(),
                };
                view! {
                    <dl>
                        {figure("NPS", nps)}
                        {figure("Answers", answered)}
                        {figure("Cases opened", c.opened.to_string())}
                        {figure("Open", c.open.to_string())}
                        {figure("Overdue", c.overdue.to_string())}
                        {figure("Resolved", c.resolved.to_string())}
                        {figure("Median first touch", hours(c.median_first_touch_hours))}
                        {figure("Median resolution", hours(c.median_resolution_hours))}
                        {figure("Recovered", format!("{} of {} re-surveyed ({rate})", c.recovered, c.resurveyed))}
                    </dl>
                    {s.low_sample.then(|| view! {
                        <p class="warn">"Fewer than 30 answers: the NPS can move a lot with a few more; compare with care."</p>
                    })}
                }
            })}
        </section>
    }
}

fn status_label(status: &str) -> &'static str {
    match status {
        "open" => "Open",
        "in_progress" => "In progress",
        "resolved" => "Resolved",
        "reopened" => "Reopened",
        "withdrawn" => "Withdrawn",
        _ => "?",
    }
}

/// Who the customer is, in one line: user, account, order.
pub fn customer(c: &Case) -> String {
    [
        c.user_id.as_deref(),
        c.account.as_deref(),
        c.order.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ")
}

/// The board.
#[component]
pub fn Board() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let filter = RwSignal::new(Filter::default());
    let cases = RwSignal::new(None::<Vec<Case>>);
    Effect::new(move |_| {
        ctx.reload.track();
        let f = filter.get();
        let (Some(token), Some(site)) = (ctx.session.token.get(), ctx.session.site.get()) else {
            return;
        };
        spawn_local(async move {
            match api::cases(&token, &site, &f).await {
                Ok(list) => cases.set(Some(list)),
                Err(e) => ctx.status.set(e),
            }
        });
    });
    let text_filter = |label: &'static str, id: &'static str, set: fn(&mut Filter, String)| {
        view! {
            <label for=id>{label}</label>
            <input id=id type="search" on:change=move |ev| {
                let v = event_target_value(&ev);
                filter.update(|f| set(f, v));
            }/>
        }
    };
    view! {
        <section class="board" aria-labelledby="board-title">
            <h2 id="board-title">"Cases"</h2>
            <form class="filters" on:submit=|ev: leptos::ev::SubmitEvent| ev.prevent_default()>
                <label for="f-status">"Status"</label>
                <select id="f-status" on:change=move |ev| {
                    let v = event_target_value(&ev);
                    filter.update(|f| f.status = v);
                }>
                    <option value="">"Any"</option>
                    <option value="open">"Open"</option>
                    <option value="in_progress">"In progress"</option>
                    <option value="reopened">"Reopened"</option>
                    <option value="resolved">"Resolved"</option>
                    <option value="withdrawn">"Withdrawn"</option>
                </select>
                <label class="check">
                    <input id="f-overdue" type="checkbox" on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        filter.update(|f| f.overdue = on);
                    }/>
                    "Overdue only"
                </label>
                {text_filter("Owner", "f-owner", |f, v| f.owner = v)}
                {text_filter("Survey", "f-survey", |f, v| f.survey = v)}
            </form>
            {move || match cases.get() {
                None => view! { <p class="empty">"Loading cases…"</p> }.into_any(),
                Some(list) if list.is_empty() => view! { <p class="empty">"No case matches."</p> }.into_any(),
                Some(list) => view! {
                    <table>
                        <thead>
                            <tr>
                                <th scope="col">"Case"</th>
                                <th scope="col">"Status"</th>
                                <th scope="col">"Score"</th>
                                <th scope="col">"Owner"</th>
                                <th scope="col">"Age"</th>
                                <th scope="col">"Comment"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {list.into_iter().map(|c| row(ctx, c)).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            }}
        </section>
    }
}

fn row(ctx: Ctx, c: Case) -> impl IntoView {
    let id = c.id.clone();
    let open_id = c.id.clone();
    let selected = move || ctx.selected.get().as_deref() == Some(id.as_str());
    let who = customer(&c);
    let label = if who.is_empty() {
        "Anonymous".to_string()
    } else {
        who
    };
    let score = match (c.resurvey_score, c.recovered) {
        (Some(after), Some(true)) => format!("{} → {} recovered", c.first_score, after),
        (Some(after), _) => format!("{} → {}", c.first_score, after),
        _ => c.score.to_string(),
    };
    view! {
        <tr class=if c.overdue { "overdue" } else { "" } data-id=c.id.clone() aria-current=move || selected().then_some("true")>
            <td>
                <button type="button" class="open" on:click=move |_| ctx.selected.set(Some(open_id.clone()))>
                    {label}
                </button>
            </td>
            <td>
                <span class=format!("badge {}", c.status)>{status_label(&c.status)}</span>
                {c.overdue.then(|| view! { <span class="badge late">"Overdue"</span> })}
            </td>
            <td class="score">{score}</td>
            <td>{c.owner.clone().unwrap_or_else(|| "—".into())}</td>
            <td>{age(&c.opened_at)}</td>
            <td class="comment">{c.comment.clone().unwrap_or_default()}</td>
        </tr>
    }
}
