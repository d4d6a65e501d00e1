// Config validated at the first request, with an error naming the bad key.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { post, response, startWorker, testConfig } from "./harness.mjs";

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
      "[[sinks]]", 'type = "d1"', 'binding = "DB"',
    ].join("\n");
    const res = await firstProblem({}, { NPS_CONFIG: toml });
    assert.equal(res.status, 202, res.text);
    assert.equal(res.json.status, "accepted");
  });

  it("a bad origin is reported as 503 naming the key", async () => {
    const cfg = testConfig("http://127.0.0.1:1/hook");
    cfg.sites[0].origins.push("https://shop.example/path");
    const res = await firstProblem(cfg);
    assert.equal(res.status, 503);
    assert.match(res.json.detail, /sites\[0\]\.origins\[2\]/);
  });

  it("unknown keys and a missing secret are named", async () => {
    const cfg = { ...testConfig("http://127.0.0.1:1/hook"), colour: "blue" };
    assert.match((await firstProblem(cfg)).json.detail, /colour/);
    const cfg2 = testConfig("http://127.0.0.1:1/hook");
    cfg2.sinks[1].secret = "MISSING_SECRET";
    assert.match((await firstProblem(cfg2)).json.detail, /sinks\[1\]\.secret.*MISSING_SECRET/);
  });

  it("close the loop: a missing token secret, a bad alert key and an alert without D1 are named", async () => {
    const cfg = testConfig("http://127.0.0.1:1/hook", { tokens: { admin: "NPS_ADMIN_TOKEN", read: "NO_SUCH_TOKEN" } });
    assert.match((await firstProblem(cfg)).json.detail, /tokens\.read.*secret NO_SUCH_TOKEN is not set/);
    const cfg2 = testConfig("http://127.0.0.1:1/hook");
    cfg2.sinks.push({ type: "alert", url: "http://127.0.0.1:1/alert", segments: ["haters"] });
    assert.match((await firstProblem(cfg2)).json.detail, /sinks\[2\]\.segments\[0\]/);
    const cfg3 = testConfig("http://127.0.0.1:1/hook");
    cfg3.sinks = [{ type: "alert", url: "http://127.0.0.1:1/alert" }];
    assert.match((await firstProblem(cfg3)).json.detail, /sinks\[0\]\.type.*needs a d1 sink/);
  });
});
