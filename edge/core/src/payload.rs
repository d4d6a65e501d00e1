//! Sink payloads. Built once when a response is accepted and stored in the outbox, so every retry
//! sends the same bytes (the signature covers them).

use nps_protocol::json::{write_response_fields, ObjectWriter};
use nps_protocol::{Event, Response, PROTOCOL_VERSION};

use crate::time::rfc3339_ms;

/// `type` of a response payload.
pub const RESPONSE_TYPE: &str = "nps.response";
/// `type` of an event payload.
pub const EVENT_TYPE: &str = "nps.event";

/// `{"type":"nps.response","timestamp":"<received, RFC 3339>","data":{<response fields>,
/// "segment":"…","received_at":"…","protocol":1}}`.
pub fn response_payload(r: &Response, received_ms: u64) -> String {
    let ts = rfc3339_ms(received_ms);
    let mut out = String::with_capacity(512);
    let mut w = ObjectWriter::new(&mut out);
    w.str("type", RESPONSE_TYPE).str("timestamp", &ts);
    w.raw("data", &response_data(r, &ts));
    w.end();
    out
}

fn response_data(r: &Response, received: &str) -> String {
    let mut data = String::with_capacity(400);
    let mut d = ObjectWriter::new(&mut data);
    write_response_fields(&mut d, r);
    if let Some(seg) = r.segment() {
        d.str("segment", seg.as_str());
    }
    d.str("received_at", received)
        .num("protocol", PROTOCOL_VERSION.into());
    d.end();
    data
}

/// `{"type":"nps.event","timestamp":"…","data":{<event fields>}}`.
pub fn event_payload(e: &Event, received_ms: u64) -> String {
    let mut out = String::with_capacity(256);
    let mut w = ObjectWriter::new(&mut out);
    w.str("type", EVENT_TYPE)
        .str("timestamp", &rfc3339_ms(received_ms))
        .raw("data", &nps_protocol::json::event_to_json(e));
    w.end();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_payload_shape() {
        let r = Response {
            id: "a".into(),
            rev: 2,
            site: "demo".into(),
            survey: "s".into(),
            score: 9,
            visitor: "v".into(),
            comment: Some("</script>\"".into()),
            ..Default::default()
        };
        let p = response_payload(&r, 0);
        let v: serde_json::Value = serde_json::from_str(&p).unwrap();
        assert_eq!(v["type"], "nps.response");
        assert_eq!(v["timestamp"], "1970-01-01T00:00:00.000Z");
        assert_eq!(v["data"]["segment"], "promoter");
        assert_eq!(v["data"]["rev"], 2);
        assert_eq!(v["data"]["comment"], "</script>\"");
        assert!(!p.contains("</script>"));
    }
}
