// Entry module of the Rust worker (what worker-build generates, written by hand so the build
// needs only cargo, wasm-bindgen, wasm-opt and esbuild from the registries).
//
// The wasm module is imported as a compiled WebAssembly.Module (workerd/wrangler "CompiledWasm"
// rule) and instantiated synchronously at isolate start-up against wasm-bindgen's JS glue.
import { DurableObject } from "cloudflare:workers";
import * as glue from "./glue/index_bg.js";
import wasmModule from "./index_bg.wasm";

const instance = new WebAssembly.Instance(wasmModule, { "./index_bg.js": glue });
glue.__wbg_set_wasm(instance.exports);
instance.exports.__wbindgen_start?.();

// The Durable Object class: a `DurableObject` subclass (so stubs get JS RPC) holding the Rust
// object (`SiteState`, edge/worker/src/site_state.rs); every method forwards to Rust.
export class SiteState extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.inner = new glue.SiteState(ctx, env);
  }
  /** RPC: one JSON request in, a JSON answer out. */
  call(request) {
    return this.inner.call(request);
  }
  alarm() {
    return this.inner.alarm();
  }
}

export default {
  fetch(request, env, ctx) {
    return glue.fetch(request, env, ctx);
  },
  queue(batch, env, ctx) {
    return glue.queue(batch, env, ctx);
  },
};
