//! Leptos/WASM NPS survey widget (placeholder until its issue lands).
