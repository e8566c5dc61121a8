// The UDP transport bound to a device (SO_BINDTODEVICE in native/devsock.c,
// through src/net/udp-transport.ts and src/net/device-socket.ts), as the DHCP
// daemon, the rogue-server guard and the probe open it.
// Loopback tests run in this process; the interface-isolation test builds a
// host with two networks out of namespaces:
//
//   PA (10.77.1.2) --veth-- [A 10.77.1.1  SRV  10.77.2.1 B] --veth-- PB (10.77.2.2)
//
// and runs the transport, bound to A, inside SRV (fixtures/device-server.ts).
import t from 'tap';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { batchSocketsAvailable } from '../../src/net/batch-socket.js';
import { intToIp } from '../../src/wire/ipv4.js';
import { openUdpTransport, type UdpHandlers, type UdpTransport } from '../../src/net/udp-transport.js';
import { netnsUnavailable } from '../helpers/netns.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const ADDON = fileURLToPath(new URL('../../build/Release/provlab_devsock.node', import.meta.url));
const PY = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/** A skip reason, or false. Under CI=true a missing prerequisite is a failure, not a skip. */
function skipReason(...reasons: (string | null)[]): string | false {
  const reason = reasons.find((r): r is string => typeof r === 'string');
  if (reason === undefined) return false;
  if (process.env.CI === 'true') t.fail(`CI=true and this test cannot run: ${reason}`);
  return reason;
}
const avail = batchSocketsAvailable();
const addonMissing = avail.ok ? null : avail.reason;

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
type Line = Record<string, unknown>;

/** A child process that prints JSON lines; waitFor resolves on the first matching line. */
function jsonChild(child: ChildProcess, name: string) {
  const lines: Line[] = [];
  let err = '';
  let partial = '';
  let waiters: { pred: (l: Line) => boolean; resolve: (l: Line) => void }[] = [];
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout?.on('data', (d: Buffer) => {
    partial += d.toString();
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const text of parts) {
      if (text.trim() === '') continue;
      let l: Line;
      try {
        l = JSON.parse(text) as Line;
      } catch {
        l = { unparsed: text };
      }
      lines.push(l);
      waiters = waiters.filter((w) => (w.pred(l) ? (w.resolve(l), false) : true));
    }
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return {
    lines,
    exited,
    stderr: () => err,
    waitFor(pred: (l: Line) => boolean, what: string, ms = 10_000): Promise<Line> {
      const hit = lines.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${name}: timed out waiting for ${what}; lines ${JSON.stringify(lines)}; stderr ${err}`)),
          ms,
        );
        waiters.push({ pred, resolve: (l) => (clearTimeout(timer), resolve(l)) });
      });
    },
  };
}

const quiet: UdpHandlers = { datagram: () => {}, sendFailed: () => {}, socketError: () => {} };

t.test('opening an interface that does not exist says so', { skip: skipReason(addonMissing) }, async (t) => {
  const name = `plnope${process.pid.toString(36)}`.slice(0, 15);
  const open = (device: string) => openUdpTransport({ address: '0.0.0.0', port: 0, device, service: 'DHCP' }, quiet).then((u) => u.close());
  await t.rejects(open(name), { message: `cannot bind DHCP to interface ${name}: No such device`, code: 'ENODEV' });
  await t.rejects(open('x'.repeat(16)), { message: /cannot bind DHCP to interface x+: interface name must be a string of 1-15 bytes/ });
});

type Info = { address: string; port: number; ifindex: number; localAddress: string; destinationAddress: string };

t.test('loopback: datagrams in and out, packet info, large datagrams, close', { skip: skipReason(addonMissing) }, async (t) => {
  const got: { buf: Buffer; info: Info }[] = [];
  const errors: Error[] = [];
  let throwNext = false;
  const sock: UdpTransport = await openUdpTransport(
    { address: '0.0.0.0', port: 0, device: 'lo', service: 'DHCP', slots: 4, slotSize: 65536 },
    {
      datagram: (buf, from) => {
        if (throwNext) {
          throwNext = false;
          throw new Error('handler failed');
        }
        const info = { address: intToIp(from.srcIp), port: from.srcPort, ifindex: from.ifindex, localAddress: intToIp(from.localIp), destinationAddress: intToIp(from.dstIp) };
        got.push({ buf: Buffer.from(buf), info });
      },
      sendFailed: (err) => errors.push(err),
      socketError: (err) => errors.push(err),
    },
  );
  t.teardown(() => sock.close());
  t.equal(sock.device, 'lo');
  t.ok(sock.ifindex > 0, 'ifindex of lo is known');
  t.ok(sock.port > 0, 'kernel-chosen port reported');

  const client = dgram.createSocket('udp4');
  t.teardown(() => client.close());
  await new Promise<void>((r) => client.bind(0, '127.0.0.1', r));
  const clientPort = client.address().port;
  const big = Buffer.alloc(65507); // the largest UDP payload IPv4 can carry
  for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
  const send = (b: Buffer): Promise<void> => new Promise((r, j) => client.send(b, sock.port, '127.0.0.1', (e) => (e ? j(e) : r())));
  await send(Buffer.from('hello'));
  await send(big);
  await send(Buffer.alloc(0));
  for (let i = 0; i < 50 && got.length < 3; i++) await delay(20);
  t.equal(got.length, 3, 'three datagrams delivered');
  t.equal(got[0]?.buf.toString(), 'hello');
  t.same(got[0]?.info, { address: '127.0.0.1', port: clientPort, ifindex: sock.ifindex, localAddress: '127.0.0.1', destinationAddress: '127.0.0.1' });
  t.ok(got[1]?.buf.equals(big), '65507-byte datagram arrives whole');
  t.equal(got[2]?.buf.length, 0, 'empty datagram');

  // A throwing handler must not take the process down: it goes to socketError.
  throwNext = true;
  await send(Buffer.from('boom'));
  for (let i = 0; i < 50 && errors.length < 1; i++) await delay(20);
  t.match(errors[0]?.message, /handler failed/);

  const reply = new Promise<Buffer>((r) => client.once('message', (m) => r(m)));
  sock.sendTo(Buffer.from('reply'), '127.0.0.1', clientPort);
  t.equal((await reply).toString(), 'reply');

  t.throws(() => sock.sendTo(Buffer.from('x'), 'not-an-address', 68), /not an IPv4 address/);
  t.throws(() => sock.addArp('10.0.0.1', 'zz:zz'), { name: 'TypeError' });
  await sock.close();
  await sock.close();
  t.throws(() => sock.sendTo(Buffer.from('x'), '127.0.0.1', clientPort), /closed/);
});

t.test('an unref()ed socket does not keep the process alive', { skip: skipReason(addonMissing) }, async (t) => {
  const script = `
    const a = require(${JSON.stringify(ADDON)});
    const h = a.openBatch('0.0.0.0', 0, 'lo', {}, () => 0, () => {});
    a.unref(h);
    a.ref(h);
    a.unref(h);`;
  const r = spawnSync(process.execPath, ['-e', script], { timeout: 10_000, encoding: 'utf8' });
  t.equal(r.status, 0, `exited by itself (signal ${r.signal}, stderr ${r.stderr})`);
});

let counter = 0;
t.test(
  'bound to interface A of a two-network host: hears only A, broadcasts only on A, injects ARP for RFC 2131 unicast',
  { skip: skipReason(addonMissing, netnsUnavailable(PY === 'python3' ? ['python3'] : [])) },
  async (t) => {
    const id = `${process.pid.toString(36)}${(counter++).toString(36)}`;
    const [S, PA, PB] = [`plds${id}`, `plda${id}`, `pldb${id}`];
    const [A, B, peerA, peerB] = [`da${id}`, `db${id}`, `pa${id}`, `pb${id}`].map((n) => n.slice(0, 15)) as [string, string, string, string];
    const children: ChildProcess[] = [];
    t.teardown(() => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      for (const ns of [S, PA, PB]) {
        try {
          execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
        } catch {
          /* never created, or already gone */
        }
      }
    });
    const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const inNs = (ns: string, cmd: string, args: string[]): ChildProcess => {
      const c = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
      children.push(c);
      return c;
    };
    const peer = (ns: string, args: string[]) => jsonChild(inNs(ns, PY, [`${FIXTURES}udp-peer.py`, ...args]), `${ns} ${args[0]}`);

    for (const ns of [S, PA, PB]) ip('netns', 'add', ns);
    for (const [mine, theirs, peerNs, net] of [[A, peerA, PA, '10.77.1'], [B, peerB, PB, '10.77.2']] as const) {
      ip('link', 'add', mine, 'type', 'veth', 'peer', 'name', theirs);
      ip('link', 'set', mine, 'netns', S);
      ip('link', 'set', theirs, 'netns', peerNs);
      ip('-n', S, 'addr', 'add', `${net}.1/24`, 'dev', mine);
      ip('-n', peerNs, 'addr', 'add', `${net}.2/24`, 'dev', theirs);
      ip('-n', S, 'link', 'set', mine, 'up');
      ip('-n', peerNs, 'link', 'set', theirs, 'up');
    }
    for (const ns of [S, PA, PB]) {
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1'], { stdio: 'ignore' });
    }
    const linkInfo = (ns: string, dev: string): { ifindex: number; address: string } =>
      (JSON.parse(ip('-n', ns, '-j', 'link', 'show', 'dev', dev)) as { ifindex: number; address: string }[])[0]!;

    // The server: the real wrapper, run by this same Node with tap's TypeScript loader.
    const loader = process.execArgv.filter((a) => a.includes('@tapjs/typescript'));
    t.ok(loader.length > 0, 'found the TypeScript loader tap runs this test with');
    const srvProc = inNs(S, process.execPath, [...loader, `${FIXTURES}device-server.ts`, A, '67']);
    const srv = jsonChild(srvProc, 'server');
    let nextId = 1;
    const command = async (c: Line): Promise<Line> => {
      const id = nextId++;
      srvProc.stdin!.write(JSON.stringify({ id, ...c }) + '\n');
      return srv.waitFor((l) => l.event === 'result' && l.id === id, `result of ${JSON.stringify(c)}`);
    };
    const ready = await srv.waitFor((l) => l.event === 'ready' || l.event === 'open-failed', 'server ready', 30_000);
    t.equal(ready.event, 'ready', `server opened the socket (${JSON.stringify(ready)})`);
    const ifA = linkInfo(S, A).ifindex;
    t.equal(ready.ifindex, ifA, 'socket reports the index of A');

    // Listeners on both peers for the server's reply broadcast.
    const listenA = peer(PA, ['listen', peerA, '68', '20']);
    const listenB = peer(PB, ['listen', peerB, '68', '20']);
    await listenA.waitFor((l) => l.ready === true, 'listener A ready');
    await listenB.waitFor((l) => l.ready === true, 'listener B ready');

    // B's traffic first, so it would have arrived before A's last datagram if it could.
    const sendFrom = (ns: string, dev: string, dst: string, payload: string): void => {
      execFileSync('ip', ['netns', 'exec', ns, PY, `${FIXTURES}udp-peer.py`, 'send', dev, dst, '67', payload], { timeout: 10_000, stdio: 'ignore' });
    };
    sendFrom(PB, peerB, '255.255.255.255', 'B-broadcast');
    sendFrom(PB, peerB, '10.77.2.1', 'B-unicast-to-our-B-address');
    sendFrom(PA, peerA, '255.255.255.255', 'A-broadcast');
    sendFrom(PA, peerA, '10.77.1.1', 'A-unicast');
    await srv.waitFor((l) => l.event === 'message' && l.data === 'A-unicast', 'A-unicast at the server');
    await srv.waitFor((l) => l.event === 'message' && l.data === 'A-broadcast', 'A-broadcast at the server');
    await delay(300);
    const messages = srv.lines.filter((l) => l.event === 'message');
    t.same(messages.map((m) => m.data).sort(), ['A-broadcast', 'A-unicast'], 'only datagrams that arrived on A');
    t.match(messages.find((m) => m.data === 'A-broadcast'), {
      address: '10.77.1.2',
      ifindex: ifA,
      localAddress: '10.77.1.1',
      destinationAddress: '255.255.255.255',
    });
    t.match(messages.find((m) => m.data === 'A-unicast'), { ifindex: ifA, destinationAddress: '10.77.1.1' });

    // A broadcast reply leaves by A only.
    t.match(await command({ cmd: 'send', address: '255.255.255.255', port: 68, data: 'reply-broadcast' }), { ok: true });
    t.match(await listenA.waitFor((l) => l.data === 'reply-broadcast', 'reply on peer A'), { from: '10.77.1.1', port: 67 });
    await delay(300);
    t.same(listenB.lines.filter((l) => 'data' in l), [], 'nothing reached peer B');

    // RFC 2131 §4.1: unicast to yiaddr at chaddr for a client that has no address yet.
    const macA = linkInfo(PA, peerA).address;
    const sniff = peer(PA, ['sniff', peerA, '20']);
    await sniff.waitFor((l) => l.ready === true, 'sniffer ready');
    t.match(await command({ cmd: 'arp', ip: '10.77.1.50', mac: macA }), { ok: true });
    t.match(ip('-n', S, 'neigh', 'show', '10.77.1.50', 'dev', A), new RegExp(`^10\\.77\\.1\\.50 lladdr ${macA} `), 'ARP entry installed');
    t.match(await command({ cmd: 'send', address: '10.77.1.50', port: 68, data: 'reply-unicast' }), { ok: true });
    const frame = await sniff.waitFor((l) => l.data === 'reply-unicast', 'unicast frame on peer A');
    t.match(frame, { dstMac: macA, src: '10.77.1.1', dst: '10.77.1.50', dport: 68 });
    t.same(sniff.lines.filter((l) => l.arp === 1 && l.targetIp === '10.77.1.50'), [], 'no ARP request needed for 10.77.1.50');
    t.match(await command({ cmd: 'arp', ip: '10.77.1.51', mac: 'not-a-mac' }), { ok: false });

    // close() (twice) must release the loop: the server exits on its own.
    t.match(await command({ cmd: 'close' }), { ok: true });
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([srv.exited, new Promise((r) => (timer = setTimeout(() => r('still running'), 10_000)))]);
    clearTimeout(timer);
    t.equal(code, 0, `server exited after close (stderr: ${srv.stderr()})`);
    t.same(srv.lines.filter((l) => l.event === 'error'), [], 'no socket errors reported');
  },
);
