//! NPS edge as a Cloudflare Worker (workers-rs) (placeholder until its issue lands).
