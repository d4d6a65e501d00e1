// The config document (the native server's, in NPS_CONFIG), validated at the first request, with
// errors naming the bad key; the committed example file runs on the worker as it is.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ROOT, post, response, startWorker, testConfig } from "./harness.mjs";

async function firstProblem(config, bindings) {
  const w = await startWorker({ config, bindings });
  try {
    return await post(w.url, "/v1/responses", response());
  } finally {
    await w.close();
  }
}

describe("config", () => {
  it("NPS_CONFIG may be TOML text", async () => {
    const toml = [
      "[[sites]]", 'id = "demo"', 'origins = ["https://shop.example"]',
      "[worker]", 'd1 = "DB"',
    ].join("\n");
    const res = await firstProblem(toml);
    assert.equal(res.status, 202, res.text);
    assert.equal(res.json.status, "accepted");
  });

  it("a JSON document is refused with a message saying the worker reads TOML", async () => {
    const res = await firstProblem(JSON.stringify(testConfig("http://127.0.0.1:1/hook")));
    assert.equal(res.status, 503);
    assert.match(res.json.detail, /NPS_CONFIG: the worker reads the config document as TOML/);
  });

  it("the committed example (edge/config.example.toml) runs as it is", async () => {
    const text = readFileSync(join(ROOT, "edge/config.example.toml"), "utf8");
    const secret = "whsec_" + Buffer.from("0123456789abcdef0123456789abcdef").toString("base64");
    const w = await startWorker({
      config: text,
      bindings: {
        NPS_HELPDESK_WEBHOOK_SECRET: secret, NPS_ADMIN_TOKEN: "admin-token-0123456789", NPS_READ_TOKEN: "read-token-0123456789",
        NPS_METRICS_TOKEN: "metrics-token-0123456789", NPS_SHOP_IDENTITY_SECRET: "shop-identity-secret-0123",
      },
    });
    try {
      const health = await fetch(`${w.url}/v1/sites`, { headers: { authorization: "Bearer read-token-0123456789" } });
      assert.equal(health.status, 200, await health.text());
      const r = await post(w.url, "/v1/responses", response({ site: "shop" }), { origin: "https://shop.example" });
      assert.equal(r.status, 202, r.text);
      const forged = await post(w.url, "/v1/responses", response({ site: "shop", user: { id: "u-1" } }), { origin: "https://shop.example" });
      assert.equal(forged.status, 403, "the example's shop requires signed users");
    } finally {
      await w.close();
    }
  });

  it("a bad origin is reported as 503 naming the key, in the native format", async () => {
    const cfg = testConfig("http://127.0.0.1:1/hook");
    cfg.sites[0].origins.push("https://shop.example/path");
    const res = await firstProblem(cfg);
    assert.equal(res.status, 503);
    assert.match(res.json.detail, /invalid config: sites\[0\]\.origins\[2\]: /);
  });

  it("unknown keys, a missing secret and a missing binding are named", async () => {
    const cfg = { ...testConfig("http://127.0.0.1:1/hook"), colour: "blue" };
    assert.match((await firstProblem(cfg)).json.detail, /colour/);
    const cfg2 = testConfig("http://127.0.0.1:1/hook");
    cfg2.sinks[0].secret = "env:MISSING_SECRET";
    assert.match((await firstProblem(cfg2)).json.detail, /sinks\[0\]\.secret: MISSING_SECRET is not set/);
    const cfg3 = testConfig("http://127.0.0.1:1/hook");
    cfg3.worker.d1 = "NO_DB";
    assert.match((await firstProblem(cfg3)).json.detail, /worker\.d1: no D1 binding `NO_DB`/);
    const cfg4 = testConfig("http://127.0.0.1:1/hook");
    cfg4.worker.queue = "NO_QUEUE";
    assert.match((await firstProblem(cfg4)).json.detail, /worker\.queue: no Queue producer binding `NO_QUEUE` \(sinks\[0\]/);
  });

  it("close the loop: a missing token secret, a bad alert key and an alert without D1 are named", async () => {
    const cfg = testConfig("http://127.0.0.1:1/hook");
    cfg.tokens[1].secret = "env:NO_SUCH_TOKEN";
    assert.match((await firstProblem(cfg)).json.detail, /tokens\[1\]\.secret: NO_SUCH_TOKEN is not set/);
    const cfg2 = testConfig("http://127.0.0.1:1/hook");
    cfg2.sinks.push({ type: "alert", url: "http://127.0.0.1:1/alert", segments: ["haters"] });
    assert.match((await firstProblem(cfg2)).json.detail, /sinks\[1\]\.segments\[0\]/);
    const cfg3 = testConfig("http://127.0.0.1:1/hook");
    cfg3.sinks = [{ type: "alert", url: "http://127.0.0.1:1/alert" }];
    delete cfg3.worker.d1;
    assert.match((await firstProblem(cfg3)).json.detail, /sinks\[0\]\.type: an alert sink needs worker\.d1/);
  });
});
