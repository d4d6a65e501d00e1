# Self-hosting the Rust worker on plain workerd (no Cloudflare account):
#
#   scripts/build-worker.sh
#   mkdir -p /var/lib/nps-worker
#   node_modules/.bin/workerd serve edge/worker/workerd/nps.capnp \
#       --directory-path dedup-disk=/var/lib/nps-worker --socket-addr http=127.0.0.1:8787
#
# What you get: the full API v1 (validation, CORS, rate limit, problem+json, metrics) and
# strongly consistent dedup in the `SiteState` Durable Object, persisted on local disk (SQLite).
# D1 and Queues are Cloudflare services that workerd does not provide, so this config has no
# store/webhook sinks: put the native server (edge/server) behind it, or use the D1 + Queue
# deployment (wrangler.toml) for storage and forwarding.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "nps", worker = .npsWorker),
    # Durable Object files; override the path with --directory-path dedup-disk=DIR.
    (name = "dedup-disk", disk = (path = "/var/lib/nps-worker", writable = true)),
    # The report page and the OpenAPI document (scripts/build-worker.sh writes them); override
    # the path with --directory-path assets-disk=DIR.
    (name = "assets-disk", disk = (path = "/srv/nps-worker/assets")),
  ],
  sockets = [
    # Override with --socket-addr http=HOST:PORT.
    (name = "http", address = "127.0.0.1:8787", http = (), service = "nps"),
  ],
);

const npsWorker :Workerd.Worker = (
  modules = [
    (name = "index.js", esModule = embed "../../../dist/worker/index.js"),
    (name = "index_bg.wasm", wasm = embed "../../../dist/worker/index_bg.wasm"),
  ],
  compatibilityDate = "2025-09-01",
  bindings = [
    # The config document (config.toml; the same keys as nps-edge --config and wrangler.toml).
    (name = "NPS_CONFIG", text = embed "config.toml"),
    (name = "SITE_STATE", durableObjectNamespace = "SiteState"),
    (name = "ASSETS", service = "assets-disk"),
  ],
  durableObjectNamespaces = [
    # The unique key is the first release's, so its dedup records stay where they are.
    (className = "SiteState", uniqueKey = "nps-dedup-v1", enableSql = true),
  ],
  durableObjectStorage = (localDisk = "dedup-disk"),
);
