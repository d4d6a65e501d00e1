// A host page whose Content-Security-Policy allows the widget's scripts but not WebAssembly
// ('wasm-unsafe-eval' missing from script-src): the site owner is told why (one console line naming
// the missing source, one `nps:error` event on document), nothing is shown, and no later trigger
// fetches or logs again (widget/build/csp-check.js). With the source present: no nps:error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, until, sleep } from './harness.mjs';

let h;
before(async () => (h = await start()));
after(async () => h && h.stop());

const LINE =
  "nps: survey not shown: this page's Content-Security-Policy forbids WebAssembly; add 'wasm-unsafe-eval' to script-src";
const NONCE = 'n0nce4Test';

// The recorders run as init scripts (CDP, not subject to the page's CSP).
async function open(url) {
  const page = await h.newPage();
  page.warnings = [];
  page.on('console', (m) => m.type() == 'warning' && m.text().startsWith('nps:') && page.warnings.push(m.text()));
  await page.addInitScript(() => {
    window.__npsErrors = [];
    window.__violations = [];
    document.addEventListener('nps:error', (e) => __npsErrors.push(e.detail));
    document.addEventListener('securitypolicyviolation', (e) => __violations.push(e.blockedURI));
  });
  h.edge.assets = [];
  h.edge.posts = [];
  await page.goto(url);
  return page;
}
const errors = (page) => page.evaluate(() => window.__npsErrors);
const wasmFetches = () => h.edge.assets.filter((a) => a == 'nps-widget_bg.wasm').length;

// A nonce-based policy (the loader tag carries the nonce, the loader passes it on).
function noncePage(p, wasmSource) {
  const csp = `default-src 'none'; script-src 'nonce-${NONCE}' 'strict-dynamic'${wasmSource}; connect-src ${h.edgeUrl}; style-src 'self'; img-src data:`;
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title><link rel="icon" href="data:,"></head>
<body><main><h1>Order confirmed</h1></main>
<script nonce="${NONCE}">window.nps=window.nps||function(){(nps.q=nps.q||[]).push(arguments)};</script>
<script async nonce="${NONCE}" src="${h.edgeUrl}/nps.js" data-endpoint="${h.edgeUrl}" data-site="demo" data-survey="checkout"></script></body></html>`;
  return h.page(p, html, { 'content-security-policy': csp });
}
// An allow-list policy (the README's, or the README's without 'wasm-unsafe-eval').
const hostPage = (p, wasmSource) =>
  h.embed(p, {}, {
    headers: {
      'content-security-policy': `default-src 'none'; script-src ${h.edgeUrl}${wasmSource}; connect-src ${h.edgeUrl}; style-src 'self'; img-src data:`,
    },
  });

for (const [name, url, wasmType] of [
  ['nonce + strict-dynamic', () => noncePage('/csp-nonce', ''), null],
  ['edge origin in script-src', () => hostPage('/csp-host', ''), null],
  ['edge origin, wasm not served as application/wasm (compiled from bytes)', () => hostPage('/csp-bytes', ''), 'application/octet-stream'],
]) {
  test(`CSP without 'wasm-unsafe-eval' (${name}): one console line, one nps:error, nothing shown, no retry`, async () => {
    h.edge.wasmType = wasmType;
    try {
      const page = await open(url());
      await until(async () => (await errors(page)).length, 5000, 'nps:error');
      assert.deepEqual(await errors(page), [{ reason: 'csp-wasm', missing: "'wasm-unsafe-eval'" }]);
      // It was the page's CSP that refused the wasm (the scripts were allowed and ran).
      assert.ok((await page.evaluate(() => __violations)).includes('wasm-eval'));
      assert.ok(h.edge.assets.includes('nps-widget.js') && h.edge.assets.includes('nps-send.js'));
      await sleep(200);
      assert.deepEqual(page.warnings, [LINE]);
      // Later triggers (a button calling nps('show'), an SPA route change) neither fetch nor log again.
      await page.evaluate(() => (nps('show'), nps('show'), history.pushState({}, '', '/next')));
      await sleep(500);
      assert.equal(wasmFetches(), 1, 'the wasm is fetched once');
      assert.deepEqual(page.warnings, [LINE], 'one console line in all');
      assert.equal((await errors(page)).length, 1, 'one nps:error in all');
      assert.equal(await page.locator('nps-survey').count(), 0, 'nothing shown');
      assert.deepEqual(h.edge.events('shown'), []);
      assert.deepEqual(page.errors, [], 'no page error or unhandled rejection');
      await page.context().close();
    } finally {
      h.edge.wasmType = null;
    }
  });
}

for (const [name, url] of [
  ['nonce + strict-dynamic', () => noncePage('/csp-nonce-ok', " 'wasm-unsafe-eval'")],
  ['edge origin in script-src', () => hostPage('/csp-host-ok', " 'wasm-unsafe-eval'")],
]) {
  test(`CSP with 'wasm-unsafe-eval' (${name}): shown, no nps:error, no warning`, async () => {
    const page = await open(url());
    await page.locator('nps-survey .card').waitFor();
    await sleep(200);
    assert.deepEqual(await errors(page), []);
    assert.deepEqual(page.warnings, []);
    assert.deepEqual(await page.evaluate(() => __violations), []);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}
