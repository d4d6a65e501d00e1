// Runs the Cloudflare worker (dist/worker, built by scripts/build-worker.sh) in local workerd
// through Miniflare 4, with the bindings of edge/worker/wrangler.toml emulated locally: the
// Deduper Durable Object, D1 (migrations applied), the delivery queue and its dead-letter queue.
//
//   node demo/worker.mjs --port 8787 --shop http://127.0.0.1:8080 [--persist DIR]
//
// Secrets come from the environment, as `wrangler secret` would provide them:
// NPS_WEBHOOK_SECRET, NPS_READ_TOKEN, NPS_ADMIN_TOKEN.
import { readFileSync, readdirSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = join(root, "dist/worker");
const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const port = Number(args.port ?? 8787);
const shop = args.shop ?? "http://127.0.0.1:8080";
const edge = `http://127.0.0.1:${port}`;

/**
 * The demo's worker config (NPS_CONFIG): the same site, sinks, tokens and routing as demo/edge.toml.
 * Token values name the secrets (bindings) holding them, as `wrangler secret put` would; they are
 * configured when `tokens` says so (the default: when NPS_READ_TOKEN / NPS_ADMIN_TOKEN are set).
 */
export function demoWorkerConfig({ shop, edge, tokens = { read: !!process.env.NPS_READ_TOKEN, admin: !!process.env.NPS_ADMIN_TOKEN } }) {
  return {
    sites: [{ id: "demo", origins: [shop], id_window_hours: 24, respondent_window_days: 90, rate_limit: { per_minute: 120, burst: 30 } }],
    sinks: [
      { type: "d1", binding: "DB" },
      { type: "webhook", name: "shop", url: `${shop}/hooks/nps`, secret: "NPS_WEBHOOK_SECRET", queue: "DELIVERIES" },
      // Detractors are heard fast: a Slack-compatible message per detractor answer, with the
      // comment, as soon as it arrives (or 20 s after a score without one); the shop's
      // /hooks/alert stands in for the chat's incoming webhook.
      { type: "alert", name: "cx-chat", url: `${shop}/hooks/alert`, format: "slack", segments: ["detractor"], report_url: `${edge}/report` },
    ],
    tokens: {
      ...(tokens.admin ? { admin: "NPS_ADMIN_TOKEN" } : {}),
      ...(tokens.read ? { read: "NPS_READ_TOKEN" } : {}),
    },
    dedup: { binding: "DEDUP", shard: "site" },
    // `queue`: where alert jobs go (the same queue as webhook deliveries).
    delivery: { backoff_base_seconds: 1, backoff_max_seconds: 30, dead_letter_queue: "nps-deliveries-dlq", timeout_ms: 10000, queue: "DELIVERIES" },
  };
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
    NPS_CONFIG: JSON.stringify(demoWorkerConfig({ shop, edge })),
    NPS_WEBHOOK_SECRET: process.env.NPS_WEBHOOK_SECRET ?? "",
    NPS_READ_TOKEN: process.env.NPS_READ_TOKEN ?? "",
    NPS_ADMIN_TOKEN: process.env.NPS_ADMIN_TOKEN ?? "",
  },
  durableObjects: { DEDUP: { className: "Deduper", useSQLite: true } },
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
const db = await mf.getD1Database("DB");
const migrations = join(root, "edge/worker/migrations");
for (const f of readdirSync(migrations).filter((f) => f.endsWith(".sql")).sort()) {
  const statements = readFileSync(join(migrations, f), "utf8")
    .replace(/--.*$/gm, "")
    .split(";")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const s of statements) await db.prepare(s.replace(/^CREATE (TABLE|INDEX) (?!IF NOT EXISTS)/i, "CREATE $1 IF NOT EXISTS ")).run();
}
console.log(`worker edge listening on ${edge}`);

const stop = async () => {
  await mf.dispose();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
