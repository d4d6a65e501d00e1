// Each finding of the trust and privacy review, replayed as the attacker would, against BOTH
// runtimes (the native binary and the worker in workerd) with the same assertions: every attack
// is refused with a clear problem naming the field, or is harmless, and nothing accepted earlier
// is lost or changed by it.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { eventually } from "../e2e/harness.mjs";
import { ADMIN, IDENTITY, METRICS, ORIGIN, READ, READ_DEMO, TARGETS, requester, startTarget } from "../conformance/targets.mjs";

let seq = 0;
const uid = (p) => `${p}-${process.pid}-${Date.now().toString(36)}-${++seq}`;
const sign = (userId, secret = IDENTITY) => createHmac("sha256", secret).update(userId).digest("hex");

for (const kind of TARGETS) {
  describe(`attacks on the ${kind} edge`, () => {
    let t;
    before(async () => {
      t = await startTarget(kind);
    });
    after(async () => {
      await t?.stop();
    });

    const req = requester(() => t);
    const post = (path, body, headers) => req("POST", path, { origin: ORIGIN, body, headers });
    const refused = (res, status, type, field) => {
      assert.equal(res.status, status, res.text);
      assert.match(res.headers.get("content-type"), /^application\/problem\+json/);
      assert.equal(res.json.type, `https://nps.dev/problems/${type}`);
      if (field) assert.equal(res.json.errors[0].field, field, res.text);
    };
    const answer = (over = {}) => ({ id: uid("r"), rev: 1, site: "demo", survey: "checkout", score: 8, visitor: uid("v"), ...over });
    const stored = async (site, id) => (await req("GET", `/v1/sites/${site}/responses/${id}`, { token: READ })).json;

    it("anyone can answer as any customer → a forged user.id is refused where identity is required", async () => {
      const victim = uid("u");
      const forged = answer({ site: "signed", score: 0, comment: "invented complaint", user: { id: victim } });
      refused(await post("/v1/responses", forged), 403, "identity-not-verified", "user.signature");
      const guessed = { ...forged, id: uid("r"), user: { id: victim, signature: sign(victim, "a-guessed-secret-0123") } };
      refused(await post("/v1/responses", guessed), 403, "identity-not-verified", "user.signature");
      const noId = { ...forged, id: uid("r"), user: { account: "acme" } };
      refused(await post("/v1/responses", noId), 403, "identity-not-verified", "user.id");
      const shown = { id: uid("e"), site: "signed", survey: "checkout", visitor: uid("v"), type: "shown", user: { id: victim } };
      refused(await post("/v1/events", shown), 403, "identity-not-verified", "user.signature");
      refused(
        await req("GET", `/v1/sites/signed/eligibility?survey=checkout&user=${victim}`, { origin: ORIGIN }),
        403, "identity-not-verified", "user.signature",
      );
      // Nothing of the forgery was kept: the victim is still asked, and their real answer counts.
      const elig = (sig) => req("GET", `/v1/sites/signed/eligibility?survey=checkout&user=${victim}&signature=${sig}`, { origin: ORIGIN });
      assert.deepEqual((await elig(sign(victim))).json, { show: true });
      assert.equal((await stored("signed", forged.id))?.status, 404);
      const real = answer({ site: "signed", score: 9, user: { id: victim, signature: sign(victim) } });
      assert.equal((await post("/v1/responses", real)).json.status, "accepted");
      const kept = await eventually(() => stored("signed", real.id).then((s) => s?.user && s), { what: "the real answer" });
      assert.deepEqual(kept.user, { id: victim }, "the signature is checked, never stored");
      assert.deepEqual((await elig(sign(victim))).json, { show: false, reason: "answered" }, "answered: not asked again (the verified person is told why)");
    });

    it("identity optional: an unsigned user is dropped and the answer kept anonymous", async () => {
      const unsigned = answer({ site: "maybe", user: { id: "u-somebody", email: "ann@example.com" } });
      assert.equal((await post("/v1/responses", unsigned)).json.status, "accepted");
      const s = await eventually(() => stored("maybe", unsigned.id).then((x) => x?.id && x), { what: "stored" });
      assert.equal(s.user, undefined);
      const signed = answer({ site: "maybe", user: { id: "u-real", signature: sign("u-real") } });
      assert.equal((await post("/v1/responses", signed)).json.status, "accepted");
      const s2 = await eventually(() => stored("maybe", signed.id).then((x) => x?.id && x), { what: "stored" });
      assert.deepEqual(s2.user, { id: "u-real" });
      refused(await post("/v1/responses", answer({ site: "maybe", user: { id: "u", signature: "NOT-HEX" } })), 422, "invalid", "user.signature");
    });

    it("anyone who knows a response id can rewrite it → 409, and a stored answer is never downgraded", async () => {
      const r = answer({ score: 10, comment: "Super", user: { id: uid("u") } });
      assert.equal((await post("/v1/responses", r)).json.status, "accepted");
      for (const forged of [
        { ...r, rev: 10000, score: 0, comment: "forged", visitor: uid("v") },
        { ...r, rev: 2, score: 0, visitor: uid("v") },
        { ...r, rev: 2, user: { id: "u-other" } },
        { ...r, rev: 2, user: undefined },
      ]) {
        refused(await post("/v1/responses", forged), 409, "conflict", "visitor");
      }
      assert.equal((await post("/v1/responses", { ...r, rev: 3, comment: "Super, merci" })).json.status, "updated");
      assert.equal((await post("/v1/responses", { ...r, rev: 2, score: 0 })).json.status, "duplicate");
      const s = await eventually(() => stored("demo", r.id).then((x) => x?.rev === 3 && x), { what: "rev 3" });
      assert.deepEqual([s.score, s.comment], [10, "Super, merci"]);
    });

    it("tokens are global → a token reads and manages only its own sites", async () => {
      const r = answer({ site: "other", score: 2, comment: "private to other" });
      await req("POST", "/v1/responses", { origin: "https://other.example", body: r });
      for (const path of ["/v1/sites/other/responses", "/v1/sites/other/summary", `/v1/sites/other/responses/${r.id}`]) {
        refused(await req("GET", path, { token: READ_DEMO }), 403, "forbidden", "authorization");
      }
      assert.equal((await req("GET", "/v1/sites/demo/responses", { token: READ_DEMO })).status, 200);
      const sites = (await req("GET", "/v1/sites", { token: READ_DEMO })).json.sites.map((s) => s.id);
      assert.deepEqual(sites, ["demo"]);
      refused(await req("PUT", "/v1/sites/demo/suppressions/u1", { token: READ_DEMO }), 403, "forbidden");
      refused(await req("GET", "/metrics", { token: READ_DEMO }), 403, "forbidden");
      refused(await req("GET", "/metrics"), 401, "unauthorized");
      assert.equal((await req("GET", "/metrics", { token: METRICS })).status, 200);
      assert.equal((await req("GET", "/v1/sites/other/responses", { token: ADMIN })).status, 200);
    });

    it("abuse → a forged X-Forwarded-For buys no fresh bucket; events and eligibility are limited too", async () => {
      let last;
      for (let i = 0; i < 3; i++) {
        last = await post("/v1/responses", answer({ site: "tight" }), { "x-forwarded-for": `198.51.100.${i}` });
      }
      refused(last, 429, "rate-limited");
      refused(await post("/v1/events", { id: uid("e"), site: "tight", survey: "s", visitor: "v", type: "shown" }, { "x-forwarded-for": "192.0.2.77" }), 429, "rate-limited");
      refused(await req("GET", "/v1/sites/tight/eligibility?survey=s&user=u1", { origin: ORIGIN, headers: { "x-forwarded-for": "192.0.2.78" } }), 429, "rate-limited");
    });

    it("CSV → no cell opens as a formula under a `,` or a `;` separator", async () => {
      const r = answer({ site: "report", comment: "x;=1+1, +2\n@SUM(A1)", score: 1 });
      assert.equal((await post("/v1/responses", r)).status, 202);
      const csv = await eventually(async () => {
        const text = (await req("GET", "/v1/sites/report/responses?format=csv", { token: READ })).text;
        return text.includes(r.id) && text;
      }, { what: "the row in the CSV" });
      for (const sep of [",", ";"]) {
        for (const cell of readCsv(csv, sep).flat()) {
          assert.ok(!/^[\t\r]|^ *[=+\-@]/.test(cell), `separator ${sep}: live formula ${JSON.stringify(cell)}`);
        }
      }
    });
  });
}

/** A spreadsheet's reading of CSV text with `sep` as the separator (quotes count at cell start). */
function readCsv(text, sep) {
  const rows = [[""]];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i], row = rows.at(-1);
    if (quoted && c === '"' && text[i + 1] === '"') (row[row.length - 1] += '"'), i++;
    else if (quoted && c === '"') quoted = false;
    else if (!quoted && c === '"' && row.at(-1) === "") quoted = true;
    else if (!quoted && c === sep) row.push("");
    else if (!quoted && c === "\r" && text[i + 1] === "\n") rows.push([""]), i++;
    else row[row.length - 1] += c;
  }
  return rows;
}
