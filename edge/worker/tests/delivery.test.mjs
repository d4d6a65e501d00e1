// Queue → webhook delivery with signatures verified by the receiver; receiver down then up;
// dead letters after the retry limit; 410 Gone.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { metrics, post, response, startReceiver, startWorker, testConfig, until } from "./harness.mjs";

const cleanup = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

async function setup(maxRetries, over = {}) {
  const rc = await startReceiver();
  const w = await startWorker({ config: testConfig(rc.url, over), maxRetries });
  cleanup.push(rc.close, w.close);
  return { rc, w };
}

describe("webhook delivery", () => {
  it("delivers each accepted response, signed, with the native payload; duplicates are not forwarded", async () => {
    const { rc, w } = await setup(3);
    const r = response({ score: 9, user: { id: "u1", email: "a@b.c" } });
    assert.equal((await post(w.url, "/v1/responses", r)).json.status, "accepted");
    assert.equal((await post(w.url, "/v1/responses", r)).json.status, "duplicate");
    assert.equal((await post(w.url, "/v1/responses", { ...r, rev: 2, score: 3 })).json.status, "updated");
    assert.ok(await until(() => rc.received.length >= 2), "2 deliveries");
    await new Promise((res) => setTimeout(res, 1500)); // nothing more arrives
    assert.equal(rc.bad, 0, "every signature verified");
    assert.deepEqual(rc.received.map((m) => m.id).sort(), [`${r.id}.1`, `${r.id}.2`]);
    const d = rc.received.find((m) => m.id === `${r.id}.2`).body;
    assert.equal(d.type, "nps.response");
    assert.match(d.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
    assert.equal(d.data.id, r.id);
    assert.equal(d.data.rev, 2);
    assert.equal(d.data.segment, "detractor");
    assert.equal(d.data.user.email, "a@b.c");
  });

  it("routing: a sink limited to detractors gets only detractors", async () => {
    const rc = await startReceiver();
    const cfg = testConfig(rc.url);
    cfg.sinks[0].segments = ["detractor"];
    const w = await startWorker({ config: cfg });
    cleanup.push(rc.close, w.close);
    const det = response({ score: 2 }), pro = response({ score: 10 });
    await post(w.url, "/v1/responses", det);
    await post(w.url, "/v1/responses", pro);
    assert.ok(await until(() => rc.received.length >= 1));
    await new Promise((res) => setTimeout(res, 1500));
    assert.deepEqual(rc.received.map((m) => m.body.data.id), [det.id]);
  });

  it("receiver down, then up: every accepted response is delivered (0 lost)", async () => {
    const { rc, w } = await setup(10);
    rc.up = false;
    const sent = [];
    for (let i = 0; i < 15; i++) {
      const r = response({ score: i % 11 });
      const res = await post(w.url, "/v1/responses", r);
      assert.equal(res.status, 202);
      sent.push(`${r.id}.1`);
    }
    assert.ok(await until(() => rc.attempts >= 15, 15000), "attempts made while down");
    assert.equal(rc.received.length, 0);
    rc.up = true;
    assert.ok(await until(() => new Set(rc.received.map((m) => m.id)).size >= sent.length, 40000), `delivered ${rc.received.length}/${sent.length}`);
    assert.deepEqual([...new Set(rc.received.map((m) => m.id))].sort(), sent.sort());
    assert.equal(rc.bad, 0);
    const m = await await metrics(w.url);
    assert.match(m, /^nps_sink_retries_total\{sink="crm"\} [1-9]\d*$/m);
  });

  it("after the retry limit, deliveries become dead letters in D1 and in /metrics", async () => {
    const { rc, w } = await setup(1);
    rc.up = false;
    const r = response();
    assert.equal((await post(w.url, "/v1/responses", r)).status, 202);
    const row = async () => await w.db.prepare("SELECT * FROM dead_letters WHERE webhook_id = ?").bind(`${r.id}.1`).first();
    assert.ok(await until(async () => (await row()) != null, 40000), "dead letter stored");
    const dl = await row();
    assert.equal(dl.sink, "crm");
    assert.equal(dl.reason, "retries_exhausted");
    assert.equal(JSON.parse(dl.payload).data.id, r.id);
    assert.equal(rc.received.length, 0);
    const m = await await metrics(w.url);
    assert.match(m, /^nps_sink_dead_letters_total\{sink="crm"\} [1-9]\d*$/m);
  });

  it("410 Gone stops retrying and keeps a dead letter", async () => {
    const { rc, w } = await setup(5);
    rc.status = 410;
    const r = response();
    await post(w.url, "/v1/responses", r);
    assert.ok(await until(async () => (await w.db.prepare("SELECT reason FROM dead_letters WHERE webhook_id = ?").bind(`${r.id}.1`).first())?.reason === "gone_410"));
    await new Promise((res) => setTimeout(res, 1500));
    assert.equal(rc.attempts, 2, "one attempt per message, none retried: the answer and the case it opened");
  });
});
