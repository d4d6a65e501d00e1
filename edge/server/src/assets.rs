//! Static files (`--assets DIR`): the widget build (`dist/widget/`) served at the root, so one
//! binary serves both the loader and the API. CORS `*`: these are public files embedded by other
//! origins.

use std::path::{Component, Path, PathBuf};

/// Content type by extension; `application/wasm` matters (streaming compilation requires it).
pub fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "html" | "htm" => "text/html; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Cache policy: the loader (`nps.js`) and HTML must pick up a new release quickly, so they are
/// revalidated; the rest may be cached briefly (file names are not content-hashed).
pub fn cache_control(path: &Path) -> &'static str {
    match path.file_name().and_then(|n| n.to_str()).unwrap_or("") {
        "nps.js" => "public, max-age=60, must-revalidate",
        n if n.ends_with(".html") => "no-cache",
        _ => "public, max-age=3600",
    }
}

/// Maps a URL path to a file under `root`, refusing anything that could escape it
/// (`..`, absolute segments, backslashes, NUL). `/` maps to `index.html`.
pub fn resolve(root: &Path, url_path: &str) -> Option<PathBuf> {
    let rel = url_path.trim_start_matches('/');
    let rel = if rel.is_empty() { "index.html" } else { rel };
    if rel.contains(['\\', '\0']) || rel.len() > 512 {
        return None;
    }
    let p = Path::new(rel);
    if !p.components().all(|c| matches!(c, Component::Normal(_))) {
        return None;
    }
    Some(root.join(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside() {
        let root = Path::new("/srv");
        assert_eq!(resolve(root, "/nps.js"), Some(PathBuf::from("/srv/nps.js")));
        assert_eq!(resolve(root, "/"), Some(PathBuf::from("/srv/index.html")));
        for bad in [
            "/../etc/passwd",
            "/a/../../b",
            "//etc/passwd",
            "/a\\b",
            "/a\0",
        ] {
            assert!(
                resolve(root, bad)
                    .is_none_or(|p| p.starts_with(root) && !p.to_string_lossy().contains("..")),
                "{bad}"
            );
        }
        assert_eq!(
            content_type(Path::new("x/nps-widget_bg.wasm")),
            "application/wasm"
        );
    }
}
