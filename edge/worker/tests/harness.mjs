// Test harness: runs the compiled worker (dist/worker) in Miniflare 4 (workerd) on 127.0.0.1,
// with the Durable Object, D1 (migration applied) and Queues (producer + consumers + DLQ), and a
// webhook receiver that verifies Standard Webhooks signatures.
import { createHmac, timingSafeEqual } from "node:crypto";
import http from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { applyD1Migrations } from "../js/d1-migrate.mjs";

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(here, "..", "..", "..");
export const DIST = join(ROOT, "dist", "worker");
export const SECRET = "whsec_" + Buffer.from("nps-test-secret-key-0123456789ab").toString("base64");
export const ORIGIN = "https://shop.example";
/** Tokens of the report (read) and suppression (admin) APIs, as `wrangler secret`s. */
export const READ_TOKEN = "read-token-0123456789abcdef";
export const ADMIN_TOKEN = "admin-token-0123456789abcdef";

let seq = 0;
/** A unique id per call (safe across tests in one process). */
export function uid(prefix = "t") {
  seq += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${seq}`;
}

/** A valid response body. */
export function response(over = {}) {
  return {
    id: uid("r"), rev: 1, site: "demo", survey: "checkout", score: 4,
    comment: "La livraison a pris 3 semaines", locale: "fr-FR", visitor: uid("v"),
    page: "https://shop.example/checkout/thanks", ...over,
  };
}

/** Webhook receiver on 127.0.0.1 that verifies every signature; `up` toggles 503s. */
export async function startReceiver() {
  const key = Buffer.from(SECRET.slice("whsec_".length), "base64");
  // `received`: answers and other messages; `cases`: the `nps.case.*` messages detractors' cases send.
  const state = { up: true, status: 204, received: [], cases: [], bad: 0, attempts: 0 };
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      state.attempts += 1;
      const id = req.headers["webhook-id"], ts = req.headers["webhook-timestamp"];
      const sig = String(req.headers["webhook-signature"] || "");
      const want = "v1," + createHmac("sha256", key).update(`${id}.${ts}.${body}`).digest("base64");
      const ok = sig.split(" ").some((s) => s.length === want.length && timingSafeEqual(Buffer.from(s), Buffer.from(want)));
      const fresh = Math.abs(Date.now() / 1000 - Number(ts)) < 300;
      if (!ok || !fresh) {
        state.bad += 1;
        res.writeHead(401).end();
        return;
      }
      if (!state.up) {
        res.writeHead(503).end();
        return;
      }
      (String(id).startsWith("case.") ? state.cases : state.received).push({ id, body: JSON.parse(body) });
      res.writeHead(state.status).end();
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  state.url = `http://127.0.0.1:${server.address().port}/hook`;
  state.close = () => new Promise((r) => server.close(r));
  return state;
}

/** The config the tests run with: the same document as the native server's, in JSON. */
export function testConfig(receiverUrl, over = {}) {
  return {
    sites: [
      { id: "demo", origins: [ORIGIN, "http://127.0.0.1:8080"], rate_limit: { burst: 10000, per_minute: 600000 } },
      { id: "tight", origins: [ORIGIN], rate_limit: { burst: 3, per_minute: 1 } },
      { id: "short", origins: [ORIGIN], respondent_window_days: 0, rate_limit: { burst: 10000, per_minute: 600000 } },
    ],
    sinks: [{ type: "webhook", name: "crm", url: receiverUrl, secret: "env:WEBHOOK_SECRET", timeout_ms: 3000 }],
    retry: { base_ms: 1000, max_ms: 2000, max_attempts: 20 },
    tokens: [
      { name: "ops", role: "admin", sites: ["*"], secret: "env:NPS_ADMIN_TOKEN" },
      { name: "cx", role: "read", sites: ["*"], secret: "env:NPS_READ_TOKEN" },
    ],
    worker: { state: "SITE_STATE", d1: "DB", queue: "DELIVERIES", dead_letter_queue: "nps-deliveries-dlq" },
    ...over,
  };
}

/**
 * A Queue producer that fails on demand: a wrapped binding over the real producer, failing every
 * send while the `FAULTS` KV namespace holds `queue = "down"` (see `setFault`).
 */
const FAULTY_QUEUE = `
export default function (env) {
  const check = async () => {
    if ((await env.FAULTS.get("queue")) === "down") throw new Error("injected fault: the queue is down");
  };
  return {
    async send(body, options) { await check(); return env.inner.send(body, options); },
    async sendBatch(messages, options) { await check(); return env.inner.sendBatch(messages, options); },
  };
}`;

/**
 * Test only: every call from the wasm instance into JS is wrapped, so that the next one after
 * `POST /__test/trap` throws a `WebAssembly.RuntimeError` through the wasm frames — what a Rust
 * panic does in this abort-on-panic build: the call's frames are gone mid-way, its state left as
 * it was. Evaluated before the worker's module instantiates anything.
 */
const TRAP_PATCH = `
const Instance = WebAssembly.Instance;
globalThis.__npsTrapNext = false;
const wrap = (imports) => Object.fromEntries(Object.entries(imports).map(([m, fns]) => [m, Object.fromEntries(
  Object.entries(fns).map(([k, f]) => [k, typeof f !== "function" ? f : function (...args) {
    if (globalThis.__npsTrapNext) {
      globalThis.__npsTrapNext = false;
      throw new WebAssembly.RuntimeError("unreachable (a trap injected by the test)");
    }
    return f.apply(this, args);
  }]))]));
WebAssembly.Instance = function (module, imports) { return new Instance(module, wrap(imports)); };
WebAssembly.Instance.prototype = Instance.prototype;
`;
const TRAP_ENTRY = `
import "./trap-patch.mjs";
import worker from "./index.js";
export { SiteState } from "./index.js";
export default {
  fetch(request, env, ctx) {
    const path = new URL(request.url).pathname;
    if (path === "/__test/trap") { globalThis.__npsTrapNext = true; return new Response("armed"); }
    if (path === "/__test/instance") return new Response(String(globalThis.__worker_init_state?.instanceId));
    return worker.fetch(request, env, ctx);
  },
  queue: (batch, env, ctx) => worker.queue(batch, env, ctx),
  scheduled: (controller, env, ctx) => worker.scheduled(controller, env, ctx),
};
`;

/** A config object as the TOML document the worker reads (tables, arrays of tables, inline values). */
export function toToml(config) {
  const value = (v) =>
    Array.isArray(v) ? `[${v.map(value).join(", ")}]`
      : v !== null && typeof v === "object" ? `{ ${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)} = ${value(x)}`).join(", ")} }`
      : JSON.stringify(v);
  const isTable = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
  const isTables = (v) => Array.isArray(v) && v.length > 0 && v.every(isTable);
  const lines = [];
  const body = (obj) => {
    for (const [k, v] of Object.entries(obj)) if (v !== undefined) lines.push(`${JSON.stringify(k)} = ${value(v)}`);
  };
  body(Object.fromEntries(Object.entries(config).filter(([, v]) => !isTable(v) && !isTables(v))));
  for (const [k, v] of Object.entries(config)) {
    if (isTable(v)) {
      lines.push(`[${JSON.stringify(k)}]`);
      body(v);
    } else if (isTables(v)) {
      for (const t of v) {
        lines.push(`[[${JSON.stringify(k)}]]`);
        body(t);
      }
    }
  }
  return lines.join("\n") + "\n";
}

/** Applies the committed D1 migrations in order (what `wrangler d1 migrations apply` does). */
export const applyMigrations = (db, upTo = Infinity) =>
  applyD1Migrations(db, join(ROOT, "edge", "worker", "migrations"), upTo);

/**
 * Starts the worker; returns { url, mf, db, close, setFault }. With `faults`, the delivery
 * queue's producer is a wrapper that `setFault("queue", true)` makes fail (D1 is failed by the
 * tests themselves, by renaming its table).
 */
export async function startWorker({ config, maxRetries = 3, bindings = {}, faults = false, migrations = Infinity, traps = false } = {}) {
  const main = {
    name: "nps",
    modules: true,
    modulesRoot: DIST,
    scriptPath: join(DIST, "index.js"),
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
    compatibilityDate: "2025-09-01",
    bindings: {
      NPS_CONFIG: typeof config === "string" ? config : toToml(config),
      WEBHOOK_SECRET: SECRET, NPS_READ_TOKEN: READ_TOKEN, NPS_ADMIN_TOKEN: ADMIN_TOKEN, ...bindings,
    },
    durableObjects: { SITE_STATE: { className: "SiteState", useSQLite: true } },
    // The report page and the OpenAPI document, fetched by the worker (it runs first).
    assets: { directory: join(DIST, "assets"), binding: "ASSETS", routerConfig: { has_user_worker: true, invoke_user_worker_ahead_of_assets: true } },
    d1Databases: ["DB"],
    queueConsumers: {
      "nps-deliveries": { maxBatchSize: 10, maxBatchTimeout: 1, maxRetries, deadLetterQueue: "nps-deliveries-dlq" },
      "nps-deliveries-dlq": { maxBatchSize: 10, maxBatchTimeout: 1 },
    },
  };
  if (traps) {
    // The built worker behind an entry module that can make the wasm instance trap on demand.
    delete main.scriptPath;
    delete main.modulesRules;
    main.modules = [
      { type: "ESModule", path: join(DIST, "trap-entry.mjs"), contents: TRAP_ENTRY },
      { type: "ESModule", path: join(DIST, "trap-patch.mjs"), contents: TRAP_PATCH },
      { type: "ESModule", path: join(DIST, "index.js") },
      { type: "CompiledWasm", path: join(DIST, "index_bg.wasm") },
    ];
  }
  const workers = [main];
  if (faults) {
    main.wrappedBindings = { DELIVERIES: { scriptName: "faulty-queue" } };
    workers.push({
      name: "faulty-queue", modules: true, script: FAULTY_QUEUE,
      queueProducers: { inner: { queueName: "nps-deliveries" } }, kvNamespaces: ["FAULTS"],
    });
  } else {
    main.queueProducers = { DELIVERIES: { queueName: "nps-deliveries" } };
  }
  const mf = new Miniflare({ host: "127.0.0.1", port: 0, workers });
  const url = (await mf.ready).toString().replace(/\/$/, "");
  const db = await mf.getD1Database("DB");
  await applyMigrations(db, migrations);
  const setFault = async (what, down) => {
    const kv = await mf.getKVNamespace("FAULTS", "faulty-queue");
    if (down) await kv.put(what, "down");
    else await kv.delete(what);
  };
  return { url, mf, db, setFault, close: () => mf.dispose() };
}

/** GET /metrics with the admin token (it grants the metrics role). */
export const metrics = async (url) =>
  (await fetch(url + "/metrics", { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text();

/** POST JSON (or raw string) to the worker. */
export async function post(url, path, body, { contentType = "application/json", origin = ORIGIN, headers = {} } = {}) {
  const h = { "content-type": contentType, ...headers };
  if (origin) h.origin = origin;
  if (contentType === null) delete h["content-type"];
  const res = await fetch(url + path, { method: "POST", headers: h, body: typeof body === "string" ? body : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, text, json };
}

/** Waits until `cond()` is truthy or `ms` passed. */
export async function until(cond, ms = 20000, step = 100) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, step));
  }
  return false;
}

/** Any request to the worker; `token` adds `Authorization: Bearer`. Returns status, headers, text, json. */
export async function call(url, path, { method = "GET", token, origin, headers = {}, body } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  if (origin) h.origin = origin;
  if (body !== undefined && !h["content-type"]) h["content-type"] = "application/json";
  const res = await fetch(url + path, { method, headers: h, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, text, json };
}

/** A chat incoming-webhook stand-in on 127.0.0.1: records every message with its arrival time. */
export async function startAlertReceiver() {
  const state = { status: 200, received: [] };
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      let json = null;
      try { json = JSON.parse(body); } catch { /* kept as text */ }
      state.received.push({ at: Date.now(), text: body, json, contentType: req.headers["content-type"] });
      res.writeHead(state.status).end("ok");
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  state.url = `http://127.0.0.1:${server.address().port}/alert`;
  state.close = () => new Promise((r) => server.close(r));
  return state;
}
