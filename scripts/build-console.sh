#!/usr/bin/env bash
# Builds the team's console (console/, Leptos client-side) into dist/console/: the page, its
# style sheet and boot module, and the wasm-bindgen glue + wasm. The native edge serves that
# directory at /console (`nps-edge --console dist/console`); scripts/build-worker.sh copies it
# into the worker's static assets.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$ROOT/dist/console"
WASM_BINDGEN="${WASM_BINDGEN_BIN:-$HOME/.cargo/bin/wasm-bindgen}"
WASM_OPT="${WASM_OPT_BIN:-$ROOT/node_modules/.bin/wasm-opt}"
for tool in "$WASM_BINDGEN" "$WASM_OPT"; do
  [ -x "$tool" ] || { echo "build-console: missing $tool (run scripts/bootstrap.sh)" >&2; exit 1; }
done
cd "$ROOT"
cargo build --locked --target wasm32-unknown-unknown --profile console -p nps-console
rm -rf "$OUT" && mkdir -p "$OUT"
"$WASM_BINDGEN" "target/wasm32-unknown-unknown/console/nps_console.wasm" --target web \
  --out-dir "$OUT" --out-name nps_console --no-typescript
"$WASM_OPT" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue \
  "$OUT/nps_console_bg.wasm" -o "$OUT/nps_console_bg.wasm"
cp console/static/index.html console/static/console.css console/static/boot.js "$OUT/"
raw=$(stat -c %s "$OUT/nps_console_bg.wasm"); gz=$(gzip -9c "$OUT/nps_console_bg.wasm" | wc -c)
js=$(gzip -9c "$OUT/nps_console.js" | wc -c)
echo "build-console: nps_console_bg.wasm ${raw} B (${gz} B gzip), glue ${js} B gzip"
