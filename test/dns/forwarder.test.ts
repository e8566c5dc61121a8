// dns.forwarders against fake upstream servers on 127.0.0.1 (a dgram and a
// net server in this file that answer as each test needs: big, TC=1, slow,
// dead). Upstream answers are written byte by byte from RFC 1035 §4.1 and
// RFC 6891 §6.1.2, never by our encoder. Bounded: a few dozen queries, short timeouts.
import t from 'tap';
import { pino } from 'pino';
import dgram from 'node:dgram';
import net from 'node:net';
import { DnsDaemon, type DnsDaemonOptions } from '../../src/dns/daemon.js';
import type { Plan } from '../../src/site/plan.js';
import { frame, rawQuery, tcpExchange, testPlan } from './helpers.js';

type Tap = Parameters<Parameters<typeof t.test>[0]>[0];

/** EDNS OPT records as hex: root owner, type 41, size, extended rcode, version, flags, rdlength (+ data). */
const OPT_512 = '00 0029 0200 00 00 0000 0000';
const OPT_1232_DO = '00 0029 04d0 00 00 8000 0000';
/** What an upstream might send back: size 4096 and a cookie option (RFC 7873, code 10). */
const UPSTREAM_OPT = Buffer.from('00 0029 1000 00 00 0000 0014 000a 0010 0102030405060708 1112131415161718'.replace(/\s+/g, ''), 'hex');

interface Seen {
  via: 'udp' | 'tcp';
  port: number;
  query: Buffer;
}

type Reply = (q: Buffer, via: 'udp' | 'tcp') => Buffer | null;

interface Fake {
  port: number;
  seen: Seen[];
  /** Replaced by a test to change what the server does (start answering, go silent). */
  reply: Reply;
  delayMs: number;
}

/** A fake upstream: UDP and TCP on one port; `reply` null = silent (a dead server that still swallows datagrams). */
async function fakeUpstream(t: Tap, reply: Reply, delayMs = 0): Promise<Fake> {
  for (let attempt = 0; ; attempt++) {
    const udp = dgram.createSocket('udp4');
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
    const port = udp.address().port;
    const tcp = net.createServer();
    const fake: Fake = { port, seen: [], reply, delayMs };
    const ok = await new Promise<boolean>((r) => {
      tcp.once('error', () => r(false));
      tcp.listen(port, '127.0.0.1', () => r(true));
    });
    if (!ok) {
      udp.close();
      if (attempt < 10) continue;
      throw new Error('no port for the fake upstream');
    }
    udp.on('message', (q, rinfo) => {
      fake.seen.push({ via: 'udp', port: rinfo.port, query: q });
      const a = fake.reply(q, 'udp');
      if (a) setTimeout(() => udp.send(a, rinfo.port, rinfo.address), fake.delayMs);
    });
    tcp.on('connection', (s) => {
      s.on('error', () => undefined);
      let buf = Buffer.alloc(0);
      s.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const q = buf.subarray(2, 2 + buf.readUInt16BE(0));
          buf = buf.subarray(2 + q.length);
          fake.seen.push({ via: 'tcp', port: s.remotePort ?? 0, query: Buffer.from(q) });
          const a = fake.reply(q, 'tcp');
          if (a) setTimeout(() => s.write(frame(a)), fake.delayMs);
        }
      });
    });
    t.teardown(() => {
      udp.close();
      tcp.close();
    });
    return fake;
  }
}

/** Offset just after the (uncompressed) question. */
function questionEnd(q: Buffer): number {
  let p = 12;
  while (q[p] !== 0) p += 1 + q[p]!;
  return p + 5;
}

/**
 * An answer by hand: ID and question of `q`, QR RD RA, `count` TXT records of
 * `length` bytes each (owner: pointer to the question, 0xc00c), then `opt` raw.
 */
function answer(q: Buffer, count: number, length: number, options: { tc?: boolean; opt?: Buffer; aa?: boolean } = {}): Buffer {
  const qEnd = questionEnd(q);
  const header = Buffer.from(q.subarray(0, 12));
  header[2] = 0x80 | (options.aa ? 0x04 : 0) | (options.tc ? 0x02 : 0) | (q[2]! & 0x01);
  header[3] = 0x80;
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(count, 6);
  header.writeUInt16BE(0, 8);
  header.writeUInt16BE(options.opt ? 1 : 0, 10);
  const records: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const rr = Buffer.alloc(12 + 1 + length, 0x61 + (i % 26));
    rr.writeUInt16BE(0xc00c, 0);
    rr.writeUInt16BE(16, 2); // TXT
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(300, 6);
    rr.writeUInt16BE(1 + length, 10);
    rr[12] = length;
    records.push(rr);
  }
  return Buffer.concat([header, q.subarray(12, qEnd), ...records, options.opt ?? Buffer.alloc(0)]);
}

async function daemonWith(t: Tap, forwarders: readonly Fake[], options: Partial<DnsDaemonOptions> = {}, change: (p: Plan) => Plan = (p) => p) {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  const plan = change(testPlan({ forwarders: forwarders.map((f) => `127.0.0.1:${f.port}`) }));
  const daemon = await DnsDaemon.start(plan, { forwardTimeoutMs: 300, logQueries: false, ...options, logger });
  t.teardown(() => daemon.stop());
  return { daemon, port: daemon.address().port, lines };
}

/** One UDP query from `from` (any 127/8 address works on Linux); the first answer, or null after waitMs. */
async function ask(port: number, q: Buffer, from = '127.0.0.1', waitMs = 2000): Promise<Buffer | null> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, from, () => r()));
  try {
    return await new Promise<Buffer | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), waitMs);
      sock.on('message', (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      sock.send(q, port, '127.0.0.1');
    });
  } finally {
    sock.close();
  }
}

const rcode = (m: Buffer | null | undefined): number => (m ? m[3]! & 0x0f : -1);
const flag = (m: Buffer | null | undefined, byte: 2 | 3, bit: number): boolean => m !== null && m !== undefined && (m[byte]! & bit) !== 0;
const count = (m: Buffer, at: 6 | 8 | 10): number => m.readUInt16BE(at);

t.test('TCP client without EDNS: an upstream TC=1 is fetched again over TCP, the client gets it all (RFC 1035 §4.2.2)', async (t) => {
  // Like a real server: over UDP without EDNS, 512 bytes at most, so TC=1; over TCP the whole answer.
  const up = await fakeUpstream(t, (q, via) => (via === 'udp' ? answer(q, 0, 0, { tc: true }) : answer(q, 5, 200)));
  const { daemon, port } = await daemonWith(t, [up]);
  const q = rawQuery(0x4242, 'big.example.org', 16);
  const { answers } = await tcpExchange(port, [frame(q)], 1);
  const a = answers[0];
  t.ok(a, 'an answer over TCP');
  t.equal(a?.readUInt16BE(0), 0x4242, "the client's ID");
  t.notOk(flag(a, 2, 0x02), 'TC=0: never truncated over TCP');
  t.equal(a && count(a, 6), 5, 'all five TXT records');
  t.ok(a && a.length > 1000);
  t.same(up.seen.map((s) => s.via), ['udp', 'tcp'], 'UDP first, then TCP to the same server');
  t.equal(daemon.counters.forwardFailures, 0);

  // A UDP client gets the upstream's TC=1 as our own truncation and retries over TCP itself.
  const u = await ask(port, rawQuery(0x4343, 'big.example.org', 16));
  t.ok(flag(u, 2, 0x02), 'UDP client: TC=1');
  t.equal(u?.length, q.length, 'header and question only');
});

t.test('20 pipelined forwarded queries on one TCP connection are all answered', async (t) => {
  const up = await fakeUpstream(t, (q) => answer(q, 1, 10), 100);
  const { daemon, port } = await daemonWith(t, [up], { forwardTimeoutMs: 2000 });
  const queries = Array.from({ length: 20 }, (_, i) => rawQuery(1000 + i, `n${i}.example.org`, 16));
  const { answers } = await tcpExchange(port, [Buffer.concat(queries.map(frame))], 20, 8000);
  t.equal(answers.length, 20);
  t.same(answers.map(rcode), Array(20).fill(0), 'all NOERROR, none SERVFAIL');
  t.same(answers.map((a) => a.readUInt16BE(0)).sort(), queries.map((q) => q.readUInt16BE(0)).sort(), 'one answer per query');
  t.equal(daemon.counters.servfail, 0);
});

t.test('every forwarded query leaves from its own random source port (RFC 5452 §9.2)', async (t) => {
  const up = await fakeUpstream(t, (q) => answer(q, 1, 10));
  const { port } = await daemonWith(t, [up]);
  const results = await Promise.all(Array.from({ length: 40 }, (_, i) => ask(port, rawQuery(i, `p${i}.example.org`, 16))));
  t.same(results.map(rcode), Array(40).fill(0));
  const ports = new Set(up.seen.map((s) => s.port));
  // The kernel picks each port at random from the ephemeral range: 40 queries, almost surely 40 ports.
  t.ok(ports.size >= 35, `${ports.size} source ports for 40 queries`);
  const ids = new Set(up.seen.map((s) => s.query.readUInt16BE(0)));
  t.ok(ids.size >= 35, 'and fresh IDs');
});

t.test('an answer from another port of the upstream is not accepted', async (t) => {
  const other = dgram.createSocket('udp4');
  await new Promise<void>((r) => other.bind(0, '127.0.0.1', () => r()));
  t.teardown(() => other.close());
  const up = await fakeUpstream(t, () => null);
  up.reply = (q) => {
    const from = up.seen[up.seen.length - 1]!.port;
    other.send(answer(q, 1, 10), from, '127.0.0.1');
    return null;
  };
  const { port } = await daemonWith(t, [up], { forwardTimeoutMs: 200 });
  const a = await ask(port, rawQuery(7, 'spoof.example.org', 16));
  t.equal(rcode(a), 2, 'SERVFAIL: the only answer came from the wrong port');
});

t.test('the answer is clamped to the client size and carries our OPT, not the upstream one', async (t) => {
  const up = await fakeUpstream(t, () => null);
  const { port } = await daemonWith(t, [up]);

  // Without EDNS: 512 bytes at most, whatever the upstream sends (it ignores the limit here: 1,500 bytes).
  up.reply = (q) => answer(q, 7, 200, { opt: UPSTREAM_OPT });
  const q1 = rawQuery(0x1111, 'huge.example.org', 16);
  const a1 = await ask(port, q1);
  t.ok(flag(a1, 2, 0x02), 'TC=1');
  t.equal(a1?.length, q1.length, 'question only, no OPT (the client sent none)');
  t.equal(a1 && count(a1, 10), 0);

  // EDNS 512: also too big; TC=1 with our OPT.
  const q2 = rawQuery(0x2222, 'huge.example.org', 16, { additional: OPT_512 });
  const a2 = await ask(port, q2);
  t.ok(flag(a2, 2, 0x02), 'TC=1 for an EDNS client at 512');
  t.equal(a2?.subarray(a2.length - 11).toString('hex'), '00002904d0000000000000', 'our OPT: size 1232, no options');
  t.equal(a2?.length, q2.length);

  // Fits 1232: passed on, the upstream OPT (size 4096, a cookie) replaced by ours with DO from the client.
  up.reply = (q) => answer(q, 3, 200, { opt: UPSTREAM_OPT, aa: true });
  const q3 = rawQuery(0x3333, 'mid.example.org', 16, { additional: OPT_1232_DO });
  const a3 = await ask(port, q3);
  t.notOk(flag(a3, 2, 0x02), 'not truncated');
  t.equal(a3 && count(a3, 6), 3);
  t.equal(a3 && count(a3, 10), 1, 'one OPT');
  t.equal(a3?.subarray(a3.length - 11).toString('hex'), '00002904d0000080000000', 'ours: 1232, DO=1, no cookie');
  t.ok(flag(a3, 2, 0x04), 'other upstream flags kept (AA)');
  t.ok(flag(a3, 3, 0x80), 'RA=1');

  // A small answer to a client without EDNS loses the upstream OPT.
  up.reply = (q) => answer(q, 1, 10, { opt: UPSTREAM_OPT });
  const q4 = rawQuery(0x4444, 'small.example.org', 16);
  const a4 = await ask(port, q4);
  t.equal(a4 && count(a4, 6), 1);
  t.equal(a4 && count(a4, 10), 0, 'no OPT for a client that sent none (RFC 6891 §7)');
  t.equal(a4?.length, q4.length + 12 + 11, 'header, question, one TXT record, nothing else');
});

t.test('recursion only for the site: loopback, the DHCP subnet, the appliance (BCP 140)', async (t) => {
  t.same(testPlan().dns.allowRecursion, ['127.0.0.0/8', '127.88.0.0/24', '127.0.0.1/32'], 'from the site file');
  const up = await fakeUpstream(t, (q) => answer(q, 1, 10));
  // 127.0.0.1 stands for a stranger here: only the DHCP subnet may recurse.
  const { port, daemon } = await daemonWith(t, [up], {}, (p) => ({ ...p, dns: { ...p.dns, allowRecursion: ['127.88.0.0/24'] } }));
  const stranger = await ask(port, rawQuery(1, 'www.example.org', 1), '127.0.0.1');
  t.equal(rcode(stranger), 5, 'REFUSED outside our zones');
  t.notOk(flag(stranger, 3, 0x80), 'RA=0');
  t.equal(up.seen.length, 0, 'nothing went upstream');
  const own = await ask(port, rawQuery(2, 'ucupdates-r2.schertz.name', 1), '127.0.0.1');
  t.equal(rcode(own), 0, 'our zones answer everyone');
  t.notOk(flag(own, 3, 0x80), 'RA=0 for a client that may not recurse');

  const phone = await ask(port, rawQuery(3, 'www.example.org', 1), '127.88.0.57');
  t.equal(rcode(phone), 0, 'a phone on the subnet is forwarded');
  t.ok(flag(phone, 3, 0x80), 'RA=1');
  t.equal(up.seen.length, 1);
  for (const [name, rc] of [['ucupdates-r2.schertz.name', 0], ['nope.schertz.name', 3]] as const) {
    const a = await ask(port, rawQuery(4, name, 1), '127.88.0.57');
    t.equal(rcode(a), rc, name);
    t.ok(flag(a, 3, 0x80), `RA=1 on our own ${rc ? 'NXDOMAIN' : 'answers'} too`);
  }
  // BIND's answer to an allowed client for a malformed message has no RA either.
  const formerr = await ask(port, rawQuery(5, 'ucupdates-r2.schertz.name', 1, { qdcount: 2 }), '127.88.0.57');
  t.equal(rcode(formerr), 1);
  t.notOk(flag(formerr, 3, 0x80), 'no RA on FORMERR');

  // TCP from a stranger: REFUSED as well.
  const { answers } = await tcpExchange(port, [frame(rawQuery(6, 'www.example.org', 1))], 1);
  t.equal(rcode(answers[0]), 5, 'TCP stranger: REFUSED');
  t.equal(daemon.counters.forwarded, 1);

  // A silent upstream: the allowed client's SERVFAIL has RA=1 (as BIND's).
  up.reply = () => null;
  const failed = await ask(port, rawQuery(7, 'gone.example.org', 1), '127.88.0.57');
  t.equal(rcode(failed), 2);
  t.ok(flag(failed, 3, 0x80), 'RA=1 on SERVFAIL');
});

t.test('a reload that changes the forwarders lets queries in flight finish', async (t) => {
  const a = await fakeUpstream(t, (q) => answer(q, 1, 10), 300);
  const b = await fakeUpstream(t, (q) => answer(q, 2, 10));
  const { daemon, port } = await daemonWith(t, [a], { forwardTimeoutMs: 3000 });
  const pending = ask(port, rawQuery(0x0101, 'inflight.example.org', 16), '127.0.0.1', 5000);
  for (let i = 0; i < 100 && a.seen.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(a.seen.length, 1, 'the query is upstream at A');
  daemon.reload(testPlan({ forwarders: [`127.0.0.1:${b.port}`] }));
  const r = await pending;
  t.equal(rcode(r), 0, 'answered, not SERVFAIL');
  t.equal(r && count(r, 6), 1, "A's answer");
  const next = await ask(port, rawQuery(0x0202, 'after.example.org', 16));
  t.equal(next && count(next, 6), 2, 'the next query goes to B');
  t.equal(daemon.counters.forwardFailures, 0);
});

t.test('a dead first forwarder is remembered: skipped, probed later, logged once', async (t) => {
  const dead = await fakeUpstream(t, () => null);
  const good = await fakeUpstream(t, (q) => answer(q, 1, 10));
  // downMs is long enough for the six queries to finish inside it, even on a loaded machine.
  const { port, lines } = await daemonWith(t, [dead, good], { forwardTimeoutMs: 200, forwarderDownMs: 2000 });
  for (let i = 0; i < 6; i++) t.equal(rcode(await ask(port, rawQuery(i, `d${i}.example.org`, 16))), 0, `query ${i} answered by the second`);
  t.equal(dead.seen.length, 1, 'only the first query waited for the dead one');
  t.equal(good.seen.length, 6);
  const downs = lines.filter((l) => l.level === 40 && String(l.msg).includes('not answering'));
  t.equal(downs.length, 1, 'one warn line');
  t.equal(downs[0]?.forwarder, `127.0.0.1:${dead.port}`);

  // After downMs one query probes it again; it answers now: back first in line, and an info line.
  await new Promise((r) => setTimeout(r, 2100));
  dead.reply = (q) => answer(q, 3, 10);
  const probe = await ask(port, rawQuery(100, 'probe.example.org', 16));
  t.equal(probe && count(probe, 6), 3, 'the probe went to the first forwarder');
  t.ok(lines.some((l) => l.level === 30 && String(l.msg).includes('answers again')), 'info: back');
  const after = await ask(port, rawQuery(101, 'after.example.org', 16));
  t.equal(after && count(after, 6), 3, 'and it is first again');
});

t.test('a closed port upstream (ICMP port unreachable) moves on at once', async (t) => {
  const probe = dgram.createSocket('udp4');
  await new Promise<void>((r) => probe.bind(0, '127.0.0.1', () => r()));
  const closedPort = probe.address().port;
  probe.close();
  const good = await fakeUpstream(t, (q) => answer(q, 1, 10));
  const closed: Fake = { port: closedPort, seen: [], reply: () => null, delayMs: 0 };
  // A timeout far longer than the client waits: only the ICMP error can get the answer to it in time.
  const { port, lines } = await daemonWith(t, [closed, good], { forwardTimeoutMs: 20_000 });
  const a = await ask(port, rawQuery(9, 'refused.example.org', 16), '127.0.0.1', 5000);
  t.equal(rcode(a), 0, 'answered by the second forwarder');
  t.ok(lines.some((l) => l.level === 40 && l.forwarder === `127.0.0.1:${closedPort}`), 'the closed one is marked down');
});
