// The visitor's side: full answer flow per segment, keyboard only, offline → online retry,
// refused answers, DOM events.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, card, shot, until, sleep } from './harness.mjs';

let h;
before(async () => (h = await start()));
after(async () => h && h.stop());

async function open(name, attrs = {}, opts = {}) {
  const url = h.embed('/' + name, { brand: 'Maison Lumière', ...attrs }, opts);
  const page = await h.newPage(opts.context);
  page.domEvents = [];
  await page.exposeFunction('__record', (e) => page.domEvents.push(e));
  await page.addInitScript(() => {
    for (const n of ['shown', 'answered', 'submitted', 'dismissed'])
      document.addEventListener('nps:' + n, (e) => window.__record({ type: e.type, detail: e.detail }));
  });
  await page.goto(url + (opts.suffix || ''));
  await card(page).waitFor();
  return page;
}

const scoreButton = (page, n) => page.locator('nps-survey .s').nth(n);

for (const [score, segment, comment] of [
  [10, 'promoter', 'Superbe service, livraison rapide'],
  [8, 'passive', 'A bit cheaper <b>please</b>'],
  [3, 'detractor', 'Colis arrivé abîmé'],
]) {
  test(`answer flow: ${segment} (score ${score})`, async () => {
    h.edge.posts = [];
    const page = await open('flow-' + segment, { review: segment == 'promoter' ? 'https://reviews.example/maison' : null });
    await shot(page, `flow-${segment}-1-question`);
    await until(() => h.edge.events('shown').length == 1, 3000, 'shown event');

    await scoreButton(page, score).click();
    await until(() => h.edge.responses().length == 1, 3000, 'rev 1');
    const r1 = h.edge.responses()[0];
    assert.equal(r1.rev, 1);
    assert.equal(r1.score, score);
    assert.equal(r1.site, 'demo');
    assert.equal(r1.survey, 'checkout');
    assert.equal(r1.comment, undefined);
    assert.match(r1.visitor, /^v[0-9a-f]{16}$/);
    assert.match(r1.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.ok(r1.page.endsWith('/flow-' + segment));
    assert.equal(r1.locale, 'en');
    assert.ok(!Number.isNaN(Date.parse(r1.sent_at)));
    assert.equal(h.edge.posts[1].type, 'text/plain;charset=UTF-8', 'no CORS preflight');

    const textarea = page.locator('nps-survey textarea');
    await textarea.waitFor();
    await until(() => page.evaluate(() => document.activeElement?.localName == 'nps-survey'), 2000, 'focus in textarea');
    await textarea.fill(comment);
    if (segment == 'detractor') await page.locator('nps-survey input[type=checkbox]').check();
    if (segment == 'promoter') {
      const link = page.locator('nps-survey a.rv');
      assert.equal(await link.getAttribute('href'), 'https://reviews.example/maison');
      assert.equal(await link.getAttribute('rel'), 'noopener noreferrer');
    } else {
      assert.equal(await page.locator('nps-survey a.rv').count(), 0);
    }
    assert.equal(await page.locator('nps-survey input[type=checkbox]').count(), segment == 'detractor' ? 1 : 0);
    await shot(page, `flow-${segment}-2-follow-up`);

    await page.locator('nps-survey button.primary').click();
    await until(() => h.edge.responses().length == 2, 3000, 'rev 2');
    const r2 = h.edge.responses()[1];
    assert.equal(r2.id, r1.id);
    assert.equal(r2.rev, 2);
    assert.equal(r2.score, score);
    assert.equal(r2.comment, comment);
    assert.equal(r2.contact_ok, segment == 'detractor' ? true : undefined);
    await page.locator('nps-survey .thanks').waitFor();
    await shot(page, `flow-${segment}-3-thanks`);
    // The comment is text, never HTML.
    assert.equal(await page.locator('nps-survey b').count(), 0);

    await until(async () => (await page.locator('nps-survey').count()) == 0, 4000, 'auto close');
    assert.deepEqual(
      page.domEvents.map((e) => e.type),
      ['nps:shown', 'nps:answered', 'nps:submitted']
    );
    assert.equal(page.domEvents[1].detail.segment, segment);
    assert.equal(page.domEvents[2].detail.comment, comment);
    assert.equal(h.edge.events('dismissed').length, 0);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}

test('promoter review link click sends the next rev with review_clicked', async () => {
  h.edge.posts = [];
  const page = await open('review', { review: 'https://reviews.example/maison' });
  await scoreButton(page, 9).click();
  const [popup] = await Promise.all([
    page.context().waitForEvent('page'),
    page.locator('nps-survey a.rv').click(),
  ]);
  await popup.close();
  await until(() => h.edge.responses().length == 2, 3000, 'rev 2');
  assert.deepEqual(
    h.edge.responses().map((r) => [r.rev, r.review_clicked]),
    [[1, undefined], [2, true]]
  );
  await page.locator('nps-survey textarea').fill('Great');
  await page.locator('nps-survey button.primary').click();
  await until(() => h.edge.responses().length == 3, 3000, 'rev 3');
  const r3 = h.edge.responses()[2];
  assert.equal(r3.rev, 3);
  assert.equal(r3.review_clicked, true);
  assert.equal(r3.comment, 'Great');
  await page.context().close();
});

test('identify context travels with the answer; invalid ids are dropped, not fatal', async () => {
  h.edge.posts = [];
  const before = `<script>window.nps=window.nps||function(){(nps.q=nps.q||[]).push(arguments)};
nps('identify',{id:'u_42',account:'acme',order:'o_981',email:'ada@example.com',properties:{plan:'pro',cart:129.5,'bad key':'x'}});</script>`;
  const page = await open('identify', {}, { before });
  await scoreButton(page, 6).click();
  await until(() => h.edge.responses().length == 1, 3000, 'rev 1');
  const r = h.edge.responses()[0];
  assert.deepEqual(r.user, { id: 'u_42', account: 'acme', order: 'o_981', email: 'ada@example.com' });
  assert.deepEqual(r.properties, { cart: '129.5', plan: 'pro' });
  assert.deepEqual(h.edge.events('shown')[0].user, r.user);
  await page.context().close();
});

test('dismiss: close button sends one dismissed event and DOM event; focus returns to the page', async () => {
  h.edge.posts = [];
  const page = await open('dismiss');
  await page.focus('#first-link');
  await page.keyboard.press('Tab'); // into the widget (it is last in tab order)
  await until(() => page.evaluate(() => document.activeElement?.localName == 'nps-survey'), 2000, 'tab into widget');
  await page.keyboard.press('Escape');
  await until(async () => (await page.locator('nps-survey').count()) == 0, 2000, 'closed');
  await until(() => h.edge.events('dismissed').length == 1, 3000, 'dismissed event');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'first-link');
  assert.deepEqual(page.domEvents.map((e) => e.type), ['nps:shown', 'nps:dismissed']);
  assert.equal(h.edge.responses().length, 0);
  await page.context().close();
});

test('keyboard only: Tab in, arrows/Home/End move, Space answers, type, Enter submits', async () => {
  h.edge.posts = [];
  const page = await open('keyboard');
  await page.focus('#first-link');
  await page.keyboard.press('Tab');
  const focused = () =>
    page.evaluate(() => {
      const a = document.querySelector('nps-survey').shadowRoot.activeElement;
      return a && (a.localName + '.' + a.className + ':' + a.textContent + ':' + a.tabIndex);
    });
  // Tab order: close button first, then the radiogroup (one tab stop).
  assert.equal(await focused(), 'button.x::0');
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'button.s:0:0');
  await page.keyboard.press('End');
  assert.equal(await focused(), 'button.s:10:0');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft');
  assert.equal(await focused(), 'button.s:8:0');
  await page.keyboard.press('Home');
  await page.keyboard.press('ArrowRight');
  assert.equal(await focused(), 'button.s:1:0');
  await shot(page, 'keyboard-1-focus-ring', card(page));
  assert.equal(h.edge.responses().length, 0, 'moving focus does not answer');
  await page.keyboard.press('Space');
  await until(() => h.edge.responses().length == 1, 3000, 'rev 1');
  assert.equal(h.edge.responses()[0].score, 1);
  await until(async () => (await focused())?.startsWith('textarea'), 2000, 'focus moves to the comment');
  await page.keyboard.type('Trop lent');
  await page.keyboard.press('Tab'); // contact opt-in
  await page.keyboard.press('Space');
  await page.keyboard.press('Tab'); // send
  await page.keyboard.press('Enter');
  await until(() => h.edge.responses().length == 2, 3000, 'rev 2');
  const r2 = h.edge.responses()[1];
  assert.equal(r2.comment, 'Trop lent');
  assert.equal(r2.contact_ok, true);
  await until(async () => (await focused())?.includes('thanks'), 2000, 'focus on thank-you');
  await page.keyboard.press('Escape');
  await until(async () => (await page.locator('nps-survey').count()) == 0, 2000, 'closed');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'first-link', 'focus back on the page');
  await page.context().close();
});

test('offline after the score: answer kept and delivered exactly once when back online', async () => {
  h.edge.posts = [];
  const page = await open('offline');
  await until(() => h.edge.events('shown').length == 1, 3000, 'shown');
  await page.context().setOffline(true);
  await scoreButton(page, 7).click();
  await sleep(300);
  assert.equal(h.edge.responses().length, 0);
  const box = await page.evaluate(() => JSON.parse(localStorage.getItem('nps:outbox')));
  assert.equal(Object.keys(box).length, 1, 'kept in the outbox');
  await page.locator('nps-survey textarea').fill('Plus de choix');
  await page.locator('nps-survey button.primary').click();
  await sleep(200);
  await page.context().setOffline(false);
  await until(() => h.edge.responses().length >= 1, 5000, 'delivery after online');
  await sleep(1500); // any duplicate retry would land here
  const rs = h.edge.responses();
  assert.equal(rs.length, 1, 'the outbox keeps only the newest rev of an answer, sent once');
  assert.equal(rs[0].rev, 2);
  assert.equal(rs[0].comment, 'Plus de choix');
  assert.deepEqual(await page.evaluate(() => JSON.parse(localStorage.getItem('nps:outbox'))), {});
  await page.context().close();
});

test('edge outage (503) is retried with backoff; 400 is dropped with one console line', async () => {
  h.edge.posts = [];
  h.edge.failed = 0;
  h.edge.status = 503;
  const page = await open('outage');
  await scoreButton(page, 9).click();
  await until(() => h.edge.failed >= 2, 5000, 'retries');
  h.edge.status = 202;
  await until(() => h.edge.responses().length == 1, 6000, 'delivered after outage');
  assert.equal(h.edge.responses()[0].score, 9);
  await page.context().close();

  h.edge.posts = [];
  h.edge.status = 400;
  const warnings = [];
  const p2 = await h.newPage();
  p2.on('console', (m) => m.type() == 'warning' && warnings.push(m.text()));
  await p2.goto(h.embed('/outage-400', { brand: 'X' }));
  await card(p2).waitFor();
  await scoreButton(p2, 2).click();
  await until(() => h.edge.failed >= 1, 3000, '400');
  await sleep(300);
  assert.deepEqual(await p2.evaluate(() => JSON.parse(localStorage.getItem('nps:outbox'))), {}, 'dropped');
  assert.equal(warnings.filter((w) => w.startsWith('nps:')).length, 1);
  h.edge.status = 202;
  await p2.context().close();
});

test('a page view that does not show the survey flushes answers left in the outbox', async () => {
  h.edge.posts = [];
  const page = await h.newPage();
  await page.goto(h.embed('/pending', { sample: 0 }));
  const body = JSON.stringify({ id: 'pending-1', rev: 1, site: 'demo', survey: 'checkout', score: 5, visitor: 'v1' });
  await page.evaluate(
    ([ep, b]) => localStorage.setItem('nps:outbox', JSON.stringify({ 'pending-1': [ep + '/v1/responses', b] })),
    [h.edgeUrl, body]
  );
  h.edge.assets = [];
  await page.reload();
  await until(() => h.edge.responses().length == 1, 3000, 'flushed');
  assert.equal(h.edge.responses()[0].id, 'pending-1');
  assert.ok(!h.edge.assets.includes('nps-widget_bg.wasm'), 'no widget download for a flush');
  await page.context().close();
});

const outbox = (page) => page.evaluate(() => JSON.parse(localStorage.getItem('nps:outbox') || '{}'));

test('an answer given during an outage survives the page closing and is delivered once on the next page view', async () => {
  h.edge.posts = [];
  h.edge.failed = 0;
  h.edge.status = 503;
  const page = await open('outage-close');
  await scoreButton(page, 4).click();
  await until(() => h.edge.failed >= 1, 3000, 'first attempt refused');
  const ctx = page.context();
  await page.close({ runBeforeUnload: true }); // pagehide: the beacon also meets the outage
  await sleep(200);
  h.edge.status = 202;
  const next = await ctx.newPage();
  await next.goto(h.embed('/outage-next', { sample: 0 }));
  await until(() => h.edge.responses().length == 1, 4000, 'delivered on the next page view');
  await sleep(1500); // a duplicate retry would land here
  assert.equal(h.edge.responses().length, 1, 'exactly once');
  assert.equal(h.edge.responses()[0].score, 4);
  assert.deepEqual(await outbox(next), {});
  await ctx.close();
});

test('one answer the edge keeps refusing holds none of the others back', async () => {
  h.edge.posts = [];
  h.edge.statusOf = (b) => (b.id == 'stuck-1' ? 503 : undefined);
  const page = await h.newPage();
  await page.goto(h.embed('/stuck', { sample: 0 }));
  const mk = (id, score) => JSON.stringify({ id, rev: 1, site: 'demo', survey: 'checkout', score, visitor: 'v1' });
  await page.evaluate(
    ([ep, a, b]) =>
      localStorage.setItem(
        'nps:outbox',
        JSON.stringify({ 'stuck-1': [ep + '/v1/responses', a], 'fine-2': [ep + '/v1/responses', b] })
      ),
    [h.edgeUrl, mk('stuck-1', 1), mk('fine-2', 9)]
  );
  await page.reload();
  await until(() => h.edge.responses().length == 1, 3000, 'the other answer delivered');
  assert.equal(h.edge.responses()[0].id, 'fine-2');
  const failed = h.edge.failed || 0;
  await until(() => (h.edge.failed || 0) > failed, 4000, 'the stuck one retried on its own backoff');
  assert.deepEqual(Object.keys(await outbox(page)), ['stuck-1'], 'the refused one waits, the delivered one left');
  assert.equal(h.edge.responses().length, 1);
  h.edge.statusOf = null;
  await until(() => h.edge.responses().length == 2, 5000, 'the stuck answer once the edge takes it');
  assert.deepEqual(await outbox(page), {});
  await page.context().close();
});

test("nps('reset') strips who answered from answers still waiting in the outbox", async () => {
  h.edge.posts = [];
  const before = `<script>window.nps=window.nps||function(){(nps.q=nps.q||[]).push(arguments)};
nps('identify',{id:'u_7',email:'eve@example.com',properties:{plan:'pro'}});</script>`;
  const page = await open('reset-scrub', {}, { before });
  await page.context().setOffline(true);
  await scoreButton(page, 6).click();
  await until(async () => Object.keys(await outbox(page)).length == 1, 2000, 'kept in the outbox');
  const [entry] = Object.values(await outbox(page));
  assert.equal(JSON.parse(entry[1]).user.email, 'eve@example.com');
  await page.evaluate(() => window.nps('reset')); // the visitor logs out
  const [scrubbed] = Object.values(await outbox(page));
  const body = JSON.parse(scrubbed[1]);
  assert.equal(body.user, undefined);
  assert.equal(body.properties, undefined);
  assert.equal(body.score, 6);
  await page.context().setOffline(false);
  await until(() => h.edge.responses().length == 1, 5000, 'delivered after reset');
  assert.equal(h.edge.responses()[0].user, undefined);
  assert.equal(h.edge.responses()[0].score, 6);
  await page.context().close();
});

test('the page address leaves without its query and fragment unless data-page="full"', async () => {
  h.edge.posts = [];
  const page = await open('private-page', {}, { suffix: '?reset_token=s3cr3t&email=a%40b.c#frag' });
  await until(() => h.edge.events('shown').length == 1, 3000, 'shown');
  await scoreButton(page, 8).click();
  await until(() => h.edge.responses().length == 1, 3000, 'rev 1');
  assert.equal(h.edge.responses()[0].page, h.shopUrl + '/private-page');
  await page.context().close();

  h.edge.posts = [];
  const full = await open('full-page', { page: 'full' }, { suffix: '?utm_source=mail#x' });
  await scoreButton(full, 8).click();
  await until(() => h.edge.responses().length == 1, 3000, 'rev 1');
  assert.equal(h.edge.responses()[0].page, h.shopUrl + '/full-page?utm_source=mail#x');
  await full.context().close();
});
