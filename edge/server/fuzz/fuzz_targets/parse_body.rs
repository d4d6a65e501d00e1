//! Body parsing + validation + authorization + problem rendering, on arbitrary bytes: the path
//! every untrusted request takes. The invariant lives in `nps_edge_core::fuzzing::check_body`,
//! which `cargo test` also replays over the corpus. Seeded from `edge/server/tests/corpus/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    nps_edge_core::fuzzing::check_body(data);
});
