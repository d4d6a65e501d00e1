// The report page served by the worker, in headless Chromium: 29 days of history written into
// D1, today's answers POSTed over HTTP (one an XSS attempt), then /report#token=… must render
// the KPIs, the trend (one dot per day with answers, a gap for empty days), the segment split,
// comments as text only, under the strict CSP, with the token dropped from the URL.
// Screenshot: tests/artifacts/report/worker-report.png. (Same files and checks as the native
// server's edge/server/tests/browser/report.test.mjs.)
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { chromium } from "playwright-core";
import { ORIGIN, READ_TOKEN, ROOT, post, startWorker, testConfig } from "./harness.mjs";

const DAY = 86400000;
const XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script> & "quotes"';
const segOf = (s) => (s <= 6 ? "detractor" : s <= 8 ? "passive" : "promoter");
const expected = { responses: 0, p: 0, d: 0, days: new Set() };
let w, browser;

let seed = 7;
const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;

function count(score, day) {
  expected.responses += 1;
  if (segOf(score) === "promoter") expected.p += 1;
  if (segOf(score) === "detractor") expected.d += 1;
  expected.days.add(day);
}

before(async () => {
  const cfg = testConfig("http://127.0.0.1:1/hook");
  cfg.sinks = [];
  w = await startWorker({ config: cfg });
  const today = Math.floor(Date.now() / DAY);
  const rows = [];
  for (let back = 29; back >= 1; back--) {
    if (back === 12 || back === 13) continue; // an empty weekend: the line must break
    const n = 2 + Math.floor(rnd() * 4);
    for (let k = 0; k < n; k++) {
      const score = Math.floor(rnd() * 11);
      const at = (today - back) * DAY + 9 * 3600000 + k * 600000;
      const answer = {
        id: `h-${back}-${k}`, rev: 1, site: "demo", survey: k % 2 ? "checkout" : "onboarding", score,
        ...(k % 3 ? { comment: "history comment" } : {}), visitor: `hv${back}x${k}`,
      };
      rows.push(w.db.prepare(
        "INSERT INTO responses (site, id, rev, survey, score, segment, respondent, visitor, comment, body, received_ms, updated_ms) VALUES ('demo', ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      ).bind(answer.id, answer.survey, score, segOf(score), answer.visitor, answer.visitor, answer.comment ?? null, JSON.stringify(answer), at, at));
      rows.push(w.db.prepare(
        "INSERT INTO events (site, id, survey, visitor, type, received_ms) VALUES ('demo', ?, 'checkout', ?, 'shown', ?)",
      ).bind(`e-${back}-${k}`, `hv${back}x${k}`, at));
      count(score, today - back);
    }
  }
  await w.db.batch(rows);
  const answers = [
    { id: "today-1", score: 10, comment: "Best shop around" },
    { id: "today-2", score: 8, comment: "Ok" },
    { id: "today-xss", score: 2, contact_ok: true },
  ];
  for (const a of answers) {
    const r = { rev: 1, site: "demo", survey: "checkout", visitor: `tv-${a.id}`, locale: "en-US", ...a };
    assert.equal((await post(w.url, "/v1/responses", r)).status, 202);
    count(a.score, today);
  }
  const upd = await post(w.url, "/v1/responses", { id: "today-xss", rev: 2, site: "demo", survey: "checkout", score: 2, visitor: "tv-today-xss", contact_ok: true, comment: XSS });
  assert.equal(upd.json.status, "updated");
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
  await w?.close();
});

it("the worker's /report renders KPIs, trend, split and text-only comments under its CSP", async () => {
  const ctx = await browser.newContext({ viewport: { width: 1360, height: 900 }, deviceScaleFactor: 1 });
  const page = await ctx.newPage();
  const problems = [];
  page.on("console", (m) => { if (m.type() === "error") problems.push(m.text()); });
  page.on("pageerror", (e) => problems.push(String(e)));
  page.on("response", (r) => { if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`); });
  await page.goto(`${w.url}/report#token=${READ_TOKEN}&site=demo&response=today-xss`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 15000 });
  assert.ok(!page.url().includes("token"), `token left in the URL: ${page.url()}`);

  const nps = Math.round((100 * (expected.p - expected.d)) / expected.responses);
  assert.equal(await page.textContent("#kpi-nps"), (nps > 0 ? "+" : "") + nps);
  assert.equal(await page.textContent("#kpi-responses"), expected.responses.toLocaleString("en-US"));
  assert.equal(await page.locator("#trend svg circle.nps-dot").count(), expected.days.size);
  assert.ok((await page.locator("#trend svg path.nps-line").count()) >= 2, "line broken by the empty days");
  assert.equal(await page.locator("#split > div").count(), 3);
  assert.equal(await page.locator("#scores svg rect").count(), 11);

  assert.equal(await page.textContent("#focus .comment-text"), XSS);
  assert.equal(await page.locator("#app img, #app script").count(), 0);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  assert.ok(await page.isVisible("#focus .badge.contact"), "detractor who opted in is flagged");
  await page.click('#tabs button[data-seg="promoter"]');
  await page.waitForFunction(() => [...document.querySelectorAll("#comments .score")].every((s) => s.classList.contains("promoter")));
  assert.deepEqual(problems, [], "no console errors, CSP violations or failed requests");

  const dir = join(ROOT, "tests", "artifacts", "report");
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, "worker-report.png"), fullPage: true });
  await ctx.close();
});
