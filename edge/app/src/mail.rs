//! The invitation e-mail: HTML compiled from MJML at build time (`mail/invitation.mjml`, by
//! mrml in `build.rs`), its `{{name}}` slots filled here with escaped text, and a plain-text
//! part with the same links.

use std::sync::OnceLock;

use nps_edge_core::link_text::LinkText;
use nps_protocol::i18n::Strings;

use crate::link_page::{esc, question};

/// The compiled template.
const TEMPLATE: &str = include_str!(concat!(env!("OUT_DIR"), "/invitation.html"));

/// One piece of the template: text as compiled, or a slot.
#[derive(Debug)]
enum Part {
    Text(&'static str),
    Slot(&'static str),
}

fn parts() -> &'static [Part] {
    static PARTS: OnceLock<Vec<Part>> = OnceLock::new();
    PARTS.get_or_init(|| {
        let mut out = Vec::new();
        let mut rest = TEMPLATE;
        while let Some(start) = rest.find("{{") {
            let Some(len) = rest[start..].find("}}") else {
                break;
            };
            out.push(Part::Text(&rest[..start]));
            out.push(Part::Slot(&rest[start + 2..start + len]));
            rest = &rest[start + len + 2..];
        }
        out.push(Part::Text(rest));
        out
    })
}

/// A rendered e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Email {
    /// Subject line.
    pub subject: String,
    /// HTML part.
    pub html: String,
    /// Plain-text part.
    pub text: String,
}

/// What one invitation says.
pub(crate) struct Invitation<'a> {
    /// The survey's words in the recipient's language.
    pub strings: &'static Strings,
    /// The e-mail's words in that language.
    pub text: &'static LinkText,
    /// The site's name.
    pub brand: &'a str,
    /// The page link.
    pub url: &'a str,
    /// The eleven score links, 0 first.
    pub score_urls: &'a [String],
    /// The one reminder (its subject says so).
    pub reminder: bool,
}

/// Renders one invitation.
pub(crate) fn render(inv: &Invitation<'_>) -> Email {
    let (s, t) = (inv.strings, inv.text);
    let q = question(s, inv.brand);
    let subject = format!(
        "{}{}{}{}",
        if inv.reminder { t.reminder } else { "" },
        t.subject[0],
        inv.brand,
        t.subject[1]
    );
    let (start, end) = if s.rtl {
        ("right", "left")
    } else {
        ("left", "right")
    };
    let mut html = String::with_capacity(TEMPLATE.len() + 2048);
    for part in parts() {
        match part {
            Part::Text(x) => html.push_str(x),
            Part::Slot(name) => {
                let v: &str = match *name {
                    "lang" => s.lang,
                    "dir" => {
                        if s.rtl {
                            "rtl"
                        } else {
                            "ltr"
                        }
                    }
                    "start" => start,
                    "end" => end,
                    "subject" => &subject,
                    "question" => &q,
                    "hello" => t.hello,
                    "low" => s.low,
                    "high" => s.high,
                    "one_click" => t.one_click,
                    "open_page" => t.open_page,
                    "footer" => t.footer,
                    "url" => inv.url,
                    n => n
                        .strip_prefix('s')
                        .and_then(|i| i.parse::<usize>().ok())
                        .and_then(|i| inv.score_urls.get(i))
                        .map_or("", String::as_str),
                };
                html.push_str(&esc(v));
            }
        }
    }
    let mut text = format!("{}\n\n{q}\n\n", t.hello);
    for (n, u) in inv.score_urls.iter().enumerate() {
        let label = match n {
            0 => format!(" ({})", s.low),
            10 => format!(" ({})", s.high),
            _ => String::new(),
        };
        text.push_str(&format!("{n}{label}: {u}\n"));
    }
    text.push_str(&format!(
        "\n{} {}: {}\n\n-- \n{}\n",
        t.one_click, t.open_page, inv.url, t.footer
    ));
    Email {
        subject,
        html,
        text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nps_edge_core::link_text::text_for;
    use nps_protocol::i18n::strings_for;

    fn urls() -> Vec<String> {
        (0..=10)
            .map(|n| format!("https://nps.example/s/tok?score={n}"))
            .collect()
    }

    #[test]
    fn every_slot_is_filled_with_escaped_text() {
        let u = urls();
        let e = render(&Invitation {
            strings: strings_for("fr"),
            text: text_for("fr"),
            brand: "Maison <Lumière> & Co",
            url: "https://nps.example/s/tok",
            score_urls: &u,
            reminder: false,
        });
        assert!(!e.html.contains("{{"), "a slot left unfilled");
        assert!(e.html.contains("Maison &lt;Lumière&gt; &amp; Co"));
        assert!(!e.html.contains("<Lumière>"));
        for n in 0..=10 {
            assert!(
                e.html
                    .contains(&format!("href=\"https://nps.example/s/tok?score={n}\"")),
                "score {n}"
            );
            assert!(e.text.contains(&format!("{n}")));
        }
        assert!(e.html.contains("lang=\"fr\""));
        assert_eq!(e.subject, "Maison <Lumière> & Co : une petite question");
        assert!(e.text.contains("https://nps.example/s/tok?score=10"));
        // Nothing loaded from a third party (a web font would tell it who opened the e-mail).
        assert!(!e.html.contains("googleapis") && !e.html.contains("<link"));
        // Gmail clips an HTML part over 102 KB.
        assert!(e.html.len() < 60_000, "{}", e.html.len());
    }

    #[test]
    fn the_reminder_says_so_and_arabic_reads_right_to_left() {
        let u = urls();
        let e = render(&Invitation {
            strings: strings_for("ar"),
            text: text_for("ar"),
            brand: "B",
            url: "https://nps.example/s/tok",
            score_urls: &u,
            reminder: true,
        });
        assert!(e.subject.starts_with(text_for("ar").reminder));
        assert!(e.html.contains("dir=\"rtl\""));
    }
}
