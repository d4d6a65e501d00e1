// The widget build's guards: an unpinned compiler and a glue from another wasm-bindgen fail the
// build with a message naming the version (widget/README.md, "Upgrading").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { root } from './harness.mjs';

test('build: a compiler other than the pinned one is refused, by version, before anything is built', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nps-toolchain-'));
  const file = path.join(dir, 'rust-toolchain.toml');
  fs.writeFileSync(file, '[toolchain]\nchannel = "1.99.0"\n');
  const r = spawnSync('bash', [path.join(root, 'scripts/build-widget.sh')], {
    env: { ...process.env, NPS_WIDGET_TOOLCHAIN_FILE: file }, encoding: 'utf8',
  });
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /pinned to rustc 1\.99\.0, which is not installed/);
  assert.match(fs.readFileSync(path.join(root, 'widget/rust-toolchain.toml'), 'utf8'), /channel = "\d+\.\d+\.\d+"/);
});

test('build: the glue patch refuses another wasm-bindgen version, naming the one it was written for', () => {
  const r = spawnSync(process.execPath, [path.join(root, 'widget/build/patch-glue.mjs'), '/dev/null', '/dev/null', '0.2.999'], { encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /written for wasm-bindgen 0\.2\.130's glue, got 0\.2\.999/);
});
