// Several subnets behind relays (dhcp.scopes): which scope a message is for
// (giaddr, RFC 3527 link selection, RFC 3011 option 118, what Kea does), and
// that addresses, options and checks all come from that scope.
import t from 'tap';
import { Rfc2131, ZERO } from '../../src/dhcp/rfc2131.js';
import { LeaseTable } from '../../src/dhcp/lease-table.js';
import { MessageType, type DhcpMessage } from '../../src/wire/dhcp-message.js';
import type { ScopePlan } from '../../src/site/plan.js';
import { clientMessage } from '../helpers/relay-client.js';
import { ascii, enginePlan } from './fixtures/engine-plan.js';

const ip = (s: string) => new Uint8Array(s.split('.').map(Number));
const NOW = 1_800_000_000_000;

const first = enginePlan().scopes[0]!;
const vlan30: ScopePlan = {
  name: 'vlan30',
  subnet: { network: '10.30.0.0', prefix: 24, mask: '255.255.255.0', broadcast: '10.30.0.255' },
  pools: [{ start: '10.30.0.100', end: '10.30.0.101' }],
  reservations: [{ mac: '00:04:f2:00:00:31', ip: '10.30.0.50' }],
  leaseSeconds: 3600,
  renewSeconds: 1800,
  rebindSeconds: 3150,
  baseOptions: new Map([
    [1, ip('255.255.255.0')],
    [3, ip('10.30.0.1')],
    [15, ascii('vlan30.schertz.name')],
  ]),
};

function setup() {
  const p = enginePlan({ scopes: [first, vlan30] });
  const table = new LeaseTable(p);
  return { table, engine: new Rfc2131(p, table) };
}

function msg(type: number, mac: string, giaddr: string, o: { ciaddr?: string; options?: [number, Uint8Array][] } = {}): DhcpMessage {
  const m = clientMessage(type, mac, giaddr, o.options);
  m.ciaddr = o.ciaddr ?? ZERO;
  return m;
}

/** Option 82 with a circuit id (sub-option 1) and, when given, a link selection (sub-option 5). */
function rai(link?: string): [number, Uint8Array] {
  const circuit = [1, 6, ...ascii('vlan20')];
  return [82, new Uint8Array(link === undefined ? circuit : [...circuit, 5, 4, ...ip(link)])];
}

const router = (d: { reply?: { message: DhcpMessage } }) => [...(d.reply?.message.options.get(3) ?? [])].join('.');

t.test('giaddr picks the scope: its pool, router, domain and lease time', (t) => {
  const { engine } = setup();
  const a = engine.handle(msg(MessageType.DISCOVER, '00:11:22:33:44:01', '10.20.0.254'), 'relay-socket', NOW);
  t.equal(a.reply?.message.yiaddr, '10.20.0.100', 'first scope');
  t.equal(router(a), '10.20.0.1');
  const b = engine.handle(msg(MessageType.DISCOVER, '00:11:22:33:44:02', '10.30.0.1'), 'relay-socket', NOW);
  t.equal(b.reply?.message.yiaddr, '10.30.0.100', 'second scope, not "relay is not in subnet"');
  t.equal(router(b), '10.30.0.1', 'option 3 of the scope (the reply options are cached per scope)');
  t.equal(new TextDecoder().decode(b.reply!.message.options.get(15)), 'vlan30.schertz.name', 'option 15 of the scope');
  t.same([...b.reply!.message.options.get(51)!], [0, 0, 0x0e, 0x10], 'lease 3600 s of the scope');
  t.same(b.reply!.to, { address: '10.30.0.1', port: 67 }, 'to the relay');
  t.end();
});

t.test('RFC 3527 link selection (82.5) and RFC 3011 option 118 win over giaddr, 82.5 first', (t) => {
  const { engine } = setup();
  const viaLink = engine.handle(msg(MessageType.DISCOVER, '00:11:22:33:44:03', '10.20.0.254', { options: [rai('10.30.0.9')] }), 'relay-socket', NOW);
  t.equal(viaLink.reply?.message.yiaddr, '10.30.0.100', '82.5 names the second subnet');
  t.same(viaLink.reply!.to, { address: '10.20.0.254', port: 67 }, 'the reply still goes to giaddr');
  const via118 = engine.handle(msg(MessageType.DISCOVER, '00:11:22:33:44:04', '10.20.0.254', { options: [[118, ip('10.30.0.0')]] }), 'relay-socket', NOW);
  t.equal(via118.reply?.message.yiaddr, '10.30.0.101', '118 names the second subnet');
  const both = engine.handle(msg(MessageType.DISCOVER, '00:11:22:33:44:05', '10.30.0.1', { options: [rai('10.20.0.9'), [118, ip('10.30.0.0')]] }), 'relay-socket', NOW);
  t.equal(both.reply?.message.yiaddr, '10.20.0.100', '82.5 before 118');
  const plain82 = engine.handle(msg(MessageType.DISCOVER, '00:11:22:33:44:06', '10.20.0.254', { options: [rai()] }), 'relay-socket', NOW);
  t.equal(plain82.reply?.message.yiaddr, '10.20.0.101', 'option 82 without sub-option 5: giaddr');
  const elsewhere = engine.handle(msg(MessageType.DISCOVER, '00:11:22:33:44:07', '10.20.0.254', { options: [[118, ip('192.168.9.0')]] }), 'relay-socket', NOW);
  t.equal(elsewhere.kind, 'ignored');
  t.match(elsewhere.note, /names link 192\.168\.9\.0 \(option 118\), which is not in any subnet served \(10\.20\.0\.0\/24, 10\.30\.0\.0\/24\)/);
  const bad = engine.handle(msg(MessageType.DISCOVER, '00:11:22:33:44:08', '10.20.0.254', { options: [[82, new Uint8Array([5, 4, 10])]] }), 'relay-socket', NOW);
  t.equal(bad.reply?.message.yiaddr, '10.20.0.102', 'a cut sub-option 5 is no link selection: giaddr');
  t.end();
});

t.test('a relay at no scope\'s host address is refused, naming every subnet served', (t) => {
  const { engine } = setup();
  for (const giaddr of ['10.30.0.255', '10.30.0.0', '192.168.7.1']) {
    const d = engine.handle(msg(MessageType.DISCOVER, '00:11:22:33:44:09', giaddr), 'relay-socket', NOW);
    t.equal(d.kind, 'ignored', giaddr);
    t.notOk(d.reply);
    t.equal(d.note, `relay ${giaddr} is not a host address in any subnet served (10.20.0.0/24, 10.30.0.0/24)`);
  }
  const broadcastRelay = engine.handle(msg(MessageType.DISCOVER, '00:11:22:33:44:0a', '10.30.0.255', { options: [rai('10.20.0.9')] }), 'relay-socket', NOW);
  t.notOk(broadcastRelay.reply, 'a broadcast giaddr is refused with link selection too');
  t.end();
});

t.test('a client that moves to another scope gets an address of the new one; its old one is NAKed there', (t) => {
  const { table, engine } = setup();
  const mac = '00:11:22:33:44:0b';
  table.apply({ ip: '10.20.0.100', clientId: `mac:${mac}`, mac, state: 'bound', expiresAt: NOW + 3600_000, updatedAt: NOW });
  const o = engine.handle(msg(MessageType.DISCOVER, mac, '10.30.0.1', { options: [[50, ip('10.20.0.100')]] }), 'relay-socket', NOW);
  t.equal(o.reply?.message.yiaddr, '10.30.0.100', 'not its lease in the first scope');
  const reboot = engine.handle(msg(MessageType.REQUEST, mac, '10.30.0.1', { options: [[50, ip('10.20.0.100')]] }), 'relay-socket', NOW);
  t.equal(reboot.reply?.message.options.get(53)?.[0], MessageType.NAK, 'INIT-REBOOT for an address of another scope: NAK');
  t.equal(reboot.note, '10.20.0.100 is not on this network');
  const selecting = engine.handle(msg(MessageType.REQUEST, mac, '10.30.0.1', { options: [[54, ip('10.20.0.1')], [50, ip('10.20.0.101')]] }), 'relay-socket', NOW);
  t.equal(selecting.reply?.message.options.get(53)?.[0], MessageType.NAK, 'SELECTING an address of another scope: NAK');
  const ok = engine.handle(msg(MessageType.REQUEST, mac, '10.30.0.1', { options: [[54, ip('10.20.0.1')], [50, ip('10.30.0.100')]] }), 'relay-socket', NOW);
  t.equal(ok.reply?.message.options.get(53)?.[0], MessageType.ACK);
  t.equal(ok.commit?.expiresAt, NOW + 3600_000, 'the scope\'s lease time');
  t.end();
});

t.test('reservations and pool exhaustion stay within their scope', (t) => {
  const { engine, table } = setup();
  const reserved = '00:04:f2:00:00:31';
  t.equal(engine.handle(msg(MessageType.DISCOVER, reserved, '10.30.0.1'), 'relay-socket', NOW).reply?.message.yiaddr, '10.30.0.50', 'its reservation in its scope');
  t.equal(engine.handle(msg(MessageType.DISCOVER, reserved, '10.20.0.254'), 'relay-socket', NOW + 1).reply?.message.yiaddr, '10.20.0.100', 'a pool address in the other scope');
  // Leased, not only offered: an offer hold gives way when the pool is full.
  for (const m of ['00:11:22:33:44:0c', '00:11:22:33:44:0d']) {
    const ip = engine.handle(msg(MessageType.DISCOVER, m, '10.30.0.1'), 'relay-socket', NOW).reply!.message.yiaddr;
    table.apply({ ip, clientId: `mac:${m}`, mac: m, state: 'bound', expiresAt: NOW + 60_000, updatedAt: NOW });
  }
  const full = engine.handle(msg(MessageType.DISCOVER, '00:11:22:33:44:0e', '10.30.0.1'), 'relay-socket', NOW);
  t.notOk(full.reply, 'the second scope\'s two addresses are leased');
  t.equal(full.note, 'pool exhausted: no address to offer (2 in pool of 10.30.0.0/24)');
  t.equal(engine.handle(msg(MessageType.DISCOVER, '00:11:22:33:44:0e', '10.20.0.254'), 'relay-socket', NOW).reply?.message.yiaddr, '10.20.0.101', 'the first scope still has addresses');
  t.end();
});

t.test('INFORM: ciaddr checked against the selected scope, answered to ciaddr with its options', (t) => {
  const { engine } = setup();
  const vc: [number, Uint8Array] = [60, ascii('MS-UC-Client')];
  const d = engine.handle(msg(MessageType.INFORM, '00:04:f2:00:00:40', '10.30.0.1', { ciaddr: '10.30.0.77', options: [vc] }), 'relay-socket', NOW);
  t.same(d.reply?.to, { address: '10.30.0.77', port: 68 });
  t.ok(d.reply?.message.options.has(43) && d.reply.message.options.has(120), '43 and 120');
  t.equal(router(d), '10.30.0.1');
  const wrong = engine.handle(msg(MessageType.INFORM, '00:04:f2:00:00:41', '10.30.0.1', { ciaddr: '10.20.0.77', options: [vc] }), 'relay-socket', NOW);
  t.notOk(wrong.reply);
  t.equal(wrong.note, 'INFORM from 10.20.0.77, which is not a host address in subnet 10.30.0.0/24');
  // Unicast straight to the server (giaddr 0): the scope of ciaddr.
  const direct = engine.handle(msg(MessageType.INFORM, '00:04:f2:00:00:42', ZERO, { ciaddr: '10.30.0.78', options: [vc] }), 'relay-socket', NOW);
  t.equal(router(direct), '10.30.0.1', 'a routed client\'s own subnet');
  t.end();
});

t.test('NAK to a relayed-subnet client renewing by unicast goes to its ciaddr', (t) => {
  const { engine } = setup();
  const d = engine.handle(msg(MessageType.REQUEST, '00:11:22:33:44:0f', ZERO, { ciaddr: '10.30.0.60' }), 'relay-socket', NOW);
  t.equal(d.reply?.message.options.get(53)?.[0], MessageType.NAK, 'outside the pool');
  t.same(d.reply?.to, { address: '10.30.0.60', port: 68 }, 'where the client can hear it');
  t.end();
});
