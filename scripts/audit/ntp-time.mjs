#!/usr/bin/env node
// Audit experiment: is ntp-time's Server usable as the provisioning VLAN's NTP
// server? Loopback only (127.0.0.1, ephemeral high ports); exits by itself.
// Run from the project root: node scripts/audit/ntp-time.mjs
//
// What a correct server must do (RFC 5905 §7.3, §8; docs/lpe-facts.md §NTP):
// answer mode 3 with mode 4, copy the client's transmit timestamp into the
// origin field byte for byte, fill receive/transmit with real sub-second time,
// LI=0, its own version/stratum/refid.

import { createRequire } from 'node:module';
import dgram from 'node:dgram';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const require = createRequire(import.meta.url);
const { Server } = require('ntp-time');
const pkg = require('ntp-time/package.json');

const NTP_DELTA = 2208988800; // 1900 -> 1970 epoch, RFC 5905 §6
const watchdog = setTimeout(() => {
  console.log('WATCHDOG: 14 s elapsed, exiting');
  process.exit(2);
}, 14_000);
watchdog.unref();

const hex = (b) => Buffer.from(b).toString('hex');
const ts = (b, o) => hex(b.subarray(o, o + 4)) + ' ' + hex(b.subarray(o + 4, o + 8));

function freePort() {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Start an ntp-time Server on 127.0.0.1 with the given request handler and tap
// the raw datagrams on its public socket (in and out).
async function startServer(name, handler) {
  const invalid = [];
  const server = new Server({ onInvalidPacket: (msg, err) => invalid.push(err.message) });
  const seen = { name, inbound: [], outbound: [], invalid };
  // prepend so the raw request is logged before the library's parse() runs
  server.socket.prependListener('message', (m) => seen.inbound.push(Buffer.from(m)));
  const origSend = server.socket.send.bind(server.socket);
  server.socket.send = (buf, ...rest) => {
    seen.outbound.push(Buffer.from(buf));
    return origSend(buf, ...rest);
  };
  server.handle(handler);
  const port = await freePort();
  server.listen(port, '127.0.0.1');
  await new Promise((r) => server.socket.once('listening', r));
  return { server, port, seen };
}

function query(port, buf, waitMs = 500) {
  return new Promise((resolve) => {
    const c = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      c.close();
      resolve(null);
    }, waitMs);
    c.on('message', (m) => {
      clearTimeout(timer);
      c.close();
      resolve(m);
    });
    c.bind(0, '127.0.0.1', () => c.send(buf, port, '127.0.0.1'));
  });
}

// A 48-byte NTP header with every field under our control.
function request({ li = 3, vn = 4, mode = 3, stratum = 0, poll = 6, precision = -20,
  rootDelay = 0x00020000, rootDisp = 0x00010000, tx = 'ea00000089abcdef', len = 48 } = {}) {
  const b = Buffer.alloc(len);
  b[0] = (li << 6) | (vn << 3) | mode;
  b[1] = stratum;
  b[2] = poll;
  b.writeInt8(precision, 3);
  b.writeUInt32BE(rootDelay, 4);
  b.writeUInt32BE(rootDisp, 8);
  if (len >= 48) Buffer.from(tx, 'hex').copy(b, 40);
  return b;
}

function describe(reply) {
  if (!reply) return '  (no reply)';
  const li = reply[0] >> 6, vn = (reply[0] >> 3) & 7, mode = reply[0] & 7;
  const txSec = reply.readUInt32BE(40);
  const txUnix = txSec - NTP_DELTA + reply.readUInt32BE(44) / 2 ** 32;
  return [
    `  byte0=0x${reply[0].toString(16).padStart(2, '0')} -> LI=${li} VN=${vn} mode=${mode}; stratum=${reply[1]} poll=${reply[2]} precision=${reply.readInt8(3)}`,
    `  rootDelay=${hex(reply.subarray(4, 8))} rootDisp=${hex(reply.subarray(8, 12))} refid=${hex(reply.subarray(12, 16))}`,
    `  reference=${ts(reply, 16)}  origin=${ts(reply, 24)}`,
    `  receive  =${ts(reply, 32)}  transmit=${ts(reply, 40)} (= ${new Date(txUnix * 1000).toISOString()} if read as era 0; host now ${new Date().toISOString()})`,
  ].join('\n');
}

function originCheck(req, reply) {
  if (!reply) return '  origin check: no reply';
  const sent = req.subarray(40, 48), got = reply.subarray(24, 32);
  return `  origin check: sent transmit ${ts(req, 40)} -> reply origin ${ts(reply, 24)} => ${sent.equals(got) ? 'BYTE-EXACT' : 'MISMATCH'}`;
}

console.log(`ntp-time ${pkg.version} (node_modules/ntp-time), node ${process.version}`);

// Handler exactly as in ntp-time's README ("server.js" example).
const readme = await startServer('README handler', (message, response) => {
  message.transmitTimestamp = Math.floor(Date.now() / 1000);
  response(message);
});
// Handler that touches nothing.
const bare = await startServer('no-op handler', (message, response) => response(message));
// The most a handler can repair with the parsed packet it is given.
const careful = await startServer('careful handler', (message, response) => {
  message.leapIndicator = 0;
  message.version = 4;
  message.stratum = 3;
  message.referenceIdentifier = 0x7f7f0101;
  message.rootDelay = 0;
  message.rootDispersion = 0;
  message.originateTimestamp = message.transmitTimestamp; // undo the library's Math.floor
  message.receiveTimestamp = Date.now() / 1000;
  message.transmitTimestamp = Date.now() / 1000;
  response(message);
});

console.log('\n[1] README handler; client sends LI=3 VN=4 mode=3, rootDelay 00020000, transmit ea000000 89abcdef');
let req = request();
let rep = await query(readme.port, req);
console.log(`  request  ${hex(req)}\n  reply    ${rep ? hex(rep) : '-'}`);
console.log(describe(rep));
console.log(originCheck(req, rep));

console.log('\n[2] README handler; same but LI=1 VN=2 (do LI/VN follow the client?)');
req = request({ li: 1, vn: 2 });
rep = await query(readme.port, req);
console.log(describe(rep));

console.log('\n[3] no-op handler (does the library fill receive/transmit itself?)');
req = request({ li: 0 });
rep = await query(bare.port, req);
console.log(describe(rep));

console.log('\n[4] careful handler: sets LI, VN, stratum, refid, and origin := parsed transmit (unfloored)');
req = request({ li: 0 });
rep = await query(careful.port, req);
console.log(describe(rep));
console.log(originCheck(req, rep));
console.log('  (the handler only gets a JS-double copy of the transmit timestamp: 32 integer bits leave 21 fraction bits)');

console.log('\n[5] non-client modes sent to the README handler (a server should answer only mode 3)');
for (const mode of [1, 4, 6]) {
  const r = await query(readme.port, request({ li: 0, mode }), 300);
  console.log(`  mode ${mode} request -> ${r ? `answered, reply mode ${r[0] & 7}` : 'no reply'}`);
}

console.log('\n[6] 47-byte datagram');
const before = readme.seen.invalid.length;
const r6 = await query(readme.port, request({ len: 47 }), 300);
console.log(`  reply: ${r6 ? hex(r6) : 'none'}; onInvalidPacket called with: ${JSON.stringify(readme.seen.invalid.slice(before))}`);

// [7] A real NTP client. chronyd -Q only measures (never sets the clock) and
// disables its own server ports.
const chronyd = spawnSync('sh', ['-c', 'command -v chronyd'], { encoding: 'utf8' }).stdout.trim();
if (!chronyd) {
  console.log('\n[7] chronyd not installed: skipped');
} else {
  console.log(`\n[7] chronyd (${chronyd}) -Q against the README server and the careful server, in parallel`);
  const runs = [readme, careful].map((srv) => {
    const logdir = fs.mkdtempSync(path.join(os.tmpdir(), 'ntp-audit-'));
    fs.chmodSync(logdir, 0o777); // chronyd drops privileges before opening its log
    const args = ['-Q', '-f', '/dev/null', '-t', '5',
      `server 127.0.0.1 port ${srv.port} iburst maxsamples 2`,
      `logdir ${logdir}`, 'log rawmeasurements'];
    const inboundBefore = srv.seen.inbound.length;
    return new Promise((resolve) => {
      const p = spawn(chronyd, args);
      let out = '';
      p.stdout.on('data', (d) => (out += d));
      p.stderr.on('data', (d) => (out += d));
      const kill = setTimeout(() => p.kill('SIGTERM'), 9_000);
      p.on('close', (code) => {
        clearTimeout(kill);
        let log = '';
        try { log = fs.readFileSync(path.join(logdir, 'measurements.log'), 'utf8'); } catch { log = '(no measurements.log)'; }
        fs.rmSync(logdir, { recursive: true, force: true });
        resolve({ srv, code, out, log, args, inboundBefore });
      });
    });
  });
  for (const { srv, code, out, log, args, inboundBefore } of await Promise.all(runs)) {
    console.log(`\n  -- ${srv.seen.name}: chronyd ${args.map((a) => (a.includes(' ') ? `"${a}"` : a)).join(' ')}`);
    console.log(`  exit code ${code}; chronyd said:`);
    for (const line of out.trim().split('\n')) console.log('    ' + line.replace(/^\S+Z /, ''));
    const rows = log.split('\n').filter((l) => /^\d{4}-/.test(l));
    console.log('  measurements.log rows (cols: date time ip L St tests1-3 tests5-7 ABCD ...):');
    for (const row of rows) {
      const f = row.trim().split(/\s+/);
      console.log(`    ${row.trim()}\n      -> RFC 5905 tests 1-3 = ${f[5]} (test 2 = origin timestamp matches the request: ${f[5][1] === '1' ? 'pass' : 'FAIL'})`);
    }
    const ins = srv.seen.inbound.slice(inboundBefore), outs = srv.seen.outbound.slice(-ins.length);
    ins.slice(0, 2).forEach((i, k) => {
      const o = outs[k];
      console.log(`    chrony request byte0=0x${i[0].toString(16)} transmit ${ts(i, 40)} -> reply byte0=0x${o ? o[0].toString(16) : '?'} origin ${o ? ts(o, 24) : '?'}`);
    });
  }
}

for (const s of [readme, bare, careful]) s.server.socket.close();
clearTimeout(watchdog);
