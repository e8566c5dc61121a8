// The DHCP flood row: while a DISCOVER (or INFORM) flood from random MACs
// hits provlab's DHCP port, do its DNS and NTP keep answering within
// milliseconds (one process serves all three; issue 20)? provlab `up` on
// 127.0.0.1 (DHCP relay-only, giaddr 127.88.0.1), a flooder in its own process
// (relayed packets, bounded by --rate and --seconds), and probes asking DNS
// (20/s) and NTP (2/s) before and during the flood. Also: the server's CPU and
// the bytes of log it wrote. Loopback only.
//
//   node bench/dhcp-flood.mjs [--dist dist] [--kind discover|inform] [--rate 3000] [--seconds 10] [--label X]
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, statSync, readFileSync, rmSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import dgram from 'node:dgram';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const known = new Set(['dist', 'kind', 'rate', 'seconds', 'label', 'pool']);
for (const k of Object.keys(args)) if (!known.has(k)) {
  console.error(`unknown option --${k}\nusage: node bench/dhcp-flood.mjs [--dist dist] [--kind discover|inform] [--rate 3000] [--seconds 10] [--pool 51200] [--label X]`);
  process.exit(2);
}
const DIST = resolve(args.dist ?? 'dist');
const KIND = args.kind ?? 'discover';
const RATE = Number(args.rate ?? 3000);
const SECONDS = Number(args.seconds ?? 10);
const POOL = Number(args.pool ?? 51200);
const LABEL = args.label ?? DIST;
if (!['discover', 'inform'].includes(KIND) || !(RATE > 0 && RATE <= 50000) || !(SECONDS > 0 && SECONDS <= 120) || !(POOL >= 16 && POOL <= 60000)) {
  console.error('bad --kind, --rate (1..50000), --seconds (1..120) or --pool (16..60000)');
  process.exit(2);
}
const PORTS = { dhcp: 26767, dns: 25300, ntp: 22300 };

const dir = mkdtempSync(join(tmpdir(), 'provlab-dhcp-flood-'));
const last = 20 + POOL - 1;
const site = `site: dhcp-flood
address: 127.0.0.1
dhcp:
  subnet: 127.88.0.0/16
  pool: 127.88.0.20-127.88.${last >> 8}.${last & 255}
  router: 127.88.0.1
domains:
  primary: schertz.name
lync:
  pool: lyncpool.schertz.name
  address: 127.88.0.10
ntp:
  servers: [127.88.0.1]
listen: { dhcp: ${PORTS.dhcp}, dns: ${PORTS.dns}, ntp: ${PORTS.ntp} }
state: ${join(dir, 'state')}
`;
writeFileSync(join(dir, 'site.yaml'), site);
const logFile = join(dir, 'provlab.log');
const server = spawn(process.execPath, ['--single-threaded-gc', join(DIST, 'cli/main.js'), '--log-format', 'json', '--log-level', 'info', 'up', '--site', join(dir, 'site.yaml')], {
  stdio: ['ignore', 'ignore', openSync(logFile, 'w')],
});
const stop = () => {
  try {
    server.kill('SIGTERM');
  } catch {}
};
process.on('exit', stop);
setTimeout(() => {
  console.error('global deadline');
  process.exit(1);
}, (SECONDS + 60) * 1000).unref();

function dnsQuery(id) {
  const name = 'lyncpool.schertz.name'.split('.');
  const b = Buffer.alloc(12 + name.reduce((n, l) => n + l.length + 1, 1) + 4);
  b.writeUInt16BE(id, 0);
  b.writeUInt16BE(0x0100, 2);
  b.writeUInt16BE(1, 4);
  let o = 12;
  for (const l of name) {
    b[o++] = l.length;
    o += b.write(l, o, 'latin1');
  }
  b[o++] = 0;
  b.writeUInt16BE(1, o);
  b.writeUInt16BE(1, o + 2);
  return b;
}

function ntpQuery() {
  const b = Buffer.alloc(48);
  b[0] = 0x23; // v4, client
  return b;
}

/** Asks at `perSecond` for `ms`; latencies of the answers within 1 s, and how many went unanswered. */
async function probe(port, perSecond, ms, make) {
  const sock = dgram.createSocket('udp4');
  await new Promise((r) => sock.bind(0, '127.0.0.1', r));
  const pending = new Map();
  const lat = [];
  let sent = 0;
  let seq = 0;
  sock.on('message', (m) => {
    const key = port === PORTS.dns ? m.readUInt16BE(0) : 'ntp';
    const t0 = port === PORTS.dns ? pending.get(key) : pending.values().next().value;
    if (t0 === undefined) return;
    lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (port === PORTS.dns) pending.delete(key);
    else pending.delete(pending.keys().next().value);
  });
  const timer = setInterval(() => {
    const id = ++seq & 0xffff;
    pending.set(port === PORTS.dns ? id : seq, process.hrtime.bigint());
    sock.send(make(id), port, '127.0.0.1');
    sent++;
  }, 1000 / perSecond);
  await new Promise((r) => setTimeout(r, ms));
  clearInterval(timer);
  await new Promise((r) => setTimeout(r, 1000));
  sock.close();
  lat.sort((a, b) => a - b);
  const q = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))].toFixed(2) : '-');
  return { sent, answered: lat.length, p50: q(0.5), p99: q(0.99), max: lat.length ? lat[lat.length - 1].toFixed(2) : '-' };
}

function cpuTicks(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);
}

// Waits until DNS answers.
for (let i = 0; ; i++) {
  const r = await probe(PORTS.dns, 10, 200, dnsQuery);
  if (r.answered > 0) break;
  if (i > 30 || server.exitCode !== null) {
    console.error(`provlab did not start: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
    process.exit(1);
  }
}

const quiet = await Promise.all([probe(PORTS.dns, 20, 3000, dnsQuery), probe(PORTS.ntp, 2, 3000, ntpQuery)]);
const logBefore = statSync(logFile).size;
const cpuBefore = cpuTicks(server.pid);
// The flooder: its own process, so its sending never delays the probes' timers.
const flooder = spawn(process.execPath, ['--input-type=module', '-e', `
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
const s = dgram.createSocket('udp4');
const KIND = ${JSON.stringify(KIND)}, RATE = ${RATE}, END = Date.now() + ${SECONDS * 1000};
function packet() {
  const b = Buffer.alloc(300);
  b[0] = 1; b[1] = 1; b[2] = 6;
  randomBytes(4).copy(b, 4);
  if (KIND === 'inform') Buffer.from([127, 88, 2, 7]).copy(b, 12);
  Buffer.from([127, 88, 0, 1]).copy(b, 24);
  const mac = randomBytes(6); mac[0] = (mac[0] & 0xfc) | 2; mac.copy(b, 28);
  Buffer.from([99, 130, 83, 99, 53, 1, KIND === 'inform' ? 8 : 1, 55, 4, 1, 3, 43, 120, 255]).copy(b, 236);
  return b;
}
let sent = 0; const t0 = Date.now();
const tick = () => {
  const due = Math.min(Math.floor((Date.now() - t0) * RATE / 1000), RATE * ${SECONDS});
  while (sent < due) { s.send(packet(), ${PORTS.dhcp}, '127.0.0.1'); sent++; }
  if (Date.now() < END) setTimeout(tick, 5); else setTimeout(() => { console.log(sent); s.close(); }, 100);
};
tick();
`], { stdio: ['ignore', 'pipe', 'inherit'] });
let floodSent = '';
flooder.stdout.on('data', (d) => (floodSent += d));
const during = await Promise.all([probe(PORTS.dns, 20, SECONDS * 1000, dnsQuery), probe(PORTS.ntp, 2, SECONDS * 1000, ntpQuery)]);
await new Promise((r) => (flooder.exitCode !== null ? r() : flooder.on('exit', r)));
const cpu = (cpuTicks(server.pid) - cpuBefore) / 100 / (SECONDS + 1);
const logBytes = statSync(logFile).size - logBefore;
stop();
const row = (what, r) => `| ${LABEL} | ${what} | ${r.answered}/${r.sent} | ${r.p50} | ${r.p99} | ${r.max} |`;
console.log(`\n${KIND.toUpperCase()} flood: ${Number(floodSent)} packets at ${RATE}/s for ${SECONDS} s from random MACs, pool ${POOL}; server CPU ${cpu.toFixed(2)} core, log ${(logBytes / 1e6).toFixed(2)} MB during the flood`);
console.log('| build | probe | answered | p50 ms | p99 ms | max ms |');
console.log('|---|---|---|---|---|---|');
console.log(row('DNS, quiet', quiet[0]));
console.log(row('NTP, quiet', quiet[1]));
console.log(row('DNS, flood', during[0]));
console.log(row('NTP, flood', during[1]));
// One JSON line per probe for bench/run.mjs.
const common = { build: LABEL, kind: KIND, rate: RATE, seconds: SECONDS, pool: POOL, floodSent: Number(floodSent), cpuCores: Number(cpu.toFixed(2)), logMB: Number((logBytes / 1e6).toFixed(2)) };
for (const [probeName, r] of [['dns-quiet', quiet[0]], ['ntp-quiet', quiet[1]], ['dns-flood', during[0]], ['ntp-flood', during[1]]]) console.log(JSON.stringify({ ...common, probe: probeName, ...r }));
rmSync(dir, { recursive: true, force: true });
process.exit(0);
