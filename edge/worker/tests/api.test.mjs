// API v1 over HTTP against the compiled worker in Miniflare/workerd: every status code, CORS,
// content types, problem+json shape, rate limiting, events, metrics.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ADMIN_TOKEN, ORIGIN, post, response, startReceiver, startWorker, testConfig, uid } from "./harness.mjs";

let w, rc;
before(async () => {
  rc = await startReceiver();
  w = await startWorker({ config: testConfig(rc.url) });
});
after(async () => {
  await w?.close();
  await rc?.close();
});

function assertProblem(res, status, field) {
  assert.equal(res.status, status, res.text);
  assert.match(res.headers.get("content-type"), /^application\/problem\+json/);
  assert.equal(res.json.status, status);
  assert.ok(res.json.type && res.json.title && typeof res.json.detail === "string");
  assert.ok(Array.isArray(res.json.errors));
  if (field !== undefined) assert.ok(res.json.errors.some((e) => e.field === field && e.reason), JSON.stringify(res.json.errors));
}

describe("POST /v1/responses", () => {
  it("202 accepted for application/json, with id, rev, segment, status and CORS headers", async () => {
    const r = response({ score: 10 });
    const res = await post(w.url, "/v1/responses", r);
    assert.equal(res.status, 202);
    assert.deepEqual(res.json, { id: r.id, rev: 1, segment: "promoter", status: "accepted" });
    assert.equal(res.headers.get("access-control-allow-origin"), ORIGIN);
    assert.match(res.headers.get("vary"), /Origin/);
  });

  it("202 for text/plain (sendBeacon); 403 for a request without Origin, as natively", async () => {
    const res = await post(w.url, "/v1/responses", response({ score: 7 }), { contentType: "text/plain;charset=UTF-8" });
    assert.equal(res.status, 202);
    assert.equal(res.json.segment, "passive");
    const res2 = await post(w.url, "/v1/responses", response(), { origin: null });
    assert.equal(res2.status, 403);
    assert.equal(res2.headers.get("access-control-allow-origin"), null);
  });

  it("400 for broken JSON and for JSON that is not an object", async () => {
    assertProblem(await post(w.url, "/v1/responses", "{\"id\":"), 400, "");
    assertProblem(await post(w.url, "/v1/responses", "[1,2]"), 400, "");
    assertProblem(await post(w.url, "/v1/responses", ""), 400);
  });

  it("413 for a body over 16 KiB (declared length)", async () => {
    const big = response({ comment: "x".repeat(17000) });
    assertProblem(await post(w.url, "/v1/responses", big), 413, "");
  });

  it("415 for other or missing content types", async () => {
    assertProblem(await post(w.url, "/v1/responses", response(), { contentType: "application/xml" }), 415, "content-type");
    assertProblem(await post(w.url, "/v1/responses", response(), { contentType: "multipart/form-data; boundary=x" }), 415);
  });

  it("422 lists every invalid field at once", async () => {
    const res = await post(w.url, "/v1/responses", { id: "a b", rev: 0, site: "demo", survey: "checkout", score: 11, visitor: "v", extra: 1 });
    assertProblem(res, 422);
    const fields = res.json.errors.map((e) => e.field).sort();
    assert.deepEqual(fields, ["extra", "id", "rev", "score"]);
  });

  it("403 for an unknown site and for an origin not on the site's list", async () => {
    assertProblem(await post(w.url, "/v1/responses", response({ site: "nope" })), 403, "site");
    const res = await post(w.url, "/v1/responses", response(), { origin: "https://evil.example" });
    assertProblem(res, 403, "origin");
    assert.equal(res.headers.get("access-control-allow-origin"), null);
    // Allowed for another site only: still refused for this one.
    assertProblem(await post(w.url, "/v1/responses", response(), { origin: "http://127.0.0.1:9999" }), 403, "origin");
  });

  it("429 with Retry-After once the site's bucket is empty", async () => {
    const statuses = [];
    let last;
    for (let i = 0; i < 5; i++) {
      last = await post(w.url, "/v1/responses", response({ site: "tight" }));
      statuses.push(last.status);
    }
    assert.deepEqual(statuses, [202, 202, 202, 429, 429]);
    assertProblem(last, 429);
    assert.ok(Number(last.headers.get("retry-after")) >= 1);
    assert.equal(last.headers.get("access-control-allow-origin"), ORIGIN);
    assert.match(last.headers.get("access-control-expose-headers"), /retry-after/i);
  });
});

describe("POST /v1/events", () => {
  it("202 and one D1 row per event id; the replay is answered duplicate", async () => {
    const e = { id: uid("e"), site: "demo", survey: "checkout", visitor: uid("v"), type: "shown" };
    for (const status of ["accepted", "duplicate"]) {
      const res = await post(w.url, "/v1/events", e);
      assert.equal(res.status, 202);
      assert.deepEqual(res.json, { id: e.id, status });
    }
    const rows = (await w.db.prepare("SELECT * FROM events WHERE id = ?").bind(e.id).all()).results;
    assert.equal(rows.length, 1);
    assert.equal(rows[0].type, "shown");
  });

  it("422 for an unknown type, 403 for an unknown site, 415 for a bad content type", async () => {
    assertProblem(await post(w.url, "/v1/events", { id: "e", site: "demo", survey: "s", visitor: "v", type: "clicked" }), 422, "type");
    assertProblem(await post(w.url, "/v1/events", { id: "e", site: "x", survey: "s", visitor: "v", type: "shown" }), 403, "site");
    assertProblem(await post(w.url, "/v1/events", "{}", { contentType: "text/html" }), 415);
  });
});

describe("CORS preflight", () => {
  it("204 with the exact origin for an allowed origin", async () => {
    const res = await fetch(w.url + "/v1/responses", {
      method: "OPTIONS",
      headers: { origin: ORIGIN, "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("access-control-allow-origin"), ORIGIN);
    assert.match(res.headers.get("access-control-allow-methods"), /POST/);
    assert.match(res.headers.get("access-control-allow-headers"), /content-type/i);
  });

  it("403 without CORS headers for any other origin", async () => {
    const res = await fetch(w.url + "/v1/events", { method: "OPTIONS", headers: { origin: "https://shop.example.evil" } });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get("access-control-allow-origin"), null);
  });
});

describe("other routes", () => {
  it("GET /healthz is 200", async () => {
    const res = await fetch(w.url + "/healthz");
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: "ok" });
  });

  it("404 and 405 are problem+json", async () => {
    const nf = await fetch(w.url + "/nope");
    assert.equal(nf.status, 404);
    assert.match(nf.headers.get("content-type"), /problem\+json/);
    const na = await fetch(w.url + "/v1/responses");
    assert.equal(na.status, 405);
  });

  it("GET /metrics is Prometheus text with accepted, duplicates and rejected by reason", async () => {
    assert.equal((await fetch(w.url + "/metrics")).status, 401, "behind a token");
    const res = await fetch(w.url + "/metrics", { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /^nps_responses_total\{status="accepted"\} [1-9]\d*$/m);
    assert.match(text, /^nps_rejected_total\{reason="rate_limited"\} [1-9]\d*$/m);
    assert.match(text, /^nps_rejected_total\{reason="bad_json"\} [1-9]\d*$/m);
    assert.match(text, /^nps_sink_dead_letters_total\{sink="crm"\} \d+$/m);
  });

  it("never stores the client address", async () => {
    const ip = "203.0.113.77";
    const r = response();
    const res = await post(w.url, "/v1/responses", r, { headers: { "cf-connecting-ip": ip } });
    assert.equal(res.status, 202);
    const row = (await w.db.prepare("SELECT * FROM responses WHERE id = ?").bind(r.id).first());
    assert.ok(row);
    assert.ok(!JSON.stringify(row).includes(ip));
  });
});

describe("body size without Content-Length", () => {
  it("413 for a chunked body over 16 KiB", async () => {
    const { request } = await import("node:http");
    const u = new URL(w.url + "/v1/responses");
    const status = await new Promise((resolve, reject) => {
      const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: "POST", headers: { "content-type": "application/json", "transfer-encoding": "chunked" } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on("error", reject);
      for (let i = 0; i < 20; i++) req.write("x".repeat(1024));
      req.end();
    });
    assert.equal(status, 413);
  });
});
