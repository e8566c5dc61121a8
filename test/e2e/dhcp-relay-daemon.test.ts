// The real daemon process on loopback in relay-only mode (the shipped safe
// default's shape): garbage is counted and dropped, answers keep coming,
// and every lease a client saw ACKed survives `kill -9`.
import t from 'tap';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { startProvlab, tempDir, writeSite } from '../helpers/provlab.js';
import { openRelay, clientMessage } from '../helpers/relay-client.js';
import { LOOPBACK_SITE, mergeSite, siteYaml } from '../helpers/sites.js';
import { LeaseJournal } from '../../src/dhcp/lease-journal.js';
import { MessageType } from '../../src/wire/dhcp-message.js';

const PORT = 20000 + (process.pid % 5000) * 3;
const NET = `127.${88 + (process.pid % 50)}.0`;

function site(state: string): string {
  return siteYaml(
    mergeSite(LOOPBACK_SITE, {
      site: 'relay-test',
      dhcp: { subnet: `${NET}.0/22`, pool: `${NET}.10-${NET.replace(/\.0$/, '.3')}.250`, router: `${NET}.1`, lease: '1h' },
      listen: PORT,
      state,
    }),
  );
}

const mac = (i: number) => `02:00:${[(i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;

t.test('malformed packets are counted and dropped; the daemon keeps answering', async (t) => {
  const dir = tempDir();
  const p = startProvlab(['up', '--site', writeSite(dir, site(join(dir, 'state')))]);
  t.teardown(() => p.stop('SIGKILL'));
  await p.waitForLog((l) => String(l.msg).startsWith('DHCP serving'));
  const relay = await openRelay(`${NET}.1`, '127.0.0.1', PORT);
  t.teardown(() => relay.close());
  const garbage = [new Uint8Array(0), new Uint8Array(10), randomBytes(300), randomBytes(1400)];
  const truncated = clientMessage(MessageType.DISCOVER, mac(1), `${NET}.1`);
  for (const g of garbage) relay.raw(g);
  // A valid header and cookie, then an option whose length runs past the end.
  const bad = Buffer.alloc(244);
  bad.writeUInt8(1, 0);
  bad.writeUInt32BE(0x63825363, 236);
  bad.set([53, 40, 1], 240);
  relay.raw(bad);
  const ip = await relay.lease(mac(1));
  t.match(ip, /^127\./, `still answering after garbage (xid ${truncated.xid})`);
  const dropped = p.logs.filter((l) => l.msg === 'malformed DHCP packet dropped');
  t.ok(dropped.length >= 4, `malformed packets logged (${dropped.length})`);
  t.equal(p.child.exitCode, null, 'still running');
});

t.test('provlab up also serves NTP from the same plan', async (t) => {
  const dir = tempDir();
  const p = startProvlab(['up', '--site', writeSite(dir, site(join(dir, 'state')))]);
  t.teardown(() => p.stop('SIGKILL'));
  await p.waitForLog((l) => String(l.msg).startsWith('NTP serving'));
  const sock = dgram.createSocket('udp4');
  t.teardown(() => sock.close());
  // RFC 5905 client request: LI 0, VN 4, mode 3; transmit timestamp at bytes 40..47.
  const req = Buffer.alloc(48);
  req[0] = 0x23;
  Buffer.from('e9f0a1b2c3d4e5f6', 'hex').copy(req, 40);
  const reply = await new Promise<Buffer>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no NTP reply')), 3000);
    sock.once('message', (m) => {
      clearTimeout(timer);
      resolve(m);
    });
    sock.send(req, PORT + 2, '127.0.0.1');
  });
  t.equal(reply.length, 48);
  t.equal(reply[0]! & 7, 4, 'server mode');
  t.equal(reply[1], 10, 'stratum from the site file');
  t.equal(reply.subarray(12, 16).toString('latin1'), 'LOCL', 'reference id from the plan');
  t.equal(reply.subarray(24, 32).toString('hex'), 'e9f0a1b2c3d4e5f6', 'origin = our transmit timestamp, byte for byte');
  t.equal(await p.stop('SIGTERM'), 0, 'SIGTERM exits 0');
});

t.test('every ACKed lease survives kill -9', async (t) => {
  const dir = tempDir();
  const state = join(dir, 'state');
  const p = startProvlab(['up', '--site', writeSite(dir, site(state))]);
  await p.waitForLog((l) => String(l.msg).startsWith('DHCP serving'));
  const relay = await openRelay(`${NET}.1`, '127.0.0.1', PORT);
  t.teardown(() => relay.close());
  const acked = new Map<string, string>();
  let next = 100;
  let killed = false;
  const worker = async () => {
    while (!killed && next < 900) {
      const m = mac(next++);
      const ip = await relay.lease(m);
      if (ip && !killed) acked.set(m, ip);
    }
  };
  const workers = Array.from({ length: 16 }, worker);
  while (acked.size < 300 && next < 900) await new Promise((r) => setTimeout(r, 10));
  p.child.kill('SIGKILL');
  killed = true;
  await Promise.all(workers);
  await new Promise((r) => p.child.exitCode !== null || p.child.signalCode !== null ? r(null) : p.child.once('exit', r));
  t.ok(acked.size >= 300, `${acked.size} leases ACKed before the kill`);

  const load = await LeaseJournal.open(state);
  t.teardown(() => load.journal.close());
  const missing = [...acked].filter(([m, ip]) => {
    const r = load.leases.get(ip);
    return !r || r.mac !== m || r.state !== 'bound';
  });
  t.same(missing, [], 'no ACKed lease lost');
});
