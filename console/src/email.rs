//! The e-mail view: each invitation batch's funnel (invited, sent, delivered, opened, answered,
//! with a comment, the response rate) and the people who were invited and have not answered,
//! with their order, to follow up or to count.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, Funnel};
use crate::{when, Ctx};

/// The funnel table and the non-respondents.
#[component]
pub fn Email() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let funnel = RwSignal::new(None::<Funnel>);
    Effect::new(move |_| {
        ctx.reload.track();
        let (Some(token), Some(site)) = (ctx.session.token.get(), ctx.session.site.get()) else {
            return;
        };
        spawn_local(async move {
            match api::funnel(&token, &site).await {
                Ok(f) => funnel.set(Some(f)),
                Err(e) => ctx.status.set(e),
            }
        });
    });
    let time = |t: &Option<String>| t.as_deref().map(when).unwrap_or_else(|| "—".into());
    view! {
        {move || match funnel.get() {
            None => view! { <p class="empty">"Loading the e-mail funnel…"</p> }.into_any(),
            Some(f) if f.batches.is_empty() => view! {
                <p class="empty" id="e-none">"No invitations yet: POST /v1/sites/{site}/invitations makes them (docs/links.md)."</p>
            }.into_any(),
            Some(f) => view! {
                <section class="card" aria-labelledby="e-funnel-title">
                    <h2 id="e-funnel-title">"E-mail invitations"</h2>
                    <table class="funnel">
                        <caption class="sr">"Per survey and batch, newest first"</caption>
                        <thead><tr>
                            <th scope="col">"Survey"</th><th scope="col">"Batch"</th>
                            <th scope="col">"Invited"</th><th scope="col">"Sent"</th>
                            <th scope="col">"Delivered"</th><th scope="col">"Opened"</th>
                            <th scope="col">"Answered"</th><th scope="col">"With a comment"</th>
                            <th scope="col">"Response rate"</th>
                        </tr></thead>
                        <tbody>
                            {f.batches.into_iter().map(|b| view! {
                                <tr>
                                    <td>{b.survey}</td><td>{b.batch}</td>
                                    <td>{b.invited.to_string()}</td><td>{b.sent.to_string()}</td>
                                    <td>{b.delivered.to_string()}</td><td>{b.opened.to_string()}</td>
                                    <td>{b.answered.to_string()}</td><td>{b.commented.to_string()}</td>
                                    <td>{format!("{} %", (b.response_rate * 1000.0).round() / 10.0)}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    <p class="muted">"Opened counts page loads, link scanners' too: read it as an upper bound."</p>
                </section>
                <section class="card" aria-labelledby="e-missing-title">
                    <h2 id="e-missing-title">{format!("Did not answer ({})", f.non_respondents.len())}</h2>
                    <table class="missing">
                        <thead><tr>
                            <th scope="col">"Recipient"</th><th scope="col">"Order"</th>
                            <th scope="col">"Survey"</th><th scope="col">"Invited"</th>
                            <th scope="col">"Opened"</th><th scope="col">"Reminded"</th>
                        </tr></thead>
                        <tbody>
                            {f.non_respondents.into_iter().map(|n| {
                                let who = match &n.user {
                                    Some(u) => format!("{} ({u})", n.recipient),
                                    None => n.recipient.clone(),
                                };
                                view! {
                                    <tr>
                                        <td>{who}</td><td>{n.order.clone().unwrap_or_default()}</td>
                                        <td>{n.survey.clone()}</td><td>{time(&n.invited_at)}</td>
                                        <td>{time(&n.opened_at)}</td><td>{time(&n.reminded_at)}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </section>
            }.into_any(),
        }}
    }
}
