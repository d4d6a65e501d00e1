// Test harness for the widget's browser tests: two loopback servers (the "shop" serving test pages,
// and a fake edge serving dist/widget/ and recording POSTs) and a headless Chromium driven by
// playwright-core. Everything binds to 127.0.0.1 on free ports and is closed by `stop()`.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '../../..');
const require = createRequire(path.join(root, 'package.json'));
const { chromium } = require('playwright-core');
export const dist = path.join(root, 'dist/widget');
export const artifacts = path.join(root, 'tests/artifacts/widget');

const types = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html; charset=utf-8' };

function listen(handler) {
  return new Promise((resolve) => {
    const srv = http.createServer(handler);
    srv.keepAliveTimeout = 1000;
    srv.listen(0, '127.0.0.1', () => resolve(srv));
  });
}

/** Fake edge: POST /v1/responses|events, GET eligibility, static dist/widget/. */
export class Edge {
  constructor() {
    this.posts = []; // {path, body}
    this.assets = []; // asset paths served, in order
    this.status = 202; // status for the next POSTs (set 503 to simulate an outage)
    this.statusOf = null; // (body) => status for that one POST, or undefined for `status`
    this.eligible = {}; // user or account id -> true/false/HTTP status/response body
    this.cache = false; // serve assets cacheable (the benchmark's cached runs)
    this.wasmType = null; // override the wasm's content-type (a misconfigured CDN)
  }
  responses() {
    return this.posts.filter((p) => p.path == '/v1/responses').map((p) => p.body);
  }
  events(type) {
    return this.posts.filter((p) => p.path == '/v1/events' && (!type || p.body.type == type)).map((p) => p.body);
  }
  handle(req, res) {
    const url = new URL(req.url, 'http://x');
    const cors = { 'access-control-allow-origin': '*' };
    if (req.method == 'POST') {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const parsed = JSON.parse(body);
        const status = (this.statusOf && this.statusOf(parsed)) || this.status;
        if (status < 300) this.posts.push({ path: url.pathname, body: parsed, type: req.headers['content-type'] });
        else this.failed = (this.failed || 0) + 1;
        res.writeHead(status, { ...cors, 'content-type': 'application/json' });
        res.end(JSON.stringify(status < 300 ? { id: parsed.id, rev: parsed.rev, segment: 'x', status: 'accepted' } : {}));
      });
      return;
    }
    const elig = url.pathname.match(/^\/v1\/sites\/([^/]+)\/eligibility$/);
    if (elig) {
      this.eligibilityCalls = (this.eligibilityCalls || 0) + 1;
      const v = this.eligible[url.searchParams.get('user')] ?? this.eligible[url.searchParams.get('account')] ?? true;
      res.writeHead(typeof v == 'number' ? v : 200, { ...cors, 'content-type': 'application/json' });
      res.end(typeof v == 'number' ? '{}' : JSON.stringify(typeof v == 'object' ? v : { show: v }));
      return;
    }
    const file = path.join(dist, path.basename(url.pathname));
    if (fs.existsSync(file)) {
      this.assets.push(path.basename(file));
      res.writeHead(200, { ...cors, 'cache-control': this.cache ? 'public, max-age=300' : 'no-store', 'content-type': (path.extname(file) == '.wasm' && this.wasmType) || types[path.extname(file)] || 'application/octet-stream' });
      fs.createReadStream(file).pipe(res);
      return;
    }
    res.writeHead(404, cors);
    res.end();
  }
}

export async function start() {
  const edge = new Edge();
  const pages = new Map();
  const edgeSrv = await listen((q, r) => edge.handle(q, r));
  const shopSrv = await listen((req, res) => {
    const p = pages.get(new URL(req.url, 'http://x').pathname) || pages.get('*');
    if (!p) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...(p.headers || {}) });
    res.end(p.html);
  });
  const edgeUrl = `http://127.0.0.1:${edgeSrv.address().port}`;
  const shopUrl = `http://127.0.0.1:${shopSrv.address().port}`;
  // launch() gives every run a fresh temporary profile (it refuses --user-data-dir in args).
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  fs.mkdirSync(artifacts, { recursive: true });
  return {
    edge,
    edgeUrl,
    shopUrl,
    browser,
    /** Serves `html` at `path` on the shop origin (`*` = every path, for SPA tests). */
    page(p, html, headers) {
      pages.set(p, { html, headers });
      return shopUrl + (p == '*' ? '/' : p);
    },
    /** A page embedding the loader with `data-*` attributes (`{site: 'demo'}` → data-site). */
    embed(p, attrs = {}, { head = '', body = '', before = '', headers } = {}) {
      const a = { endpoint: edgeUrl, site: 'demo', survey: 'checkout', ...attrs };
      const data = Object.entries(a)
        .filter(([, v]) => v != null)
        .map(([k, v]) => ` data-${k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}="${v}"`)
        .join('');
      const html = `<!doctype html><html lang="${attrs.lang || 'en'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>Shop</title><link rel="icon" href="data:,">${head}</head>
<body><main><h1>Merci pour votre commande</h1><p><a href="#top" id="first-link">Order #981</a></p>
<div id="slot"></div>${body}</main>${before}
<script async src="${edgeUrl}/nps.js"${data}></script></body></html>`;
      return this.page(p, html, headers);
    },
    async newPage(opts = {}) {
      const ctx = await browser.newContext({ viewport: { width: 1024, height: 720 }, ...opts });
      const page = await ctx.newPage();
      page.errors = [];
      page.on('pageerror', (e) => page.errors.push(String(e)));
      page.on('console', (m) => m.type() == 'error' && page.errors.push(m.text()));
      return page;
    },
    async stop() {
      await browser.close().catch(() => {});
      edgeSrv.closeAllConnections();
      shopSrv.closeAllConnections();
      edgeSrv.close();
      shopSrv.close();
    },
  };
}

/** The widget's card inside the shadow root (playwright CSS pierces open shadow roots). */
export const card = (page) => page.locator('nps-survey .card');

export async function shot(page, name, locator) {
  const file = path.join(artifacts, name + '.png');
  await (locator || page).screenshot({ path: file, animations: 'disabled' });
  return file;
}

/** Waits until `fn()` is truthy (polling), or throws after `ms`. */
export async function until(fn, ms = 5000, what = 'condition') {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
