// Privacy parts only the worker has: the cron trigger applies each site's retention to D1, and a
// delivery already in the Queue when its answer is erased is dropped at its next attempt (the
// erasure contract itself runs on both runtimes in tests/security/privacy.test.mjs).
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { ADMIN_TOKEN, call, post, response, startAlertReceiver, startReceiver, startWorker, testConfig, until } from "./harness.mjs";

const cleanup = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

const DAY = 86_400_000;

describe("privacy on the worker", () => {
  it("the scheduled handler deletes what is older than a site's retention, nothing younger, no other site; helpdesk event ids after a week", async () => {
    const rc = await startReceiver();
    const cfg = testConfig(rc.url);
    cfg.sites.push({ id: "brief", origins: ["https://shop.example"], retention_days: 30, rate_limit: { burst: 1000, per_minute: 60000 } });
    const w = await startWorker({ config: cfg });
    cleanup.push(rc.close, w.close);
    const rows = [["old-b", "brief"], ["new-b", "brief"], ["old-d", "demo"]].map(([tag, site]) => ({ tag, site, r: response({ site }) }));
    for (const { r } of rows) assert.equal((await post(w.url, "/v1/responses", r)).status, 202);
    for (const { tag, site } of rows) {
      const e = { id: `e-${tag}-${Date.now()}`, site, survey: "checkout", visitor: `v-${tag}`, type: "shown" };
      assert.equal((await post(w.url, "/v1/events", e)).status, 202);
      await w.db.prepare("UPDATE events SET id = ? WHERE id = ?").bind(`e-${tag}`, e.id).run();
    }
    assert.ok(await until(async () => (await w.db.prepare("SELECT count(*) AS n FROM responses").first()).n === 3), "stored");
    const then = Date.now() - 40 * DAY;
    for (const { tag, r } of rows.filter((x) => x.tag.startsWith("old"))) {
      await w.db.prepare("UPDATE responses SET received_ms = ? WHERE id = ?").bind(then, r.id).run();
      await w.db.prepare("UPDATE events SET received_ms = ? WHERE id = ?").bind(then, `e-${tag}`).run();
    }
    // Applied helpdesk events are remembered a week, whatever the site's retention.
    for (const [id, days] of [["msg-8d", 8], ["msg-6d", 6]]) {
      await w.db.prepare("INSERT INTO helpdesk_events (site, id, received_ms) VALUES ('demo', ?, ?)").bind(id, Date.now() - days * DAY).run();
    }
    const worker = await w.mf.getWorker();
    const result = await worker.scheduled({ cron: "17 * * * *" });
    assert.equal(result.outcome, "ok");
    assert.deepEqual((await w.db.prepare("SELECT id FROM helpdesk_events").all()).results.map((x) => x.id), ["msg-6d"]);
    const left = (await w.db.prepare("SELECT id FROM responses ORDER BY id").all()).results.map((x) => x.id).sort();
    const byTag = Object.fromEntries(rows.map((x) => [x.r.id, x.tag]));
    assert.deepEqual(left.map((id) => byTag[id]).sort(), ["new-b", "old-d"]);
    const events = (await w.db.prepare("SELECT id FROM events").all()).results.map((x) => x.id).sort();
    assert.deepEqual(events, ["e-new-b", "e-old-d"]);
  });

  it("a delivery waiting in the Queue for a retry is dropped once its answer is erased; the notice goes out", async () => {
    const rc = await startReceiver();
    const w = await startWorker({ config: testConfig(rc.url), maxRetries: 10 });
    cleanup.push(rc.close, w.close);
    rc.up = false;
    const r = response({ score: 1, user: { id: "u-forget-me" } });
    assert.equal((await post(w.url, "/v1/responses", r)).status, 202);
    assert.ok(await until(() => rc.attempts >= 1), "the first attempt met a receiver that is down");
    const res = await call(w.url, "/v1/sites/demo/people/u-forget-me", { method: "DELETE", token: ADMIN_TOKEN });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.responses, 1);
    rc.up = true;
    assert.ok(await until(() => rc.received.some((m) => m.body.type === "nps.person.erased")), "the notice arrives");
    await new Promise((ok) => setTimeout(ok, 3500)); // the answer's next attempt (1-2 s backoff) has come and gone
    assert.deepEqual(rc.received.map((m) => m.body.type), ["nps.person.erased"], "the erased answer never went out");
  });

  it("an overdue alert waiting in the Queue for a retry is dropped once its case's person is erased", async () => {
    const rc = await startReceiver();
    const chat = await startAlertReceiver();
    const cfg = testConfig(rc.url);
    // The answer's own alert waits out its grace (no comment): only the overdue alert is in play.
    cfg.sinks.push({ type: "alert", name: "chat", url: chat.url, format: "json", grace_ms: 600_000 });
    const w = await startWorker({ config: cfg, maxRetries: 10 });
    cleanup.push(rc.close, chat.close, w.close);
    const r = response({ score: 1, comment: undefined, user: { id: "u-overdue-forget" } });
    assert.equal((await post(w.url, "/v1/responses", r)).status, 202);
    assert.ok(await until(async () => (await w.db.prepare("SELECT 1 FROM cases WHERE id = ?").bind(r.id).first()) != null), "the case");
    await w.db.prepare("UPDATE cases SET due_ms = 1000 WHERE id = ?").bind(r.id).run();
    chat.status = 503; // the chat is down: the alert waits for its retry
    const answerAlerts = () => chat.received.filter((m) => m.json?.type === "nps.alert").length;
    const worker = await w.mf.getWorker();
    assert.equal((await worker.scheduled({ cron: "*/5 * * * *" })).outcome, "ok");
    const overdue = () => chat.received.filter((m) => m.json?.type === "nps.case.overdue");
    assert.ok(await until(() => overdue().length >= 1), "the first attempt met a chat that is down");
    const res = await call(w.url, "/v1/sites/demo/people/u-overdue-forget", { method: "DELETE", token: ADMIN_TOKEN });
    assert.equal(res.status, 200, res.text);
    chat.status = 200;
    await new Promise((ok) => setTimeout(ok, 4000)); // its next attempts (1-2 s backoff) come and go
    assert.equal(overdue().length, 1, "only the attempt before the erasure; none after");
    assert.equal(answerAlerts(), 0, "the answer's own alert was still in its grace period");
  });
});
