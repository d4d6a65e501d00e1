//! Wire contract v1 of the NPS survey, shared by the widget (wasm) and the edge (wasm + native).
//!
//! Pure by design: no I/O, no clock, no randomness. Everything a rule needs is passed in, so the
//! same rule runs in the browser, in the Cloudflare worker and in the native server, and is
//! tested natively in milliseconds.

pub mod i18n;
pub mod json;
pub mod limits;
pub mod model;
#[cfg(feature = "parse")]
pub mod parse;
pub mod segment;
pub mod text;
pub mod validate;

pub use model::{Event, EventType, Response, User};
pub use segment::Segment;
pub use validate::{Problem, ProblemCode};

/// Version of the wire contract, sent by the widget and echoed in sink payloads.
pub const PROTOCOL_VERSION: u32 = 1;
