// The API contract of the edge, written once and run against BOTH runtimes — the native binary
// and the worker in workerd (Miniflare) — with the same assertions, from the same config
// document. Every answer is checked against the OpenAPI document (its status must be documented
// for the operation and its body must validate against the schema), no answer to a foreign
// origin carries CORS headers, and at the end every documented (operation, status) must have
// been answered on each runtime, except the few listed in NOT_REACHABLE with the reason.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Ajv2020 from "ajv/dist/2020.js";
import { ROOT, eventually } from "../e2e/harness.mjs";
import { ADMIN, AGENT, FOREIGN, HELPDESK, LINK_BASE, METRICS, ORIGIN, READ, TARGETS, linkToken, signed, startTarget } from "./targets.mjs";

const DOC = JSON.parse(readFileSync(join(ROOT, "edge/app/openapi.json"), "utf8"));
const BASE = "https://nps.dev/openapi.json";

/** `GET /metrics` declares exactly these families on both runtimes. */
const METRIC_FAMILIES = [
  "nps_alerts_sent_total counter",
  "nps_dead_letters gauge",
  "nps_duplicates_total counter",
  "nps_events_total counter",
  "nps_queue_depth gauge",
  "nps_rejected_total counter",
  "nps_responses_total counter",
  "nps_sink_dead_letters_total counter",
  "nps_sink_deliveries_total counter",
  "nps_sink_disabled gauge",
  "nps_sink_retries_total counter",
];

/**
 * Documented answers a runtime cannot be made to give from outside, and why. Everything else
 * the document lists is answered in this suite.
 */
const NOT_REACHABLE = {
  native: {},
  worker: Object.fromEntries(
    [
      "POST /v1/responses 503",
      "GET /v1/sites/{site}/eligibility 503",
      "GET /v1/sites/{site}/suppressions 503",
      "GET /v1/sites/{site}/suppressions/{subject} 503",
      "PUT /v1/sites/{site}/suppressions/{subject} 503",
      "DELETE /v1/sites/{site}/suppressions/{subject} 503",
    ].map((k) => [k, "answered by the site's Durable Object alone: its failure cannot be injected from outside (D1 and Queue failures are, in edge/worker/tests/durability.test.mjs)"]),
  ),
};

const templates = Object.keys(DOC.paths).map((p) => ({
  path: p,
  re: new RegExp("^" + p.replace(/\{[^}]+\}/g, "[^/]+") + "$"),
}));

let seq = 0;
const uid = (p) => `${p}-${process.pid}-${Date.now().toString(36)}-${++seq}`;
const answer = (over = {}) => ({
  id: uid("r"), rev: 1, site: "demo", survey: "checkout", score: 8, visitor: uid("v"), ...over,
});

for (const kind of TARGETS) {
  describe(`contract on the ${kind} edge`, () => {
    let t;
    const seen = new Set();
    const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
    ajv.addSchema({ $id: BASE, components: DOC.components });

    before(async () => {
      t = await startTarget(kind);
    });
    after(async () => {
      await t?.stop();
    });

    /** One request; the answer is checked against the document and recorded for coverage. */
    async function req(method, path, { origin, token, body, contentType = "application/json", headers = {}, documented = true } = {}) {
      const h = { ...headers };
      if (origin) h.origin = origin;
      if (token) h.authorization = `Bearer ${token}`;
      if (body !== undefined && contentType) h["content-type"] = contentType;
      // Redirects are answers to check, not to follow.
      const res = await fetch(t.url + path, {
        method,
        redirect: "manual",
        headers: h,
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let json = null;
      try {
        json = JSON.parse(text);
      } catch {}
      const out = { status: res.status, headers: res.headers, text, json };
      if (origin === FOREIGN) {
        assert.equal(res.headers.get("access-control-allow-origin"), null, `${method} ${path} ${res.status} echoed a foreign origin`);
      }
      if (!documented) return out;
      const bare = path.split("?")[0];
      const tpl = templates.find((x) => x.re.test(bare))?.path;
      assert.ok(tpl, `${method} ${bare} is not in the OpenAPI document`);
      const docMethod = method === "HEAD" ? "get" : method.toLowerCase();
      const op = DOC.paths[tpl][docMethod];
      assert.ok(op, `${method} ${tpl} is not documented`);
      const doc = op.responses[String(res.status)];
      assert.ok(doc, `${method} ${tpl} answered ${res.status}, which the document does not list: ${text.slice(0, 300)}`);
      seen.add(`${method === "HEAD" ? "GET" : method} ${tpl} ${res.status}`);
      if (method !== "HEAD" && doc.content) {
        const ct = (res.headers.get("content-type") ?? "").split(";")[0].trim();
        const media = Object.entries(doc.content).find(([k]) => k.split(";")[0].trim() === ct)?.[1];
        assert.ok(media, `${method} ${tpl} ${res.status}: content type ${ct} is not documented`);
        if (media.schema && ct.endsWith("json")) {
          const schema = JSON.parse(JSON.stringify(media.schema).replaceAll('"#/components', `"${BASE}#/components`));
          const ok = ajv.validate(schema, json);
          assert.ok(ok, `${method} ${tpl} ${res.status}: body does not match the document: ${ajv.errorsText(ajv.errors)}\n${text.slice(0, 500)}`);
        }
      }
      return out;
    }

    const post = (path, body, opts = {}) => req("POST", path, { origin: ORIGIN, body, ...opts });
    const problem = (res, status, type) => {
      assert.equal(res.status, status, res.text);
      assert.match(res.headers.get("content-type"), /^application\/problem\+json/);
      assert.equal(res.json.status, status);
      if (type) assert.equal(res.json.type, `https://nps.dev/problems/${type}`);
    };

    it("health, the OpenAPI document, 404, 405 with Allow, HEAD", async () => {
      assert.deepEqual((await req("GET", "/healthz")).json, { status: "ok" });
      const head = await req("HEAD", "/healthz");
      assert.equal(head.status, 200);
      assert.equal(head.text, "");
      assert.deepEqual((await req("GET", "/openapi.json")).json, DOC);
      problem(await req("GET", "/nope", { documented: false }), 404, "not-found");
      const na = await req("GET", "/v1/responses", { documented: false });
      problem(na, 405, "method-not-allowed");
      assert.equal(na.headers.get("allow"), "POST, OPTIONS");
    });

    it("a POST without Origin is refused (403), on both runtimes", async () => {
      const res = await req("POST", "/v1/responses", { body: answer() });
      problem(res, 403, "origin-not-allowed");
      assert.equal(res.headers.get("access-control-allow-origin"), null);
    });

    it("refusals before authorization: a foreign origin is never echoed, an allowed one is", async () => {
      for (const [body, opts, status] of [
        ['{"id":', {}, 400],
        ["[1]", {}, 400],
        ["x".repeat(17 * 1024), {}, 413],
        ["{}", { contentType: "text/html" }, 415],
        [{ ...answer(), score: 11 }, {}, 422],
        [{ ...answer(), site: "nowhere" }, {}, 403],
      ]) {
        const foreign = await req("POST", "/v1/responses", { origin: FOREIGN, body, ...opts });
        assert.equal(foreign.status, status, foreign.text);
        const own = await req("POST", "/v1/responses", { origin: ORIGIN, body, ...opts });
        assert.equal(own.status, status);
        assert.equal(own.headers.get("access-control-allow-origin"), ORIGIN);
        assert.match(own.headers.get("vary"), /Origin/);
      }
    });

    it("422 lists every invalid field, the same list on both", async () => {
      const res = await post("/v1/responses", { id: "", rev: 0, site: "demo", survey: "x y", score: 11, visitor: "", comment: 5 });
      problem(res, 422, "invalid");
      assert.deepEqual(res.json.errors.map((e) => e.field), ["score", "comment", "id", "rev", "survey", "visitor"]);
    });

    it("revs: accepted, updated, then a lower rev is a duplicate and never replaces the stored one", async () => {
      const r = answer({ score: 3 });
      assert.deepEqual((await post("/v1/responses", r)).json, { id: r.id, rev: 1, segment: "detractor", status: "accepted" });
      assert.equal((await post("/v1/responses", { ...r, rev: 3, score: 9, comment: "Mieux" })).json.status, "updated");
      assert.equal((await post("/v1/responses", { ...r, rev: 2, score: 0 })).json.status, "duplicate");
      assert.equal((await post("/v1/responses", { ...r, rev: 3, score: 9 }, { contentType: "text/plain;charset=UTF-8" })).json.status, "duplicate");
      await eventually(async () => (await req("GET", `/v1/sites/demo/responses/${r.id}`, { token: READ })).status === 200);
      const stored = (await req("GET", `/v1/sites/demo/responses/${r.id}`, { token: READ })).json;
      assert.deepEqual([stored.rev, stored.score, stored.comment, stored.segment], [3, 9, "Mieux", "promoter"]);
    });

    it("the same id on two sites is two answers, not an overwrite", async () => {
      const r = answer({ score: 2 });
      assert.equal((await post("/v1/responses", r)).json.status, "accepted");
      const o = { ...r, site: "other", score: 9, visitor: uid("v") };
      assert.equal((await post("/v1/responses", o, { origin: "https://other.example" })).json.status, "accepted");
      const get = async (site) => (await req("GET", `/v1/sites/${site}/responses/${r.id}`, { token: READ })).json;
      await eventually(async () => (await get("demo"))?.score === 2 && (await get("other"))?.score === 9, { what: "both rows" });
    });

    it("an id belongs to the visitor of its first rev: anyone else's rev is a 409 and changes nothing", async () => {
      const r = answer({ score: 9, comment: "Très bien" });
      assert.equal((await post("/v1/responses", r)).json.status, "accepted");
      const forged = await post("/v1/responses", { ...r, rev: 10000, score: 0, comment: "forged", visitor: uid("v") });
      problem(forged, 409, "conflict");
      assert.equal(forged.json.errors[0].field, "visitor");
      assert.equal((await post("/v1/responses", { ...r, rev: 2, comment: "Très bien !" })).json.status, "updated");
      const stored = await eventually(async () => {
        const s = (await req("GET", `/v1/sites/demo/responses/${r.id}`, { token: READ })).json;
        return s?.rev === 2 && s;
      }, { what: "rev 2 stored" });
      assert.deepEqual([stored.score, stored.comment, stored.visitor], [9, "Très bien !", r.visitor]);
    });

    it("one answer per respondent and survey; another survey is a new answer", async () => {
      const user = { id: uid("u") };
      assert.equal((await post("/v1/responses", answer({ user }))).json.status, "accepted");
      assert.equal((await post("/v1/responses", answer({ user }))).json.status, "duplicate");
      assert.equal((await post("/v1/responses", answer({ user, survey: "onboarding" }))).json.status, "accepted");
    });

    it("events: accepted, then duplicate; refusals as for responses", async () => {
      const e = { id: uid("e"), site: "demo", survey: "checkout", visitor: uid("v"), type: "shown" };
      assert.deepEqual((await post("/v1/events", e)).json, { id: e.id, status: "accepted" });
      assert.deepEqual((await post("/v1/events", e)).json, { id: e.id, status: "duplicate" });
      problem(await post("/v1/events", { ...e, type: "clicked" }), 422, "invalid");
      problem(await post("/v1/events", { ...e, site: "nowhere" }), 403, "unknown-site");
      problem(await req("POST", "/v1/events", { origin: FOREIGN, body: e }), 403, "origin-not-allowed");
      problem(await post("/v1/events", "[]"), 400, "not-object");
      problem(await post("/v1/events", "x".repeat(17 * 1024)), 413, "too-large");
      problem(await post("/v1/events", "{}", { contentType: "text/html" }), 415, "unsupported-media-type");
    });

    it("rate limit: 429 with Retry-After, for answers and events", async () => {
      let last;
      for (let i = 0; i < 3; i++) last = await post("/v1/responses", answer({ site: "tight" }));
      problem(last, 429, "rate-limited");
      assert.ok(Number(last.headers.get("retry-after")) >= 1);
      assert.match(last.headers.get("access-control-expose-headers"), /retry-after/i);
      problem(await post("/v1/events", { id: uid("e"), site: "tight", survey: "s", visitor: "v", type: "shown" }), 429, "rate-limited");
      problem(await req("GET", "/v1/sites/tight/eligibility?survey=s&user=u1", { origin: ORIGIN }), 429, "rate-limited");
    });

    it("routing: each webhook sink gets what its filters say, signed", async () => {
      const det = answer({ score: 1 }), pro = answer({ score: 10 }), far = answer({ site: "other", score: 0 });
      await post("/v1/responses", det);
      await post("/v1/responses", pro);
      await post("/v1/responses", far, { origin: "https://other.example" });
      const got = (sink) => t.receiver.received.filter((m) => m.sink === sink).map((m) => m.body.data.id);
      await eventually(() => [det, pro, far].every((r) => got("all").includes(r.id)) && got("detractors").includes(det.id), { timeoutMs: 20_000, what: "deliveries" });
      assert.ok(!got("detractors").includes(pro.id) && !got("detractors").includes(far.id));
      assert.equal(t.receiver.bad, 0);
      const m = t.receiver.received.find((x) => x.sink === "all" && x.body.data.id === det.id && x.body.type === "nps.response");
      assert.equal(m.id, `${det.id}.1`);
      assert.equal(m.body.type, "nps.response");
      assert.equal(m.body.data.segment, "detractor");
    });

    it("CORS preflight: any site's origin, never a foreign one", async () => {
      for (const path of ["/v1/responses", "/v1/events", "/v1/sites/demo/eligibility"]) {
        const ok = await req("OPTIONS", path, { origin: ORIGIN, headers: { "access-control-request-method": "POST" } });
        assert.equal(ok.status, 204);
        assert.equal(ok.headers.get("access-control-allow-origin"), ORIGIN);
        assert.match(ok.headers.get("access-control-allow-methods"), /POST/);
        problem(await req("OPTIONS", path, { origin: FOREIGN }), 403, "origin-not-allowed");
      }
    });

    it("suppressions and eligibility", async () => {
      const path = "/v1/sites/demo/suppressions/u%2D1";
      const none = await req("PUT", path, {});
      problem(none, 401, "unauthorized");
      assert.equal(none.headers.get("www-authenticate"), "Bearer");
      problem(await req("PUT", path, { token: READ }), 403, "forbidden");
      problem(await req("PUT", "/v1/sites/nowhere/suppressions/u1", { token: ADMIN }), 404, "not-found");
      problem(await req("PUT", "/v1/sites/demo/suppressions/bad%20id", { token: ADMIN }), 422, "invalid");
      problem(await req("PUT", path, { token: ADMIN, body: "[1]" }), 400);
      problem(await req("PUT", path, { token: ADMIN, body: { reason: "x".repeat(17 * 1024) } }), 413, "too-large");
      const put = await req("PUT", path, { token: ADMIN, body: { ttl_seconds: 3600, reason: "ticket 7" } });
      assert.equal(put.status, 200, put.text);
      assert.deepEqual([put.json.subject, put.json.reason, put.json.active], ["u-1", "ticket 7", true]);
      assert.equal((await req("GET", path, { token: ADMIN })).json.subject, "u-1");
      assert.ok((await req("GET", "/v1/sites/demo/suppressions", { token: ADMIN })).json.items.some((x) => x.subject === "u-1"));
      problem(await req("GET", "/v1/sites/demo/suppressions", {}), 401);
      problem(await req("GET", "/v1/sites/demo/suppressions", { token: READ }), 403);
      problem(await req("GET", "/v1/sites/nowhere/suppressions", { token: ADMIN }), 404);
      problem(await req("GET", "/v1/sites/demo/suppressions/u9", {}), 401);
      problem(await req("GET", "/v1/sites/demo/suppressions/u9", { token: READ }), 403);
      problem(await req("GET", "/v1/sites/demo/suppressions/nobody", { token: ADMIN }), 404);
      problem(await req("GET", "/v1/sites/demo/suppressions/bad%20id", { token: ADMIN }), 422);

      const elig = (q, origin = ORIGIN) => req("GET", `/v1/sites/demo/eligibility?${q}`, { origin });
      const shown = await elig("survey=checkout&user=u-1");
      assert.deepEqual(shown.json, { show: false });
      assert.equal(shown.headers.get("cache-control"), "private, max-age=60");
      assert.equal(shown.headers.get("access-control-allow-origin"), ORIGIN);
      const suppressedShown = { id: uid("e"), site: "demo", survey: "checkout", visitor: uid("v"), type: "shown", user: { id: "u-1" } };
      problem(await post("/v1/events", suppressedShown), 403, "suppressed");
      assert.equal((await post("/v1/events", { ...suppressedShown, type: "dismissed" })).status, 202);

      assert.equal((await req("DELETE", path, { token: ADMIN })).status, 204);
      problem(await req("DELETE", path, { token: ADMIN }), 404);
      problem(await req("DELETE", path, {}), 401);
      problem(await req("DELETE", path, { token: READ }), 403);
      problem(await req("DELETE", "/v1/sites/demo/suppressions/bad%20id", { token: ADMIN }), 422);
      assert.deepEqual((await elig("survey=checkout&user=u-1")).json, { show: true });

      const user = uid("u");
      assert.equal((await post("/v1/responses", answer({ user: { id: user } }))).json.status, "accepted");
      assert.deepEqual((await elig(`survey=checkout&user=${user}`)).json, { show: false }, "answered within the window");
      assert.deepEqual((await elig(`survey=onboarding&user=${user}`)).json, { show: true });
      problem(await elig("survey=checkout&user=u1", FOREIGN), 403, "origin-not-allowed");
      problem(await req("GET", "/v1/sites/nowhere/eligibility?user=u1", { origin: ORIGIN }), 403, "unknown-site");
      problem(await elig("user=bad%20id"), 422, "invalid");
      problem(await elig("colour=blue"), 422, "invalid");
    });

    it("the report API", async () => {
      const scores = [0, 7, 9, 10];
      for (const score of scores) assert.equal((await post("/v1/responses", answer({ site: "report", score }))).status, 202);
      for (let i = 0; i < 5; i++) {
        await post("/v1/events", { id: uid("e"), site: "report", survey: "checkout", visitor: uid("v"), type: "shown" });
      }
      const sum = async () => (await req("GET", "/v1/sites/report/summary", { token: READ })).json;
      await eventually(async () => (await sum()).responses === 4, { what: "4 answers in the summary" });
      const s = await sum();
      assert.deepEqual([s.responses, s.nps, s.shown, s.response_rate], [4, 25, 5, 0.8]);
      assert.deepEqual(s.by_segment, { detractor: 1, passive: 1, promoter: 2 });
      assert.equal(s.series.length, 30, "30 days up to today");
      // Adjusted-Wald 95% interval, by hand: 2 promoters, 1 detractor, n' = 4 + 3 = 7,
      // NPS' = 1/7, Var/n' = ((2 + 1 + 1.5)·7 − 1²)/7³ = 30.5/343, SE = 0.2981967182898461,
      // bounds 100·(1/7 ∓ 1.96·SE) = −44.16084249909554 and 72.73227107052412.
      assert.ok(Math.abs(s.nps_ci.low - -44.16084249909554) < 1e-9, JSON.stringify(s.nps_ci));
      assert.ok(Math.abs(s.nps_ci.high - 72.73227107052412) < 1e-9, JSON.stringify(s.nps_ci));
      assert.deepEqual([s.low_sample, s.non_respondents], [true, 1], "4 answers; 5 shown − 4");
      assert.equal(s.series.at(-1).non_respondents, 1);
      assert.equal("comparison" in s, false, "no comparison unless asked");
      const noCases = { opened: 0, open: 0, overdue: 0, resolved: 0, median_first_touch_hours: null, median_resolution_hours: null, resurveyed: 0, recovered: 0, recovery_rate: null };
      assert.deepEqual(s.cases, { ...noCases, opened: 1, open: 1 }, "the detractor's case, untouched");
      const cmp = async (q) => (await req("GET", `/v1/sites/report/summary?${q}`, { token: READ })).json;
      const same = await cmp(`compare_from=${s.to}&compare_to=${s.to}`);
      assert.deepEqual(same.comparison, {
        from: s.to, to: s.to, responses: 4, nps: 25, nps_ci: s.nps_ci, low_sample: true, difference: 0, significant: false, cases: s.cases,
      });
      const empty = await cmp("compare_from=2020-01-01&compare_to=2020-01-31");
      assert.deepEqual(empty.comparison, {
        from: "2020-01-01", to: "2020-01-31", responses: 0, nps: null, nps_ci: null, low_sample: true, difference: null, significant: null, cases: noCases,
      });
      assert.equal(empty.nps, 25, "the period itself is unchanged");
      const alone = await req("GET", "/v1/sites/report/summary?compare_from=2020-01-01", { token: READ });
      problem(alone, 422, "invalid");
      assert.equal(alone.json.errors[0].field, "compare_to");
      const week = (await req("GET", "/v1/sites/report/summary?interval=week", { token: READ })).json;
      assert.equal(week.interval, "week");
      const sites = (await req("GET", "/v1/sites", { token: READ })).json;
      assert.deepEqual(sites.sites.find((x) => x.id === "report"), { id: "report", surveys: ["checkout"] });
      const p1 = (await req("GET", "/v1/sites/report/responses?limit=3", { token: READ })).json;
      assert.equal(p1.items.length, 3);
      assert.ok(p1.next_cursor);
      const p2 = (await req("GET", `/v1/sites/report/responses?limit=3&cursor=${encodeURIComponent(p1.next_cursor)}`, { token: READ })).json;
      assert.equal(p2.items.length, 1);
      assert.equal(p2.next_cursor, null);
      assert.deepEqual([...p1.items, ...p2.items].map((x) => x.score).sort((a, b) => a - b), scores);
      const det = (await req("GET", "/v1/sites/report/responses?segment=detractor", { token: READ })).json;
      assert.deepEqual(det.items.map((x) => x.score), [0]);
      const csv = await req("GET", "/v1/sites/report/responses?format=csv", { token: READ });
      assert.equal(csv.status, 200);
      assert.match(csv.headers.get("content-type"), /^text\/csv/);
      assert.match(csv.headers.get("content-disposition"), /^attachment; filename="nps-report-\d{4}-\d\d-\d\d\.csv"$/);
      assert.equal(csv.text.split("\r\n").length, 1 + 4 + 1);
      for (const path of ["/v1/sites", "/v1/sites/report/summary", "/v1/sites/report/responses", "/v1/sites/report/responses/x"]) {
        problem(await req("GET", path, {}), 401, "unauthorized");
        problem(await req("GET", path, { token: "wrong-token-0123456789" }), 403, "forbidden");
        assert.equal((await req("GET", path, { token: READ })).headers.get("cache-control"), "no-store");
      }
      for (const path of ["/v1/sites/nowhere/summary", "/v1/sites/nowhere/responses", "/v1/sites/report/responses/nothing-here"]) {
        problem(await req("GET", path, { token: READ }), 404, "not-found");
      }
      problem(await req("GET", "/v1/sites/report/summary?interval=month", { token: READ }), 422, "invalid");
      problem(await req("GET", "/v1/sites/report/responses?limit=0", { token: READ }), 422, "invalid");
      // The former report page: a redirect to the console's report view (the browser keeps the
      // fragment: #token=…&site=…&response=…); its script and style sheet are gone.
      for (const p of ["/report", "/report/", "/report?site=report"]) {
        const moved = await req("GET", p);
        assert.equal(moved.status, 302, p);
        assert.equal(moved.headers.get("location"), "/console?view=report", p);
        assert.match(moved.headers.get("content-security-policy"), /default-src 'none'/);
        assert.equal(moved.headers.get("x-frame-options"), "DENY");
      }
      for (const p of ["/report/report.js", "/report/report.css"]) problem(await req("GET", p, { documented: false }), 404, "not-found");
    });

    it("cases: a detractor opens one; list, filters, read, move, notes, withdrawal; every refusal", async () => {
      const who = uid("u");
      const det = answer({ score: 2, survey: "cases", user: { id: who, order: "o-9", email: `${who}@example.com` }, contact_ok: true });
      const pro = answer({ score: 10, survey: "cases", user: { id: uid("u") } });
      for (const r of [det, pro]) assert.equal((await post("/v1/responses", r)).json.status, "accepted");
      const path = `/v1/sites/demo/cases/${det.id}`;
      const opened = await eventually(async () => {
        const c = await req("GET", path, { token: READ });
        return c.status === 200 && c.json;
      }, { what: "the case" });
      assert.equal(opened.status, "open");
      assert.equal(opened.response_id, det.id);
      assert.equal(opened.user_id, who);
      assert.equal(opened.order, "o-9");
      assert.equal(opened.contact_ok, true);
      assert.equal(opened.score, 2);
      assert.equal(opened.overdue, false);
      assert.equal(Date.parse(opened.due_at) - Date.parse(opened.opened_at), 48 * 3600 * 1000, "the default SLA");
      assert.deepEqual(opened.notes, []);
      problem(await req("GET", `/v1/sites/demo/cases/${pro.id}`, { token: READ }), 404, "not-found");
      // A later rev updates the case; it never opens a second one.
      assert.equal((await post("/v1/responses", { ...det, rev: 2, comment: "Colis cassé" })).json.status, "updated");
      await eventually(async () => (await req("GET", path, { token: READ })).json.comment === "Colis cassé", { what: "the comment" });
      const list = await req("GET", "/v1/sites/demo/cases?status=open&survey=cases&segment=detractor", { token: READ });
      assert.equal(list.json.items.filter((c) => c.id === det.id).length, 1);
      assert.equal((await req("GET", "/v1/sites/demo/cases?segment=promoter&survey=cases", { token: READ })).json.items.length, 0);
      problem(await req("GET", "/v1/sites/demo/cases?limit=0&colour=red", { token: READ }), 422, "invalid");
      // Eligibility: someone with an open case is not asked (the reason is not told to an unverified id).
      assert.deepEqual((await req("GET", `/v1/sites/demo/eligibility?survey=other&user=${who}`, { origin: ORIGIN })).json, { show: false });

      const moved = await req("PATCH", path, { token: AGENT, body: { status: "in_progress", owner: "Ana" } });
      assert.equal(moved.status, 200, moved.text);
      assert.equal(moved.json.status, "in_progress");
      assert.equal(moved.json.owner, "Ana");
      assert.ok(moved.json.first_touch_at, "the first move is the first touch");
      const noted = await req("POST", `${path}/notes`, { token: AGENT, body: { text: "Called: refund on its way" } });
      assert.equal(noted.status, 201, noted.text);
      assert.deepEqual(noted.json.notes.map((n) => [n.seq, n.author, n.text]), [[1, "ana", "Called: refund on its way"]]);
      const resolved = await req("PATCH", path, { token: ADMIN, body: { status: "resolved" } });
      assert.equal(resolved.json.status, "resolved");
      assert.ok(resolved.json.resolved_at && resolved.json.resurvey_at);
      assert.equal((await req("PATCH", path, { token: AGENT, body: { status: "resolved" } })).json.status, "resolved", "the same move again: one outcome");
      const illegal = await req("PATCH", path, { token: AGENT, body: { status: "open" } });
      problem(illegal, 422, "invalid");
      assert.equal(illegal.json.errors[0].field, "status");
      problem(await req("PATCH", path, { token: AGENT, body: { status: "done" } }), 422, "invalid");
      problem(await req("PATCH", path, { token: AGENT, body: { owner: "x".repeat(121) } }), 422, "invalid");
      problem(await req("PATCH", path, { token: AGENT, body: "[1]", contentType: "application/json" }), 400);
      problem(await req("PATCH", path, { token: AGENT, body: "x".repeat(17000) }), 413);
      problem(await req("PATCH", path, { token: READ, body: { owner: "Bo" } }), 403, "forbidden");
      problem(await req("PATCH", path, { body: { owner: "Bo" } }), 401, "unauthorized");
      problem(await req("PATCH", "/v1/sites/demo/cases/no-such-case", { token: AGENT, body: { owner: "Bo" } }), 404, "not-found");
      problem(await req("POST", "/v1/sites/demo/cases/no-such-case/notes", { token: AGENT, body: { text: "hello" } }), 404, "not-found");
      problem(await req("POST", `${path}/notes`, { token: AGENT, body: { text: "" } }), 422, "invalid");
      problem(await req("POST", `${path}/notes`, { token: AGENT, body: "{" }), 400);
      problem(await req("POST", `${path}/notes`, { token: AGENT, body: "x".repeat(17000) }), 413);
      problem(await req("POST", `${path}/notes`, { token: READ, body: { text: "hi" } }), 403, "forbidden");
      problem(await req("POST", `${path}/notes`, { body: { text: "hi" } }), 401, "unauthorized");
      problem(await req("GET", "/v1/sites/other/cases", { token: AGENT }), 403, "forbidden");
      problem(await req("GET", "/v1/sites/demo/cases"), 401, "unauthorized");
      problem(await req("GET", path), 401, "unauthorized");
      for (const p of ["/v1/sites/nowhere/cases", "/v1/sites/nowhere/cases/x"]) problem(await req("GET", p, { token: READ }), 404, "not-found");
      problem(await req("PATCH", "/v1/sites/nowhere/cases/x", { token: ADMIN, body: { owner: "Bo" } }), 404, "not-found");
      problem(await req("POST", "/v1/sites/nowhere/cases/x/notes", { token: ADMIN, body: { text: "hi" } }), 404, "not-found");
      problem(await req("GET", path, { token: "wrong-token-0123456789" }), 403, "forbidden");

      // A customer who changes their mind (2 → 9) withdraws the case; a withdrawn case is not resolved by hand.
      const changed = answer({ score: 3, survey: "cases", user: { id: uid("u") } });
      assert.equal((await post("/v1/responses", changed)).json.status, "accepted");
      const cpath = `/v1/sites/demo/cases/${changed.id}`;
      await eventually(async () => (await req("GET", cpath, { token: READ })).status === 200, { what: "the case" });
      assert.equal((await post("/v1/responses", { ...changed, rev: 2, score: 9 })).json.status, "updated");
      await eventually(async () => (await req("GET", cpath, { token: READ })).json.status === "withdrawn", { what: "withdrawn" });
      problem(await req("PATCH", cpath, { token: AGENT, body: { status: "resolved" } }), 422, "invalid");
    });

    it("the console: its page and files with the application's headers, from either runtime; an unknown file is 404", async () => {
      const page = await req("GET", "/console");
      assert.equal(page.status, 200);
      assert.match(page.headers.get("content-type"), /^text\/html/);
      assert.match(page.headers.get("content-security-policy"), /script-src 'self' 'wasm-unsafe-eval'/);
      assert.equal(page.headers.get("x-nps-static"), null, "the runtime's own header stays inside");
      assert.match(page.text, /boot\.js/);
      const wasm = await fetch(t.url + "/console/nps_console_bg.wasm");
      assert.equal(wasm.status, 200);
      assert.equal(wasm.headers.get("content-type"), "application/wasm");
      assert.ok(WebAssembly.validate(new Uint8Array(await wasm.arrayBuffer())), "the console's wasm, byte for byte");
      seen.add("GET /console/{file} 200");
      assert.match((await req("GET", "/console/boot.js")).headers.get("content-type"), /javascript/);
      problem(await req("GET", "/console/secrets.txt"), 404, "not-found");
      problem(await req("GET", "/console/..%2Fedge.toml"), 404, "not-found");
    });

    it("a helpdesk resolves and reopens cases with signed events, by case id or by its linked ticket; every refusal changes nothing", async () => {
      const hook = (event, { secret = HELPDESK, site = "demo", headers } = {}) => {
        const body = typeof event === "string" ? event : JSON.stringify(event);
        return req("POST", `/v1/sites/${site}/helpdesk`, { body, headers: headers ?? signed(secret, body) });
      };
      const open = async () => {
        const r = answer({ score: 1, survey: "helpdesk", user: { id: uid("u") } });
        assert.equal((await post("/v1/responses", r)).json.status, "accepted");
        const path = `/v1/sites/demo/cases/${r.id}`;
        await eventually(async () => (await req("GET", path, { token: READ })).status === 200, { what: "the case" });
        return { id: r.id, path, status: async () => (await req("GET", path, { token: READ })).json };
      };
      const a = await open();
      // By case id, linking the ticket at the same time, with the agent and a note.
      const solved = await hook({ type: "ticket.solved", case: a.id, external_ref: "ZD-1001", owner: "Ana (Zendesk)", note: "Refunded, called back" });
      assert.equal(solved.status, 200, solved.text);
      assert.equal(solved.json.cases.length, 1);
      const c = solved.json.cases[0];
      assert.deepEqual([c.status, c.owner, c.external_ref], ["resolved", "Ana (Zendesk)", "ZD-1001"]);
      assert.ok(c.resolved_at && c.first_touch_at && c.resurvey_at);
      assert.deepEqual(c.notes.map((n) => [n.author, n.text]), [["helpdesk", "Refunded, called back"]]);
      // A repeat changes nothing; the ticket reopened reopens it, by its ticket.
      assert.equal((await hook({ type: "ticket.solved", case: a.id })).json.cases[0].status, "resolved");
      const reopened = await hook({ type: "ticket.reopened", external_ref: "ZD-1001" });
      assert.equal(reopened.status, 200, reopened.text);
      assert.equal((await a.status()).status, "reopened");
      // A ticket linked by PATCH, following two cases: one event resolves both.
      const b = await open();
      assert.equal((await req("PATCH", b.path, { token: AGENT, body: { external_ref: "ZD-2002" } })).json.external_ref, "ZD-2002");
      assert.equal((await req("PATCH", a.path, { token: AGENT, body: { external_ref: "ZD-2002" } })).status, 200);
      const both = await hook({ type: "ticket.solved", external_ref: "ZD-2002" });
      assert.deepEqual(both.json.cases.map((x) => [x.id, x.status]).sort(), [[a.id, "resolved"], [b.id, "resolved"]].sort());
      // Refusals: nothing moves.
      const d = await open();
      const body = JSON.stringify({ type: "ticket.solved", case: d.id });
      problem(await hook(body, { secret: "whsec_" + Buffer.from("someone-else-0123456789").toString("base64") }), 401, "unauthorized");
      problem(await hook(body, { headers: signed(HELPDESK, body + " ") }), 401, "unauthorized");
      problem(await hook(body, { headers: signed(HELPDESK, body, { ts: Math.floor(Date.now() / 1000) - 3600 }) }), 401, "unauthorized");
      problem(await hook(body, { headers: {} }), 401, "unauthorized");
      assert.equal((await d.status()).status, "open", "an unsigned or stale event moved nothing");
      problem(await hook("{not json"), 400, "bad-json");
      problem(await hook({ type: "ticket.closed", case: d.id, colour: "red" }), 422, "invalid");
      problem(await hook({ type: "ticket.solved" }), 422, "invalid");
      problem(await hook({ type: "ticket.solved", case: "no-such-case" }), 404, "not-found");
      problem(await hook({ type: "ticket.solved", external_ref: "ZD-none" }), 404, "not-found");
      problem(await hook({ type: "ticket.solved", case: d.id }, { site: "other" }), 404, "not-found");
      problem(await hook({ type: "ticket.solved", case: d.id }, { site: "nowhere" }), 404, "not-found");
      problem(await hook("x".repeat(17 * 1024)), 413, "too-large");
      problem(await req("PATCH", d.path, { token: AGENT, body: { external_ref: 7 } }), 422, "invalid");
      assert.equal((await d.status()).status, "open");
    });

    it("a helpdesk's retry of an event already applied (same webhook-id, signed again) changes nothing", async () => {
      const hook = (event, id, ts = Math.floor(Date.now() / 1000)) => {
        const body = JSON.stringify(event);
        return req("POST", "/v1/sites/demo/helpdesk", { body, headers: signed(HELPDESK, body, { id, ts }) });
      };
      const r = answer({ score: 2, survey: "helpdesk", user: { id: uid("u") } });
      assert.equal((await post("/v1/responses", r)).json.status, "accepted");
      const path = `/v1/sites/demo/cases/${r.id}`;
      await eventually(async () => (await req("GET", path, { token: READ })).status === 200, { what: "the case" });
      const state = async () => {
        const c = (await req("GET", path, { token: READ })).json;
        return [c.status, c.notes.map((n) => n.text)];
      };
      const [called, solved, reopened, solvedAgain] = ["called", "solved", "reopened", "solved-again"].map((k) => uid(`msg-${k}`));
      const note = { type: "ticket.updated", case: r.id, note: "Called, left a message" };
      const first = await hook(note, called);
      assert.equal(first.status, 200, first.text);
      const retry = await hook(note, called, Math.floor(Date.now() / 1000) + 1);
      assert.equal(retry.status, 200, retry.text);
      assert.deepEqual(retry.json.cases[0].notes.map((n) => n.text), ["Called, left a message"], "answered as the first delivery");
      assert.deepEqual(await state(), ["open", ["Called, left a message"]]);
      assert.equal((await hook({ type: "ticket.solved", case: r.id }, solved)).status, 200);
      assert.equal((await hook({ type: "ticket.reopened", case: r.id, note: "Wrote back" }, reopened)).status, 200);
      assert.equal((await hook({ type: "ticket.solved", case: r.id }, solvedAgain)).status, 200);
      // The reopening delivered again after the later "solved": nothing moves.
      const late = await hook({ type: "ticket.reopened", case: r.id, note: "Wrote back" }, reopened);
      assert.equal(late.status, 200, late.text);
      assert.equal(late.json.cases[0].status, "resolved");
      assert.deepEqual(await state(), ["resolved", ["Called, left a message", "Wrote back"]]);
      // A new event (its own id) with the same content is applied.
      assert.equal((await hook({ type: "ticket.reopened", case: r.id, note: "Wrote back" }, uid("msg-new"))).json.cases[0].status, "reopened");
      assert.deepEqual((await state())[1], ["Called, left a message", "Wrote back", "Wrote back"]);
    });

    it("survey links and invitations: the page, its form, every refusal", async () => {
      const local = (u) => u.slice(LINK_BASE.length);
      const invite = (site, body, opts = {}) => req("POST", `/v1/sites/${site}/invitations`, { token: ADMIN, body, ...opts });
      const who = uid("u");
      const one = { survey: "links", recipients: [{ email: "ann@example.com", user: who, order: "A-1001", locale: "fr" }] };
      problem(await invite("other", one), 409, "links-off");
      problem(await req("POST", "/v1/sites/demo/invitations", { body: one }), 401);
      problem(await req("POST", "/v1/sites/demo/invitations", { token: READ, body: one }), 403);
      problem(await invite("nowhere", one), 404);
      problem(await invite("demo", "{", {}), 400, "bad-json");
      problem(await invite("demo", "<x/>", { contentType: "application/xml" }), 415);
      problem(await invite("demo", JSON.stringify({ survey: "links", recipients: [], pad: "x".repeat(600 * 1024) })), 413);
      const bad = await invite("demo", { survey: "links", recipients: [{ email: "nope" }, { email: "b@example.com", locale: "??" }] });
      problem(bad, 422, "invalid");
      assert.deepEqual(bad.json.errors.map((e) => e.field), ["recipients[0].email", "recipients[1].locale"]);
      const made = await invite("demo", one);
      assert.equal(made.status, 200, made.text);
      const inv = made.json.invitations[0];
      assert.equal(inv.score_urls.length, 11);
      assert.ok(inv.score_urls[0].endsWith("?score=0") && inv.score_urls[10].endsWith("?score=10"));
      // The page: a bare GET (what a link scanner does) records nothing.
      const page = await req("GET", local(inv.score_urls[3]));
      assert.equal(page.status, 200);
      assert.match(page.headers.get("content-type"), /^text\/html/);
      assert.match(page.headers.get("content-security-policy"), /default-src 'none'.*form-action 'self'/);
      assert.match(page.text, /lang="fr"/);
      assert.match(page.text, /data-auto/, "the chosen score, for the page to send");
      assert.equal((await t.rows("SELECT id FROM responses WHERE site = 'demo' AND id = ?", inv.response_id)).length, 0, "a GET stored nothing");
      const form = (path, fields, extra = {}) => req("POST", path, { body: new URLSearchParams(fields).toString(), contentType: "application/x-www-form-urlencoded", redirect: "manual", ...extra });
      const scored = await form(local(inv.url), { score: "3", rev: "1" });
      assert.equal(scored.status, 303, scored.text);
      assert.match(scored.headers.get("location"), /\?answered=3&rev=2$/);
      const follow = await req("GET", scored.headers.get("location"));
      assert.equal(follow.status, 200);
      assert.match(follow.text, /name="contact_ok"/, "a detractor is asked whether they may be contacted");
      const commented = await form(local(inv.url), { score: "3", rev: "2", step: "comment", comment: "Livraison en retard", contact_ok: "1" });
      assert.equal(commented.status, 303);
      assert.match(commented.headers.get("location"), /\?done$/);
      const twice = await invite("demo", { ...one, batch: "second" });
      assert.deepEqual(twice.json.skipped, [{ recipient: "ann@example.com", reason: "open_case" }], "the detractor's case is open: not asked again");
      // Refusals: in the page's words, nothing stored.
      const claims = { s: "demo", v: "links", u: who, m: "ann@example.com", x: Math.floor(Date.now() / 1000) + 3600, n: "second" };
      const forged = linkToken(claims, "not-the-site-secret-0123456789abcdef");
      const expired = linkToken({ ...claims, l: "de", x: 1000 });
      for (const m of ["GET", "POST"]) {
        const f = m === "GET" ? (p) => req("GET", p) : (p) => form(p, { score: "9" });
        assert.equal((await f("/s/not-a-token")).status, 400);
        const lost = await req(m, "/s/not-a-token", { headers: { "accept-language": "es-ES,es;q=0.9,en;q=0.5" }, ...(m === "POST" ? { body: "score=9", contentType: "application/x-www-form-urlencoded" } : {}) });
        assert.match(lost.text, /lang="es"/, "an unreadable link's page speaks the browser's language");
        assert.equal((await f(`/s/${forged}`)).status, 403);
        const gone = await f(`/s/${expired}`);
        assert.equal(gone.status, 410);
        assert.match(gone.text, /lang="de"/, "the expired page speaks the link's language");
      }
      assert.equal((await form(local(inv.url), { score: "11" })).status, 400);
      // A second link of the same person (another nonce) inside the window: told, not stored.
      const again = await form(`/s/${linkToken(claims)}`, { score: "9", rev: "1" });
      assert.equal(again.status, 200);
      assert.match(again.text, /recently|récemment/);
      // Rate limited on a tight site.
      const tight = `/s/${linkToken({ ...claims, s: "tight", n: uid("n") })}`;
      let limited;
      for (let i = 0; i < 5 && !limited; i++) {
        const r = await form(tight, { score: "8", rev: String(i + 1) });
        if (r.status === 429) limited = r;
      }
      assert.ok(limited, "the tight site's bucket ran out");
      assert.ok(Number(limited.headers.get("retry-after")) >= 1);
      // The funnel: this batch's figures, and who has not answered.
      const funnel = await req("GET", "/v1/sites/demo/invitations?survey=links", { token: READ });
      assert.equal(funnel.status, 200, funnel.text);
      const b = funnel.json.batches.find((x) => x.batch === made.json.batch);
      assert.deepEqual([b.invited, b.opened, b.answered, b.commented], [1, 1, 1, 1]);
      problem(await req("GET", "/v1/sites/demo/invitations"), 401);
      problem(await req("GET", "/v1/sites/other/invitations", { token: AGENT }), 403);
      problem(await req("GET", "/v1/sites/nowhere/invitations", { token: READ }), 404);
      const unknown = await req("GET", "/v1/sites/demo/invitations?colour=red&batch=a%20b", { token: READ });
      problem(unknown, 422, "invalid");
      assert.deepEqual(unknown.json.errors.map((e) => e.field), ["colour", "batch"]);
      await t.sql("ALTER TABLE invitations RENAME TO invitations_off");
      try {
        problem(await req("GET", "/v1/sites/demo/invitations", { token: READ }), 503, "unavailable");
      } finally {
        await t.sql("ALTER TABLE invitations_off RENAME TO invitations");
      }
      // A failing store: the page says to retry; invitations are a 503 problem.
      await t.sql("ALTER TABLE responses RENAME TO responses_off");
      try {
        assert.equal((await form(`/s/${linkToken({ ...claims, n: uid("n") })}`, { score: "8" })).status, 503);
      } finally {
        await t.sql("ALTER TABLE responses_off RENAME TO responses");
      }
      await t.sql("ALTER TABLE cases RENAME TO cases_off");
      try {
        problem(await invite("demo", { survey: "links", recipients: [{ email: "c@example.com", user: uid("u") }] }), 503, "unavailable");
      } finally {
        await t.sql("ALTER TABLE cases_off RENAME TO cases");
      }
    });

    it("erasure of a person: by user id or e-mail, counts, idempotent, scoped to admins", async () => {
      const who = uid("u");
      const email = `${who}@example.com`;
      const mine = answer({ score: 3, user: { id: who, email } });
      const byEmail = answer({ score: 9, user: { email: email.toUpperCase() } });
      const someoneElse = answer({ score: 7, user: { id: uid("u") } });
      for (const r of [mine, byEmail, someoneElse]) assert.equal((await post("/v1/responses", r)).json.status, "accepted");
      await eventually(async () => (await req("GET", `/v1/sites/demo/responses/${byEmail.id}`, { token: READ })).status === 200, { what: "stored" });
      const path = `/v1/sites/demo/people/${encodeURIComponent(email)}`;
      const done = await req("DELETE", path, { token: ADMIN });
      assert.equal(done.status, 200, done.text);
      assert.equal(done.json.key, email);
      assert.equal(done.json.responses, 2);
      assert.deepEqual(done.json.response_ids, [mine.id, byEmail.id].sort());
      for (const r of [mine, byEmail]) problem(await req("GET", `/v1/sites/demo/responses/${r.id}`, { token: READ }), 404, "not-found");
      assert.equal((await req("GET", `/v1/sites/demo/responses/${someoneElse.id}`, { token: READ })).status, 200);
      const again = await req("DELETE", path, { token: ADMIN });
      assert.equal(again.status, 200);
      assert.equal(again.json.responses, 0);
      problem(await req("DELETE", path, {}), 401, "unauthorized");
      problem(await req("DELETE", path, { token: READ }), 403, "forbidden");
      problem(await req("DELETE", "/v1/sites/nowhere/people/u1", { token: ADMIN }), 404, "not-found");
      const bad = await req("DELETE", "/v1/sites/demo/people/not%20a%20key", { token: ADMIN });
      problem(bad, 422, "invalid");
      assert.equal(bad.json.errors[0].field, "key");
    });

    it("metrics: the same families on both runtimes", async () => {
      problem(await req("GET", "/metrics"), 401, "unauthorized");
      problem(await req("GET", "/metrics", { token: READ }), 403, "forbidden");
      const text = (await req("GET", "/metrics", { token: METRICS })).text;
      const families = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
      assert.deepEqual(families, METRIC_FAMILIES);
      assert.match(text, /^nps_responses_total\{status="accepted"\} [1-9]\d*$/m);
      assert.match(text, /^nps_rejected_total\{reason="origin_not_allowed"\} [1-9]\d*$/m);
      assert.match(text, /^nps_rejected_total\{reason="unauthorized"\} [1-9]\d*$/m);
    });

    it("a failing store: 503 with Retry-After, nothing half-done, and service resumes", async () => {
      await t.sql("ALTER TABLE responses RENAME TO responses_off");
      await t.sql("ALTER TABLE events RENAME TO events_off");
      try {
        for (const path of ["/v1/sites", "/v1/sites/demo/summary", "/v1/sites/demo/responses", "/v1/sites/demo/responses/x"]) {
          const res = await req("GET", path, { token: READ });
          problem(res, 503, "unavailable");
          assert.equal(res.headers.get("retry-after"), "1");
        }
        problem(await post("/v1/events", { id: uid("e"), site: "demo", survey: "s", visitor: "v", type: "dismissed" }), 503, "unavailable");
        problem(await req("DELETE", "/v1/sites/demo/people/u-1", { token: ADMIN }), 503, "unavailable");
        await t.sql("ALTER TABLE cases RENAME TO cases_off");
        try {
          problem(await req("GET", "/v1/sites/demo/cases", { token: READ }), 503, "unavailable");
          problem(await req("GET", "/v1/sites/demo/cases/x", { token: READ }), 503, "unavailable");
          problem(await req("PATCH", "/v1/sites/demo/cases/x", { token: ADMIN, body: { owner: "Bo" } }), 503, "unavailable");
          problem(await req("POST", "/v1/sites/demo/cases/x/notes", { token: ADMIN, body: { text: "hi" } }), 503, "unavailable");
          const event = JSON.stringify({ type: "ticket.solved", external_ref: "ZD-1" });
          problem(await req("POST", "/v1/sites/demo/helpdesk", { body: event, headers: signed(HELPDESK, event) }), 503, "unavailable");
        } finally {
          await t.sql("ALTER TABLE cases_off RENAME TO cases");
        }
        if (t.kind === "native") {
          // Natively the answer and its dedup mark live in that same store: refused, not half-kept.
          const r = answer();
          problem(await post("/v1/responses", r), 503, "unavailable");
          await t.sql("ALTER TABLE suppressions RENAME TO suppressions_off");
          try {
            problem(await req("GET", "/v1/sites/demo/eligibility?user=u1&survey=s", { origin: ORIGIN }), 503);
            for (const m of ["GET", "PUT", "DELETE"]) problem(await req(m, "/v1/sites/demo/suppressions/u1", { token: ADMIN }), 503);
            problem(await req("GET", "/v1/sites/demo/suppressions", { token: ADMIN }), 503);
          } finally {
            await t.sql("ALTER TABLE suppressions_off RENAME TO suppressions");
          }
          await t.sql("ALTER TABLE responses_off RENAME TO responses");
          assert.equal((await post("/v1/responses", r)).json.status, "accepted", "the retry is accepted");
          await t.sql("ALTER TABLE responses RENAME TO responses_off");
        }
      } finally {
        await t.sql("ALTER TABLE responses_off RENAME TO responses");
        await t.sql("ALTER TABLE events_off RENAME TO events");
      }
      assert.equal((await req("GET", "/v1/sites", { token: READ })).status, 200);
    });

    it("every documented status was answered (or is listed as not reachable, with why)", () => {
      const missing = [];
      for (const [path, ops] of Object.entries(DOC.paths)) {
        for (const [method, op] of Object.entries(ops)) {
          for (const status of Object.keys(op.responses)) {
            const key = `${method.toUpperCase()} ${path} ${status}`;
            if (!seen.has(key) && !NOT_REACHABLE[kind][key]) missing.push(key);
          }
        }
      }
      assert.deepEqual(missing, []);
    });
  });
}
