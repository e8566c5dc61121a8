// The DHCP daemon on both paths of the UDP transport (src/net/udp-transport.ts):
// the batch socket (recvmmsg/sendmmsg, replies queued and sent together, bytes
// kept until the lease is on disk) and Node's dgram. Both must give the same
// bytes for the same packets; a burst larger than a batch must be answered in
// full; an over-long datagram is counted as malformed and dropped on either
// path. Relay-only daemons on loopback, no root needed.
import t, { type Test } from 'tap';
import dgram from 'node:dgram';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { batchSocketsAvailable } from '../../src/net/batch-socket.js';
import { decodeDhcpMessage, encodeDhcpMessage, MessageType, type DhcpMessage } from '../../src/wire/dhcp-message.js';
import { LOOPBACK_SERVER, startLoopbackDhcp } from '../helpers/loopback-dhcp.js';
import { clientMessage } from '../helpers/relay-client.js';

const NET = `127.${30 + (process.pid % 25)}`;
const ROUTER = `${NET}.0.1`;
const RESERVED = { mac: '00:04:f2:95:31:a2', ip: `${NET}.0.50` };
const LYNC: [number, Uint8Array][] = [
  [60, new TextEncoder().encode('MS-UC-Client')],
  [55, Uint8Array.of(1, 3, 6, 15, 119, 42, 4, 43, 120)],
];
const available = batchSocketsAvailable();
const skip = available.ok ? false : `native addon not built: ${available.reason}`;

function quietLogger() {
  const warnings: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _e, done) {
      const s = chunk.toString();
      if (/"level":(40|50|60)/.test(s)) warnings.push(s);
      done();
    },
  });
  return { logger: pino({ level: 'warn' }, stream), warnings };
}

async function start(t: Test, opts: { dgram?: boolean; fsync?: boolean; salt: number }) {
  const { logger, warnings } = quietLogger();
  const d = await startLoopbackDhcp(t, {
    name: 'transport',
    subnet: `${NET}.0.0/22`,
    pool: `${NET}.1.0-${NET}.3.250`,
    router: ROUTER,
    reserved: RESERVED,
    logger,
    dgram: opts.dgram,
    fsync: opts.fsync,
    port: (attempt) => 20000 + ((process.pid * 11 + opts.salt * 173 + attempt * 89) % 9000),
  });
  return { ...d, warnings };
}

/**
 * A relay socket that sends raw bytes and collects raw replies by xid; with
 * `phone`, also the phone's own socket at that address on the client port,
 * where the ACK to a relayed INFORM goes (RFC 2131 §4.3.5).
 */
async function rawRelay(t: Test, port: number, phone?: string) {
  // A burst of replies must fit the test's own queue (capped by net.core.rmem_max: ~166 at the default).
  const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 1 << 20 });
  const replies = new Map<number, Buffer>();
  let waiter: (() => void) | undefined;
  let want = 0;
  sock.on('message', (buf) => {
    const d = decodeDhcpMessage(buf);
    if (d.ok) replies.set(d.value.xid, buf);
    if (waiter && replies.size >= want) waiter();
  });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(port, ROUTER, () => resolve());
  });
  t.teardown(() => sock.close());
  if (phone !== undefined) {
    const ps = dgram.createSocket('udp4');
    ps.on('message', (buf) => sock.emit('message', buf));
    await new Promise<void>((resolve, reject) => {
      ps.once('error', reject);
      ps.bind(port + 1, phone, () => resolve());
    });
    t.teardown(() => ps.close());
  }
  return {
    replies,
    send: (bytes: Uint8Array) => sock.send(bytes, port, LOOPBACK_SERVER),
    /** Resolves when `n` distinct replies are in, or after timeoutMs. */
    until(n: number, timeoutMs = 5000): Promise<void> {
      want = n;
      if (replies.size >= n) return Promise.resolve();
      return new Promise((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    },
  };
}

function encoded(m: DhcpMessage): Uint8Array {
  const e = encodeDhcpMessage(m);
  if (!e.ok) throw new Error(e.error.message);
  return e.value;
}

function mac(i: number): string {
  return `02:00:00:00:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
}

t.test('the batch socket serves by default; dgram when asked', { skip }, async (t) => {
  const batch = await start(t, { salt: 1 });
  const plain = await start(t, { salt: 2, dgram: true });
  t.equal(batch.daemon.transportKind, 'batch');
  t.equal(plain.daemon.transportKind, 'dgram');
});

t.test('batch and dgram paths answer the same packets with the same bytes', { skip }, async (t) => {
  const a = await start(t, { salt: 3 });
  const b = await start(t, { salt: 4, dgram: true });
  const ra = await rawRelay(t, a.port, `${NET}.2.9`);
  const rb = await rawRelay(t, b.port, `${NET}.2.9`);
  // DISCOVERs of new phones and the reserved one, then INFORM: replies that do not depend on a lease on disk.
  const msgs: DhcpMessage[] = [];
  for (let i = 0; i < 20; i++) msgs.push(clientMessage(MessageType.DISCOVER, mac(i), ROUTER, LYNC));
  msgs.push(clientMessage(MessageType.DISCOVER, RESERVED.mac, ROUTER, LYNC));
  const inform = clientMessage(MessageType.INFORM, mac(99), ROUTER, LYNC);
  inform.ciaddr = `${NET}.2.9`;
  msgs.push(inform);
  for (const m of msgs) {
    const bytes = encoded(m);
    ra.send(bytes);
    rb.send(bytes);
  }
  await Promise.all([ra.until(msgs.length), rb.until(msgs.length)]);
  t.equal(ra.replies.size, msgs.length, 'batch path: every packet answered');
  t.equal(rb.replies.size, msgs.length, 'dgram path: every packet answered');
  // Then the REQUESTs for those offers: ACKs sent after the lease is journaled.
  const requests = msgs.slice(0, 21).map((m) => {
    const offer = decodeDhcpMessage(ra.replies.get(m.xid)!);
    if (!offer.ok) throw new Error('bad offer');
    const mc = [...m.chaddr.subarray(0, 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');
    return clientMessage(MessageType.REQUEST, mc, ROUTER, [...LYNC, [54, offer.value.options.get(54)!], [50, Uint8Array.from(offer.value.yiaddr.split('.').map(Number))]]);
  });
  for (const m of requests) {
    const bytes = encoded(m);
    ra.send(bytes);
    rb.send(bytes);
  }
  const total = msgs.length + requests.length;
  await Promise.all([ra.until(total), rb.until(total)]);
  let same = 0;
  for (const m of [...msgs, ...requests]) {
    const x = ra.replies.get(m.xid);
    const y = rb.replies.get(m.xid);
    if (x && y && Buffer.compare(x, y) === 0) same++;
    else t.fail(`reply to xid ${m.xid} differs or is missing`);
  }
  t.equal(same, total, `${total} replies byte for byte equal`);
  const acks = requests.filter((m) => decodeDhcpMessage(ra.replies.get(m.xid)!).ok && ra.replies.get(m.xid)![242] === MessageType.ACK);
  t.equal(acks.length, requests.length, 'every REQUEST ACKed');
  t.same(a.warnings, [], 'no warnings');
});

t.test('a burst of several batches, with fsync on, is answered in full', { skip }, async (t) => {
  const d = await start(t, { salt: 5, fsync: true });
  const r = await rawRelay(t, d.port);
  // 150 > 64 slots per batch: the reply queue fills and is flushed mid-batch.
  const discovers = Array.from({ length: 150 }, (_, i) => clientMessage(MessageType.DISCOVER, mac(1000 + i), ROUTER, LYNC));
  for (const m of discovers) r.send(encoded(m));
  await r.until(150);
  t.equal(r.replies.size, 150, '150 OFFERs');
  const requests = discovers.map((m, i) => {
    const offer = decodeDhcpMessage(r.replies.get(m.xid)!);
    if (!offer.ok) throw new Error('bad offer');
    return clientMessage(MessageType.REQUEST, mac(1000 + i), ROUTER, [[54, offer.value.options.get(54)!], [50, Uint8Array.from(offer.value.yiaddr.split('.').map(Number))]]);
  });
  for (const m of requests) r.send(encoded(m));
  await r.until(300);
  const acked = requests.filter((m) => r.replies.get(m.xid)?.[242] === MessageType.ACK).length;
  t.equal(acked, 150, '150 ACKs, each after its lease reached the disk');
  t.equal([...d.daemon.leases.all()].filter((l) => l.state === 'bound').length, 150, '150 bound leases');
  t.equal(d.daemon.counters.sendErrors, 0);
});

for (const path of ['batch', 'dgram'] as const) {
  t.test(`${path}: a datagram longer than a slot (4096) is counted as malformed; the daemon goes on`, { skip }, async (t) => {
    const d = await start(t, { salt: path === 'batch' ? 6 : 7, dgram: path === 'dgram' });
    t.equal(d.daemon.transportKind, path);
    const r = await rawRelay(t, d.port);
    const big = new Uint8Array(6000);
    big.set(encoded(clientMessage(MessageType.DISCOVER, mac(7), ROUTER, LYNC)));
    const before = { ...d.daemon.counters };
    r.send(big);
    const ok = clientMessage(MessageType.DISCOVER, mac(8), ROUTER, LYNC);
    r.send(encoded(ok));
    await r.until(1);
    t.ok(r.replies.has(ok.xid), 'the next DISCOVER is answered');
    t.equal(r.replies.size, 1, 'the long one is not');
    t.equal(d.daemon.counters.malformed - before.malformed, 1, 'counted as malformed');
    t.equal(d.daemon.counters.received - before.received, 2, 'both counted as received');
  });
}
