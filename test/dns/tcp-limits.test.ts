// TCP under abuse (RFC 7766 §6.2.3, §10): slowloris connections from one and
// from several loopback addresses, idle connections filling the table, and a
// message trickled in byte by byte. Every time a fresh client must still get
// its answer. Clients bind 127.x.y.z as their source (Linux routes all of
// 127/8 to lo). Every loop here is bounded in count and time.
import t from 'tap';
import net from 'node:net';
import { pino } from 'pino';
import { DnsDaemon, type DnsDaemonOptions } from '../../src/dns/daemon.js';
import { frame, rawQuery, testPlan } from './helpers.js';

type Tap = Parameters<Parameters<typeof t.test>[0]>[0];

async function start(t: Tap, options: Partial<DnsDaemonOptions>) {
  const logger = pino({ level: 'silent' });
  const daemon = await DnsDaemon.start(testPlan(), { logger, logQueries: false, ...options });
  t.teardown(() => daemon.stop());
  return { daemon, port: daemon.address().port };
}

/** Open sockets are remembered and destroyed at the end of each test. */
function tracker(t: Tap) {
  const open: net.Socket[] = [];
  t.teardown(() => {
    for (const s of open) s.destroy();
  });
  return {
    connect(port: number, localAddress: string): Promise<net.Socket & { closedByServer: boolean }> {
      return new Promise((resolve) => {
        const s = net.connect({ port, host: '127.0.0.1', localAddress }) as net.Socket & { closedByServer: boolean };
        s.closedByServer = false;
        s.on('error', () => undefined);
        s.on('close', () => (s.closedByServer = true));
        s.on('data', () => undefined);
        open.push(s);
        s.once('connect', () => resolve(s));
        s.once('close', () => resolve(s));
      });
    },
  };
}

/** A fresh client's one query over TCP: the answer's rcode, or 'none' within the time. */
function freshQuery(port: number, localAddress: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress });
    let buf = Buffer.alloc(0);
    const done = (what: string) => {
      clearTimeout(timer);
      s.destroy();
      resolve(what);
    };
    const timer = setTimeout(() => done('none'), timeoutMs);
    s.on('error', () => done('none'));
    s.on('close', () => done('none'));
    s.on('connect', () => s.write(frame(rawQuery(77, 'sip.schertz.name', 1))));
    s.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(`rcode ${buf[2 + 3]! & 0xf}`);
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends one byte of a never-finished 300-byte message every `everyMs`, `times` times at most. */
function trickle(sockets: net.Socket[], everyMs: number, times: number): () => void {
  let n = 0;
  const timer = setInterval(() => {
    if (++n > times) return clearInterval(timer);
    for (const s of sockets) if (!s.destroyed) s.write(n === 1 ? Buffer.of(0x01) : n === 2 ? Buffer.of(0x2c) : Buffer.of(0));
  }, everyMs);
  return () => clearInterval(timer);
}

t.test('slowloris from several addresses: a fresh client still gets its answer', async (t) => {
  const { daemon, port } = await start(t, { maxTcpConnections: 16, tcpIdleMs: 4000 });
  const c = tracker(t);
  const loris = [];
  for (let i = 0; i < 16; i++) loris.push(await c.connect(port, `127.0.3.${1 + (i % 4)}`));
  const stop = trickle(loris, 200, 40);
  t.teardown(stop);
  await sleep(500);
  t.equal(loris.filter((s) => !s.closedByServer).length, 16, 'the table is full of trickling connections');
  t.equal(await freshQuery(port, '127.0.0.1', 1500), 'rcode 0', 'the fresh client is answered at once');
  t.ok(daemon.counters.tcpEvicted >= 1, 'by evicting the longest idle connection');
});

t.test('slowloris from one address: it gets its per-client share, no more', async (t) => {
  const { daemon, port } = await start(t, { maxTcpConnections: 16, tcpIdleMs: 4000 });
  const c = tracker(t);
  const loris = [];
  for (let i = 0; i < 20; i++) loris.push(await c.connect(port, '127.0.4.1'));
  const stop = trickle(loris, 200, 40);
  t.teardown(stop);
  await sleep(500);
  t.equal(loris.filter((s) => !s.closedByServer).length, 8, 'eight connections stay open (maxTcpPerClient)');
  t.equal(daemon.counters.tcpPerClientRejected, 12);
  t.equal(await freshQuery(port, '127.0.0.1', 1500), 'rcode 0', 'a fresh client from another address is answered');
  t.equal(await freshQuery(port, '127.0.4.2', 1500), 'rcode 0', 'so is one from a neighbour address');
});

t.test('idle connections filling the table make room for a new client', async (t) => {
  const { daemon, port } = await start(t, { maxTcpConnections: 16, tcpIdleMs: 10_000 });
  const c = tracker(t);
  const idle = [];
  for (let i = 0; i < 24; i++) idle.push(await c.connect(port, `127.0.5.${1 + (i % 3)}`));
  await sleep(200);
  t.equal(daemon.counters.tcpEvicted, 8, 'each connection past 16 evicts the oldest idle one');
  for (let i = 0; i < 5; i++) t.equal(await freshQuery(port, '127.0.0.1', 1500), 'rcode 0', `fresh client ${i + 1} answered`);
  t.equal(daemon.counters.tcpRejected, 0, 'nobody refused');
});

t.test('a message trickled byte by byte is cut off after tcpMessageMs, however often bytes come', async (t) => {
  const { daemon, port } = await start(t, { tcpIdleMs: 5000, tcpMessageMs: 400 });
  const c = tracker(t);
  const s = await c.connect(port, '127.0.6.1');
  const stop = trickle([s], 50, 60);
  t.teardown(stop);
  for (let i = 0; i < 40 && !s.closedByServer; i++) await sleep(50);
  t.ok(s.closedByServer, 'closed within 2 s although a byte came every 50 ms');
  t.equal(daemon.counters.tcpSlowClosed, 1);
  // A well-behaved client on a kept-open connection is not hurt by the message clock.
  const ok = await c.connect(port, '127.0.6.2');
  const answers: Buffer[] = [];
  ok.on('data', (d: Buffer) => answers.push(d));
  for (let i = 0; i < 4; i++) {
    ok.write(frame(rawQuery(i, 'sip.schertz.name', 1)));
    await sleep(200);
  }
  t.notOk(ok.closedByServer, 'four queries 200 ms apart on one connection: still open');
  t.ok(Buffer.concat(answers).length > 4 * 30, 'and all answered');
});
