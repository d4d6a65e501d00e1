// Removes wasm exports that the widget never calls, so that wasm-opt can drop the code behind
// them. Leptos depends on server_fn, which depends on wasm-streams, whose #[wasm_bindgen]
// exported stream adapters (IntoUnderlyingSource/Sink/ByteSource) are kept alive by their exports
// even though the widget never creates a stream. Their JS classes stay in the glue, unused.
// Usage: node strip-exports.mjs in.wasm out.wasm REGEX
import fs from 'node:fs';

const [input, output, pattern] = process.argv.slice(2);
const re = new RegExp(pattern);
const b = fs.readFileSync(input);
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
const parts = [b.subarray(0, 8)];
let i = 8, removed = [];
while (i < b.length) {
  const id = b[i];
  const [size, start] = leb(i + 1);
  const end = start + size;
  if (id != 7) {
    parts.push(b.subarray(i, end));
  } else {
    let [n, j] = leb(start);
    const keep = [];
    for (let k = 0; k < n; k++) {
      const e0 = j;
      const [len, s] = leb(j);
      const name = b.subarray(s, s + len).toString();
      j = s + len + 1;
      [, j] = leb(j);
      if (re.test(name)) removed.push(name);
      else keep.push(b.subarray(e0, j));
    }
    const body = Buffer.concat([enc(keep.length), ...keep]);
    parts.push(Buffer.from([7]), enc(body.length), body);
  }
  i = end;
}
fs.writeFileSync(output, Buffer.concat(parts));
console.error(`strip-exports: removed ${removed.length} exports`);
