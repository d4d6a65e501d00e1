// What other systems hear about cases, on both runtimes with the same assertions: signed
// `nps.case.*` webhooks to the sinks whose route takes the case, and one overdue alert per case
// to the chat, with its owner and a link.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eventually } from "../e2e/harness.mjs";
import { AGENT, ORIGIN, READ, TARGETS, requester, startTarget } from "./targets.mjs";

let seq = 0;
const uid = (p) => `${p}-${process.pid}-${Date.now().toString(36)}-${++seq}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

for (const kind of TARGETS) {
  describe(`case notices on the ${kind} edge`, () => {
    let t;
    before(async () => {
      t = await startTarget(kind);
    });
    after(async () => {
      await t?.stop();
    });

    const req = requester(() => t);
    const answer = async (r) => assert.equal((await req("POST", "/v1/responses", { origin: ORIGIN, body: r })).status, 202);
    const heard = (sink, type, id) =>
      t.receiver.received.filter((m) => m.sink === sink && m.body.type === type && (m.body.data?.id ?? m.body.case) === id);

    it("a case is announced to the webhooks whose route takes it: opened, updated by the customer, resolved by an agent", async () => {
      const r = { id: uid("r"), rev: 1, site: "demo", survey: "race", score: 2, visitor: uid("v"), user: { id: uid("u") } };
      await answer(r);
      for (const sink of ["all", "detractors"]) {
        const [m] = await eventually(async () => heard(sink, "nps.case.opened", r.id).length && heard(sink, "nps.case.opened", r.id), { what: `nps.case.opened to ${sink}` });
        assert.equal(m.body.data.status, "open");
        assert.equal(m.body.data.score, 2);
        assert.ok(m.body.data.due_at);
        assert.match(m.id, /^case\./, "its own webhook-id, signed (the receiver checks)");
      }
      await answer({ ...r, rev: 2, comment: "Livraison en retard" });
      const [u] = await eventually(async () => heard("all", "nps.case.updated", r.id).length && heard("all", "nps.case.updated", r.id), { what: "nps.case.updated" });
      assert.equal(u.body.data.comment, "Livraison en retard");
      assert.equal((await req("PATCH", `/v1/sites/demo/cases/${r.id}`, { token: AGENT, body: { status: "resolved", owner: "Ana" } })).status, 200);
      const [s] = await eventually(async () => heard("detractors", "nps.case.resolved", r.id).length && heard("detractors", "nps.case.resolved", r.id), { what: "nps.case.resolved" });
      assert.equal(s.body.data.owner, "Ana");
      assert.ok(s.body.data.resolved_at);
      // The same status again changes nothing, and says nothing.
      assert.equal((await req("PATCH", `/v1/sites/demo/cases/${r.id}`, { token: AGENT, body: { status: "resolved" } })).status, 200);
      await sleep(1000);
      assert.equal(heard("all", "nps.case.resolved", r.id).length, 1);
      assert.equal(t.receiver.bad, 0);
      // A promoter opens no case and announces none.
      const p = { ...r, id: uid("r"), score: 10, user: { id: uid("u") } };
      await answer(p);
      await eventually(async () => t.receiver.received.some((m) => m.body.type === "nps.response" && m.body.data.id === p.id), { what: "the promoter's answer" });
      assert.equal(t.receiver.received.filter((m) => m.body.data?.id === p.id && m.body.type.startsWith("nps.case.")).length, 0);
    });

    it("an overdue case without a first touch alerts the chat once, with its owner and a link; a touched one does not", async () => {
      const late = { id: uid("r"), rev: 1, site: "demo", survey: "late", score: 3, visitor: uid("v"), user: { id: uid("u"), email: "zoe@example.com" }, comment: "Jamais reçu" };
      const touched = { ...late, id: uid("r"), visitor: uid("v"), user: { id: uid("u") } };
      await answer(late);
      await answer(touched);
      for (const r of [late, touched]) {
        await eventually(async () => (await req("GET", `/v1/sites/demo/cases/${r.id}`, { token: READ })).status === 200, { what: "the case" });
      }
      // Assigning is not a touch; a note is.
      assert.equal((await req("PATCH", `/v1/sites/demo/cases/${late.id}`, { token: AGENT, body: { owner: "Ana" } })).status, 200);
      assert.equal((await req("POST", `/v1/sites/demo/cases/${touched.id}/notes`, { token: AGENT, body: { text: "Appelée" } })).status, 201);
      assert.equal((await req("GET", `/v1/sites/demo/cases/${late.id}`, { token: READ })).json.overdue, false);
      // Past its due time (the SLA is 48 hours: move the deadline instead of waiting).
      await t.sql(`UPDATE cases SET due_ms = 1000 WHERE site = 'demo' AND id IN ('${late.id}', '${touched.id}')`);
      assert.equal((await req("GET", `/v1/sites/demo/cases/${late.id}`, { token: READ })).json.overdue, true);
      await t.sweep();
      const [m] = await eventually(async () => heard("chat", "nps.case.overdue", late.id).length && heard("chat", "nps.case.overdue", late.id), { what: "the overdue alert" });
      assert.equal(m.body.owner, "Ana");
      assert.equal(m.body.comment, "Jamais reçu");
      assert.equal(m.body.case_link, `https://nps.example/console#site=demo&case=${late.id}`);
      assert.equal(m.body.email, undefined, "the e-mail stays out of the chat unless include_email");
      await t.sweep();
      await t.sweep();
      await sleep(500);
      assert.equal(heard("chat", "nps.case.overdue", late.id).length, 1, "once per case");
      assert.equal(heard("chat", "nps.case.overdue", touched.id).length, 0, "a first touch stops the clock");
    });
  });
}
