//! The hosted survey page's markup: the same question, follow-ups and words as the widget, as
//! plain HTML forms (it works with JavaScript off), one small inline style sheet and one inline
//! script allowed by their hashes (strict CSP, no second round trip before the first paint),
//! fixed sizes (no layout shift).

use std::fmt::Write;
use std::sync::OnceLock;

use nps_edge_core::link_text::LinkText;
use nps_protocol::i18n::Strings;
use nps_protocol::Segment;

/// Escapes text for HTML content and quoted attributes: nothing from a link or a config is ever
/// markup.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "\
:root{color-scheme:light dark;--fg:#1c1b1a;--bg:#faf8f5;--mute:#5f5a54;--line:#c9c2b8;--on:#1c1b1a;--onfg:#fff}\
@media (prefers-color-scheme:dark){:root{--fg:#f1ede7;--bg:#1b1a19;--mute:#b4ada4;--line:#58524b;--on:#f1ede7;--onfg:#1b1a19}}\
*{box-sizing:border-box}\
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif}\
main{max-width:40rem;margin:0 auto;padding:2.5rem 1rem}\
h1{font-size:1.375rem;line-height:1.35;margin:0 0 1.5rem}\
fieldset{border:0;margin:0;padding:0}\
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}\
.scale{display:grid;grid-template-columns:repeat(11,minmax(0,1fr));gap:.3rem}\
.scale button{height:2.75rem;min-width:0;padding:0;border:1px solid var(--line);border-radius:.4rem;background:transparent;color:var(--fg);font:inherit;font-weight:600;cursor:pointer}\
.scale button:hover,.scale button:focus-visible{border-color:var(--fg)}\
.scale button[aria-pressed=true]{background:var(--on);color:var(--onfg);border-color:var(--on)}\
.ends{display:flex;justify-content:space-between;gap:1rem;margin:.5rem 0 0;color:var(--mute);font-size:.875rem}\
:focus-visible{outline:3px solid #2f6fde;outline-offset:2px}\
label{display:block;margin:0 0 .5rem;font-weight:600}\
textarea{display:block;width:100%;height:7.5rem;padding:.6rem;border:1px solid var(--line);border-radius:.4rem;background:transparent;color:var(--fg);font:inherit;resize:vertical}\
.check{display:flex;gap:.5rem;align-items:center;font-weight:400;margin:1rem 0 0}\
.send{margin:1.25rem 0 0;height:2.75rem;padding:0 1.5rem;border:0;border-radius:.4rem;background:var(--on);color:var(--onfg);font:inherit;font-weight:600;cursor:pointer}\
.note{color:var(--mute);margin:1rem 0 0}\
.note a{color:inherit}\
p{margin:0 0 1rem}";

/// Sends a pre-selected score once the page is really seen (a link scanner's bare GET never
/// does; see the README): the `form[data-auto]` is the same form a click sends without script.
const SCRIPT: &str = "(function(){var f=document.querySelector('form[data-auto]');if(!f)return;\
var sent=false;function go(){if(sent||document.visibilityState!=='visible')return;sent=true;\
if(f.requestSubmit)f.requestSubmit();else f.submit()}\
document.addEventListener('visibilitychange',go);go()})();";

/// Full-page mode: where the edge serves the widget's files (natively with `--assets`; the page
/// carries this script only then), the scale is replaced by the Leptos widget, which asks the
/// follow-up in place; each rev it hands over is posted as the page's own form would be. If the
/// files fail to load, or without script, the plain page stays.
const ENHANCE: &str = "(function(){var m=document.querySelector('main[data-site]');if(!m)return;\
var s=document.createElement('script');s.src='/nps-widget.js';s.onload=function(){\
fetch('/nps-widget_bg.wasm').then(function(w){if(!w.ok)throw 0;return __npsWidget({module_or_path:w})})\
.then(function(){var h=document.createElement('nps-survey'),q=Promise.resolve(),d=m.dataset;\
var ok=__npsWidget.mount(h,{site:d.site,survey:d.survey,visitor:d.visitor,locale:document.documentElement.lang,\
brand:d.brand,mode:'inline',theme:'auto',autofocus:1},{id:function(){return crypto.randomUUID()},\
send:function(p,k,b){if(p!='/v1/responses')return;var r=JSON.parse(b),f=new URLSearchParams({score:r.score,rev:r.rev});\
if('comment' in r||'contact_ok' in r){f.set('step','comment');if(r.comment)f.set('comment',r.comment);\
if(r.contact_ok)f.set('contact_ok','1')}q=q.then(function(){return fetch(d.action,{method:'POST',body:f,redirect:'manual'})})},\
emit:function(){},close:function(x){x=='done'&&q.then(function(){location.href=d.action+'?done'})}});\
if(ok)m.replaceChildren(h)}).catch(function(){})};document.head.appendChild(s)})();";

/// The page's Content-Security-Policy: only its own inline style and scripts (by hash), the
/// widget's files and wasm from the edge itself, forms and posts to itself, nothing else.
pub(crate) fn csp() -> &'static str {
    static CSP: OnceLock<String> = OnceLock::new();
    CSP.get_or_init(|| {
        format!(
            "default-src 'none'; style-src '{}'; script-src 'self' '{}' '{}' 'wasm-unsafe-eval'; \
connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
            nps_edge_core::links::csp_hash(STYLE),
            nps_edge_core::links::csp_hash(SCRIPT),
            nps_edge_core::links::csp_hash(ENHANCE)
        )
    })
}

/// A whole page around `body` (already HTML), in the language of `s`; `main` holds the
/// attributes of `<main>` (already HTML), `enhance` adds the full-page mode's script.
fn document(
    s: &Strings,
    title: &str,
    body: &str,
    script: bool,
    main: &str,
    enhance: bool,
) -> String {
    let mut out = String::with_capacity(STYLE.len() + body.len() + 600);
    let _ = write!(
        out,
        "<!doctype html><html lang=\"{}\" dir=\"{}\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<meta name=\"robots\" content=\"noindex\"><title>{}</title><style>{STYLE}</style></head>\
<body><main{main}>{body}</main>",
        s.lang,
        if s.rtl { "rtl" } else { "ltr" },
        esc(title),
    );
    if script {
        let _ = write!(out, "<script>{SCRIPT}</script>");
    }
    if enhance {
        let _ = write!(out, "<script>{ENHANCE}</script>");
    }
    out.push_str("</body></html>");
    out
}

/// The NPS question about `brand`.
pub(crate) fn question(s: &Strings, brand: &str) -> String {
    format!("{}{}{}", s.question[0], brand, s.question[1])
}

/// What the page shows.
pub(crate) enum View<'a> {
    /// The 0–10 scale; `selected` is the stored score, if any.
    Scale {
        /// Score shown as pressed.
        selected: Option<u8>,
        /// Rev the next answer takes.
        rev: u32,
        /// The widget's site, survey and visitor, for the full-page mode (none: plain only).
        widget: Option<(&'a str, &'a str, &'a str)>,
    },
    /// A score from the e-mail, to be sent by the page (automatically with script, by one
    /// click without).
    Confirm {
        /// The clicked score.
        score: u8,
        /// Rev it takes.
        rev: u32,
    },
    /// The follow-up question of the score's segment, with the comment box.
    FollowUp {
        /// The stored score.
        score: u8,
        /// Rev the comment takes.
        rev: u32,
    },
    /// Thank you.
    Done,
    /// A second answer within the site's window.
    Already,
    /// A refusal, in words.
    Message(&'a str),
}

/// The page of `view` for the link at `action` (`/s/{token}`).
pub(crate) fn render(s: &Strings, t: &LinkText, brand: &str, action: &str, view: View) -> String {
    let q = esc(&question(s, brand));
    let action = esc(action);
    let mut b = String::with_capacity(2048);
    let mut main = String::new();
    match view {
        View::Scale {
            selected,
            rev,
            widget,
        } => {
            scale(&mut b, s, &q, &action, selected, rev);
            if let Some((site, survey, visitor)) = widget {
                main = format!(
                    " data-site=\"{}\" data-survey=\"{}\" data-visitor=\"{}\" data-brand=\"{}\" data-action=\"{action}\"",
                    esc(site),
                    esc(survey),
                    esc(visitor),
                    esc(brand)
                );
            }
        }
        View::Confirm { score, rev } => {
            scale(&mut b, s, &q, &action, Some(score), rev);
            let _ = write!(
                b,
                "<form method=\"post\" action=\"{action}\" data-auto>\
<input type=\"hidden\" name=\"rev\" value=\"{rev}\"><input type=\"hidden\" name=\"score\" value=\"{score}\">\
<button class=\"send\" type=\"submit\">{} ({score})</button></form>",
                esc(t.confirm)
            );
        }
        View::FollowUp { score, rev } => {
            let follow = match Segment::of(score) {
                Some(Segment::Promoter) => s.promoter,
                Some(Segment::Passive) => s.passive,
                _ => s.detractor,
            };
            let _ = write!(
                b,
                "<p class=\"note\">{} <strong>{score}</strong> · <a href=\"{action}\">{}</a></p>\
<form method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"score\" value=\"{score}\">\
<input type=\"hidden\" name=\"rev\" value=\"{rev}\"><input type=\"hidden\" name=\"step\" value=\"comment\">\
<h1><label for=\"comment\">{}</label></h1>\
<textarea id=\"comment\" name=\"comment\" maxlength=\"{}\" placeholder=\"{}\"></textarea>",
                esc(t.your_score),
                esc(t.change),
                esc(follow),
                nps_protocol::limits::MAX_COMMENT_CHARS,
                esc(s.placeholder),
            );
            if Segment::of(score) == Some(Segment::Detractor) {
                let _ = write!(
                    b,
                    "<label class=\"check\"><input type=\"checkbox\" name=\"contact_ok\" value=\"1\">{}</label>",
                    esc(s.contact)
                );
            }
            let _ = write!(
                b,
                "<button class=\"send\" type=\"submit\">{}</button></form>",
                esc(s.send)
            );
        }
        View::Done => {
            let _ = write!(b, "<h1>{}</h1>", esc(s.thanks));
        }
        View::Already => {
            let _ = write!(b, "<h1>{}</h1>", esc(t.already));
        }
        View::Message(m) => {
            let _ = write!(b, "<h1>{}</h1>", esc(m));
        }
    }
    let auto = b.contains("data-auto");
    let enhance = !main.is_empty();
    document(s, t.title, &b, auto, &main, enhance)
}

fn scale(b: &mut String, s: &Strings, q: &str, action: &str, selected: Option<u8>, rev: u32) {
    let _ = write!(
        b,
        "<form method=\"post\" action=\"{action}\"><fieldset><legend><h1>{q}</h1></legend>\
<input type=\"hidden\" name=\"rev\" value=\"{rev}\"><div class=\"scale\">"
    );
    for n in 0..=10u8 {
        let _ = write!(
            b,
            "<button name=\"score\" value=\"{n}\" aria-pressed=\"{}\">{n}</button>",
            selected == Some(n)
        );
    }
    let _ = write!(
        b,
        "</div><p class=\"ends\" aria-hidden=\"true\"><span>0 · {}</span><span>10 · {}</span></p></fieldset></form>",
        esc(s.low),
        esc(s.high)
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use nps_edge_core::link_text::text_for;
    use nps_protocol::i18n::strings_for;

    #[test]
    fn text_is_escaped_and_the_page_speaks_the_language() {
        let html = render(
            strings_for("ar"),
            text_for("ar"),
            "<b>&Co</b>",
            "/s/x\"y",
            View::Scale {
                selected: Some(3),
                rev: 2,
                widget: None,
            },
        );
        assert!(html.contains("lang=\"ar\" dir=\"rtl\""));
        assert!(html.contains("&lt;b&gt;&amp;Co&lt;/b&gt;") && !html.contains("<b>"));
        assert!(html.contains("action=\"/s/x&quot;y\""));
        assert_eq!(html.matches("aria-pressed=\"true\"").count(), 1);
        assert!(html.contains("value=\"3\" aria-pressed=\"true\""));
        assert!(
            !html.contains("<script>"),
            "no script without a score to send"
        );
    }

    #[test]
    fn the_inline_style_and_script_are_the_ones_the_policy_allows() {
        let html = render(
            strings_for("fr"),
            text_for("fr"),
            "Maison",
            "/s/t",
            View::Confirm { score: 3, rev: 1 },
        );
        let style = html
            .split("<style>")
            .nth(1)
            .unwrap()
            .split("</style>")
            .next()
            .unwrap();
        let script = html
            .split("<script>")
            .nth(1)
            .unwrap()
            .split("</script>")
            .next()
            .unwrap();
        assert!(csp().contains(&nps_edge_core::links::csp_hash(style)));
        assert!(csp().contains(&nps_edge_core::links::csp_hash(script)));
        assert!(html.contains("data-auto") && html.contains("Envoyer ma note (3)"));
        // The first paint fits in one round trip (14 KB), uncompressed even.
        assert!(html.len() < 14 * 1024, "{}", html.len());
    }

    #[test]
    fn the_follow_up_is_the_segment_s_and_only_detractors_are_asked_for_contact() {
        let en = strings_for("en");
        let t = text_for("en");
        let d = render(en, t, "B", "/s/t", View::FollowUp { score: 3, rev: 2 });
        assert!(d.contains(en.detractor) && d.contains("name=\"contact_ok\""));
        let p = render(en, t, "B", "/s/t", View::FollowUp { score: 9, rev: 2 });
        assert!(p.contains(en.promoter) && !p.contains("contact_ok"));
        assert!(p.contains("name=\"rev\" value=\"2\""));
    }
}
