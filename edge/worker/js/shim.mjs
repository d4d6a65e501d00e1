// Entry module of the Rust worker (what worker-build generates, written by hand so the build
// needs only cargo, wasm-bindgen, wasm-opt and esbuild from the registries).
//
// The wasm module is imported as a compiled WebAssembly.Module (workerd/wrangler "CompiledWasm"
// rule) and instantiated synchronously at isolate start-up against wasm-bindgen's JS glue.
import { DurableObject } from "cloudflare:workers";
import * as glue from "./glue/index.js";
import wasmModule from "./index_bg.wasm";

glue.initSync({ module: wasmModule });

// A trap (a Rust panic: the build aborts on panic; a stack overflow) leaves the instance's memory
// as it was at that moment — a cell still borrowed, a half-made change — and every later call
// could fail with it. So the next call after a trap starts from a new instance (wasm-bindgen's
// `__wbg_reset_state`: same module, fresh memory, the glue's caches dropped; the config is read
// again). `generation` counts instances: what belongs to an earlier one (the object's Rust half,
// a request waiting on its object call) is made again or answered 503, never mixed in.
let generation = 0;
let trapped = false;

/** Notes a trap thrown out of a wasm call (other errors are the call's own). */
function noteTrap(e) {
  if (e instanceof WebAssembly.RuntimeError) trapped = true;
}

/** Before each entry: a new instance if the last one trapped (or panicked: the worker crate's
 * panic hook sets `criticalError`, also for a panic inside a future polled from a microtask). */
function healthy() {
  const init = globalThis.__worker_init_state;
  if (!trapped && !init?.criticalError) return;
  console.error("nps: the wasm instance trapped; starting a new one");
  glue.__wbg_reset_state();
  if (init) init.criticalError = false;
  trapped = false;
  generation += 1;
  HEADERS = undefined;
}

/** The application's 503 problem (`unavailable`: clients retry it), in its answer format, for
 * a request whose instance trapped while answering it. */
function unavailable(detail) {
  const body = JSON.stringify({ type: "https://nps.dev/problems/unavailable", title: "Temporarily unavailable", status: 503, detail, errors: [] });
  return `503\ncontent-type\napplication/problem+json\ncache-control\nno-store\nretry-after\n1\n\n${body}`;
}

// The Durable Object class: a `DurableObject` subclass (so stubs get JS RPC) holding the Rust
// object (`SiteState`, edge/worker/src/site_state.rs); every method forwards to Rust.
export class SiteState extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.ctx = ctx;
    this.env = env;
    this.inner = new glue.SiteState(ctx, env);
    this.generation = generation;
  }
  /** The Rust object, made again after its instance was replaced (its state is in SQLite). */
  rust() {
    healthy();
    if (this.generation !== generation) {
      this.inner = new glue.SiteState(this.ctx, this.env);
      this.generation = generation;
    }
    return this.inner;
  }
  /** RPC: one JSON request in, a JSON answer out. */
  call(request) {
    try {
      return this.rust().call(request);
    } catch (e) {
      noteTrap(e);
      throw e;
    }
  }
  alarm() {
    try {
      return this.rust().alarm();
    } catch (e) {
      noteTrap(e);
      throw e;
    }
  }
}

// The HTTP shell: the request's parts go to Rust in one call, the answer comes back as one
// string (`status`, name/value lines, an empty line, the body; edge/worker/src/http.rs).
// The header names depend on the config (its client address header): read at the first request.
let HEADERS;
const LIMIT = glue.maxRequestBytes();
const NO_BODY = new Set(["GET", "HEAD", "OPTIONS"]);

/** Reads and drops a refused body up to DISCARD bytes, so that the client, still sending, gets
 * the 413 instead of a reset connection; a longer one is cut off. */
const DISCARD = 1 << 20;
async function discard(reader, n = 0) {
  while (n <= DISCARD) {
    const { done, value } = await reader.read();
    if (done) return;
    n += value.length;
  }
  await reader.cancel();
}

/** The body, or undefined when it is longer than the path's limit (never reads more than
 * that): LIMIT, or the bulk limit on the few paths the application names. */
async function readBody(request) {
  if (NO_BODY.has(request.method) || request.body === null) return new Uint8Array(0);
  let limit = LIMIT;
  const over = (n) => {
    if (n <= limit) return false;
    if (limit === LIMIT && glue.isBulkPath(new URL(request.url).pathname)) limit = glue.maxBulkRequestBytes();
    return n > limit;
  };
  const declared = request.headers.get("content-length");
  if (declared !== null) {
    if (!over(Number(declared))) return new Uint8Array(await request.arrayBuffer());
    await discard(request.body.getReader());
    return undefined;
  }
  const reader = request.body.getReader();
  const chunks = [];
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    n += value.length;
    if (over(n)) {
      await discard(reader, n);
      return undefined;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(n);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** A built file (the console's) from the assets binding, with the application's headers. */
async function builtFile(env, spec, status, headers) {
  headers.delete("x-nps-static");
  const [binding, name] = spec.split(" ");
  const file = await env[binding]?.fetch(new Request(`https://assets.invalid/${name}`)).catch(() => null);
  if (!file?.ok) {
    const detail = `${name} is not deployed with this worker (its ${binding} assets binding)`;
    return Response.json({ type: "https://nps.dev/problems/unavailable", title: "Service unavailable", status: 503, detail, errors: [] },
      { status: 503, headers: { "content-type": "application/problem+json" } });
  }
  return new Response(file.body, { status, headers });
}

/** Drives a request (edge/worker/src/driven.rs): while Rust asks for a `SiteState` call
 * (`c<id>\n<binding>\n<object>\n<request>`), make it and hand back the answer; a promise is
 * awaited. The answer is a string starting with its status. */
async function answer(out, env) {
  const mine = generation;
  while (typeof out === "string" && out.charCodeAt(0) === 99 /* c */) {
    const a = out.indexOf("\n");
    const b = out.indexOf("\n", a + 1);
    const c = out.indexOf("\n", b + 1);
    const id = Number(out.slice(1, a));
    let ok = true;
    let text;
    try {
      const ns = env[out.slice(a + 1, b)];
      text = (await ns.get(ns.idFromName(out.slice(b + 1, c))).call(out.slice(c + 1))) ?? "";
    } catch (e) {
      ok = false;
      text = String(e?.message ?? e);
    }
    // The task waiting for this answer lives in an instance that has trapped since (here, or in
    // the object when it runs in this isolate): never entered again.
    if (generation !== mine || trapped) return unavailable("the edge restarted while answering; retry the request");
    out = glue.resume(id, ok, text);
  }
  return out;
}

export default {
  async fetch(request, env) {
    const h = request.headers;
    let out;
    try {
      healthy();
      let body;
      try {
        // The usual request (a declared length within the limit) is read here, without the
        // extra async frame of readBody: a promise and a resumption less per request.
        const declared = h.get("content-length");
        body = declared !== null && request.body !== null && !NO_BODY.has(request.method) && Number(declared) <= LIMIT
          ? new Uint8Array(await request.arrayBuffer())
          : await readBody(request);
      } catch (e) {
        if (e instanceof WebAssembly.RuntimeError) throw e;
        body = new Uint8Array(0); // a broken upload: answered as an unreadable body (400)
      }
      HEADERS ??= glue.requestHeaders(env).split("\n");
      const values = HEADERS.map((k) => h.get(k) ?? "").join("\n");
      out = glue.fetch(request.method, request.url, values, body, env);
      if (typeof out !== "string" || out.charCodeAt(0) === 99) out = await answer(out, env);
    } catch (e) {
      noteTrap(e);
      if (!(e instanceof WebAssembly.RuntimeError)) throw e;
      out = unavailable("the edge hit an internal error; retry the request");
    }
    const cut = out.indexOf("\n\n");
    const lines = out.slice(0, cut).split("\n");
    // A plain object (each name appears once: the application sets, never appends), which the
    // runtime turns into the response's headers in one step rather than a call per header.
    const headers = {};
    for (let i = 1; i + 1 < lines.length; i += 2) headers[lines[i]] = lines[i + 1];
    const status = Number(lines[0]);
    const text = out.slice(cut + 2);
    const built = headers["x-nps-static"];
    if (built !== undefined) return builtFile(env, built, status, new Headers(headers));
    return new Response(text === "" || status === 204 || status === 304 ? null : text, { status, headers });
  },
  queue(batch, env, ctx) {
    healthy();
    try {
      return glue.queue(batch, env, ctx);
    } catch (e) {
      noteTrap(e);
      throw e; // the batch is retried
    }
  },
  scheduled(controller, env) {
    healthy();
    try {
      return glue.scheduled(env);
    } catch (e) {
      noteTrap(e);
      throw e;
    }
  },
};
