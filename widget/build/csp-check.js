// Spliced into the wasm-bindgen glue by build/patch-glue.mjs, as the `.catch` of the one
// WebAssembly.instantiate(Streaming) call. A host page whose Content-Security-Policy has a
// script-src (or default-src) without 'wasm-unsafe-eval' or 'unsafe-eval' forbids compiling any
// wasm, and the browser rejects with an error that names the policy (Chromium: CompileError
// "…violates the following Content Security policy directive…"; the other engines' messages say
// "CSP" or "Content Security Policy" too). That is a setting of the site, so the site owner is
// told: one console line naming the missing source, and an `nps:error` event on `document` (where
// the other nps:* events go). Then the promise never settles: the loader stays "loading", so no
// later trigger or nps('show') fetches the widget again, logs again or shows anything. Any other
// error is rethrown to the loader's usual warning (and its retry on the next show).
// Tested in widget/tests/browser/csp.test.mjs.
function cspCheck(e) {
  if (!/CSP|Security Policy/i.test(e)) throw e; // test(e) reads String(e): "CompileError: …"
  console.warn("nps: survey not shown: this page's Content-Security-Policy forbids WebAssembly; add 'wasm-unsafe-eval' to script-src");
  document.dispatchEvent(new CustomEvent('nps:error', { detail: { reason: 'csp-wasm', missing: "'wasm-unsafe-eval'" } }));
  return new Promise(() => {});
}
