//! Client addresses on arbitrary input: trusted-proxy CIDRs, `X-Forwarded-For` read from the
//! right, rate-limit keys. The invariants live in `nps_edge_core::fuzzing::check_client`, which
//! `cargo test` also runs on fixed inputs. Seeded from `seeds/client/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    nps_edge_core::fuzzing::check_client(data);
});
