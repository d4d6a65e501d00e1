//! Identity signatures on arbitrary input: signing, verification, the per-site off / optional /
//! required rule, and the `user` of request bodies. The invariants live in
//! `nps_edge_core::fuzzing::check_identity`, which `cargo test` also runs on fixed inputs.
//! Seeded from `seeds/identity/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    nps_edge_core::fuzzing::check_identity(data);
});
