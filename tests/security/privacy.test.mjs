// Privacy on BOTH runtimes, with the same assertions: a person's erasure takes everything that
// names them (answers, events, respondent record, suppressions) and tells the webhook sinks, so
// downstream systems follow; nobody else's data is touched.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eventually } from "../e2e/harness.mjs";
import { ADMIN, ORIGIN, READ, TARGETS, requester, startTarget } from "../conformance/targets.mjs";

let seq = 0;
const uid = (p) => `${p}-${process.pid}-${Date.now().toString(36)}-${++seq}`;

for (const kind of TARGETS) {
  describe(`privacy on the ${kind} edge`, () => {
    let t;
    before(async () => {
      t = await startTarget(kind);
    });
    after(async () => {
      await t?.stop();
    });

    const req = requester(() => t);
    const post = (path, body) => req("POST", path, { origin: ORIGIN, body });
    const answer = (over = {}) => ({ id: uid("r"), rev: 1, site: "demo", survey: "checkout", score: 8, visitor: uid("v"), ...over });
    const eligible = async (user) =>
      (await req("GET", `/v1/sites/demo/eligibility?survey=checkout&user=${user}`, { origin: ORIGIN })).json.show;
    const count = async (table, where, ...params) => (await t.rows(`SELECT count(*) AS n FROM ${table} WHERE ${where}`, ...params))[0].n;

    it("erasing a person removes what names them, keeps everyone else, and tells the webhooks", async () => {
      const who = uid("u");
      const other = uid("u");
      const browser = uid("v");
      const first = answer({ score: 2, comment: "Colis abîmé", visitor: browser, user: { id: who, email: `${who}@example.com`, order: "o-1" } });
      const second = answer({ survey: "onboarding", score: 6, visitor: browser, user: { id: who } });
      const theirs = answer({ score: 10, user: { id: other } });
      for (const r of [first, second, theirs]) assert.equal((await post("/v1/responses", r)).json.status, "accepted");
      for (const [user, visitor] of [[who, browser], [null, browser], [other, uid("v")]]) {
        const e = { id: uid("e"), site: "demo", survey: "checkout", visitor, type: "shown", ...(user ? { user: { id: user } } : {}) };
        assert.equal((await post("/v1/events", e)).status, 202);
      }
      assert.equal((await req("PUT", `/v1/sites/demo/suppressions/${who}`, { token: ADMIN, body: { reason: "open case" } })).status, 200);
      await eventually(async () => (await count("responses", "site = 'demo' AND user_id IN (?, ?)", who, other)) === 3, { what: "stored" });
      await eventually(async () => t.receiver.received.some((m) => m.body.data?.id === first.id), { what: "the answer's webhook" });
      assert.equal(await eligible(who), false, "suppressed and answered: not asked");

      const res = await req("DELETE", `/v1/sites/demo/people/${who}`, { token: ADMIN });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.responses, 2);
      assert.deepEqual(res.json.response_ids, [first.id, second.id].sort());
      assert.equal(res.json.events, 2, "their event, and the one their browser sent before they were identified");
      assert.equal(res.json.suppressions, 1);

      assert.equal(await count("responses", "site = 'demo' AND user_id = ?", who), 0);
      assert.equal(await count("responses", "site = 'demo' AND body LIKE ?", `%${who}%`), 0, "no copy of them left in any answer");
      assert.equal(await count("events", "site = 'demo' AND (user_id = ? OR visitor = ?)", who, browser), 0);
      assert.equal(await count("responses", "site = 'demo' AND user_id = ?", other), 1, "someone else's answer stays");
      assert.equal(await count("events", "site = 'demo' AND user_id = ?", other), 1, "someone else's event stays");
      assert.equal((await req("GET", `/v1/sites/demo/suppressions/${who}`, { token: ADMIN })).status, 404);
      assert.equal(await eligible(who), true, "their respondent record went too: they may be asked again");
      assert.equal((await req("GET", `/v1/sites/demo/responses/${first.id}`, { token: READ })).status, 404);

      // Every webhook sink of the site that takes answers hears of it (both route site `demo`), and
      // so does its mail service (it was handed their address with each invitation), signed like the rest.
      const notices = await eventually(() => {
        const n = t.receiver.received.filter((m) => m.body.type === "nps.person.erased" && m.body.data.key === who);
        return n.length === 3 && n;
      }, { what: "nps.person.erased on the three sinks" });
      assert.deepEqual(notices.map((n) => n.sink).sort(), ["all", "detractors", "mailer"]);
      assert.deepEqual(notices[0].body.data.response_ids, [first.id, second.id].sort());
      assert.equal(notices[0].body.data.responses, 2);
      assert.ok(notices.every((n) => n.id === notices[0].id), "one message, one webhook-id");
      assert.equal(t.receiver.bad, 0);

      // A new answer after the erasure is a new answer (nothing remembers them).
      const later = answer({ score: 9, user: { id: who } });
      assert.equal((await post("/v1/responses", later)).json.status, "accepted");
    });

    it("an erasure refused for lack of a right changes nothing", async () => {
      const who = uid("u");
      const r = answer({ user: { id: who } });
      assert.equal((await post("/v1/responses", r)).json.status, "accepted");
      await eventually(async () => (await count("responses", "site = 'demo' AND id = ?", r.id)) === 1, { what: "stored" });
      assert.equal((await req("DELETE", `/v1/sites/demo/people/${who}`, { token: READ })).status, 403);
      assert.equal((await req("DELETE", `/v1/sites/demo/people/${who}`, { origin: ORIGIN })).status, 401);
      assert.equal(await count("responses", "site = 'demo' AND id = ?", r.id), 1);
    });
  });
}
