// provlab runs with V8's --single-threaded-gc and a 4 MiB young generation (README, "Runtime: one core"):
// every way of starting it must say so, or the benchmark measures something
// other than what admins run.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_FLAGS, ROOT } from '../helpers/provlab.js';

const read = (p: string): string => readFileSync(join(ROOT, p), 'utf8');

t.test('npm start, the bin, the Docker image, the bench and the tests run provlab with the same Node flags', async (t) => {
  t.same(NODE_FLAGS, ['--single-threaded-gc', '--max-semi-space-size=4']);
  const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string>; bin: Record<string, string> };
  t.match(pkg.scripts.start, /^node --single-threaded-gc --max-semi-space-size=4 dist\/cli\/main\.js up /, 'npm start');
  t.equal(pkg.bin.provlab, 'dist/cli/main.js');
  t.equal(read('src/cli/main.ts').split('\n')[0], '#!/usr/bin/env -S node --single-threaded-gc --max-semi-space-size=4', 'the provlab bin (#! line)');
  t.match(read('docker/Dockerfile'), /ENTRYPOINT \["node", "--single-threaded-gc", "--max-semi-space-size=4", "\/app\/dist\/cli\/main\.js"\]/, 'Docker image');
  const bench = (await import(join(ROOT, 'bench/lib/node-flags.mjs'))) as { PROVLAB_NODE_FLAGS: string[] };
  t.same(bench.PROVLAB_NODE_FLAGS.slice(0, NODE_FLAGS.length), NODE_FLAGS, 'bench');
});
