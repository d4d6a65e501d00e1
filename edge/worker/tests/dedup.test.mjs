// Dedup through the Durable Object: by id (+ rev), by respondent, under concurrency; D1 rows.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { post, response, startReceiver, startWorker, testConfig, uid } from "./harness.mjs";

let w, rc;
before(async () => {
  rc = await startReceiver();
  w = await startWorker({ config: testConfig(rc.url) });
});
after(async () => {
  await w?.close();
  await rc?.close();
});

const rows = async (id) => (await w.db.prepare("SELECT * FROM responses WHERE id = ?").bind(id).all()).results;

describe("dedup by id", () => {
  it("a replay is 202 duplicate and stored once", async () => {
    const r = response();
    assert.equal((await post(w.url, "/v1/responses", r)).json.status, "accepted");
    assert.equal((await post(w.url, "/v1/responses", r)).json.status, "duplicate");
    assert.equal((await rows(r.id)).length, 1);
  });

  it("20 concurrent posts of one id: exactly one accepted", async () => {
    const r = response();
    const res = await Promise.all(Array.from({ length: 20 }, () => post(w.url, "/v1/responses", r)));
    const statuses = res.map((x) => x.json.status);
    assert.ok(res.every((x) => x.status === 202));
    assert.equal(statuses.filter((s) => s === "accepted").length, 1, statuses.join());
    assert.equal(statuses.filter((s) => s === "duplicate").length, 19);
    assert.equal((await rows(r.id)).length, 1);
  });
});

describe("rev ordering", () => {
  it("a higher rev updates; an equal or lower rev is a duplicate", async () => {
    const r = response({ score: 3 });
    assert.equal((await post(w.url, "/v1/responses", r)).json.status, "accepted");
    assert.equal((await post(w.url, "/v1/responses", { ...r, rev: 2, score: 9 })).json.status, "updated");
    assert.equal((await post(w.url, "/v1/responses", { ...r, rev: 2, score: 1 })).json.status, "duplicate");
    const [row] = await rows(r.id);
    assert.equal(row.rev, 2);
    assert.equal(row.score, 9);
    assert.equal(row.segment, "promoter");
  });

  it("rev 2 arriving before rev 1: rev 1 is a duplicate and D1 keeps rev 2", async () => {
    const r = response({ score: 2 });
    const r2 = { ...r, rev: 2, score: 8, comment: "changed my mind" };
    assert.equal((await post(w.url, "/v1/responses", r2)).json.status, "accepted");
    const late = await post(w.url, "/v1/responses", r);
    assert.equal(late.status, 202);
    assert.equal(late.json.status, "duplicate");
    const [row] = await rows(r.id);
    assert.equal(row.rev, 2);
    assert.equal(row.score, 8);
    assert.equal(row.comment, "changed my mind");
  });
});

describe("dedup by respondent", () => {
  it("a second response id of the same visitor and survey is a duplicate, not stored", async () => {
    const visitor = uid("v");
    const a = response({ visitor });
    const b = response({ visitor, score: 10 });
    assert.equal((await post(w.url, "/v1/responses", a)).json.status, "accepted");
    assert.equal((await post(w.url, "/v1/responses", b)).json.status, "duplicate");
    assert.equal((await rows(b.id)).length, 0);
    // Another survey of the same visitor is a new answer.
    assert.equal((await post(w.url, "/v1/responses", response({ visitor, survey: "onboarding" }))).json.status, "accepted");
  });

  it("the user id, when given, is the respondent (across visitors)", async () => {
    const user = { id: uid("u") };
    assert.equal((await post(w.url, "/v1/responses", response({ user }))).json.status, "accepted");
    assert.equal((await post(w.url, "/v1/responses", response({ user }))).json.status, "duplicate");
  });

  it("concurrent different ids of one respondent: exactly one accepted", async () => {
    const visitor = uid("v");
    const res = await Promise.all(Array.from({ length: 12 }, () => post(w.url, "/v1/responses", response({ visitor }))));
    const statuses = res.map((x) => x.json.status);
    assert.equal(statuses.filter((s) => s === "accepted").length, 1, statuses.join());
    const n = (await w.db.prepare("SELECT COUNT(*) AS n FROM responses WHERE visitor = ?").bind(visitor).first()).n;
    assert.equal(n, 1);
  });

  it("respondent_window_days = 0 disables the respondent rule", async () => {
    const visitor = uid("v");
    assert.equal((await post(w.url, "/v1/responses", response({ site: "short", visitor }))).json.status, "accepted");
    assert.equal((await post(w.url, "/v1/responses", response({ site: "short", visitor }))).json.status, "accepted");
  });
});

describe("D1 rows", () => {
  it("stores every field of an accepted response, keyed by (site, id) as natively", async () => {
    const r = response({
      score: 0, contact_ok: true, user: { id: uid("u"), account: "acme", order: "o_1", email: "a@b.c" },
      properties: { plan: "pro", n: "5" }, sent_at: "2026-11-23T10:00:00Z",
    });
    assert.equal((await post(w.url, "/v1/responses", r)).status, 202);
    const [row] = await rows(r.id);
    assert.equal(row.site, "demo");
    assert.equal(row.survey, "checkout");
    assert.equal(row.segment, "detractor");
    assert.equal(row.contact_ok, 1);
    assert.equal(row.account, "acme");
    assert.equal(row.respondent, r.user.id);
    assert.deepEqual(JSON.parse(row.body), r);
    assert.ok(Math.abs(row.received_ms - Date.now()) < 60_000);
  });

  it("the same id on another site is another answer, not an overwrite", async () => {
    const r = response();
    assert.equal((await post(w.url, "/v1/responses", r)).json.status, "accepted");
    assert.equal((await post(w.url, "/v1/responses", { ...r, site: "short", score: 10 })).json.status, "accepted");
    const all = await rows(r.id);
    assert.deepEqual(all.map((x) => [x.site, x.score]).sort(), [["demo", 4], ["short", 10]]);
  });
});

describe("Durable Object maintenance", () => {
  it("the maintenance run (what the alarm does) keeps live records and leaves nothing pending", async () => {
    const r = response();
    assert.equal((await post(w.url, "/v1/responses", r)).json.status, "accepted");
    const ns = await w.mf.getDurableObjectNamespace("SITE_STATE");
    const stub = ns.get(ns.idFromName("demo"));
    assert.deepEqual(JSON.parse(await stub.call(JSON.stringify({ op: "maintain" }))), { outbox: 0 });
    assert.equal((await post(w.url, "/v1/responses", r)).json.status, "duplicate");
  });
});
