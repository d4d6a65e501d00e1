// Spliced into the wasm-bindgen glue by build/patch-glue.mjs (`wasm = guard(instance.exports, …)`).
// The widget is built with panic=immediate-abort, so a Rust panic is a wasm trap: a
// `WebAssembly.RuntimeError` thrown out of whatever wasm call was running. This wrapper keeps it
// inside the widget: one console line, the loader hides the widget (`__npsWidget.ontrap`), the
// instance is never entered again (calls return undefined), and the error is not rethrown to the
// page (its error handlers and error trackers never see it). Nested wasm calls rethrow so the
// outer wasm frames unwind too. Tested in widget/tests/browser/trap.test.mjs.
function guard(exports, onTrap) {
  let depth = 0, dead = 0;
  const out = {};
  for (const k of Object.keys(exports)) {
    const f = exports[k];
    out[k] = typeof f != 'function' ? f : function () {
      if (dead) return;
      depth++;
      try {
        return f.apply(this, arguments);
      } catch (e) {
        if (!(e instanceof WebAssembly.RuntimeError)) throw e;
        if (!dead) {
          dead = 1;
          console.warn('nps: the survey widget hit an internal error and was hidden');
          setTimeout(onTrap);
        }
        if (depth > 1) throw e;
      } finally {
        depth--;
      }
    };
  }
  return out;
}
