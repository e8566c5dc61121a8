// The batch UDP socket (recvmmsg/sendmmsg in native/devsock.c through
// src/net/batch-socket.ts), driven by Node's own dgram as the peer.
import dgram from 'node:dgram';
import t, { type Test } from 'tap';
import {
  batchSocketsAvailable,
  IN,
  IN_TIMESTAMP,
  IN_TRUNCATED,
  IN_WORDS,
  OUT,
  OUT_NTP_TRANSMIT,
  OUT_WORDS,
  openBatchSocket,
  realtime,
  type BatchSocket,
} from '../../src/net/batch-socket.js';
import { intToIp } from '../../src/wire/ipv4.js';
import { ipToInt } from '../../src/wire/ipv4.js';

const available = batchSocketsAvailable();
const skip = available.ok ? false : process.env.CI === 'true' ? false : available.reason;

async function client(t: Test): Promise<dgram.Socket> {
  const c = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => c.bind(0, '127.0.0.1', resolve));
  t.teardown(() => c.close());
  return c;
}

function nextMessage(c: dgram.Socket, ms = 2000): Promise<{ msg: Buffer; rinfo: dgram.RemoteInfo } | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      c.off('message', on);
      resolve(null);
    }, ms);
    const on = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
      clearTimeout(timer);
      c.off('message', on);
      resolve({ msg, rinfo });
    };
    c.on('message', on);
  });
}

t.test('ip helpers', async (t) => {
  t.equal(intToIp(0xc0a80101), '192.168.1.1');
});

t.test('echo in batches, with metadata, truncation and stats', { skip }, async (t) => {
  const seen: Array<{ len: number; flags: number; src: string; port: number; dst: string; ifindex: number }> = [];
  let sock!: BatchSocket;
  sock = openBatchSocket({
    address: '127.0.0.1',
    port: 0,
    slotSize: 512,
    onError: (err) => t.fail(err.message),
    onBatch: (n) => {
      for (let i = 0; i < n; i++) {
        const m = i * IN_WORDS;
        const len = sock.inMeta[m + IN.len]!;
        seen.push({
          len,
          flags: sock.inMeta[m + IN.flags]!,
          src: intToIp(sock.inMeta[m + IN.srcIp]!),
          port: sock.inMeta[m + IN.srcPort]!,
          dst: intToIp(sock.inMeta[m + IN.dstIp]!),
          ifindex: sock.inMeta[m + IN.ifindex]!,
        });
        // Reply: the datagram reversed, to the sender.
        const payload = Buffer.from(sock.input.subarray(i * sock.slotSize, i * sock.slotSize + len)).reverse();
        sock.output.set(payload, i * sock.slotSize);
        const o = i * OUT_WORDS;
        sock.outMeta[o + OUT.len] = len;
        sock.outMeta[o + OUT.dstIp] = sock.inMeta[m + IN.srcIp]!;
        sock.outMeta[o + OUT.dstPort] = sock.inMeta[m + IN.srcPort]!;
        sock.outMeta[o + OUT.srcIp] = 0;
        sock.outMeta[o + OUT.flags] = 0;
      }
      return n;
    },
  });
  t.teardown(() => sock.close());
  t.ok(sock.port > 0, 'kernel-chosen port');
  t.equal(sock.slotSize, 512);
  const c = await client(t);
  const replies: Buffer[] = [];
  c.on('message', (m) => replies.push(m));
  for (let i = 0; i < 200; i++) c.send(Buffer.from(`hello ${i}`), sock.port, '127.0.0.1');
  c.send(Buffer.alloc(700, 1), sock.port, '127.0.0.1'); // longer than a slot
  for (let i = 0; i < 100 && replies.length < 201; i++) await new Promise((r) => setTimeout(r, 20));
  t.equal(replies.length, 201, 'every datagram answered');
  t.ok(replies.some((r) => r.toString() === '0 olleh'), 'reply bytes from the out slot');
  const first = seen[0]!;
  t.same({ src: first.src, port: first.port, dst: first.dst }, { src: '127.0.0.1', port: c.address().port, dst: '127.0.0.1' }, 'source and IP_PKTINFO destination');
  t.ok(first.ifindex > 0, 'arrival interface');
  const long = seen.find((s) => s.flags & IN_TRUNCATED);
  t.ok(long, 'the 700-byte datagram is flagged truncated');
  t.equal(long?.len, 512, 'only a slot kept');
  const st = sock.stats();
  t.equal(st.received, 201);
  t.equal(st.truncated, 1);
  t.equal(st.sent, 201);
  t.equal(st.sendErrors, 0);
  t.ok(st.batches >= 1 && st.batches <= 201);
});

t.test('kernel receive timestamps and NTP transmit stamping', { skip }, async (t) => {
  let rx: [number, number] | null = null;
  let sock!: BatchSocket;
  sock = openBatchSocket({
    address: '127.0.0.1',
    port: 0,
    timestamps: true,
    onError: (err) => t.fail(err.message),
    onBatch: (n) => {
      for (let i = 0; i < n; i++) {
        const m = i * IN_WORDS;
        if (sock.inMeta[m + IN.flags]! & IN_TIMESTAMP) rx = [sock.inMeta[m + IN.tsSec]!, sock.inMeta[m + IN.tsNsec]!];
        sock.output.fill(0, i * sock.slotSize, i * sock.slotSize + 48);
        const o = i * OUT_WORDS;
        sock.outMeta[o + OUT.len] = 48;
        sock.outMeta[o + OUT.dstIp] = sock.inMeta[m + IN.srcIp]!;
        sock.outMeta[o + OUT.dstPort] = sock.inMeta[m + IN.srcPort]!;
        sock.outMeta[o + OUT.srcIp] = ipToInt('127.0.0.1');
        sock.outMeta[o + OUT.flags] = OUT_NTP_TRANSMIT;
      }
      return n;
    },
  });
  t.teardown(() => sock.close());
  const c = await client(t);
  const [s0, ns0] = realtime();
  const got = nextMessage(c);
  c.send(Buffer.alloc(48), sock.port, '127.0.0.1');
  const reply = await got;
  const [s1, ns1] = realtime();
  t.ok(reply, 'answered');
  t.ok(rx, 'a kernel timestamp came with the datagram');
  const before = s0 + ns0 / 1e9;
  const after = s1 + ns1 / 1e9;
  const rxs = rx![0] + rx![1] / 1e9;
  t.ok(rxs >= before && rxs <= after, `receive time ${rxs} within [${before}, ${after}]`);
  // RFC 5905 timestamp at bytes 40..47: seconds since 1900, 2^-32 fractions.
  const b = reply!.msg;
  const tx = b.readUInt32BE(40) - 2208988800 + b.readUInt32BE(44) / 2 ** 32;
  t.ok(tx >= rxs && tx <= after, `transmit time ${tx} after receive ${rxs}, before ${after}`);
  t.equal(reply!.rinfo.address, '127.0.0.1', 'IP_PKTINFO source');
  t.same([...b.subarray(0, 40)], new Array(40).fill(0), 'nothing else written');
});

t.test('sendTo, a throwing handler, a second bind, close', { skip }, async (t) => {
  const errors: string[] = [];
  const sock = openBatchSocket({
    address: '127.0.0.1',
    port: 0,
    onError: (err) => errors.push(err.message),
    onBatch: () => {
      throw new Error('handler bug');
    },
  });
  const c = await client(t);
  const none = nextMessage(c, 300);
  c.send(Buffer.from('x'), sock.port, '127.0.0.1');
  t.equal(await none, null, 'a throwing batch answers nothing');
  t.same(errors, ['handler bug'], 'and is reported');
  const got = nextMessage(c);
  sock.sendTo(Buffer.from('direct'), ipToInt('127.0.0.1'), c.address().port);
  t.equal((await got)?.msg.toString(), 'direct');
  t.throws(
    () => openBatchSocket({ address: '127.0.0.1', port: sock.port, onBatch: () => 0, onError: () => undefined }),
    { code: 'EADDRINUSE' },
    'a second socket on the same address and port is refused',
  );
  t.throws(() => openBatchSocket({ address: 'nope', port: 0, onBatch: () => 0, onError: () => undefined }), TypeError);
  t.throws(() => openBatchSocket({ address: '127.0.0.1', port: 0, slots: 0, onBatch: () => 0, onError: () => undefined }), TypeError);
  sock.close();
  sock.close();
  t.throws(() => sock.sendTo(Buffer.from('x'), 0x7f000001, 9), /closed/);
});

t.test('sendOut: replies written outside a batch; failures counted, not thrown', { skip }, async (t) => {
  const sock = openBatchSocket({ address: '127.0.0.1', port: 0, slotSize: 512, onBatch: () => 0, onError: (err) => t.fail(err.message) });
  t.teardown(() => sock.close());
  const c = await client(t);
  const got: string[] = [];
  c.on('message', (m) => got.push(m.toString()));
  const put = (slot: number, text: string, port: number): void => {
    sock.output.write(text, slot * sock.slotSize);
    const o = slot * OUT_WORDS;
    sock.outMeta[o + OUT.len] = Buffer.byteLength(text);
    sock.outMeta[o + OUT.dstIp] = ipToInt('127.0.0.1');
    sock.outMeta[o + OUT.dstPort] = port;
    sock.outMeta[o + OUT.srcIp] = 0;
    sock.outMeta[o + OUT.flags] = 0;
  };
  put(0, 'one', c.address().port);
  put(1, 'to port zero', 0); // the kernel refuses a UDP destination port 0 (EINVAL)
  put(2, 'three', c.address().port);
  sock.sendOut(3);
  for (let i = 0; i < 50 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
  t.same(got.sort(), ['one', 'three'], 'the good ones arrive, in spite of the bad one between them');
  const st = sock.stats();
  t.equal(st.sent, 2);
  t.equal(st.sendErrors, 1, 'the refused one is counted');
  t.ok(st.lastSendErrno > 0, `with its errno (${st.lastSendErrno})`);
  t.throws(() => sock.sendOut(sock.slots + 1), TypeError, 'more than the out slots');
  sock.close();
  t.throws(() => sock.sendOut(1), /closed/);
});

t.test('rcvbuf: the receive queue asked for, beyond net.core.rmem_max when root', { skip }, async (t) => {
  const asked = 4 * 1024 * 1024;
  const sock = openBatchSocket({ address: '127.0.0.1', port: 0, rcvbuf: asked, onBatch: () => 0, onError: () => undefined });
  t.teardown(() => sock.close());
  const { execFileSync } = await import('node:child_process');
  const { readFileSync } = await import('node:fs');
  // ss -m shows skmem:(...,rb<bytes>,...): the kernel doubles what SO_RCVBUF asks for.
  const out = execFileSync('ss', ['-uanmH', 'src', `127.0.0.1:${sock.port}`], { encoding: 'utf8' });
  const rb = Number(/rb(\d+)/.exec(out)?.[1]);
  const rmemMax = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
  const expected = process.getuid?.() === 0 ? asked * 2 : Math.min(asked, rmemMax) * 2;
  t.equal(rb, expected, `receive buffer ${rb} bytes (rmem_max ${rmemMax})`);
});
