//! Logs through `tracing` on the worker too: the application's events (and this crate's) are
//! formatted by `tracing-subscriber` (`level target: message key=value …`) and written to the runtime's console (what
//! `wrangler tail` and Workers Logs collect), errors and warnings with `console.error`.

use std::io;

use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;
use worker::worker_sys::web_sys::console;

/// Writes one formatted event to the console when dropped.
pub(crate) struct Line {
    buf: Vec<u8>,
    error: bool,
}

impl io::Write for Line {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.buf);
        let text = text.trim_end();
        if text.is_empty() {
            return;
        }
        if self.error {
            console::error_1(&text.into());
        } else {
            console::log_1(&text.into());
        }
    }
}

/// The console as a `tracing-subscriber` writer.
pub(crate) struct Console;

impl<'a> MakeWriter<'a> for Console {
    type Writer = Line;

    fn make_writer(&'a self) -> Line {
        Line {
            buf: Vec::new(),
            error: false,
        }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Line {
        Line {
            buf: Vec::new(),
            error: *meta.level() <= Level::WARN,
        }
    }
}

/// Installs the subscriber once per isolate (`info` and above; no clock: the runtime stamps
/// each line).
pub(crate) fn init() {
    let _ = tracing_subscriber::fmt()
        .compact()
        .with_ansi(false)
        .with_max_level(Level::INFO)
        .without_time()
        .with_writer(Console)
        .try_init();
}
