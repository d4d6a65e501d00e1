// Isolation (hostile host CSS, strict CSP), locales (incl. RTL), themes and small screens.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, card, shot, until, sleep } from './harness.mjs';

let h;
before(async () => (h = await start()));
after(async () => h && h.stop());

const HOSTILE = `<style>
* { all: unset !important; }
*, *::before, *::after { box-sizing: content-box !important; letter-spacing: 3px !important; line-height: 3 !important; }
html { font: 5px/9 serif !important; direction: rtl !important; color: red !important; }
div, p, span, button, textarea, label, a, svg { display: inline !important; color: #f0f !important; font: italic 30px serif !important;
  background: yellow !important; border: 5px dashed lime !important; margin: 9px !important; padding: 9px !important; }
nps-survey { display: none !important; position: absolute !important; transform: scale(.5) rotate(8deg) !important;
  filter: blur(3px) !important; opacity: .2 !important; font-size: 50px !important; color: red !important; }
body > * { z-index: -1 !important; }
</style>`;

async function cardShot(attrs, opts, name) {
  const page = await h.newPage(opts.context);
  await page.goto(h.embed('/' + name, attrs, opts));
  await card(page).waitFor();
  await sleep(450); // slide-in animation
  const buf = await card(page).screenshot({ animations: 'disabled' });
  await shot(page, name);
  const box = await card(page).boundingBox();
  return { page, buf, box };
}

test('a hostile host page (all: unset !important, aggressive globals) does not change the widget', async () => {
  const a = await cardShot({ brand: 'Maison' }, {}, 'isolation-1-plain');
  const b = await cardShot({ brand: 'Maison' }, { head: HOSTILE }, 'isolation-2-hostile');
  assert.deepEqual(b.box, a.box, 'same size and position');
  assert.ok(a.buf.equals(b.buf), 'pixel-identical card');
  // And it still works there.
  h.edge.posts = [];
  await b.page.locator('nps-survey .s').nth(10).click();
  await b.page.locator('nps-survey textarea').fill('ok');
  await shot(b.page, 'isolation-3-hostile-follow-up');
  await b.page.locator('nps-survey button.primary').click();
  await until(() => h.edge.responses().length == 2, 3000, 'answer sent');
  await a.page.context().close();
  await b.page.context().close();
});

test('widget CSS does not leak into the page', async () => {
  const page = await h.newPage();
  await page.goto(h.embed('/leak', {}, { body: '<button id="b">page button</button><textarea id="t"></textarea>' }));
  const style = () =>
    page.evaluate(() => ['b', 't'].map((id) => getComputedStyle(document.getElementById(id)).cssText || JSON.stringify(
      Object.fromEntries(['background-color', 'border-radius', 'font-family', 'height'].map((p) => [p, getComputedStyle(document.getElementById(id)).getPropertyValue(p)])))));
  const before = await style();
  await card(page).waitFor();
  assert.deepEqual(await style(), before);
  await page.context().close();
});

test('strict CSP (no unsafe-inline, no unsafe-eval) works end to end', async () => {
  h.edge.posts = [];
  const csp = `default-src 'none'; script-src ${h.edgeUrl} 'wasm-unsafe-eval'; connect-src ${h.edgeUrl}; style-src 'self'; img-src data:`;
  const page = await h.newPage();
  const violations = [];
  await page.exposeFunction('__violation', (v) => violations.push(v));
  await page.addInitScript(() =>
    document.addEventListener('securitypolicyviolation', (e) => window.__violation(e.violatedDirective + ' ' + e.blockedURI))
  );
  await page.goto(h.embed('/csp', { brand: 'Strict Shop' }, { headers: { 'content-security-policy': csp } }));
  await card(page).waitFor();
  await sleep(400);
  await shot(page, 'csp-1-question');
  await page.locator('nps-survey .s').nth(0).click();
  await page.locator('nps-survey textarea').fill('csp ok');
  await page.locator('nps-survey button.primary').click();
  await until(() => h.edge.responses().length == 2, 3000, 'answer sent under CSP');
  // The card is styled (the constructable stylesheet applied, no 'unsafe-inline' needed).
  const radius = await page.locator('nps-survey .card').evaluate((e) => getComputedStyle(e).borderTopLeftRadius);
  assert.equal(radius, '16px');
  assert.deepEqual(violations, []);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

for (const [lang, attrs, expect, rtl] of [
  ['fr', { lang: 'fr' }, 'Quelle est la probabilité que vous recommandiez Maison à un ami ou un collègue ?', false],
  ['de', { locale: 'de-DE' }, 'Wie wahrscheinlich ist es, dass Sie Maison einem Freund oder Kollegen empfehlen?', false],
  ['es', { locale: 'es' }, '¿Qué probabilidad hay de que recomiende Maison a un amigo o colega?', false],
  ['it', { locale: 'it' }, 'Quanto è probabile che consigli Maison a un amico o a un collega?', false],
  ['pt', { locale: 'pt-BR' }, 'Qual a probabilidade de você recomendar Maison a um amigo ou colega?', false],
  ['ar', { locale: 'ar' }, 'ما مدى احتمال أن توصي بـ Maison لصديق أو زميل؟', true],
  ['xx', { locale: 'xx-YY' }, 'How likely are you to recommend Maison to a friend or colleague?', false],
]) {
  test(`locale ${lang}${rtl ? ' (RTL)' : ''}`, async () => {
    h.edge.posts = [];
    const page = await h.newPage();
    await page.goto(h.embed('/locale-' + lang, { brand: 'Maison', ...attrs }));
    await card(page).waitFor();
    assert.equal(await page.locator('nps-survey .q').textContent(), expect);
    assert.equal(await card(page).getAttribute('dir'), rtl ? 'rtl' : 'ltr');
    if (rtl) {
      // 0 sits on the right in RTL, and ArrowLeft moves towards 10.
      const [b0, b10] = [await page.locator('nps-survey .s').nth(0).boundingBox(), await page.locator('nps-survey .s').nth(10).boundingBox()];
      assert.ok(b0.x > b10.x);
      await page.locator('nps-survey .s').nth(0).focus();
      await page.keyboard.press('ArrowLeft');
      assert.equal(await page.evaluate(() => document.querySelector('nps-survey').shadowRoot.activeElement.textContent), '1');
    }
    await sleep(400);
    await shot(page, `locale-${lang}-1-question`);
    if (lang == 'fr' || lang == 'ar') {
      await page.locator('nps-survey .s').nth(4).click();
      await page.locator('nps-survey textarea').waitFor();
      await shot(page, `locale-${lang}-2-follow-up`);
    }
    await until(() => h.edge.events('shown').length == 1, 2000, 'shown');
    await page.context().close();
  });
}

test('320 px wide, touch: every score is a usable target, nothing overflows', async () => {
  const page = await h.newPage({ viewport: { width: 320, height: 640 }, hasTouch: true, isMobile: true });
  await page.goto(h.embed('/narrow', { brand: 'Maison Lumière' }));
  await card(page).waitFor();
  await sleep(400);
  const box = await card(page).boundingBox();
  assert.ok(box.x >= 0 && box.x + box.width <= 320, 'card inside the viewport');
  for (let i = 0; i <= 10; i++) {
    const b = await page.locator('nps-survey .s').nth(i).boundingBox();
    assert.ok(b.width >= 20 && b.height >= 44, `score ${i} is ${b.width}x${b.height}`);
  }
  await shot(page, 'narrow-320-1-question');
  h.edge.posts = [];
  await page.locator('nps-survey .s').nth(9).tap();
  await until(() => h.edge.responses().length == 1, 3000, 'tap answers');
  await shot(page, 'narrow-320-2-follow-up');
  await page.context().close();
});

test('themes: dark, accent colour, inline mode (no layout shift for float)', async () => {
  const dark = await h.newPage();
  await dark.goto(h.embed('/dark', { brand: 'Nuit', theme: 'dark', accent: '#0f766e' }, { head: '<style>body{background:#0b1020;color:#eee}</style>' }));
  await card(dark).waitFor();
  await sleep(400);
  await shot(dark, 'theme-dark');
  const bg = await card(dark).evaluate((e) => getComputedStyle(e).backgroundColor);
  assert.equal(bg, 'rgb(17, 24, 39)');
  await dark.context().close();

  const inline = await h.newPage();
  await inline.goto(h.embed('/inline', { brand: 'Maison', mode: 'inline', target: '#slot' }));
  await inline.locator('#slot nps-survey .card').waitFor();
  await shot(inline, 'mode-inline');
  await inline.context().close();

  const page = await h.newPage();
  await page.addInitScript(() => {
    window.__cls = 0;
    new PerformanceObserver((l) => l.getEntries().forEach((e) => (window.__cls += e.hadRecentInput ? 0 : e.value))).observe({
      type: 'layout-shift',
      buffered: true,
    });
  });
  await page.goto(h.embed('/cls', { brand: 'Maison' }, { body: '<p>' + 'Lorem ipsum dolor sit amet. '.repeat(200) + '</p>' }));
  await card(page).waitFor();
  await sleep(500);
  assert.equal(await page.evaluate(() => window.__cls), 0, 'CLS of the float widget');
  await page.context().close();
});

test('prefers-reduced-motion: no slide-in animation, no transitions', async () => {
  const page = await h.newPage({ reducedMotion: 'reduce' });
  await page.goto(h.embed('/motion', { brand: 'Maison' }));
  await card(page).waitFor();
  const [anim, trans] = await card(page).evaluate((e) => {
    const s = e.shadowRoot ? null : getComputedStyle(e);
    const b = getComputedStyle(e.querySelector('.s'));
    return [s.animationName, b.transitionDuration];
  });
  assert.equal(anim, 'none');
  assert.equal(trans, '0s');
  const moving = await h.newPage();
  await moving.goto(h.embed('/motion-ok', { brand: 'Maison' }));
  await card(moving).waitFor();
  assert.equal(await card(moving).evaluate((e) => getComputedStyle(e).animationName), 'nps-in');
  await page.context().close();
  await moving.context().close();
});
