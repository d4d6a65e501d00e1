#!/usr/bin/env bash
# Benchmark, in one run on loopback: the Rust worker (dist/worker) vs the equivalent JavaScript
# worker (edge/worker/baseline-js), both on workerd directly with the dedup Durable Object
# (SQLite storage on a temp dir), no sinks. Prints req/s, p50/p99, CPU per request (workerd process
# user+sys time / requests), bundle size (gzip) and cold start (process spawn → first 200).
# Bounded: BENCH_ROUNDS (default 3) alternating rounds of BENCH_SECONDS (default 6) per worker,
# wrk -t2 -c${BENCH_CONNS:-32}; medians are reported (the machine is shared: alternate + median).
# Cold start: each round's start plus BENCH_COLD_STARTS (default 10) more alternating starts.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
SECS="${BENCH_SECONDS:-6}"
ROUNDS="${BENCH_ROUNDS:-3}"
CONNS="${BENCH_CONNS:-32}"
COLD_STARTS="${BENCH_COLD_STARTS:-10}"
WORKERD="$ROOT/node_modules/.bin/workerd"
WRK="${WRK_BIN:-/usr/bin/wrk}"
[ -x "$WRK" ] || { echo "bench-worker: wrk not found (apt-get install wrk)" >&2; exit 1; }
[ -f dist/worker/index_bg.wasm ] || scripts/build-worker.sh
mkdir -p dist/worker-js
"$ROOT/node_modules/.bin/esbuild" edge/worker/baseline-js/index.js --bundle --format=esm \
  --platform=neutral --target=es2022 --external:cloudflare:* --outfile=dist/worker-js/index.js --log-level=warning

# Durable Object files on tmpfs: measure the code, not the disk.
TMP="$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)"
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT

# The same document the native server reads (the worker reads TOML); the JS baseline reads JSON.
# workerd on its own has no CF-Connecting-IP: the address comes from the proxy's header, as a
# self-hosted deployment configures it (wrk sends it; the JS baseline ignores it).
cat > "$TMP/config-rust.txt" <<'TOML'
[[sites]]
id = "bench"
origins = ["https://shop.example"]
rate_limit = { burst = 100000000, per_minute = 100000000 }

[worker]
state = "SITE_STATE"
client_address_header = "x-real-ip"
TOML
printf '{"sites":[{"id":"bench","origins":["https://shop.example"],"rate_limit":{"burst":100000000,"per_minute":100000000}}],"sinks":[]}' > "$TMP/config-js.txt"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# $1 = name, $2 = modules block, $3 = Durable Object binding, $4 = its class
write_capnp() {
  cat > "$TMP/$1.capnp" <<CAPNP
using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "w", worker = .w), (name = "disk", disk = (path = "$TMP/do-$1", writable = true))],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "w")],
);
const w :Workerd.Worker = (
  modules = [$2],
  compatibilityDate = "2025-09-01",
  bindings = [
    (name = "NPS_CONFIG", text = embed "config-$1.txt"),
    (name = "$3", durableObjectNamespace = "$4"),
  ],
  durableObjectNamespaces = [(className = "$4", uniqueKey = "bench-$1", enableSql = true)],
  durableObjectStorage = (localDisk = "disk"),
);
CAPNP
}
cp dist/worker/index.js "$TMP/rust.js"; cp dist/worker/index_bg.wasm "$TMP/index_bg.wasm"
cp dist/worker-js/index.js "$TMP/js.js"
write_capnp rust '(name = "index.js", esModule = embed "rust.js"), (name = "index_bg.wasm", wasm = embed "index_bg.wasm")' SITE_STATE SiteState
write_capnp js '(name = "index.js", esModule = embed "js.js")' DEDUP Deduper

now_ms() { date +%s%3N; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TCK=$(getconf CLK_TCK)

# start NAME PORT → sets PID, COLD_MS (spawn → first successful POST)
start() {
  local t0; t0=$(now_ms)
  rm -rf "$TMP/do-$1"; mkdir -p "$TMP/do-$1"
  "$WORKERD" serve "$TMP/$1.capnp" --socket-addr "http=127.0.0.1:$2" >"$TMP/$1.log" 2>&1 &
  PID=$!; PIDS+=("$PID")
  local body='{"id":"warm-0","rev":1,"site":"bench","survey":"s","score":9,"visitor":"v0"}'
  for _ in $(seq 1 400); do
    if curl -s -o /dev/null -w '%{http_code}' -XPOST -H 'content-type: application/json' -H 'origin: https://shop.example' -H 'x-real-ip: 127.0.0.1' \
        -d "$body" "http://127.0.0.1:$2/v1/responses" 2>/dev/null | grep -q 202; then
      COLD_MS=$(( $(now_ms) - t0 )); return 0
    fi
    sleep 0.005
  done
  echo "bench-worker: $1 did not start"; cat "$TMP/$1.log"; curl -s -XPOST -H "content-type: application/json" -d "$body" "http://127.0.0.1:$2/v1/responses"; exit 1
}

declare -A RPS P50 P99 CPU COLD NON202 SIZE
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for round in $(seq 1 "$ROUNDS"); do
  for name in rust js; do
    port=$(free_port)
    start "$name" "$port"; COLD[$name]+=" $COLD_MS"
    # warm-up (JIT, wasm tier-up), not measured
    "$WRK" -t2 -c"$CONNS" -d2s -s edge/worker/bench/post.lua "http://127.0.0.1:$port" >/dev/null
    c0=$(cpu_ticks "$PID")
    "$WRK" -t2 -c"$CONNS" -d"${SECS}s" --latency -s edge/worker/bench/post.lua "http://127.0.0.1:$port" > "$TMP/$name.wrk"
    c1=$(cpu_ticks "$PID")
    kill "$PID"; wait "$PID" 2>/dev/null || true
    reqs=$(awk '/requests in/ {print $1}' "$TMP/$name.wrk")
    RPS[$name]+=" $(awk '/Requests\/sec/ {printf "%.0f", $2}' "$TMP/$name.wrk")"
    P50[$name]+=" $(awk '$1=="50%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else {sub(/s/,"",v); v*=1000}; print v}' "$TMP/$name.wrk")"
    P99[$name]+=" $(awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else {sub(/s/,"",v); v*=1000}; print v}' "$TMP/$name.wrk")"
    NON202[$name]=$(( ${NON202[$name]:-0} + $(awk '/^non202/ {print $2}' "$TMP/$name.wrk") ))
    CPU[$name]+=" $(awk -v d=$((c1 - c0)) -v t="$TCK" -v n="$reqs" 'BEGIN {printf "%.1f", d / t * 1e6 / n}')"
    echo "round $round $name: req/s${RPS[$name]##* } cpu_us/req${CPU[$name]##* }" >&2
  done
done
# More cold starts (one figure per start is noisy: the machine, the poll interval).
for _ in $(seq 1 "$COLD_STARTS"); do
  for name in rust js; do
    port=$(free_port)
    start "$name" "$port"; COLD[$name]+=" $COLD_MS"
    kill "$PID"; wait "$PID" 2>/dev/null || true
  done
done
for name in rust js; do
  for v in RPS P50 P99 CPU COLD; do
    declare -n ref=$v; ref[$name]=$(echo "${ref[$name]}" | median); unset -n ref
  done
done
SIZE[rust]=$(( $(gzip -9c dist/worker/index_bg.wasm | wc -c) + $(gzip -9c dist/worker/index.js | wc -c) ))
SIZE[js]=$(gzip -9c dist/worker-js/index.js | wc -c)

printf '\nPOST /v1/responses, wrk -t2 -c%s -d%ss x %s rounds (medians; cold start over %s starts), loopback, workerd %s, SQLite DO on local disk (tmp), no sinks\n' "$CONNS" "$SECS" "$ROUNDS" "$((ROUNDS + COLD_STARTS))" "$("$WORKERD" --version | awk '{print $2}')"
printf '%-22s %10s %10s %10s %14s %12s %12s %8s\n' worker 'req/s' 'p50 ms' 'p99 ms' 'CPU us/req' 'gzip bytes' 'cold ms' non202
for name in rust js; do
  label=$([ "$name" = rust ] && echo "Rust (nps-worker)" || echo "JavaScript baseline")
  printf '%-22s %10s %10s %10s %14s %12s %12s %8s\n' "$label" "${RPS[$name]}" "${P50[$name]}" "${P99[$name]}" "${CPU[$name]}" "${SIZE[$name]}" "${COLD[$name]}" "${NON202[$name]:-?}"
done
awk -v r="${RPS[rust]}" -v j="${RPS[js]}" -v cr="${CPU[rust]}" -v cj="${CPU[js]}" \
  'BEGIN {printf "ratio Rust/JS: throughput %.2f, CPU per request %.2f\n", r / j, cr / cj}'
