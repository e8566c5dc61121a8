#!/usr/bin/env node
// Audit experiment: is node-dhcp (npm "dhcp") usable as provlab's DHCP server?
// Run from the project root: node scripts/audit/node-dhcp.mjs
//
// NO NETWORK TRAFFIC AT ALL: the library's option encoder and parser are called
// directly, and its Server is driven in-process by emitting 'message' on its
// (never bound) socket, with Server#_send replaced by a recorder. The recorder
// still runs the library's own packet formatter (Protocol.format) so that
// anything that throws on the real send path throws here too. Experiments that
// may hang or crash run in a child copy of this script under a hard timeout.

import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const dhcp = require('dhcp');
const Protocol = require('dhcp/lib/protocol.js');
const SeqBuffer = require('dhcp/lib/seqbuffer.js');
const Options = require('dhcp/lib/options.js');
const pkg = require('dhcp/package.json');
const libDir = path.dirname(require.resolve('dhcp/lib/dhcp.js'));

const hex = (b) => Buffer.from(b).toString('hex');
const spaced = (b) => hex(b).replace(/(..)(?!$)/g, '$1 ');

// ---------------------------------------------------------------------------
// Independent packet builder (RFC 2131 §2 layout), so requests do not depend on
// the library under test.
function ip4(s) {
  return Buffer.from(s.split('.').map(Number));
}
function bootRequest({ op = 1, xid = 0x11223344, flags = 0, ciaddr = '0.0.0.0', giaddr = '0.0.0.0',
  mac = '00:15:5d:aa:bb:01', htype = 1, hlen = 6, cookie = 0x63825363, options = [], raw = null }) {
  const h = Buffer.alloc(240);
  h[0] = op; h[1] = htype; h[2] = hlen; h[3] = 0;
  h.writeUInt32BE(xid, 4);
  h.writeUInt16BE(flags, 10);
  ip4(ciaddr).copy(h, 12);
  ip4(giaddr).copy(h, 24);
  Buffer.from(mac.split(':').map((x) => parseInt(x, 16))).copy(h, 28);
  h.writeUInt32BE(cookie, 236);
  const opts = raw ?? Buffer.concat([
    ...options.map(([code, val]) => Buffer.concat([Buffer.from([code, val.length]), Buffer.from(val)])),
    Buffer.from([0xff]),
  ]);
  return Buffer.concat([h, opts]);
}
const msgType = (t) => [53, [t]];
const zeroFill = (opts) => Buffer.concat([Buffer.from(opts), Buffer.alloc(60 - opts.length)]);

// Server with a recorder instead of a socket send.
function makeServer(extra = {}) {
  const srv = dhcp.createServer({
    range: ['192.168.50.10', '192.168.50.12'],
    netmask: '255.255.255.0',
    router: ['192.168.50.1'],
    server: '192.168.50.1',
    ...extra,
  });
  srv.sent = [];
  srv.errors = [];
  srv._send = function (host, data) {
    const sb = Protocol.format(data); // same formatter as the real _send (lib/dhcp.js:497-508)
    srv.sent.push({ host, data, bytes: sb._data.subarray(0, sb._w) });
  };
  return srv;
}
function feed(srv, buf) {
  srv._sock.emit('message', buf, { address: '0.0.0.0', port: 68, family: 'IPv4', size: buf.length });
}
function captureConsoleError(fn) {
  const lines = [];
  const orig = console.error;
  console.error = (...a) => lines.push(a.map(String).join(' '));
  try { fn(); } finally { console.error = orig; }
  return lines;
}
function optionsOf(bytes) {
  // independent TLV walk of a reply's options (after the 240-byte header)
  const out = [];
  let i = 240;
  while (i < bytes.length && bytes[i] !== 0xff) {
    if (bytes[i] === 0) { i++; continue; }
    out.push(`${bytes[i]}:${hex(bytes.subarray(i + 2, i + 2 + bytes[i + 1]))}`);
    i += 2 + bytes[i + 1];
  }
  return out;
}

// ---------------------------------------------------------------------------
// Child modes (run under a timeout by the parent).
const child = process.argv.find((a) => a.startsWith('--child='))?.slice(8);
if (child) {
  const macs = ['00:15:5d:00:00:01', '00:15:5d:00:00:02', '00:15:5d:00:00:03', '00:15:5d:00:00:04'];
  if (child === 'pool-random-probe') {
    // same as pool-random, but Math.random throws after 1e6 calls to show where the loop is
    const rnd = Math.random;
    let calls = 0;
    Math.random = () => {
      if (++calls > 1e6) throw new Error('probe: Math.random called 1e6 times for one DISCOVER');
      return rnd();
    };
    const srv = makeServer();
    srv.on('error', () => {});
    try {
      macs.slice(0, 3).forEach((mac, i) => { calls = 0; feed(srv, bootRequest({ mac, xid: i + 1, options: [msgType(1)] })); });
    } catch (e) {
      const frames = e.stack.split('\n').filter((l) => l.includes('/dhcp/lib/')).slice(0, 3).map((l) => l.trim().replace(/^at /, '').replace(/\(.*node_modules\//, '(node_modules/'));
      console.log(`  ${e.message}; innermost library frames:\n    ${frames.join('\n    ')}`);
    }
    process.exit(0);
  }
  if (child === 'pool-random' || child === 'pool-first-free') {
    const srv = makeServer(child === 'pool-first-free' ? { randomIP: false } : {});
    srv.on('error', (e) => console.log('  error event:', String(e)));
    macs.forEach((mac, i) => {
      console.log(`  DISCOVER #${i + 1} from ${mac} (pool 192.168.50.10-12)`);
      feed(srv, bootRequest({ mac, xid: i + 1, options: [msgType(1)] }));
      console.log(`    -> OFFER yiaddr ${srv.sent.at(-1)?.data.yiaddr}`);
    });
    console.log('  all four DISCOVERs answered');
    process.exit(0);
  }
  if (child === 'unknown-55-no-listener') {
    const srv = makeServer({ dns: ['192.168.50.1'] });
    console.log('  DISCOVER with option 55 = [1,3,6,15,43,120], no "error" listener on the server');
    feed(srv, bootRequest({ options: [msgType(1), [60, Buffer.from('MS-UC-Client')], [55, [1, 3, 6, 15, 43, 120]]] }));
    console.log('  survived');
    process.exit(0);
  }
  if (child === 'garbage-no-listener') {
    const srv = makeServer();
    console.log('  100-byte datagram of 0x41, no "error" listener on the server');
    feed(srv, Buffer.alloc(100, 0x41));
    console.log('  survived');
    process.exit(0);
  }
  process.exit(99);
}

function runChild(mode, timeoutMs = 2000) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), `--child=${mode}`], {
    encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL',
  });
  const ms = Date.now() - t0;
  process.stdout.write(r.stdout);
  const firstErr = r.stderr.split('\n').find((l) => /^\w*Error\b/.test(l));
  if (r.signal) console.log(`  => child KILLED by ${r.signal} after ${ms} ms (timeout ${timeoutMs} ms): it never returned`);
  else console.log(`  => child exit code ${r.status} after ${ms} ms${r.status ? `; stderr: ${firstErr?.trim()}` : ''}`);
}

// ---------------------------------------------------------------------------
console.log(`node-dhcp: npm "dhcp" ${pkg.version} (${libDir}), node ${process.version}`);

console.log('\n[1] Option table entries (lib/options.js) for the options provlab needs');
for (const code of [4, 6, 15, 42, 43, 60, 66, 119, 120, 252]) {
  const o = Options.opts[code];
  console.log(`  ${String(code).padStart(3)}: ${o ? `type=${o.type} ${o.config ? `config='${o.config}'` : `attr='${o.attr}' (parsed only, no config key)`}${o.default !== undefined ? ` default=${JSON.stringify(o.default)}` : ''}  "${o.name}"` : 'NOT IN TABLE'}`);
}
console.log(`  randomIP (pseudo-option 1002) default = ${Options.opts[1002].default}`);

function encode(opts) {
  const sb = new SeqBuffer();
  let err = null;
  const logged = captureConsoleError(() => {
    try { sb.addOptions(opts); } catch (e) { err = e; }
  });
  return { bytes: sb._data.subarray(0, sb._w), err, logged };
}

console.log('\n[2] Option 119 through the library encoder (SeqBuffer#addOptions)');
let r = encode({ 119: 'eng.apple.com' });
console.log(`  {119: 'eng.apple.com'} -> ${spaced(r.bytes)}`);
console.log(`    = code 0x77, len ${r.bytes[1]}, then ASCII "${r.bytes.subarray(2).toString('latin1')}" (dots as 0x2e, no length octets, no root 00)`);
console.log('    RFC 1035 form would be: 77 0f 03 65 6e 67 05 61 70 70 6c 65 03 63 6f 6d 00');
r = encode({ 119: 'eng.apple.com,marketing.apple.com' });
console.log(`  two domains as one string -> len ${r.bytes[1]}, text "${r.bytes.subarray(2).toString('latin1')}"`);
console.log('    RFC 3397 example (lpe-facts.md) for these two domains: 27 bytes 03 65 6e 67 05 61 70 70 6c 65 03 63 6f 6d 00 09 6d 61 72 6b 65 74 69 6e 67 c0 04');
r = encode({ 119: ['eng.apple.com', 'marketing.apple.com'] });
console.log(`  as an array -> ${r.err ? `throws ${r.err.constructor.name}: ${r.err.message}` : `${spaced(r.bytes)}`}`);
r = encode({ 119: 'a'.repeat(300) });
console.log(`  300-char value -> one option of len ${r.bytes[1]} (total ${r.bytes.length} bytes); console.error: "${r.logged[0]?.slice(-30)}"`);
console.log('    (RFC 3396 would split it into several 119 instances; the library truncates)');

console.log('\n[3] Option 120 (RFC 3361 SIP servers)');
r = encode({ 120: [0, 3, 0x73, 0x69, 0x70, 0] });
console.log(`  addOptions({120: [...]}) -> ${r.err ? `throws ${r.err.constructor.name}: ${r.err.message}` : spaced(r.bytes)}`);
{
  const logged = captureConsoleError(() => {
    const p = Protocol.parse(bootRequest({ options: [msgType(8), [120, [0, 3, 0x73, 0x69, 0x70, 0]]] }));
    console.log(`  parsing a packet carrying option 120 -> options keys ${JSON.stringify(Object.keys(p.options))}`);
  });
  console.log(`    console.error: ${JSON.stringify(logged)}`);
}

console.log('\n[4] Option 43 and 15');
const dhcputil43 = Buffer.from('010C4D532D55432D436C69656E740205687474707303177365727665722E6671646E2E636F6D70616E792E636F6D040334343305252F4365727450726F762F4365727450726F766973696F6E696E67536572766963652E737663', 'hex');
r = encode({ 43: [...dhcputil43] });
console.log(`  {43: <DHCPUtil 90-byte example as byte array>} -> header ${spaced(r.bytes.subarray(0, 2))}, body identical: ${r.bytes.subarray(2).equals(dhcputil43)}`);
r = encode({ 43: 'MS-UC-Client' });
console.log(`  {43: 'MS-UC-Client'} (a string) -> ${r.err ? `throws ${r.err.constructor.name}: ${r.err.message}` : spaced(r.bytes)}`);
r = encode({ 43: new Array(300).fill(0x41) });
console.log(`  {43: 300 bytes} -> ${r.err ? `throws ${r.err.constructor.name}: ${r.err.message}` : `len ${r.bytes[1]}`}`);
r = encode({ 15: 'corp.example.com' });
console.log(`  {15: 'corp.example.com'} -> ${spaced(r.bytes)} (RFC 2132 §3.17 text, no NUL: correct)`);
r = encode({ 15: 'münchen.example' });
console.log(`  {15: 'münchen.example'} -> ${spaced(r.bytes)} ('ascii' encoding: ü written as 0x${r.bytes[3].toString(16)}, silently)`);

console.log('\n[5] Parser (Protocol.parse) fed malformed input in-process');
const parseCases = [
  ['229 bytes of zeros', Buffer.alloc(229)],
  ['300 bytes of zeros (htype 0)', Buffer.alloc(300)],
  ['htype 1 hlen 16 (e.g. a 20-byte InfiniBand-style chaddr)', bootRequest({ hlen: 16, options: [msgType(1)] })],
  ['option 55 says len 5, packet ends after 2', bootRequest({ raw: Buffer.from([0x35, 0x01, 0x01, 0x37, 0x05, 0x01, 0x03]) })],
  // the next three end with 0xff plus zero fill to 300 bytes, as BOOTP clients send
  ['one pad octet (00) before option 53', bootRequest({ raw: zeroFill([0x00, 0x35, 0x01, 0x01, 0xff]) })],
  ['option 50 with len 0, then 53', bootRequest({ raw: zeroFill([0x32, 0x00, 0x35, 0x01, 0x01, 0xff]) })],
  ['option 53 with len 2 (01 08), then 60', bootRequest({ raw: zeroFill([0x35, 0x02, 0x01, 0x08, 0x3c, 0x02, 0x41, 0x42, 0xff]) })],
  ['magic cookie 0xdeadbeef', bootRequest({ cookie: 0xdeadbeef, options: [msgType(1)] })],
];
for (const [label, buf] of parseCases) {
  let out;
  const logged = captureConsoleError(() => {
    try {
      const p = Protocol.parse(buf);
      out = `parsed: options ${JSON.stringify(p.options)}${p.magicCookie !== 0x63825363 ? `, magicCookie 0x${p.magicCookie.toString(16)} accepted` : ''}`;
    } catch (e) {
      out = `throws ${e.constructor.name}: ${e.message}`;
    }
  });
  console.log(`  ${label}: ${out}${logged.length ? `  [console.error: ${logged.join(' | ')}]` : ''}`);
}

console.log('\n[6] Server driven in-process (socket never bound; _send replaced by a recorder)');
console.log('  config: range 192.168.50.10-99, netmask /24, router+server 192.168.50.1, randomIP false, no dns given');
// a large pool and randomIP:false here, because a full pool with randomIP:true spins forever ([8])
const srv = makeServer({ range: ['192.168.50.10', '192.168.50.99'], randomIP: false });
srv.on('error', (e) => srv.errors.push(String(e)));
const A = '00:15:5d:aa:bb:01';
const scenarios = [
  ['DISCOVER, flags=0 (client accepts unicast)', bootRequest({ mac: A, options: [msgType(1), [60, Buffer.from('MS-UC-Client')]] })],
  ['REQUEST (selecting), server id 54 = us', bootRequest({ mac: A, options: [msgType(3), [50, ip4('192.168.50.10')], [54, ip4('192.168.50.1')]] })],
  ['REQUEST renewing: ciaddr=192.168.50.10', bootRequest({ mac: A, ciaddr: '192.168.50.10', options: [msgType(3)] })],
  ['DISCOVER relayed: giaddr=10.9.8.1', bootRequest({ mac: '00:15:5d:aa:bb:02', giaddr: '10.9.8.1', options: [msgType(1)] })],
  ['REQUEST naming ANOTHER server (54 = 192.168.50.254)', bootRequest({ mac: '00:15:5d:aa:bb:03', options: [msgType(3), [50, ip4('192.168.50.77')], [54, ip4('192.168.50.254')]] })],
  ['INFORM (53=8) ciaddr=192.168.50.10, 60=MS-UC-Client, 55=[1,3,6,15,43,120]', bootRequest({ mac: A, ciaddr: '192.168.50.10', options: [msgType(8), [60, Buffer.from('MS-UC-Client')], [55, [1, 3, 6, 15, 43, 120]]] })],
  ['RELEASE (53=7) of 192.168.50.10', bootRequest({ mac: A, ciaddr: '192.168.50.10', options: [msgType(7), [54, ip4('192.168.50.1')]] })],
  ['DECLINE (53=4) of 192.168.50.10', bootRequest({ mac: A, options: [msgType(4), [50, ip4('192.168.50.10')], [54, ip4('192.168.50.1')]] })],
  ['DISCOVER with 55=[1,3,6,15,43,120]', bootRequest({ mac: '00:15:5d:aa:bb:04', options: [msgType(1), [55, [1, 3, 6, 15, 43, 120]]] })],
];
for (const [label, buf] of scenarios) {
  const n = srv.sent.length, e = srv.errors.length;
  const logged = captureConsoleError(() => {
    try { feed(srv, buf); } catch (err) { srv.errors.push(`THROWN ${err.constructor.name}: ${err.message}`); }
  });
  const replies = srv.sent.slice(n).map((s) =>
    `reply type ${s.data.options[53]} -> udp ${s.host}:68 (ciaddr ${s.data.ciaddr} yiaddr ${s.data.yiaddr} giaddr ${s.data.giaddr} flags 0x${s.data.flags.toString(16)}) opts ${optionsOf(s.bytes).join(' ')}`);
  console.log(`  ${label}:\n    ${replies.length ? replies.join('\n    ') : 'NO REPLY'}` +
    `${logged.length ? `\n    console.error: ${JSON.stringify(logged)}` : ''}` +
    `${srv.errors.length > e ? `\n    'error' events: ${JSON.stringify(srv.errors.slice(e))}` : ''}`);
}

console.log('\n[7] Lease storage');
console.log(`  server._state after [6] = ${JSON.stringify(srv._state)}`);
console.log(`  (RELEASE above did not free 192.168.50.10; the lease objects have no expiry field that is ever read)`);
for (const f of ['dhcp.js', 'options.js', 'seqbuffer.js', 'protocol.js', 'tools.js']) {
  const lines = fs.readFileSync(path.join(libDir, f), 'utf8').split('\n');
  const hits = lines.flatMap((l, i) => (/require\(['"](node:)?fs['"]\)|\bfs\.|setTimeout|setInterval|writeFile|readFile/.test(l) ? [`${f}:${i + 1}`] : []));
  console.log(`  lib/${f}: ${hits.length ? hits.join(', ') : 'no fs use, no timers'}`);
}

console.log('\n[8] Pool exhaustion (3-address pool, 4 clients), in a child with a 2 s timeout');
console.log('  (a) default config (randomIP default true):');
runChild('pool-random');
runChild('pool-random-probe');
console.log('  (b) randomIP: false:');
runChild('pool-first-free');

console.log('  (c) why (a) stops one address early: the real _selectAddress() on an empty state, 20000 calls (randomIP true)');
for (const range of [['192.168.50.10', '192.168.50.12'], ['10.0.0.10', '10.0.0.12']]) {
  const s = makeServer({ range });
  const counts = {};
  for (let i = 0; i < 20000; i++) {
    const a = s._selectAddress('00-15-5D-00-00-99');
    counts[a] = (counts[a] || 0) + 1;
  }
  console.log(`    range ${range.join('-')}: ${JSON.stringify(counts)}`);
  s._sock.close();
}

console.log('\n[9] What a server without an "error" listener does (child processes)');
runChild('unknown-55-no-listener');
runChild('garbage-no-listener');

console.log('\n[10] Workaround check: dhcp.addOption() can register 120 as raw bytes (mutates the global table)');
dhcp.addOption(120, { name: 'SIP Servers', type: 'UInt8s', config: 'sipServer' });
r = encode({ 120: [0, 3, 0x73, 0x69, 0x70, 0] });
console.log(`  after addOption(120, {type:'UInt8s'}): {120: [...]} -> ${spaced(r.bytes)} (raw bytes pass through; the caller does the RFC 3361 encoding)`);

srv._sock.close();
