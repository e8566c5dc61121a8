// NtpDaemon in this process on loopback: real UDP, real clock. Garbage and
// non-client modes get no reply and do not stop it; per-client logging;
// reload; the optional rate limit; and chronyd (a real, strict NTP client)
// accepting it as a source with an offset under 1 ms.
import t, { type Test } from 'tap';
import dgram from 'node:dgram';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { parseIPv4 } from '../../src/wire/ipv4.js';
import type { Datagram } from '../../src/net/udp-transport.js';
import { NtpDaemon, type NtpClientEvent } from '../../src/ntp/daemon.js';
import { ntpToUnixMs, unixMsToNtp } from '../../src/wire/ntp-packet.js';
import type { Plan } from '../../src/site/plan.js';
import { which } from '../helpers/netns.js';
import { ntpTestPlan } from './fixtures/plan.js';

/** What the UDP transport hands the daemon for a datagram from address:9 (no kernel timestamp). */
const from = (address: string): Datagram => ({ srcIp: parseIPv4(address), srcPort: 9, dstIp: 0, localIp: 0, ifindex: 0, hasTimestamp: false, tsSec: 0, tsNsec: 0 });

const fixture = JSON.parse(readFileSync(new URL('./fixtures/captured-requests.json', import.meta.url), 'utf8')) as { chronyd: { packets: { hex: string }[] } };
const CHRONYD = Buffer.from(fixture.chronyd.packets[0]!.hex, 'hex');
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The site-file plan, on an ephemeral port (the schema wants 1..65535; the daemon takes 0 fine). */
function plan(stratum = 10): Plan {
  const p = ntpTestPlan('127.0.0.1', 20123, stratum);
  return { ...p, ntp: { ...p.ntp, port: 0 } };
}

function captureLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { logger, lines };
}

async function client(t: Test) {
  const sock = dgram.createSocket('udp4');
  const inbox: Buffer[] = [];
  sock.on('message', (m) => inbox.push(m));
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  t.teardown(() => sock.close());
  return {
    /** Sends one datagram and returns what came back within `waitMs`. */
    async exchange(bytes: Uint8Array, port: number, waitMs = 300): Promise<Buffer[]> {
      inbox.length = 0;
      sock.send(bytes, port, '127.0.0.1');
      const deadline = Date.now() + waitMs;
      while (Date.now() < deadline && inbox.length === 0) await new Promise((r) => setTimeout(r, 5));
      if (inbox.length > 0) await new Promise((r) => setTimeout(r, 20)); // would a second reply come?
      return [...inbox];
    },
  };
}

/** A client request carrying our own clock as its transmit time (like ntpdig and most SNTP clients). */
function timedRequest(version = 4, skewMs = 0): Uint8Array {
  const b = new Uint8Array(48);
  b[0] = (version << 3) | 3;
  b.set(unixMsToNtp(Date.now() + skewMs), 40);
  return b;
}

for (const useDgram of [false, true]) {
  t.test(`answers a real chronyd request; origin copied byte for byte (${useDgram ? 'dgram' : 'batch socket'})`, async (t) => {
    const { logger } = captureLogger();
    const d = await NtpDaemon.start(plan(), { logger, dgram: useDgram });
    t.teardown(() => d.stop());
    const c = await client(t);
    const before = Date.now();
    const [reply, extra] = await c.exchange(CHRONYD, d.address().port);
    const after = Date.now();
    t.ok(reply, 'a reply');
    t.notOk(extra, 'exactly one');
    if (!reply) return;
    t.equal(reply.length, 48);
    t.equal(reply[0], 0x24, 'LI 0, v4, mode 4');
    t.equal(reply[1], 10, 'stratum from the plan');
    t.equal(toHex(reply.subarray(12, 16)), '4c4f434c', 'LOCL');
    t.equal(toHex(reply.subarray(24, 32)), toHex(CHRONYD.subarray(40, 48)), 'origin = the request\'s transmit timestamp');
    const rx = ntpToUnixMs(reply.subarray(32, 40), before);
    const tx = ntpToUnixMs(reply.subarray(40, 48), before);
    const ref = ntpToUnixMs(reply.subarray(16, 24), before);
    t.ok(rx >= before - 1 && tx <= after + 1 && tx >= rx, `receive ${rx.toFixed(3)} <= transmit ${tx.toFixed(3)}, within [${before}, ${after}]`);
    t.ok(rx % 1 !== 0 || tx % 1 !== 0, 'sub-millisecond timestamps');
    t.ok(ref <= rx && rx - ref < 5000, `reference time is recent (${(rx - ref).toFixed(1)} ms before the receive time)`);
    t.ok(reply[3]! >= 0xe0, `precision 2^${reply.readInt8(3)} s`);
    t.equal(d.counters.replies, 1);
  });
}

t.test('mode 6/7, other modes, bad versions and garbage: no reply, counted, still answering', async (t) => {
  const { logger, lines } = captureLogger();
  const d = await NtpDaemon.start(plan(), { logger });
  t.teardown(() => d.stop());
  const c = await client(t);
  const port = d.address().port;
  const silent: [string, Uint8Array][] = [
    ['ntpq readvar (mode 6)', Buffer.from('160200010000000000000000', 'hex')],
    ['ntpdc monlist (mode 7)', Buffer.from('1700032a' + '00'.repeat(44), 'hex')],
    ['v4 mode 6, 48 bytes', Buffer.from('26' + '00'.repeat(47), 'hex')],
    ['server mode (4)', Buffer.from('24' + CHRONYD.subarray(1).toString('hex'), 'hex')],
    ['broadcast mode (5)', Buffer.from('25' + CHRONYD.subarray(1).toString('hex'), 'hex')],
    ['symmetric active (1)', Buffer.from('21' + CHRONYD.subarray(1).toString('hex'), 'hex')],
    ['version 0 client', Buffer.from('03' + CHRONYD.subarray(1).toString('hex'), 'hex')],
    ['version 5 client', Buffer.from('2b' + CHRONYD.subarray(1).toString('hex'), 'hex')],
    ['empty datagram', new Uint8Array(0)],
    ['47 bytes', CHRONYD.subarray(0, 47)],
    ['random 1400 bytes with mode 6', Buffer.concat([Buffer.from([0x26]), randomBytes(1399)])],
  ];
  for (const [what, bytes] of silent) t.same(await c.exchange(bytes, port, 150), [], `${what}: no reply`);
  // Random junk: whatever it is, a reply may only be 48 bytes to a valid client request.
  for (let i = 0; i < 50; i++) {
    const junk = randomBytes(1 + (i * 37) % 200);
    junk[0] = (junk[0]! & 0xf8) | 6; // never a client request
    d['receive'](junk, from('127.0.0.1'));
  }
  const [reply] = await c.exchange(CHRONYD, port);
  t.ok(reply && toHex(reply.subarray(24, 32)) === toHex(CHRONYD.subarray(40, 48)), 'a normal request is still answered');
  t.equal(d.counters.replies, 1);
  t.equal(d.counters.received, silent.length + 50 + 1);
  t.equal(d.counters.malformed + d.counters.badVersion + d.counters.badMode, silent.length + 50, 'every dropped datagram counted');
  t.ok(d.counters.malformed >= 3 && d.counters.badVersion >= 2 && d.counters.badMode >= 6, JSON.stringify(d.counters));
  t.equal(d.counters.internalErrors, 0);
  t.ok(lines.some((l) => l.msg === 'NTP packet dropped' && l.reason === 'mode'), 'drops logged at debug');
});

t.test('per-client log: info the first time, debug after; offset the client had', async (t) => {
  const { logger, lines } = captureLogger();
  const events: NtpClientEvent[] = [];
  const d = await NtpDaemon.start(plan(), { logger, events: { onClient: (e) => events.push(e) } });
  t.teardown(() => d.stop());
  const c = await client(t);
  const port = d.address().port;
  await c.exchange(timedRequest(3, -90_000), port); // a phone 90 s behind, NTPv3
  await c.exchange(timedRequest(3, -90_000), port);
  const served = lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('NTP v3 time served to 127.0.0.1'));
  t.equal(served.length, 2);
  t.equal(served[0]!.level, 30, 'first time seen: info');
  t.equal(served[1]!.level, 20, 'then debug');
  t.equal(served[0]!.version, 3);
  const off = served[0]!.clientOffsetMs as number;
  t.ok(off < -89_990 && off > -90_010, `offset the client had: ${off} ms`);
  t.equal(events.length, 2);
  t.ok(events[0]!.firstSeen && !events[1]!.firstSeen);
  t.ok(lines.some((l) => typeof l.msg === 'string' && l.msg.startsWith('NTP serving on 127.0.0.1:')), 'start line');
});

t.test('the first-seen map is bounded', async (t) => {
  const { logger, lines } = captureLogger();
  const d = await NtpDaemon.start(plan(), { logger, maxKnownClients: 2 });
  t.teardown(() => d.stop());
  // Loopback addresses nobody listens on: the replies go nowhere.
  for (const a of ['127.0.0.11', '127.0.0.12', '127.0.0.11', '127.0.0.13', '127.0.0.11']) d['receive'](Buffer.from(timedRequest()), from(a));
  const infos = lines.filter((l) => l.level === 30 && typeof l.msg === 'string' && l.msg.includes('time served')).map((l) => l.client);
  t.same(infos, ['127.0.0.11', '127.0.0.12', '127.0.0.13', '127.0.0.11'], '.11 is forgotten once .13 fills the map, then seen anew');
  t.equal(d['known'].size, 2);
});

t.test('reload takes the new stratum', async (t) => {
  const { logger } = captureLogger();
  const d = await NtpDaemon.start(plan(10), { logger });
  t.teardown(() => d.stop());
  const c = await client(t);
  const port = d.address().port;
  t.equal((await c.exchange(CHRONYD, port))[0]?.[1], 10);
  d.reload(plan(4));
  t.equal((await c.exchange(CHRONYD, port))[0]?.[1], 4);
});

t.test('reload takes the refid and the rate limit from the plan too', async (t) => {
  const { logger } = captureLogger();
  const p = plan();
  const d = await NtpDaemon.start(p, { logger });
  t.teardown(() => d.stop());
  const c = await client(t);
  const port = d.address().port;
  const refid = async () => toHex((await c.exchange(CHRONYD, port))[0]?.subarray(12, 16) ?? new Uint8Array());
  t.equal(await refid(), '4c4f434c', 'LOCL');
  for (let i = 0; i < 3; i++) t.equal((await c.exchange(CHRONYD, port))[0]?.[1], 10, `no rate limit at start: reply ${i + 1}`);

  d.reload({ ...p, ntp: { ...p.ntp, refId: 'GPS', rateLimit: { burst: 2, intervalSeconds: 60 } } });
  // RFC 5905 §7.3: a refid is left-justified, zero-padded ASCII.
  t.equal(await refid(), '47505300', 'the new refid, GPS');
  t.equal((await c.exchange(CHRONYD, port))[0]?.[1], 10, 'second request within the burst');
  const kiss = (await c.exchange(CHRONYD, port))[0];
  t.equal(kiss?.[1], 0, 'third: over the new limit, stratum 0');
  t.equal(kiss?.subarray(12, 16).toString('ascii'), 'RATE');

  d.reload({ ...p, ntp: { ...p.ntp, refId: 'GPS', rateLimit: null } });
  t.equal((await c.exchange(CHRONYD, port))[0]?.[1], 10, 'limit off again: answered');
});

for (const useDgram of [false, true]) {
  t.test(`optional rate limit: RATE kiss-o'-death, then silence (${useDgram ? 'dgram' : 'batch socket'})`, async (t) => {
    const { logger } = captureLogger();
    const p = plan();
    const d = await NtpDaemon.start({ ...p, ntp: { ...p.ntp, rateLimit: { burst: 2, intervalSeconds: 60 } } }, { logger, dgram: useDgram });
    t.teardown(() => d.stop());
    const c = await client(t);
    const port = d.address().port;
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push((await c.exchange(CHRONYD, port, 150))[0]);
    t.equal(answers[0]?.[1], 10);
    t.equal(answers[1]?.[1], 10);
    t.equal(answers[2]?.[1], 0, 'stratum 0');
    t.equal(answers[2]?.subarray(12, 16).toString('ascii'), 'RATE');
    t.equal(answers[3], undefined, 'then nothing');
    t.same({ replies: d.counters.replies, kisses: d.counters.kisses, rateLimited: d.counters.rateLimited }, { replies: 2, kisses: 1, rateLimited: 1 });
  });
}

t.test('the port is refused cleanly when taken', async (t) => {
  const { logger } = captureLogger();
  const a = await NtpDaemon.start(plan(), { logger });
  t.teardown(() => a.stop());
  const p = plan();
  await t.rejects(NtpDaemon.start({ ...p, ntp: { ...p.ntp, port: a.address().port } }, { logger }), { code: 'EADDRINUSE' });
});

/** A tool this test needs: the reason it is missing, or false. Under CI=true a missing tool fails. */
function toolSkip(tools: string[]): string | false {
  const missing = tools.find((x) => !which(x));
  if (!missing) return false;
  if (process.env.CI === 'true') t.fail(`CI=true and ${missing} is not installed`);
  return `${missing} is not installed`;
}

for (const useDgram of [false, true]) {
  t.test(`chronyd -Q accepts provlab as a source, offset under 1 ms (${useDgram ? 'dgram' : 'batch socket'})`, { skip: toolSkip(['chronyd']) }, async (t) => {
    const { logger } = captureLogger();
    const d = await NtpDaemon.start(plan(), { logger, dgram: useDgram });
    t.teardown(() => d.stop());
    const port = d.address().port;
    // Spawned, not execFileSync: this process's event loop must stay free to answer.
    const child = spawn('chronyd', ['-Q', '-f', '/dev/null', '-t', '10', `server 127.0.0.1 port ${port} iburst maxsamples 4`], { stdio: ['ignore', 'pipe', 'pipe'] });
    t.teardown(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    t.equal(code, 0, `chronyd exited 0:\n${out}`);
    const m = /System clock wrong by (-?[\d.]+) seconds/.exec(out);
    t.ok(m, `chronyd measured an offset:\n${out}`);
    if (!m) return;
    const offset = Number(m[1]);
    t.ok(Math.abs(offset) < 0.001, `offset ${(offset * 1e6).toFixed(0)} µs is under 1 ms`);
    t.ok(d.counters.replies >= 2, `${d.counters.replies} replies`);
    t.equal(d.counters.malformed + d.counters.badMode + d.counters.badVersion, 0);
  });
}
