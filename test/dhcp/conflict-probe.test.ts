// Conflict detection without sockets: the engine's "probe first" decision
// and how the daemon's answer re-enters it, and ConflictProbe's bookkeeping
// (cache, one probe per address, a bound on probes in flight) with a fake
// echo sender. The wire side runs in test/e2e/conflict-probe.test.ts.
import t from 'tap';
import { CONFLICT_CLIENT, Rfc2131, ZERO } from '../../src/dhcp/rfc2131.js';
import { LeaseTable } from '../../src/dhcp/lease-table.js';
import { ConflictProbe } from '../../src/dhcp/conflict-probe.js';
import { echoRequest, parseEchoReply } from '../../src/net/icmp-echo.js';
import { enginePlan } from './fixtures/engine-plan.js';
import { minimalSite, planOf } from '../helpers/sites.js';
import { emptyMessage, MessageType, type DhcpMessage } from '../../src/wire/dhcp-message.js';

const NOW = 1_800_000_000_000;

function discover(mac: string): DhcpMessage {
  const m = emptyMessage();
  m.op = 1;
  m.htype = 1;
  m.hlen = 6;
  m.xid = 7;
  m.ciaddr = ZERO;
  m.giaddr = ZERO;
  const chaddr = new Uint8Array(16);
  mac.split(':').forEach((h, i) => (chaddr[i] = parseInt(h, 16)));
  m.chaddr = chaddr;
  m.options.set(53, new Uint8Array([MessageType.DISCOVER]));
  return m;
}

t.test('engine: probe first, then offer the same address, or the next one after a conflict', (t) => {
  const p = enginePlan();
  const table = new LeaseTable(p);
  const engine = new Rfc2131(p, table);
  const probed = new Set<string>();
  const gate = (ip: string) => !probed.has(ip);

  const first = engine.handle(discover('02:00:00:00:00:01'), 'interface', NOW, gate);
  t.equal(first.probe, '10.20.0.100', 'the first pool address must be probed first');
  t.notOk(first.reply, 'nothing sent yet');
  t.notOk(first.commit, 'nothing written yet');

  // Something answered: quarantined as a DECLINE, then decided again.
  const rec = engine.conflictRecord('10.20.0.100', NOW);
  t.same({ state: rec.state, clientId: rec.clientId, expiresAt: rec.expiresAt }, { state: 'declined', clientId: CONFLICT_CLIENT, expiresAt: NOW + 600_000 }, 'quarantined for decline_hold');
  table.apply(rec);
  const again = engine.handle(discover('02:00:00:00:00:01'), 'interface', NOW, gate);
  t.equal(again.probe, '10.20.0.101', 'the next address is probed');
  probed.add('10.20.0.101'); // silent
  const offer = engine.handle(discover('02:00:00:00:00:01'), 'interface', NOW, gate);
  t.equal(offer.reply?.message.yiaddr, '10.20.0.101', 'offered once the probe found nothing');

  const other = engine.handle(discover('02:00:00:00:00:02'), 'interface', NOW, () => false);
  t.not(other.reply?.message.yiaddr, '10.20.0.100', 'nobody is offered the quarantined address');
  t.end();
});

t.test('engine: a reservation and the client\'s own earlier address are not probed; no gate, no probe', (t) => {
  const p = enginePlan();
  const table = new LeaseTable(p);
  const engine = new Rfc2131(p, table);
  const always = () => true;
  const reserved = engine.handle(discover('00:04:f2:95:31:a2'), 'interface', NOW, always);
  t.equal(reserved.reply?.message.yiaddr, '10.20.0.50', 'reservation offered without a probe');
  table.apply({ ip: '10.20.0.102', clientId: 'mac:02:00:00:00:00:09', mac: '02:00:00:00:00:09', state: 'expired', expiresAt: NOW - 1, updatedAt: NOW - 1000 });
  const own = engine.handle(discover('02:00:00:00:00:09'), 'interface', NOW, always);
  t.equal(own.reply?.message.yiaddr, '10.20.0.102', 'its own earlier address offered without a probe (it may answer itself)');
  const plain = engine.handle(discover('02:00:00:00:00:03'), 'interface', NOW);
  t.ok(plain.reply, 'without a gate (relay-only, ping_check off): offered at once');
  t.end();
});

t.test('ConflictProbe: an answer is a conflict, silence is cached, one probe per address, bounded', async (t) => {
  const sent: string[] = [];
  const probe = new ConflictProbe(30);
  probe.attach({ send: (ip) => void sent.push(ip), close: () => undefined });

  t.ok(probe.mustProbe('10.0.0.5'), 'never probed: probe');
  const answered = probe.probe('10.0.0.5');
  const same = probe.probe('10.0.0.5');
  t.equal(sent.length, 1, 'a second DISCOVER while probing sends no second echo');
  probe.reply('10.0.0.5', (process.pid & 0xffff) ^ 1);
  probe.reply('10.0.0.5', process.pid & 0xffff);
  t.equal(await answered, true, 'our echo id answered: conflict');
  t.equal(await same, true, 'both waiters learn it');
  t.ok(probe.mustProbe('10.0.0.5'), 'a conflict is not cached as silent');

  t.equal(await probe.probe('10.0.0.6'), false, 'no answer within the timeout: free');
  t.notOk(probe.mustProbe('10.0.0.6'), 'silence is remembered: offered without a new probe');

  const failing = new ConflictProbe(30);
  failing.attach({ send: () => { throw new Error('ENETUNREACH'); }, close: () => undefined });
  t.equal(await failing.probe('10.0.0.7'), false, 'an echo that cannot be sent: offered');

  const busy = new ConflictProbe(10_000);
  busy.attach({ send: () => undefined, close: () => undefined });
  const waits: Promise<boolean>[] = [];
  for (let i = 0; i < 64; i++) waits.push(busy.probe(`10.1.0.${i}`));
  t.notOk(busy.mustProbe('10.1.1.1'), 'with 64 probes waiting, the next first offer goes unprobed');
  t.equal(busy.stats.unprobed, 1, 'and is counted');
  busy.close();
  t.same(await Promise.all(waits), waits.map(() => false), 'close settles every waiter');
  t.notOk(new ConflictProbe(30).mustProbe('10.0.0.8'), 'no socket: never probe');
});

t.test('plan: dhcp.ping_check compiles to pingCheck', (t) => {
  t.same(planOf(minimalSite()).dhcp.pingCheck, { timeoutMs: 500 }, 'on by default, 500 ms');
  t.equal(planOf(minimalSite().replace('  pool: 10', '  ping_check: false\n  pool: 10')).dhcp.pingCheck, null, 'off');
  t.end();
});

t.test('ICMP echo: request bytes and reply parsing', (t) => {
  const req = echoRequest(0x1234, 0x0001);
  t.same(Array.from(req.subarray(0, 8)).map((b) => b.toString(16).padStart(2, '0')).join(''), '08000000123400010'.slice(0, 4) + hexChecksum(req) + '12340001', 'type 8 code 0, checksum, id, seq');
  // An echo reply as a raw socket reads it: 20-byte IPv4 header, then ICMP type 0.
  const ip = new Uint8Array(20 + 8);
  ip[0] = 0x45;
  ip[20] = 0;
  ip[24] = 0x12, ip[25] = 0x34, ip[26] = 0, ip[27] = 9;
  t.same(parseEchoReply(ip), { id: 0x1234, seq: 9 });
  ip[20] = 3;
  t.equal(parseEchoReply(ip), null, 'not an echo reply');
  t.equal(parseEchoReply(new Uint8Array(10)), null, 'short: null, no throw');
  t.end();
});

/** RFC 1071 computed independently: the one's-complement sum over the message with the checksum field zero. */
function hexChecksum(b: Uint8Array): string {
  const c = Uint8Array.from(b);
  c[2] = c[3] = 0;
  let sum = 0;
  for (let i = 0; i < c.length; i += 2) sum += (c[i]! << 8) + (c[i + 1] ?? 0);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return (~sum & 0xffff).toString(16).padStart(4, '0');
}
