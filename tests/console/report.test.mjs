// The console's report view (console/src/report.rs) in headless Chromium, served by each runtime:
// history written into the store (a gap of two empty days, answers in the period before), today's
// answers POSTed (one with hostile words), then: an old /report link
// lands on the report view with the alert's answer; every figure shown is the API's; the hostile
// words are text; the filters (survey, period, bucket, segment, a survey's row) ask the API again;
// the CSV download is the API's export; keyboard, sign-in, strict CSP and axe-core.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ARTIFACTS, eventually, launchBrowser } from "../e2e/harness.mjs";
import { ADMIN, LINK_BASE, ORIGIN, READ, TARGETS, startTarget } from "../conformance/targets.mjs";

const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
const SHOTS = join(ARTIFACTS, "..", "console");
mkdirSync(SHOTS, { recursive: true });
const DAY = 86_400_000;
const SITE = "report";
const HOSTILE = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script> & "quotes" <b>bold</b>';
let seq = 0;
const uid = (p) => `${p}-${process.pid}-${Date.now().toString(36)}-${++seq}`;
const segOf = (s) => (s <= 6 ? "detractor" : s <= 8 ? "passive" : "promoter");

/** `YYYY-MM-DD`, `back` UTC days before today (as the console computes its periods). */
const day = (back) => new Date((Math.floor(Date.now() / DAY) - back) * DAY).toISOString().slice(0, 10);
/** An NPS as the console writes it: signed, whole, halves away from zero. */
function npsText(v) {
  if (v === null || v === undefined) return "—";
  const n = Math.sign(v) * Math.round(Math.abs(v));
  return n > 0 ? `+${n}` : n === 0 ? "0" : String(n);
}
const pct = (r) => (r === null ? "—" : `${Math.round(r * 1000) / 10} %`);

for (const kind of TARGETS) {
  describe(`the console's report on the ${kind} edge`, () => {
    let t, browser;
    const hostile = { id: uid("r"), rev: 1, site: SITE, survey: "checkout", score: 1, visitor: uid("v"), comment: HOSTILE, contact_ok: true, locale: "en-GB", user: { id: uid("u"), email: "ann@example.com", order: "o-7" } };
    const fan = { id: uid("r"), rev: 1, site: SITE, survey: "onboarding", score: 10, visitor: uid("v"), comment: "Great onboarding", page: "https://shop.example/thanks", review_clicked: true };
    const meh = { id: uid("r"), rev: 1, site: SITE, survey: "checkout", score: 8, visitor: uid("v") };

    const api = async (path, accept = "application/json") => {
      const r = await fetch(t.url + path, { headers: { authorization: `Bearer ${READ}`, accept } });
      assert.equal(r.status, 200, path);
      return accept === "text/csv" ? r.text() : r.json();
    };
    /** The summary the console asks for: `days` days to today, compared with the days before. */
    const summary = (days, { survey = "", interval = "day" } = {}) =>
      api(`/v1/sites/${SITE}/summary?from=${day(days - 1)}&to=${day(0)}${survey ? `&survey=${survey}` : ""}&interval=${interval}&compare_from=${day(2 * days - 1)}&compare_to=${day(days)}`);

    before(async () => {
      t = await startTarget(kind);
      browser = await launchBrowser();
      // History: 20 days back, two of them empty (the line must break there), and answers in
      // the 30 days before (the comparison).
      const today = Math.floor(Date.now() / DAY);
      let n = 0;
      for (const back of [...Array(20).keys()].map((i) => i + 1).concat([35, 40, 45])) {
        if (back === 12 || back === 13) continue;
        for (let k = 0; k < 2 + (back % 3); k++) {
          const score = (back * 7 + k * 3) % 11;
          const id = `h-${back}-${k}`;
          const survey = k % 2 ? "onboarding" : "checkout";
          const comment = k % 2 ? null : `history ${back}.${k}`;
          const at = (today - back) * DAY + 9 * 3_600_000 + k * 60_000;
          const body = JSON.stringify({ id, rev: 1, site: SITE, survey, score, visitor: `hv-${id}`, ...(comment ? { comment } : {}) });
          await t.sql(`INSERT INTO responses (site, id, rev, survey, score, segment, respondent, visitor, comment, body, received_ms, updated_ms)
            VALUES ('${SITE}', '${id}', 1, '${survey}', ${score}, '${segOf(score)}', 'hv-${id}', 'hv-${id}', ${comment ? `'${comment}'` : "NULL"}, '${body}', ${at}, ${at})`);
          n += 1;
        }
      }
      assert.ok(n > 40);
      for (const r of [hostile, fan, meh]) {
        const res = await fetch(t.url + "/v1/responses", { method: "POST", headers: { origin: ORIGIN, "content-type": "application/json" }, body: JSON.stringify(r) });
        assert.equal(res.status, 202);
      }
      // Two e-mail invitations, one answered through its link.
      const inv = await fetch(t.url + `/v1/sites/${SITE}/invitations`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
        body: JSON.stringify({ survey: "checkout", recipients: [{ email: "e1@example.com", user: uid("u") }, { email: "e2@example.com", user: uid("u") }] }),
      });
      assert.equal(inv.status, 200);
      const link = (await inv.json()).invitations[0].url.slice(LINK_BASE.length);
      const pressed = await fetch(t.url + link, { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "score=9" });
      assert.equal(pressed.status, 303);
      for (let i = 0; i < 5; i++) {
        const e = { id: uid("e"), site: SITE, survey: "checkout", visitor: uid("v"), type: "shown" };
        const res = await fetch(t.url + "/v1/events", { method: "POST", headers: { origin: ORIGIN, "content-type": "application/json" }, body: JSON.stringify(e) });
        assert.equal(res.status, 202);
      }
    });
    after(async () => {
      await browser?.close();
      await t?.stop();
    });

    /** A page with console errors and CSP violations recorded. */
    async function open(path, options = {}) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true, ...options });
      const page = await context.newPage();
      page.problems = [];
      page.on("console", (m) => {
        if (m.type() === "error" || /Content Security Policy/i.test(m.text())) page.problems.push(`${m.type()}: ${m.text()}`);
      });
      page.on("pageerror", (e) => page.problems.push(`pageerror: ${e.message}`));
      page.on("response", (r) => {
        if (r.status() >= 400) page.problems.push(`${r.status()} ${r.url()}`);
      });
      const response = await page.goto(t.url + path);
      return { context, page, response };
    }
    const text = async (page, sel) => (await page.locator(sel).first().textContent()) ?? "";
    /** Waits for the figures of `s` (the API's summary) on the page. */
    async function showing(page, s) {
      await eventually(async () => (await text(page, "#r-answers")) === String(s.responses) && (await text(page, "#r-nps")) === npsText(s.nps), { what: `${s.responses} answers, NPS ${npsText(s.nps)}` });
    }

    it("an old /report link opens the report view: the API's figures, the alert's answer, hostile words as text, strict CSP", async () => {
      const { context, page, response } = await open(`/report#token=${READ}&site=${SITE}&response=${hostile.id}`);
      assert.doesNotMatch(response.headers()["content-security-policy"], /unsafe-inline/);
      const s = await summary(30);
      await showing(page, s);
      assert.match(page.url(), new RegExp(`/console\\?view=report#site=${SITE}&response=${hostile.id}$`), "redirected; the fragment kept");
      assert.ok(!page.url().includes(READ), "the token left the address bar");
      assert.equal(await page.locator('button.tab[data-view="report"]').getAttribute("aria-current"), "page");

      // The figures are the API's.
      assert.ok(s.nps_ci && s.comparison && s.comparison.nps !== null, "the data has an interval and a period before");
      assert.equal(await text(page, "#r-ci"), `95 %: ${npsText(s.nps_ci.low)} to ${npsText(s.nps_ci.high)}`);
      const delta = await text(page, "#r-delta");
      assert.ok(delta.includes(`${npsText(s.comparison.difference)} vs the previous 30 days (${npsText(s.comparison.nps)}; `), delta);
      assert.ok(delta.endsWith(s.comparison.significant ? "a significant change)" : "within the noise)"), delta);
      assert.equal(await text(page, "#r-rate"), pct(s.response_rate));
      // The e-mail's response rate next to the widget's.
      assert.equal(s.touchpoints.email.invited, 2);
      assert.equal(await text(page, "#r-email-rate"), pct(s.touchpoints.email.response_rate));
      assert.match(await text(page, "#r-email-detail"), new RegExp(`^2 invited · 1 answered · widget ${pct(s.touchpoints.widget.response_rate).replace(/[.]/g, "\\.")} `));
      assert.equal(await page.locator("#r-low").count(), s.low_sample ? 1 : 0, "the low-sample warning as the API says");
      const detractors = await api(`/v1/sites/${SITE}/responses?from=${day(29)}&to=${day(0)}&segment=detractor&limit=500`);
      const callbacks = detractors.items.filter((a) => a.contact_ok === true).length;
      assert.ok(callbacks >= 1);
      await eventually(async () => (await text(page, "#r-callback")) === String(callbacks), { what: "the call-backs" });
      for (const seg of ["promoter", "passive", "detractor"]) {
        const c = s.by_segment[seg];
        assert.equal(await text(page, `.legend li[data-seg="${seg}"] strong`), `${c} · ${Math.round((100 * c) / s.responses)} %`, seg);
      }
      assert.equal(await page.locator(".split-bar rect").count(), ["promoter", "passive", "detractor"].filter((g) => s.by_segment[g] > 0).length);
      assert.equal(await page.locator("svg.scores rect").count(), 11);
      assert.match(await page.locator("svg.scores").getAttribute("aria-label"), new RegExp(`: ${s.by_score.join(", ")}$`));
      // The trend: one dot per day with answers, the line broken by the empty days.
      const withAnswers = s.series.filter((b) => b.nps !== null);
      assert.equal(await page.locator("svg.trend circle.dot").count(), withAnswers.length);
      assert.ok((await page.locator("svg.trend path.line").count()) >= 2, "the line breaks where no one answered");
      assert.deepEqual(
        await page.locator("table.series tbody tr").evaluateAll((rows) => rows.map((r) => [...r.cells].map((c) => c.textContent))),
        s.series.map((b) => [b.start, String(b.responses), npsText(b.nps)]),
      );

      // The alert's answer first: its words as text, nothing built from them, no script run.
      assert.equal(await text(page, ".focus .words"), HOSTILE);
      assert.match(await text(page, ".focus .meta"), /ann@example\.com · user .* · order o-7/);
      assert.ok(await page.locator(".focus .contact").isVisible(), "a detractor who asked for a call back is flagged");
      await eventually(async () => (await page.locator(`.answers-card li[data-id="${hostile.id}"] .words`).count()) === 1, { what: "the answer in the list" });
      assert.equal(await text(page, `.answers-card li[data-id="${hostile.id}"] .words`), HOSTILE);
      assert.equal(await page.locator("main img, main script, main b").count(), 0, "never HTML from an answer");
      assert.equal(await page.evaluate(() => window.__xss), undefined);
      const link = page.locator(`.answers-card li[data-id="${fan.id}"] a`);
      assert.equal(await link.getAttribute("href"), fan.page);
      assert.equal(await link.getAttribute("rel"), "noopener noreferrer");
      await page.screenshot({ path: join(SHOTS, `${kind}-report.png`), fullPage: true });
      assert.deepEqual(page.problems, [], "no console errors, CSP violations or failed requests");
      await context.close();
    });

    it("filters: each survey's row, the survey, the segment, the period and the bucket ask the API again", async () => {
      const { context, page } = await open(`/console?view=report#token=${READ}&site=${SITE}`);
      const all = await summary(30);
      await showing(page, all);
      await page.locator(".answers-card .answer").first().waitFor();
      await page.screenshot({ path: join(SHOTS, `${kind}-report-first-screen.png`) });
      // Each survey's answers and NPS, as the API gives them.
      for (const survey of ["checkout", "onboarding"]) {
        const one = await api(`/v1/sites/${SITE}/summary?from=${day(29)}&to=${day(0)}&survey=${survey}&interval=week`);
        const row = page.locator(`.by-survey tr[data-survey="${survey}"]`);
        await row.waitFor();
        assert.deepEqual(await row.locator("td").allTextContents(), [String(one.responses), npsText(one.nps), `${npsText(one.nps_ci.low)} to ${npsText(one.nps_ci.high)}`]);
      }
      // A survey's row picks it.
      await page.locator('.by-survey tr[data-survey="onboarding"] button').click();
      const onboarding = await summary(30, { survey: "onboarding" });
      await showing(page, onboarding);
      assert.equal(await page.locator("#r-survey").inputValue(), "onboarding");
      await eventually(async () => {
        const metas = await page.locator(".answers-card .answer .meta").allTextContents();
        return metas.length > 0 && metas.every((m) => m.includes("onboarding"));
      }, { what: "onboarding's answers only" });
      assert.equal(await page.locator(".by-survey").count(), 0, "one survey: no split by survey");
      await page.locator("#r-survey").selectOption("");
      await showing(page, all);

      // A segment: only its answers, in pages of 20.
      const promoters = await api(`/v1/sites/${SITE}/responses?from=${day(29)}&to=${day(0)}&segment=promoter&limit=500`);
      await page.locator('button.seg[data-seg="promoter"]').click();
      assert.equal(await page.locator('button.seg[data-seg="promoter"]').getAttribute("aria-pressed"), "true");
      await eventually(async () => {
        const classes = await page.locator(".answers-card .answer .score").evaluateAll((s) => s.map((e) => e.className));
        return classes.length === Math.min(20, promoters.items.length) && classes.every((c) => c === "score promoter");
      }, { what: "promoters only" });
      await page.locator('button.seg[data-seg=""]').click();
      const everyone = await api(`/v1/sites/${SITE}/responses?from=${day(29)}&to=${day(0)}&limit=500`);
      assert.ok(everyone.items.length > 20);
      await eventually(async () => (await page.locator(".answers-card .answer").count()) === 20, { what: "the first page" });
      await page.locator("button.more").click();
      await eventually(async () => (await page.locator(".answers-card .answer").count()) === Math.min(40, everyone.items.length), { what: "the next page" });
      assert.deepEqual(
        await page.locator(".answers-card .answer").evaluateAll((l) => l.map((e) => e.dataset.id)),
        everyone.items.slice(0, 40).map((a) => a.id),
        "newest first, as the API pages them",
      );

      // The period: 7 days by day; a year by week.
      await page.locator("#r-period").selectOption("7");
      await showing(page, await summary(7));
      await page.locator("#r-period").selectOption("365");
      const year = await summary(365, { interval: "week" });
      await showing(page, year);
      assert.equal(await page.locator("#r-interval").inputValue(), "week");
      await eventually(async () => (await page.locator("table.series tbody tr").count()) === year.series.length, { what: "weekly buckets" });
      await page.locator("#r-interval").selectOption("day");
      const daily = await summary(365);
      await eventually(async () => (await page.locator("table.series tbody tr").count()) === daily.series.length, { what: "daily buckets" });
      assert.deepEqual(page.problems, []);
      await context.close();
    });

    it("CSV: the download is the API's export of the period and segment", async () => {
      const { context, page } = await open(`/console?view=report#token=${READ}&site=${SITE}`);
      await showing(page, await summary(30));
      for (const segment of ["", "detractor"]) {
        if (segment) await page.locator(`button.seg[data-seg="${segment}"]`).click();
        const [download] = await Promise.all([page.waitForEvent("download"), page.locator("#r-csv").click()]);
        assert.equal(download.suggestedFilename(), `nps-${SITE}-${day(29)}-to-${day(0)}.csv`);
        const got = readFileSync(await download.path(), "utf8");
        const want = await api(`/v1/sites/${SITE}/responses?from=${day(29)}&to=${day(0)}&format=csv${segment ? `&segment=${segment}` : ""}`, "text/csv");
        assert.equal(got, want);
        assert.ok(got.includes(hostile.id));
        assert.equal(got.includes(fan.id), !segment, "a segment's export has only its answers");
      }
      await eventually(async () => /Downloaded nps-report-/.test(await text(page, ".live")), { what: "the announcement" });
      assert.deepEqual(page.problems, []);
      await context.close();
    });

    it("keyboard and sign-in: an old /report without a token asks for one, then the views switch by keyboard", async () => {
      const { context, page } = await open("/report/");
      await page.locator("#token").fill(READ);
      await page.locator("#token").press("Enter");
      await page.locator("#r-answers").waitFor();
      assert.match(page.url(), /\/console\?view=report/);
      await page.locator('button.tab[data-view="cases"]').focus();
      await page.keyboard.press("Enter");
      await page.locator(".board").waitFor();
      assert.match(page.url(), /\?view=cases/);
      await page.keyboard.press("Shift+Tab");
      await page.keyboard.press("Enter");
      await page.locator("#r-answers").waitFor();
      assert.equal(await page.locator(".board").count(), 0);
      assert.match(page.url(), /\?view=report/);
      // A segment by keyboard.
      await page.locator('button.seg[data-seg="detractor"]').focus();
      await page.keyboard.press("Enter");
      await eventually(async () => (await page.locator('button.seg[aria-pressed="true"]').getAttribute("data-seg")) === "detractor", { what: "the segment" });
      assert.deepEqual(page.problems, []);
      await context.close();
    });

    it("leaving the report while its figures are on the wire: the late answers are dropped, no error", async () => {
      const { context, page } = await open(`/console?view=report#token=${READ}&site=${SITE}`);
      await page.locator("#r-answers").waitFor();
      // Hold the report's next requests (its figures, its latest answers) until the view is gone.
      const held = [];
      let release = false;
      await page.route(/\/v1\/sites\/[^/]+\/(summary|responses)\?/, (route) => (release ? route.continue() : held.push(route)));
      await page.locator('button.seg[data-seg="detractor"]').click();
      await eventually(() => held.length >= 1, { what: "a report request on the wire" });
      await page.locator('button.tab[data-view="cases"]').click();
      await page.locator(".board").waitFor();
      release = true;
      for (const route of held) await route.continue();
      await Promise.all(held.map((route) => route.request().response()));
      await new Promise((r) => setTimeout(r, 500)); // the late answers have been read (and dropped)
      assert.equal(await page.locator("#r-answers").count(), 0);
      assert.deepEqual(page.problems, []);
      await context.close();
    });

    it("the e-mail view: each batch's funnel as the API gives it, who did not answer, axe-clean", async () => {
      const f = await api(`/v1/sites/${SITE}/invitations`);
      assert.equal(f.batches.length, 1);
      const b = f.batches[0];
      const { context, page } = await open(`/console?view=email#token=${READ}&site=${SITE}`, { bypassCSP: true });
      const row = page.locator("table.funnel tbody tr").first();
      await row.waitFor();
      const cells = await row.locator("td").allTextContents();
      assert.deepEqual(cells, [b.survey, b.batch, ...[b.invited, b.sent, b.delivered, b.opened, b.answered, b.commented].map(String), pct(b.response_rate)]);
      assert.equal(await text(page, "#e-missing-title"), `Did not answer (${f.non_respondents.length})`);
      const first = await page.locator("table.missing tbody tr td").first().textContent();
      assert.ok(first.startsWith(f.non_respondents[0].recipient), first);
      assert.equal(await page.locator('button.tab[data-view="email"]').getAttribute("aria-current"), "page");
      await page.addScriptTag({ path: AXE });
      const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
      assert.deepEqual(result.violations.map((v) => v.id), []);
      await context.close();
    });

    it("axe: no violations on the report view", async () => {
      // axe is injected by the test (the page's CSP rightly refuses it otherwise).
      const { context, page } = await open(`/console?view=report#token=${READ}&site=${SITE}&response=${hostile.id}`, { bypassCSP: true });
      await showing(page, await summary(30));
      await page.locator(".focus .words").waitFor();
      await page.locator(".by-survey").waitFor();
      await page.locator("details summary").first().click();
      await page.addScriptTag({ path: AXE });
      const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
      const found = result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
      assert.deepEqual(found, []);
      await context.close();
    });
  });
}
