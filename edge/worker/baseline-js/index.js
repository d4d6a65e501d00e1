import { DurableObject } from "cloudflare:workers";

// JavaScript baseline for the benchmark: the same request path as the Rust worker on the
// benchmarked route (POST /v1/responses with the dedup Durable Object; sinks off), written the
// way a competent JS developer would: content type + size checks, JSON.parse, every rule of
// protocol v1 (all problems collected), site + exact-origin check, token bucket per site +
// keyed hash of the client address, dedup through a Durable Object (same wire protocol, same
// decisions), 202 JSON. Not shipped; kept to measure the Rust worker against.

const MAX_BODY = 16 * 1024;
const ID_RE = /^[A-Za-z0-9_.:-]{1,64}$/;
const RESPONSE_FIELDS = new Set(["id", "rev", "site", "survey", "score", "comment", "locale", "visitor", "page",
  "contact_ok", "review_clicked", "user", "properties", "sent_at"]);
const USER_FIELDS = new Set(["id", "account", "order", "email"]);
const HOUR = 3600000, DAY = 86400000;

function cleanComment(s) {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i], code = s.charCodeAt(i);
    if (c === "\r") { if (s[i + 1] !== "\n") out += "\n"; continue; }
    if (c === "\n") { out += c; continue; }
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) continue;
    if ((code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069) || code === 0xfeff) continue;
    out += c;
  }
  return out.trim();
}
const cleanLine = (s) => cleanComment(s).replace(/\n/g, "");
const chars = (s) => { let n = 0; for (const _ of s) n++; return n; };

function validateResponse(o) {
  const p = [];
  const push = (field, code, reason) => p.push({ field, reason: `${code}: ${reason}` });
  for (const k of Object.keys(o)) if (!RESPONSE_FIELDS.has(k)) push(k.slice(0, 64), "unknown_field", "is not a field of this contract");
  const str = (k, req) => {
    const v = o[k];
    if (v === undefined || v === null) { if (req) push(k, "missing", "is required"); return undefined; }
    if (typeof v !== "string") { push(k, "type", "must be a string"); return undefined; }
    return v;
  };
  const id = (k, v) => {
    if (v === undefined) return;
    if (v.length > 64) push(k, "too_long", "must be at most 64 characters");
    else if (!ID_RE.test(v)) push(k, "charset", "must be 1-64 characters of A-Z a-z 0-9 _ . : -");
  };
  const int = (k, min, max) => {
    const v = o[k];
    if (v === undefined || v === null) { push(k, "missing", "is required"); return undefined; }
    if (typeof v !== "number") { push(k, "type", `must be an integer from ${min} to ${max}`); return undefined; }
    if (!Number.isInteger(v) || v < min || v > max) { push(k, "range", `must be an integer from ${min} to ${max}`); return undefined; }
    return v;
  };
  const r = {};
  id("id", (r.id = str("id", true)));
  r.rev = int("rev", 1, 10000);
  id("site", (r.site = str("site", true)));
  id("survey", (r.survey = str("survey", true)));
  r.score = int("score", 0, 10);
  const comment = str("comment");
  if (comment !== undefined) {
    r.comment = cleanComment(comment);
    if (chars(r.comment) > 2000) push("comment", "too_long", "must be at most 2000 characters");
  }
  const locale = str("locale");
  if (locale !== undefined && !/^[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8})*$/.test(locale) || (locale && locale.length > 35)) push("locale", "format", "must be a BCP 47 language tag such as fr-FR");
  id("visitor", (r.visitor = str("visitor", true)));
  const page = str("page");
  if (page !== undefined) {
    if (chars(page) > 2000) push("page", "too_long", "must be at most 2000 characters");
    else if (!/^https?:\/\/[^\/\s]\S*$/.test(page)) push("page", "format", "must be an http(s) URL");
  }
  for (const k of ["contact_ok", "review_clicked"]) {
    if (o[k] !== undefined && o[k] !== null && typeof o[k] !== "boolean") push(k, "type", "must be true or false");
  }
  if (o.user !== undefined && o.user !== null) {
    if (typeof o.user !== "object" || Array.isArray(o.user)) push("user", "type", "must be an object");
    else {
      for (const k of Object.keys(o.user)) if (!USER_FIELDS.has(k)) push(`user.${k.slice(0, 64)}`, "unknown_field", "is not a field of this contract");
      for (const k of ["id", "account", "order"]) {
        const v = o.user[k];
        if (v === undefined || v === null) continue;
        if (typeof v !== "string") push(`user.${k}`, "type", "must be a string");
        else id(`user.${k}`, v);
      }
      const e = o.user.email;
      if (e !== undefined && e !== null) {
        if (typeof e !== "string") push("user.email", "type", "must be a string");
        else if (chars(cleanLine(e)) > 254) push("user.email", "too_long", "must be at most 254 characters");
        else if (!/^[^\s<>"]+@[^\s<>".][^\s<>"]*\.[^\s<>"]*[^\s<>".]$/.test(cleanLine(e))) push("user.email", "format", "must be an e-mail address");
      }
      r.user = o.user;
    }
  }
  if (o.properties !== undefined && o.properties !== null) {
    if (typeof o.properties !== "object" || Array.isArray(o.properties)) push("properties", "type", "must be an object");
    else {
      const keys = Object.keys(o.properties);
      if (keys.length > 30) push("properties", "too_many", "must have at most 30 entries");
      for (const k of keys) {
        const v = o.properties[k];
        if (!["string", "number", "boolean"].includes(typeof v)) { push(`properties.${k.slice(0, 64)}`, "type", "must be a string, number or boolean"); continue; }
        if (!ID_RE.test(k)) push(`properties.${k.slice(0, 64)}`, "charset", "keys must be 1-64 characters of A-Z a-z 0-9 _ . : -");
        if (chars(typeof v === "string" ? cleanLine(v) : String(v)) > 500) push(`properties.${k.slice(0, 64)}`, "too_long", "must be at most 500 characters");
      }
    }
  }
  const sent = str("sent_at");
  if (sent !== undefined && (sent.length > 40 || !/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt ]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?([Zz]|[+-]\d\d:\d\d)$/.test(sent))) push("sent_at", "format", "must be an RFC 3339 timestamp");
  return [r, p];
}

function problem(status, reason, title, detail, errors, origin, extra = {}) {
  const h = { "content-type": "application/problem+json", "cache-control": "no-store", ...extra };
  if (origin) { h["access-control-allow-origin"] = origin; h.vary = "Origin"; }
  return new Response(JSON.stringify({ type: `https://nps.dev/problems/${reason.replace(/_/g, "-")}`, title, status, detail, errors }), { status, headers: h });
}

let config = null;
const buckets = new Map();
let hmacKey = null;

async function clientHash(addr, day) {
  hmacKey ??= await crypto.subtle.importKey("raw", crypto.getRandomValues(new Uint8Array(32)), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", hmacKey, new TextEncoder().encode(day + ":" + addr)));
  let s = "";
  for (let i = 0; i < 12; i++) s += sig[i].toString(16).padStart(2, "0");
  return s;
}

function take(key, now, rl) {
  const perMs = rl.per_minute / 60000;
  const b = buckets.get(key) ?? { tokens: rl.burst, at: now };
  b.tokens = Math.min(rl.burst, b.tokens + Math.max(0, now - b.at) * perMs);
  b.at = now;
  buckets.set(key, b);
  if (b.tokens >= 1) { b.tokens -= 1; return 0; }
  return Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000));
}

async function postResponse(request, env) {
  const origin = request.headers.get("origin");
  const ct = (request.headers.get("content-type") || "").split(";")[0].trim().toLowerCase();
  if (ct !== "application/json" && ct !== "text/plain") return problem(415, "unsupported_media_type", "Unsupported content type", "unsupported content type", [{ field: "content-type", reason: "must be application/json or text/plain" }], origin);
  if (Number(request.headers.get("content-length") || 0) > MAX_BODY) return problem(413, "too_large", "Body too large", "body is larger than 16384 bytes", [{ field: "", reason: "must be at most 16384 bytes" }], origin);
  const text = await request.text();
  if (text.length > MAX_BODY) return problem(413, "too_large", "Body too large", "body is larger than 16384 bytes", [], origin);
  let o;
  try { o = JSON.parse(text); } catch (e) { return problem(400, "bad_json", "Malformed JSON", "body is not valid JSON: " + e.message, [{ field: "", reason: "must be one JSON object" }], origin); }
  if (typeof o !== "object" || o === null || Array.isArray(o)) return problem(400, "not_object", "Body is not a JSON object", "body must be a JSON object", [{ field: "", reason: "must be one JSON object" }], origin);
  const [r, problems] = validateResponse(o);
  if (problems.length) return problem(422, "invalid", "Invalid fields", `${problems.length} invalid field(s)`, problems, origin);
  const site = config.sites.find((s) => s.id === r.site);
  if (!site) return problem(403, "unknown_site", "Unknown site", "unknown site", [{ field: "site", reason: "is not configured on this edge" }]);
  if (origin && !site.origins.includes(origin)) return problem(403, "origin_not_allowed", "Origin not allowed", "origin is not allowed", [{ field: "origin", reason: "is not on the site's allowlist" }]);
  const now = Date.now();
  const key = site.id + ":" + await clientHash(request.headers.get("cf-connecting-ip") || "", Math.floor(now / DAY));
  const wait = take(key, now, site.rate_limit ?? { burst: 30, per_minute: 60 });
  if (wait) return problem(429, "rate_limited", "Too many requests", `rate limited, retry after ${wait} s`, [], origin, { "retry-after": String(wait) });
  const respondent = r.user?.id ?? r.visitor;
  const stub = env.DEDUP.get(env.DEDUP.idFromName(site.id));
  const idMs = (site.id_window_hours ?? 24) * HOUR, respMs = (site.respondent_window_days ?? 90) * DAY;
  const status = await stub.check(`check\n${r.id}\n${r.rev}\n${r.survey}\n${respondent}\n${idMs}\n${respMs}`);
  const segment = r.score <= 6 ? "detractor" : r.score <= 8 ? "passive" : "promoter";
  const h = { "content-type": "application/json", "cache-control": "no-store" };
  if (origin) { h["access-control-allow-origin"] = origin; h.vary = "Origin"; }
  return new Response(JSON.stringify({ id: r.id, rev: r.rev, segment, status }), { status: 202, headers: h });
}

export default {
  async fetch(request, env) {
    config ??= typeof env.NPS_CONFIG === "string" ? JSON.parse(env.NPS_CONFIG) : env.NPS_CONFIG;
    const url = new URL(request.url);
    if (url.pathname === "/healthz") return new Response("ok\n");
    if (url.pathname === "/v1/responses" && request.method === "POST") return postResponse(request, env);
    return problem(404, "not_found", "Not found", "not found", []);
  },
};

/** Same records, same decisions, same SQLite tables as the Rust `Deduper`. */
export class Deduper extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.storage = ctx.storage;
    this.alarmAt = 0;
    this.sql.exec("CREATE TABLE IF NOT EXISTS seen_id (id TEXT PRIMARY KEY, rev INTEGER NOT NULL, until REAL NOT NULL) WITHOUT ROWID");
    this.sql.exec("CREATE TABLE IF NOT EXISTS seen_respondent (k TEXT PRIMARY KEY, id TEXT NOT NULL, rev INTEGER NOT NULL, until REAL NOT NULL) WITHOUT ROWID");
    this.sql.exec("CREATE INDEX IF NOT EXISTS seen_id_until ON seen_id (until)");
    this.sql.exec("CREATE INDEX IF NOT EXISTS seen_respondent_until ON seen_respondent (until)");
  }

  /** RPC: one dedup line in, the status word out (synchronous SQL; writes covered by the output gate). */
  check(line) {
    const [op, id, revS, survey, respondent, idMsS, respMsS] = line.split("\n");
    const rev = Number(revS), idMs = Number(idMsS), respMs = Number(respMsS);
    const k = survey + "\n" + respondent;
    const [ir, iu, rid, rr, ru] = this.sql.exec(
      "SELECT (SELECT rev FROM seen_id WHERE id = ?1), (SELECT until FROM seen_id WHERE id = ?1), (SELECT id FROM seen_respondent WHERE k = ?2), (SELECT rev FROM seen_respondent WHERE k = ?2), (SELECT until FROM seen_respondent WHERE k = ?2)",
      id, k).raw().next().value;
    if (op !== "check") return "ok";
    const now = Date.now();
    const seenId = ir != null && iu > now ? { rev: ir } : null;
    const seenResp = rid != null && ru > now && respMs > 0 ? { id: rid, rev: rr, until: ru } : null;
    let known = null;
    if (seenId) known = seenId.rev;
    else if (seenResp && seenResp.id === id) known = seenResp.rev;
    else if (seenResp) return "duplicate";
    if (known !== null && rev <= known) return "duplicate";
    const until = now + idMs;
    this.sql.exec("INSERT OR REPLACE INTO seen_id (id, rev, until) VALUES (?, ?, ?)", id, rev, until);
    let earliest = until;
    if (respMs > 0) {
      const ruNew = seenResp && seenResp.id === id ? seenResp.until : now + respMs;
      this.sql.exec("INSERT OR REPLACE INTO seen_respondent (k, id, rev, until) VALUES (?, ?, ?, ?)", k, id, rev, ruNew);
      earliest = Math.min(earliest, ruNew);
    }
    if (!this.alarmAt || this.alarmAt > earliest + 60000) {
      this.alarmAt = earliest + 60000;
      this.storage.setAlarm(this.alarmAt);
    }
    return known === null ? "accepted" : "updated";
  }

  alarm() {
    const now = Date.now();
    this.alarmAt = 0;
    this.sql.exec("DELETE FROM seen_id WHERE until <= ?", now);
    this.sql.exec("DELETE FROM seen_respondent WHERE until <= ?", now);
    const [next] = this.sql.exec("SELECT MIN(m) FROM (SELECT MIN(until) AS m FROM seen_id UNION ALL SELECT MIN(until) FROM seen_respondent)").raw().next().value;
    if (next != null) { this.alarmAt = next + 60000; this.storage.setAlarm(this.alarmAt); }
  }
}
