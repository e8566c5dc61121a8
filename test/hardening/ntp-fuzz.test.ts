// The NTP packet path under mutated and random datagrams: `respond()` never
// throws and answers exactly the client requests RFC 5905 says to answer (a
// 48-byte server reply, never longer than the request: no amplification); the
// real daemon on loopback takes the same load over its socket without an
// internal error, then still serves correct time.
// Short budget in `npm test`; `npm run fuzz` sets PROVLAB_FUZZ_PACKETS=1000000.
import t from 'tap';
import dgram from 'node:dgram';
import { NtpDaemon } from '../../src/ntp/daemon.js';
import { DEFAULT_SETTINGS, respond, type RateVerdict } from '../../src/ntp/responder.js';
import type { Plan } from '../../src/site/plan.js';
import { decodeNtp, ntpToUnixMs, unixMsToNtp } from '../../src/wire/ntp-packet.js';
import { Rng, budget, catchUp, firstReply, mutateNtp, ntpSeeds, randomNtp, seedFromEnv, watchDaemon } from './fuzz-lib.js';

const PACKETS = budget(100_000);
// The long run (`npm run fuzz`) sends every packet through the real socket too; `npm test` a sample.
const SOCKET_PACKETS = process.env.PROVLAB_FUZZ_PACKETS ? PACKETS : Math.max(2000, Math.round(PACKETS * 0.05));
const SEED = seedFromEnv();

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

t.test(`respond() on ${PACKETS} fuzzed datagrams (seed ${SEED})`, async (t) => {
  const rng = new Rng(SEED);
  const seeds = ntpSeeds(rng);
  const verdicts: RateVerdict[] = ['allow', 'allow', 'allow', 'kiss', 'drop'];
  const now = unixMsToNtp(Date.now());
  const problems: string[] = [];
  const kinds = { reply: 0, kiss: 0, drop: 0 };
  for (let i = 0; i < PACKETS; i++) {
    const d = rng.chance(0.8) ? mutateNtp(rng, rng.pick(seeds)) : randomNtp(rng);
    const limit = rng.chance(0.3) ? () => rng.pick(verdicts) : undefined;
    let a;
    try {
      a = respond(d, now, DEFAULT_SETTINGS, () => now, limit);
    } catch (err) {
      problems.push(`threw ${String(err)} on ${hex(d)}`);
      continue;
    }
    kinds[a.kind]++;
    const version = d.length > 0 ? (d[0]! >> 3) & 7 : 0;
    const mode = d.length > 0 ? d[0]! & 7 : 0;
    const answerable = d.length >= 48 && mode === 3 && version >= 1 && version <= 4;
    if (a.kind === 'drop') {
      if (answerable && a.reason !== 'rate-limited') problems.push(`dropped a client request (${a.reason}): ${hex(d)}`);
      continue;
    }
    if (!answerable) problems.push(`answered a ${d.length}-byte mode ${mode} v${version} datagram: ${hex(d)}`);
    if (a.bytes.length !== 48 || a.bytes.length > d.length) problems.push(`reply of ${a.bytes.length} bytes to ${d.length}`);
    if ((a.bytes[0]! & 7) !== 4 || ((a.bytes[0]! >> 3) & 7) !== version) problems.push(`reply mode/version byte ${a.bytes[0]} to ${d[0]}`);
    if (hex(a.bytes.subarray(24, 32)) !== hex(d.subarray(40, 48))) problems.push('origin is not the request transmit timestamp');
    if (problems.length > 20) break;
  }
  t.same(problems, [], 'never throws; answers exactly the client-mode v1..v4 requests, with 48 bytes and the origin copied');
  t.comment(`outcomes: ${JSON.stringify(kinds)}`);
  t.ok(kinds.reply > PACKETS / 20 && kinds.drop > PACKETS / 20, 'the mix reaches both the reply and the drop paths');
});

t.test(`NTP daemon on loopback takes ${SOCKET_PACKETS} fuzzed datagrams and still serves time (seed ${SEED})`, async (t) => {
  const { logger, errors, rejections } = watchDaemon(t, 'debug');
  const plan = { address: '127.0.0.1', ntp: { enabled: true, port: 0, servers: ['127.0.0.1'], stratum: 10, refId: 'LOCL', rateLimit: null } } as unknown as Plan;
  const daemon = await NtpDaemon.start(plan, { logger });
  t.teardown(() => daemon.stop());
  const { port } = daemon.address();

  const rng = new Rng(SEED ^ 0x5a5a5a5a);
  const seeds = ntpSeeds(rng);
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  t.teardown(() => sock.close());
  let repliesSeen = 0;
  let oversized = 0;
  sock.on('message', (m) => {
    repliesSeen++;
    if (m.length !== 48) oversized++;
  });
  const before = daemon.counters.received;
  for (let i = 0; i < SOCKET_PACKETS; i++) {
    const d = rng.chance(0.8) ? mutateNtp(rng, rng.pick(seeds)) : randomNtp(rng);
    sock.send(d, port, '127.0.0.1');
    if (i % 32 === 31) await catchUp(() => daemon.counters.received - before, i + 1);
  }
  const deadline = Date.now() + 10_000;
  while (daemon.counters.received - before < SOCKET_PACKETS * 0.98 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const c = daemon.counters;
  t.ok(c.received - before >= SOCKET_PACKETS * 0.98, `${c.received - before} of ${SOCKET_PACKETS} datagrams reached the daemon`);
  t.equal(c.internalErrors, 0, 'no internal error');
  t.equal(c.sendErrors, 0, 'no send error');
  t.equal(c.received, c.replies + c.kisses + c.malformed + c.badVersion + c.badMode + c.rateLimited, `every datagram answered or dropped once (${JSON.stringify(c)})`);
  await new Promise((r) => setTimeout(r, 50));
  t.equal(oversized, 0, `every one of ${repliesSeen} replies is 48 bytes`);
  t.same(errors, [], 'no error-level log line');
  t.same(rejections, [], 'no unhandled rejection');

  // Still correct: a fresh NTPv4 request gets a server reply with our origin and a time within a second.
  const req = Buffer.alloc(48);
  req[0] = 0x23;
  const sent = unixMsToNtp(Date.now());
  Buffer.from(sent).copy(req, 40);
  const reply = await firstReply(
    sock,
    (m) => m.subarray(24, 32).equals(req.subarray(40, 48)),
    () => sock.send(req, port, '127.0.0.1'),
  );
  t.ok(reply, 'answered after the fuzz');
  const p = reply ? decodeNtp(reply) : undefined;
  t.ok(p?.ok, 'the reply decodes');
  if (p?.ok) {
    t.equal(p.value.mode, 4, 'server mode');
    t.equal(p.value.version, 4, 'in the client version');
    t.equal(p.value.stratum, 10, 'stratum from the plan');
    t.ok(Math.abs(ntpToUnixMs(p.value.transmitTime) - Date.now()) < 1000, 'transmit time is now');
  }
});
