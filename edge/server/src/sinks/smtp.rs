//! `smtp`: e-mails (the `nps.invitation` messages of the sites whose `links.deliver` names this
//! sink) through an SMTP server with `lettre`, one message per outbox row, paced to the sink's
//! `per_minute`. SMTP replies map onto the retry policy as HTTP statuses do for a webhook:
//! accepted = done; a refusal (4xx or 5xx reply) or no connection = retried with backoff, then
//! a dead letter; a payload that is not an e-mail = dead letter after the same attempts.
//! The invitation is marked delivered by the store writer when its row is done.

use std::time::{Duration, Instant};

use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::SmtpTransport;
use lettre::{Message, Transport};
use nps_edge_core::retry::Attempt;

use super::{Sink, SinkError};

/// An SMTP server.
pub struct SmtpSink {
    transport: SmtpTransport,
    from: Mailbox,
    gap: Duration,
    last: Option<Instant>,
}

/// Why an outbox row cannot become an e-mail (recorded on the row, which goes to dead letters).
#[derive(Debug, thiserror::Error)]
enum MessageError {
    #[error("payload: {0}")]
    Payload(#[from] serde_json::Error),
    #[error("payload without {0}")]
    Missing(&'static str),
    #[error("to: {0}")]
    To(#[source] lettre::address::AddressError),
    #[error("message: {0}")]
    Build(#[source] lettre::error::Error),
}

impl SmtpSink {
    /// `url`: `smtp://host:port`, `smtp://host:587?tls=required`, `smtps://host:465` (resolved).
    pub fn new(
        url: &str,
        from: &str,
        per_minute: u32,
        timeout_ms: u64,
    ) -> Result<SmtpSink, SinkError> {
        let transport = SmtpTransport::from_url(url)
            .map_err(SinkError::SmtpUrl)?
            .timeout(Some(Duration::from_millis(timeout_ms)))
            .build();
        let from: Mailbox = from.parse().map_err(SinkError::SmtpFrom)?;
        Ok(SmtpSink {
            transport,
            from,
            gap: Duration::from_millis(60_000 / u64::from(per_minute.max(1))),
            last: None,
        })
    }

    fn message(&self, payload: &str) -> Result<Message, MessageError> {
        let v: serde_json::Value = serde_json::from_str(payload)?;
        let d = &v["data"];
        let field = |k: &'static str| d[k].as_str().ok_or(MessageError::Missing(k));
        let to: Mailbox = field("to")?.parse().map_err(MessageError::To)?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(field("subject")?)
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(field("text")?.to_string()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(field("html")?.to_string()),
                    ),
            )
            .map_err(MessageError::Build)
    }
}

impl Sink for SmtpSink {
    fn deliver(
        &mut self,
        _msg_id: &str,
        payload: &str,
        _now_secs: u64,
    ) -> (Attempt, Option<String>) {
        let msg = match self.message(payload) {
            Ok(m) => m,
            // Nothing a retry can fix: dead letter.
            Err(e) => return (Attempt::Status(400, None), Some(e.to_string())),
        };
        if let Some(last) = self.last {
            let since = last.elapsed();
            if since < self.gap {
                std::thread::sleep(self.gap - since);
            }
        }
        self.last = Some(Instant::now());
        match self.transport.send(&msg) {
            // Accepted: the same outcome as a webhook's 2xx.
            Ok(_) => (Attempt::Status(200, None), None),
            Err(e) if e.is_permanent() => (Attempt::Status(400, None), Some(e.to_string())),
            Err(e) if e.is_transient() => (Attempt::Status(503, None), Some(e.to_string())),
            Err(e) => (Attempt::NoResponse, Some(e.to_string())),
        }
    }
}
