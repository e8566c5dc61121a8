#!/usr/bin/env node
// The flood row: one source floods the DNS server with a valid query while
// "phones" (many addresses, a few queries a second each, the phones' boot
// queries) measure how many of their queries go unanswered. Against provlab
// (dns.rate_limit as the site defaults it, and with it off) and Knot DNS
// (default configuration, as in issue 16) loaded with `provlab export bind`'s
// zones, in the same run. Loopback only (run.mjs runs it in its own loopback
// namespace); flood from 127.0.1.1, phones on 127.0.2.x (another /24, so even
// a /24 limiter can tell them apart). Everything bounded by count and time:
// the flood by --flood-rate × --seconds (and a count), the phones by --seconds.
// Build first (npx tsc -p tsconfig.json); needs gcc, knotd and dig.
//   node bench/dns-flood.mjs [--seconds 10] [--flood-rate 150000] [--phones 50] [--phone-qps 10] [--rounds 1] [--only provlab,provlab-norrl,knot]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { optionsOrExit } from './lib/args.mjs';
import { DNS_BENCH_QUERIES, dnsBenchSite } from './lib/dns-site.mjs';
import { PROVLAB_NODE_FLAGS } from './lib/node-flags.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SERVERS = ['provlab', 'provlab-norrl', 'provlab-smallbuf', 'provlab-1socket', 'provlab-4sockets', 'knot', 'knot-1worker'];
const DEFAULT = ['provlab', 'provlab-norrl', 'knot'];
const o = optionsOrExit(process.argv.slice(2), {
  seconds: { type: 'number', min: 1, max: 120, default: 10 },
  'flood-rate': { type: 'number', min: 1, max: 2_000_000, default: 150_000 },
  phones: { type: 'number', min: 1, max: 250, default: 50 },
  'phone-qps': { type: 'number', min: 1, max: 1000, default: 10 },
  rounds: { type: 'number', min: 1, max: 20, default: 1 },
  only: { type: 'string', list: true, choices: SERVERS, default: [] },
}, 'node bench/dns-flood.mjs [--seconds 10] [--flood-rate 150000] [--phones 50] [--phone-qps 10] [--rounds 1] [--only provlab,provlab-norrl,provlab-smallbuf,provlab-1socket,provlab-4sockets,knot,knot-1worker]');
const SECONDS = o.seconds;
const names = o.only.length ? SERVERS.filter((n) => o.only.includes(n)) : DEFAULT;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const FLOOD_FROM = '127.0.1.1';
const phoneAddress = (i) => `127.0.2.${i + 1}`;

for (const tool of ['gcc', 'knotd', 'dig']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    console.error(`${tool} is not installed`);
    process.exit(2);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'provlab-dns-flood-'));
const children = new Set();
const cleanup = () => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
};
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

const site = join(dir, 'site.yaml');
writeFileSync(site, dnsBenchSite(join(dir, 'state')));
const flood = join(dir, 'dns-flood');
execFileSync('gcc', ['-O2', '-o', flood, join(root, 'bench/lib/dns-flood.c')], { stdio: ['ignore', 'ignore', 'inherit'] });
const zones = join(dir, 'zones');
execFileSync(process.execPath, [join(root, 'dist/cli/main.js'), 'export', 'bind', '--site', site, '-o', zones], { stdio: ['ignore', 'ignore', 'pipe'] });
const zoneNames = [...readFileSync(join(zones, 'named.conf.provlab'), 'utf8').matchAll(/zone "([^"]+)" \{\s*type master;\s*file "([^"]+)"/g)].map((m) => ({ apex: m[1], file: join(zones, m[2]) }));

const TYPES = { A: 1, AAAA: 28, SRV: 33 };
function query(id, text, rd = 0) {
  const [name, type] = text.split(' ');
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.of(l.length), Buffer.from(l, 'ascii')]));
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(rd ? 0x0100 : 0, 2);
  h.writeUInt16BE(1, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(TYPES[type], 0);
  tail.writeUInt16BE(1, 2);
  return Buffer.concat([h, ...labels, Buffer.of(0), tail]);
}

function knotConf(port, workers) {
  const kdir = join(dir, `knot-${port}`);
  mkdirSync(kdir, { recursive: true });
  const conf = join(kdir, 'knot.conf');
  writeFileSync(
    conf,
    [
      'server:',
      `    rundir: "${kdir}"`,
      `    listen: 127.0.0.1@${port}`,
      ...(workers ? [`    udp-workers: ${workers}`] : []),
      'database:',
      `    storage: "${kdir}"`,
      'log:',
      '  - target: stderr',
      '    any: warning',
      'template:',
      '  - id: default',
      `    storage: "${kdir}"`,
      '    zonefile-sync: -1',
      '    journal-content: none',
      'zone:',
      ...zoneNames.flatMap((z) => [`  - domain: ${z.apex}`, `    file: "${z.file}"`]),
      '',
    ].join('\n'),
  );
  return conf;
}

const COMMANDS = {
  provlab: (port) => [process.execPath, [...PROVLAB_NODE_FLAGS, join(root, 'bench/dns-provlab-server.mjs'), site, String(port)]],
  'provlab-norrl': (port) => [process.execPath, [...PROVLAB_NODE_FLAGS, join(root, 'bench/dns-provlab-server.mjs'), site, String(port), '--no-rrl']],
  // Diagnostic (only with --only): the kernel's default socket queue instead of provlab's 4 MiB.
  'provlab-smallbuf': (port) => [process.execPath, [...PROVLAB_NODE_FLAGS, join(root, 'bench/dns-provlab-server.mjs'), site, String(port), '--kernel-rcvbuf']],
  // Diagnostics (only with --only): one UDP socket (before SO_REUSEPORT), and four.
  'provlab-1socket': (port) => [process.execPath, [...PROVLAB_NODE_FLAGS, join(root, 'bench/dns-provlab-server.mjs'), site, String(port), '--udp-sockets', '1']],
  'provlab-4sockets': (port) => [process.execPath, [...PROVLAB_NODE_FLAGS, join(root, 'bench/dns-provlab-server.mjs'), site, String(port), '--udp-sockets', '4']],
  knot: (port) => ['knotd', ['-c', knotConf(port)]],
  // Diagnostic (only with --only): one UDP socket and thread, as provlab has.
  'knot-1worker': (port) => ['knotd', ['-c', knotConf(port, 1)]],
};

async function startServer(name, port) {
  const [cmd, argv] = COMMANDS[name](port);
  const logFile = join(dir, `${name}.log`);
  const fd = openSync(logFile, 'w');
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', fd] });
  closeSync(fd);
  children.add(child);
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  for (let i = 0; i < 100; i++) {
    const r = spawnSync('dig', ['@127.0.0.1', '-p', String(port), '+tries=1', '+time=1', '+short', 'ucupdates-r2.schertz.name', 'A'], { encoding: 'utf8' });
    if (r.stdout.trim() === '127.88.0.10') return { child, output: () => out };
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`${name} did not start: ${readFileSync(logFile, 'utf8').slice(-500)}`);
}

/** The phones: each its own address, `qps` queries a second from the boot list; a query unanswered 1 s after the run is lost. */
async function phones(port, count, qps, seconds) {
  const sockets = await Promise.all(
    Array.from({ length: count }, (_, i) => new Promise((resolve, reject) => {
      const s = dgram.createSocket('udp4');
      s.once('error', reject);
      s.bind(0, phoneAddress(i), () => resolve(s));
    })),
  );
  const pending = sockets.map(() => new Set());
  let sent = 0;
  let answered = 0;
  let truncated = 0;
  sockets.forEach((s, i) =>
    s.on('message', (m) => {
      const id = m.readUInt16BE(0);
      if (!pending[i].delete(id)) return;
      answered++;
      if (m[2] & 0x02) truncated++;
    }),
  );
  const total = Math.floor(count * qps * seconds);
  const start = performance.now();
  await new Promise((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * count * qps));
      for (; sent < due; sent++) {
        const phone = sent % count;
        const id = (Math.floor(sent / count) + 1) & 0xffff;
        pending[phone].add(id);
        sockets[phone].send(query(id, DNS_BENCH_QUERIES[Math.floor(sent / count) % DNS_BENCH_QUERIES.length], 1), port, '127.0.0.1');
      }
      if (sent >= total || performance.now() - start > seconds * 1000 + 500) {
        clearInterval(timer);
        resolve();
      }
    }, 5);
  });
  await sleep(1000);
  // 127.0.2.x in /proc/net/udp's little-endian hex: "xx02007F".
  const phoneDrops = kernelDrops((local) => local.slice(2, 8) === '02007F');
  for (const s of sockets) s.close();
  return { sent, answered, truncated, lost: sent - answered, phoneDrops };
}

function runFlood(port, seconds) {
  const q = query(1, 'ucupdates-r2.schertz.name A').toString('hex');
  const count = Math.ceil(o['flood-rate'] * (seconds + 1));
  const argv = ['127.0.0.1', String(port), FLOOD_FROM, String(o['flood-rate']), String(seconds + 1), String(count), q];
  const p = spawn(flood, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(p);
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  return {
    command: `dns-flood ${argv.slice(0, 6).join(' ')} QUERY`,
    done: new Promise((resolve) => p.on('close', () => {
      children.delete(p);
      try {
        resolve(JSON.parse(out));
      } catch {
        resolve({ sent: NaN, seconds: NaN });
      }
    })),
  };
}

/** Datagrams the kernel dropped on the UDP sockets whose local address matches (Knot has one socket per worker). */
function kernelDrops(match) {
  let drops = 0;
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] && match(f[1])) drops += Number(f[f.length - 1]);
  }
  return drops;
}
const serverDrops = (port) => kernelDrops((local) => local === `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`);

const results = [];
const basePort = 15900 + (process.pid % 400);
console.log(`# ${cpus().length} CPUs, load average before: ${loadavg().map((x) => x.toFixed(2)).join(' ')}; node ${process.version}`);
console.log(`# flood: ${FLOOD_FROM} at ${o['flood-rate']}/s for ${SECONDS + 1} s; phones: ${o.phones} on 127.0.2.x at ${o['phone-qps']} queries/s each for ${SECONDS} s`);
for (let round = 0; round < o.rounds; round++) {
  const order = names.map((_, i) => names[(i + round) % names.length]);
  for (const [i, name] of order.entries()) {
    const port = basePort + i;
    const srv = await startServer(name, port);
    try {
      const drops0 = serverDrops(port);
      const f = runFlood(port, SECONDS);
      await sleep(500);
      const legit = await phones(port, o.phones, o['phone-qps'], SECONDS);
      const fl = await f.done;
      const r = {
        round: round + 1,
        server: name,
        phonesSent: legit.sent,
        phonesLost: legit.lost,
        lossPct: +((100 * legit.lost) / legit.sent).toFixed(3),
        phonesTruncated: legit.truncated,
        phoneKernelDrops: legit.phoneDrops,
        floodSent: fl.sent,
        floodRate: Math.round(fl.sent / fl.seconds),
        serverKernelDrops: serverDrops(port) - drops0,
        load1: +loadavg()[0].toFixed(2),
        floodCommand: f.command,
      };
      srv.child.kill('SIGTERM');
      await new Promise((res) => srv.child.once('exit', res));
      const counters = srv.output().split('\n').filter((l) => l.startsWith('{"received"'))[0];
      if (counters) {
        const c = JSON.parse(counters);
        Object.assign(r, { rrlSlipped: c.rrlSlipped, rrlDropped: c.rrlDropped, received: c.received, sendErrors: c.sendErrors });
      }
      results.push(r);
      console.log(JSON.stringify(r));
    } finally {
      srv.child.kill('SIGKILL');
      children.delete(srv.child);
    }
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const knot = median(results.filter((r) => r.server === 'knot').map((r) => r.lossPct));
console.log(`\nlegitimate loss under the flood, medians of ${o.rounds} round(s)`);
console.log('server          phones lost %   vs knot   flood/s');
for (const name of names) {
  const rs = results.filter((r) => r.server === name);
  const loss = median(rs.map((r) => r.lossPct));
  console.log(`${name.padEnd(15)} ${loss.toFixed(3).padStart(13)}   ${knot !== undefined && name !== 'knot' ? (knot > 0 ? `${(loss / knot).toFixed(2)}x` : loss === 0 ? '=' : 'inf') : '-'}`.padEnd(42) + `${median(rs.map((r) => r.floodRate))}`);
}
