// The report page in headless Chromium against the real `nps-edge` binary on 127.0.0.1:
// 30 days of history written into the store, today's answers POSTed over HTTP (one of them an
// XSS attempt), then /report#token=… must render the KPIs, the trend chart and the segment split,
// show comments as text only, honour the strict CSP, drop the token from the URL, and refuse a
// wrong token. Saves tests/artifacts/report/report.png.
//
// Run by scripts/test-report.sh (builds the binary first). Needs NPS_EDGE_BIN or target/debug/nps-edge.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import http from 'node:http';
import { DatabaseSync } from 'node:sqlite';
import { chromium } from 'playwright-core';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const BIN = process.env.NPS_EDGE_BIN || join(ROOT, 'target/debug/nps-edge');
const ARTIFACTS = join(ROOT, 'tests/artifacts/report');
const READ = 'read_browser_0123456789abcdef';
const ADMIN = 'admin_browser_0123456789abcdef';
const ORIGIN = 'http://localhost:3000';
const DAY = 86400000;
const XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script> & "quotes"';

let dir;
let port;
let server;
let browser;
const expected = { responses: 0, p: 0, d: 0, days: new Set(), xssId: 'today-xss' };

function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => res(p));
    });
  });
}

function request(method, path, body, headers = {}) {
  return new Promise((res, rej) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers }, (r) => {
      let data = '';
      r.setEncoding('utf8');
      r.on('data', (c) => (data += c));
      r.on('end', () => res({ status: r.statusCode, body: data, headers: r.headers }));
    });
    req.on('error', rej);
    req.setTimeout(10000, () => req.destroy(new Error('timeout')));
    if (body) req.write(body);
    req.end();
  });
}

async function waitHealthy() {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await request('GET', '/healthz')).status === 200) return;
    } catch (_) { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('nps-edge did not become healthy');
}

// Deterministic pseudo-random numbers.
let seed = 42;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);

const COMMENTS = {
  detractor: ['Delivery took two weeks and nobody answered my e-mails.', 'Checkout kept failing with my card.', 'Charged twice, still waiting for the refund.'],
  passive: ['Fine, but shipping costs are high.', 'Good products, the site is a bit slow.', null],
  promoter: ['Great service, fast delivery!', 'Love the new collection.', null, 'Support solved my issue in minutes.'],
};

function wire(id, score, survey, visitor, comment, extra = {}) {
  const seg = score <= 6 ? 'detractor' : score <= 8 ? 'passive' : 'promoter';
  const r = {
    id, rev: 1, site: 'demo', survey, score, visitor, locale: 'en-US',
    page: 'https://shop.example/' + survey,
    user: { id: 'u-' + visitor, account: 'acct-' + (visitor.length % 5), email: visitor + '@example.com' },
    ...extra,
  };
  if (comment) r.comment = comment;
  if (seg === 'detractor' && r.contact_ok === undefined) r.contact_ok = rnd() < 0.6;
  if (seg === 'promoter' && r.review_clicked === undefined) r.review_clicked = rnd() < 0.4;
  return { r, seg };
}

const segOf = (score) => (score <= 6 ? 'detractor' : score <= 8 ? 'passive' : 'promoter');

function seedHistory(db) {
  const today = Math.floor(Date.now() / DAY);
  const ins = db.prepare(`INSERT INTO responses (site, id, rev, survey, score, segment, respondent, visitor, user_id,
    account, comment, locale, page, contact_ok, review_clicked, body, received_ms, updated_ms)
    VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const ev = db.prepare('INSERT INTO events (site, id, survey, visitor, type, user_id, received_ms) VALUES (?, ?, ?, ?, ?, ?, ?)');
  for (let back = 29; back >= 1; back--) {
    if (back === 12 || back === 13) continue; // a weekend with no answers: the chart must show a gap
    const n = 3 + Math.floor(rnd() * 6);
    const trend = (29 - back) / 29; // scores drift up over the month
    for (let k = 0; k < n; k++) {
      const x = rnd() + trend * 0.35;
      const score = x > 0.8 ? 9 + Math.round(rnd()) : x > 0.5 ? 7 + Math.round(rnd()) : Math.floor(rnd() * 7);
      const id = `h-${back}-${k}`;
      const visitor = `hv${back}x${k}`;
      const { r, seg } = wire(id, score, k % 3 ? 'checkout' : 'onboarding', visitor, COMMENTS[segOf(score)][k % COMMENTS[segOf(score)].length]);
      const at = (today - back) * DAY + 9 * 3600000 + k * 600000;
      ins.run('demo', id, r.survey, score, seg, r.user.id, visitor, r.user.id, r.user.account, r.comment ?? null,
        r.locale, r.page, r.contact_ok === undefined ? null : Number(r.contact_ok),
        r.review_clicked === undefined ? null : Number(r.review_clicked), JSON.stringify(r), at, at);
      expected.responses++;
      if (seg === 'promoter') expected.p++;
      if (seg === 'detractor') expected.d++;
      expected.days.add(today - back);
      for (let s = 0; s < 2; s++) ev.run('demo', `${id}-shown-${s}`, r.survey, visitor, 'shown', null, at - 1000);
    }
  }
}

before(async () => {
  assert.ok(existsSync(BIN), `${BIN} missing: run scripts/test-report.sh (it builds it)`);
  dir = mkdtempSync(join(tmpdir(), 'nps-report-'));
  port = await freePort();
  const db = join(dir, 'edge.sqlite');
  writeFileSync(join(dir, 'edge.toml'), `
[[sites]]
id = "demo"
origins = ["${ORIGIN}"]
rate_limit = { per_minute = 100000, burst = 100000 }

[[tokens]]
name = "ops"
role = "admin"
sites = ["*"]
secret = "env:NPS_ADMIN_TOKEN"

[[tokens]]
name = "cx"
role = "read"
sites = ["*"]
secret = "env:NPS_READ_TOKEN"

[native]
db = "${db}"
`);
  server = spawn(BIN, ['--config', join(dir, 'edge.toml'), '--listen', `127.0.0.1:${port}`], {
    env: { ...process.env, NPS_ADMIN_TOKEN: ADMIN, NPS_READ_TOKEN: READ },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  server.stderr.on('data', () => {});
  await waitHealthy();

  const conn = new DatabaseSync(db);
  conn.exec('PRAGMA busy_timeout = 5000');
  seedHistory(conn);
  conn.close();

  // Today, over HTTP: a few answers, one of them trying XSS, then its comment as rev 2.
  const today = [
    wire('today-1', 10, 'checkout', 'tv1', 'Best shop around'),
    wire('today-2', 9, 'checkout', 'tv2', null),
    wire('today-3', 8, 'onboarding', 'tv3', 'Ok'),
    wire(expected.xssId, 2, 'checkout', 'tv4', null, { contact_ok: true }),
  ];
  for (const { r, seg } of today) {
    const res = await request('POST', '/v1/responses', JSON.stringify(r), { 'content-type': 'application/json', origin: ORIGIN });
    assert.equal(res.status, 202, res.body);
    expected.responses++;
    if (seg === 'promoter') expected.p++;
    if (seg === 'detractor') expected.d++;
  }
  expected.days.add(Math.floor(Date.now() / DAY));
  const xss = { ...today[3].r, rev: 2, comment: XSS };
  const res = await request('POST', '/v1/responses', JSON.stringify(xss), { 'content-type': 'application/json', origin: ORIGIN });
  assert.equal(JSON.parse(res.body).status, 'updated');

  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  if (browser) await browser.close();
  if (server) {
    server.kill('SIGTERM');
    await new Promise((r) => { server.once('exit', r); setTimeout(r, 3000); });
    if (server.exitCode === null) server.kill('SIGKILL');
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('report renders KPIs, trend, split and text-only comments under a strict CSP', async () => {
  const ctx = await browser.newContext({ viewport: { width: 1360, height: 900 }, deviceScaleFactor: 1 });
  const page = await ctx.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`); });
  await page.goto(`http://127.0.0.1:${port}/report#token=${READ}&site=demo&response=${expected.xssId}`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 15000 });

  assert.ok(!page.url().includes('token'), `token left in the URL: ${page.url()}`);
  assert.ok(page.url().includes(`response=${expected.xssId}`));

  const nps = Math.round((100 * (expected.p - expected.d)) / expected.responses);
  const kpi = await page.textContent('#kpi-nps');
  assert.equal(kpi, (nps > 0 ? '+' : '') + nps, `NPS shown ${kpi}, expected ${nps}`);
  assert.equal(await page.textContent('#kpi-responses'), expected.responses.toLocaleString('en-US'));

  // Trend: one dot per day with answers, a gap for the empty weekend, an SVG built by the DOM.
  const dots = await page.locator('#trend svg circle.nps-dot').count();
  assert.equal(dots, expected.days.size);
  assert.ok((await page.locator('#trend svg path.nps-line').count()) >= 2, 'line broken by the empty days');
  assert.equal(await page.locator('#split > div').count(), 3);
  assert.equal(await page.locator('#scores svg rect').count(), 11);

  // The XSS comment is text: visible literally, no element created, nothing executed.
  const focusText = await page.textContent('#focus .comment-text');
  assert.equal(focusText, XSS);
  assert.ok((await page.textContent('#comments')).includes(XSS));
  assert.equal(await page.locator('#app img, #app script').count(), 0);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  assert.ok(await page.isVisible('#focus .badge.contact'), 'detractor who opted in is flagged');

  // Segment tabs fetch again by segment.
  await page.click('#tabs button[data-seg="promoter"]');
  await page.waitForFunction(() => [...document.querySelectorAll('#comments .score')].every((s) => s.classList.contains('promoter')));

  await page.click('#tabs button[data-seg=""]');
  await page.waitForFunction(() => document.querySelectorAll('#comments .score.detractor').length > 0);
  assert.deepEqual(problems.filter((p) => /Content Security Policy|Refused/.test(p)), [], 'no CSP violations');
  assert.deepEqual(problems, []);

  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
  await ctx.close();
});

test('without a token the page asks for one; a wrong token is refused', async () => {
  const ctx = await browser.newContext({ viewport: { width: 900, height: 700 } });
  const page = await ctx.newPage();
  await page.goto(`http://127.0.0.1:${port}/report`);
  await page.waitForSelector('#login:not([hidden])');
  assert.ok(await page.isHidden('#app'));
  await page.fill('#token', 'not-the-right-token-at-all');
  await page.click('#login-form button[type=submit]');
  await page.waitForFunction(() => document.getElementById('login-error').textContent.length > 0);
  assert.match(await page.textContent('#login-error'), /does not grant access/);
  await page.fill('#token', READ);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('body[data-ready="true"]', { timeout: 15000 });
  assert.ok(await page.isVisible('#trend svg'));
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'report-narrow.png'), fullPage: true });
  await ctx.close();
});

test('the API behind the page: 401 without token, 403 wrong token, CSV export', async () => {
  assert.equal((await request('GET', '/v1/sites/demo/summary')).status, 401);
  assert.equal((await request('GET', '/v1/sites/demo/summary', null, { authorization: 'Bearer nope-nope-nope' })).status, 403);
  const csv = await request('GET', '/v1/sites/demo/responses?format=csv', null, { authorization: `Bearer ${READ}` });
  assert.equal(csv.status, 200);
  assert.match(csv.headers['content-type'], /^text\/csv/);
  assert.ok(csv.body.includes('"<img src=x onerror=""window.__xss=1""><script>window.__xss=2</script> & ""quotes"""'));
});
