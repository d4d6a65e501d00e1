// The dedup mark and the durable record of the answer are one atomic step in the SiteState
// object, and D1 and the Queue are fed from that record: failing D1, the Queue, or both at the
// moment an answer arrives loses nothing and sends nothing twice. The client is answered 202
// (the answer is durable), its retry is a duplicate, and once the store and the queue are back
// the object's alarm delivers each row exactly once.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ADMIN_TOKEN, post, response, startReceiver, startWorker, testConfig, until } from "./harness.mjs";

let w, rc;
before(async () => {
  rc = await startReceiver();
  // Short backoff so the alarm retries within the test's patience.
  w = await startWorker({ config: testConfig(rc.url, { retry: { base_ms: 200, max_ms: 1000, max_attempts: 50 } }), faults: true });
});
after(async () => {
  await w?.close();
  await rc?.close();
});

const stored = async (id) => (await w.db.prepare("SELECT site, rev FROM responses WHERE id = ?").bind(id).all()).results;
const deliveries = (id) => rc.received.filter((m) => m.body.data.id === id);
const d1Down = () => w.db.prepare("ALTER TABLE responses RENAME TO responses_off").run();
const d1Up = () => w.db.prepare("ALTER TABLE responses_off RENAME TO responses").run();

async function settles(r, revs = [1]) {
  assert.ok(await until(async () => (await stored(r.id)).length === 1 && deliveries(r.id).length === revs.length, 20000),
    `row ${JSON.stringify(await stored(r.id))}, deliveries ${deliveries(r.id).length}`);
  await new Promise((res) => setTimeout(res, 1500)); // nothing more arrives
  assert.deepEqual(await stored(r.id), [{ site: "demo", rev: revs.at(-1) }]);
  assert.deepEqual(deliveries(r.id).map((m) => m.id).sort(), revs.map((v) => `${r.id}.${v}`));
}

describe("the answer survives a failing sink at each step", () => {
  it("D1 down: 202, the retry is a duplicate, the row arrives once D1 is back", async () => {
    const r = response();
    await d1Down();
    try {
      assert.equal((await post(w.url, "/v1/responses", r)).json.status, "accepted");
      assert.equal((await post(w.url, "/v1/responses", r)).json.status, "duplicate");
      await new Promise((res) => setTimeout(res, 700));
    } finally {
      await d1Up();
    }
    await settles(r);
  });

  it("the Queue down: 202, stored, the webhook is sent once the queue is back", async () => {
    const r = response();
    await w.setFault("queue", true);
    try {
      assert.equal((await post(w.url, "/v1/responses", r)).json.status, "accepted");
      assert.equal((await stored(r.id)).length, 1);
      assert.equal((await post(w.url, "/v1/responses", r)).json.status, "duplicate");
      await new Promise((res) => setTimeout(res, 1500));
      assert.equal(deliveries(r.id).length, 0);
    } finally {
      await w.setFault("queue", false);
    }
    await settles(r);
  });

  it("the cases table down: the case is written and announced (once) when it is back", async () => {
    const r = response(); // a detractor: it opens a case
    const opened = () => rc.cases.filter((m) => m.body.type === "nps.case.opened" && m.body.data.id === r.id);
    const caseRow = async () => (await w.db.prepare("SELECT status FROM cases WHERE site = 'demo' AND id = ?").bind(r.id).all()).results;
    await w.db.prepare("ALTER TABLE cases RENAME TO cases_off").run();
    try {
      assert.equal((await post(w.url, "/v1/responses", r)).json.status, "accepted");
      await new Promise((res) => setTimeout(res, 700));
      assert.equal(opened().length, 0);
    } finally {
      await w.db.prepare("ALTER TABLE cases_off RENAME TO cases").run();
    }
    assert.ok(await until(async () => opened().length === 1 && (await caseRow()).length === 1, 20000),
      `case ${JSON.stringify(await caseRow())}, announcements ${opened().length}`);
    await settles(r);
    assert.equal(rc.cases.filter((m) => m.body.data.id === r.id).length, 1, "announced once");
    assert.deepEqual(await caseRow(), [{ status: "open" }]);
  });

  it("the Queue down: the case's announcement waits in the object and is sent once", async () => {
    const r = response();
    await w.setFault("queue", true);
    try {
      assert.equal((await post(w.url, "/v1/responses", r)).json.status, "accepted");
      await new Promise((res) => setTimeout(res, 1500));
      assert.equal(rc.cases.filter((m) => m.body.data.id === r.id).length, 0);
    } finally {
      await w.setFault("queue", false);
    }
    await settles(r);
    assert.equal(rc.cases.filter((m) => m.body.type === "nps.case.opened" && m.body.data.id === r.id).length, 1);
  });

  it("both down across two revs: each rev stored in order and delivered once", async () => {
    const r = response();
    await d1Down();
    await w.setFault("queue", true);
    try {
      assert.equal((await post(w.url, "/v1/responses", r)).json.status, "accepted");
      assert.equal((await post(w.url, "/v1/responses", { ...r, rev: 2, comment: "Le colis est arrivé abîmé" })).json.status, "updated");
      assert.equal((await post(w.url, "/v1/responses", r)).json.status, "duplicate");
    } finally {
      await d1Up();
      await w.setFault("queue", false);
    }
    await settles(r, [1, 2]);
  });
});

describe("a team's change to a case owes its webhook", () => {
  it("a change whose webhook was never handed on (a crash right after it) is sent by the cron trigger, once", async () => {
    const r = response(); // a detractor: it opens a case
    const ofCase = (type) => rc.cases.filter((m) => m.body.type === type && m.body.data.id === r.id);
    const owed = async () => (await w.db.prepare("SELECT notice, notice_ms FROM cases WHERE site = 'demo' AND id = ?").bind(r.id).all()).results;
    assert.equal((await post(w.url, "/v1/responses", r)).json.status, "accepted");
    assert.ok(await until(async () => ofCase("nps.case.opened").length === 1 && (await owed()).length === 1));
    assert.deepEqual(await owed(), [{ notice: null, notice_ms: null }]);

    // What a crash between the change's statement and the hand-off leaves, two minutes ago: the
    // change made, its message owed.
    const then = Date.now() - 120000;
    await w.db.prepare("UPDATE cases SET status = 'resolved', resolved_ms = ?2, updated_ms = ?2, notice = 'nps.case.resolved', notice_ms = ?2 WHERE site = 'demo' AND id = ?1")
      .bind(r.id, then).run();
    const worker = await w.mf.getWorker();
    assert.equal((await worker.scheduled({ cron: "*/5 * * * *" })).outcome, "ok");
    assert.ok(await until(async () => ofCase("nps.case.resolved").length === 1), "the owed message is sent");
    const sent = ofCase("nps.case.resolved")[0];
    assert.equal(sent.body.data.status, "resolved");
    assert.equal(sent.id, `case.demo.${r.id}.resolved.${then}`);
    assert.deepEqual(await owed(), [{ notice: null, notice_ms: null }], "and recorded as given");
    assert.equal((await worker.scheduled({ cron: "*/5 * * * *" })).outcome, "ok");

    // A change through the API owes nothing once its request has handed the message on.
    const res = await fetch(`${w.url}/v1/sites/demo/cases/${r.id}`, {
      method: "PATCH", headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" }, body: JSON.stringify({ owner: "ann@example.com" }),
    });
    assert.equal(res.status, 200, await res.text());
    assert.ok(await until(async () => ofCase("nps.case.updated").length === 1));
    assert.deepEqual(await owed(), [{ notice: null, notice_ms: null }]);
    await new Promise((res) => setTimeout(res, 1500));
    assert.equal(ofCase("nps.case.resolved").length, 1, "sent once");
    assert.equal(ofCase("nps.case.updated").length, 1, "sent once");
  });
});
