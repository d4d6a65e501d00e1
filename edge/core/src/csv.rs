//! CSV export of responses: RFC 4180 (comma, `"` quoting with `""`, CRLF rows) and neutralised
//! spreadsheet formulas.
//!
//! A cell that starts with `=`, `+`, `-`, `@`, TAB or CR would be run as a formula by Excel,
//! LibreOffice or Google Sheets (`=HYPERLINK(…)`, `=cmd|' /C calc'!A0`, DDE). Such cells get a
//! leading `'` (OWASP's advice), which spreadsheets display as text; the rest of the cell is
//! kept as is. The `'` is added before quoting, so quoting rules still apply to the whole cell.

use nps_protocol::Response;

use crate::time::rfc3339_ms;

/// Media type of the export (with `header=present`, RFC 4180 §3).
pub const CONTENT_TYPE: &str = "text/csv; charset=utf-8; header=present";

/// The columns of [`response_row`], in order.
pub const RESPONSE_COLUMNS: [&str; 18] = [
    "received_at",
    "id",
    "rev",
    "site",
    "survey",
    "score",
    "segment",
    "comment",
    "contact_ok",
    "review_clicked",
    "user_id",
    "account",
    "order",
    "email",
    "locale",
    "page",
    "visitor",
    "properties",
];

/// True when a spreadsheet would treat a cell starting like this as a formula.
pub fn is_formula_like(cell: &str) -> bool {
    matches!(
        cell.chars().next(),
        Some('=' | '+' | '-' | '@' | '\t' | '\r')
    )
}

/// Appends one cell: formula-neutralised, then quoted when it holds `,` `"` CR or LF (or starts
/// or ends with a space, which some readers trim).
pub fn push_cell(out: &mut String, cell: &str) {
    let neutral;
    let cell = if is_formula_like(cell) {
        neutral = format!("'{cell}");
        neutral.as_str()
    } else {
        cell
    };
    let needs_quotes =
        cell.contains([',', '"', '\r', '\n']) || cell.starts_with(' ') || cell.ends_with(' ');
    if needs_quotes {
        out.push('"');
        for c in cell.chars() {
            if c == '"' {
                out.push('"');
            }
            out.push(c);
        }
        out.push('"');
    } else {
        out.push_str(cell);
    }
}

/// Appends one record terminated by CRLF.
pub fn push_row<S: AsRef<str>>(out: &mut String, cells: &[S]) {
    for (i, c) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_cell(out, c.as_ref());
    }
    out.push_str("\r\n");
}

/// The header record.
pub fn header() -> String {
    let mut s = String::new();
    push_row(&mut s, &RESPONSE_COLUMNS);
    s
}

fn opt_bool(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "true",
        Some(false) => "false",
        None => "",
    }
}

/// The cells of one response (see [`RESPONSE_COLUMNS`]); `received_ms` is its receive time.
/// Properties are one JSON object cell.
pub fn response_row(r: &Response, received_ms: u64) -> [String; 18] {
    let u = r.user.clone().unwrap_or_default();
    let props = if r.properties.is_empty() {
        String::new()
    } else {
        let mut p = String::new();
        let mut w = nps_protocol::json::ObjectWriter::new(&mut p);
        for (k, v) in &r.properties {
            w.str(k, v);
        }
        w.end();
        p
    };
    [
        rfc3339_ms(received_ms),
        r.id.clone(),
        r.rev.to_string(),
        r.site.clone(),
        r.survey.clone(),
        r.score.to_string(),
        r.segment().map_or("", |g| g.as_str()).to_string(),
        r.comment.clone().unwrap_or_default(),
        opt_bool(r.contact_ok).into(),
        opt_bool(r.review_clicked).into(),
        u.id.unwrap_or_default(),
        u.account.unwrap_or_default(),
        u.order.unwrap_or_default(),
        u.email.unwrap_or_default(),
        r.locale.clone().unwrap_or_default(),
        r.page.clone().unwrap_or_default(),
        r.visitor.clone(),
        props,
    ]
}

/// Appends one response record.
pub fn push_response(out: &mut String, r: &Response, received_ms: u64) {
    push_row(out, &response_row(r, received_ms));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(s: &str) -> String {
        let mut o = String::new();
        push_cell(&mut o, s);
        o
    }

    #[test]
    fn rfc4180_quoting() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell(""), "");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("line1\nline2"), "\"line1\nline2\"");
        assert_eq!(cell("cr\r"), "\"cr\r\"");
        assert_eq!(cell(" padded "), "\" padded \"");
        assert_eq!(cell("héllo ✓"), "héllo ✓");
    }

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(cell("=1+1"), "'=1+1");
        assert_eq!(cell("+33 6 12"), "'+33 6 12");
        assert_eq!(cell("-2"), "'-2");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("\tx"), "'\tx");
        assert_eq!(cell("\rx"), "\"'\rx\"");
        assert_eq!(
            cell("=HYPERLINK(\"http://x\",\"a\")"),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"a\"\")\""
        );
        assert_eq!(cell("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        assert_eq!(cell("a=b"), "a=b");
    }

    #[test]
    fn response_rows() {
        let mut r = Response {
            id: "r1".into(),
            rev: 2,
            site: "demo".into(),
            survey: "checkout".into(),
            score: 6,
            comment: Some("=2+3, \"quoted\"\nnext".into()),
            visitor: "v".into(),
            contact_ok: Some(true),
            ..Default::default()
        };
        r.properties.insert("plan".into(), "pro".into());
        let mut out = header();
        push_response(&mut out, &r, 0);
        let lines: Vec<&str> = out.split("\r\n").collect();
        assert_eq!(lines[0], RESPONSE_COLUMNS.join(","));
        assert_eq!(
            lines[1],
            "1970-01-01T00:00:00.000Z,r1,2,demo,checkout,6,detractor,\"'=2+3, \"\"quoted\"\"\nnext\",true,,,,,,,,v,\"{\"\"plan\"\":\"\"pro\"\"}\""
        );
        assert_eq!(lines[2], "");
        assert_eq!(lines.len(), 3);
    }
}
