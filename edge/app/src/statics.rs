//! The static files the edge serves as text: the OpenAPI document. Natively they are
//! compiled into the binary (feature `embedded-static`); the worker fetches them from its
//! static-assets binding instead (`scripts/build-worker.sh` copies [`FILES`] there), so that they
//! do not weigh on its wasm, whose size is its cold start.

/// The header that asks the runtime for a built file (`console/…`, from `dist/console`): the
/// application sets the status and headers, the runtime adds the bytes — natively from
/// `nps-edge --console DIR`, on the worker from its assets binding — since they are binary and
/// built separately (`scripts/build-console.sh`). A runtime removes the header.
pub const STATIC_FILE_HEADER: &str = "x-nps-static";

/// Every static file: its name (the path under the assets directory) and where it comes from,
/// relative to `edge/app`.
pub const FILES: [(&str, &str); 1] = [("openapi.json", "openapi.json")];

/// A compiled-in file by name.
#[cfg(feature = "embedded-static")]
pub fn embedded(name: &str) -> Option<&'static str> {
    Some(match name {
        "openapi.json" => include_str!("../openapi.json"),
        _ => return None,
    })
}

#[cfg(all(test, feature = "embedded-static"))]
mod tests {
    use super::*;

    #[test]
    fn every_file_is_compiled_in_from_its_source() {
        for (name, source) in FILES {
            let on_disk = std::fs::read_to_string(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(source),
            )
            .unwrap();
            assert_eq!(embedded(name), Some(on_disk.as_str()), "{name}");
        }
        assert_eq!(embedded("nope"), None);
    }
}
