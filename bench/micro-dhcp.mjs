#!/usr/bin/env node
// The DHCP packet path's JavaScript cost alone: DhcpDaemon.receive() on
// pre-encoded DISCOVER then REQUEST (selecting) messages of new clients,
// replies swallowed by a null transport (the daemon's private field, set here
// on purpose), fsync off, so no kernel, disk or load generator is measured.
//   node bench/micro-dhcp.mjs [DIST_DIR=dist] [LOG_LEVEL=warn] [CLIENTS=60000] [MODE=daemon|up]
//   MODE=daemon (default): the DHCP daemon alone; MODE=up: with the staging
//   timeline fed as `provlab up` feeds it (onExchange, onLease).
// Prints microseconds per DISCOVER and per REQUEST (wall, then process CPU). Compare two builds by
// passing each one's dist/ directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const dist = resolve(process.argv[2] ?? 'dist');
const level = process.argv[3] ?? 'warn';
const N = Number(process.argv[4] ?? 60000);
const mode = process.argv[5] ?? 'daemon';
const load = (p) => import(pathToFileURL(join(dist, p)).href);
const { DhcpDaemon } = await load('dhcp/daemon.js');
const { parseSite } = await load('site/load.js');
const { compilePlan } = await load('site/compile.js');
const dhcpWire = await load('wire/dhcp-message.js');
const { emptyMessage } = dhcpWire;
// Builds before the DHCP and DNS codecs had distinct names export encodeMessage.
const encodeMessage = dhcpWire.encodeDhcpMessage ?? dhcpWire.encodeMessage;
const { pino } = await import('pino');

const dir = mkdtempSync(join(tmpdir(), 'provlab-micro-'));
const port = 40000 + (process.pid % 10000);
const site = `site: micro
address: 127.0.0.1
dhcp:
  subnet: 127.64.0.0/14
  pool: 127.64.1.0-127.67.255.250
  router: 127.64.0.1
domains:
  primary: example.local
lync:
  pool: lyncpool.example.local
  address: 127.0.0.10
ntp:
  enabled: false
listen: { dhcp: ${port}, dns: ${port + 1}, ntp: ${port + 2} }
state: ${dir}/state
`;
const plan = compilePlan(parseSite(site, join(dir, 'site.yaml')), join(dir, 'site.yaml'));
// Log lines are serialised as by `provlab up`, then thrown away.
let events;
if (mode === 'up') {
  // As src/cli/up.ts wires it (the DNS daemon's setLeaseName aside).
  const { createTimeline, timelineDhcpEvents } = await load('timeline/index.js');
  const timeline = createTimeline(plan);
  events = { ...timelineDhcpEvents(timeline), onLease: (r) => timeline.onLease(r) };
}
const daemon = await DhcpDaemon.start(plan, { logger: pino({ level }, { write() {} }), fsync: false, ...(events ? { events } : {}) });
let sent = 0;
// A stand-in for the socket, for builds before and after the shared UDP transport (send / sendTo).
daemon.transport = { describe: 'null', kind: 'dgram', device: null, send: () => void sent++, sendTo: () => void sent++, flush() {}, close() {} };

const vendor = new TextEncoder().encode('MS-UC-Client');
const prl = Uint8Array.of(1, 3, 6, 15, 119, 42, 4, 43, 120);
function message(type, i, extra = []) {
  const m = emptyMessage();
  m.op = 1;
  m.hops = 1;
  m.xid = i;
  m.giaddr = '127.64.0.1';
  const c = new Uint8Array(16);
  c.set([2, 0, (i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255]);
  m.chaddr = c;
  m.options.set(53, Uint8Array.of(type));
  m.options.set(60, vendor);
  m.options.set(55, prl);
  for (const [k, v] of extra) m.options.set(k, v);
  return encodeMessage(m).value;
}
// New clients get the pool's addresses in order (next-fit from 127.64.1.0).
const addressOf = (k) => {
  const n = ((127 << 24) | (64 << 16) | (1 << 8)) + k;
  return Uint8Array.of((n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
};
const discovers = Array.from({ length: N }, (_, i) => message(1, i + 1));
const requests = Array.from({ length: N }, (_, i) => message(3, i + 1, [[54, Uint8Array.of(127, 0, 0, 1)], [50, addressOf(i)]]));

// Wall time, and the process's CPU time (every thread: GC helpers and fs writes included),
// which a busy shared box disturbs less.
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
async function time(packets) {
  const c0 = cpuMs();
  const t0 = performance.now();
  for (let i = 0; i < packets.length; i++) {
    daemon.receive(packets[i], 'relay-socket');
    // Let journal appends settle as the event loop would between datagrams.
    if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
  }
  return { wall: performance.now() - t0, cpu: cpuMs() - c0 };
}
const d = await time(discovers);
const r = await time(requests);
const us = (ms) => ((ms * 1000) / N).toFixed(1);
await new Promise((res) => setTimeout(res, 200));
console.log(`${dist} (${level}, ${mode}): DISCOVER ${us(d.wall)} µs, REQUEST ${us(r.wall)} µs (CPU ${us(d.cpu)} + ${us(r.cpu)} µs); replies ${sent}/${2 * N}, leases journaled ${daemon.counters.commits}`);
await daemon.stop();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
