// The committed self-host config (edge/worker/workerd/nps.capnp) on plain workerd: API v1 with
// Durable Object dedup persisted on local disk across a restart.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { DIST, ROOT, until, uid } from "./harness.mjs";

const dir = mkdtempSync(join(tmpdir(), "nps-workerd-"));
let proc = null;
after(() => {
  proc?.kill();
  rmSync(dir, { recursive: true, force: true });
});

async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

async function start(port) {
  proc = spawn(join(ROOT, "node_modules", ".bin", "workerd"), [
    "serve", join(ROOT, "edge", "worker", "workerd", "nps.capnp"),
    "--directory-path", `dedup-disk=${dir}`, "--directory-path", `assets-disk=${join(DIST, "assets")}`,
    "--socket-addr", `http=127.0.0.1:${port}`,
  ], { stdio: ["ignore", "inherit", "inherit"] });
  const ok = await until(async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.ok, 10000, 20);
  assert.ok(ok, "workerd answers /healthz");
}

async function stop() {
  const p = proc;
  proc = null;
  p.kill();
  await new Promise((r) => p.once("exit", r));
}

const post = (port, body, origin = "http://127.0.0.1:8080", headers = { "x-real-ip": "203.0.113.7" }) =>
  fetch(`http://127.0.0.1:${port}/v1/responses`, { method: "POST", headers: { "content-type": "text/plain", origin, ...headers }, body: JSON.stringify(body) })
    .then(async (r) => ({ status: r.status, json: await r.json() }));

describe("workerd self-host config", () => {
  it("serves API v1 and keeps dedup state across a restart", async () => {
    const port = await freePort();
    await start(port);
    const r = { id: uid("w"), rev: 1, site: "demo", survey: "checkout", score: 8, visitor: uid("v") };
    assert.deepEqual((await post(port, r)).json, { id: r.id, rev: 1, segment: "passive", status: "accepted" });
    assert.equal((await post(port, r, "https://evil.example")).status, 403);
    const anonymous = await post(port, { ...r, id: uid("w") }, undefined, {});
    assert.equal(anonymous.status, 503, "no client address: refused, not one shared bucket");
    await stop();
    await start(port);
    assert.equal((await post(port, r)).json.status, "duplicate");
    assert.equal((await post(port, { ...r, rev: 2 })).json.status, "updated");
    // The static files come from the assets directory, with the application's headers.
    const page = await fetch(`http://127.0.0.1:${port}/console`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-security-policy"), /default-src 'none'/);
    assert.match(await page.text(), /\/console\/boot\.js/);
    const moved = await fetch(`http://127.0.0.1:${port}/report`, { redirect: "manual" });
    assert.equal(moved.headers.get("location"), "/console?view=report");
    const doc = await fetch(`http://127.0.0.1:${port}/openapi.json`);
    assert.equal((await doc.json()).info.title, "NPS edge API");
    await stop();
  });
});
