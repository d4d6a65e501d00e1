//! The report: how loyal customers are over a period. The NPS with its 95% interval and how it
//! moved against the period before (and whether beyond noise), answers and response rate, the
//! detractors who asked for a call back, the trend, the segment split and the scores, each
//! survey's NPS, and the latest answers with their comments; filters by survey, period, bucket
//! and segment; the answers as CSV. The answer a chat alert links to (`#response=…`) comes first.
//!
//! Charts are SVG built from numbers; every word from an answer is a text node.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::{JsCast, JsValue};

use crate::api::{self, Answer, Period, Summary};
use crate::{when, Ctx};

const DAY_MS: f64 = 86_400_000.0;
/// Answers per page of the list (the API allows up to 500).
const PAGE: u32 = 20;

/// The periods offered, in days.
const PERIODS: [(i64, &str); 4] = [
    (7, "Last 7 days"),
    (30, "Last 30 days"),
    (90, "Last 90 days"),
    (365, "Last 365 days"),
];

/// The day `back` days before today (UTC), `YYYY-MM-DD`: the API counts answers by UTC day.
fn day(back: i64) -> String {
    let today = (js_sys::Date::now() / DAY_MS).floor();
    let d = js_sys::Date::new(&JsValue::from_f64((today - back as f64) * DAY_MS));
    String::from(d.to_iso_string()).chars().take(10).collect()
}

/// The last `days` days, today included.
fn last(days: i64, survey: String) -> Period {
    Period {
        from: day(days - 1),
        to: day(0),
        survey,
    }
}

/// An NPS as people write it: signed, whole.
pub fn nps_text(v: Option<f64>) -> String {
    match v.map(f64::round) {
        None => "—".into(),
        Some(n) if n > 0.0 => format!("+{n}"),
        // `-0` rounds from small negatives; it is 0 (and -0.0 matches 0.0).
        Some(0.0) => "0".into(),
        Some(n) => format!("{n}"),
    }
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(
        || "—".into(),
        |r| format!("{} %", (r * 1000.0).round() / 10.0),
    )
}

fn segment_of(score: u8) -> &'static str {
    match score {
        0..=6 => "detractor",
        7..=8 => "passive",
        _ => "promoter",
    }
}

/// What the report is filtered by.
#[derive(Clone, Copy)]
struct Filters {
    survey: RwSignal<String>,
    days: RwSignal<i64>,
    interval: RwSignal<String>,
    segment: RwSignal<String>,
}

impl Filters {
    /// The period chosen (tracked: an effect that reads it runs again when it changes).
    fn period(&self) -> Period {
        last(self.days.get(), self.survey.get())
    }

    /// The period chosen, for an action (not tracked).
    fn untracked_period(&self) -> Period {
        last(self.days.get_untracked(), self.survey.get_untracked())
    }
}

/// A counter per loader: an answer that arrives after a newer request was sent is dropped, so
/// quick filter changes cannot leave stale figures on screen.
#[derive(Clone, Copy)]
struct Latest(StoredValue<u32>);

impl Latest {
    fn new() -> Latest {
        Latest(StoredValue::new(0))
    }
    fn next(&self) -> u32 {
        self.0.update_value(|n| *n += 1);
        self.0.get_value()
    }
    /// False too once the view that made the request is gone (switched away while it was on
    /// the wire): its answer is then dropped, not read into disposed state.
    fn is(&self, n: u32) -> bool {
        self.0.try_get_value() == Some(n)
    }
}

/// The report view.
#[component]
pub fn Report() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let f = Filters {
        survey: RwSignal::new(String::new()),
        days: RwSignal::new(30),
        interval: RwSignal::new("day".into()),
        segment: RwSignal::new(String::new()),
    };
    // Another site has other surveys. (Only when one is chosen: setting a signal notifies even
    // with the same value, and every loader would ask the API again.)
    Effect::new(move |_| {
        ctx.session.site.track();
        if !f.survey.get_untracked().is_empty() {
            f.survey.set(String::new());
        }
    });
    let surveys = move || {
        let site = ctx.session.site.get();
        ctx.session
            .sites
            .get()
            .into_iter()
            .find(|s| Some(&s.id) == site.as_ref())
            .map(|s| s.surveys)
            .unwrap_or_default()
    };
    view! {
        <section class="report" aria-labelledby="report-title">
            <h2 id="report-title">"Report"</h2>
            <form class="filters" on:submit=|ev: leptos::ev::SubmitEvent| ev.prevent_default()>
                <label for="r-survey">"Survey"</label>
                <select id="r-survey" on:change=move |ev| f.survey.set(event_target_value(&ev))>
                    <option value="" prop:selected=move || f.survey.get().is_empty()>"All surveys"</option>
                    {move || surveys().into_iter().map(|s| {
                        let this = s.clone();
                        let selected = move || f.survey.get() == this;
                        let label = s.clone();
                        view! { <option value=s prop:selected=selected>{label}</option> }
                    }).collect_view()}
                </select>
                <label for="r-period">"Period"</label>
                <select id="r-period" on:change=move |ev| {
                    let days = event_target_value(&ev).parse().unwrap_or(30);
                    // A year by day is 365 points: weeks read better; a week by week is one.
                    if days > 90 {
                        f.interval.set("week".into());
                    } else if days <= 30 {
                        f.interval.set("day".into());
                    }
                    f.days.set(days);
                }>
                    {PERIODS.iter().map(|&(d, label)| view! {
                        <option value=d.to_string() selected=d == 30>{label}</option>
                    }).collect_view()}
                </select>
                <label for="r-interval">"By"</label>
                <select id="r-interval" on:change=move |ev| f.interval.set(event_target_value(&ev))>
                    <option value="day" prop:selected=move || f.interval.get() == "day">"day"</option>
                    <option value="week" prop:selected=move || f.interval.get() == "week">"week"</option>
                </select>
                <CsvButton f=f/>
            </form>
            <Focus/>
            <Overview f=f/>
            <BySurvey f=f surveys=Signal::derive(surveys)/>
            <Answers f=f/>
        </section>
    }
}

/// Downloads the period's answers (the segment chosen below included) as CSV. The API needs the
/// token in a header, so the file is fetched here and handed to the browser as a blob.
#[component]
fn CsvButton(f: Filters) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let busy = RwSignal::new(false);
    let download = move |_| {
        let (Some(token), Some(site)) = (
            ctx.session.token.get_untracked(),
            ctx.session.site.get_untracked(),
        ) else {
            return;
        };
        let p = f.untracked_period();
        let segment = f.segment.get_untracked();
        busy.set(true);
        spawn_local(async move {
            match api::csv(&token, &site, &p, &segment).await {
                Ok(text) => {
                    let name = format!("nps-{site}-{}-to-{}.csv", p.from, p.to);
                    match save(&name, &text) {
                        Ok(()) => ctx.status.set(format!("Downloaded {name}.")),
                        Err(e) => ctx.status.set(format!("Export failed: {e:?}")),
                    }
                }
                Err(e) => ctx.status.set(format!("Export failed: {e}")),
            }
            busy.set(false);
        });
    };
    view! {
        <button type="button" id="r-csv" class="quiet" on:click=download disabled=move || busy.get()>
            "Download CSV"
        </button>
    }
}

/// Hands `text` to the browser as a file named `name`.
fn save(name: &str, text: &str) -> Result<(), JsValue> {
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type("text/csv;charset=utf-8");
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let a: web_sys::HtmlAnchorElement = document.create_element("a")?.dyn_into()?;
    a.set_href(&url);
    a.set_download(name);
    let body = document.body().ok_or("no body")?;
    body.append_child(&a)?;
    a.click();
    a.remove();
    // The download reads the blob after this turn: free it a little later.
    let free = wasm_bindgen::closure::Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    if let Some(w) = web_sys::window() {
        w.set_timeout_with_callback_and_timeout_and_arguments_0(free.unchecked_ref(), 10_000)?;
    }
    Ok(())
}

/// The answer a chat alert links to.
#[component]
fn Focus() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let answer = RwSignal::new(None::<Answer>);
    Effect::new(move |_| {
        let (Some(token), Some(site), Some(id)) = (
            ctx.session.token.get(),
            ctx.session.site.get(),
            ctx.focus.get(),
        ) else {
            answer.set(None);
            return;
        };
        spawn_local(async move {
            match api::answer(&token, &site, &id).await {
                Ok(a) => answer.set(Some(a)),
                Err(e) => {
                    answer.set(None);
                    ctx.status.set(format!("The linked answer: {e}"));
                }
            }
        });
    });
    move || {
        answer.get().map(|a| {
            view! {
                <section class="focus" aria-labelledby="focus-title">
                    <h3 id="focus-title">"The answer from the alert"</h3>
                    <ol class="answers">{item(a, true)}</ol>
                </section>
            }
        })
    }
}

/// The figures, the comparison, the trend and the split.
#[component]
fn Overview(f: Filters) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let summary = RwSignal::new(None::<Summary>);
    let callbacks = RwSignal::new(None::<String>);
    let latest = Latest::new();
    Effect::new(move |_| {
        ctx.reload.track();
        let p = f.period();
        let days = f.days.get();
        let interval = f.interval.get();
        let (Some(token), Some(site)) = (ctx.session.token.get(), ctx.session.site.get()) else {
            return;
        };
        let n = latest.next();
        callbacks.set(None);
        let (prev_from, prev_to) = (day(2 * days - 1), day(days));
        spawn_local(async move {
            let previous = Some((prev_from.as_str(), prev_to.as_str()));
            let s = api::report(&token, &site, &p, &interval, previous).await;
            if !latest.is(n) {
                return;
            }
            match s {
                Ok(s) => summary.set(Some(s)),
                Err(e) => ctx.status.set(e),
            }
            // Detractors who opted in to be contacted, counted over up to 500 (the figures above
            // are drawn meanwhile).
            let c = api::answers(&token, &site, &p, "detractor", None, 500).await;
            if !latest.is(n) {
                return;
            }
            if let Ok(page) = c {
                let n = page
                    .items
                    .iter()
                    .filter(|a| a.contact_ok == Some(true))
                    .count();
                let more = if page.next_cursor.is_some() { "+" } else { "" };
                callbacks.set(Some(format!("{n}{more}")));
            }
        });
    });
    move || match summary.get() {
        None => view! { <p class="empty">"Loading the report…"</p> }.into_any(),
        Some(s) => overview(s, f.days.get_untracked(), callbacks).into_any(),
    }
}

fn overview(s: Summary, days: i64, callbacks: RwSignal<Option<String>>) -> impl IntoView {
    let ci = s.nps_ci.as_ref().map_or_else(
        || "no answers yet".to_string(),
        |ci| {
            format!(
                "95 %: {} to {}",
                nps_text(Some(ci.low)),
                nps_text(Some(ci.high))
            )
        },
    );
    let (delta, delta_class) = match (&s.comparison, s.nps) {
        (_, None) => ("no answers in this period".to_string(), ""),
        (Some(c), Some(_)) if c.nps.is_some() => {
            let d = c.difference.unwrap_or(0.0).round();
            let arrow = if d > 0.0 {
                "▲ "
            } else if d < 0.0 {
                "▼ "
            } else {
                "= "
            };
            let noise = if c.significant == Some(true) {
                "a significant change"
            } else {
                "within the noise"
            };
            let class = match (d > 0.0, d < 0.0, c.significant == Some(true)) {
                (true, _, true) => "up",
                (_, true, true) => "down",
                _ => "",
            };
            (
                format!(
                    "{arrow}{} vs the previous {days} days ({}; {noise})",
                    nps_text(Some(d)),
                    nps_text(c.nps)
                ),
                class,
            )
        }
        _ => (
            format!("no answers in the previous {days} days to compare"),
            "",
        ),
    };
    let nps_class = match s.nps {
        Some(n) if n >= 30.0 => "big good",
        Some(n) if n >= 0.0 => "big ok",
        Some(_) => "big bad",
        None => "big",
    };
    let period = format!(
        "{} to {}{}",
        s.from,
        s.to,
        s.survey
            .as_ref()
            .map(|v| format!(" · {v}"))
            .unwrap_or_default()
    );
    view! {
        <section class="overview" aria-labelledby="overview-title">
            <h3 id="overview-title" class="sr">"Figures"</h3>
            <dl class="kpis">
                <div class="kpi">
                    <dt>"NPS"</dt>
                    <dd id="r-nps" class=nps_class>{nps_text(s.nps)}</dd>
                    <dd id="r-ci" class="muted">{ci}</dd>
                    <dd id="r-delta" class=format!("delta {delta_class}")>{delta}</dd>
                </div>
                <div class="kpi">
                    <dt>"Answers"</dt>
                    <dd id="r-answers" class="big">{s.responses.to_string()}</dd>
                    <dd class="muted">{period}</dd>
                </div>
                <div class="kpi">
                    <dt>"Response rate"</dt>
                    <dd id="r-rate" class="big">{pct(s.response_rate)}</dd>
                    <dd class="muted">{format!("{} shown · {} dismissed · {} did not answer", s.shown, s.dismissed, s.non_respondents)}</dd>
                </div>
                {(s.touchpoints.email.invited > 0).then(|| {
                    let (w, e) = (&s.touchpoints.widget, &s.touchpoints.email);
                    let detail = format!(
                        "{} invited · {} answered · widget {} ({} of {} shown)",
                        e.invited, e.answered, pct(w.response_rate), w.answered, w.shown
                    );
                    view! {
                        <div class="kpi">
                            <dt>"E-mail response rate"</dt>
                            <dd id="r-email-rate" class="big">{pct(e.response_rate)}</dd>
                            <dd id="r-email-detail" class="muted">{detail}</dd>
                        </div>
                    }
                })}
                <div class="kpi">
                    <dt>"Detractors to call back"</dt>
                    <dd id="r-callback" class="big">{move || callbacks.get().unwrap_or_else(|| "…".into())}</dd>
                    <dd class="muted">"opted in to be contacted"</dd>
                </div>
            </dl>
            {s.low_sample.then(|| view! {
                <p class="warn" id="r-low">"Fewer than 30 answers: the NPS can move a lot with a few more; compare with care."</p>
            })}
            <div class="charts">
                <figure class="card">
                    <figcaption><h3>{format!("NPS by {}", s.interval)}</h3></figcaption>
                    {trend(&s)}
                    <details>
                        <summary>"The trend as a table"</summary>
                        <table class="series">
                            <thead><tr>
                                <th scope="col">{if s.interval == "week" { "Week of" } else { "Day" }}</th>
                                <th scope="col">"Answers"</th>
                                <th scope="col">"NPS"</th>
                            </tr></thead>
                            <tbody>
                                {s.series.iter().map(|b| view! {
                                    <tr><td>{b.start.clone()}</td><td>{b.responses.to_string()}</td><td>{nps_text(b.nps)}</td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </details>
                </figure>
                <figure class="card">
                    <figcaption><h3>"Segments"</h3></figcaption>
                    {split(&s)}
                    <h4>"Scores"</h4>
                    {scores(&s)}
                </figure>
            </div>
        </section>
    }
}

/// The NPS line per bucket (broken where a bucket has no answer) over the answers' volume.
fn trend(s: &Summary) -> impl IntoView {
    const W: f64 = 640.0;
    const H: f64 = 240.0;
    const L: f64 = 40.0;
    const R: f64 = 12.0;
    const T: f64 = 12.0;
    const B: f64 = 28.0;
    let (iw, ih) = (W - L - R, H - T - B);
    let n = s.series.len();
    let step = iw / n.max(1) as f64;
    let x = move |i: usize| L + step * i as f64 + step / 2.0;
    let y = move |v: f64| T + ih * (1.0 - (v + 100.0) / 200.0);
    let grid = [-100.0, -50.0, 0.0, 50.0, 100.0].map(|v| {
        let class = if v == 0.0 { "zero" } else { "grid" };
        view! {
            <g>
                <line x1=L x2=L + iw y1=y(v) y2=y(v) class=class/>
                <text x=L - 8.0 y=y(v) + 4.0 text-anchor="end">{nps_text(Some(v))}</text>
            </g>
        }
    });
    let most = s
        .series
        .iter()
        .map(|b| b.responses)
        .max()
        .unwrap_or(0)
        .max(1);
    let bars = s
        .series
        .iter()
        .enumerate()
        .filter(|(_, b)| b.responses > 0)
        .map(|(i, b)| {
            let h = ih / 4.0 * b.responses as f64 / most as f64;
            view! {
                <rect x=x(i) - step * 0.32 y=T + ih - h width=(step * 0.64).max(1.0) height=h class="volume">
                    <title>{format!("{}: {} answers", b.start, b.responses)}</title>
                </rect>
            }
        })
        .collect_view();
    // Runs of buckets with an NPS: a line cannot cross a bucket with no answer.
    let mut runs: Vec<Vec<(f64, f64, usize)>> = vec![Vec::new()];
    for (i, b) in s.series.iter().enumerate() {
        match (b.nps, runs.last_mut()) {
            (Some(v), Some(run)) => run.push((x(i), y(v), i)),
            (None, Some(run)) if !run.is_empty() => runs.push(Vec::new()),
            _ => {}
        }
    }
    runs.retain(|r| !r.is_empty());
    let lines = runs
        .iter()
        .filter(|r| r.len() > 1)
        .map(|r| {
            let d = r
                .iter()
                .enumerate()
                .map(|(k, (px, py, _))| {
                    format!("{}{px:.1} {py:.1}", if k == 0 { "M" } else { "L" })
                })
                .collect::<Vec<_>>()
                .join(" ");
            view! { <path d=d class="line"/> }
        })
        .collect_view();
    let dots = runs
        .iter()
        .flatten()
        .map(|&(px, py, i)| {
            let b = &s.series[i];
            let r = if n > 60 { 2.5 } else { 4.0 };
            view! {
                <circle cx=px cy=py r=r class="dot">
                    <title>{format!("{}: NPS {} ({} answers)", b.start, nps_text(b.nps), b.responses)}</title>
                </circle>
            }
        })
        .collect_view();
    let every = n.div_ceil(7).max(1);
    let labels = s
        .series
        .iter()
        .enumerate()
        .filter(|(i, _)| (i % every == 0 && n - 1 - i >= every / 2) || *i == n - 1)
        .map(|(i, b)| {
            view! { <text x=x(i) y=H - 8.0 text-anchor="middle">{b.start.get(5..).unwrap_or_default().to_string()}</text> }
        })
        .collect_view();
    let empty = runs.is_empty().then(|| {
        view! { <text x=L + iw / 2.0 y=T + ih / 2.0 text-anchor="middle">"No answers in this period"</text> }
    });
    let label = format!(
        "NPS per {}, {} to {}: {} buckets with answers",
        s.interval,
        s.from,
        s.to,
        runs.iter().map(Vec::len).sum::<usize>()
    );
    view! {
        <svg class="chart trend" viewBox=format!("0 0 {W} {H}") role="img" aria-label=label>
            <rect x=L y=y(100.0) width=iw height=y(0.0) - y(100.0) class="band-good"/>
            <rect x=L y=y(0.0) width=iw height=y(-100.0) - y(0.0) class="band-bad"/>
            {grid}
            {bars}
            {lines}
            {dots}
            {labels}
            {empty}
        </svg>
    }
}

const SEGMENTS: [(&str, &str); 3] = [
    ("promoter", "Promoters (9–10)"),
    ("passive", "Passives (7–8)"),
    ("detractor", "Detractors (0–6)"),
];

/// The share of each segment: a bar and its legend with counts.
fn split(s: &Summary) -> impl IntoView {
    let total = s.responses;
    let count = |seg: &str| match seg {
        "promoter" => s.by_segment.promoter,
        "passive" => s.by_segment.passive,
        _ => s.by_segment.detractor,
    };
    let share = move |c: u64| {
        if total == 0 {
            0.0
        } else {
            100.0 * c as f64 / total as f64
        }
    };
    let mut at = 0.0;
    let parts = SEGMENTS
        .iter()
        .rev()
        .filter(|(seg, _)| count(seg) > 0)
        .map(|&(seg, name)| {
            let w = share(count(seg));
            let x = at;
            at += w;
            view! {
                <rect x=x y=0 width=w height=10 class=seg>
                    <title>{format!("{name}: {}", count(seg))}</title>
                </rect>
            }
        })
        .collect_view();
    let legend = SEGMENTS
        .iter()
        .map(|&(seg, name)| {
            let c = count(seg);
            let of = if total > 0 {
                format!("{c} · {:.0} %", share(c).round())
            } else {
                c.to_string()
            };
            view! {
                <li data-seg=seg><span class=format!("swatch {seg}")></span>{name}" "<strong>{of}</strong></li>
            }
        })
        .collect_view();
    view! {
        <svg class="chart split-bar" viewBox="0 0 100 10" preserveAspectRatio="none" role="img"
            aria-label="Share of promoters, passives and detractors">
            {parts}
        </svg>
        <ul class="legend">{legend}</ul>
    }
}

/// How many answers gave each score, 0 to 10.
fn scores(s: &Summary) -> impl IntoView {
    const W: f64 = 330.0;
    const H: f64 = 120.0;
    let most = s.by_score.iter().copied().max().unwrap_or(0).max(1);
    let bw = W / 11.0;
    let bars = (0..11u8)
        .map(|score| {
            let c = s.by_score.get(score as usize).copied().unwrap_or(0);
            let h = (H - 30.0) * c as f64 / most as f64;
            let h = if c > 0 { h.max(2.0) } else { 0.0 };
            let cx = score as f64 * bw + bw / 2.0;
            view! {
                <g>
                    <rect x=score as f64 * bw + bw * 0.15 y=H - 18.0 - h width=bw * 0.7 height=h class=segment_of(score)>
                        <title>{format!("Score {score}: {c}")}</title>
                    </rect>
                    <text x=cx y=H - 4.0 text-anchor="middle">{score.to_string()}</text>
                    {(c > 0).then(|| view! { <text x=cx y=H - 22.0 - h text-anchor="middle">{c.to_string()}</text> })}
                </g>
            }
        })
        .collect_view();
    let label = format!(
        "Answers per score from 0 to 10: {}",
        s.by_score
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    view! {
        <svg class="chart scores" viewBox=format!("0 0 {W} {H}") role="img" aria-label=label>{bars}</svg>
    }
}

/// Each survey's NPS over the period, when the report shows them all.
#[component]
fn BySurvey(f: Filters, surveys: Signal<Vec<String>>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let rows = RwSignal::new(Vec::<(String, Summary)>::new());
    let latest = Latest::new();
    Effect::new(move |_| {
        ctx.reload.track();
        let p = f.period();
        let list = surveys.get();
        let (Some(token), Some(site)) = (ctx.session.token.get(), ctx.session.site.get()) else {
            return;
        };
        let n = latest.next();
        if !p.survey.is_empty() || list.len() < 2 {
            rows.set(Vec::new());
            return;
        }
        spawn_local(async move {
            let mut out = Vec::new();
            for survey in list {
                let one = Period {
                    survey: survey.clone(),
                    ..p.clone()
                };
                match api::report(&token, &site, &one, "week", None).await {
                    Ok(s) => out.push((survey, s)),
                    Err(e) => {
                        ctx.status.set(e);
                        return;
                    }
                }
            }
            if latest.is(n) {
                rows.set(out);
            }
        });
    });
    move || {
        let list = rows.get();
        (!list.is_empty()).then(|| {
            view! {
                <section class="card by-survey" aria-labelledby="by-survey-title">
                    <h3 id="by-survey-title">"By survey"</h3>
                    <table>
                        <thead><tr>
                            <th scope="col">"Survey"</th>
                            <th scope="col">"Answers"</th>
                            <th scope="col">"NPS"</th>
                            <th scope="col">"95 % interval"</th>
                        </tr></thead>
                        <tbody>
                            {list.into_iter().map(|(survey, s)| {
                                let pick = survey.clone();
                                let ci = s.nps_ci.as_ref().map_or_else(|| "—".to_string(), |c| {
                                    format!("{} to {}", nps_text(Some(c.low)), nps_text(Some(c.high)))
                                });
                                view! {
                                    <tr data-survey=survey.clone()>
                                        <th scope="row">
                                            <button type="button" class="open" on:click=move |_| f.survey.set(pick.clone())>
                                                {survey.clone()}
                                            </button>
                                        </th>
                                        <td>{s.responses.to_string()}</td>
                                        <td>{nps_text(s.nps)}</td>
                                        <td>{ci}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </section>
            }
        })
    }
}

/// The latest answers of the period, by segment, page after page.
#[component]
fn Answers(f: Filters) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let items = RwSignal::new(None::<Vec<Answer>>);
    let cursor = RwSignal::new(None::<String>);
    let latest = Latest::new();
    let load = move |more: bool| {
        let (Some(token), Some(site)) = (
            ctx.session.token.get_untracked(),
            ctx.session.site.get_untracked(),
        ) else {
            return;
        };
        let p = f.untracked_period();
        let segment = f.segment.get_untracked();
        let after = if more { cursor.get_untracked() } else { None };
        let n = latest.next();
        spawn_local(async move {
            let page = api::answers(&token, &site, &p, &segment, after.as_deref(), PAGE).await;
            if !latest.is(n) {
                return;
            }
            match page {
                Ok(page) => {
                    cursor.set(page.next_cursor);
                    if more {
                        items.update(|l| l.get_or_insert_with(Vec::new).extend(page.items));
                    } else {
                        items.set(Some(page.items));
                    }
                }
                Err(e) => ctx.status.set(e),
            }
        });
    };
    Effect::new(move |_| {
        ctx.reload.track();
        ctx.session.token.track();
        ctx.session.site.track();
        f.survey.track();
        f.days.track();
        f.segment.track();
        load(false);
    });
    let tab = move |seg: &'static str, label: &'static str| {
        view! {
            <button type="button" class="seg" data-seg=seg
                aria-pressed=move || if f.segment.get() == seg { "true" } else { "false" }
                on:click=move |_| f.segment.set(seg.to_string())>
                {label}
            </button>
        }
    };
    view! {
        <section class="card answers-card" aria-labelledby="answers-title">
            <h3 id="answers-title">"Latest answers"</h3>
            <div class="segs" role="group" aria-label="Segment">
                {tab("", "All")}
                {tab("detractor", "Detractors")}
                {tab("passive", "Passives")}
                {tab("promoter", "Promoters")}
            </div>
            {move || match items.get() {
                None => view! { <p class="empty">"Loading answers…"</p> }.into_any(),
                Some(list) if list.is_empty() => view! { <p class="empty">"No answers in this period."</p> }.into_any(),
                Some(list) => view! {
                    <ol class="answers">
                        {list.into_iter().map(|a| {
                            let focused = ctx.focus.get_untracked().as_deref() == Some(a.id.as_str());
                            item(a, focused)
                        }).collect_view()}
                    </ol>
                }.into_any(),
            }}
            <Show when=move || cursor.get().is_some() fallback=|| ()>
                <button type="button" class="quiet more" on:click=move |_| load(true)>"Load more"</button>
            </Show>
        </section>
    }
}

/// Whether a page address may be a link: the answer says it, so only web addresses are.
fn web_address(page: &str) -> Option<&str> {
    let lower = page.get(..8).unwrap_or(page).to_ascii_lowercase();
    if lower.starts_with("https://") {
        Some(&page[8..])
    } else if lower.starts_with("http://") {
        Some(&page[7..])
    } else {
        None
    }
}

/// One answer: its score, its words (text), when, which survey, who, and what they agreed to.
fn item(a: Answer, focused: bool) -> impl IntoView {
    let seg = a
        .segment
        .clone()
        .unwrap_or_else(|| segment_of(a.score).into());
    let u = a.user.clone().unwrap_or_default();
    let who = [
        u.email,
        u.id.map(|v| format!("user {v}")),
        u.account.map(|v| format!("account {v}")),
        u.order.map(|v| format!("order {v}")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    let contact = match (a.contact_ok, seg.as_str()) {
        (Some(true), "detractor") => Some(("badge late contact", "wants a call back")),
        (Some(true), _) => Some(("badge", "contact OK")),
        _ => None,
    };
    let link = a.page.clone().and_then(|p| {
        let shown = web_address(&p)?.to_string();
        Some({
            view! { <a href=p rel="noopener noreferrer" target="_blank">{shown}</a> }
        })
    });
    view! {
        <li class=if focused { "answer focused" } else { "answer" } data-id=a.id.clone()>
            <span class=format!("score {seg}")>{a.score.to_string()}<span class="sr">{format!(" ({seg})")}</span></span>
            <div>
                {match a.comment.clone() {
                    Some(c) => view! { <p class="words">{c}</p> }.into_any(),
                    None => view! { <p class="words none">"No comment"</p> }.into_any(),
                }}
                <p class="meta">
                    <span>{when(&a.received_at)}</span>
                    <span>{a.survey.clone()}</span>
                    {(!who.is_empty()).then(|| view! { <span>{who}</span> })}
                    {a.locale.clone().map(|l| view! { <span>{l}</span> })}
                    {contact.map(|(class, text)| view! { <span class=class>{text}</span> })}
                    {(a.review_clicked == Some(true)).then(|| view! { <span class="badge">"clicked the review link"</span> })}
                    {link}
                </p>
            </div>
        </li>
    }
}
