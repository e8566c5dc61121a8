// The bench's LD_PRELOAD library (bench/lib/perfdhcp-rcvbuf.c) must enlarge the
// receive queue of perfdhcp's UDP sockets and of nothing else: it is loaded into
// `timeout` and `bash` too, and a row that claims a 4 MiB queue must have had one.
// perfdhcp itself is not needed: a process is "perfdhcp" by its argv[0], so
// Debian's python3 started as `exec -a perfdhcp` opens the sockets here.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/provlab.js';

interface Shim {
  ok: boolean;
  lib?: string;
  error?: string;
}
const perfdhcp = (await import(join(ROOT, 'bench/lib/perfdhcp.mjs'))) as {
  buildRcvbufShim(root: string, outDir: string, bytes: number): Shim;
  grantedRcvbuf(stderr: string): number;
};

// Not pyenv's python3 (a shell script that re-executes under its own name).
const PYTHON = '/usr/bin/python3';
const OPEN = (kind: 'DGRAM' | 'STREAM'): string =>
  `import socket; s = socket.socket(socket.AF_INET, socket.SOCK_${kind}); print(s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))`;

/** The SO_RCVBUF a fresh socket has in a process named `name`, and what the library printed. */
function openSocket(name: string, kind: 'DGRAM' | 'STREAM', env: Record<string, string>): { rcvbuf: number; stderr: string } {
  const r = spawnSync('bash', ['-c', `exec -a ${name} ${PYTHON} -c "$0"`, OPEN(kind)], { env: { ...process.env, ...env }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python3 as ${name} failed: ${r.stderr}`);
  return { rcvbuf: Number(r.stdout.trim()), stderr: r.stderr };
}

const sysctl = (name: string): number => Number(readFileSync(`/proc/sys/net/core/${name}`, 'utf8').trim());
const rmemDefault = sysctl('rmem_default');
const dir = mkdtempSync(join(tmpdir(), 'provlab-shim-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('perfdhcp-rcvbuf.so sets the receive queue of perfdhcp\'s UDP sockets only', { skip: existsSync(PYTHON) ? false : `${PYTHON} not installed` }, async (t) => {
  const shim = perfdhcp.buildRcvbufShim(ROOT, dir, 1048576);
  t.ok(shim.ok, `built with gcc${shim.error ? `: ${shim.error}` : ''}`);
  if (!shim.ok || shim.lib === undefined) return;
  const asked = 1048576;
  const env = { LD_PRELOAD: shim.lib, PROVLAB_PERFDHCP_RCVBUF: String(asked) };

  const inPerfdhcp = openSocket('perfdhcp', 'DGRAM', env);
  // Linux stores twice what was asked (half of it for its own bookkeeping) and reports that.
  // As root SO_RCVBUFFORCE is not capped by net.core.rmem_max; otherwise the cap applies.
  const rmemMax = sysctl('rmem_max');
  const expected = 2 * (process.getuid?.() === 0 ? asked : Math.min(asked, rmemMax));
  t.equal(inPerfdhcp.rcvbuf, expected, 'the UDP socket of a process named perfdhcp has the queue asked for');
  t.equal(perfdhcp.grantedRcvbuf(inPerfdhcp.stderr), expected, 'and the library said so on stderr, as the bench reads it');

  const other = openSocket('python3', 'DGRAM', env);
  t.equal(other.rcvbuf, rmemDefault, 'another program (timeout, bash) keeps the default');
  t.equal(other.stderr, '', 'and nothing is printed there');

  const tcp = openSocket('perfdhcp', 'STREAM', env);
  t.not(tcp.rcvbuf, expected, 'a TCP socket of perfdhcp is left alone');
  t.equal(tcp.stderr, '');

  const off = openSocket('perfdhcp', 'DGRAM', { LD_PRELOAD: shim.lib });
  t.equal(off.rcvbuf, rmemDefault, 'without PROVLAB_PERFDHCP_RCVBUF the library does nothing');
  t.ok(Number.isNaN(perfdhcp.grantedRcvbuf(off.stderr)), 'and reports nothing');
});
