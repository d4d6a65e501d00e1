//! Pure edge logic shared by the native server and the Cloudflare worker (placeholder until its issue lands).
