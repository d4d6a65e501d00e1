// The summary's cases figures, on both runtimes with the same assertions: what became of the cases
// opened in the period (open, overdue, resolved, withdrawn), how fast they were touched and
// resolved, and how many re-surveyed customers came back. Each run uses its own survey, so the
// other tests' cases on site demo do not count.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eventually } from "../e2e/harness.mjs";
import { AGENT, ORIGIN, READ, TARGETS, requester, startTarget } from "./targets.mjs";

let seq = 0;
const uid = (p) => `${p}-${process.pid}-${Date.now().toString(36)}-${++seq}`;

for (const kind of TARGETS) {
  describe(`summary cases figures on the ${kind} edge`, () => {
    let t;
    before(async () => {
      t = await startTarget(kind);
    });
    after(async () => {
      await t?.stop();
    });

    const req = requester(() => t);

    const survey = uid("figures");
    const answer = async (body) => {
      const res = await req("POST", "/v1/responses", { origin: ORIGIN, body });
      assert.equal(res.status, 202, res.text);
      return res.json.status;
    };
    /** A detractor's answer of a new user, and the case it opened. */
    const detractor = async (score = 1) => {
      const r = { id: uid("r"), rev: 1, site: "demo", survey, score, visitor: uid("v"), user: { id: uid("u") } };
      assert.equal(await answer(r), "accepted");
      const path = `/v1/sites/demo/cases/${r.id}`;
      await eventually(async () => (await req("GET", path, { token: READ })).status === 200, { what: "the case" });
      return { r, path };
    };
    const patch = async (path, status) => {
      const res = await req("PATCH", path, { token: AGENT, body: { status } });
      assert.equal(res.status, 200, res.text);
    };
    /** Resolves the case, then its customer answers the re-survey with `score`. */
    const resolveAndResurvey = async ({ r, path }, score) => {
      await patch(path, "resolved");
      const back = { id: uid("r"), rev: 1, site: "demo", survey, score, visitor: uid("v"), user: r.user };
      assert.equal(await answer(back), "accepted", "the re-survey answer");
      await eventually(async () => (await req("GET", path, { token: READ })).json.resurvey_score === score, { what: "the re-survey score" });
      return back;
    };
    const summary = async (query = "") => {
      const res = await req("GET", `/v1/sites/demo/summary?survey=${survey}${query}`, { token: READ });
      assert.equal(res.status, 200, res.text);
      return res.json;
    };

    it("counts the cases opened in the period by where they stand, with medians and the recovery rate", async () => {
      const empty = (await summary()).cases;
      assert.deepEqual(empty, {
        opened: 0, open: 0, overdue: 0, resolved: 0, median_first_touch_hours: null, median_resolution_hours: null,
        resurveyed: 0, recovered: 0, recovery_rate: null,
      });

      // Untouched and past its due time: open and overdue.
      const late = await detractor(2);
      // (Retried: the native writer may hold the file for a moment.)
      await eventually(async () => {
        await t.sql(`UPDATE cases SET due_ms = 1 WHERE site = 'demo' AND id = '${late.r.id}'`);
        return true;
      }, { what: "the late case" });
      // Worked on: open, touched, not overdue.
      await patch((await detractor(3)).path, "in_progress");
      // Resolved; came back a promoter: recovered.
      await resolveAndResurvey(await detractor(0), 9);
      // Resolved; came back still unhappy: re-surveyed, not recovered — and that answer opens a
      // case of its own (open, untouched, not yet due).
      await resolveAndResurvey(await detractor(4), 5);
      // The customer changed their mind (2 → 9): withdrawn, opened but not open.
      const { r, path } = await detractor(2);
      assert.equal(await answer({ ...r, rev: 2, score: 9 }), "updated");
      await eventually(async () => (await req("GET", path, { token: READ })).json.status === "withdrawn", { what: "the withdrawal" });
      // A promoter opens no case.
      assert.equal(await answer({ id: uid("r"), rev: 1, site: "demo", survey, score: 10, visitor: uid("v") }), "accepted");

      const s = await eventually(async () => {
        const s = await summary();
        return s.cases.opened === 6 && s.cases.resurveyed === 2 && s;
      }, { what: "six cases in the summary" });
      const c = s.cases;
      assert.equal(c.open, 3, "the late one, the one in progress, the unhappy re-survey's");
      assert.equal(c.overdue, 1);
      assert.equal(c.resolved, 2);
      assert.equal(c.recovered, 1);
      assert.equal(c.recovery_rate, 0.5);
      assert.equal(typeof c.median_first_touch_hours, "number");
      assert.ok(c.median_first_touch_hours >= 0, `${c.median_first_touch_hours}`);
      assert.equal(typeof c.median_resolution_hours, "number");
      assert.ok(c.median_resolution_hours >= 0, `${c.median_resolution_hours}`);

      // Another survey's summary does not see them; a past period has no cases.
      assert.equal((await req("GET", `/v1/sites/demo/summary?survey=${uid("figures")}`, { token: READ })).json.cases.opened, 0);
      const past = await summary("&from=2020-01-01&to=2020-01-31");
      assert.equal(past.cases.opened, 0);
      assert.equal(past.cases.recovery_rate, null);

      // The comparison carries the other period's cases the same way.
      const today = new Date().toISOString().slice(0, 10);
      const cmp = await summary(`&compare_from=${today}&compare_to=${today}`);
      assert.deepEqual(cmp.comparison.cases, c);
      assert.equal((await summary("&compare_from=2020-01-01&compare_to=2020-01-31")).comparison.cases.opened, 0);
    });
  });
}
