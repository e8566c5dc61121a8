// RFC 2131 server decisions, without sockets: each case builds a client
// message, hands it to the engine, and checks the reply, its routing and
// the lease record that must be made durable.
import t from 'tap';
import { Rfc2131, encodeReply, BROADCAST, ZERO } from '../../src/dhcp/rfc2131.js';
import { LeaseTable } from '../../src/dhcp/lease-table.js';
import { ascii, enginePlan } from './fixtures/engine-plan.js';
import { emptyMessage, decodeDhcpMessage, MessageType, type DhcpMessage } from '../../src/wire/dhcp-message.js';


const plan = enginePlan;

let xid = 1;
function request(type: number, mac: string, opts: { ciaddr?: string; giaddr?: string; flags?: number; options?: [number, Uint8Array][] } = {}): DhcpMessage {
  const m = emptyMessage();
  m.op = 1;
  m.htype = 1;
  m.hlen = 6;
  m.xid = xid++;
  m.flags = opts.flags ?? 0;
  m.ciaddr = opts.ciaddr ?? ZERO;
  m.giaddr = opts.giaddr ?? ZERO;
  const chaddr = new Uint8Array(16);
  mac.split(':').forEach((h, i) => (chaddr[i] = parseInt(h, 16)));
  m.chaddr = chaddr;
  m.options.set(53, new Uint8Array([type]));
  for (const [code, v] of opts.options ?? []) m.options.set(code, v);
  return m;
}

const ip = (s: string) => new Uint8Array(s.split('.').map(Number));
const NOW = 1_800_000_000_000;

function setup(p = plan()) {
  const table = new LeaseTable(p);
  return { table, engine: new Rfc2131(p, table) };
}

t.test('DISCOVER -> OFFER -> REQUEST -> ACK, with lease times and class options', (t) => {
  const { table, engine } = setup();
  const vc: [number, Uint8Array] = [60, ascii('MS-UC-Client')];
  const offer = engine.handle(request(MessageType.DISCOVER, '00:11:22:33:44:55', { options: [vc, [55, new Uint8Array([1, 3, 43])]] }), 'interface', NOW);
  t.ok(offer.reply);
  const o = offer.reply!.message;
  t.equal(o.options.get(53)![0], MessageType.OFFER);
  t.equal(o.yiaddr, '10.20.0.100');
  t.equal(o.ciaddr, ZERO);
  t.same([...o.options.keys()].slice(0, 8), [53, 54, 51, 58, 59, 1, 3, 43], 'requested options first, in the order asked');
  t.ok(o.options.has(120), 'option 120 always sent to MS-UC-Client even when not requested');
  t.ok(o.options.has(15), 'unrequested configured options still sent');
  t.same(offer.reply!.to, { address: '10.20.0.100', port: 68, arp: { ip: '10.20.0.100', mac: '00:11:22:33:44:55' } }, 'unicast with ARP when no broadcast bit');
  t.notOk(offer.commit, 'an offer is not a lease');

  const ack = engine.handle(request(MessageType.REQUEST, '00:11:22:33:44:55', { options: [vc, [54, ip('10.20.0.1')], [50, ip('10.20.0.100')]] }), 'interface', NOW + 10);
  t.equal(ack.reply!.message.options.get(53)![0], MessageType.ACK);
  t.equal(ack.commit!.state, 'bound');
  t.equal(ack.commit!.expiresAt, NOW + 10 + 28800 * 1000);
  t.equal(ack.commit!.vendorClass, 'MS-UC-Client');
  t.same([...ack.reply!.message.options.get(51)!], [0, 0, 0x70, 0x80], 'lease 28800 s');
  table.apply(ack.commit!);
  t.equal(table.forClient('mac:00:11:22:33:44:55')!.ip, '10.20.0.100');
  t.end();
});

t.test('broadcast bit and relays route replies per RFC 2131 §4.1', (t) => {
  const { engine } = setup();
  const b = engine.handle(request(MessageType.DISCOVER, '00:11:22:33:44:01', { flags: 0x8000 }), 'interface', NOW);
  t.same(b.reply!.to, { address: BROADCAST, port: 68 });
  const r = engine.handle(request(MessageType.DISCOVER, '00:11:22:33:44:02', { giaddr: '10.20.0.254' }), 'relay-socket', NOW);
  t.same(r.reply!.to, { address: '10.20.0.254', port: 67 });
  t.equal(r.reply!.message.giaddr, '10.20.0.254');
  const foreign = engine.handle(request(MessageType.DISCOVER, '00:11:22:33:44:03', { giaddr: '192.168.7.1' }), 'relay-socket', NOW);
  t.notOk(foreign.reply, 'relay from another subnet is not served');
  const direct = engine.handle(request(MessageType.DISCOVER, '00:11:22:33:44:04'), 'relay-socket', NOW);
  t.notOk(direct.reply, 'relay-only socket never answers a direct broadcast');
  t.end();
});

t.test('INFORM: options only, no yiaddr, no lease time, unicast to ciaddr', (t) => {
  const { engine } = setup();
  const d = engine.handle(
    request(MessageType.INFORM, '00:04:f2:00:00:01', { ciaddr: '10.20.0.77', options: [[60, ascii('MS-UC-Client')], [55, new Uint8Array([43, 120])]] }),
    'interface',
    NOW,
  );
  const m = d.reply!.message;
  t.equal(m.options.get(53)![0], MessageType.ACK);
  t.equal(m.yiaddr, ZERO);
  t.equal(m.ciaddr, '10.20.0.77');
  t.notOk(m.options.has(51));
  t.notOk(m.options.has(58));
  t.notOk(m.options.has(59));
  t.same([...m.options.keys()].slice(0, 4), [53, 54, 43, 120]);
  t.same(d.reply!.to, { address: '10.20.0.77', port: 68 });
  t.notOk(d.commit, 'INFORM leases nothing');
  t.end();
});

t.test('class options only for the exact, case-sensitive vendor class', (t) => {
  const { engine } = setup();
  const d = engine.handle(request(MessageType.INFORM, '00:04:f2:00:00:02', { ciaddr: '10.20.0.78', options: [[60, ascii('ms-uc-client')]] }), 'interface', NOW);
  t.notOk(d.reply!.message.options.has(43));
  t.notOk(d.reply!.message.options.has(120));
  t.end();
});

t.test('REQUEST naming another server is ignored and frees the offer', (t) => {
  const { table, engine } = setup();
  engine.handle(request(MessageType.DISCOVER, '00:11:22:33:44:10'), 'interface', NOW);
  t.equal(table.heldFor('10.20.0.100', NOW), 'mac:00:11:22:33:44:10');
  const d = engine.handle(request(MessageType.REQUEST, '00:11:22:33:44:10', { options: [[54, ip('10.20.0.9')], [50, ip('10.20.0.100')]] }), 'interface', NOW);
  t.notOk(d.reply);
  t.equal(table.heldFor('10.20.0.100', NOW), undefined);
  t.end();
});

t.test('INIT-REBOOT: NAK a wrong network, NAK an address someone else holds, ACK a free one', (t) => {
  const { table, engine } = setup();
  const wrong = engine.handle(request(MessageType.REQUEST, '00:11:22:33:44:20', { options: [[50, ip('192.168.1.5')]] }), 'interface', NOW);
  t.equal(wrong.reply!.message.options.get(53)![0], MessageType.NAK);
  t.same(wrong.reply!.to, { address: BROADCAST, port: 68 });
  table.apply({ ip: '10.20.0.101', clientId: 'mac:aa:aa:aa:aa:aa:aa', mac: 'aa:aa:aa:aa:aa:aa', state: 'bound', expiresAt: NOW + 1000, updatedAt: NOW });
  const taken = engine.handle(request(MessageType.REQUEST, '00:11:22:33:44:20', { options: [[50, ip('10.20.0.101')]] }), 'interface', NOW);
  t.equal(taken.reply!.message.options.get(53)![0], MessageType.NAK);
  const free = engine.handle(request(MessageType.REQUEST, '00:11:22:33:44:20', { options: [[50, ip('10.20.0.102')]] }), 'interface', NOW);
  t.equal(free.reply!.message.options.get(53)![0], MessageType.ACK);
  t.equal(free.commit!.ip, '10.20.0.102');
  t.end();
});

t.test('RENEWING: unicast ACK to ciaddr extends the lease', (t) => {
  const { table, engine } = setup();
  table.apply({ ip: '10.20.0.100', clientId: 'mac:00:11:22:33:44:30', mac: '00:11:22:33:44:30', state: 'bound', expiresAt: NOW + 1000, updatedAt: NOW });
  const d = engine.handle(request(MessageType.REQUEST, '00:11:22:33:44:30', { ciaddr: '10.20.0.100' }), 'interface', NOW + 500);
  t.equal(d.reply!.message.options.get(53)![0], MessageType.ACK);
  t.equal(d.reply!.message.yiaddr, '10.20.0.100');
  t.same(d.reply!.to, { address: '10.20.0.100', port: 68 });
  t.equal(d.commit!.expiresAt, NOW + 500 + 28800 * 1000);
  t.end();
});

t.test('reservations win, and are never given to anyone else', (t) => {
  const p = plan({ pools: [{ start: '10.20.0.50', end: '10.20.0.51' }] });
  const { engine, table } = setup(p);
  const r = engine.handle(request(MessageType.DISCOVER, '00:04:f2:95:31:a2'), 'interface', NOW);
  t.equal(r.reply!.message.yiaddr, '10.20.0.50');
  const other = engine.handle(request(MessageType.DISCOVER, '00:11:22:33:44:40'), 'interface', NOW);
  t.equal(other.reply!.message.yiaddr, '10.20.0.51', 'pool skips the reserved address');
  const third = engine.handle(request(MessageType.DISCOVER, '00:11:22:33:44:41'), 'interface', NOW + 1);
  t.equal(third.reply!.message.yiaddr, '10.20.0.51', 'only offered: the hold gives way, never the reserved address');
  table.apply({ ip: '10.20.0.51', clientId: 'mac:00:11:22:33:44:41', mac: '00:11:22:33:44:41', state: 'bound', expiresAt: NOW + 60_000, updatedAt: NOW });
  const fourth = engine.handle(request(MessageType.DISCOVER, '00:11:22:33:44:42'), 'interface', NOW + 2);
  t.notOk(fourth.reply, 'pool full of leases');
  t.match(fourth.note, /pool exhausted/);
  t.end();
});

t.test('a full pool answers nothing at once, and expired leases are reused oldest first', (t) => {
  const { table, engine } = setup();
  const macs = ['00:00:00:00:00:01', '00:00:00:00:00:02', '00:00:00:00:00:03'];
  macs.forEach((mac, i) => table.apply({ ip: `10.20.0.10${i}`, clientId: `mac:${mac}`, mac, state: 'bound', expiresAt: NOW + 1000 * (i + 1), updatedAt: NOW + i }));
  const full = engine.handle(request(MessageType.DISCOVER, '00:00:00:00:00:09'), 'interface', NOW);
  t.notOk(full.reply);
  const later = engine.handle(request(MessageType.DISCOVER, '00:00:00:00:00:09'), 'interface', NOW + 2500);
  t.equal(later.reply!.message.yiaddr, '10.20.0.100', 'the two expired leases are candidates; the older one is reused');
  t.end();
});

t.test('DECLINE quarantines; RELEASE frees', (t) => {
  const { table, engine } = setup();
  table.apply({ ip: '10.20.0.100', clientId: 'mac:00:11:22:33:44:50', mac: '00:11:22:33:44:50', state: 'bound', expiresAt: NOW + 100000, updatedAt: NOW });
  const d = engine.handle(request(MessageType.DECLINE, '00:11:22:33:44:50', { options: [[50, ip('10.20.0.100')], [54, ip('10.20.0.1')]] }), 'interface', NOW);
  t.equal(d.commit!.state, 'declined');
  t.notOk(d.reply);
  table.apply(d.commit!);
  const next = engine.handle(request(MessageType.DISCOVER, '00:11:22:33:44:51'), 'interface', NOW);
  t.not(next.reply!.message.yiaddr, '10.20.0.100', 'declined address not offered');

  table.apply({ ip: '10.20.0.101', clientId: 'mac:00:11:22:33:44:52', mac: '00:11:22:33:44:52', state: 'bound', expiresAt: NOW + 100000, updatedAt: NOW });
  const rel = engine.handle(request(MessageType.RELEASE, '00:11:22:33:44:52', { ciaddr: '10.20.0.101' }), 'interface', NOW);
  t.equal(rel.commit!.state, 'released');
  const spoof = engine.handle(request(MessageType.RELEASE, '00:11:22:33:44:99', { ciaddr: '10.20.0.100' }), 'interface', NOW);
  t.notOk(spoof.commit, 'a client cannot release another client\'s lease');
  t.end();
});

t.test('client identity: option 61 beats chaddr', (t) => {
  const { engine } = setup();
  const d = engine.handle(request(MessageType.DISCOVER, '00:11:22:33:44:60', { options: [[61, new Uint8Array([1, 0xde, 0xad, 0xbe, 0xef, 0, 1])]] }), 'interface', NOW);
  t.equal(d.clientId, '01deadbeef0001');
  t.end();
});

t.test('non-requests and messages without a type are ignored', (t) => {
  const { engine } = setup();
  const m = request(MessageType.OFFER, '00:11:22:33:44:70');
  t.equal(engine.handle(m, 'interface', NOW).kind, 'ignored');
  const bootp = request(MessageType.DISCOVER, '00:11:22:33:44:71');
  bootp.options.delete(53);
  t.equal(engine.handle(bootp, 'interface', NOW).kind, 'ignored');
  const reply = request(MessageType.DISCOVER, '00:11:22:33:44:72');
  reply.op = 2;
  t.equal(engine.handle(reply, 'interface', NOW).kind, 'ignored');
  t.end();
});

t.test('encodeReply trims unrequested options to fit the size limit', (t) => {
  const { engine } = setup(plan({ baseOptions: new Map([[1, new Uint8Array([255, 255, 255, 0])], [252, new Uint8Array(250)], [253, new Uint8Array(250)]]) }));
  const d = engine.handle(request(MessageType.INFORM, '00:11:22:33:44:80', { ciaddr: '10.20.0.80', options: [[55, new Uint8Array([1, 252])]] }), 'interface', NOW);
  const enc = encodeReply({ message: d.reply!.message, maxSize: 548 }, [1, 252]);
  t.ok('bytes' in enc);
  if ('bytes' in enc) {
    t.ok(enc.bytes.length <= 548);
    t.same(enc.dropped, [253], 'the unrequested option goes first');
    const back = decodeDhcpMessage(enc.bytes);
    t.ok(back.ok && back.value.options.has(252));
  }
  t.end();
});

// Issue 17/20: what a relay (ISC dhcrelay, Cisco ip helper-address) needs of the server.
t.test('relayed INFORM: the ACK goes to ciaddr:68 (RFC 2131 §4.3.5), as Kea and dhcpd send it', (t) => {
  const { engine } = setup();
  const d = engine.handle(request(MessageType.INFORM, '00:04:f2:00:00:17', { ciaddr: '10.20.0.77', giaddr: '10.20.0.254', options: [[60, ascii('MS-UC-Client')]] }), 'relay-socket', NOW);
  t.same(d.reply!.to, { address: '10.20.0.77', port: 68 }, 'not to the relay: dhcrelay would forward it to yiaddr 0.0.0.0');
  t.equal(d.reply!.message.giaddr, '10.20.0.254', 'giaddr echoed (RFC 2131 table 3)');
  const noCiaddr = engine.handle(request(MessageType.INFORM, '00:04:f2:00:00:18', { giaddr: '10.20.0.254' }), 'relay-socket', NOW);
  t.same(noCiaddr.reply!.to, { address: '10.20.0.254', port: 67 }, 'an INFORM without ciaddr can only go back through the relay');
  t.end();
});

t.test('never answer to a broadcast/network giaddr or to an INFORM ciaddr outside the subnet', (t) => {
  const { engine } = setup();
  for (const giaddr of ['10.20.0.255', '10.20.0.0']) {
    const d = engine.handle(request(MessageType.DISCOVER, '00:11:22:33:44:a0', { giaddr }), 'relay-socket', NOW);
    t.notOk(d.reply, `no reply to giaddr ${giaddr} (every host on the VLAN would get it)`);
    t.match(d.note, /not a host address/);
  }
  for (const ciaddr of ['192.0.2.9', '10.20.0.255']) {
    const d = engine.handle(request(MessageType.INFORM, '00:11:22:33:44:a1', { ciaddr, options: [[55, new Uint8Array([1, 43])]] }), 'interface', NOW);
    t.notOk(d.reply, `no INFORM ACK sent to ${ciaddr}`);
    const relayed = engine.handle(request(MessageType.INFORM, '00:11:22:33:44:a1', { ciaddr, giaddr: '10.20.0.254' }), 'relay-socket', NOW);
    t.notOk(relayed.reply, `no relayed INFORM ACK sent to ${ciaddr}`);
  }
  t.end();
});

t.test('RELEASE naming another server is ignored (RFC 2131 table 5; Kea and dnsmasq ignore it)', (t) => {
  const { table, engine } = setup();
  table.apply({ ip: '10.20.0.105', clientId: 'mac:00:11:22:33:44:b0', mac: '00:11:22:33:44:b0', state: 'bound', expiresAt: NOW + 100000, updatedAt: NOW });
  const other = engine.handle(request(MessageType.RELEASE, '00:11:22:33:44:b0', { ciaddr: '10.20.0.105', options: [[54, ip('10.20.0.2')]] }), 'interface', NOW);
  t.notOk(other.commit, 'the lease stays bound');
  t.match(other.note, /server 10\.20\.0\.2/);
  const ours = engine.handle(request(MessageType.RELEASE, '00:11:22:33:44:b0', { ciaddr: '10.20.0.105', options: [[54, ip('10.20.0.1')]] }), 'interface', NOW);
  t.equal(ours.commit!.state, 'released');
  t.end();
});

t.test('options 82 (RFC 3046 §2.2) and 61 (RFC 6842 §3) come back unaltered in OFFER, ACK, NAK and INFORM ACK', (t) => {
  const { engine } = setup();
  // dhcrelay -a: agent circuit id (sub-option 1) = interface name, remote id (2) = MAC.
  const o82 = new Uint8Array([1, 4, 0x76, 0x65, 0x74, 0x68, 2, 6, 0x02, 0, 0, 0, 0, 0x17]);
  const o61 = new Uint8Array([1, 0x00, 0x11, 0x22, 0x33, 0x44, 0xc0]);
  const decoded = (reply: NonNullable<ReturnType<typeof engine.handle>['reply']>) => {
    const e = encodeReply(reply, []);
    if ('error' in e) throw new Error(e.error);
    const m = decodeDhcpMessage(e.bytes);
    if (!m.ok) throw new Error('undecodable');
    return { m: m.value, sent: e.sent, bytes: e.bytes };
  };
  const both: [number, Uint8Array][] = [[61, o61], [82, o82]];
  const offer = engine.handle(request(MessageType.DISCOVER, '00:11:22:33:44:c0', { giaddr: '10.20.0.254', options: both }), 'relay-socket', NOW);
  const o = decoded(offer.reply!);
  t.same([...o.m.options.get(82)!], [...o82], 'OFFER echoes 82');
  t.same([...o.m.options.get(61)!], [...o61], 'OFFER echoes 61');
  t.same(o.sent.slice(-2), [61, 82], 'logged as sent');
  t.notOk(offer.reply!.message.options.has(82), 'the shared options map is not touched');
  // The option area, read by hand: ... 61 7 <id> 82 14 <info> 255 (RFC 2132 §2 layout).
  const end = o.bytes.lastIndexOf(0xff); // only zero padding follows the end option
  t.same([...o.bytes.subarray(end - 16, end + 1)], [82, 14, ...o82, 255], '82 is the last option before the end');
  const ack = engine.handle(request(MessageType.REQUEST, '00:11:22:33:44:c0', { giaddr: '10.20.0.254', options: [...both, [54, ip('10.20.0.1')], [50, ip(o.m.yiaddr)]] }), 'relay-socket', NOW);
  t.same([...decoded(ack.reply!).m.options.get(82)!], [...o82], 'ACK echoes 82');
  const nak = engine.handle(request(MessageType.REQUEST, '00:11:22:33:44:c1', { giaddr: '10.20.0.254', options: [[82, o82], [50, ip('192.0.2.5')]] }), 'relay-socket', NOW);
  t.equal(nak.reply!.message.options.get(53)![0], MessageType.NAK);
  t.same([...decoded(nak.reply!).m.options.get(82)!], [...o82], 'NAK echoes 82');
  const inform = engine.handle(request(MessageType.INFORM, '00:11:22:33:44:c2', { ciaddr: '10.20.0.60', giaddr: '10.20.0.254', options: [[82, o82]] }), 'relay-socket', NOW);
  t.same([...decoded(inform.reply!).m.options.get(82)!], [...o82], 'INFORM ACK echoes 82');
  // A small maximum size forces the encoder's path (no template): 82 still last, never trimmed.
  const tight = engine.handle(request(MessageType.DISCOVER, '00:11:22:33:44:c3', { giaddr: '10.20.0.254', options: [[82, o82], [57, new Uint8Array([0x01, 0x2c])]] }), 'relay-socket', NOW);
  const tm = decoded(tight.reply!);
  t.ok(tm.m.options.has(82), '82 kept when options are dropped to fit 300 bytes');
  t.end();
});

t.test('NAK to a unicast RENEW goes to ciaddr (the client may sit behind a router); a foreign ciaddr gets the broadcast', (t) => {
  const { engine, table } = setup();
  table.apply({ ip: '10.20.0.110', clientId: 'mac:00:11:22:33:44:d0', mac: '00:11:22:33:44:d0', state: 'bound', expiresAt: NOW + 100000, updatedAt: NOW });
  const renew = engine.handle(request(MessageType.REQUEST, '00:11:22:33:44:d1', { ciaddr: '10.20.0.110' }), 'relay-socket', NOW);
  t.equal(renew.reply!.message.options.get(53)![0], MessageType.NAK);
  t.same(renew.reply!.to, { address: '10.20.0.110', port: 68 });
  const moved = engine.handle(request(MessageType.REQUEST, '00:11:22:33:44:d2', { options: [[50, ip('192.0.2.5')]] }), 'interface', NOW);
  t.same(moved.reply!.to, { address: BROADCAST, port: 68 });
  t.end();
});

t.test('a reservation added for an address another client holds: the reserved phone gets a pool address until then, the holder a NAK at renewal (Kea)', (t) => {
  const { engine, table } = setup();
  // cx600-lobby (00:04:f2:95:31:a2) is reserved 10.20.0.50, which another client leased before the reservation was added.
  table.apply({ ip: '10.20.0.50', clientId: 'mac:00:11:22:33:44:e0', mac: '00:11:22:33:44:e0', state: 'bound', expiresAt: NOW + 100000, updatedAt: NOW - 1000 });
  const offer = engine.handle(request(MessageType.DISCOVER, '00:04:f2:95:31:a2'), 'interface', NOW);
  t.ok(offer.reply, 'the reserved phone is offered an address (was: nothing, "pool exhausted")');
  const offered = offer.reply!.message.yiaddr;
  t.not(offered, '10.20.0.50');
  t.ok(table.inPool(offered), 'from the pool');
  t.match(offer.note, /reserved address 10\.20\.0\.50 is still held/);
  const ack = engine.handle(request(MessageType.REQUEST, '00:04:f2:95:31:a2', { options: [[54, ip('10.20.0.1')], [50, ip(offered)]] }), 'interface', NOW + 10);
  t.equal(ack.reply!.message.options.get(53)![0], MessageType.ACK, 'and may take it');
  table.apply(ack.commit!);
  const renew = engine.handle(request(MessageType.REQUEST, '00:11:22:33:44:e0', { ciaddr: '10.20.0.50' }), 'interface', NOW + 20);
  t.equal(renew.reply!.message.options.get(53)![0], MessageType.NAK, 'the old holder is NAKed at renewal');
  t.end();
});

t.test('DISCOVERs from random MACs that never REQUEST cannot starve a phone: the oldest offer hold gives way', (t) => {
  const { table, engine } = setup(plan({ pools: [{ start: '10.20.0.100', end: '10.20.0.199' }] }));
  // 150 flooders at 10/s (more than pool ÷ 30 s): every address is held by one that will never REQUEST.
  let now = NOW;
  const flooder = (i: number) => `02:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
  for (let i = 0; i < 150; i++, now += 100) engine.handle(request(MessageType.DISCOVER, flooder(i)), 'interface', now);
  const phone = '00:04:f2:aa:bb:cc';
  const offer = engine.handle(request(MessageType.DISCOVER, phone), 'interface', now);
  t.ok(offer.reply, 'the phone is offered an address');
  const yiaddr = offer.reply!.message.yiaddr;
  // The flood goes on between OFFER and REQUEST.
  engine.handle(request(MessageType.DISCOVER, flooder(150)), 'interface', now + 1);
  const ack = engine.handle(request(MessageType.REQUEST, phone, { options: [[54, ip('10.20.0.1')], [50, ip(yiaddr)]] }), 'interface', now + 2);
  t.equal(ack.reply?.message.options.get(53)?.[0], MessageType.ACK, 'and gets it');
  table.apply(ack.commit!);
  t.equal(table.forClient(`mac:${phone}`)?.ip, yiaddr);
  t.end();
});
