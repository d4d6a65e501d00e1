#!/usr/bin/env bash
# Benchmark: release nps-edge on a free loopback port with its SQLite store (every accepted
# response is committed to SQLite before its 202), driven by wrk with distinct response ids.
# Usage: edge/server/bench.sh [seconds=10] [connections=32] [threads=2]
#   SYNC=normal edge/server/bench.sh   (store durability level; default full = fsync per commit)
#   DETRACTORS=1 edge/server/bench.sh   (every answer a detractor: each opens a case)
#   CASES=false edge/server/bench.sh    (the site opens no cases)
#   WEBHOOK=1 edge/server/bench.sh      (a webhook sink listens: every answer, and every case it
#     opens (nps.case.opened), gets an outbox row; its receiver is down, so nothing drains them)
#   RATE=22000 edge/server/bench.sh     (paced: each connection waits connections/RATE s less 1 ms
#     between requests, so the load sits near RATE/s instead of saturating; p99 at that rate)
#   IDENTITY=required edge/server/bench.sh   (the site verifies signed identities: every request
#     names a distinct user with its HMAC signature, as a shop's server would sign it)
set -euo pipefail
cd "$(dirname "$0")/../.."
DUR="${1:-10}"; CONNS="${2:-32}"; THREADS="${3:-2}"
WRK="${WRK:-/usr/bin/wrk}"
SYNC="${SYNC:-full}"
IDENTITY="${IDENTITY:-off}"
command -v "$WRK" >/dev/null || { echo "wrk not found (apt-get install wrk)" >&2; exit 1; }
# NPS_EDGE_BIN=path compares another build (e.g. an earlier commit's) in the same conditions.
BIN="${NPS_EDGE_BIN:-target/release/nps-edge}"
[ -n "${NPS_EDGE_BIN:-}" ] || cargo build --release -p nps-edge >&2
TMP="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cat > "$TMP/bench.toml" <<TOML
[[sites]]
id = "bench"
origins = ["https://shop.example"]
# One client (wrk) sends everything: lift the per-client limit out of the way.
rate_limit = { per_minute = 100000000, burst = 1000000 }
identity = "$IDENTITY"
$([ "$IDENTITY" = off ] || echo 'identity_secret = "env:NPS_BENCH_IDENTITY"')
cases = { enabled = ${CASES:-true} }

# Named, scoped tokens as a real deployment has them (the ingest path never reads them).
[[tokens]]
name = "ops"
role = "admin"
sites = ["bench"]
secret = "env:NPS_BENCH_ADMIN"

$([ "${WEBHOOK:-0}" = 1 ] && printf '[[sinks]]\ntype = "webhook"\nname = "crm"\nurl = "http://127.0.0.1:9/down"\nsecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"\n')
[native]
db = "$TMP/bench.sqlite"
synchronous = "$SYNC"
TOML
export NPS_BENCH_IDENTITY="bench-identity-secret-0123456789" NPS_BENCH_ADMIN="bench-admin-token-0123456789"
USERS=""
if [ "$IDENTITY" != off ]; then
  # Distinct signed users (the respondent rule would make a repeated user a duplicate).
  USERS="$TMP/users.txt"
  python3 - "$USERS" "$NPS_BENCH_IDENTITY" <<'PY'
import hashlib, hmac, sys
key = sys.argv[2].encode()
with open(sys.argv[1], "w") as f:
    for n in range(600_000):
        uid = f"u{n}"
        f.write(f"{uid} {hmac.new(key, uid.encode(), hashlib.sha256).hexdigest()}\n")
PY
fi
"$BIN" --config "$TMP/bench.toml" --listen "127.0.0.1:$PORT" 2>"$TMP/server.log" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break
  sleep 0.05
done
PAUSE=0
[ -z "${RATE:-}" ] || PAUSE="$(python3 -c "print(max(0, round($CONNS * 1000 / $RATE - 1.0)))")"
echo "nps-edge bench: ${DUR}s, ${CONNS} connections, ${THREADS} wrk threads, SQLite store (synchronous=$SYNC), identity $IDENTITY, detractors only: ${DETRACTORS:-0}, webhook: ${WEBHOOK:-0}, paced: ${RATE:-no} (${PAUSE} ms pause)"
cpu_ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
BEFORE="$(cpu_ticks)"
"$WRK" -t"$THREADS" -c"$CONNS" -d"${DUR}s" --latency -s edge/server/bench.lua "http://127.0.0.1:$PORT" -- "$USERS" "$THREADS" "${DETRACTORS:-0}" "$PAUSE" | tail -n 3 | tee "$TMP/wrk.out"
AFTER="$(cpu_ticks)"
REQS="$(awk '/^requests:/ {print $2}' "$TMP/wrk.out")"
# Server CPU per request (user + system, all threads): independent of what else runs on the box.
awk -v t=$((AFTER - BEFORE)) -v hz="$(getconf CLK_TCK)" -v n="$REQS" \
  'BEGIN { printf "server CPU: %.1f s for %d requests = %.0f us/request\n", t / hz, n, (t / hz) * 1e6 / n }'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
ROWS="$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from responses').fetchone()[0])" "$TMP/bench.sqlite")"
echo "rows in responses table: $ROWS"
