//! A tiny JSON writer for the wire types. The widget uses it instead of serde_json, which would
//! cost it tens of kilobytes of wasm; the edge uses it for sink payloads. Property tests check
//! that everything written here parses back to the same value.

use crate::model::{Event, Response, User};

/// Appends `s` as a JSON string literal (quotes included).
pub fn push_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // `<` escaped too, so a payload dropped into HTML can never close a script tag.
            c if (c as u32) < 0x20 || c == '<' || c == '\u{2028}' || c == '\u{2029}' => {
                let n = c as u32;
                out.push_str("\\u");
                for shift in [12, 8, 4, 0] {
                    out.push(char::from_digit((n >> shift) & 0xF, 16).unwrap_or('0'));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Builds one JSON object field by field.
pub struct ObjectWriter<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> ObjectWriter<'a> {
    /// Opens an object (`{`).
    pub fn new(out: &'a mut String) -> Self {
        out.push('{');
        ObjectWriter { out, first: true }
    }

    fn key(&mut self, k: &str) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        push_str(self.out, k);
        self.out.push(':');
    }

    /// `"k":"v"`.
    pub fn str(&mut self, k: &str, v: &str) -> &mut Self {
        self.key(k);
        push_str(self.out, v);
        self
    }

    /// `"k":"v"` when `v` is set.
    pub fn opt_str(&mut self, k: &str, v: Option<&str>) -> &mut Self {
        if let Some(v) = v {
            self.str(k, v);
        }
        self
    }

    /// `"k":n`.
    pub fn num(&mut self, k: &str, v: u64) -> &mut Self {
        self.key(k);
        self.out.push_str(&v.to_string());
        self
    }

    /// `"k":true|false` when `v` is set.
    pub fn opt_bool(&mut self, k: &str, v: Option<bool>) -> &mut Self {
        if let Some(v) = v {
            self.key(k);
            self.out.push_str(if v { "true" } else { "false" });
        }
        self
    }

    /// `"k":<raw JSON>`; `raw` must already be valid JSON.
    pub fn raw(&mut self, k: &str, raw: &str) -> &mut Self {
        self.key(k);
        self.out.push_str(raw);
        self
    }

    /// Closes the object (`}`).
    pub fn end(&mut self) {
        self.out.push('}');
    }
}

/// `{"id":…,"account":…,"order":…,"email":…}` with the set fields only.
pub fn user_json(u: &User) -> String {
    let mut s = String::new();
    ObjectWriter::new(&mut s)
        .opt_str("id", u.id.as_deref())
        .opt_str("account", u.account.as_deref())
        .opt_str("order", u.order.as_deref())
        .opt_str("email", u.email.as_deref())
        .opt_str("signature", u.signature.as_deref())
        .end();
    s
}

/// Writes the fields of a response into an open object (shared by the wire form and sink payloads).
pub fn write_response_fields(w: &mut ObjectWriter<'_>, r: &Response) {
    w.str("id", &r.id)
        .num("rev", r.rev.into())
        .str("site", &r.site)
        .str("survey", &r.survey)
        .num("score", r.score.into())
        .opt_str("comment", r.comment.as_deref())
        .opt_str("locale", r.locale.as_deref())
        .str("visitor", &r.visitor)
        .opt_str("page", r.page.as_deref())
        .opt_bool("contact_ok", r.contact_ok)
        .opt_bool("review_clicked", r.review_clicked);
    if let Some(u) = r.user.as_ref().filter(|u| !u.is_empty()) {
        w.raw("user", &user_json(u));
    }
    if !r.properties.is_empty() {
        let mut p = String::new();
        let mut pw = ObjectWriter::new(&mut p);
        for (k, v) in &r.properties {
            pw.str(k, v);
        }
        pw.end();
        w.raw("properties", &p);
    }
    w.opt_str("sent_at", r.sent_at.as_deref());
}

/// The wire form of a response, exactly what the widget POSTs.
pub fn response_to_json(r: &Response) -> String {
    let mut s = String::with_capacity(256);
    let mut w = ObjectWriter::new(&mut s);
    write_response_fields(&mut w, r);
    w.end();
    s
}

/// The wire form of an event.
pub fn event_to_json(e: &Event) -> String {
    let mut s = String::with_capacity(128);
    let mut w = ObjectWriter::new(&mut s);
    w.str("id", &e.id)
        .str("site", &e.site)
        .str("survey", &e.survey)
        .str("visitor", &e.visitor)
        .str("type", e.kind.as_str());
    if let Some(u) = e.user.as_ref().filter(|u| !u.is_empty()) {
        w.raw("user", &user_json(u));
    }
    w.end();
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_json_requires() {
        let mut s = String::new();
        push_str(&mut s, "a\"b\\c\nd\u{1}</script>\u{2028}");
        assert_eq!(s, r#""a\"b\\c\nd\u0001\u003c/script>\u2028""#);
        let back: String = serde_json::from_str(&s).unwrap();
        assert_eq!(back, "a\"b\\c\nd\u{1}</script>\u{2028}");
    }
}
