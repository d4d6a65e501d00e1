//! The `sqlite` sink is the embedded store itself (`crate::store`): tables `responses` (one row
//! per response id, highest rev), `events`, `respondents` (dedup windows), `outbox` (pending
//! deliveries and dead letters, `state = 2`) and `sink_state` (sinks disabled by a 410).
//! It is written in the same transaction that decides deduplication, before the 2xx, so it needs
//! no delivery code; this file exists so every sink has its place.
//!
//! Query it with any SQLite client, e.g.
//! `sqlite3 nps-edge.sqlite "SELECT segment, count(*) FROM responses GROUP BY segment"`.
