// The DNS daemon's UDP path under mutated and random datagrams, on loopback:
// no internal error, no unhandled rejection, never an answer bigger than the
// UDP limit, never an answer to a response (QR=1: spoofed replies are not
// reflected), and afterwards the daemon still answers the phone's first query.
// (Structured decoder and responder properties live in test/wire and test/dns.)
// Short budget in `npm test`; `npm run fuzz` sets PROVLAB_FUZZ_PACKETS=1000000.
import t from 'tap';
import dgram from 'node:dgram';
import { DnsDaemon } from '../../src/dns/daemon.js';
import { decodeDnsMessage } from '../../src/wire/dns-message.js';
import { rawQuery, testPlan } from '../dns/helpers.js';
import { Rng, budget, catchUp, firstReply, seedFromEnv, watchDaemon } from './fuzz-lib.js';

const PACKETS = budget(20_000);
const SEED = seedFromEnv();
/** The daemon's default cap on a UDP answer (DnsDaemonOptions.maxUdpPayload). */
const MAX_UDP = 1232;
const OPT_4096 = '0000291000000000000000';

function seeds(): Buffer[] {
  const q = (id: number, name: string, type: number, o: Parameters<typeof rawQuery>[3] = {}) => rawQuery(id, name, type, o);
  return [
    q(1, 'ucupdates-r2.schertz.name', 1),
    q(2, 'ucupdates-r2.corp.schertz.name', 1, { additional: OPT_4096 }),
    q(3, '_sipinternaltls._tcp.schertz.name', 33),
    q(4, '_ntp._udp.schertz.name', 33, { additional: OPT_4096 }),
    q(5, 'time.windows.com', 1),
    q(6, 'schertz.name', 255),
    q(7, 'schertz.name', 6),
    q(8, 'www.example.com', 1),
    q(9, 'lyncpool.schertz.name', 28),
    q(10, 'schertz.name', 16, { additional: OPT_4096 }),
    q(11, 'SchErTz.NaMe', 2),
    q(12, 'schertz.name', 252),
    // Already a response (QR=1): a spoofed reply must never be answered.
    q(13, 'ucupdates-r2.schertz.name', 1, { flags: 0x8180 }),
  ];
}

function mutate(rng: Rng, seed: Buffer): Buffer {
  let b = Buffer.from(seed);
  for (let r = 0, n = 1 + rng.int(3); r < n; r++) {
    switch (rng.int(9)) {
      case 0:
        if (b.length) b[rng.int(b.length)]! ^= 1 << rng.int(8);
        break;
      case 1: // header flags and counts at their edges
        if (b.length >= 12) b[2 + rng.int(10)] = rng.pick([0, 1, 2, 0x7f, 0x80, 0xff]);
        break;
      case 2: // a label length that lies, or a compression pointer anywhere
        if (b.length > 13) {
          const at = 12 + rng.int(b.length - 12);
          if (rng.chance(0.5)) b[at] = rng.pick([0, 63, 64, 0x80, 0xc0, 0xff]);
          else if (at + 1 < b.length) {
            b[at] = 0xc0 | rng.int(64);
            b[at + 1] = rng.int(256);
          }
        }
        break;
      case 3:
        b = b.subarray(0, rng.int(b.length + 1));
        break;
      case 4:
        b = Buffer.concat([b, Buffer.from(rng.bytes(rng.int(200)))]);
        break;
      case 5: // QR flipped on
        if (b.length > 2) b[2]! |= 0x80;
        break;
      case 6: // opcode / class / type random
        if (b.length > 2) b[2] = (b[2]! & 0x87) | (rng.int(16) << 3);
        if (b.length >= 18) b.writeUInt16BE(rng.pick([1, 2, 5, 6, 12, 15, 16, 28, 33, 41, 251, 252, 255, rng.int(65536)]), b.length - 4);
        break;
      case 7: // EDNS payload size tiny or huge (the OPT class field sits 9 bytes from the end)
        if (b.length >= 23) b.writeUInt16BE(rng.pick([0, 1, 512, 65535]), b.length - 9);
        break;
      default:
        b = Buffer.from(rng.bytes(rng.int(600)));
    }
  }
  return b;
}

t.test(`DNS daemon on loopback takes ${PACKETS} fuzzed datagrams (seed ${SEED})`, async (t) => {
  const { logger, errors, rejections } = watchDaemon(t, 'info');
  const daemon = await DnsDaemon.start(testPlan(), { logger });
  t.teardown(() => daemon.stop());
  const { port } = daemon.address();

  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  t.teardown(() => sock.close());
  let replies = 0;
  let oversized = 0;
  let biggest = 0;
  sock.on('message', (m) => {
    replies++;
    biggest = Math.max(biggest, m.length);
    if (m.length > MAX_UDP) oversized++;
  });

  const rng = new Rng(SEED);
  const corpus = seeds();
  const before = daemon.counters.received;
  let sent = 0;
  for (let i = 0; i < PACKETS; i++) {
    const d = rng.chance(0.85) ? mutate(rng, rng.pick(corpus)) : Buffer.from(rng.bytes(rng.int(512)));
    sock.send(d, port, '127.0.0.1');
    if (++sent % 32 === 0) await catchUp(() => daemon.counters.received - before, sent);
  }
  const deadline = Date.now() + 10_000;
  while (daemon.counters.received - before < sent * 0.97 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 100));
  const c = daemon.counters;
  t.ok(c.received - before >= sent * 0.97, `${c.received - before} of ${sent} datagrams reached the daemon`);
  t.equal(c.internalErrors, 0, 'no internal error');
  t.same(errors, [], 'no error-level log line');
  t.same(rejections, [], 'no unhandled rejection');
  t.equal(oversized, 0, `no answer over ${MAX_UDP} bytes (largest ${biggest}, ${replies} answers)`);
  t.comment(`counters: ${JSON.stringify(c)}`);

  // Spoofed responses alone: not one is answered.
  const quiet = replies;
  const dropped = c.dropped;
  for (let i = 0; i < 200; i++) sock.send(rawQuery(1000 + i, 'ucupdates-r2.schertz.name', rng.pick([1, 255, 16]), { flags: 0x8180 | rng.int(0x10) }), port, '127.0.0.1');
  const until = Date.now() + 3000;
  while (daemon.counters.dropped - dropped < 200 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 100));
  t.equal(daemon.counters.dropped - dropped, 200, 'all 200 QR=1 datagrams dropped');
  t.equal(replies, quiet, 'and none answered: the server reflects nothing');

  // Still answering the phone's first question.
  const answer = await firstReply(
    sock,
    (m) => m.readUInt16BE(0) === 0x4242,
    () => sock.send(rawQuery(0x4242, 'ucupdates-r2.schertz.name', 1), port, '127.0.0.1'),
  );
  t.ok(answer, 'answered after the fuzz');
  const m = answer ? decodeDnsMessage(answer) : undefined;
  t.ok(m?.ok, 'the answer decodes');
  if (m?.ok) {
    t.equal(m.value.header.rcode, 0, 'NOERROR');
    t.ok(m.value.answers.length >= 1, 'with an answer');
  }
});
