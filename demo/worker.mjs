// Runs the Cloudflare worker (dist/worker, built by scripts/build-worker.sh) in local workerd
// through Miniflare 4, with the bindings of edge/worker/wrangler.toml emulated locally: the
// SiteState Durable Object, D1 (migrations applied), the delivery queue and its dead-letter queue.
//
//   node demo/worker.mjs --port 8787 --shop http://127.0.0.1:8080 [--persist DIR]
//
// Secrets come from the environment, as `wrangler secret` would provide them:
// NPS_WEBHOOK_SECRET, NPS_READ_TOKEN, NPS_ADMIN_TOKEN, NPS_IDENTITY_SECRET, NPS_LINK_SECRET.
import { readFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { applyD1Migrations } from "../edge/worker/js/d1-migrate.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = join(root, "dist/worker");
const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const port = Number(args.port ?? 8787);
const shop = args.shop ?? "http://127.0.0.1:8080";
const edge = `http://127.0.0.1:${port}`;

/**
 * The demo's config: demo/edge.toml, the very file the native demo runs with, with its
 * placeholders filled. The worker reads the [worker] section for its binding names; the secrets
 * it names (`env:NPS_WEBHOOK_SECRET`, …) are the bindings below, as `wrangler secret put` would
 * provide them.
 */
export function demoConfigText({ shop, edge, data = "/tmp" }) {
  return readFileSync(join(root, "demo/edge.toml"), "utf8")
    .replaceAll("@SHOP@", shop)
    .replaceAll("@EDGE@", edge)
    .replaceAll("@DATA@", data);
}

const persist = args.persist;
if (persist) mkdirSync(persist, { recursive: true });
const mf = new Miniflare({
  modules: true,
  modulesRoot: dist,
  scriptPath: join(dist, "index.js"),
  modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
  compatibilityDate: "2025-09-01",
  host: "127.0.0.1",
  port,
  bindings: {
    NPS_CONFIG: demoConfigText({ shop, edge, data: args.persist ?? "/tmp" }),
    NPS_WEBHOOK_SECRET: process.env.NPS_WEBHOOK_SECRET ?? "",
    NPS_READ_TOKEN: process.env.NPS_READ_TOKEN ?? "",
    NPS_ADMIN_TOKEN: process.env.NPS_ADMIN_TOKEN ?? "",
    NPS_IDENTITY_SECRET: process.env.NPS_IDENTITY_SECRET ?? "",
    NPS_LINK_SECRET: process.env.NPS_LINK_SECRET ?? "",
  },
  durableObjects: { SITE_STATE: { className: "SiteState", useSQLite: true } },
  // The console and the OpenAPI document, as wrangler.toml's [assets] (the worker runs first).
  assets: { directory: join(dist, "assets"), binding: "ASSETS", routerConfig: { has_user_worker: true, invoke_user_worker_ahead_of_assets: true } },
  d1Databases: ["DB"],
  queueProducers: { DELIVERIES: { queueName: "nps-deliveries" } },
  queueConsumers: {
    "nps-deliveries": { maxBatchSize: 10, maxBatchTimeout: 1, maxRetries: 10, deadLetterQueue: "nps-deliveries-dlq" },
    "nps-deliveries-dlq": { maxBatchSize: 10, maxBatchTimeout: 1 },
  },
  ...(persist
    ? { d1Persist: join(persist, "d1"), durableObjectsPersist: join(persist, "do"), queuePersist: join(persist, "queues") }
    : {}),
});
await mf.ready;

// Apply the committed D1 migrations (wrangler d1 migrations apply does this on Cloudflare).
await applyD1Migrations(await mf.getD1Database("DB"), join(root, "edge/worker/migrations"));
console.log(`worker edge listening on ${edge}`);

const stop = async () => {
  await mf.dispose();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
