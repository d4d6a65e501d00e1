// Two edits to the wasm-bindgen 0.2.130 glue (the version is pinned; every anchor must match
// exactly once or the build fails):
// 1. `wasm = guard(instance.exports, …)`: the trap guard (trap-guard.js) around every export.
// 2. A shorter init. The loader always calls `__npsWidget({module_or_path: fetch(…)})` once, so
//    the generic tail (initSync, URL/path inputs, deprecated-argument warnings, a second init
//    guard) is replaced by: stream-compile when the server sends `application/wasm`, otherwise
//    compile from the bytes. A rejection goes through `cspCheck` (csp-check.js, next to this
//    file): a page whose CSP forbids wasm gets one console line naming the missing source and an
//    `nps:error` event instead of the loader's generic warning.
// Usage: node patch-glue.mjs glue.js trap-guard.js <wasm-bindgen version>
import fs from 'node:fs';

// The glue's text these anchors were written against.
const WRITTEN_FOR = '0.2.130';
const [gluePath, guardPath, bindgen] = process.argv.slice(2);
if (bindgen !== WRITTEN_FOR) {
  throw new Error(`patch-glue: written for wasm-bindgen ${WRITTEN_FOR}'s glue, got ${bindgen}: see widget/README.md, Upgrading`);
}
let js = fs.readFileSync(gluePath, 'utf8');

function once(anchor) {
  const n = js.split(anchor).length - 1;
  if (n !== 1) throw new Error(`patch-glue: expected one ${JSON.stringify(anchor)}, found ${n}`);
}

const exportsAnchor = 'wasm = instance.exports;';
once(exportsAnchor);
js = js.replace(
  exportsAnchor,
  'wasm = guard(instance.exports, () => __npsWidget.ontrap && __npsWidget.ontrap());\n' +
    fs.readFileSync(guardPath, 'utf8')
);

const tailStart = '    async function __wbg_load(module, imports) {';
const tailEnd = '    return Object.assign(__wbg_init, { initSync }, exports);';
once(tailStart);
once(tailEnd);
const init = `    async function __wbg_init(input) {
        if (wasm !== undefined) return wasm;
        const res = await input.module_or_path;
        if (!res.ok) throw new Error('nps: widget wasm ' + res.status);
        const imports = __wbg_get_imports();
        const { instance, module } = await ((res.headers.get('Content-Type') || '').startsWith('application/wasm')
            ? WebAssembly.instantiateStreaming(res, imports)
            : res.arrayBuffer().then((b) => WebAssembly.instantiate(b, imports))).catch(cspCheck);
        return __wbg_finalize_init(instance, module);
    }
${fs.readFileSync(new URL('csp-check.js', import.meta.url), 'utf8')}

    return Object.assign(__wbg_init, exports);`;
js = js.slice(0, js.indexOf(tailStart)) + init + js.slice(js.indexOf(tailEnd) + tailEnd.length);

// The document.currentScript lookup only served the removed path input.
const scriptSrc = /    let script_src;\n    if \(typeof document !== 'undefined' && document\.currentScript !== null\) \{\n        script_src = new URL\(document\.currentScript\.src, location\.href\)\.toString\(\);\n    \}\n/;
if (!scriptSrc.test(js)) throw new Error('patch-glue: script_src block not found');
js = js.replace(scriptSrc, '');
if (/script_src|initSync|__wbg_load/.test(js)) throw new Error('patch-glue: leftovers of the generic init');
fs.writeFileSync(gluePath, js);
