//! Logs through `tracing` on the worker too: the application's events (and this crate's) are
//! written to the runtime's console (what `wrangler tail` and Workers Logs collect) as one line
//! each, `LEVEL target: message key=value …`, errors and warnings with `console.error`.
//!
//! A subscriber of its own rather than `tracing-subscriber`'s formatter: the edge emits events
//! only (no spans), and the formatter's machinery cost the bundle about 20 KB of wasm gzip for
//! that (measured in the worker README).

use std::fmt::{self, Write};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};
use worker::worker_sys::web_sys::console;

/// The most verbose level written.
const MAX: Level = Level::INFO;

/// Formats each event as one console line.
struct Console;

/// Collects an event's fields: the message first, then `key=value` pairs.
struct Line {
    message: String,
    fields: String,
}

impl Visit for Line {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }
}

impl Subscriber for Console {
    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        *meta.level() <= MAX
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(MAX.into())
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let meta = event.metadata();
        let mut line = Line {
            message: String::new(),
            fields: String::new(),
        };
        event.record(&mut line);
        let text = format!(
            "{} {}: {}{}",
            meta.level(),
            meta.target(),
            line.message,
            line.fields
        );
        if *meta.level() <= Level::WARN {
            console::error_1(&text.into());
        } else {
            console::log_1(&text.into());
        }
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// Installs the subscriber once per isolate (no clock: the runtime stamps each line).
pub(crate) fn init() {
    let _ = tracing::subscriber::set_global_default(Console);
}
