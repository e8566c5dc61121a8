// perfdhcp's command line in the bench (bench/lib/perfdhcp.mjs): always bounded
// (-r, -p, an outer timeout), and with --pin kept to one CPU. The pinned line is
// run for real, with a stand-in `perfdhcp` first on PATH that reports the CPUs it
// may use and the arguments it got.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/provlab.js';

interface Args {
  clientIp: string;
  serverIp: string;
  rate: number;
  seconds: number;
  clients: number;
  vendorClassHex?: string;
  cpu?: number;
}
const perfdhcp = (await import(join(ROOT, 'bench/lib/perfdhcp.mjs'))) as {
  perfdhcpArgs(a: Args): string[];
  displayCommand(args: string[]): string;
};
const BASE: Args = { clientIp: '10.100.0.2', serverIp: '10.100.0.1', rate: 8000, seconds: 10, clients: 200 };

t.test('bounded: -r, -p and an outer timeout; no taskset unless asked', async (t) => {
  const args = perfdhcp.perfdhcpArgs(BASE);
  t.same(args.slice(0, 3), ['-k', '2', '25'], 'timeout: the run plus 15 s, then SIGKILL 2 s later');
  const inner = args.slice(args.indexOf('perfdhcp') + 1);
  t.same(inner.slice(inner.indexOf('-r'), inner.indexOf('-r') + 2), ['-r', '8000']);
  t.same(inner.slice(inner.indexOf('-p'), inner.indexOf('-p') + 2), ['-p', '10']);
  t.notMatch(args.join(' '), /taskset/);
  t.equal(perfdhcp.displayCommand(args), `timeout -k 2 25 perfdhcp ${inner.join(' ')}`);
});

t.test('--pin: perfdhcp runs on the CPU asked for, with the same arguments', { skip: cpus().length < 2 ? 'needs two CPUs' : false }, async (t) => {
  const args = perfdhcp.perfdhcpArgs({ ...BASE, cpu: 1 });
  const inner = args.slice(args.indexOf('perfdhcp') + 1);
  t.equal(perfdhcp.displayCommand(args), `timeout -k 2 25 taskset -c 1 perfdhcp ${inner.join(' ')}`, 'the report shows the pinning');

  const dir = mkdtempSync(join(tmpdir(), 'provlab-pin-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const fake = join(dir, 'perfdhcp');
  writeFileSync(fake, '#!/bin/sh\ngrep Cpus_allowed_list /proc/self/status\necho "args: $*"\n');
  chmodSync(fake, 0o755);
  const r = spawnSync('timeout', args, { env: { ...process.env, PATH: `${dir}:${process.env.PATH}` }, encoding: 'utf8', timeout: 30_000 });
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^Cpus_allowed_list:\s+1$/m, 'CPU 1 only');
  t.match(r.stdout, new RegExp(`^args: ${inner.join(' ')}$`, 'm'), 'the arguments passed through');
});
