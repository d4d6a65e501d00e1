// A trap in the wasm instance (a Rust panic aborts in this build) must not leave the isolate
// broken: the request that trapped is answered 503 (clients retry it), the next request runs on a
// new instance, the Durable Object's Rust half is made again on it, and no answer is lost or
// doubled. The trap is injected by the test's entry module (harness.mjs, TRAP_PATCH).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { call, post, response, startReceiver, startWorker, testConfig, until } from "./harness.mjs";

let w, rc;
before(async () => {
  rc = await startReceiver();
  w = await startWorker({ config: testConfig(rc.url), traps: true });
});
after(async () => {
  await w?.close();
  await rc?.close();
});

const instance = async () => Number((await call(w.url, "/__test/instance")).text);
const stored = async (id) => (await w.db.prepare("SELECT rev FROM responses WHERE site = 'demo' AND id = ?").bind(id).all()).results;

describe("a trapped wasm instance is replaced", () => {
  it("the trapped request is a 503 problem, the next one is answered by a new instance", async () => {
    const first = response();
    assert.equal((await post(w.url, "/v1/responses", first)).status, 202);
    const before = await instance();
    assert.ok(before >= 1, `instance id ${before}`);

    const r = response();
    assert.equal((await call(w.url, "/__test/trap", { method: "POST" })).text, "armed");
    const trapped = await post(w.url, "/v1/responses", r);
    assert.equal(trapped.status, 503, trapped.text);
    assert.equal(trapped.json?.type, "https://nps.dev/problems/unavailable");
    assert.equal(trapped.headers.get("retry-after"), "1");

    // The client's retry: a new instance, the same state object (its records are in SQLite).
    const retry = await post(w.url, "/v1/responses", r);
    assert.equal(retry.status, 202, retry.text);
    assert.equal(retry.json.status, "accepted");
    assert.ok((await instance()) > before, "a new instance answered");
    assert.equal((await post(w.url, "/v1/responses", first)).json.status, "duplicate", "the dedup records survived");
    assert.equal((await post(w.url, "/v1/responses", { ...r, rev: 2, score: 9 })).json.status, "updated");

    assert.ok(await until(async () => (await stored(r.id)).length === 1 && (await stored(r.id))[0].rev === 2
      && rc.received.filter((m) => m.body.data?.id === r.id).length === 2, 20000), "stored and delivered");
    await new Promise((res) => setTimeout(res, 1000));
    assert.deepEqual(rc.received.filter((m) => m.body.data?.id === r.id).map((m) => m.id).sort(), [`${r.id}.1`, `${r.id}.2`]);
    assert.equal((await call(w.url, "/healthz")).status, 200);
  });

  it("a trap in every one of a run of requests: each is replaced, the next one still works", async () => {
    for (let i = 0; i < 3; i++) {
      await call(w.url, "/__test/trap", { method: "POST" });
      assert.equal((await post(w.url, "/v1/responses", response())).status, 503);
    }
    const r = response();
    assert.equal((await post(w.url, "/v1/responses", r)).json.status, "accepted");
  });
});
