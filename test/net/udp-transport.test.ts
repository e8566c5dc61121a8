// The UDP transport every daemon and the probe open (src/net/udp-transport.ts):
// batches, kernel timestamps, NTP transmit stamping, over-long datagrams, bytes
// kept past a batch, and the dgram fallback with the addon reported missing
// (batch-socket's availability mocked). Loopback only, no root.
import t, { type Test } from 'tap';
import dgram from 'node:dgram';
import { batchSocketsAvailable } from '../../src/net/batch-socket.js';
import { intToIp, parseIPv4 } from '../../src/wire/ipv4.js';
import { openUdpTransport, type UdpHandlers, type UdpTransport } from '../../src/net/udp-transport.js';
import { NTP_UNIX_OFFSET_SECONDS } from '../../src/wire/ntp-packet.js';

const available = batchSocketsAvailable();
const skip = available.ok ? false : process.env.CI === 'true' ? false : available.reason;
const LOCAL = parseIPv4('127.0.0.1');
const MISSING = 'native addon provlab_devsock is not built (test): reported missing';

/** The transport module with the addon reported missing (mocks reach direct imports only: batch-socket's). */
async function withoutAddon(t: Test): Promise<typeof import('../../src/net/udp-transport.js')> {
  const actual = await import('../../src/net/batch-socket.js');
  return t.mockImport<typeof import('../../src/net/udp-transport.js')>('../../src/net/udp-transport.js', {
    '../../src/net/batch-socket.js': {
      ...actual,
      batchSocketsAvailable: () => ({ ok: false, reason: MISSING }),
      openBatchSocket: () => {
        throw new Error(MISSING);
      },
    },
  });
}

interface Seen {
  data: Buffer;
  src: string;
  port: number;
  hasTimestamp: boolean;
  tsSec: number;
  tsNsec: number;
  ifindex: number;
}

/** Handlers that record what arrives and fail the test on any socket error. */
function recorder(t: Test, onDatagram?: (s: Seen, bytes: Uint8Array) => void) {
  const seen: Seen[] = [];
  const kept: Uint8Array[] = [];
  const oversized: number[] = [];
  const events: string[] = [];
  const handlers: UdpHandlers = {
    batchStart: () => events.push('start'),
    batchEnd: () => events.push('end'),
    datagram: (bytes, from) => {
      const s = { data: Buffer.from(bytes), src: intToIp(from.srcIp), port: from.srcPort, hasTimestamp: from.hasTimestamp, tsSec: from.tsSec, tsNsec: from.tsNsec, ifindex: from.ifindex };
      seen.push(s);
      kept.push(bytes);
      events.push('datagram');
      onDatagram?.(s, bytes);
    },
    oversized: (bytes) => oversized.push(bytes),
    sendFailed: (err) => t.fail(`send failed: ${err.message}`),
    socketError: (err) => t.fail(`socket error: ${err.message}`),
  };
  return { seen, kept, oversized, events, handlers };
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  for (let waited = 0; !cond() && waited < ms; waited += 10) await new Promise((r) => setTimeout(r, 10));
}

async function peer(t: Test): Promise<{ sock: dgram.Socket; port: number; got: Buffer[] }> {
  const sock = dgram.createSocket('udp4');
  const got: Buffer[] = [];
  sock.on('message', (m) => got.push(m));
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  t.teardown(() => sock.close());
  return { sock, port: sock.address().port, got };
}

function closeAtEnd(t: Test, u: UdpTransport): UdpTransport {
  t.teardown(() => u.close());
  return u;
}

t.test('a batch: 100 datagrams sent in one go arrive as two recvmmsg() batches and are all answered', { skip }, async (t) => {
  let server!: UdpTransport;
  const r = recorder(t, (s, bytes) => server.send(Buffer.from(bytes).reverse(), parseIPv4(s.src), s.port));
  server = closeAtEnd(t, await openUdpTransport({ address: '127.0.0.1', port: 0, slotSize: 512, keepBytes: true }, r.handlers));
  t.equal(server.kind, 'batch');
  t.equal(server.fallbackReason, null);
  const answers: string[] = [];
  const client = closeAtEnd(
    t,
    await openUdpTransport({ address: '127.0.0.1', port: 0 }, { datagram: (b) => answers.push(Buffer.from(b).toString()), sendFailed: (e) => t.fail(e.message), socketError: (e) => t.fail(e.message) }),
  );
  // Queued and sent with sendmmsg() in this very tick: the server's queue holds all 100 before it reads once.
  for (let i = 0; i < 100; i++) client.send(Buffer.from(`q${String(i).padStart(3, '0')}`), LOCAL, server.port);
  client.flush();
  await until(() => answers.length === 100);
  t.equal(r.seen.length, 100, 'every datagram delivered');
  t.equal(answers.length, 100, 'every reply sent back');
  t.same(answers.sort(), Array.from({ length: 100 }, (_, i) => [...`q${String(i).padStart(3, '0')}`].reverse().join('')).sort(), 'the replies are the handler\'s bytes');
  t.same(server.stats(), { received: 100, oversized: 0, wrongInterface: 0, batches: 2, sent: 100, sendErrors: 0 }, '64 + 36, replies in two sendmmsg() calls');
  t.same(r.events.filter((e) => e !== 'datagram'), ['start', 'end', 'start', 'end'], 'batchStart/batchEnd around each batch');
  t.equal(r.seen[0]!.port, client.port);
  t.equal(r.seen[0]!.src, '127.0.0.1');
  t.ok(r.seen[0]!.ifindex > 0, 'arrival interface');
  // keepBytes: the first batch's bytes survive the second recvmmsg() into the same slots.
  t.equal(Buffer.from(r.kept[0]!).toString(), 'q000');
  t.equal(Buffer.from(r.kept[63]!).toString(), 'q063');
});

t.test('kernel receive timestamps, and the NTP transmit time stamped at send', { skip }, async (t) => {
  const r = recorder(t);
  const server = closeAtEnd(t, await openUdpTransport({ address: '127.0.0.1', port: 0, timestamps: true }, r.handlers));
  t.equal(server.kernelTimestamps, true);
  const p = await peer(t);
  p.sock.send(Buffer.alloc(48, 0x23), server.port, '127.0.0.1');
  await until(() => r.seen.length === 1);
  const s = r.seen[0]!;
  t.equal(s.hasTimestamp, true, 'SO_TIMESTAMPNS time present');
  t.ok(Math.abs(s.tsSec + s.tsNsec / 1e9 - Date.now() / 1000) < 60, 'a realtime clock reading');
  server.send(new Uint8Array(48), LOCAL, p.port, true);
  server.send(new Uint8Array(48), LOCAL, p.port, false);
  await until(() => p.got.length === 2);
  const stamped = p.got.find((b) => b.readUInt32BE(40) !== 0);
  const plain = p.got.find((b) => b.readUInt32BE(40) === 0);
  t.ok(stamped && Math.abs(stamped.readUInt32BE(40) - NTP_UNIX_OFFSET_SECONDS - Date.now() / 1000) < 60, 'transmit time at bytes 40..47 when asked');
  t.ok(plain, 'left alone otherwise (a kiss)');

  const noTs = recorder(t);
  const other = closeAtEnd(t, await openUdpTransport({ address: '127.0.0.1', port: 0 }, noTs.handlers));
  t.equal(other.kernelTimestamps, false);
  p.sock.send(Buffer.from('x'), other.port, '127.0.0.1');
  await until(() => noTs.seen.length === 1);
  t.equal(noTs.seen[0]!.hasTimestamp, false, 'no timestamp unless asked');
});

for (const path of ['batch', 'dgram'] as const) {
  t.test(`${path}: a datagram longer than slotSize is counted and dropped; the next one is delivered`, { skip: path === 'batch' ? skip : false }, async (t) => {
    const r = recorder(t);
    const server = closeAtEnd(t, await openUdpTransport({ address: '127.0.0.1', port: 0, slotSize: 512, dgram: path === 'dgram' }, r.handlers));
    t.equal(server.kind, path);
    const p = await peer(t);
    p.sock.send(Buffer.alloc(600, 1), server.port, '127.0.0.1');
    p.sock.send(Buffer.alloc(512, 2), server.port, '127.0.0.1');
    await until(() => r.seen.length === 1);
    t.same(r.seen.map((s) => s.data.length), [512], 'only the one that fits');
    // The batch path reads a slot's worth and sees MSG_TRUNC; dgram knows the whole length.
    t.same(r.oversized, [path === 'batch' ? 512 : 600]);
    t.match(server.stats(), { received: 2, oversized: 1 });
  });
}

t.test('addon reported missing: dgram serves, says why, and a device cannot be bound', async (t) => {
  const m = await withoutAddon(t);
  const r = recorder(t, (s) => server.sendTo(Buffer.from(`re:${s.data.toString()}`), s.src, s.port));
  const server: UdpTransport = closeAtEnd(t, await m.openUdpTransport({ address: '127.0.0.1', port: 0, timestamps: true }, r.handlers));
  t.equal(server.kind, 'dgram');
  t.equal(server.fallbackReason, MISSING, 'the reason, for the caller\'s one warn line');
  t.equal(server.kernelTimestamps, false, 'no kernel timestamps without the addon');
  const p = await peer(t);
  p.sock.send(Buffer.from('ping'), server.port, '127.0.0.1');
  await until(() => p.got.length === 1);
  t.equal(p.got[0]?.toString(), 're:ping');
  t.same(r.events, ['start', 'datagram', 'end'], 'one datagram, one "batch"');
  t.equal(r.seen[0]!.hasTimestamp, false);
  t.equal(r.seen[0]!.port, p.port);

  const asked = closeAtEnd(t, await m.openUdpTransport({ address: '127.0.0.1', port: 0, dgram: true }, recorder(t).handlers));
  t.equal(asked.fallbackReason, null, 'dgram asked for: nothing to warn about');

  await t.rejects(m.openUdpTransport({ address: '0.0.0.0', port: 0, device: 'eth9', service: 'DHCP' }, recorder(t).handlers), {
    message: `cannot bind DHCP to interface eth9: ${MISSING}`,
  });
});

t.test('a throwing handler costs its datagram only', { skip }, async (t) => {
  const errors: string[] = [];
  const seen: string[] = [];
  const server = closeAtEnd(
    t,
    await openUdpTransport(
      { address: '127.0.0.1', port: 0 },
      {
        datagram: (b) => {
          const s = Buffer.from(b).toString();
          if (s === 'boom') throw new Error('handler failed');
          seen.push(s);
        },
        sendFailed: () => t.fail('no sends'),
        socketError: (err) => errors.push(err.message),
      },
    ),
  );
  const client = closeAtEnd(t, await openUdpTransport({ address: '127.0.0.1', port: 0 }, recorder(t).handlers));
  for (const s of ['a', 'boom', 'b']) client.send(Buffer.from(s), LOCAL, server.port);
  client.flush();
  await until(() => seen.length === 2);
  t.same(seen, ['a', 'b']);
  t.same(errors, ['handler failed']);
  await server.close();
  await server.close();
  t.throws(() => server.send(Buffer.from('x'), LOCAL, 9), /closed/);
});

t.test('DNS and NTP daemons say once, at warn, why they serve on dgram', async (t) => {
  const actual = await import('../../src/net/udp-transport.js');
  // Each daemon's own import of the transport, reporting the addon missing.
  const mocks = {
    '../../src/net/udp-transport.js': {
      ...actual,
      openUdpTransport: async (o: Parameters<typeof actual.openUdpTransport>[0], h: UdpHandlers) => ({ ...(await actual.openUdpTransport({ ...o, dgram: true }, h)), fallbackReason: MISSING }),
    },
  };
  const { pino } = await import('pino');
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  const { DnsDaemon } = await t.mockImport<typeof import('../../src/dns/daemon.js')>('../../src/dns/daemon.js', mocks);
  const { NtpDaemon } = await t.mockImport<typeof import('../../src/ntp/daemon.js')>('../../src/ntp/daemon.js', mocks);
  const { testPlan } = await import('../dns/helpers.js');
  const { ntpTestPlan } = await import('../ntp/fixtures/plan.js');
  const dns = await DnsDaemon.start({ ...testPlan(), address: '127.0.0.1' }, { logger });
  t.teardown(() => dns.stop());
  const ntpPlan = ntpTestPlan('127.0.0.1', 12300);
  const ntp = await NtpDaemon.start({ ...ntpPlan, ntp: { ...ntpPlan.ntp, port: 0 } }, { logger });
  t.teardown(() => ntp.stop());
  t.equal(dns.udpTransport, 'dgram');
  t.equal(ntp.timestamping, 'js');
  const warns = lines.filter((l) => l.level === 40);
  t.same(
    warns.map((l) => [l.daemon, l.reason]),
    [
      ['dns', MISSING],
      ['ntp', MISSING],
    ],
    'one line each, with the reason',
  );
});
