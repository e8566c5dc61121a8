// Several SO_REUSEPORT sockets on one port (UdpTransportOptions.sockets): all
// flows answered from the port, and the port still refused to anyone else:
// a second transport, a plain socket, and a socket of another UID that sets
// SO_REUSEPORT itself. Loopback only; the other-UID case needs root.
import t, { type Test } from 'tap';
import dgram from 'node:dgram';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { batchSocketsAvailable } from '../../src/net/batch-socket.js';
import { pino } from 'pino';
import { DnsDaemon } from '../../src/dns/daemon.js';
import { testPlan, udpExchange } from '../dns/helpers.js';
import { openUdpTransport, type UdpHandlers, type UdpTransport } from '../../src/net/udp-transport.js';

const available = batchSocketsAvailable();
const skip = available.ok ? false : process.env.CI === 'true' ? false : available.reason;

function echo(t: Test, server: () => UdpTransport): UdpHandlers {
  return {
    datagram: (bytes, from) => server().send(Buffer.from(bytes), from.srcIp, from.srcPort),
    sendFailed: (err) => t.fail(`send failed: ${err.message}`),
    socketError: (err) => t.fail(`socket error: ${err.message}`),
  };
}

/** Sockets bound to 127.0.0.1:port in /proc/net/udp. */
function socketsOn(port: number): number {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return readFileSync('/proc/net/udp', 'utf8').split('\n').filter((l) => l.trim().split(/\s+/)[1] === local).length;
}

async function bindError(port: number): Promise<string | undefined> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve) => {
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(undefined)));
  });
}

t.test('four sockets on one port: every client answered from that port; nobody else binds it', { skip }, async (t) => {
  let server!: UdpTransport;
  server = await openUdpTransport({ address: '127.0.0.1', port: 0, sockets: 4 }, echo(t, () => server));
  t.teardown(() => server.close());
  t.equal(server.kind, 'batch');
  t.equal(server.sockets, 4);
  t.equal(socketsOn(server.port), 4, 'four sockets in /proc/net/udp on the port');

  // 40 flows (source ports): the kernel spreads them over the sockets; each reply must come from the server's port.
  const clients = await Promise.all(
    Array.from({ length: 40 }, () => new Promise<dgram.Socket>((resolve) => {
      const c = dgram.createSocket('udp4');
      c.bind(0, '127.0.0.1', () => resolve(c));
    })),
  );
  t.teardown(() => clients.forEach((c) => c.close()));
  const from = new Set<string>();
  let answered = 0;
  await Promise.all(
    clients.map((c, i) => new Promise<void>((resolve) => {
      c.once('message', (m, rinfo) => {
        t.equal(m.toString(), `q${i}`);
        from.add(`${rinfo.address}:${rinfo.port}`);
        answered++;
        resolve();
      });
      c.send(`q${i}`, server.port, '127.0.0.1');
    })),
  );
  t.equal(answered, 40, 'every flow answered');
  t.same([...from], [`127.0.0.1:${server.port}`], 'from the port asked');
  t.equal(server.stats().received, 40, 'stats add up over the sockets');

  t.equal(await bindError(server.port), 'EADDRINUSE', 'a plain socket is refused');
  await t.rejects(openUdpTransport({ address: '127.0.0.1', port: server.port, sockets: 4 }, echo(t, () => server)), { code: 'EADDRINUSE' }, 'a second provlab (same UID, same option) is refused');
  await t.rejects(openUdpTransport({ address: '0.0.0.0', port: server.port, sockets: 2 }, echo(t, () => server)), { code: 'EADDRINUSE' }, 'also on the wildcard address');
  t.equal(socketsOn(server.port), 4, 'still four sockets');
});

t.test('a socket of another UID with SO_REUSEPORT cannot join', { skip: skip || (process.getuid?.() !== 0 ? 'needs root (setuid)' : false) }, async (t) => {
  let server!: UdpTransport;
  server = await openUdpTransport({ address: '127.0.0.1', port: 0, sockets: 2 }, echo(t, () => server));
  t.teardown(() => server.close());
  const py = [
    'import os, socket',
    'os.setgid(65534); os.setuid(65534)',
    's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
    's.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)',
    'try:',
    `    s.bind(("127.0.0.1", ${server.port})); print("bound")`,
    'except OSError as e:',
    '    print(e.errno == 98 and "EADDRINUSE" or e)',
  ].join('\n');
  const r = spawnSync('python3', ['-c', py], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    t.comment(`python3 as nobody did not run: ${r.error?.message ?? r.stderr}`);
    return;
  }
  t.equal(r.stdout.trim(), 'EADDRINUSE', 'the kernel refuses SO_REUSEPORT across UIDs');
});

t.test('dgram fallback keeps one socket whatever is asked', async (t) => {
  let server!: UdpTransport;
  server = await openUdpTransport({ address: '127.0.0.1', port: 0, sockets: 4, dgram: true }, echo(t, () => server));
  t.teardown(() => server.close());
  t.equal(server.kind, 'dgram');
  t.equal(server.sockets, 1);
  t.equal(socketsOn(server.port), 1);
});

t.test('DNS daemon: two sockets by default; a second daemon on its port fails with EADDRINUSE, the first still answers', { skip }, async (t) => {
  const first = await DnsDaemon.start(testPlan(), { logger: pino({ level: 'silent' }) });
  t.teardown(() => first.stop());
  const { port } = first.address();
  t.equal(first.udpTransport, 'batch');
  t.equal(socketsOn(port), 2, 'two UDP sockets on the port');
  const plan = testPlan();
  await t.rejects(DnsDaemon.start({ ...plan, dns: { ...plan.dns, port } }, { logger: pino({ level: 'silent' }) }), { code: 'EADDRINUSE' });
  t.equal(socketsOn(port), 2, 'nothing joined');
  // www.schertz.name A, ID 0x1234
  const name = Buffer.concat(['www', 'schertz', 'name'].map((l) => Buffer.concat([Buffer.of(l.length), Buffer.from(l)])));
  const query = Buffer.concat([Buffer.from('123400000001000000000000', 'hex'), name, Buffer.from('0000010001', 'hex')]);
  const [answers] = await udpExchange(port, [query]);
  t.equal(answers?.length, 1, 'answered');
  t.equal(answers?.[0]?.readUInt16BE(0), 0x1234);
});

t.test('an addon built before reusePort: one socket, as before', { skip }, async (t) => {
  const actual = await import('../../src/net/batch-socket.js');
  const m = await t.mockImport<typeof import('../../src/net/udp-transport.js')>('../../src/net/udp-transport.js', {
    '../../src/net/batch-socket.js': { ...actual, reusePortAvailable: () => false },
  });
  let server!: UdpTransport;
  server = await m.openUdpTransport({ address: '127.0.0.1', port: 0, sockets: 2 }, echo(t, () => server));
  t.teardown(() => server.close());
  t.equal(server.kind, 'batch');
  t.equal(server.sockets, 1);
  t.equal(socketsOn(server.port), 1);
});
