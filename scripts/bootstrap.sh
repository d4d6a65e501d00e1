#!/usr/bin/env bash
# Installs every tool the build and the tests need, from the package registries only
# (crates.io, npm, Debian apt), and skips what is already present. Safe to run repeatedly.
#
#   scripts/bootstrap.sh            # everything
#   NPS_SKIP_BROWSER=1 scripts/...  # no Chromium (e.g. building only)
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
t0=$SECONDS

# --- Rust: wasm target ---------------------------------------------------------------------
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  step "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi
# The widget rebuilds std for size (-Zbuild-std, scripts/build-widget.sh): std's sources.
if ! rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
  step "adding the rust-src component"
  rustup component add rust-src
fi

# --- The widget's pinned compiler (widget/rust-toolchain.toml) ------------------------------
# When the machine's stable compiler is that version, it is named so (no download); else rustup
# installs it (a machine that can reach static.rust-lang.org).
widget_rustc=$(sed -n 's/^channel = "\(.*\)"/\1/p' widget/rust-toolchain.toml)
if ! rustc +"$widget_rustc" --version >/dev/null 2>&1; then
  if [[ "$(rustc +stable --version 2>/dev/null | cut -d' ' -f2)" == "$widget_rustc" ]]; then
    step "naming the installed stable rustc $widget_rustc as the widget's pinned toolchain"
    rustup toolchain link "$widget_rustc" "$(rustc +stable --print sysroot)"
  else
    step "installing rustc $widget_rustc, the widget's pinned toolchain"
    rustup toolchain install "$widget_rustc" --profile minimal --component rust-src --target wasm32-unknown-unknown
  fi
fi

# --- wasm-bindgen CLI: exactly the lockfile's wasm-bindgen ----------------------------------
wb_version=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock 2>/dev/null)
# Before the lockfile has it, the workspace's `=` pin is the same number.
[[ -n "$wb_version" ]] || wb_version=$(sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' Cargo.toml)
wb_bin="$HOME/.cargo/bin/wasm-bindgen"
if [[ "$("$wb_bin" --version 2>/dev/null || true)" != "wasm-bindgen $wb_version" ]]; then
  step "installing wasm-bindgen-cli $wb_version with cargo (takes ~11-19 min on 2 cores, once)"
  # No --locked: the crates.io index here lacks one of its pinned dependencies.
  cargo install wasm-bindgen-cli --version "$wb_version" --force
fi

# --- npm tools (pinned in package-lock.json) ------------------------------------------------
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -f node_modules/.lock-sum || "$(cat node_modules/.lock-sum)" != "$lock_sum" ]]; then
  step "installing npm tools (esbuild, binaryen, node 22, miniflare, workerd, wrangler, playwright-core)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > node_modules/.lock-sum
fi

# --- Chromium + chromedriver + wrk + PHP from Debian ----------------------------------------
need_apt=()
[[ "${NPS_SKIP_BROWSER:-}" == 1 ]] || {
  [[ -x /usr/bin/chromium ]] || need_apt+=(chromium)
  [[ -x /usr/bin/chromedriver ]] || need_apt+=(chromium-driver)
}
command -v wrk >/dev/null || need_apt+=(wrk)
# The server-side signing snippets of docs/identity.md are run in PHP too.
command -v php >/dev/null || need_apt+=(php-cli)
if ((${#need_apt[@]})); then
  step "installing ${need_apt[*]} with apt"
  export DEBIAN_FRONTEND=noninteractive
  sudo_=""; [[ $(id -u) == 0 ]] || sudo_=sudo
  $sudo_ apt-get update -q >/dev/null
  # dpkg occasionally complains on the first try on these images; once more settles it.
  $sudo_ apt-get install -y -q "${need_apt[@]}" >/dev/null || $sudo_ apt-get install -y -q "${need_apt[@]}" >/dev/null
fi

step "tools ready ($((SECONDS - t0)) s)"
