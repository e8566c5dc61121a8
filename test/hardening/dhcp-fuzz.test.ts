// The DHCP daemon's packet path under mutated and random packets: no crash
// (receive never throws and never reaches its internal-error handler), no
// unhandled rejection, every reply it sends is a well-formed BOOTREPLY, and
// afterwards the daemon still answers a phone correctly over its real socket.
//
// Two phases, both on one real DhcpDaemon (relay-only, on loopback):
//  1. `receive()` called directly with both ingress kinds; replies go to a
//     capturing transport (no packet leaves the process: fuzzed ciaddr/yiaddr
//     could name any host), and every reply is decoded and checked.
//  2. datagrams sent to the daemon's loopback socket, replies to loopback.
// Short budget in `npm test`; `npm run fuzz` sets PROVLAB_FUZZ_PACKETS=1000000.
import t, { type Test } from 'tap';
import dgram from 'node:dgram';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from '../../src/log.js';
import { decodeDhcpMessage, MessageType } from '../../src/wire/dhcp-message.js';
import { LOOPBACK_SERVER, startLoopbackDhcp } from '../helpers/loopback-dhcp.js';
import { clientMessage, openRelay } from '../helpers/relay-client.js';
import { Rng, budget, catchUp, dhcpSeeds, encodeSeed, mutateDhcp, randomDhcp, seedFromEnv } from './fuzz-lib.js';

const PACKETS = budget(40_000);
const SOCKET_SHARE = 0.1; // of PACKETS, sent through the real socket
const SEED = seedFromEnv();
const NET = '127.77';
const SERVER = LOOPBACK_SERVER;
const RESERVED = { mac: '00:04:f2:95:31:a2', ip: `${NET}.0.50` };

/** Counts log lines by level and keeps the few that would mean a crash. */
function countingLogger() {
  const levels = new Map<number, number>();
  const internal: string[] = [];
  const errors: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      const s = chunk.toString();
      const m = /"level":(\d+)/.exec(s);
      if (m) levels.set(Number(m[1]), (levels.get(Number(m[1])) ?? 0) + 1);
      if (s.includes('internal error') || s.includes('"level":60')) internal.push(s.slice(0, 2000));
      else if (s.includes('"level":50') && errors.length < 20) errors.push(s.slice(0, 2000));
      done();
    },
  });
  const logger: Logger = pino({ level: 'debug' }, stream);
  return { logger, levels, internal, errors };
}

function startDaemon(t: Test, logger: Logger) {
  return startLoopbackDhcp(t, {
    name: 'fuzz',
    subnet: `${NET}.0.0/22`,
    pool: `${NET}.1.0-${NET}.3.250`,
    router: `${NET}.0.1`,
    reserved: RESERVED,
    logger,
    port: (attempt) => 30000 + ((process.pid * 7 + attempt * 101) % 25000),
  });
}

// The test reaches into the daemon's private transport to capture replies (see the header).
type WithTransport = { transport: { device: string | null; sendTo(bytes: Uint8Array, address: string, port: number): void; close(): Promise<void> } };

t.test(`DHCP daemon survives ${PACKETS} fuzzed packets (seed ${SEED})`, async (t) => {
  const rejections: unknown[] = [];
  const onRejection = (r: unknown) => rejections.push(r);
  process.on('unhandledRejection', onRejection);
  t.teardown(() => process.off('unhandledRejection', onRejection));

  const log = countingLogger();
  const { daemon, plan, port } = await startDaemon(t, log.logger);
  const rng = new Rng(SEED);
  const corpus = {
    relays: [`${NET}.0.1`, `${NET}.2.1`, '10.9.9.9' /* outside the subnet: ignored */],
    inSubnet: [`${NET}.1.7`, `${NET}.2.200`, RESERVED.ip, `${NET}.0.1`, SERVER],
    serverId: plan.dhcp.serverId,
    poolAddress: (r: Rng) => `${NET}.${1 + r.int(3)}.${r.int(251)}`,
  };
  // Reseeded every few thousand packets so the corpus keeps finding new clients and xids.
  let seeds = dhcpSeeds(rng, corpus).map(encodeSeed);

  // Phase 1: receive() directly, replies captured and checked.
  const internal = daemon as unknown as WithTransport;
  const real = internal.transport;
  const bad: string[] = [];
  let replies = 0;
  internal.transport = {
    device: null,
    close: () => Promise.resolve(),
    sendTo(bytes, address, port) {
      const to = { address, port };
      replies++;
      const d = decodeDhcpMessage(bytes);
      const why = !d.ok
        ? `does not decode: ${d.error.message}`
        : d.value.op !== 2
          ? `op ${d.value.op}`
          : ![MessageType.OFFER, MessageType.ACK, MessageType.NAK].includes((d.value.options.get(53)?.[0] ?? 0) as 2 | 5 | 6)
            ? `type ${d.value.options.get(53)?.[0]}`
            : to.port !== plan.dhcp.port && to.port !== plan.dhcp.port + 1
              ? `to port ${to.port}`
              : bytes.length > 1500
                ? `${bytes.length} bytes`
                : undefined;
      if (why && bad.length < 20) bad.push(`${why} (to ${to.address}:${to.port})`);
    },
  };
  const direct = Math.round(PACKETS * (1 - SOCKET_SHARE));
  const started = Date.now();
  for (let i = 0; i < direct; i++) {
    if (i % 5000 === 4999) {
      seeds = dhcpSeeds(rng, corpus).map(encodeSeed);
      // Let journal appends settle and replies go out, as the event loop would between datagrams.
      await new Promise((r) => setImmediate(r));
    }
    const pkt = rng.chance(0.85) ? mutateDhcp(rng, rng.pick(seeds)) : randomDhcp(rng);
    daemon.receive(pkt, rng.chance(0.5) ? 'relay-socket' : 'interface');
  }
  await new Promise((r) => setTimeout(r, 50));
  internal.transport = real;
  t.comment(`phase 1: ${direct} packets through receive() in ${Date.now() - started} ms, ${replies} replies checked; counters ${JSON.stringify(daemon.counters)}`);
  t.same(bad, [], 'every reply is a well-formed OFFER/ACK/NAK to the server or client port');
  t.ok(replies > 0, 'some fuzzed packets were valid enough to answer');

  // Phase 2: the real socket, from loopback.
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  t.teardown(() => sock.close());
  const viaSocket = PACKETS - direct;
  const before = daemon.counters.received;
  for (let i = 0; i < viaSocket; i++) {
    const pkt = rng.chance(0.85) ? mutateDhcp(rng, rng.pick(seeds)) : randomDhcp(rng);
    sock.send(pkt, port, SERVER);
    // Paced by what the daemon has read, so its receive buffer never overflows
    // (a drop there would only test the kernel).
    if (i % 32 === 31) await catchUp(() => daemon.counters.received - before, i + 1);
  }
  const deadline = Date.now() + 10_000;
  while (daemon.counters.received - before < viaSocket * 0.98 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.ok(daemon.counters.received - before >= viaSocket * 0.98, `phase 2: ${daemon.counters.received - before} of ${viaSocket} datagrams reached the daemon`);

  await new Promise((r) => setTimeout(r, 100));
  t.same(log.internal, [], 'never reached the internal-error handler, never fatal');
  const c = daemon.counters;
  const notKinds = new Set(['received', 'malformed', 'replies', 'sendErrors', 'poolExhausted', 'commits']);
  const decided = Object.entries(c).filter(([k]) => !notKinds.has(k)).reduce((n, [, v]) => n + v, 0);
  t.equal(c.received, c.malformed + decided, `every datagram is either malformed or decided once (${JSON.stringify(c)})`);
  t.same(rejections, [], 'no unhandled rejection');
  t.comment(`log lines by level: ${JSON.stringify(Object.fromEntries(log.levels))}`);
  t.same(log.errors, [], 'no error-level log line (a reply that cannot be encoded, a socket error)');

  // Afterwards: the reserved phone gets its address with the Lync options, and an INFORM is answered.
  const relay = await openRelay(`${NET}.0.1`, SERVER, port);
  t.teardown(() => relay.close());
  const lync: [number, Uint8Array][] = [
    [60, new TextEncoder().encode('MS-UC-Client')],
    [55, Uint8Array.of(1, 3, 6, 15, 119, 42, 4, 43, 120)],
  ];
  const ip = await relay.lease(RESERVED.mac, lync);
  t.equal(ip, RESERVED.ip, 'the reserved phone still gets its address');
  const lyncClass = plan.dhcp.classes.find((c) => c.vendorClass === 'MS-UC-Client')!;
  const inform = clientMessage(MessageType.INFORM, '02:00:00:00:99:01', `${NET}.0.1`, lync);
  inform.ciaddr = `${NET}.1.99`;
  const ack = await relay.inform(inform, 3000);
  t.ok(ack, 'INFORM answered');
  t.equal(ack?.options.get(53)?.[0], MessageType.ACK, 'with an ACK');
  t.same(Buffer.from(ack?.options.get(43) ?? []), Buffer.from(lyncClass.options.get(43)!), 'option 43 exactly as the plan says');
  t.same(Buffer.from(ack?.options.get(120) ?? []), Buffer.from(lyncClass.options.get(120)!), 'option 120 exactly as the plan says');
  t.equal(ack?.yiaddr, '0.0.0.0', 'no yiaddr in an INFORM ACK');

  // The reservation was never handed to anyone else, whatever the fuzz asked for.
  const holders = [...daemon.leases.all()].filter((r) => r.ip === RESERVED.ip && r.state === 'bound' && r.mac !== RESERVED.mac);
  t.same(holders, [], 'no other client ever bound the reserved address');
});
