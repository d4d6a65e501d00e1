// Cases under concurrency, on both runtimes with the same assertions: agents racing on one case
// get one outcome and lose no note; an erasure takes the person's cases and notes too.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eventually } from "../e2e/harness.mjs";
import { ADMIN, AGENT, ORIGIN, READ, TARGETS, requester, startTarget } from "./targets.mjs";

let seq = 0;
const uid = (p) => `${p}-${process.pid}-${Date.now().toString(36)}-${++seq}`;

for (const kind of TARGETS) {
  describe(`cases on the ${kind} edge`, () => {
    let t;
    before(async () => {
      t = await startTarget(kind);
    });
    after(async () => {
      await t?.stop();
    });

    const req = requester(() => t);
    const detractor = async (user) => {
      const r = { id: uid("r"), rev: 1, site: "demo", survey: "race", score: 1, visitor: uid("v"), user };
      assert.equal((await req("POST", "/v1/responses", { origin: ORIGIN, body: r })).status, 202);
      const path = `/v1/sites/demo/cases/${r.id}`;
      await eventually(async () => (await req("GET", path, { token: READ })).status === 200, { what: "the case" });
      return { r, path };
    };

    it("ten agents resolving and noting one case at once: one outcome, every note kept, numbered once", async () => {
      const { path } = await detractor({ id: uid("u") });
      const moves = Array.from({ length: 10 }, () => req("PATCH", path, { token: AGENT, body: { status: "resolved" } }));
      const notes = Array.from({ length: 10 }, (_, i) => req("POST", `${path}/notes`, { token: AGENT, body: { text: `note ${i}` } }));
      const results = await Promise.all([...moves, ...notes]);
      for (const r of results.slice(0, 10)) assert.equal(r.status, 200, r.text);
      for (const r of results.slice(10)) assert.equal(r.status, 201, r.text);
      const c = (await req("GET", path, { token: READ })).json;
      assert.equal(c.status, "resolved");
      assert.equal(c.notes.length, 10, "no note lost");
      assert.deepEqual(c.notes.map((n) => n.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      assert.deepEqual(c.notes.map((n) => n.text).sort(), Array.from({ length: 10 }, (_, i) => `note ${i}`).sort());
      const resolvedAt = c.resolved_at;
      assert.equal((await req("PATCH", path, { token: ADMIN, body: { status: "resolved" } })).json.resolved_at, resolvedAt, "resolving again changes nothing");
    });

    it("a new rev while agents work the case keeps both: their status and notes, the customer's new comment", async () => {
      const who = uid("u");
      const { r, path } = await detractor({ id: who });
      const [moved, rev2] = await Promise.all([
        req("PATCH", path, { token: AGENT, body: { status: "in_progress", owner: "Ana" } }),
        req("POST", "/v1/responses", { origin: ORIGIN, body: { ...r, rev: 2, comment: "Toujours rien reçu" } }),
      ]);
      assert.equal(moved.status, 200, moved.text);
      assert.equal(rev2.status, 202);
      const c = await eventually(async () => {
        const x = (await req("GET", path, { token: READ })).json;
        return x.comment === "Toujours rien reçu" && x;
      }, { what: "the new comment" });
      assert.equal(c.status, "in_progress");
      assert.equal(c.owner, "Ana");
    });

    it("a resolved case brings its customer back: asked again inside the window, once; the case keeps before and after", async () => {
      const who = uid("u");
      const elig = async () => (await req("GET", `/v1/sites/demo/eligibility?survey=race&user=${who}`, { origin: ORIGIN })).json.show;
      const { path } = await detractor({ id: who });
      assert.equal(await elig(), false, "an open case");
      const again = { id: uid("r"), rev: 1, site: "demo", survey: "race", score: 9, visitor: uid("v"), user: { id: who } };
      assert.equal((await req("POST", "/v1/responses", { origin: ORIGIN, body: again })).json.status, "duplicate", "one answer per respondent while the case is open");
      assert.equal((await req("PATCH", path, { token: AGENT, body: { status: "resolved" } })).status, 200);
      assert.equal(await elig(), true, "resolved: the re-survey is due (the site's delay is 0 here)");
      const due = await req("GET", `/v1/sites/demo/eligibility?survey=race&user=${who}`, { origin: ORIGIN });
      assert.equal(due.headers.get("cache-control"), "no-store", "asked once: a browser must not reuse this yes");
      const back = { ...again, id: uid("r") };
      assert.equal((await req("POST", "/v1/responses", { origin: ORIGIN, body: back })).json.status, "accepted", "the re-survey answer is a new answer");
      assert.equal((await req("POST", "/v1/responses", { origin: ORIGIN, body: { ...back, rev: 2, score: 10, comment: "Merci, tout est réglé" } })).json.status, "updated", "its comment follows");
      const c = (await req("GET", path, { token: READ })).json;
      assert.equal(c.first_score, 1);
      assert.equal(c.resurvey_score, 10, "the re-survey's latest rev");
      assert.equal(c.resurvey_response_id, back.id);
      assert.equal(c.recovered, true);
      const stored = await eventually(async () => {
        const r = await req("GET", `/v1/sites/demo/responses/${back.id}`, { token: READ });
        return r.status === 200 && r.json.comment && r.json;
      }, { what: "the re-survey answer" });
      assert.equal(stored.properties.resurvey_of, c.id, "the answer says which case it follows up");
      assert.equal(await elig(), false, "asked once: answered again");
      const forged = { id: uid("r"), rev: 1, site: "demo", survey: "race", score: 8, visitor: uid("v"), properties: { resurvey_of: c.id } };
      assert.equal((await req("POST", "/v1/responses", { origin: ORIGIN, body: forged })).status, 202);
      const kept = await eventually(async () => {
        const r = await req("GET", `/v1/sites/demo/responses/${forged.id}`, { token: READ });
        return r.status === 200 && r.json;
      }, { what: "an answer claiming a case" });
      assert.equal(kept.properties?.resurvey_of, undefined, "only the edge says which case an answer follows up");
      assert.equal((await req("GET", path, { token: READ })).json.resurvey_score, 10);
      const third = { ...again, id: uid("r"), score: 10 };
      assert.equal((await req("POST", "/v1/responses", { origin: ORIGIN, body: third })).json.status, "duplicate");
    });

    it("erasing the person takes their case and its notes", async () => {
      const who = uid("u");
      const { path } = await detractor({ id: who });
      assert.equal((await req("POST", `${path}/notes`, { token: AGENT, body: { text: `Called ${who}` } })).status, 201);
      assert.equal((await req("DELETE", `/v1/sites/demo/people/${who}`, { token: ADMIN })).status, 200);
      assert.equal((await req("GET", path, { token: READ })).status, 404);
      const left = await t.rows("SELECT count(*) AS n FROM case_notes WHERE text LIKE ?", `%${who}%`);
      assert.equal(left[0].n, 0);
    });
  });
}
