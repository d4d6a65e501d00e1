// The end-to-end scenarios, written once and run against each edge runtime:
// headless Chromium → demo shop page → loader → Leptos/WASM widget → edge → store + signed webhook.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { createHmac, randomBytes } from "node:crypto";
import { ARTIFACTS, launchBrowser, startMailServer, startShop, eventually, freePort, webhookSecret, sleep } from "./harness.mjs";
import { startEdge } from "./edges.mjs";

export function e2e(kind) {
  let browser, edge, shop, mail;
  const secret = webhookSecret();
  const linkSecret = "link-" + randomBytes(24).toString("hex");
  const readToken = "read-" + randomBytes(16).toString("hex");
  const adminToken = "admin-" + randomBytes(16).toString("hex");
  const identitySecret = "identity-" + randomBytes(16).toString("hex");

  before(async () => {
    // The shop's origin must be in the edge's allowlist and the edge's URL in the shop's pages:
    // fix the shop's port first.
    const shopPort = await freePort();
    const shopOrigin = `http://127.0.0.1:${shopPort}`;
    const env = {
      NPS_WEBHOOK_SECRET: secret, NPS_READ_TOKEN: readToken, NPS_ADMIN_TOKEN: adminToken,
      NPS_IDENTITY_SECRET: identitySecret, NPS_DEMO_SHOP: shopOrigin, NPS_LINK_SECRET: linkSecret,
    };
    mail = await startMailServer();
    edge = await startEdge(kind, { shop: shopOrigin, env });
    shop = await startShop({
      edge: edge.url, secret, readToken, identitySecret, port: shopPort, serveAssets: !!edge.shopServesAssets,
      adminToken, smtp: mail.smtp, inbox: mail.inbox,
    });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await shop?.stop();
    await edge?.stop();
    await mail?.stop();
  });

  /** A fresh visitor (own localStorage) with console errors and CSP violations recorded. */
  async function visitor() {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    const page = await context.newPage();
    page.problems = [];
    page.on("console", (m) => {
      if (m.type() === "error" || /Content Security Policy/i.test(m.text())) page.problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => page.problems.push(`pageerror: ${e.message}`));
    return { context, page };
  }

  const stored = async () => {
    const r = await fetch(`${shop.url}/api/responses`);
    assert.equal(r.status, 200, `responses API: ${await r.clone().text()}`);
    return r.json();
  };
  const deliveries = async () => (await fetch(`${shop.url}/api/deliveries`)).json();
  const survey = (page) => page.locator("nps-survey");

  async function answer(page, score, comment, { contact = false } = {}) {
    await survey(page).locator(".s").nth(score).click();
    const textarea = survey(page).locator("textarea");
    await textarea.waitFor();
    if (comment !== undefined) await textarea.fill(comment);
    if (contact) await survey(page).locator("input[type=checkbox]").check();
    await survey(page).locator("button[type=submit]").click();
    await survey(page).locator(".thanks").waitFor();
  }

  async function shownSurvey(page, path = "/checkout/thanks") {
    const resp = await page.goto(shop.url + path);
    await survey(page).locator(".s").first().waitFor({ timeout: 10_000 });
    return resp;
  }

  for (const [score, segment, comment] of [
    [10, "promoter", "Bougie magnifique, livraison rapide !"],
    [7, "passive", "Un peu cher pour la taille."],
    [2, "detractor", 'La livraison a pris 3 semaines <img src=x onerror="alert(1)">'],
  ]) {
    test(`${kind}: ${segment} answers score ${score} with a comment → stored row + signed webhook`, async () => {
      const { context, page } = await visitor();
      const resp = await shownSurvey(page);
      assert.match(resp.headers()["content-security-policy"], /script-src 'self' .* 'wasm-unsafe-eval'/, "strict CSP served");
      await page.screenshot({ path: join(ARTIFACTS, `${kind}-${segment}-1-question.png`) });
      const customer = await page.evaluate(() => document.querySelector('meta[name="nps-customer"]').content);
      const order = await page.locator("#order-id").textContent();
      await answer(page, score, comment, { contact: segment === "detractor" });
      await page.screenshot({ path: join(ARTIFACTS, `${kind}-${segment}-2-thanks.png`) });

      const row = await eventually(async () => (await stored()).find((r) => r.user?.id === customer && r.rev === 2), {
        what: `stored rev 2 for ${customer}`,
      });
      assert.equal(row.score, score);
      assert.equal(row.segment, segment);
      assert.equal(row.comment, comment);
      assert.equal(row.user.order, order);
      assert.equal(row.user.account, "acme");
      assert.equal(row.survey, "checkout");
      assert.equal(row.locale?.slice(0, 2), "fr", "the page is French");
      if (segment === "detractor") assert.equal(row.contact_ok, true);

      const hook = await eventually(async () => (await deliveries()).find((d) => d.webhookId === `${row.id}.2`), {
        what: `webhook ${row.id}.2`,
      });
      assert.equal(hook.verified, true);
      assert.equal(hook.payload.type, "nps.response");
      assert.equal(hook.payload.data.segment, segment);
      assert.equal(hook.payload.data.comment, comment);
      assert.equal(hook.payload.data.user.order, order);

      // Detractors are heard fast: one chat alert carrying the comment; nobody else alerts.
      const alerts = async () => (await (await fetch(`${shop.url}/api/alerts`)).json()).map((a) => JSON.stringify(a.message));
      if (segment === "detractor") {
        const alert = await eventually(async () => (await alerts()).find((m) => m.includes(row.id) || m.includes(order)), {
          what: "detractor alert",
          timeoutMs: 5000,
        });
        assert.ok(alert.includes("La livraison a pris 3 semaines"), alert);
      } else {
        await sleep(300);
        assert.equal((await alerts()).filter((m) => m.includes(order)).length, 0, "no alert for a " + segment);
      }

      // The responses page shows the comment as text: the <img> is not an element there.
      const list = await context.newPage();
      await list.goto(`${shop.url}/responses`);
      const cell = list.locator(`#responses tr[data-id="${row.id}"] td.comment`);
      await cell.waitFor();
      assert.equal(await cell.textContent(), comment);
      assert.equal(await list.locator("#responses img").count(), 0);
      await list.screenshot({ path: join(ARTIFACTS, `${kind}-${segment}-3-responses.png`), fullPage: true });
      assert.deepEqual(page.problems, [], "no console errors or CSP violations");
      await context.close();
    });
  }

  test(`${kind}: offline after the score, back online → the answer arrives exactly once`, async () => {
    const { context, page } = await visitor();
    await shownSurvey(page);
    const customer = await page.evaluate(() => document.querySelector('meta[name="nps-customer"]').content);
    await context.setOffline(true);
    await survey(page).locator(".s").nth(9).click();
    await sleep(500);
    assert.equal((await stored()).filter((r) => r.user?.id === customer).length, 0, "nothing arrives while offline");
    const outbox = JSON.parse((await page.evaluate(() => localStorage.getItem("nps:outbox"))) ?? "{}");
    assert.ok(
      Object.values(outbox).some(([, body]) => JSON.parse(body).score === 9),
      `kept in localStorage: ${JSON.stringify(outbox)}`,
    );
    await context.setOffline(false);
    const row = await eventually(async () => (await stored()).find((r) => r.user?.id === customer), { what: "answer after reconnect" });
    assert.equal(row.score, 9);
    await sleep(1500); // any duplicate retry would land by now
    assert.equal((await stored()).filter((r) => r.user?.id === customer).length, 1);
    const hooks = (await deliveries()).filter((d) => d.payload.data.id === row.id);
    assert.equal(hooks.length, row.rev, "one delivery per revision, no repeats");
    await context.close();
  });

  test(`${kind}: a reload after answering does not show the survey again`, async () => {
    const { context, page } = await visitor();
    await shownSurvey(page);
    await answer(page, 9, "Parfait");
    await page.reload();
    await sleep(1500);
    assert.equal(await survey(page).locator(".s").count(), 0, "survey not shown again");
    await page.screenshot({ path: join(ARTIFACTS, `${kind}-reload.png`) });
    assert.deepEqual(page.problems, []);
    await context.close();
  });

  test(`${kind}: a suppressed customer (open complaint) is not surveyed; unsuppressed, they are again`, async () => {
    const customer = "u_" + randomBytes(6).toString("hex");
    const admin = (method) =>
      fetch(`${edge.url}/v1/sites/demo/suppressions/${customer}`, {
        method,
        headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
        body: method === "PUT" ? JSON.stringify({ reason: "ticket #4521 open" }) : undefined,
      });
    const asCustomer = async () => {
      const v = await visitor();
      // The shop's session cookie: its server signs this customer for the edge.
      await v.context.addCookies([{ name: "demo_customer", value: customer, url: shop.url }]);
      return v;
    };
    assert.ok((await admin("PUT")).ok, "suppress");
    {
      const { context, page } = await asCustomer();
      await page.goto(shop.url + "/checkout/thanks");
      await sleep(2000);
      assert.equal(await survey(page).locator(".s").count(), 0, "suppressed customer sees no survey");
      await context.close();
    }
    assert.ok((await admin("DELETE")).ok, "unsuppress");
    {
      const { context, page } = await asCustomer();
      await shownSurvey(page);
      assert.equal(await survey(page).locator(".s").count(), 11, "survey shown again");
      await context.close();
    }
  });

  test(`${kind}: the follow-up loop: a detractor's case holds the survey back, the team resolves it, the customer is asked again and comes back`, async () => {
    const api = async (method, path, body) => {
      const r = await fetch(edge.url + path, {
        method,
        headers: { authorization: `Bearer ${adminToken}`, ...(body ? { "content-type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: r.status, json: await r.json().catch(() => null) };
    };
    const { context, page } = await visitor();
    await shownSurvey(page);
    const customer = await page.evaluate(() => document.querySelector('meta[name="nps-customer"]').content);
    await answer(page, 3, "Bougie arrivée cassée", { contact: true });
    await page.screenshot({ path: join(ARTIFACTS, `${kind}-loop-1-detractor.png`) });
    const first = await eventually(async () => (await stored()).find((r) => r.user?.id === customer && r.rev === 2), { what: "the detractor's answer" });
    // The case is open, with the customer's context; the chat heard about the answer.
    const casePath = `/v1/sites/demo/cases/${first.id}`;
    const opened = await eventually(async () => {
      const c = await api("GET", casePath);
      return c.status === 200 && c.json.comment && c.json;
    }, { what: "the case" });
    assert.equal(opened.status, "open");
    assert.equal(opened.user_id, customer);
    assert.equal(opened.order, first.user.order);
    assert.equal(opened.contact_ok, true);
    await eventually(async () => (await (await fetch(`${shop.url}/api/alerts`)).json()).some((a) => JSON.stringify(a.message).includes("Bougie arrivée cassée")), { what: "the chat alert" });
    // While the case is open, the customer is not asked again.
    await page.reload();
    await sleep(1500);
    assert.equal(await survey(page).locator(".s").count(), 0, "an open case holds the survey back");
    // The team sees the case in its console (the chat alert's link), calls back, notes, resolves.
    const team = await visitor();
    await team.page.goto(`${edge.url}/console#token=${adminToken}&site=demo&case=${first.id}`);
    await eventually(async () => (await team.page.locator(".case .words").textContent()) === "Bougie arrivée cassée", { what: "the case in the console" });
    assert.match(await team.page.locator(`.board tr[data-id="${first.id}"]`).textContent(), /Open/);
    await team.page.locator("#owner").fill("Ana");
    await team.page.locator(".case .owner button").click();
    await eventually(async () => /Owner saved/.test(await team.page.locator(".live").textContent()), { what: "assigned" });
    await team.page.locator("#note").fill("Rappelée, bougie renvoyée");
    await team.page.locator(".case .note button").click();
    await eventually(async () => (await team.page.locator(".case .notes li").count()) === 1, { what: "the note" });
    await team.page.locator(".case .moves button", { hasText: "Resolve" }).click();
    await eventually(async () => /resolved/.test(await team.page.locator(".case .state").textContent()), { what: "resolved in the console" });
    await team.page.screenshot({ path: join(ARTIFACTS, `${kind}-loop-2-console.png`), fullPage: true });
    const resolved = await api("GET", casePath);
    assert.deepEqual([resolved.json.status, resolved.json.owner], ["resolved", "Ana"]);
    // After the demo's re-survey delay (seconds; days in production), the same customer is asked
    // again on their next visit, although they answered minutes ago.
    const due = Date.parse(resolved.json.resurvey_at);
    await sleep(Math.max(0, due - Date.now()) + 500);
    // Days later in production: the browser's copy of the edge's last "no" (cached 60 s) is gone.
    await (await context.newCDPSession(page)).send("Network.clearBrowserCache");
    await shownSurvey(page);
    await page.screenshot({ path: join(ARTIFACTS, `${kind}-loop-3-resurvey.png`) });
    await answer(page, 9, "Merci pour le renvoi, parfait");
    const back = await eventually(async () => (await stored()).find((r) => r.user?.id === customer && r.id !== first.id && r.rev === 2), { what: "the re-survey answer" });
    assert.equal(back.score, 9);
    const after = await eventually(async () => {
      const c = await api("GET", casePath);
      return c.json.resurvey_score === 9 && c.json;
    }, { what: "the case's after-score" });
    assert.deepEqual([after.first_score, after.resurvey_score, after.recovered, after.resurvey_response_id], [3, 9, true, back.id]);
    assert.deepEqual(after.notes.map((n) => n.text), ["Rappelée, bougie renvoyée"]);
    // The console shows the customer came back.
    await team.page.reload();
    await eventually(async () => /3 → 9 \(recovered\)/.test(await team.page.locator(".case .facts").textContent()), { what: "recovered in the console" });
    await team.page.screenshot({ path: join(ARTIFACTS, `${kind}-loop-4-recovered.png`), fullPage: true });
    assert.deepEqual(team.page.problems, [], "the console: no console errors or CSP violations");
    await team.context.close();
    // Asked once: the next visit does not ask again.
    await page.reload();
    await sleep(1500);
    assert.equal(await survey(page).locator(".s").count(), 0, "re-surveyed once");
    assert.deepEqual(page.problems, [], "no console errors or CSP violations");
    await context.close();
  });

  test(`${kind}: the post-purchase e-mail: inbox → score 3 → the page's follow-up → stored with the order, alert, case; the same link again updates it; a scanner's GET and an expired link record nothing`, async () => {
    // The order: the shop's server invites the customer, its mail service sends the e-mail.
    const { context, page } = await visitor();
    await page.goto(shop.url + "/checkout/thanks");
    const customer = await page.evaluate(() => document.querySelector('meta[name="nps-customer"]').content);
    const to = `camille+${customer}@example.com`;
    const message = await eventually(async () => (await mail.list()).find((m) => m.to?.some((t) => t.address === to)), {
      what: `the e-mail to ${to}`, timeoutMs: 20_000,
    });
    assert.match(message.subject, /^Atelier Lumière : une petite question$/);
    const html = await mail.html(message.id);
    const links = [...html.matchAll(/href="([^"]+)"/g)].map((m) => m[1].replaceAll("&amp;", "&")).filter((u) => u.startsWith(`${edge.url}/s/`));
    const score = (n) => links.find((u) => u.endsWith(`?score=${n}`));
    assert.ok(score(0) && score(10), `eleven score links: ${links.length} in ${html.slice(0, 300)}`);
    // The e-mail, as a mail client shows it (a page of its own, not under the shop's CSP).
    const reader = await context.newPage();
    for (const scheme of ["light", "dark"]) {
      await reader.emulateMedia({ colorScheme: scheme });
      await reader.setContent(html);
      await reader.screenshot({ path: join(ARTIFACTS, `${kind}-mail-1-email-${scheme}.png`), fullPage: true });
    }
    // A mail gateway's scanner opens every link: nothing is recorded.
    for (const u of links) assert.equal((await fetch(u)).status, 200);
    await sleep(300);
    const mine = async () => (await stored()).filter((r) => r.user?.id === customer && r.survey === "post-purchase");
    assert.deepEqual(await mine(), [], "a GET records nothing");
    // The customer clicks 3 in the e-mail: the page sends it, then asks the detractor follow-up.
    await reader.emulateMedia({ colorScheme: "light" });
    // Mail clients open links in a new tab (the buttons say target=_blank).
    const click = async (n) => {
      await reader.setContent(html);
      const [tab] = await Promise.all([reader.waitForEvent("popup"), reader.locator(`a[href$="?score=${n}"]`).click()]);
      tab.problems = [];
      tab.on("console", (m) => m.type() === "error" && tab.problems.push(m.text()));
      await tab.locator("textarea#comment").waitFor({ timeout: 10_000 });
      return tab;
    };
    const tab = await click(3);
    // No layout shift on the hosted page (fixed sizes, its style sheet inline).
    const cls = await tab.evaluate(() => new Promise((done) => {
      let sum = 0;
      new PerformanceObserver((l) => { for (const e of l.getEntries()) if (!e.hadRecentInput) sum += e.value; })
        .observe({ type: "layout-shift", buffered: true });
      setTimeout(() => done(sum), 500);
    }));
    assert.equal(cls, 0, "cumulative layout shift of the follow-up page");
    const bytes = await tab.evaluate(() => performance.getEntriesByType("navigation")[0].transferSize);
    assert.ok(bytes > 0 && bytes < 14 * 1024, `the page in one round trip: ${bytes} bytes on the wire`);
    await tab.screenshot({ path: join(ARTIFACTS, `${kind}-mail-2-followup-light.png`) });
    await tab.emulateMedia({ colorScheme: "dark" });
    await tab.screenshot({ path: join(ARTIFACTS, `${kind}-mail-2-followup-dark.png`) });
    await tab.locator("textarea#comment").fill("La bougie est arrivée cassée");
    await tab.locator("input[name=contact_ok]").check();
    await tab.locator("button.send").click();
    await tab.locator("h1").filter({ hasText: "Merci" }).waitFor();
    await tab.screenshot({ path: join(ARTIFACTS, `${kind}-mail-3-thanks-dark.png`) });
    assert.deepEqual(tab.problems, [], "the survey page: no console errors or CSP violations");
    await tab.close();
    const row = await eventually(async () => (await mine()).find((r) => r.comment === "La bougie est arrivée cassée"), { what: "the answer" });
    assert.equal(row.score, 3);
    assert.equal(row.user.order, "o_981");
    assert.equal(row.user.email, to);
    assert.equal(row.contact_ok, true);
    assert.equal(row.properties?.touchpoint, "email");
    const api = async (path) => (await fetch(edge.url + path, { headers: { authorization: `Bearer ${adminToken}` } })).json();
    const kase = await eventually(async () => {
      const c = await api(`/v1/sites/demo/cases/${row.id}`);
      return c.status === "open" && c;
    }, { what: "the case" });
    assert.equal(kase.order, "o_981");
    await eventually(async () => (await (await fetch(`${shop.url}/api/alerts`)).json()).some((a) => JSON.stringify(a.message).includes("arrivée cassée")), {
      what: "the detractor alert", timeoutMs: 30_000,
    });
    // The same link, clicked again on 5: the same answer, updated (the comment kept).
    (await click(5)).close();
    const again = await eventually(async () => (await mine()).find((r) => r.score === 5), { what: "the updated answer" });
    assert.equal(again.id, row.id);
    assert.ok(again.rev > row.rev);
    assert.equal(again.comment, "La bougie est arrivée cassée");
    assert.equal((await mine()).length, 1, "one answer for every click");
    // An expired link: the page says so in French (410), nothing stored.
    const claims = { s: "demo", v: "post-purchase", u: customer, m: to, o: "o_981", l: "fr", x: 1000, n: "expired" };
    const body = Buffer.from(JSON.stringify(claims)).toString("base64url");
    const expired = `${edge.url}/s/${body}.${createHmac("sha256", linkSecret).update(body).digest("base64url")}`;
    const gone = await page.goto(expired + "?score=9");
    assert.equal(gone.status(), 410);
    assert.match(await page.locator("h1").textContent(), /Cette enquête est close/);
    await page.screenshot({ path: join(ARTIFACTS, `${kind}-mail-4-expired.png`) });
    assert.equal((await mine()).length, 1);
    // The funnel: invited, sent, delivered, opened, answered with a comment.
    const funnel = await eventually(async () => {
      const f = await api(`/v1/sites/demo/invitations?batch=order-o_981-${customer}`);
      return f.batches?.[0]?.delivered === 1 && f.batches[0];
    }, { what: "the funnel" });
    assert.deepEqual([funnel.invited, funnel.sent, funnel.opened, funnel.answered, funnel.commented], [1, 1, 1, 1, 1]);
    assert.deepEqual(page.problems.filter((p) => !/status of 410/.test(p)), [], "no console errors or CSP violations");
    await context.close();
  });

  test(`${kind}: the hosted page in full-page mode: the Leptos widget where the edge serves it, the plain forms where it does not`, async () => {
    const who = "u_" + randomBytes(6).toString("hex");
    const r = await fetch(`${edge.url}/v1/sites/demo/invitations`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ survey: "post-purchase", recipients: [{ email: `${who}@example.com`, user: who, order: "o_982", locale: "fr" }] }),
    });
    assert.equal(r.status, 200);
    const inv = (await r.json()).invitations[0];
    const { context, page } = await visitor();
    await page.goto(inv.url);
    if (edge.shopServesAssets) {
      // The worker leaves the widget's files to a CDN: the page stays plain, and works.
      await sleep(1500);
      assert.equal(await page.locator("nps-survey").count(), 0);
      await page.locator('button[name="score"][value="9"]').click();
      await page.locator("textarea#comment").fill("Parfait, merci");
      await page.locator("button.send").click();
    } else {
      await survey(page).locator(".s").first().waitFor({ timeout: 10_000 });
      await page.screenshot({ path: join(ARTIFACTS, `${kind}-mail-5-full-page-widget.png`) });
      await answer(page, 9, "Parfait, merci");
    }
    const row = await eventually(async () => (await stored()).find((x) => x.user?.id === who && x.comment === "Parfait, merci"), { what: "the answer from the hosted page" });
    assert.equal(row.score, 9);
    assert.equal(row.id, inv.response_id);
    assert.equal(row.user.order, "o_982");
    assert.equal(row.properties?.touchpoint, "email");
    assert.deepEqual(page.problems, [], "no console errors or CSP violations");
    await context.close();
  });

  test(`${kind}: demo pages load without console errors`, async () => {
    const { context, page } = await visitor();
    for (const path of ["/", "/checkout/thanks", "/responses"]) {
      await page.goto(shop.url + path, { waitUntil: "load" });
      await sleep(1000); // the loader and the page's own scripts run after load
    }
    assert.deepEqual(page.problems, []);
    await context.close();
  });
}
