// The console's first screen with 10,000 answers and 1,000 cases: navigation → the board's rows
// and the figures drawn, then navigation → the report view (figures, trend, latest answers), in
// headless Chromium on loopback, against the native edge (or the worker:
// NPS_CONFORMANCE_TARGETS=worker). Prints figures; asserts nothing (a benchmark).
import { eventually, launchBrowser } from "../../tests/e2e/harness.mjs";
import { ORIGIN, READ, startTarget } from "../../tests/conformance/targets.mjs";

const kind = (process.env.NPS_CONFORMANCE_TARGETS ?? "native").split(/\s+/)[0];
const ANSWERS = Number(process.env.ANSWERS ?? 10_000);
const RUNS = Number(process.env.RUNS ?? 7);
const t = await startTarget(kind);
const survey = "bench";
const started = Date.now();
let n = 0;
async function post(i) {
  // One in ten is a detractor: 1,000 cases.
  const score = i % 10 === 0 ? 1 + (i % 6) : 7 + (i % 4);
  const body = { id: `b-${i}`, rev: 1, site: "demo", survey, score, visitor: `v-${i}`, user: { id: `u-${i}`, account: `acct-${i % 50}` }, comment: i % 10 === 0 ? `Order ${i} arrived late` : undefined };
  const r = await fetch(t.url + "/v1/responses", { method: "POST", headers: { origin: ORIGIN, "content-type": "application/json" }, body: JSON.stringify(body) });
  if (r.status !== 202) throw new Error(`answer ${i}: ${r.status}`);
  n++;
}
for (let i = 0; i < ANSWERS; i += 100) await Promise.all(Array.from({ length: Math.min(100, ANSWERS - i) }, (_, k) => post(i + k)));
const cases = async () => (await (await fetch(`${t.url}/v1/sites/demo/summary`, { headers: { authorization: `Bearer ${READ}` } })).json()).cases?.opened ?? 0;
await eventually(async () => (await cases()) >= ANSWERS / 10, { what: "1,000 cases stored", timeoutMs: 120_000 });
console.log(`${kind}: ${n} answers, ${await cases()} cases stored in ${((Date.now() - started) / 1000).toFixed(1)} s`);

const browser = await launchBrowser();
const times = [];
for (let run = 0; run < RUNS; run++) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${t.url}/console#token=${READ}&site=demo`);
  await page.locator(".board tbody tr").first().waitFor({ timeout: 30_000 });
  await page.locator(".figures dl").waitFor({ timeout: 30_000 });
  const ms = await page.evaluate(() => performance.now());
  const rows = await page.locator(".board tbody tr").count();
  times.push(ms);
  console.log(`  run ${run + 1}: first screen (${rows} rows + figures) at ${ms.toFixed(0)} ms`);
  await context.close();
}
const report = [];
for (let run = 0; run < RUNS; run++) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${t.url}/console?view=report#token=${READ}&site=demo`);
  await page.locator("svg.trend").waitFor({ timeout: 30_000 });
  await page.locator(".answers-card .answer").first().waitFor({ timeout: 30_000 });
  const ms = await page.evaluate(() => performance.now());
  report.push(ms);
  console.log(`  run ${run + 1}: report (figures, trend, split, latest answers) at ${ms.toFixed(0)} ms`);
  await context.close();
}
for (const [what, list] of [["console first screen (board)", times], ["report view", report]]) {
  list.sort((a, b) => a - b);
  const median = list[Math.floor(list.length / 2)];
  console.log(`${kind}: ${what}, ${ANSWERS} answers / ${ANSWERS / 10} cases: median ${median.toFixed(0)} ms, min ${list[0].toFixed(0)}, max ${list[list.length - 1].toFixed(0)} (target < 1000 ms; the first run compiles the wasm cold)`);
}
await browser.close();
await t.stop();
