//! Parsing untrusted request bodies into wire types, reporting every problem at once.
//!
//! Parsed through `serde_json::Value` rather than derived structs so that a wrong type in one
//! field does not hide the problems in the others.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::limits::{MAX_REV, MAX_SCORE};
use crate::model::{Event, EventType, Response, User};
use crate::text::{clean_comment, clean_line};
use crate::validate::{validate_event, validate_response, Problem, ProblemCode, Problems};

/// Why a body was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum ParseError {
    /// Not JSON (or not UTF-8): the client sent garbage. Maps to 400.
    Syntax(String),
    /// JSON, but not an object. Maps to 400.
    NotObject,
    /// A JSON object with invalid fields. Maps to 422.
    Invalid(Vec<Problem>),
}

const RESPONSE_FIELDS: &[&str] = &[
    "id",
    "rev",
    "site",
    "survey",
    "score",
    "comment",
    "locale",
    "visitor",
    "page",
    "contact_ok",
    "review_clicked",
    "user",
    "properties",
    "sent_at",
];
const EVENT_FIELDS: &[&str] = &["id", "site", "survey", "visitor", "type", "user"];
const USER_FIELDS: &[&str] = &["id", "account", "order", "email", "signature"];

/// Parses and validates a response body.
pub fn parse_response(body: &[u8]) -> Result<Response, ParseError> {
    let obj = object(body)?;
    let mut rd = Reader::new(&obj, "", RESPONSE_FIELDS);
    let r = Response {
        id: rd.req_str("id"),
        rev: rd.req_int("rev", MAX_REV.into()) as u32,
        site: rd.req_str("site"),
        survey: rd.req_str("survey"),
        score: rd.req_int("score", MAX_SCORE.into()) as u8,
        comment: rd
            .opt_str("comment")
            .map(|c| clean_comment(&c))
            .filter(|c| !c.is_empty()),
        locale: rd.opt_str("locale"),
        visitor: rd.req_str("visitor"),
        page: rd.opt_str("page"),
        contact_ok: rd.opt_bool("contact_ok"),
        review_clicked: rd.opt_bool("review_clicked"),
        user: rd.user(),
        properties: rd.properties(),
        sent_at: rd.opt_str("sent_at"),
    };
    finish(rd.problems, validate_response(&r), r)
}

/// Parses and validates an event body.
pub fn parse_event(body: &[u8]) -> Result<Event, ParseError> {
    let obj = object(body)?;
    let mut rd = Reader::new(&obj, "", EVENT_FIELDS);
    let kind_raw = rd.req_str("type");
    let kind = EventType::parse(&kind_raw);
    if kind.is_none() && !kind_raw.is_empty() {
        rd.problems.push(
            "type",
            ProblemCode::Format,
            "must be \"shown\" or \"dismissed\"",
        );
    }
    let e = Event {
        id: rd.req_str("id"),
        site: rd.req_str("site"),
        survey: rd.req_str("survey"),
        visitor: rd.req_str("visitor"),
        kind: kind.unwrap_or(EventType::Shown),
        user: rd.user(),
    };
    finish(rd.problems, validate_event(&e), e)
}

fn object(body: &[u8]) -> Result<Map<String, Value>, ParseError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ParseError::NotObject),
        Err(e) => Err(ParseError::Syntax(e.to_string())),
    }
}

/// Type problems come first; a field with a type problem is not re-reported by validation.
fn finish<T>(typed: Problems, checked: Vec<Problem>, value: T) -> Result<T, ParseError> {
    let mut all = typed.0;
    for p in checked {
        if !all.iter().any(|t| t.field == p.field) {
            all.push(p);
        }
    }
    if all.is_empty() {
        Ok(value)
    } else {
        Err(ParseError::Invalid(all))
    }
}

struct Reader<'a> {
    obj: &'a Map<String, Value>,
    prefix: &'a str,
    problems: Problems,
}

impl<'a> Reader<'a> {
    fn new(obj: &'a Map<String, Value>, prefix: &'a str, known: &[&str]) -> Self {
        let mut problems = Problems::default();
        for k in obj.keys().filter(|k| !known.contains(&k.as_str())) {
            let shown: String = k.chars().take(64).collect();
            problems.push(
                format!("{prefix}{shown}"),
                ProblemCode::Unknown,
                "is not a field of this contract",
            );
        }
        Reader {
            obj,
            prefix,
            problems,
        }
    }

    fn path(&self, k: &str) -> String {
        format!("{}{k}", self.prefix)
    }

    fn present(&self, k: &str) -> Option<&'a Value> {
        self.obj.get(k).filter(|v| !v.is_null())
    }

    fn req_str(&mut self, k: &str) -> String {
        match self.obj.get(k) {
            None | Some(Value::Null) => {
                self.problems
                    .push(self.path(k), ProblemCode::Missing, "is required");
                String::new()
            }
            Some(_) => self.opt_str(k).unwrap_or_default(),
        }
    }

    fn opt_str(&mut self, k: &str) -> Option<String> {
        match self.present(k)? {
            Value::String(s) => Some(s.clone()),
            _ => {
                self.problems
                    .push(self.path(k), ProblemCode::Type, "must be a string");
                None
            }
        }
    }

    fn opt_bool(&mut self, k: &str) -> Option<bool> {
        match self.present(k)? {
            Value::Bool(b) => Some(*b),
            _ => {
                self.problems
                    .push(self.path(k), ProblemCode::Type, "must be true or false");
                None
            }
        }
    }

    fn req_int(&mut self, k: &str, max: u64) -> u64 {
        let reason = format!("must be an integer from {} to {max}", u64::from(k == "rev"));
        match self.obj.get(k) {
            None | Some(Value::Null) => {
                self.problems
                    .push(self.path(k), ProblemCode::Missing, "is required");
                0
            }
            Some(Value::Number(n)) => match n.as_u64() {
                Some(v) if v <= max => v,
                _ => {
                    self.problems.push(self.path(k), ProblemCode::Range, reason);
                    0
                }
            },
            Some(_) => {
                self.problems.push(self.path(k), ProblemCode::Type, reason);
                0
            }
        }
    }

    fn user(&mut self) -> Option<User> {
        match self.present("user")? {
            Value::Object(m) => {
                let mut rd = Reader::new(m, "user.", USER_FIELDS);
                let u = User {
                    id: rd.opt_str("id"),
                    account: rd.opt_str("account"),
                    order: rd.opt_str("order"),
                    email: rd.opt_str("email").map(|e| clean_line(&e)),
                    signature: rd.opt_str("signature"),
                };
                self.problems.0.extend(rd.problems.0);
                Some(u).filter(|u| !u.is_empty())
            }
            _ => {
                self.problems
                    .push("user", ProblemCode::Type, "must be an object");
                None
            }
        }
    }

    fn properties(&mut self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        match self.present("properties") {
            None => {}
            Some(Value::Object(m)) => {
                for (k, v) in m {
                    let value = match v {
                        Value::String(s) => clean_line(s),
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        _ => {
                            let shown: String = k.chars().take(64).collect();
                            self.problems.push(
                                format!("properties.{shown}"),
                                ProblemCode::Type,
                                "must be a string, number or boolean",
                            );
                            continue;
                        }
                    };
                    out.insert(k.clone(), value);
                }
            }
            Some(_) => self
                .problems
                .push("properties", ProblemCode::Type, "must be an object"),
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"{"id":"0b6f8a2e-5c1d-4f7a-9e3b-2d1c0a9f8e7d","rev":2,"site":"demo","survey":"checkout","score":4,
 "comment":"La livraison a pris 3 semaines","locale":"fr-FR","visitor":"v_9f2c",
 "page":"https://shop.example/checkout/thanks","contact_ok":true,
 "user":{"id":"u_42","account":"acme","order":"o_981","email":"a@b.c"},
 "properties":{"plan":"pro"},"sent_at":"2026-11-23T10:00:00Z"}"#;

    fn problems(body: &str) -> Vec<(String, ProblemCode)> {
        match parse_response(body.as_bytes()) {
            Err(ParseError::Invalid(p)) => p.into_iter().map(|p| (p.field, p.code)).collect(),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn parses_the_documented_example() {
        let r = parse_response(EXAMPLE.as_bytes()).unwrap();
        assert_eq!(r.rev, 2);
        assert_eq!(r.score, 4);
        assert_eq!(r.segment(), Some(crate::Segment::Detractor));
        assert_eq!(r.user.as_ref().unwrap().order.as_deref(), Some("o_981"));
        assert_eq!(r.respondent(), "u_42");
        assert_eq!(r.properties["plan"], "pro");
    }

    #[test]
    fn syntax_and_shape_errors() {
        assert!(matches!(parse_response(b"{"), Err(ParseError::Syntax(_))));
        assert!(matches!(
            parse_response(b"\xff\xfe"),
            Err(ParseError::Syntax(_))
        ));
        assert_eq!(parse_response(b"[1]"), Err(ParseError::NotObject));
        assert_eq!(parse_response(b"null"), Err(ParseError::NotObject));
    }

    #[test]
    fn reports_all_problems_at_once() {
        let got = problems(
            r#"{"id":1,"rev":"2","site":"demo","score":11,"visitor":"v","x":1,"user":{"id":"u","phone":"1"}}"#,
        );
        assert_eq!(
            got,
            vec![
                ("x".into(), ProblemCode::Unknown),
                ("id".into(), ProblemCode::Type),
                ("rev".into(), ProblemCode::Type),
                ("survey".into(), ProblemCode::Missing),
                ("score".into(), ProblemCode::Range),
                ("user.phone".into(), ProblemCode::Unknown),
            ]
        );
    }

    #[test]
    fn numbers_must_be_integers_in_range() {
        let base = |score: &str| {
            format!(r#"{{"id":"a","rev":1,"site":"s","survey":"q","visitor":"v","score":{score}}}"#)
        };
        assert!(parse_response(base("10").as_bytes()).is_ok());
        assert_eq!(
            problems(&base("-1")),
            vec![("score".into(), ProblemCode::Range)]
        );
        assert_eq!(
            problems(&base("4.5")),
            vec![("score".into(), ProblemCode::Range)]
        );
        assert_eq!(
            problems(&base("1e3")),
            vec![("score".into(), ProblemCode::Range)]
        );
        // Beyond f64 is not JSON we can read at all: a syntax error (400), not a panic.
        assert!(matches!(
            parse_response(base("1e400").as_bytes()),
            Err(ParseError::Syntax(_))
        ));
        assert_eq!(
            problems(&base("true")),
            vec![("score".into(), ProblemCode::Type)]
        );
    }

    #[test]
    fn comment_is_cleaned_and_blank_is_none() {
        let body = r#"{"id":"a","rev":1,"site":"s","survey":"q","visitor":"v","score":9,"comment":"  \u0000 \t "}"#;
        assert_eq!(parse_response(body.as_bytes()).unwrap().comment, None);
        let body = r#"{"id":"a","rev":1,"site":"s","survey":"q","visitor":"v","score":9,"comment":" ok\u0007\r\nfine "}"#;
        assert_eq!(
            parse_response(body.as_bytes()).unwrap().comment.as_deref(),
            Some("ok\nfine")
        );
    }

    #[test]
    fn property_values_may_be_scalars() {
        let body = r#"{"id":"a","rev":1,"site":"s","survey":"q","visitor":"v","score":9,"properties":{"n":5,"b":true,"o":{}}}"#;
        assert_eq!(
            problems(body),
            vec![("properties.o".into(), ProblemCode::Type)]
        );
    }

    #[test]
    fn events() {
        let e = parse_event(
            br#"{"id":"e1","site":"demo","survey":"checkout","visitor":"v1","type":"dismissed"}"#,
        )
        .unwrap();
        assert_eq!(e.kind, EventType::Dismissed);
        let Err(ParseError::Invalid(p)) = parse_event(
            br#"{"id":"e1","site":"demo","survey":"checkout","visitor":"v1","type":"clicked"}"#,
        ) else {
            panic!()
        };
        assert_eq!(p[0].field, "type");
    }
}
