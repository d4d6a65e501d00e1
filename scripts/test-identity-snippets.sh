#!/usr/bin/env bash
# Proves the server-side signing snippets of docs/identity.md (Node, Python, PHP, Rust):
#  - edge/core/tests/identity_vectors.rs: the signatures of docs/identity/vectors.json are what the
#    edge's nps_edge_core::identity::sign computes, and what a site with identity "required" takes;
#  - scripts/test-identity-snippets.mjs: every code block of the page is its file under
#    docs/identity/, and each snippet, run on the vectors, gives those signatures and a script tag
#    calling nps('identify', {id, signature}) with exactly those values.
# The Rust snippet is a crate of its own (docs/identity/rust), built into the shared target/.
# Every check runs even after a failure; exits non-zero if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
for tool in node python3 php; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: scripts/bootstrap.sh installs it" >&2; exit 1; }
done
status=0

echo "--- the vectors are the edge's signatures"
cargo test -q --locked --workspace --exclude nps-widget --test identity_vectors || status=1

echo "--- the Rust snippet crate: format, clippy, build"
manifest=docs/identity/rust/Cargo.toml
{ cargo fmt --manifest-path "$manifest" --check &&
  cargo clippy -q --locked --manifest-path "$manifest" --all-targets -- -D warnings &&
  cargo build -q --locked --manifest-path "$manifest"; } || status=1

echo "--- the page shows the files; each snippet signs as the edge does"
node scripts/test-identity-snippets.mjs "$CARGO_TARGET_DIR/debug/nps-identity-snippet" || status=1

exit $status
