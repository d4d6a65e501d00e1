// A Rust panic in the widget is a wasm trap (panic=immediate-abort). The glue's guard
// (widget/build/trap-guard.js) must keep it inside the widget: one console line, the widget is
// hidden, the page never sees an error, and the instance is never entered again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { start, card, until, sleep, root } from './harness.mjs';

const guardSrc = fs.readFileSync(path.join(root, 'widget/build/trap-guard.js'), 'utf8');
const guard = new Function(guardSrc + '\nreturn guard;')();

// (module (import "e" "cb" (func)) (func (export "outer") call 0)
//         (func (export "boom") unreachable) (func (export "ok") (result i32) i32.const 7))
const trapModule = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x08, 0x02, 0x60, 0x00, 0x00, 0x60, 0x00, 0x01, 0x7f, // types: ()→(), ()→i32
  0x02, 0x08, 0x01, 0x01, 0x65, 0x02, 0x63, 0x62, 0x00, 0x00, // import e.cb
  0x03, 0x04, 0x03, 0x00, 0x00, 0x01, // funcs
  0x07, 0x15, 0x03, 0x05, 0x6f, 0x75, 0x74, 0x65, 0x72, 0x00, 0x01, 0x04, 0x62, 0x6f, 0x6f, 0x6d, 0x00, 0x02,
  0x02, 0x6f, 0x6b, 0x00, 0x03, // exports outer, boom, ok
  0x0a, 0x0f, 0x03, 0x04, 0x00, 0x10, 0x00, 0x0b, 0x03, 0x00, 0x00, 0x0b, 0x04, 0x00, 0x41, 0x07, 0x0b,
]);

async function guarded(cb) {
  const warn = console.warn, warnings = [];
  console.warn = (m) => warnings.push(m);
  let traps = 0;
  let g;
  const { instance } = await WebAssembly.instantiate(trapModule, { e: { cb: () => cb(g) } });
  g = guard(instance.exports, () => traps++);
  return { g, warnings, traps: () => traps, restore: () => (console.warn = warn) };
}

test('guard: a trap is contained once, then the instance is never entered again', async () => {
  const t = await guarded(() => {});
  try {
    assert.equal(t.g.ok(), 7, 'calls pass through while healthy');
    assert.equal(t.g.boom(), undefined, 'the outermost call swallows the trap');
    assert.equal(t.g.boom(), undefined);
    assert.equal(t.g.ok(), undefined, 'a dead instance is not entered');
    await sleep(10);
    assert.equal(t.traps(), 1, 'the loader is told once');
    assert.equal(t.warnings.length, 1);
    assert.match(t.warnings[0], /internal error and was hidden/);
  } finally {
    t.restore();
  }
});

test('guard: a trap in a nested call unwinds the outer wasm frames', async () => {
  const t = await guarded((g) => g.boom());
  try {
    assert.equal(t.g.outer(), undefined);
    await sleep(10);
    assert.equal(t.traps(), 1);
    assert.equal(t.g.ok(), undefined);
  } finally {
    t.restore();
  }
});

test('guard: JS errors pass through untouched', async () => {
  const t = await guarded(() => {
    throw new TypeError('from the page');
  });
  try {
    assert.throws(() => t.g.outer(), TypeError);
    assert.equal(t.g.ok(), 7, 'still alive');
  } finally {
    t.restore();
  }
});

let h;
before(async () => (h = await start()));
after(async () => h && h.stop());

test('real widget: a trap while handling a click hides the widget; the page sees no error', async () => {
  const page = await h.newPage();
  const warnings = [];
  page.on('console', (m) => m.type() == 'warning' && warnings.push(m.text()));
  await page.goto(h.embed('/trap', {}));
  await card(page).waitFor();
  // Corrupt the widget's memory (vtables, heap): its next Rust call traps.
  await page.evaluate(async () => {
    const w = await __npsWidget();
    new Uint8Array(w.memory.buffer).fill(255);
  });
  await page.locator('nps-survey .s').nth(9).click();
  await until(() => page.evaluate(() => !document.querySelector('nps-survey')), 3000, 'widget hidden');
  await sleep(100);
  assert.deepEqual(page.errors, [], 'no uncaught error reached the page');
  assert.equal(warnings.filter((w) => /internal error/.test(w)).length, 1, warnings.join('\n'));
  assert.equal(h.edge.responses().length, 0);
  await page.close();
});
