// The e-mail touchpoint on both runtimes with the same assertions: an invitation's e-mail holds
// the links the API gave, every click of one link updates one answer, the answer carries the
// customer's context and opens a case like any other, and who must not be asked is skipped.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eventually } from "../e2e/harness.mjs";
import { ADMIN, LINK_BASE, ORIGIN, READ, TARGETS, requester, startTarget } from "./targets.mjs";

let seq = 0;
const uid = (p) => `${p}-${process.pid}-${Date.now().toString(36)}-${++seq}`;

for (const kind of TARGETS) {
  describe(`survey links on the ${kind} edge`, () => {
    let t;
    before(async () => {
      t = await startTarget(kind);
    });
    after(async () => {
      await t?.stop();
    });

    const req = requester(() => t);
    const local = (u) => u.slice(LINK_BASE.length);
    const invite = async (recipients, extra = {}) => {
      const r = await req("POST", "/v1/sites/demo/invitations", { token: ADMIN, body: { survey: "post-purchase", recipients, ...extra } });
      assert.equal(r.status, 200, r.text);
      return r.json;
    };
    /** What a browser without script does: GET the page, press a button of its form. */
    const press = async (url, fields) => {
      const res = await fetch(t.url + local(url), {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(fields).toString(),
      });
      return { status: res.status, location: res.headers.get("location"), text: await res.text() };
    };
    const hidden = (html, name) => html.match(new RegExp(`name="${name}" value="(\\d+)"`))?.[1];

    it("the e-mail holds the API's links, in the recipient's language, and a bare GET of any of them records nothing", async () => {
      const user = uid("u");
      const { invitations } = await invite([{ email: "lea@example.com", user, order: "A-2001", locale: "fr" }]);
      const inv = invitations[0];
      assert.equal(inv.email.subject, "Maison Lumière : une petite question");
      const hrefs = [...inv.email.html.matchAll(/href="([^"]+)"/g)].map((m) => m[1].replaceAll("&amp;", "&"));
      for (const u of inv.score_urls) assert.ok(hrefs.includes(u), `the HTML links ${u}`);
      assert.ok(hrefs.includes(inv.url), "and the page");
      for (const u of inv.score_urls) assert.ok(inv.email.text.includes(u), "the text part has every link");
      assert.match(inv.email.html, /lang="fr"/);
      assert.match(inv.email.html, /Quelle est la probabilité que vous recommandiez Maison Lumière/);
      for (const u of [inv.url, ...inv.score_urls]) assert.equal((await fetch(t.url + local(u))).status, 200);
      assert.equal((await t.rows("SELECT id FROM responses WHERE site = 'demo' AND id = ?", inv.response_id)).length, 0);
    });

    it("every click of one link updates one answer; it carries the order, opens a case and reaches the webhook", async () => {
      const user = uid("u");
      const { invitations } = await invite([{ email: "max@example.com", user, account: "acme", order: "A-3003" }]);
      const inv = invitations[0];
      // Click 3 in the e-mail: the page pre-selects it and its form sends it.
      const page = await (await fetch(t.url + local(inv.score_urls[3]))).text();
      assert.match(page, /value="3" aria-pressed="true"/);
      const first = await press(inv.url, { score: "3", rev: hidden(page, "rev") });
      assert.equal(first.status, 303, first.text);
      const follow = await (await fetch(t.url + first.location)).text();
      const done = await press(inv.url, { score: "3", rev: hidden(follow, "rev"), step: "comment", comment: "Colis abîmé", contact_ok: "1" });
      assert.equal(done.status, 303);
      // A second click of the same e-mail, on 6, days later: the same answer, a higher rev.
      const again = await (await fetch(t.url + local(inv.score_urls[6]))).text();
      assert.equal((await press(inv.url, { score: "6", rev: hidden(again, "rev") })).status, 303);
      const stored = await eventually(async () => {
        const r = await req("GET", `/v1/sites/demo/responses/${inv.response_id}`, { token: READ });
        return r.status === 200 && r.json.score === 6 && r.json;
      }, { what: "the updated answer" });
      assert.equal(stored.rev, 3);
      assert.equal(stored.comment, "Colis abîmé", "a new score keeps the comment given");
      assert.equal(stored.user.order, "A-3003");
      assert.equal(stored.user.account, "acme");
      assert.equal(stored.user.email, "max@example.com");
      assert.equal(stored.properties.touchpoint, "email");
      const rows = await t.rows("SELECT id FROM responses WHERE site = 'demo' AND user_id = ?", user);
      assert.equal(rows.length, 1, "one answer for every click of the link");
      const c = await eventually(async () => {
        const r = await req("GET", `/v1/sites/demo/cases/${inv.response_id}`, { token: READ });
        return r.status === 200 && r.json;
      }, { what: "the case" });
      assert.equal(c.order, "A-3003");
      assert.equal(c.email, "max@example.com");
      const hook = await eventually(() => t.receiver.received.find((m) => m.sink === "all" && m.body.type === "nps.response" && m.body.data?.id === inv.response_id), { what: "the webhook" });
      assert.equal(hook.body.data.properties.touchpoint, "email");
    });

    it("who must not be asked is skipped, with the reason; the others are invited", async () => {
      const suppressed = uid("u");
      assert.equal((await req("PUT", `/v1/sites/demo/suppressions/${suppressed}`, { token: ADMIN, body: { reason: "asked not to" } })).status < 300, true);
      const answered = uid("u");
      const r = { id: uid("r"), rev: 1, site: "demo", survey: "post-purchase", score: 9, visitor: uid("v"), user: { id: answered } };
      assert.equal((await req("POST", "/v1/responses", { origin: ORIGIN, body: r })).status, 202);
      const fresh = uid("u");
      const out = await invite([
        { email: "a@example.com", user: suppressed },
        { email: "b@example.com", user: answered },
        { email: "c@example.com", user: fresh },
        { email: "d@example.com", user: fresh },
        { email: "only-mail@example.com" },
      ]);
      assert.deepEqual(out.skipped, [
        { recipient: "a@example.com", reason: "suppressed" },
        { recipient: "b@example.com", reason: "answered" },
        { recipient: "d@example.com", reason: "repeated" },
      ]);
      assert.deepEqual(out.invitations.map((i) => i.recipient), ["c@example.com", "only-mail@example.com"]);
      // A person known by e-mail alone who answered is one respondent across invitations.
      const mail = out.invitations[1];
      assert.equal((await press(mail.url, { score: "10" })).status, 303);
      const later = await invite([{ email: "Only-Mail@example.com" }], { batch: "reminder-batch" });
      assert.deepEqual(later.skipped, [{ recipient: "Only-Mail@example.com", reason: "answered" }]);
    });

    it("the funnel counts each batch's invited, opened, answered and commented, and lists who did not answer", async () => {
      const batch = uid("b");
      const people = ["f1", "f2", "f3"].map((n) => ({ email: `${n}-${batch}@example.com`, user: uid("u"), order: `O-${n}` }));
      const { invitations } = await invite(people, { batch });
      // f1 answers with a comment, f2 opens the page only, f3 does nothing.
      const p1 = await (await fetch(t.url + local(invitations[0].url))).text();
      const s1 = await press(invitations[0].url, { score: "9", rev: hidden(p1, "rev") });
      await press(invitations[0].url, { score: "9", rev: "2", step: "comment", comment: "Parfait" });
      assert.equal(s1.status, 303);
      await fetch(t.url + local(invitations[1].url));
      const f = await eventually(async () => {
        const r = await req("GET", `/v1/sites/demo/invitations?survey=post-purchase&batch=${batch}`, { token: READ });
        const b = r.json?.batches?.[0];
        return b?.commented === 1 && r.json;
      }, { what: "the funnel" });
      assert.deepEqual(f.batches, [{
        survey: "post-purchase", batch, invited: 3, sent: 0, delivered: 0, opened: 2, answered: 1, commented: 1,
        response_rate: 0.3333, first_invited_at: f.batches[0].first_invited_at,
      }]);
      assert.deepEqual(f.non_respondents.map((n) => [n.recipient, n.order, n.opened_at !== undefined]).sort(), [
        [people[1].email, "O-f2", true],
        [people[2].email, "O-f3", false],
      ]);
      // Erasing a person takes their invitations too.
      assert.equal((await req("DELETE", `/v1/sites/demo/people/${encodeURIComponent(people[2].email)}`, { token: ADMIN })).status, 200);
      const after = (await req("GET", `/v1/sites/demo/invitations?batch=${batch}`, { token: READ })).json;
      assert.equal(after.batches[0].invited, 2);
    });

    it("sent through the site's mail service: signed nps.invitation events, each link's e-mail once, the funnel counts sent and delivered", async () => {
      const batch = uid("b");
      const people = [{ email: `m1-${batch}@example.com`, user: uid("u"), order: "O-1", locale: "de" }];
      const first = await invite(people, { batch, send: true });
      assert.equal(first.sent, 1);
      const inv = first.invitations[0];
      const msg = await eventually(() => t.receiver.received.find((m) => m.sink === "mailer" && m.body.data?.response_id === inv.response_id), { what: "the invitation event" });
      assert.equal(msg.id, `invitation.demo.${inv.response_id}`);
      assert.equal(msg.body.type, "nps.invitation");
      assert.equal(msg.body.data.to, people[0].email);
      assert.equal(msg.body.data.subject, inv.email.subject);
      assert.equal(msg.body.data.html, inv.email.html);
      assert.equal(msg.body.data.user.order, "O-1");
      assert.match(msg.body.data.subject, /eine kurze Frage/);
      const f = await eventually(async () => {
        const b = (await req("GET", `/v1/sites/demo/invitations?batch=${batch}`, { token: READ })).json?.batches?.[0];
        return b?.delivered === 1 && b;
      }, { what: "delivered in the funnel" });
      assert.equal(f.sent, 1);
      const again = await invite(people, { batch, send: true });
      assert.equal(again.sent, 0, "a link's e-mail is sent once");
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(t.receiver.received.filter((m) => m.sink === "mailer" && m.body.data?.response_id === inv.response_id).length, 1);
      assert.ok(t.receiver.received.filter((m) => m.sink === "mailer").every((m) => ["nps.invitation", "nps.person.erased"].includes(m.body.type)),
        "the mail service gets no answers");
      // It holds their address: erasing the person tells it too.
      assert.equal((await req("DELETE", `/v1/sites/demo/people/${encodeURIComponent(people[0].email)}`, { token: ADMIN })).status, 200);
      const erased = await eventually(() => t.receiver.received.find((m) => m.sink === "mailer" && m.body.type === "nps.person.erased" && m.body.data.key === people[0].email),
        { what: "the erasure notice at the mail service" });
      assert.equal(erased.body.data.site, "demo");
      // A site without a mail sink cannot send.
      const refused = await req("POST", "/v1/sites/tight/invitations", { token: ADMIN, body: { survey: "s", send: true, recipients: people } });
      assert.equal(refused.status, 422);
      assert.deepEqual(refused.json.errors.map((e) => e.field), ["send"]);
    });

    it("an invitation waiting for the mail service is never sent once its person is erased", async () => {
      const batch = uid("b");
      const people = [{ email: `gone-${batch}@example.com`, user: uid("u") }, { email: `kept-${batch}@example.com`, user: uid("u") }];
      t.receiver.refusing.add("mailer");
      let made;
      try {
        made = await invite(people, { batch, send: true });
        assert.equal(made.sent, 2);
        assert.equal((await req("DELETE", `/v1/sites/demo/people/${encodeURIComponent(people[0].email)}`, { token: ADMIN })).status, 200);
      } finally {
        t.receiver.refusing.delete("mailer");
      }
      const [gone, kept] = made.invitations.map((i) => i.response_id);
      await eventually(() => t.receiver.received.find((m) => m.sink === "mailer" && m.body.data?.response_id === kept), { what: "the other invitation, once the mail service is back" });
      await new Promise((r) => setTimeout(r, 2500)); // its retries have come and gone
      assert.equal(t.receiver.received.filter((m) => m.body.data?.response_id === gone).length, 0, "the erased person's e-mail was not sent");
    });

    it("one reminder to who has not answered after the site's delay, never a second, none to who answered", async () => {
      const batch = uid("b");
      const people = ["r1", "r2"].map((n) => ({ email: `${n}-${batch}@example.com`, user: uid("u"), locale: "fr" }));
      const { invitations } = await invite(people, { batch, send: true });
      // A survey with its own, longer delay (10 days).
      const slow = await req("POST", "/v1/sites/demo/invitations", { token: ADMIN, body: { survey: "slow", batch, send: true, recipients: [{ email: `r3-${batch}@example.com`, user: uid("u") }] } });
      assert.equal(slow.json.sent, 1);
      // r1 answers; then four days pass (past the site's default delay of 3).
      assert.equal((await press(invitations[0].url, { score: "10" })).status, 303);
      await eventually(async () => (await t.rows("SELECT id FROM responses WHERE site = 'demo' AND id = ?", invitations[0].response_id)).length === 1, { what: "r1's answer stored" });
      await t.sql(`UPDATE invitations SET sent_ms = sent_ms - ${4 * 86_400_000} WHERE site = 'demo' AND batch = '${batch}'`);
      await t.sweep();
      const reminder = await eventually(() => t.receiver.received.find((m) => m.sink === "mailer" && m.id === `reminder.demo.${invitations[1].response_id}`), { what: "r2's reminder" });
      assert.match(reminder.body.data.subject, /^Rappel : Maison Lumière/);
      assert.equal(reminder.body.data.reminder, true);
      assert.equal(reminder.body.data.to, people[1].email);
      // The reminder's link is the same answer.
      const link = reminder.body.data.url;
      assert.equal((await press(link, { score: "7" })).status, 303);
      const stored = await eventually(async () => {
        const r = await req("GET", `/v1/sites/demo/responses/${invitations[1].response_id}`, { token: READ });
        return r.status === 200 && r.json;
      }, { what: "r2's answer through the reminder" });
      assert.equal(stored.score, 7);
      await t.sweep();
      await t.sweep();
      const reminders = t.receiver.received.filter((m) => m.sink === "mailer" && m.id?.startsWith("reminder.") && m.body.data.batch === batch);
      assert.deepEqual(reminders.map((m) => m.body.data.to), [people[1].email], "one reminder, to r2 only (r3's survey waits 10 days)");
      const nr = (await req("GET", `/v1/sites/demo/invitations?batch=${batch}`, { token: READ })).json;
      assert.deepEqual(nr.non_respondents.map((n) => [n.survey, n.reminded_at]), [["slow", undefined]]);
    });

    it("the summary puts the e-mail's response rate next to the widget's", async () => {
      const survey = uid("tp");
      const made = await req("POST", "/v1/sites/demo/invitations", { token: ADMIN, body: { survey, recipients: [{ email: "t1@example.com", user: uid("u") }, { email: "t2@example.com", user: uid("u") }] } });
      assert.equal(made.status, 200, made.text);
      assert.equal((await press(made.json.invitations[0].url, { score: "8" })).status, 303);
      const visitor = uid("v");
      assert.equal((await req("POST", "/v1/events", { origin: ORIGIN, body: { id: uid("e"), site: "demo", survey, visitor, type: "shown" } })).status, 202);
      assert.equal((await req("POST", "/v1/responses", { origin: ORIGIN, body: { id: uid("r"), rev: 1, site: "demo", survey, score: 10, visitor } })).status, 202);
      const tp = await eventually(async () => {
        const r = await req("GET", `/v1/sites/demo/summary?survey=${survey}`, { token: READ });
        const x = r.json?.touchpoints;
        return x?.email.answered === 1 && x?.widget.answered === 1 && x;
      }, { what: "the touchpoints" });
      assert.deepEqual(tp, {
        widget: { shown: 1, answered: 1, response_rate: 1 },
        email: { invited: 2, sent: 0, answered: 1, response_rate: 0.5 },
      });
    });

    it("a list of 1,000 recipients (a body over the other routes' 16 KiB) is taken whole", async () => {
      const batch = uid("big");
      const recipients = Array.from({ length: 1000 }, (_, i) => ({ email: `bulk-${i}-${batch}@example.com`, order: `O-${i}` }));
      const body = JSON.stringify({ survey: "bulk", batch, recipients });
      assert.ok(body.length > 16 * 1024 * 4, `${body.length} bytes`);
      const r = await req("POST", "/v1/sites/demo/invitations", { token: ADMIN, body: JSON.parse(body) });
      assert.equal(r.status, 200, r.text.slice(0, 300));
      assert.equal(r.json.invitations.length, 1000);
      const f = (await req("GET", `/v1/sites/demo/invitations?batch=${batch}`, { token: READ })).json;
      assert.equal(f.batches[0].invited, 1000);
      assert.equal(f.non_respondents.length, 1000);
    });

    it("the same batch gives the same answers (a retried request invites nobody twice)", async () => {
      const who = [{ email: "e@example.com", user: uid("u") }];
      const a = await invite(who, { batch: "order-42" });
      await new Promise((r) => setTimeout(r, 1100)); // a later request: a later expiry
      const b = await invite(who, { batch: "order-42" });
      assert.equal(a.invitations[0].response_id, b.invitations[0].response_id);
      const c = await invite(who, { batch: "order-43" });
      assert.notEqual(a.invitations[0].response_id, c.invitations[0].response_id);
    });
  });
}
