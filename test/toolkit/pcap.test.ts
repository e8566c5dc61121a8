// The capture readers against files written by dumpcap, editcap and text2pcap
// (test/toolkit/fixtures/README.md), checked frame by frame against tshark's
// own reading of the same files; and against hand-built files for the edges.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeDhcpMessage } from '../../src/wire/dhcp-message.js';
import { frameTime, LINKTYPE, readCapture, udpOf, type Capture } from '../../src/toolkit/pcap.js';
import { which } from '../helpers/netns.js';
import { ipUdp, pcap } from '../helpers/capture-files.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const load = (name: string): Capture => {
  const r = readCapture(readFileSync(join(FIXTURES, name)));
  if (!r.ok) throw new Error(`${name}: ${r.error.message}`);
  return r.value;
};

const FILES: [string, 'pcap' | 'pcapng', number][] = [
  ['provlab-udhcpc.pcapng', 'pcapng', LINKTYPE.ETHERNET],
  ['provlab-udhcpc.nsec.pcap', 'pcap', LINKTYPE.ETHERNET],
  ['provlab-udhcpc.be.pcap', 'pcap', LINKTYPE.ETHERNET],
  ['provlab-udhcpc.rawip.pcap', 'pcap', LINKTYPE.RAW],
  ['provlab-udhcpc.spb.pcapng', 'pcapng', LINKTYPE.ETHERNET],
  ['provlab-vlan100-inform.pcap', 'pcap', LINKTYPE.ETHERNET],
  ['dnsmasq-unquoted-port.pcap', 'pcap', LINKTYPE.LINUX_SLL],
  ['dnsmasq-quoted-port.pcapng', 'pcapng', LINKTYPE.LINUX_SLL2],
];

t.test('every fixture reads, with the expected format and link type', async (t) => {
  for (const [name, format, linkType] of FILES) {
    const c = load(name);
    t.equal(c.format, format, `${name}: ${format}`);
    t.ok(c.frames.length > 0, `${name}: has frames`);
    t.ok(c.frames.every((f) => f.linkType === linkType), `${name}: link type ${linkType}`);
    for (const f of c.frames) {
      const u = udpOf(f);
      t.ok(u.ok, `${name} #${f.number}: UDP found`);
      if (!u.ok) continue;
      t.ok([67, 68].includes(u.value.srcPort) && [67, 68].includes(u.value.dstPort), `${name} #${f.number}: DHCP ports`);
      t.ok(decodeDhcpMessage(u.value.payload).ok, `${name} #${f.number}: a DHCP message`);
    }
  }
});

t.test('the same exchange in five encodings reads the same', async (t) => {
  const base = load('provlab-udhcpc.pcapng');
  const payloads = (c: Capture) => c.frames.map((f) => {
    const u = udpOf(f);
    return u.ok ? Buffer.from(u.value.payload).toString('hex') : '';
  });
  for (const name of ['provlab-udhcpc.nsec.pcap', 'provlab-udhcpc.be.pcap', 'provlab-udhcpc.rawip.pcap', 'provlab-udhcpc.spb.pcapng']) {
    t.same(payloads(load(name)), payloads(base), `${name}: same UDP payloads`);
  }
  const times = (c: Capture) => c.frames.map((f) => [f.sec, f.nsec]);
  const micro = (c: Capture) => c.frames.map((f) => [f.sec, Math.floor(f.nsec / 1000) * 1000]);
  t.same(times(load('provlab-udhcpc.be.pcap')), micro(base), 'big-endian microsecond pcap: same times, to the microsecond');
  t.same(times(load('provlab-udhcpc.nsec.pcap')), times(base), 'nanosecond pcap: same times');
  t.ok(load('provlab-udhcpc.spb.pcapng').frames.every((f) => f.sec === 0 && f.nsec === 0), 'simple packet blocks carry no time');
  t.match(load('provlab-udhcpc.spb.pcapng').notes.join(' '), /no timestamp/);
});

const tsharkSkip = which('tshark') ? false : process.env.CI === 'true' ? (t.fail('CI=true and tshark is missing'), false) : 'tshark is not installed';

t.test('frame by frame as tshark reads them', { skip: tsharkSkip }, async (t) => {
  for (const [name] of FILES) {
    const out = execFileSync('tshark', ['-r', join(FIXTURES, name), '-T', 'fields', '-E', 'separator=|', '-e', 'frame.number', '-e', 'frame.time_epoch', '-e', 'vlan.id', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'udp.srcport', '-e', 'udp.dstport', '-e', 'dhcp.id'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const rows = out.trim().split('\n').map((l) => l.split('|'));
    const c = load(name);
    t.equal(c.frames.length, rows.length, `${name}: ${rows.length} frames`);
    for (const [i, f] of c.frames.entries()) {
      const [num, epoch, vlan, src, dst, sport, dport, xid] = rows[i]!;
      const u = udpOf(f);
      if (!u.ok) {
        t.fail(`${name} #${num}: ${u.error.message}`);
        continue;
      }
      const m = decodeDhcpMessage(u.value.payload);
      const ours = [String(f.number), epoch === '' ? '' : `${f.sec}.${String(f.nsec).padStart(9, '0')}`, u.value.vlans.join(','), u.value.src, u.value.dst, String(u.value.srcPort), String(u.value.dstPort), m.ok ? `0x${m.value.xid.toString(16).padStart(8, '0')}` : ''];
      t.same(ours, [num, epoch, vlan, src, dst, sport, dport, xid], `${name} #${num}`);
    }
  }
});

t.test('802.1Q: the staging VLAN ID and priority bits', async (t) => {
  const c = load('provlab-vlan100-inform.pcap');
  for (const f of c.frames) {
    const u = udpOf(f);
    t.same(u.ok && u.value.vlans, [100], `#${f.number}: VLAN 100 (priority bits ignored)`);
  }
});

// ------------------------------------------------------------ hand-built files
// (pcap() and ipUdp(): test/helpers/capture-files.ts)

const ether = (type: number, body: Buffer, tags: [number, number][] = []) =>
  Buffer.concat([Buffer.alloc(12, 0x02), ...tags.map(([tpid, tci]) => Buffer.from([tpid >> 8, tpid & 0xff, tci >> 8, tci & 0xff])), Buffer.from([type >> 8, type & 0xff]), body]);

t.test('link layers: QinQ, SLL, SLL2, raw, loopback, and what is skipped', async (t) => {
  const ip = ipUdp(Buffer.from('hello'));
  const one = (linkType: number, frame: Buffer) => {
    const c = readCapture(pcap(linkType, [frame]));
    if (!c.ok) throw new Error(c.error.message);
    return udpOf(c.value.frames[0]!);
  };
  const qinq = one(1, ether(0x0800, ip, [[0x88a8, 200], [0x8100, (3 << 13) | 100]]));
  t.same(qinq.ok && qinq.value.vlans, [200, 100], '802.1ad outer, 802.1Q inner');
  const sll = Buffer.concat([Buffer.alloc(14), Buffer.from([0x08, 0x00]), ip]);
  t.same(one(113, sll).ok && (one(113, sll) as { value: { src: string } }).value.src, '10.0.0.1', 'Linux cooked');
  const sll2 = Buffer.concat([Buffer.from([0x08, 0x00]), Buffer.alloc(18), ip]);
  t.ok(one(276, sll2).ok, 'Linux cooked v2');
  t.ok(one(101, ip).ok, 'raw IP');
  t.ok(one(228, ip).ok, 'LINKTYPE_IPV4');
  t.ok(one(0, Buffer.concat([Buffer.from([2, 0, 0, 0]), ip])).ok, 'BSD loopback, little-endian host');
  t.ok(one(0, Buffer.concat([Buffer.from([0, 0, 0, 2]), ip])).ok, 'BSD loopback, big-endian host');
  const why = (linkType: number, frame: Buffer) => {
    const r = one(linkType, frame);
    return r.ok ? 'ok' : r.error.code;
  };
  t.equal(why(1, ether(0x86dd, ip)), 'not-ipv4');
  t.equal(why(1, ether(0x0800, ipUdp(Buffer.alloc(4), 67, 68, 6))), 'not-udp');
  t.equal(why(1, ether(0x0800, ipUdp(Buffer.alloc(4), 67, 68, 17, 0x2000))), 'fragment');
  t.equal(why(1, Buffer.alloc(10)), 'truncated');
  t.equal(why(1, ether(0x8100, Buffer.alloc(2))), 'truncated', 'VLAN tag cut short');
  t.equal(why(105, ip), 'unsupported-link', '802.11');
  // A snap length shorter than the datagram: the payload is what was captured.
  const cut = one(101, ip.subarray(0, ip.length - 2));
  t.ok(cut.ok && cut.value.truncated && Buffer.from(cut.value.payload).toString() === 'hel');
});

t.test('classic pcap edges', async (t) => {
  const ip = ipUdp(Buffer.from('x'));
  const be = readCapture(pcap(101, [ip, ip], false));
  t.ok(be.ok && be.value.frames.length === 2 && be.value.frames[1]!.sec === 1700000001 && be.value.frames[1]!.nsec === 250000000, 'big-endian header and records');
  const whole = pcap(101, [ip, ip]);
  const cutRecord = readCapture(whole.subarray(0, whole.length - 3));
  t.ok(cutRecord.ok && cutRecord.value.frames.length === 1, 'a cut last record keeps the frames before it');
  t.match(cutRecord.ok && cutRecord.value.notes.join(), /declares/);
  const cutHeader = readCapture(whole.subarray(0, 24 + 16 + ip.length + 5));
  t.match(cutHeader.ok && cutHeader.value.notes.join(), /record header is cut short/);
  const code = (b: Uint8Array) => {
    const r = readCapture(b);
    return r.ok ? 'ok' : r.error.code;
  };
  t.equal(code(Buffer.from('hi')), 'not-a-capture');
  t.equal(code(Buffer.from('this is a text file, not a capture')), 'not-a-capture');
  t.equal(code(whole.subarray(0, 10)), 'truncated');
  t.equal(code(Buffer.from([0xa1, 0xb2, 0xcd, 0x34, 0, 0, 0, 0])), 'unsupported');
  t.equal(frameTime({ sec: 0, nsec: 1500 }), '1970-01-01T00:00:00.000001Z');
});

/** A pcapng block: type, total length, body padded to 4, total length again. */
function block(type: number, body: Buffer, little = true): Buffer {
  const pad = Buffer.alloc((4 - (body.length % 4)) % 4);
  const total = 12 + body.length + pad.length;
  const h = Buffer.alloc(8);
  const t2 = Buffer.alloc(4);
  if (little) {
    h.writeUInt32LE(type, 0);
    h.writeUInt32LE(total, 4);
    t2.writeUInt32LE(total, 0);
  } else {
    h.writeUInt32BE(type, 0);
    h.writeUInt32BE(total, 4);
    t2.writeUInt32BE(total, 0);
  }
  return Buffer.concat([h, body, pad, t2]);
}

function pcapng(little: boolean, tsresol: number | undefined, packets: { ts: bigint; data: Buffer }[], extra: Buffer[] = []): Buffer {
  const u16 = (v: number) => {
    const b = Buffer.alloc(2);
    little ? b.writeUInt16LE(v) : b.writeUInt16BE(v);
    return b;
  };
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    little ? b.writeUInt32LE(v) : b.writeUInt32BE(v);
    return b;
  };
  const shb = block(0x0a0d0d0a, Buffer.concat([u32(0x1a2b3c4d), u16(1), u16(0), Buffer.alloc(8, 0xff)]), little);
  const options = tsresol === undefined ? Buffer.alloc(0) : Buffer.concat([u16(9), u16(1), Buffer.from([tsresol, 0, 0, 0]), u16(0), u16(0)]);
  const idb = block(1, Buffer.concat([u16(101), u16(0), u32(0), options]), little);
  const epbs = packets.map((p) => block(6, Buffer.concat([u32(0), u32(Number(p.ts >> 32n)), u32(Number(p.ts & 0xffffffffn)), u32(p.data.length), u32(p.data.length), p.data]), little));
  return Buffer.concat([shb, idb, ...extra, ...epbs]);
}

t.test('pcapng edges: byte order, if_tsresol, unknown blocks, cut files', async (t) => {
  const ip = ipUdp(Buffer.from('dhcp'));
  const us = 1700000000n * 1_000_000n + 123456n;
  for (const little of [true, false]) {
    const r = readCapture(pcapng(little, undefined, [{ ts: us, data: ip }]));
    t.ok(r.ok, `${little ? 'little' : 'big'}-endian section`);
    if (r.ok) t.same([r.value.frames[0]!.sec, r.value.frames[0]!.nsec], [1700000000, 123456000], 'default resolution is microseconds');
  }
  const ns = readCapture(pcapng(true, 9, [{ ts: 1700000000n * 1_000_000_000n + 987654321n, data: ip }]));
  t.same(ns.ok && [ns.value.frames[0]!.sec, ns.value.frames[0]!.nsec], [1700000000, 987654321], 'if_tsresol 9: nanoseconds');
  const pow2 = readCapture(pcapng(true, 0x80 | 10, [{ ts: 1024n * 5n + 512n, data: ip }]));
  t.same(pow2.ok && [pow2.value.frames[0]!.sec, pow2.value.frames[0]!.nsec], [5, 500000000], 'if_tsresol 2^-10');
  const withUnknown = readCapture(pcapng(true, undefined, [{ ts: us, data: ip }], [block(0x0bad, Buffer.alloc(8)), block(5, Buffer.alloc(12))]));
  t.ok(withUnknown.ok && withUnknown.value.frames.length === 1);
  t.match(withUnknown.ok && withUnknown.value.notes.join(), /skipped 1 custom block/);
  t.notMatch(withUnknown.ok && withUnknown.value.notes.join(), /statistics/, 'interface statistics are normal, not noted');
  const whole = pcapng(true, undefined, [{ ts: us, data: ip }, { ts: us, data: ip }]);
  const cut = readCapture(whole.subarray(0, whole.length - 10));
  t.ok(cut.ok && cut.value.frames.length === 1, 'a cut last block keeps the frames before it');
  const code = (b: Buffer) => {
    const r = readCapture(b);
    return r.ok ? 'ok' : r.error.code;
  };
  const bad = Buffer.from(whole);
  bad.writeUInt32LE(13, 4);
  t.equal(code(bad), 'bad-block', 'block length not a multiple of 4');
  const noIdb = Buffer.concat([whole.subarray(0, 28), whole.subarray(28 + 20)]);
  t.equal(code(noIdb), 'bad-block', 'packet before any interface block');
  const noBom = Buffer.from(whole);
  noBom.writeUInt32LE(0, 8);
  t.equal(code(noBom), 'bad-block');
});
