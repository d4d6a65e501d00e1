// The checks of scripts/test-identity-snippets.sh on the server-side signing snippets:
// 1. every code block of docs/identity.md marked `<!-- snippet: FILE -->` is docs/FILE byte for
//    byte (from a given line on, with `from "…"`), each snippet is included, and no Node, Python,
//    PHP or Rust block goes unchecked;
// 2. each snippet, run by its harness (docs/identity/harness/, docs/identity/rust/src/main.rs) on
//    docs/identity/vectors.json, gives the file's signatures (the edge's own:
//    edge/core/tests/identity_vectors.rs) and a script tag that, run, calls
//    nps('identify', {id, signature}) with exactly those values, and that no id can break out of.
// Usage: node scripts/test-identity-snippets.mjs RUST_HARNESS_BINARY
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runInNewContext } from "node:vm";
import { isDeepStrictEqual } from "node:util";

const root = fileURLToPath(new URL("..", import.meta.url));
const read = (path) => readFileSync(root + path, "utf8");
let failures = 0;
const fail = (what) => (failures++, console.log(`FAIL ${what}`));
const ok = (what) => console.log(`ok   ${what}`);

// ---- 1. the page shows the files
const doc = read("docs/identity.md");
const included = ["sign.mjs", "sign.py", "sign.php", "rust/Cargo.toml", "rust/src/lib.rs"].map((f) => `identity/${f}`);
const checkedLangs = new Set(["js", "javascript", "mjs", "python", "py", "php", "rust", "rs"]);
const blocks = /^(?:<!-- snippet: (\S+)(?: from "([^"]+)")? -->\n)?```(\w*)\n([\s\S]*?)^```$/gm;
const seen = new Set();
for (const [, file, from, lang, body] of doc.matchAll(blocks)) {
  if (!file) {
    if (checkedLangs.has(lang)) fail(`docs/identity.md: a ${lang} block without a snippet marker`);
    continue;
  }
  seen.add(file);
  let text = read(`docs/${file}`);
  if (from) text = text.includes(from) ? text.slice(text.indexOf(from)) : `(no line ${from})`;
  if (body === text) {
    ok(`docs/identity.md block = docs/${file}${from ? ` from ${from}` : ""}`);
    continue;
  }
  const [a, b] = [body.split("\n"), text.split("\n")];
  const line = a.findIndex((l, i) => l !== b[i]);
  fail(`docs/identity.md block != docs/${file}, first difference at line ${line + 1}:\n  doc:  ${a[line]}\n  file: ${b[line]}`);
}
for (const f of included) if (!seen.has(f)) fail(`docs/identity.md does not include ${f}`);

const vectors = JSON.parse(read("docs/identity/vectors.json"));
const signatures = new Set(vectors.sets.flatMap((s) => s.cases.map((c) => c.signature)));
for (const [hex] of doc.matchAll(/\b[0-9a-f]{64}\b/g)) {
  if (!signatures.has(hex)) fail(`docs/identity.md shows ${hex}, which is no signature of docs/identity/vectors.json`);
}

// ---- 2. each snippet signs as the edge does
/** JSON with every non-ASCII character escaped: the harnesses read plain ASCII lines. */
const asciiJson = (s) => JSON.stringify(s).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

/** Why a rendered tag is wrong for this user, or "" when it is right. */
function scriptProblem(script, id, signature) {
  const [open, close] = ["<script>", "</script>"];
  if (!script.startsWith(open) || !script.endsWith(close)) return "not one <script>…</script> element";
  const code = script.slice(open.length, -close.length);
  if (code.includes("<")) return `an unescaped "<" inside the element: ${code}`;
  const calls = [];
  try {
    runInNewContext(code, { nps: (...args) => calls.push(args) });
  } catch (e) {
    return `the script throws ${e}: ${code}`;
  }
  const want = [["identify", { id, signature }]];
  const got = JSON.parse(JSON.stringify(calls));
  return isDeepStrictEqual(got, want) ? "" : `calls ${JSON.stringify(got)}, not ${JSON.stringify(want)}`;
}

const rustHarness = process.argv[2];
const harnesses = {
  "Node (docs/identity/sign.mjs)": [process.execPath, "docs/identity/harness/run.mjs"],
  "Python (docs/identity/sign.py)": ["python3", "-B", "docs/identity/harness/run.py"],
  "PHP (docs/identity/sign.php)": ["php", "docs/identity/harness/run.php"],
  "Rust (docs/identity/rust/src/lib.rs)": [rustHarness],
};
for (const [name, [cmd, ...args]] of Object.entries(harnesses)) {
  let good = 0, total = 0;
  for (const { secret, cases } of vectors.sets) {
    total += cases.length;
    const run = spawnSync(cmd, args, {
      cwd: root,
      input: cases.map((c) => asciiJson(c.id) + "\n").join(""),
      env: { ...process.env, NPS_IDENTITY_SECRET: secret },
      encoding: "utf8",
    });
    if (run.status !== 0) {
      fail(`${name}: ${run.error ?? `exit ${run.status}`}\n${run.stderr}`);
      continue;
    }
    const lines = run.stdout.trimEnd().split("\n");
    cases.forEach(({ id, signature }, i) => {
      const out = JSON.parse(lines[i] ?? "{}");
      const what = `${name}: ${JSON.stringify(id)} under ${JSON.stringify(secret)}`;
      if (out.signature !== signature) return fail(`${what}: signature ${out.signature}, docs/identity/vectors.json has ${signature}`);
      const problem = scriptProblem(out.script ?? "", id, signature);
      if (problem) return fail(`${what}: ${problem}`);
      good++;
    });
  }
  if (good === total) ok(`${name}: ${total} vectors signed as the edge signs them, each script tag exact and closed`);
}

console.log(failures ? `${failures} failure(s)` : "identity snippets: all checks passed");
process.exit(failures ? 1 : 0);
