#!/usr/bin/env bash
# Runs every test of the project: lint, native unit + integration tests, widget tests in
# headless Chromium, worker tests in local workerd, and end-to-end browser tests against
# both edges. Installs missing tools first (scripts/bootstrap.sh). Exits non-zero if any
# suite fails; every suite runs even after a failure so one run shows everything.
set -uo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
bash scripts/bootstrap.sh || exit 1

passed=0 failed=0 failures=()
suite() {
  local name=$1; shift
  printf '\n\033[1m=== %s\033[0m\n' "$name"
  local t=$SECONDS
  if "$@"; then
    passed=$((passed + 1)); echo "--- $name: ok ($((SECONDS - t)) s)"
  else
    failed=$((failed + 1)); failures+=("$name"); echo "--- $name: FAILED ($((SECONDS - t)) s)"
  fi
}

# The wasm-streams shim is a patch, not a workspace member: checked by name.
suite "format" bash -c 'cargo fmt --all --check && rustfmt --check --edition 2021 widget/shims/wasm-streams/src/lib.rs'
suite "clippy (native)" cargo clippy --all-targets --locked -- -D warnings
suite "clippy (wasm)" cargo clippy --locked --target wasm32-unknown-unknown -p nps-protocol -p nps-edge-core -p nps-edge-app -p nps-widget -p nps-worker -p nps-console -p wasm-streams@0.5.0 -- -D warnings
# One cargo invocation for every native test (a separate `-p` selection would resolve features
# again and rebuild shared dependencies).
suite "protocol, edge core, edge application, native server (cargo test)" cargo test --locked --workspace --exclude nps-widget --exclude nps-console
suite "widget (wasm-bindgen-test + browser)" bash scripts/test-widget.sh
suite "worker in workerd" env NPS_SKIP_CLIPPY=1 bash scripts/test-worker.sh
suite "conformance + security: one API contract, the attacks, on both runtimes" env NPS_CONFORMANCE_PREBUILT=1 bash scripts/test-conformance.sh
suite "console (report and cases) in Chromium, on both runtimes" env NPS_CONSOLE_PREBUILT=1 bash scripts/test-console.sh
suite "signed identity: the server-side snippets of docs/identity.md sign as the edge does" bash scripts/test-identity-snippets.sh
suite "end to end: browser -> widget -> edge -> sinks" env NPS_E2E_PREBUILT=1 bash scripts/test-e2e.sh

echo
((failed)) && printf 'failed suites: %s\n' "${failures[*]}"
echo "suites: $passed passed, $failed failed"
((failed == 0))
