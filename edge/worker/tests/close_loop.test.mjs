// Close the loop on the worker, over HTTP against the compiled worker in Miniflare:
// token auth (401/403), the responses API (JSON pages + CSV), suppressions + eligibility +
// refused `shown` events, detractor alerts (content, latency, once per id, grace, routing),
// the summary against a hand-checked dataset, and the report page.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  ADMIN_TOKEN, ORIGIN, READ_TOKEN, call, metrics, post, response, startAlertReceiver, startReceiver, startWorker, testConfig, uid, until,
} from "./harness.mjs";

const fast = { burst: 10000, per_minute: 600000 };
let w, rc, alerts;

before(async () => {
  rc = await startReceiver();
  alerts = await startAlertReceiver();
  const cfg = testConfig(rc.url);
  cfg.sites.push({ id: "list", origins: [ORIGIN], rate_limit: fast }, { id: "rep", origins: [ORIGIN], rate_limit: fast });
  cfg.sinks.push({
    type: "alert", name: "cx", url: alerts.url, format: "slack", grace_ms: 1500, sites: ["demo"],
    report_url: "https://nps.example/report", timeout_ms: 3000,
  });
  w = await startWorker({ config: cfg });
});
after(async () => {
  await w?.close();
  await rc?.close();
  await alerts?.close();
});

const read = (path, over = {}) => call(w.url, path, { token: READ_TOKEN, ...over });
const admin = (method, path, body) => call(w.url, path, { method, token: ADMIN_TOKEN, body });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function assertProblem(res, status, type) {
  assert.equal(res.status, status, res.text);
  assert.match(res.headers.get("content-type"), /^application\/problem\+json/);
  assert.equal(res.json.status, status);
  if (type) assert.equal(res.json.type, `https://nps.dev/problems/${type}`);
}

describe("tokens", () => {
  it("401 without or with a malformed token, 403 with a wrong one; scopes hold", async () => {
    const path = "/v1/sites/demo/responses";
    const none = await call(w.url, path);
    assertProblem(none, 401, "unauthorized");
    assert.equal(none.headers.get("www-authenticate"), "Bearer");
    assert.equal(none.json.errors[0].field, "authorization");
    assertProblem(await call(w.url, path, { headers: { authorization: "Basic abc" } }), 401);
    assertProblem(await call(w.url, path, { token: READ_TOKEN + "x" }), 403, "forbidden");
    assert.equal((await read(path)).status, 200);
    assert.equal((await call(w.url, path, { token: ADMIN_TOKEN })).status, 200, "admin may read");
    assertProblem(await call(w.url, "/v1/sites/demo/suppressions/u-1", { method: "PUT", token: READ_TOKEN }), 403);
    assertProblem(await call(w.url, "/v1/sites/demo/summary"), 401);
    assertProblem(await read("/v1/sites/nope/responses"), 404);
    assert.equal((await read(path)).headers.get("cache-control"), "no-store");
  });
});

describe("GET /v1/sites/{site}/responses", () => {
  it("newest first, latest rev, the native item shape, keyset pages that never skip or repeat, filters", async () => {
    const sent = [];
    for (const score of [10, 3, 8, 0, 9]) {
      const r = response({ site: "list", score, user: { id: uid("u"), account: "acme", order: "o-1" }, properties: { plan: "pro" } });
      assert.equal((await post(w.url, "/v1/responses", r)).status, 202);
      sent.push(r);
    }
    const upd = { ...sent[0], rev: 2, score: 2, comment: "changed my mind", contact_ok: true };
    assert.equal((await post(w.url, "/v1/responses", upd)).json.status, "updated");

    const all = (await read("/v1/sites/list/responses")).json;
    assert.equal(all.next_cursor, null);
    assert.deepEqual(all.items.map((i) => i.id), sent.map((r) => r.id).reverse(), "newest first");
    const item = all.items.find((i) => i.id === sent[0].id);
    assert.deepEqual(Object.keys(item).sort(), [
      "comment", "contact_ok", "id", "locale", "page", "properties", "received_at", "rev", "score", "segment", "site", "survey", "user", "visitor",
    ]);
    assert.equal(item.rev, 2);
    assert.equal(item.score, 2);
    assert.equal(item.segment, "detractor");
    assert.equal(item.contact_ok, true);
    assert.deepEqual(item.user, sent[0].user);
    assert.deepEqual(item.properties, { plan: "pro" });
    assert.match(item.received_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const row = await w.db.prepare("SELECT received_ms FROM responses WHERE id = ?").bind(sent[0].id).first();
    assert.equal(item.received_at, new Date(row.received_ms).toISOString(), "the first rev's receive time");

    const seen = [];
    let cursor = null, pages = 0;
    do {
      const page = (await read(`/v1/sites/list/responses?limit=2${cursor ? `&cursor=${cursor}` : ""}`)).json;
      assert.ok(page.items.length <= 2);
      seen.push(...page.items.map((i) => i.id));
      cursor = page.next_cursor;
      pages += 1;
    } while (cursor && pages < 10);
    assert.equal(pages, 3);
    assert.deepEqual(seen, all.items.map((i) => i.id), "pages never skip or repeat");

    const det = (await read("/v1/sites/list/responses?segment=detractor")).json.items;
    assert.deepEqual(det.map((i) => i.score).sort(), [0, 2, 3]);
    assert.equal((await read("/v1/sites/list/responses?survey=nothing")).json.items.length, 0);
    assertProblem(await read("/v1/sites/list/responses?limit=0&segment=fans"), 422);
    assert.deepEqual((await read("/v1/sites/list/responses?limit=0&segment=fans")).json.errors.map((e) => e.field), ["segment", "limit"]);
    const one = await read(`/v1/sites/list/responses/${sent[1].id}`);
    assert.equal(one.json.id, sent[1].id);
    assertProblem(await read("/v1/sites/list/responses/nope"), 404);
  });

  it("CSV export: RFC 4180 quoting and neutralised formulas", async () => {
    const nasty = '=HYPERLINK("http://x","a"), "quoted"\nnext';
    const r = response({ site: "list", score: 1, comment: nasty, user: { id: "-2" } });
    assert.equal((await post(w.url, "/v1/responses", r)).status, 202);
    const csv = await read("/v1/sites/list/responses?format=csv&segment=detractor");
    assert.equal(csv.status, 200);
    assert.equal(csv.headers.get("content-type"), "text/csv; charset=utf-8; header=present");
    assert.match(csv.headers.get("content-disposition"), /^attachment; filename="nps-list-\d{4}-\d\d-\d\d\.csv"$/);
    const lines = csv.text.split("\r\n");
    assert.equal(lines[0], "received_at,id,rev,site,survey,score,segment,comment,contact_ok,review_clicked,user_id,account,order,email,locale,page,visitor,properties");
    assert.ok(csv.text.includes(`,"'=HYPERLINK(""http://x"",""a""), ""quoted""\nnext",`), csv.text);
    assert.ok(csv.text.includes(",'-2,"), "user id neutralised");
    assert.ok(csv.text.endsWith("\r\n"));
    const viaAccept = await read("/v1/sites/list/responses?segment=detractor", { headers: { accept: "text/csv" } });
    assert.equal(viaAccept.text, csv.text);
  });
});

describe("suppressions", () => {
  it("PUT / GET / DELETE with the admin token, bodies checked like the native server", async () => {
    const id = uid("u");
    const put = await admin("PUT", `/v1/sites/demo/suppressions/${id}`, { ttl_seconds: 3600, reason: "ticket #4521" });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.json.subject, id);
    assert.equal(put.json.active, true);
    assert.equal(put.json.reason, "ticket #4521");
    assert.match(put.json.expires_at, /^\d{4}-/);
    assert.equal((await admin("GET", `/v1/sites/demo/suppressions/${id}`)).json.reason, "ticket #4521");
    assert.ok((await admin("GET", "/v1/sites/demo/suppressions")).json.items.some((s) => s.subject === id));
    assertProblem(await admin("PUT", `/v1/sites/demo/suppressions/${id}`, { ttl_seconds: 0 }), 422);
    assertProblem(await admin("PUT", `/v1/sites/demo/suppressions/${id}`, "{"), 400);
    assertProblem(await admin("PUT", "/v1/sites/demo/suppressions/bad%20id"), 422);
    assertProblem(await admin("PUT", `/v1/sites/nope/suppressions/${id}`), 404);
    const del = await admin("DELETE", `/v1/sites/demo/suppressions/${id}`);
    assert.equal(del.status, 204);
    assertProblem(await admin("DELETE", `/v1/sites/demo/suppressions/${id}`), 404);
    assert.equal((await admin("PUT", `/v1/sites/demo/suppressions/${id}`)).json.expires_at, undefined, "empty body: no expiry");
  });

  it("eligibility + shown: suppressed user or account → not shown and `shown` refused; deleted or expired → shown", async () => {
    const user = uid("u"), account = uid("acct"), other = uid("u");
    const elig = (q, origin = ORIGIN) => call(w.url, `/v1/sites/demo/eligibility?survey=checkout&${q}`, { origin });
    const shown = (u) => post(w.url, "/v1/events", { id: uid("e"), site: "demo", survey: "checkout", visitor: uid("v"), type: "shown", user: u });

    const free = await elig(`user=${user}`);
    assert.equal(free.status, 200);
    assert.deepEqual(free.json, { show: true });
    assert.equal(free.headers.get("cache-control"), "private, max-age=60");
    assert.equal(free.headers.get("access-control-allow-origin"), ORIGIN);
    assert.match(free.headers.get("vary"), /Origin/);

    await admin("PUT", `/v1/sites/demo/suppressions/${user}`, { reason: "open case" });
    await admin("PUT", `/v1/sites/demo/suppressions/${account}`);
    assert.deepEqual((await elig(`user=${user}`)).json, { show: false });
    assert.deepEqual((await elig(`user=${other}&account=${account}`)).json, { show: false }, "account-wide");
    assert.deepEqual((await elig(`user=${other}&account=acme`)).json, { show: true });
    const refused = await shown({ id: user });
    assertProblem(refused, 403, "suppressed");
    assert.equal(refused.headers.get("access-control-allow-origin"), ORIGIN, "the page can read the refusal");
    assertProblem(await shown({ id: other, account }), 403, "suppressed");
    assert.equal((await post(w.url, "/v1/events", { id: uid("e"), site: "demo", survey: "checkout", visitor: uid("v"), type: "dismissed", user: { id: user } })).status, 202);
    assert.equal((await shown({ id: other })).status, 202);

    assertProblem(await elig(`user=${user}`, "https://evil.example"), 403);
    assertProblem(await call(w.url, `/v1/sites/nope/eligibility?user=${user}`), 403);
    assertProblem(await elig("user=%3Cscript%3E"), 422);

    assert.equal((await admin("DELETE", `/v1/sites/demo/suppressions/${user}`)).status, 204);
    assert.deepEqual((await elig(`user=${user}`)).json, { show: true });
    assert.equal((await shown({ id: user })).status, 202);

    const brief = uid("u");
    await admin("PUT", `/v1/sites/demo/suppressions/${brief}`, { ttl_seconds: 1 });
    assert.deepEqual((await elig(`user=${brief}`)).json, { show: false });
    await sleep(1100);
    assert.deepEqual((await elig(`user=${brief}`)).json, { show: true }, "expired");
  });

  it("eligibility: a user who already answered the survey within the respondent window is not asked again", async () => {
    const user = uid("u");
    await post(w.url, "/v1/responses", response({ score: 9, user: { id: user } }));
    const elig = (site, survey) => call(w.url, `/v1/sites/${site}/eligibility?survey=${survey}&user=${user}`, { origin: ORIGIN });
    assert.deepEqual((await elig("demo", "checkout")).json, { show: false });
    assert.deepEqual((await elig("demo", "onboarding")).json, { show: true });
    await post(w.url, "/v1/responses", response({ site: "short", score: 9, user: { id: user } }));
    assert.deepEqual((await elig("short", "checkout")).json, { show: true }, "window 0 disables it");
  });
});

describe("with worker.shard = site_survey", () => {
  it("eligibility asks the site's object (suppressions) and the survey's object (already answered)", async () => {
    const cfg = testConfig(rc.url);
    cfg.worker.shard = "site_survey";
    const w2 = await startWorker({ config: cfg });
    try {
      const [answered, suppressed, free] = [uid("u"), uid("u"), uid("u")];
      await post(w2.url, "/v1/responses", response({ score: 9, user: { id: answered } }));
      await call(w2.url, `/v1/sites/demo/suppressions/${suppressed}`, { method: "PUT", token: ADMIN_TOKEN });
      const elig = async (u) => (await call(w2.url, `/v1/sites/demo/eligibility?survey=checkout&user=${u}`, { origin: ORIGIN })).json;
      assert.deepEqual(await elig(answered), { show: false });
      assert.deepEqual(await elig(suppressed), { show: false });
      assert.deepEqual(await elig(free), { show: true });
      assertProblem(await post(w2.url, "/v1/events", { id: uid("e"), site: "demo", survey: "checkout", visitor: uid("v"), type: "shown", user: { id: suppressed } }), 403, "suppressed");
    } finally {
      await w2.close();
    }
  });
});

describe("detractor alerts", () => {
  const mine = (id) => alerts.received.filter((a) => a.text.includes(id));

  it("a detractor's comment reaches the chat receiver in < 5 s, once, Slack blocks, escaped", async () => {
    const r = response({ score: 2, comment: "Livraison <!channel> & retard", user: { id: uid("u"), email: "ann@example.com", order: "o-77" }, contact_ok: true });
    const t0 = Date.now();
    assert.equal((await post(w.url, "/v1/responses", r)).status, 202);
    assert.ok(await until(() => mine(r.id).length > 0, 5000, 20), "alert within 5 s");
    const ms = mine(r.id)[0].at - t0;
    console.log(`# worker alert latency: ${ms} ms (POST with comment → receiver)`);
    const m = mine(r.id)[0].json;
    assert.equal(mine(r.id)[0].contentType, "application/json");
    assert.match(m.text, /^NPS detractor 2\/10 on checkout/);
    assert.equal(m.blocks[0].type, "header");
    const all = JSON.stringify(m);
    assert.ok(all.includes("Livraison &lt;!channel&gt; &amp; retard"), all);
    assert.ok(!all.includes("<!channel>"), "no mention can be formed");
    assert.ok(all.includes(`https://nps.example/report#site=demo&response=${r.id}`));
    assert.ok(all.includes("yes: follow up"));
    assert.ok(all.includes(r.user.id) && !all.includes("ann@example.com"), "no e-mail in the chat unless the sink asks");
    // A later comment does not alert again.
    await post(w.url, "/v1/responses", { ...r, rev: 2, comment: "encore" });
    await sleep(2500);
    assert.equal(mine(r.id).length, 1, "one alert per response id");
  });

  it("score first, comment a moment later → one alert carrying the comment, sent when the comment arrives", async () => {
    const r = response({ score: 1, comment: undefined });
    delete r.comment;
    await post(w.url, "/v1/responses", r);
    await sleep(300);
    const t1 = Date.now();
    await post(w.url, "/v1/responses", { ...r, rev: 2, comment: "trop lent" });
    assert.ok(await until(() => mine(r.id).length > 0, 5000, 20));
    assert.ok(mine(r.id)[0].at - t1 < 1400, "not held until the grace period ends");
    assert.ok(mine(r.id)[0].text.includes("trop lent"));
    await sleep(2500); // the grace-period job fires and finds it sent
    assert.equal(mine(r.id).length, 1);
  });

  it("no comment → the alert goes out after grace_ms; promoters, passives and changed minds never alert", async () => {
    const silent = response({ score: 4 });
    delete silent.comment;
    const promoter = response({ score: 10, comment: "super" });
    const passive = response({ score: 7, comment: "bof" });
    const changed = response({ score: 2 });
    delete changed.comment;
    const t0 = Date.now();
    for (const r of [silent, promoter, passive, changed]) await post(w.url, "/v1/responses", r);
    await post(w.url, "/v1/responses", { ...changed, rev: 2, score: 9 });
    assert.ok(await until(() => mine(silent.id).length > 0, 8000, 50), "grace alert");
    const waited = mine(silent.id)[0].at - t0;
    assert.ok(waited >= 1400, `sent after the grace period (${waited} ms)`);
    console.log(`# worker grace alert: ${waited} ms after a score without comment (grace_ms 1500)`);
    assert.ok(mine(silent.id)[0].text.includes("No comment"));
    await sleep(1500);
    for (const r of [promoter, passive, changed]) assert.equal(mine(r.id).length, 0, `no alert for score ${r.score}`);
    const text = await metrics(w.url);
    assert.match(text, /^nps_alerts_sent_total\{sink="cx"\} [1-9]\d*$/m);
  });
});

describe("summary and report page", () => {
  it("summary figures match a hand-checked dataset", async () => {
    // checkout: 10,9,9,10 (P) 7,8,8 (Pa) 0,6,3 (D) + one 10 changed to 0 → P4 Pa3 D4: NPS 0.
    for (const score of [10, 9, 9, 10, 7, 8, 8, 0, 6, 3]) await post(w.url, "/v1/responses", response({ site: "rep", score }));
    const r = response({ site: "rep", score: 10 });
    await post(w.url, "/v1/responses", r);
    await post(w.url, "/v1/responses", { ...r, rev: 2, score: 0 });
    // onboarding: two promoters.
    for (const score of [9, 10]) await post(w.url, "/v1/responses", response({ site: "rep", survey: "onboarding", score }));
    for (let i = 0; i < 22; i++) await post(w.url, "/v1/events", { id: uid("e"), site: "rep", survey: "checkout", visitor: uid("v"), type: "shown" });
    for (let i = 0; i < 4; i++) await post(w.url, "/v1/events", { id: uid("e"), site: "rep", survey: "checkout", visitor: uid("v"), type: "dismissed" });

    const s = (await read("/v1/sites/rep/summary?survey=checkout")).json;
    assert.equal(s.site, "rep");
    assert.equal(s.survey, "checkout");
    assert.equal(s.interval, "day");
    assert.equal(s.responses, 11);
    assert.equal(s.nps, 0);
    assert.deepEqual(s.by_segment, { detractor: 4, passive: 3, promoter: 4 });
    assert.deepEqual(s.by_score, [2, 0, 0, 1, 0, 0, 1, 1, 2, 2, 2]);
    assert.equal(s.shown, 22);
    assert.equal(s.dismissed, 4);
    assert.equal(s.response_rate, 0.5);
    assert.equal(s.series.length, 30);
    const today = s.series.at(-1);
    assert.equal(today.start, new Date().toISOString().slice(0, 10));
    assert.equal(today.responses, 11);
    assert.equal(s.series[0].nps, null, "empty day");

    const all = (await read("/v1/sites/rep/summary")).json;
    assert.equal(all.survey, null);
    assert.equal(all.responses, 13);
    assert.equal(all.nps, (100 * (6 - 4)) / 13);
    const week = (await read("/v1/sites/rep/summary?interval=week")).json;
    assert.equal(week.series.length, 13);
    assert.equal(week.responses, 13);
    assertProblem(await read("/v1/sites/rep/summary?interval=month&from=2026-13-01"), 422);

    const sites = (await read("/v1/sites")).json.sites;
    assert.deepEqual(sites.find((x) => x.id === "rep").surveys, ["checkout", "onboarding"]);
  });

  it("redirects the former report page to the console's report view, with the page headers", async () => {
    for (const path of ["/report", "/report/"]) {
      const page = await fetch(w.url + path, { redirect: "manual" });
      assert.equal(page.status, 302, path);
      assert.equal(page.headers.get("location"), "/console?view=report");
      assert.match(page.headers.get("content-security-policy"), /default-src 'none'/);
      assert.equal(page.headers.get("x-content-type-options"), "nosniff");
    }
    assert.equal((await call(w.url, "/report/report.js")).status, 404);
    assert.equal((await call(w.url, "/report", { method: "POST", body: "x" })).status, 405);
  });
});
