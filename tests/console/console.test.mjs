// The team's console (console/, Leptos) in headless Chromium, served by each runtime: the board
// (overdue first, filters), one case (the customer's words as text, context, notes, status), the
// keyboard path, the strict CSP, sign-in, and axe-clean markup.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ARTIFACTS, eventually, launchBrowser } from "../e2e/harness.mjs";
import { AGENT, ORIGIN, READ, TARGETS, startTarget } from "../conformance/targets.mjs";

const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
const SHOTS = join(ARTIFACTS, "..", "console");
mkdirSync(SHOTS, { recursive: true });
let seq = 0;
const uid = (p) => `${p}-${process.pid}-${Date.now().toString(36)}-${++seq}`;

for (const kind of TARGETS) {
  describe(`console on the ${kind} edge`, () => {
    let t, browser;
    const survey = uid("console");
    const hostile = '<b>late</b> & "broken" <img src=x onerror=alert(1)>';
    const a = { id: uid("r"), rev: 1, site: "demo", survey, score: 2, visitor: uid("v"), comment: hostile, contact_ok: true, user: { id: uid("u"), account: "acme", order: "o-1" } };
    const b = { id: uid("r"), rev: 1, site: "demo", survey, score: 5, visitor: uid("v"), user: { id: uid("u") } };
    const late = { id: uid("r"), rev: 1, site: "demo", survey, score: 4, visitor: uid("v"), comment: "Nobody called", user: { id: uid("u") } };
    const promoter = { id: uid("r"), rev: 1, site: "demo", survey, score: 10, visitor: uid("v") };

    const api = async (method, path, { token = AGENT, body } = {}) => {
      const r = await fetch(t.url + path, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: r.status, json: await r.json().catch(() => null) };
    };

    before(async () => {
      t = await startTarget(kind);
      browser = await launchBrowser();
      for (const r of [a, b, late, promoter]) {
        const res = await fetch(t.url + "/v1/responses", { method: "POST", headers: { origin: ORIGIN, "content-type": "application/json" }, body: JSON.stringify(r) });
        assert.equal(res.status, 202);
      }
      for (const r of [a, b, late]) {
        await eventually(async () => (await api("GET", `/v1/sites/demo/cases/${r.id}`)).status === 200, { what: "the case" });
      }
      await t.sql(`UPDATE cases SET due_ms = 1000 WHERE site = 'demo' AND id = '${late.id}'`);
    });
    after(async () => {
      await browser?.close();
      await t?.stop();
    });

    /** A page with console errors and CSP violations recorded. */
    async function open(path, options = {}) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
      const page = await context.newPage();
      page.problems = [];
      page.on("console", (m) => {
        if (m.type() === "error" || /Content Security Policy/i.test(m.text())) page.problems.push(`${m.type()}: ${m.text()}`);
      });
      page.on("pageerror", (e) => page.problems.push(`pageerror: ${e.message}`));
      const response = await page.goto(t.url + path);
      return { context, page, response };
    }
    const rows = (page) => page.locator(".board tbody tr");
    async function onlyOurs(page) {
      await page.locator("#f-survey").fill(survey);
      await page.locator("#f-survey").press("Enter");
      await eventually(async () => (await rows(page).count()) === 3, { what: "our three cases" });
    }

    it("board: overdue first, filters; a case by keyboard: words as text, context, note, resolve; strict CSP", async () => {
      const { context, page, response } = await open(`/console#token=${AGENT}&site=demo`);
      const csp = response.headers()["content-security-policy"];
      assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'/);
      assert.doesNotMatch(csp, /unsafe-inline/);
      await onlyOurs(page);
      assert.ok(!page.url().includes(AGENT), "the token left the address bar");
      assert.equal(await rows(page).first().getAttribute("data-id"), late.id, "the overdue case comes first");
      assert.match(await rows(page).first().textContent(), /Overdue/);
      assert.equal(await page.locator(`tr[data-id="${promoter.id}"]`).count(), 0, "a promoter has no case");
      await page.locator("#f-overdue").check();
      await eventually(async () => (await rows(page).count()) === 1, { what: "overdue only" });
      await page.locator("#f-overdue").uncheck();
      await eventually(async () => (await rows(page).count()) === 3, { what: "all three again" });

      // Keyboard only: reach the case's button, open it, write a note, resolve.
      const opener = page.locator(`tr[data-id="${a.id}"] button.open`);
      await opener.focus();
      await page.keyboard.press("Enter");
      const words = page.locator(".case .words");
      await eventually(async () => (await words.textContent()) === hostile, { what: "the comment, as text" });
      assert.equal(await page.locator(".case b, .case img, .board td.comment img").count(), 0, "never HTML from an answer");
      assert.match(await page.locator(".case .facts").textContent(), new RegExp(`${a.user.id} · acme · o-1`));
      await page.locator("#note").focus();
      await page.keyboard.type("Called back, refund sent");
      await page.keyboard.press("Tab");
      await page.keyboard.press("Enter");
      await eventually(async () => (await page.locator(".case .notes li").count()) === 1, { what: "the note" });
      assert.match(await page.locator(".case .notes li").textContent(), /Called back, refund sent.*ana/);
      await page.locator(".case .moves button", { hasText: "Resolve" }).focus();
      await page.keyboard.press("Enter");
      await eventually(async () => /resolved/.test(await page.locator(".case .state").textContent()), { what: "resolved" });
      assert.match(await page.locator(".live").textContent(), /Case updated/);
      await eventually(async () => /Resolved/.test(await page.locator(`tr[data-id="${a.id}"]`).textContent()), { what: "the board follows" });
      const stored = (await api("GET", `/v1/sites/demo/cases/${a.id}`, { token: READ })).json;
      assert.equal(stored.status, "resolved");
      assert.ok(stored.first_touch_at && stored.resolved_at);
      assert.deepEqual(stored.notes.map((n) => [n.author, n.text]), [["ana", "Called back, refund sent"]]);

      // Assign the other one; the owner filter finds it.
      await page.locator(`tr[data-id="${b.id}"] button.open`).click();
      await eventually(async () => (await page.locator("#case-title").textContent()).includes(b.id), { what: "the other case" });
      await page.locator("#owner").fill("Bo");
      await page.locator(".case .owner button").click();
      await eventually(async () => (await api("GET", `/v1/sites/demo/cases/${b.id}`)).json.owner === "Bo", { what: "assigned" });
      await page.locator("#f-owner").fill("Bo");
      await page.locator("#f-owner").press("Enter");
      await eventually(async () => (await rows(page).count()) === 1, { what: "owner filter" });
      await page.screenshot({ path: join(SHOTS, `${kind}-board-and-case.png`), fullPage: true });
      assert.deepEqual(page.problems, [], "no console errors or CSP violations");
      await context.close();
    });

    it("a chat alert's link opens the case; figures show the follow-up", async () => {
      const { context, page } = await open(`/console#token=${READ}&site=demo&case=${late.id}`);
      await eventually(async () => (await page.locator(".case .words").textContent()) === "Nobody called", { what: "the linked case" });
      await eventually(async () => /Cases opened/.test(await page.locator(".figures").textContent()), { what: "the figures" });
      const figures = await page.locator(".figures").textContent();
      assert.match(figures, /95 %: -?\d+ to -?\d+/, "the NPS with its interval");
      assert.match(figures, /Fewer than 30 answers/, "the low-sample warning");
      assert.deepEqual(page.problems, []);
      await context.close();
    });

    it("sign-in: a wrong token is refused with the edge's reason, a good one opens the board", async () => {
      const { context, page } = await open("/console");
      await page.locator("#token").fill("not-a-token-0123456789");
      await page.locator("#token").press("Enter");
      await eventually(async () => /does not grant access/.test(await page.locator(".signin .error").textContent()), { what: "the refusal" });
      await page.locator("#token").fill(READ);
      await page.locator("#token").press("Enter");
      await page.locator(".board").waitFor();
      await context.close();
    });

    it("axe: no violations on the board and an open case", async () => {
      // axe is injected by the test (the page's CSP rightly refuses it otherwise).
      const { context, page } = await open(`/console#token=${READ}&site=demo&case=${a.id}`, { bypassCSP: true });
      await onlyOurs(page);
      await page.locator(".case .words").waitFor();
      await page.addScriptTag({ path: AXE });
      const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
      const found = result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
      assert.deepEqual(found, []);
      await context.close();
    });
  });
}
