#!/usr/bin/env bash
# Builds the Rust Cloudflare Worker into dist/worker/:
#   index.js (shim + wasm-bindgen glue, one ES module) + index_bg.wasm
# with cargo + wasm-bindgen CLI + wasm-opt + esbuild only (no worker-build: it downloads tools
# from outside the registries). Also copies the JS baseline worker to dist/worker-js/.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
OUT="$ROOT/dist/worker"
WASM_BINDGEN="${WASM_BINDGEN_BIN:-$HOME/.cargo/bin/wasm-bindgen}"
WASM_OPT="${WASM_OPT_BIN:-$ROOT/node_modules/.bin/wasm-opt}"
ESBUILD="${ESBUILD_BIN:-$ROOT/node_modules/.bin/esbuild}"
PROFILE="${NPS_WORKER_PROFILE:-worker}"

for tool in "$WASM_BINDGEN" "$WASM_OPT" "$ESBUILD"; do
  [ -x "$tool" ] || { echo "build-worker: missing $tool (run scripts/bootstrap.sh)" >&2; exit 1; }
done

# Keep the target_features section for wasm-bindgen; wasm-opt strips names afterwards.
CARGO_PROFILE_WORKER_STRIP=false cargo build --target wasm32-unknown-unknown --profile "$PROFILE" -p nps-worker ${NPS_WORKER_CARGO_FLAGS:-}
RAW="$ROOT/target/wasm32-unknown-unknown/$PROFILE/nps_worker.wasm"

rm -rf "$OUT" && mkdir -p "$OUT/glue"
# `web`: the glue instantiates the module itself (initSync) and can make a new instance after a
# trap (`__wbg_reset_state`, see js/shim.mjs); the bundler glue's reset refers to names it lacks.
"$WASM_BINDGEN" "$RAW" --target web --experimental-reset-state-function --out-dir "$OUT/glue" --out-name index --no-typescript
# -ocimfs=20: inline a function into its only caller only when it is small. wasm-opt's default
# (any size) merges whole call chains (serde visitors, the TOML parser) into a few large functions,
# which gzip worse (+27 KB) and which V8, compiling each function on its first call, compiles whole
# on a cold start (reading the config: 148 KB of function bodies instead of 90 KB). See the README.
"$WASM_OPT" -Os -ocimfs=20 ${NPS_WORKER_WASM_OPT_EXTRA:-} --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue \
  "$OUT/glue/index_bg.wasm" -o "$OUT/index_bg.wasm"
cp "$ROOT/edge/worker/js/shim.mjs" "$OUT/shim.mjs"
"$ESBUILD" "$OUT/shim.mjs" --bundle --minify --format=esm --platform=neutral --target=es2022 \
  --external:./index_bg.wasm --external:cloudflare:* --outfile="$OUT/index.js" --log-level=warning
rm -rf "$OUT/glue" "$OUT/shim.mjs"

# The static files for the assets binding, named as nps_edge_app::statics::FILES names them (the
# worker tests check every one is served): the OpenAPI document.
mkdir -p "$OUT/assets"
cp "$ROOT/edge/app/openapi.json" "$OUT/assets/openapi.json"
# The team's console (its own build), served at /console; /report redirects to its report view.
bash "$ROOT/scripts/build-console.sh"
cp -r "$ROOT/dist/console" "$OUT/assets/console"

# The JS baseline (benchmark comparison), bundled the same way.
mkdir -p "$ROOT/dist/worker-js"
"$ESBUILD" "$ROOT/edge/worker/baseline-js/index.js" --bundle --format=esm --platform=neutral --target=es2022 \
  --external:cloudflare:* --outfile="$ROOT/dist/worker-js/index.js" --log-level=warning

raw=$(stat -c %s "$OUT/index_bg.wasm"); gz=$(gzip -9c "$OUT/index_bg.wasm" | wc -c)
js=$(stat -c %s "$OUT/index.js"); jsgz=$(gzip -9c "$OUT/index.js" | wc -c)
echo "build-worker: dist/worker/index_bg.wasm ${raw} B (${gz} B gzip), index.js ${js} B (${jsgz} B gzip)"
