// Datagrams longer than a slot (maxDatagram > slotSize): read whole on both
// paths, several in one batch each with its own bytes, kept valid with
// keepBytes, and still counted as oversized beyond maxDatagram. Loopback only.
import t, { type Test } from 'tap';
import dgram from 'node:dgram';
import { batchSocketsAvailable } from '../../src/net/batch-socket.js';
import { openUdpTransport, type UdpTransport } from '../../src/net/udp-transport.js';

const available = batchSocketsAvailable();
const skipBatch = available.ok ? false : process.env.CI === 'true' ? false : available.reason;

function datagram(len: number, seed: number): Buffer {
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) b[i] = (i * 7 + seed) & 0xff;
  return b;
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  for (let waited = 0; !cond() && waited < ms; waited += 10) await new Promise((r) => setTimeout(r, 10));
}

async function run(t: Test, dgramPath: boolean, keepBytes: boolean): Promise<void> {
  const got: Buffer[] = [];
  const kept: Uint8Array[] = [];
  const oversized: number[] = [];
  const u: UdpTransport = await openUdpTransport(
    { address: '127.0.0.1', port: 0, slotSize: 2048, maxDatagram: 20000, dgram: dgramPath, keepBytes },
    {
      datagram: (bytes) => {
        got.push(Buffer.from(bytes));
        kept.push(bytes);
      },
      oversized: (n) => oversized.push(n),
      sendFailed: (err) => t.fail(err.message),
      socketError: (err) => t.fail(err.message),
    },
  );
  t.teardown(() => u.close());
  t.equal(u.kind, dgramPath ? 'dgram' : 'batch');
  t.equal(u.maxDatagram, 20000);
  const client = dgram.createSocket('udp4');
  await new Promise<void>((r) => client.bind(0, '127.0.0.1', r));
  t.teardown(() => client.close());
  // Sent in one go: on the batch path they share recvmmsg() calls, so the long ones must not share overflow memory.
  const sent = [datagram(3000, 1), datagram(100, 2), datagram(20000, 3), datagram(2048, 4), datagram(2049, 5), datagram(20001, 6), datagram(9000, 7)];
  for (const d of sent) client.send(d, u.port, '127.0.0.1');
  await until(() => got.length + oversized.length >= sent.length);
  t.same(got.map((g) => g.length), [3000, 100, 20000, 2048, 2049, 9000]);
  const expected = sent.filter((d) => d.length <= 20000);
  got.forEach((g, i) => t.ok(g.equals(expected[i]!), `datagram ${i} (${g.length} bytes) intact`));
  if (keepBytes) kept.forEach((k, i) => t.ok(Buffer.from(k).equals(expected[i]!), `datagram ${i} still intact after the batch`));
  t.equal(oversized.length, 1, 'longer than maxDatagram: oversized');
  t.equal(u.stats().oversized, 1);
}

t.test('batch path', { skip: skipBatch }, async (t) => run(t, false, false));
t.test('batch path, keepBytes', { skip: skipBatch }, async (t) => run(t, false, true));
t.test('dgram path', async (t) => run(t, true, false));
