#!/usr/bin/env bash
# Invitation rendering speed, natively: POST /v1/sites/{site}/invitations with 1,000 recipients
# (seven languages in turn), RUNS times against a release build of nps-edge; prints e-mails per
# second for each run and the median. Bounded: RUNS requests (default 5), 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
cargo build --locked --release -p nps-edge >/dev/null 2>&1
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$dir/edge.toml" <<TOML
[[sites]]
id = "bench"
origins = ["http://localhost:*"]
links = { secret = "env:NPS_LINK_SECRET", base_url = "https://nps.example", brand = "Maison Lumière" }
[[tokens]]
name = "ops"
role = "admin"
sites = ["*"]
secret = "env:NPS_ADMIN_TOKEN"
[native]
db = "$dir/edge.sqlite"
TOML
NPS_LINK_SECRET=bench-link-secret-0123456789abcdefgh NPS_ADMIN_TOKEN=bench-admin-token-0123456789 \
  target/release/nps-edge --config "$dir/edge.toml" --listen "127.0.0.1:$port" >"$dir/edge.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
python3 - "$dir/body.json" <<'PY'
import json, sys
langs = ["en", "fr", "de", "es", "it", "pt", "ar"]
rs = [{"email": f"r{i}@example.com", "user": f"u-{i}", "order": f"A-{i}", "locale": langs[i % 7]} for i in range(1000)]
json.dump({"survey": "post-purchase", "recipients": rs}, open(sys.argv[1], "w"))
PY
rates=()
for run in $(seq "$RUNS"); do
  out=$(curl -s -o "$dir/out.json" -w '%{http_code} %{time_total}' -X POST \
    -H "authorization: Bearer bench-admin-token-0123456789" -H "content-type: application/json" \
    --data-binary "@$dir/body.json" "http://127.0.0.1:$port/v1/sites/bench/invitations")
  read -r code secs <<<"$out"
  [[ $code == 200 ]] || { echo "run $run: HTTP $code" >&2; exit 1; }
  n=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['invitations']))" "$dir/out.json")
  rate=$(python3 -c "print(round($n / $secs))")
  rates+=("$rate")
  echo "run $run: $n e-mails in ${secs}s = $rate e-mails/s ($(wc -c <"$dir/out.json") bytes)"
done
printf '%s\n' "${rates[@]}" | sort -n | awk '{a[NR]=$1} END {print "median: " a[int((NR+1)/2)] " e-mails/s (1,000 recipients a request, release build)"}'
