// The two runtimes of the edge behind one interface, started from ONE config document (the TOML
// below, given to `nps-edge --config` and, as text, to the worker's NPS_CONFIG), so the contract
// suite runs the same assertions against both.
import { createHmac } from "node:crypto";
import { existsSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { ROOT, freePort, startProcess, tempDir, waitForHttp, writeFile } from "../e2e/harness.mjs";
import { startWorker } from "../../edge/worker/tests/harness.mjs";

export const ORIGIN = "https://shop.example";
export const FOREIGN = "https://evil.example";
export const ADMIN = "conformance-admin-token-0123";
export const READ = "conformance-read-token-01234";
/** A read token of site `demo` only. */
export const READ_DEMO = "conformance-read-demo-token-0";
export const METRICS = "conformance-metrics-token-012";
/** An agent (read + work cases) of site `demo` only. */
export const AGENT = "conformance-agent-demo-token-0";
/** The identity secret of sites `signed` (identity required) and `maybe` (optional). */
export const IDENTITY = "conformance-identity-secret-0";
export const SECRET = "whsec_" + Buffer.from("conformance-secret-0123456789abc").toString("base64");
/** The secret site `demo`'s helpdesk signs its events with. */
/** The link secret of sites `demo` and `tight`. */
export const LINK_SECRET = "conformance-link-secret-0123456789abcdef";
/** The public address links are built on (the tests replace it with the edge's own). */
export const LINK_BASE = "https://nps.example";
export const HELPDESK = "whsec_" + Buffer.from("conformance-helpdesk-0123456789").toString("base64");

/** Standard Webhooks headers for `body` signed with `secret` at `ts` (Unix seconds). */
export function signed(secret, body, { id = `msg_${Math.random().toString(36).slice(2)}`, ts = Math.floor(Date.now() / 1000) } = {}) {
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  const sig = "v1," + createHmac("sha256", key).update(`${id}.${ts}.${body}`).digest("base64");
  return { "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": sig };
}

/**
 * A survey link token, signed as a site's own server would sign one (docs/links.md):
 * base64url(claims JSON) "." base64url(HMAC-SHA256(secret, first part)).
 */
export function linkToken(claims, secret = LINK_SECRET) {
  const body = Buffer.from(JSON.stringify(claims)).toString("base64url");
  return `${body}.${createHmac("sha256", secret).update(body).digest("base64url")}`;
}

/** The one config document both runtimes run. */
export function configToml({ receiver, db }) {
  return `
[[sites]]
id = "demo"
origins = ["${ORIGIN}", "http://localhost:*"]
rate_limit = { per_minute = 600000, burst = 10000 }
# Re-survey as soon as a case is resolved (the tests cannot wait a week); a helpdesk may resolve.
cases = { resurvey_after_seconds = 0, helpdesk_secret = "env:NPS_HELPDESK_SECRET" }
# Signed survey links: the tests map the base URL onto the edge they run.
links = { secret = "env:NPS_LINK_SECRET", base_url = "${LINK_BASE}", brand = "Maison Lumière", deliver = "mailer", survey_reminder_days = { slow = 10 } }

[[sites]]
id = "other"
origins = ["https://other.example"]
rate_limit = { per_minute = 600000, burst = 10000 }

[[sites]]
id = "tight"
origins = ["${ORIGIN}"]
rate_limit = { per_minute = 1, burst = 2 }
links = { secret = "env:NPS_LINK_SECRET", base_url = "${LINK_BASE}" }

[[sites]]
id = "report"
origins = ["${ORIGIN}"]
rate_limit = { per_minute = 600000, burst = 10000 }
links = { secret = "env:NPS_LINK_SECRET", base_url = "${LINK_BASE}" }

[[sites]]
id = "signed"
origins = ["${ORIGIN}"]
rate_limit = { per_minute = 600000, burst = 10000 }
identity = "required"
identity_secret = "env:NPS_IDENTITY_SECRET"

[[sites]]
id = "maybe"
origins = ["${ORIGIN}"]
rate_limit = { per_minute = 600000, burst = 10000 }
identity = "optional"
identity_secret = "env:NPS_IDENTITY_SECRET"

[retry]
base_ms = 200
max_ms = 1000

[[tokens]]
name = "ops"
role = "admin"
sites = ["*"]
secret = "env:NPS_ADMIN_TOKEN"

[[tokens]]
name = "cx"
role = "read"
sites = ["*"]
secret = "env:NPS_READ_TOKEN"

[[tokens]]
name = "demo-cx"
role = "read"
sites = ["demo"]
secret = "env:NPS_READ_DEMO_TOKEN"

[[tokens]]
name = "ana"
role = "agent"
sites = ["demo"]
secret = "env:NPS_AGENT_TOKEN"

[[tokens]]
name = "scrape"
role = "metrics"
sites = ["*"]
secret = "env:NPS_METRICS_TOKEN"

[[sinks]]
type = "webhook"
name = "all"
url = "${receiver}/all"
secret = "env:NPS_WEBHOOK_SECRET"
sites = ["demo", "other"]

[[sinks]]
type = "webhook"
name = "detractors"
url = "${receiver}/detractors"
secret = "env:NPS_WEBHOOK_SECRET"
segments = ["detractor"]
sites = ["demo"]

# The site's mail service: it takes the invitations (nps.invitation), no answers.
[[sinks]]
type = "webhook"
name = "mailer"
url = "${receiver}/mailer"
secret = "env:NPS_WEBHOOK_SECRET"
answers = false

# Overdue cases of survey "late" are told to this chat (unsigned, as chat webhooks are).
[[sinks]]
type = "alert"
name = "chat"
url = "${receiver}/chat"
format = "json"
sites = ["demo"]
surveys = ["late"]
report_url = "https://nps.example/report"

[native]
db = "${db}"
# Overdue cases are looked for every second (the worker's cron is triggered by the tests).
sweep_seconds = 1

[worker]
d1 = "DB"
queue = "DELIVERIES"
`;
}

const SECRETS = {
  NPS_ADMIN_TOKEN: ADMIN, NPS_READ_TOKEN: READ, NPS_READ_DEMO_TOKEN: READ_DEMO, NPS_METRICS_TOKEN: METRICS, NPS_AGENT_TOKEN: AGENT,
  NPS_WEBHOOK_SECRET: SECRET, NPS_IDENTITY_SECRET: IDENTITY, NPS_HELPDESK_SECRET: HELPDESK,
  NPS_LINK_SECRET: LINK_SECRET,
};

/** A webhook receiver that verifies signatures and records `{sink, id, body}`. */
export async function startReceiver() {
  const key = Buffer.from(SECRET.slice("whsec_".length), "base64");
  // `refusing`: sinks answered 503 for now (their messages are retried).
  const state = { received: [], bad: 0, refusing: new Set() };
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      if (req.url === "/chat") {
        state.received.push({ sink: "chat", id: null, body: JSON.parse(body) });
        res.writeHead(200).end();
        return;
      }
      if (state.refusing.has(req.url.slice(1))) {
        res.writeHead(503).end();
        return;
      }
      const id = req.headers["webhook-id"];
      const want = "v1," + createHmac("sha256", key).update(`${id}.${req.headers["webhook-timestamp"]}.${body}`).digest("base64");
      if (req.headers["webhook-signature"] !== want) {
        state.bad += 1;
        res.writeHead(401).end();
        return;
      }
      state.received.push({ sink: req.url.slice(1), id, body: JSON.parse(body) });
      res.writeHead(204).end();
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  state.url = `http://127.0.0.1:${server.address().port}`;
  state.close = () => new Promise((r) => server.close(r));
  return state;
}

/**
 * Starts the edge of `kind` ("native" or "worker"). Returns { kind, url, receiver, sql(stmt),
 * rows(stmt, ...params), sweep(), stop() }: `sql` runs a statement on the response store from
 * outside (to fail it on purpose), `rows` reads it, `sweep` lets the periodic sweeps run once.
 */
export async function startTarget(kind) {
  const receiver = await startReceiver();
  const dir = tempDir(`nps-conformance-${kind}-`);
  const db = join(dir, "edge.sqlite");
  const toml = configToml({ receiver: receiver.url, db });
  if (kind === "native") {
    const bin = join(ROOT, "target/debug/nps-edge");
    if (!existsSync(bin)) throw new Error(`${bin} missing: scripts/test-conformance.sh builds it`);
    const config = writeFile(join(dir, "edge.toml"), toml);
    const port = await freePort();
    const proc = startProcess("native edge", bin, ["--config", config, "--listen", `127.0.0.1:${port}`, "--console", join(ROOT, "dist/console")], { env: SECRETS });
    const url = `http://127.0.0.1:${port}`;
    await waitForHttp(`${url}/healthz`, { proc });
    const store = new DatabaseSync(db);
    // The server writes too: wait for its lock rather than fail.
    store.exec("PRAGMA busy_timeout = 5000");
    return {
      kind, url, receiver,
      sql: async (stmt) => store.exec(stmt),
      rows: async (stmt, ...params) => store.prepare(stmt).all(...params),
      // The server sweeps every second (sweep_seconds above).
      sweep: () => new Promise((r) => setTimeout(r, 1500)),
      stop: async () => {
        store.close();
        await proc.stop();
        await receiver.close();
      },
    };
  }
  if (kind === "worker") {
    const w = await startWorker({ config: toml, bindings: SECRETS });
    return {
      kind, url: w.url, receiver,
      sql: async (stmt) => w.db.prepare(stmt).run(),
      rows: async (stmt, ...params) => (await w.db.prepare(stmt).bind(...params).all()).results,
      sweep: async () => {
        const outcome = (await (await w.mf.getWorker()).scheduled({ cron: "*/5 * * * *" })).outcome;
        if (outcome !== "ok") throw new Error(`scheduled: ${outcome}`);
      },
      stop: async () => {
        await w.close();
        await receiver.close();
      },
    };
  }
  throw new Error(`unknown target ${kind}`);
}

/**
 * A request helper for target `t` (from `startTarget`, read when called): JSON bodies, a bearer
 * token, an Origin and extra headers; answers `{status, headers, text, json}`.
 */
export function requester(getTarget) {
  return async function req(method, path, { origin, token, body, headers = {} } = {}) {
    const h = { ...headers };
    if (origin) h.origin = origin;
    if (token) h.authorization = `Bearer ${token}`;
    if (body !== undefined) h["content-type"] = "application/json";
    const res = await fetch(getTarget().url + path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {}
    return { status: res.status, headers: res.headers, text, json };
  };
}

/** The targets this run covers: `NPS_CONFORMANCE_TARGETS="native worker"` by default. */
export const TARGETS = (process.env.NPS_CONFORMANCE_TARGETS ?? "native worker").split(/\s+/).filter(Boolean);
