// Renames the wasm's imports and exports to short names and rewrites the wasm-bindgen glue to
// match. wasm-bindgen names every import `__wbg_<method>_<16 hex digits>` and exports closure
// shims under their full Rust paths; the same names appear in the wasm and in the glue, and the
// hex hashes do not compress (about 1 KB of gzip across both files). `mount`, `unmount` and
// `memory` keep their names.
// Usage: node shorten-names.mjs in.wasm in.js out.wasm out.js
import fs from 'node:fs';

const [inWasm, inJs, outWasm, outJs] = process.argv.slice(2);
const KEEP = new Set(['memory', 'mount', 'unmount']);
const b = fs.readFileSync(inWasm);

const leb = (i) => {
  let r = 0, s = 0, x;
  do {
    x = b[i++];
    r |= (x & 0x7f) << s;
    s += 7;
  } while (x & 0x80);
  return [r >>> 0, i];
};
const enc = (n) => {
  const out = [];
  do {
    let x = n & 0x7f;
    n >>>= 7;
    if (n) x |= 0x80;
    out.push(x);
  } while (n);
  return Buffer.from(out);
};
const str = (s) => Buffer.concat([enc(Buffer.byteLength(s)), Buffer.from(s)]);

const renames = new Map();
const short = (name) => {
  if (KEEP.has(name)) return name;
  if (!renames.has(name)) renames.set(name, '$' + renames.size.toString(36));
  return renames.get(name);
};
const skipLimits = (j) => {
  const flags = b[j++];
  [, j] = leb(j);
  if (flags & 1) [, j] = leb(j);
  return j;
};
// The index just after an import descriptor that starts (after its kind byte) at `j`.
const skipDesc = (kind, j) => {
  switch (kind) {
    case 0: return leb(j)[1]; // function: type index
    case 1: return skipLimits(j + 1); // table: reftype, limits
    case 2: return skipLimits(j); // memory: limits
    case 3: return j + 2; // global: valtype, mutability
    case 4: return leb(j + 1)[1]; // tag: attribute, type index
    default: throw new Error(`shorten-names: unknown import kind ${kind}`);
  }
};

const parts = [b.subarray(0, 8)];
let i = 8;
while (i < b.length) {
  const id = b[i];
  const [size, start] = leb(i + 1);
  const end = start + size;
  if (id !== 2 && id !== 7) {
    parts.push(b.subarray(i, end));
    i = end;
    continue;
  }
  let [n, j] = leb(start);
  const entries = [];
  for (let k = 0; k < n; k++) {
    const out = [];
    if (id === 2) {
      const [mlen, ms] = leb(j);
      out.push(b.subarray(j, ms + mlen)); // the module name stays
      j = ms + mlen;
    }
    const [len, s] = leb(j);
    const name = b.subarray(s, s + len).toString();
    j = s + len;
    const descEnd = id === 2 ? skipDesc(b[j], j + 1) : leb(j + 1)[1];
    out.push(str(short(name)), b.subarray(j, descEnd));
    j = descEnd;
    entries.push(Buffer.concat(out));
  }
  const body = Buffer.concat([enc(n), ...entries]);
  parts.push(Buffer.from([id]), enc(body.length), body);
  i = end;
}

let js = fs.readFileSync(inJs, 'utf8');
const word = (s) => new RegExp(`(?<![\\w$])${s.replace(/\$/g, '\\$')}(?![\\w$])`, 'g');
for (const to of renames.values()) {
  if (word(to).test(js)) throw new Error(`shorten-names: ${to} already occurs in the glue`);
}
for (const [from, to] of [...renames].sort((x, y) => y[0].length - x[0].length)) {
  js = js.replace(word(from), to);
}
fs.writeFileSync(outWasm, Buffer.concat(parts));
fs.writeFileSync(outJs, js);
console.error(`shorten-names: ${renames.size} imports/exports renamed`);
