#!/usr/bin/env node
// Audit experiment: how does dns2's UDP server behave as the provisioning
// VLAN's authoritative DNS server? Loopback only (127.0.0.1, ephemeral high
// port); exits by itself. Run from the project root: node scripts/audit/dns2.mjs
//
// The handler below is the usage pattern of dns2's README ("createServer" with
// Packet.createResponseFromRequest), looping over every question instead of
// destructuring the first one.

import { createRequire } from 'node:module';
import dgram from 'node:dgram';
import { spawn, spawnSync } from 'node:child_process';
import dns2 from 'dns2';

const require = createRequire(import.meta.url);
const pkg = require('dns2/package.json');
const { Packet } = dns2;

const watchdog = setTimeout(() => {
  console.log('WATCHDOG: 14 s elapsed, exiting');
  process.exit(2);
}, 14_000);
watchdog.unref();

const hex = (b) => Buffer.from(b).toString('hex');
const spaced = (b) => hex(b).replace(/(..)(?!$)/g, '$1 ');
// async: the server under test lives in this process, so a blocking spawnSync would starve it
function exec(cmd, args, input, timeoutMs = 5000) {
  return new Promise((resolve) => {
    const p = spawn(cmd, args);
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => { clearTimeout(t); resolve({ code, out }); });
    if (input) p.stdin.end(input); else p.stdin.end();
  });
}
const which = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim();

// ---- independent wire helpers (RFC 1035 §4.1) ----
function name(n) {
  return Buffer.concat([...n.split('.').filter(Boolean).map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
}
function header({ id = 0x1234, qr = 0, opcode = 0, aa = 0, rd = 0, qd = 1, an = 0, ns = 0, ar = 0 }) {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h[2] = (qr << 7) | (opcode << 3) | (aa << 2) | rd;
  h.writeUInt16BE(qd, 4); h.writeUInt16BE(an, 6); h.writeUInt16BE(ns, 8); h.writeUInt16BE(ar, 10);
  return h;
}
function question(n, type, cls = 1) {
  const t = Buffer.alloc(4);
  t.writeUInt16BE(type, 0); t.writeUInt16BE(cls, 2);
  return Buffer.concat([name(n), t]);
}
function flags(reply) {
  if (!reply) return 'no reply';
  const b2 = reply[2], b3 = reply[3];
  return `QR=${b2 >> 7} opcode=${(b2 >> 3) & 15} AA=${(b2 >> 2) & 1} TC=${(b2 >> 1) & 1} RD=${b2 & 1} RA=${b3 >> 7} rcode=${b3 & 15}` +
    ` qd=${reply.readUInt16BE(4)} an=${reply.readUInt16BE(6)} ns=${reply.readUInt16BE(8)} ar=${reply.readUInt16BE(10)}`;
}
function skipName(buf, off) {
  while (buf[off] !== 0) {
    if ((buf[off] & 0xc0) === 0xc0) return off + 2;
    off += buf[off] + 1;
  }
  return off + 1;
}

const records = [];
const SRV_OWNER = '_sipinternaltls._tcp.corp.example.com';
const SRV_TARGET = 'sippool.corp.example.com';
const server = dns2.createServer({
  udp: true,
  handle: (request, send) => {
    records.push({
      qr: request.header.qr, opcode: request.header.opcode, qdcount: request.header.qdcount,
      questionsParsed: request.questions.length, firstQuestion: request.questions[0] ? `${request.questions[0].name}/${request.questions[0].type}` : null,
    });
    const response = Packet.createResponseFromRequest(request);
    for (const q of request.questions) {
      if (q.name === 'boom.corp.example.com') throw new Error('handler bug for boom.corp.example.com');
      if (q.type === Packet.TYPE.SRV) {
        response.answers.push({ name: q.name, type: Packet.TYPE.SRV, class: Packet.CLASS.IN, ttl: 300, priority: 0, weight: 0, port: 5061, target: SRV_TARGET });
      } else if (q.type === Packet.TYPE.A) {
        response.answers.push({ name: q.name, type: Packet.TYPE.A, class: Packet.CLASS.IN, ttl: 300, address: '192.0.2.10' });
      }
    }
    send(response);
  },
});
const requestErrors = [];
server.on('requestError', (e) => requestErrors.push(`${e.constructor.name}: ${e.message}`));

const probe = dgram.createSocket('udp4');
await new Promise((r) => probe.bind(0, '127.0.0.1', r));
const port = await new Promise((resolve) => {
  // find a free high port, then give it to dns2
  const s = dgram.createSocket('udp4');
  s.bind(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
});
await server.listen({ udp: { port, address: '127.0.0.1' } });

console.log(`dns2 ${pkg.version} (node_modules/dns2), node ${process.version}; server on 127.0.0.1:${port}/udp`);

function ask(buf, waitMs = 400) {
  return new Promise((resolve) => {
    const id = buf.length >= 2 ? buf.readUInt16BE(0) : -1;
    const onMsg = (m) => {
      if (id >= 0 && m.length >= 2 && m.readUInt16BE(0) !== id) return; // a reply to something else
      clearTimeout(t); probe.off('message', onMsg); resolve(m);
    };
    const t = setTimeout(() => { probe.off('message', onMsg); resolve(null); }, waitMs);
    probe.on('message', onMsg);
    probe.send(buf, port, '127.0.0.1');
  });
}
async function run(label, buf, waitMs) {
  const r0 = records.length, e0 = requestErrors.length;
  const reply = await ask(buf, waitMs);
  console.log(`  ${label}\n    sent  ${spaced(buf).slice(0, 120)}${buf.length > 40 ? ' ...' : ''}\n    reply ${flags(reply)}`);
  if (records.length > r0) console.log(`    handler called with: ${JSON.stringify(records.slice(r0))}`);
  else console.log('    handler NOT called');
  if (requestErrors.length > e0) console.log(`    requestError: ${JSON.stringify(requestErrors.slice(e0))}`);
  return reply;
}

// [1] SRV compression and AA, seen by dig
const dig = which('dig');
console.log('\n[1] SRV answer and header flags');
if (dig) {
  const args = [`@127.0.0.1`, '-p', String(port), '+norec', '+time=1', '+tries=1', SRV_OWNER, 'SRV'];
  const { out } = await exec(dig, args);
  console.log(`  $ dig ${args.join(' ')}`);
  for (const l of out.split('\n')) if (/flags:|status:|IN\s+SRV|WARNING/.test(l)) console.log('    ' + l.trim());
} else console.log('  dig not installed; raw query only');
const srvQuery = Buffer.concat([header({ qd: 1 }), question(SRV_OWNER, 33)]);
const srvReply = await run(`raw SRV query for ${SRV_OWNER}`, srvQuery);
if (srvReply) {
  let off = 12;
  off = skipName(srvReply, off) + 4; // question
  off = skipName(srvReply, off) + 8; // answer owner, type, class, ttl
  const rdlen = srvReply.readUInt16BE(off);
  const rdata = srvReply.subarray(off + 2, off + 2 + rdlen);
  const target = rdata.subarray(6);
  const ptr = target.findIndex((b, i) => (b & 0xc0) === 0xc0 && i === skipName(target, 0) - 2);
  console.log(`    full reply ${spaced(srvReply)}`);
  console.log(`    SRV RDATA (rdlength ${rdlen}): prio/weight/port ${spaced(rdata.subarray(0, 6))} | target ${spaced(target)}`);
  console.log(`    target uses a compression pointer: ${ptr >= 0 ? `YES (c0 ${hex(target.subarray(ptr + 1, ptr + 2))} -> offset ${target[ptr + 1]})` : 'no'}; uncompressed target would be ${name(SRV_TARGET).length} bytes (${spaced(name(SRV_TARGET))})`);
  console.log(`    AA bit in reply: ${(srvReply[2] >> 2) & 1}`);
}

// [2] packets a server should not answer as queries
console.log('\n[2] QR=1 and opcode UPDATE');
await run('QR=1 (a response, e.g. reflected/spoofed) for the same name', Buffer.concat([header({ qr: 1, qd: 1 }), question(SRV_OWNER, 33)]));
{
  // RFC 2136 §2: zone section (as a question), then prerequisite/update sections
  const rr = Buffer.concat([name('evil.corp.example.com'), Buffer.from([0, 1, 0, 1, 0, 0, 1, 0x2c, 0, 4, 192, 0, 2, 66])]);
  await run('opcode 5 UPDATE: zone corp.example.com SOA, add evil.corp.example.com A 192.0.2.66',
    Buffer.concat([header({ opcode: 5, qd: 1, ns: 1 }), question('corp.example.com', 6), rr]));
}
const nsupdate = which('nsupdate');
if (nsupdate) {
  const script = `server 127.0.0.1 ${port}\nzone corp.example.com\nupdate add evil.corp.example.com 300 A 192.0.2.66\nsend\n`;
  const r0 = records.length;
  const r = await exec(nsupdate, ['-d', '-t', '2', '-r', '0'], script);
  console.log(`  $ nsupdate -d -t 2 -r 0 <<< "${script.trim().replace(/\n/g, '; ')}"`);
  console.log(`    exit code ${r.code}${r.code === 0 ? ' (nsupdate believes the update was accepted)' : ''}; handler calls: ${JSON.stringify(records.slice(r0))}`);
  for (const l of r.out.split('\n')) if (/opcode|status|flags|failed|Reply|UPDATE/i.test(l)) console.log('      ' + l.trim());
}

// [3] half-parsed requests
console.log('\n[3] Malformed questions');
await run('qdcount=2 but only one question present', Buffer.concat([header({ qd: 2 }), question('sip.corp.example.com', 1)]));
await run('qdcount=1, name truncated after 2 label bytes', Buffer.concat([header({ qd: 1 }), Buffer.from([3, 0x73, 0x69])]));
await run('qdcount=1, label length byte 0x40 (reserved bits 01)', Buffer.concat([header({ qd: 1 }), Buffer.from([0x40, 0x61, 0, 0, 1, 0, 1])]));
await run('qdcount=0', header({ qd: 0 }));

// [4] errors
console.log('\n[4] Malformed datagrams and handler exceptions');
await run('5-byte datagram', Buffer.from([1, 2, 3, 4, 5]));
await run('handler throws (name boom.corp.example.com)', Buffer.concat([header({ qd: 1 }), question('boom.corp.example.com', 1)]));
try {
  Packet.parse(Buffer.from([1, 2, 3]));
  console.log('  Packet.parse(3 bytes) returned');
} catch (e) {
  console.log(`  in-process Packet.parse(<01 02 03>) throws ${e.constructor.name}: ${e.message}`);
}
{
  const bomb = header({ id: 0x0b0b, qd: 0xffff, an: 0xffff, ns: 0xffff, ar: 0xffff });
  console.log(`  12-byte header with all four counts = 0xffff (${spaced(bomb)}), then an ordinary A query right behind it:`);
  const t0 = Date.now();
  let bombReply = null;
  const onBomb = (m) => { if (m.readUInt16BE(0) === 0x0b0b) { bombReply = `${Date.now() - t0} ms, ${flags(m)}`; probe.off('message', onBomb); } };
  probe.on('message', onBomb);
  bomb.writeUInt16BE(0x0b0b, 0);
  probe.send(bomb, port, '127.0.0.1');
  const r0 = records.length;
  const normal = await ask(Buffer.concat([header({ id: 0x4242, qd: 1 }), question('sip.corp.example.com', 1)]), 8000);
  const ms = Date.now() - t0;
  console.log(`    the 12-byte datagram itself was answered: ${bombReply ?? 'no'}`);
  console.log(`    ordinary query answered after ${ms} ms (${flags(normal)}); handler calls meanwhile: ${records.length - r0}`);
  console.log(`    the event loop was busy parsing the 12-byte datagram (packet.js swallows one exception per missing record)`);
}

server.close();
probe.close();
clearTimeout(watchdog);
