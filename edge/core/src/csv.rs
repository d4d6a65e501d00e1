//! CSV export of responses: RFC 4180 (comma, `"` quoting with `""`, CRLF rows) and neutralised
//! spreadsheet formulas — safe whichever separator the spreadsheet assumes.
//!
//! A cell that starts with `=`, `+`, `-`, `@`, TAB or CR (after any leading spaces) would be run
//! as a formula by Excel, LibreOffice or Google Sheets (`=HYPERLINK(…)`, `=cmd|' /C calc'!A0`,
//! DDE). Such cells get a leading `'` (OWASP's advice), which spreadsheets display as text. A
//! French or German spreadsheet splits on `;` and sees our `"` quotes only at the start of ITS
//! cells, so a part of a cell after a `,` `;` CR or LF can become a cell of its own there:
//! `x;=1+1` would open as `x` and a live `=1+1`. Such a part gets a `'` too (`x;'=1+1`), and a
//! cell holding `;` is quoted like one holding `,`. The `'`s are added before quoting, so
//! quoting rules still apply to the whole cell.

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

/// True when a spreadsheet would treat a cell starting like this as a formula (leading spaces,
/// which some readers trim, do not hide it).
pub fn is_formula_like(cell: &str) -> bool {
    matches!(cell.chars().next(), Some('\t' | '\r'))
        || matches!(
            cell.trim_start_matches(' ').chars().next(),
            Some('=' | '+' | '-' | '@' | '\t' | '\r')
        )
}

/// Appends one cell: formula-neutralised, then quoted when it holds `,` `;` `"` CR or LF (or
/// starts or ends with a space, which some readers trim).
pub fn push_cell(out: &mut String, cell: &str) {
    let neutral = neutralise(cell);
    let cell = neutral.as_str();
    let needs_quotes =
        cell.contains([',', ';', '"', '\r', '\n']) || cell.starts_with(' ') || cell.ends_with(' ');
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

/// The cell with a `'` before its start and before every part that follows a `,` `;` CR or LF
/// when that part would read as a formula.
fn neutralise(cell: &str) -> String {
    let mut out = String::with_capacity(cell.len() + 2);
    let mut part_start = true;
    for (i, c) in cell.char_indices() {
        if part_start && is_formula_like(&cell[i..]) {
            out.push('\'');
        }
        out.push(c);
        part_start = matches!(c, ',' | ';' | '\r' | '\n');
    }
    out
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
        assert_eq!(cell("  =1+1"), "'  =1+1");
        assert_eq!(cell("x;=1+1"), "\"x;'=1+1\"");
        assert_eq!(cell("a, -b\n@c"), "\"a,' -b\n'@c\"");
    }

    /// A spreadsheet's reading of a CSV file with `sep` as the separator (RFC 4180 quoting).
    fn read(text: &str, sep: char) -> Vec<Vec<String>> {
        let mut rows = vec![vec![String::new()]];
        let mut quoted = false;
        let mut it = text.chars().peekable();
        while let Some(c) = it.next() {
            let cell = rows.last_mut().unwrap().last_mut().unwrap();
            match (c, quoted) {
                ('"', true) if it.peek() == Some(&'"') => {
                    it.next();
                    cell.push('"');
                }
                ('"', true) => quoted = false,
                ('"', false) if cell.is_empty() => quoted = true,
                (c, false) if c == sep => rows.last_mut().unwrap().push(String::new()),
                ('\r', false) if it.peek() == Some(&'\n') => {
                    it.next();
                    rows.push(vec![String::new()]);
                }
                (c, _) => cell.push(c),
            }
        }
        rows.pop();
        rows
    }

    #[test]
    fn no_formula_survives_either_separator() {
        let nasty = [
            "x;=1+1",
            "a,=HYPERLINK(\"http://evil\")",
            "=cmd|' /C calc'!A0",
            " +33 6 12",
            "-2;-3",
            "@SUM(A1);x",
            "ok\n=1+1",
            "tab\t=1",
            "plain",
        ];
        let mut text = header();
        for (i, comment) in nasty.iter().enumerate() {
            let r = Response {
                id: format!("r{i}"),
                rev: 1,
                site: "demo".into(),
                survey: "s".into(),
                score: 3,
                comment: Some(comment.to_string()),
                visitor: "v".into(),
                page: Some(format!("https://x.example/?a={comment}")),
                ..Default::default()
            };
            push_response(&mut text, &r, 0);
        }
        for sep in [',', ';'] {
            let rows = read(&text, sep);
            assert_eq!(rows.len(), 1 + nasty.len(), "{sep}");
            for row in &rows {
                for c in row {
                    assert!(
                        !is_formula_like(c),
                        "separator {sep:?}: live formula cell {c:?}"
                    );
                }
            }
            if sep == ',' {
                for (i, row) in rows[1..].iter().enumerate() {
                    assert_eq!(row.len(), 18, "{row:?}");
                    assert_eq!(row[7].replace('\'', ""), nasty[i].replace('\'', ""));
                }
            }
        }
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
