// The demo shop: serves the pages, receives the edge's signed webhooks, and shows what arrived.
// No dependencies beyond Node's standard library, so it runs on any Node ≥ 20.
//
//   node demo/server.mjs --port 8080 --edge http://127.0.0.1:8787 --secret whsec_... [--db path]
//
// Pages are templates: {{EDGE}} becomes the edge's origin, so the demo works on any port, and
// {{CUSTOMER}} / {{SIGNATURE}} the signed-in customer (a cookie, as a shop's session would be) and
// the identity signature the shop's SERVER computes for it: hex HMAC-SHA256(identity secret, id).
// The edge runs the demo site with identity "required", so a forged customer id is refused.
import { createServer } from "node:http";
import { connect } from "node:net";
import { readFile } from "node:fs/promises";
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const port = Number(args.port ?? 8080);
const edge = (args.edge ?? "http://127.0.0.1:8787").replace(/\/$/, "");
const secret = args.secret ?? process.env.NPS_WEBHOOK_SECRET ?? "";
const readToken = args["read-token"] ?? process.env.NPS_READ_TOKEN ?? "";
const identitySecret = args["identity-secret"] ?? process.env.NPS_IDENTITY_SECRET ?? "";
// The shop's own server calls the edge's invitations API with its admin token (never in a page).
const adminToken = args["admin-token"] ?? process.env.NPS_ADMIN_TOKEN ?? "";
// The mail server the shop's mail service sends through (MailDev in the demo), and its inbox.
const [smtpHost, smtpPort] = (args.smtp ?? "127.0.0.1:1025").split(":");
const inbox = args.inbox ?? "http://127.0.0.1:1080";

/** The signature of a user id: what a shop's server passes to nps('identify', {signature}). */
const sign = (userId) => createHmac("sha256", identitySecret).update(userId).digest("hex");

/** The signed-in customer: the session cookie, or a new one. */
function customerOf(req) {
  const m = /(?:^|;\s*)demo_customer=(u_[0-9a-f]{12})(?:;|$)/.exec(req.headers.cookie ?? "");
  if (m) return { id: m[1], fresh: false };
  return { id: "u_" + randomBytes(6).toString("hex"), fresh: true };
}
// Where pages load the widget from: the native edge serves it itself; in front of the worker the
// shop serves dist/widget under /widget (on Cloudflare: Workers static assets or any CDN).
const assetsDir = args.assets;
const assetsUrl = assetsDir ? "/widget" : edge;

/** Deliveries the webhook receiver accepted, newest first (bounded). */
const deliveries = [];
const seenIds = new Set();
/** Chat alerts received (detractor alerts), newest first (bounded). */
const alerts = [];

const types = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css",
  ".js": "text/javascript",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".wasm": "application/wasm",
};

/** The strict CSP the demo pages run under: the widget needs only these sources. */
const csp = [
  "default-src 'none'",
  `script-src 'self' ${edge} 'wasm-unsafe-eval'`,
  `connect-src 'self' ${edge}`,
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** Standard Webhooks v1: base64 HMAC-SHA256 of "id.timestamp.body" with the whsec_ key. */
export function verifyWebhook(headers, body, whsec) {
  const id = headers["webhook-id"], ts = headers["webhook-timestamp"], sigs = headers["webhook-signature"];
  if (!id || !ts || !sigs || !whsec.startsWith("whsec_")) return false;
  if (Math.abs(Date.now() / 1000 - Number(ts)) > 300) return false;
  const key = Buffer.from(whsec.slice(6), "base64");
  const expected = createHmac("sha256", key).update(`${id}.${ts}.${body}`).digest();
  return sigs.split(" ").some((s) => {
    const [v, b64] = s.split(",");
    const got = Buffer.from(b64 ?? "", "base64");
    return v === "v1" && got.length === expected.length && timingSafeEqual(got, expected);
  });
}

/** One e-mail through SMTP (text and HTML, UTF-8): the shop's mail service, in 40 lines. */
export function smtpSend({ host, port }, { from, to, subject, text, html }) {
  const boundary = "nps-" + randomBytes(8).toString("hex");
  const b64 = (s) => Buffer.from(s, "utf8").toString("base64").replace(/.{76}/g, "$&\r\n");
  const data = [
    `From: ${from}`, `To: <${to}>`, `Subject: =?UTF-8?B?${Buffer.from(subject, "utf8").toString("base64")}?=`,
    "MIME-Version: 1.0", `Content-Type: multipart/alternative; boundary="${boundary}"`, "",
    `--${boundary}`, "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64", "", b64(text),
    `--${boundary}`, "Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: base64", "", b64(html),
    `--${boundary}--`, ".",
  ].join("\r\n");
  const address = /<([^>]+)>/.exec(from)?.[1] ?? from;
  const steps = ["EHLO shop.localhost", `MAIL FROM:<${address}>`, `RCPT TO:<${to}>`, "DATA", data, "QUIT"];
  return new Promise((resolve, reject) => {
    const sock = connect(Number(port), host);
    sock.setTimeout(10_000, () => sock.destroy(new Error("smtp timeout")));
    let buf = "";
    let step = -1;
    sock.on("data", (chunk) => {
      buf += chunk;
      // A reply is complete at its last line: "250 OK" (a dash after the code continues it).
      const m = /(?:^|\r\n)(\d{3}) [^\r\n]*\r\n$/.exec(buf);
      if (!m) return;
      buf = "";
      const code = Number(m[1]);
      if (code >= 400) return sock.destroy(new Error(`smtp ${code} after ${step < 0 ? "greeting" : steps[step].slice(0, 10)}`));
      step += 1;
      if (step < steps.length) sock.write(steps[step] + "\r\n");
      else sock.end();
    });
    sock.on("close", () => (step >= steps.length - 1 ? resolve() : reject(new Error("smtp closed early"))));
    sock.on("error", reject);
  });
}

/** After an order, the shop's server asks the edge for the post-purchase invitation and has it
 * sent (the same order gives the same link: the edge sends it once, however often this runs). */
async function inviteAfterOrder(customer) {
  const body = {
    survey: "post-purchase",
    batch: `order-o_981-${customer}`,
    send: true,
    recipients: [{ email: `camille+${customer}@example.com`, user: customer, order: "o_981", locale: "fr" }],
  };
  const r = await fetch(`${edge}/v1/sites/demo/invitations`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!r.ok) throw new Error(`invitations: ${r.status} ${await r.text()}`);
  const j = await r.json();
  console.log(`post-purchase invitation for ${customer}: sent ${j.sent}, skipped ${JSON.stringify(j.skipped)}`);
}

/** Invitations the mail service sent, by webhook-id (the edge may deliver one twice). */
const mailed = new Set();

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks).toString("utf8");
}

function send(res, status, type, body, extra = {}) {
  res.writeHead(status, { "content-type": type, "cache-control": "no-store", ...extra });
  res.end(body);
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, `http://${req.headers.host}`);
  try {
    if (req.method === "POST" && url.pathname === "/hooks/nps") {
      const body = await readBody(req);
      const ok = verifyWebhook(req.headers, body, secret);
      if (!ok) return send(res, 401, "text/plain", "bad signature");
      const id = req.headers["webhook-id"];
      // Receivers dedupe on webhook-id: at-least-once delivery may repeat one.
      if (!seenIds.has(id)) {
        seenIds.add(id);
        deliveries.unshift({ webhookId: id, receivedAt: new Date().toISOString(), verified: true, payload: JSON.parse(body) });
        deliveries.length = Math.min(deliveries.length, 500);
      }
      return send(res, 204, "text/plain", "");
    }
    if (req.method === "POST" && url.pathname === "/hooks/mail") {
      // The shop's mail service: a signed nps.invitation event in, an e-mail out. A failure
      // answers 503, so the edge keeps the invitation and tries again.
      const body = await readBody(req);
      if (!verifyWebhook(req.headers, body, secret)) return send(res, 401, "text/plain", "bad signature");
      const id = req.headers["webhook-id"];
      if (mailed.has(id)) return send(res, 204, "text/plain", "");
      const { type, data } = JSON.parse(body);
      if (type !== "nps.invitation") return send(res, 204, "text/plain", "");
      try {
        await smtpSend({ host: smtpHost, port: smtpPort }, {
          from: "Atelier Lumière <avis@atelier-lumiere.example>", to: data.to, subject: data.subject, text: data.text, html: data.html,
        });
      } catch (e) {
        console.error(`mail to ${data.to} not sent: ${e.message}`);
        return send(res, 503, "text/plain", "mail server unavailable");
      }
      mailed.add(id);
      return send(res, 204, "text/plain", "");
    }
    if (req.method === "POST" && url.pathname === "/hooks/alert") {
      // A stand-in for a chat's incoming webhook (Slack-compatible JSON): kept for display.
      alerts.unshift({ receivedAt: new Date().toISOString(), message: JSON.parse(await readBody(req)) });
      alerts.length = Math.min(alerts.length, 200);
      return send(res, 200, "text/plain", "ok");
    }
    if (url.pathname === "/api/alerts") return send(res, 200, "application/json", JSON.stringify(alerts));
    if (url.pathname === "/api/responses") {
      // What the edge stored, through its read API (the token never reaches the browser).
      const r = await fetch(`${edge}/v1/sites/demo/responses?limit=50`, { headers: { authorization: `Bearer ${readToken}` } });
      if (!r.ok) return send(res, 502, "application/json", JSON.stringify({ status: r.status, detail: await r.text() }));
      const j = await r.json();
      return send(res, 200, "application/json", JSON.stringify(j.items ?? j.responses ?? j.data ?? j));
    }
    if (url.pathname === "/api/deliveries") return send(res, 200, "application/json", JSON.stringify(deliveries));
    if (url.pathname === "/favicon.ico") return send(res, 301, "text/plain", "", { location: "/favicon.svg" });
    if (url.pathname === "/healthz") return send(res, 200, "text/plain", "ok");

    if (assetsDir && url.pathname.startsWith("/widget/")) {
      const file = join(assetsDir, normalize(url.pathname.slice("/widget/".length)).replace(/^(\.\.[/\\])+/, ""));
      if (!file.startsWith(assetsDir)) return send(res, 404, "text/plain", "not found");
      return send(res, 200, types[extname(file)] ?? "application/octet-stream", await readFile(file));
    }
    let path = normalize(decodeURIComponent(url.pathname)).replace(/^(\.\.[/\\])+/, "");
    if (path.endsWith("/")) path += "index.html";
    if (!extname(path)) path += ".html";
    const file = join(here, "site", path);
    if (!file.startsWith(join(here, "site"))) return send(res, 404, "text/plain", "not found");
    let data = await readFile(file);
    const type = types[extname(file)] ?? "application/octet-stream";
    const headers = {};
    if (type.startsWith("text/html")) {
      const customer = customerOf(req);
      if (customer.fresh) headers["set-cookie"] = `demo_customer=${customer.id}; Path=/; SameSite=Lax; HttpOnly`;
      if (path === "/checkout/thanks.html" && adminToken) {
        inviteAfterOrder(customer.id).catch((e) => console.error(e.message));
      }
      data = data
        .toString("utf8")
        .replaceAll("{{ASSETS}}", assetsUrl)
        .replaceAll("{{EDGE}}", edge)
        .replaceAll("{{CUSTOMER}}", customer.id)
        .replaceAll("{{INBOX}}", inbox)
        .replaceAll("{{SIGNATURE}}", sign(customer.id));
      headers["content-security-policy"] = csp;
    }
    return send(res, 200, type, data, headers);
  } catch (e) {
    if (e.code === "ENOENT") return send(res, 404, "text/plain", "not found");
    console.error(e);
    return send(res, 500, "text/plain", "error");
  }
});

server.listen(port, "127.0.0.1", () => {
  console.log(`demo shop listening on http://127.0.0.1:${server.address().port}`);
});
