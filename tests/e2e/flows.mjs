// The end-to-end scenarios, written once and run against each edge runtime:
// headless Chromium → demo shop page → loader → Leptos/WASM widget → edge → store + signed webhook.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { ARTIFACTS, launchBrowser, startShop, eventually, freePort, webhookSecret, sleep } from "./harness.mjs";
import { startEdge } from "./edges.mjs";

export function e2e(kind) {
  let browser, edge, shop;
  const secret = webhookSecret();
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
      NPS_IDENTITY_SECRET: identitySecret, NPS_DEMO_SHOP: shopOrigin,
    };
    edge = await startEdge(kind, { shop: shopOrigin, env });
    shop = await startShop({ edge: edge.url, secret, readToken, identitySecret, port: shopPort, serveAssets: !!edge.shopServesAssets });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await shop?.stop();
    await edge?.stop();
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
