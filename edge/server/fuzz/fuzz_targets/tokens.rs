//! API tokens on arbitrary input: `Authorization: Bearer` parsing, role and site checks, and
//! `[[tokens]]` / config parsing. The invariants live in `nps_edge_core::fuzzing::check_tokens`,
//! which `cargo test` also runs on fixed inputs. Seeded from `seeds/tokens/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    nps_edge_core::fuzzing::check_tokens(data);
});
