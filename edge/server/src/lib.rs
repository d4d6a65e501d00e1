//! Self-hosted native NPS edge server (axum + tokio + SQLite) (placeholder until its issue lands).
