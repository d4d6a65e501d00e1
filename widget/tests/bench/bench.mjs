// Size and speed of the widget: gzip sizes of every file in dist/widget/, and trigger → interactive
// times in headless Chromium on loopback (cold: empty cache; cached: reload with HTTP cache; warm:
// re-show in the same page), plus the layout shift caused by the float widget.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { start, card, sleep } from '../browser/harness.mjs';

const dist = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../dist/widget');
const gz = (f) => zlib.gzipSync(fs.readFileSync(path.join(dist, f)), { level: 9 }).length;
const raw = (f) => fs.statSync(path.join(dist, f)).size;
const css = path.resolve(dist, '../../widget/src/style.css');

console.log('file                  raw B   gzip B');
for (const f of ['nps.js', 'nps-send.js', 'nps-widget.js', 'nps-widget_bg.wasm'])
  console.log(f.padEnd(20), String(raw(f)).padStart(7), String(gz(f)).padStart(8));
const cssGz = zlib.gzipSync(fs.readFileSync(css), { level: 9 }).length;
console.log('(style.css, inside the wasm)'.padEnd(28), String(cssGz).padStart(8));
const loader = gz('nps.js');
const full = gz('nps-send.js') + gz('nps-widget.js') + gz('nps-widget_bg.wasm');
console.log(`loader gzip: ${loader} B (budget 2048: ${loader <= 2048 ? 'OK' : 'OVER'})`);
console.log(`full widget gzip (send + glue + wasm incl. CSS): ${full} B (budget 46080: ${full <= 46080 ? 'OK' : 'OVER'})`);

const N = +(process.env.BENCH_RUNS || 7);
const h = await start();
h.edge.cache = true;
try {
  const url = h.embed('/bench', { trigger: 'manual', brand: 'Bench' });
  const measure = (page) =>
    page.evaluate(
      () =>
        new Promise((res) => {
          const t0 = performance.now();
          document.addEventListener('nps:shown', () => {
            // Interactive: the score buttons are in the DOM with listeners attached.
            const ok = document.querySelector('nps-survey').shadowRoot.querySelectorAll('.s').length == 11;
            res(ok ? performance.now() - t0 : -1);
          }, { once: true });
          nps('show', {});
        })
    );
  const median = (a) => a.sort((x, y) => x - y)[a.length >> 1];
  const cold = [], cached = [], warm = [], cls = [];
  for (let i = 0; i < N; i++) {
    const page = await h.newPage();
    await page.goto(url);
    await page.waitForFunction(() => window.__npsLoader);
    cold.push(await measure(page));
    await page.reload();
    await page.waitForFunction(() => window.__npsLoader);
    await sleep(50);
    cached.push(await measure(page));
    await page.evaluate(() => nps('hide'));
    warm.push(await measure(page));
    await page.context().close();
  }
  const page = await h.newPage();
  await page.addInitScript(() => {
    window.__cls = 0;
    new PerformanceObserver((l) => l.getEntries().forEach((e) => (window.__cls += e.hadRecentInput ? 0 : e.value))).observe({ type: 'layout-shift', buffered: true });
  });
  await page.goto(h.embed('/bench-cls', { brand: 'Bench' }, { body: '<p>' + 'Lorem ipsum dolor sit amet. '.repeat(300) + '</p>' }));
  await card(page).waitFor();
  await sleep(600);
  cls.push(await page.evaluate(() => window.__cls));
  const f = (a) => a.map((x) => x.toFixed(0)).join(' ');
  console.log(`trigger -> interactive, ms (median of ${N}; headless Chromium, loopback):`);
  console.log(`  cold (empty cache)        ${median([...cold]).toFixed(1)}  [${f(cold)}]  target <= 150`);
  console.log(`  cached (reload, HTTP cache) ${median([...cached]).toFixed(1)}  [${f(cached)}]  target <= 50`);
  console.log(`  warm (re-show, same page) ${median([...warm]).toFixed(1)}  [${f(warm)}]`);
  console.log(`CLS (float widget over a long page): ${cls[0]}`);
} finally {
  await h.stop();
}
