// DNS message codec. Independent sources only: dig/kdig queries and dnsmasq
// 2.90 answers captured on loopback and decoded by tshark
// (fixtures/dns/capture.mjs made dns-captures.pcap and .json), the RFC 1035 /
// 2782 / 6891 layouts written out by hand, and tshark decoding what we encode.
import t from 'tap';
import fc from 'fast-check';
import { readFileSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DnsType,
  MessageWriter,
  decodeHeader,
  decodeDnsAnswers,
  decodeDnsMessage,
  encodeDnsMessage,
  encodeDnsQuery,
  fullRcode,
  typeName,
  type DnsMessage,
  type RecordData,
  type ResourceRecord,
} from '../../src/wire/dns-message.js';
import { formatIPv6, parseIPv6 } from '../../src/wire/ipv6.js';

type Tap = Parameters<Parameters<typeof t.test>[0]>[0];
const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/[\s:]/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

interface Captured {
  transport: 'udp' | 'tcp';
  hex: string;
  tshark: Record<string, string[]>;
}
const CAPTURES = (JSON.parse(readFileSync(new URL('./fixtures/dns/dns-captures.json', import.meta.url), 'utf8')) as { messages: Captured[] }).messages;
const field = (c: Captured, f: string): string[] => c.tshark[f] ?? [];
const num = (s: string) => (s.startsWith('0x') ? parseInt(s, 16) : Number(s));

function decoded(c: Captured): DnsMessage {
  const r = decodeDnsMessage(hex(c.hex));
  if (!r.ok) throw new Error(`${c.hex}: ${r.error.code} ${r.error.message}`);
  return r.value;
}

/** Names folded to lower case: compression points answers at the question, so they read back in its case. */
const folded = (m: DnsMessage): unknown =>
  JSON.parse(JSON.stringify(m, (k, v: unknown) => (typeof v === 'string' && ['name', 'target', 'mname', 'rname'].includes(k) ? v.toLowerCase() : v)));

const records = (m: DnsMessage) => [...m.answers, ...m.authorities, ...m.additionals];
const ofType = <K extends RecordData['type']>(m: DnsMessage, type: K) =>
  records(m)
    .map((r) => r.data)
    .filter((d): d is Extract<RecordData, { type: K }> => d.type === type);

/** What tshark says about a message, in the shape our decoder gives, for every field the fixture has. */
function compareWithTshark(t: Tap, m: DnsMessage, c: Captured, what: string): void {
  const h = m.header;
  t.equal(h.id, num(field(c, 'dns.id')[0]!), `${what}: id`);
  t.equal(h.qr, field(c, 'dns.flags.response')[0] === '1', `${what}: qr`);
  t.equal(h.opcode, num(field(c, 'dns.flags.opcode')[0]!), `${what}: opcode`);
  t.equal(h.rd, field(c, 'dns.flags.recdesired')[0] === '1', `${what}: rd`);
  if (h.qr) {
    t.equal(h.aa, field(c, 'dns.flags.authoritative')[0] === '1', `${what}: aa`);
    t.equal(h.tc, field(c, 'dns.flags.truncated')[0] === '1', `${what}: tc`);
    t.equal(h.rcode, num(field(c, 'dns.flags.rcode')[0]!), `${what}: rcode`);
  }
  t.same(
    m.questions.map((q) => [q.name, q.type, q.class]),
    field(c, 'dns.qry.name').map((n, i) => [n, num(field(c, 'dns.qry.type')[i]!), num(field(c, 'dns.qry.class')[i]!)]),
    `${what}: questions`,
  );
  t.equal(m.answers.length, num(field(c, 'dns.count.answers')[0]!), `${what}: answer count`);
  t.equal(m.authorities.length, num(field(c, 'dns.count.auth_rr')[0]!), `${what}: authority count`);
  t.equal(m.additionals.length + (m.edns ? 1 : 0), num(field(c, 'dns.count.add_rr')[0]!), `${what}: additional count`);
  t.same(ofType(m, 'A').map((d) => d.address), field(c, 'dns.a'), `${what}: A`);
  t.same(ofType(m, 'AAAA').map((d) => d.address), field(c, 'dns.aaaa'), `${what}: AAAA`);
  t.same(ofType(m, 'CNAME').map((d) => d.target), field(c, 'dns.cname'), `${what}: CNAME`);
  t.same(ofType(m, 'NS').map((d) => d.target), field(c, 'dns.ns'), `${what}: NS`);
  t.same(ofType(m, 'PTR').map((d) => d.target), field(c, 'dns.ptr.domain_name'), `${what}: PTR`);
  t.same(ofType(m, 'TXT').flatMap((d) => d.strings), field(c, 'dns.txt'), `${what}: TXT`);
  t.same(
    ofType(m, 'SRV').map((d) => [d.priority, d.weight, d.port, d.target]),
    field(c, 'dns.srv.target').map((target, i) => [num(field(c, 'dns.srv.priority')[i]!), num(field(c, 'dns.srv.weight')[i]!), num(field(c, 'dns.srv.port')[i]!), target]),
    `${what}: SRV`,
  );
  t.same(
    ofType(m, 'SOA').map((d) => [d.mname, d.rname, d.serial, d.refresh, d.retry, d.expire, d.minimum]),
    field(c, 'dns.soa.mname').map((mname, i) => [
      mname,
      field(c, 'dns.soa.rname')[i],
      ...['serial_number', 'refresh_interval', 'retry_interval', 'expire_limit', 'minimum_ttl'].map((f) => num(field(c, `dns.soa.${f}`)[i]!)),
    ]),
    `${what}: SOA`,
  );
  // TTLs in record order (OPT has none in tshark's list).
  t.same(
    records(m).map((r) => r.ttl),
    field(c, 'dns.resp.ttl').map(Number),
    `${what}: TTLs`,
  );
  const payload = field(c, 'dns.rr.udp_payload_size');
  t.equal(m.edns?.udpPayloadSize, payload.length ? num(payload[0]!) : undefined, `${what}: EDNS payload size`);
  if (m.edns) {
    t.equal(m.edns.version, num(field(c, 'dns.resp.edns0_version')[0]!), `${what}: EDNS version`);
    t.equal(m.edns.dnssecOk, field(c, 'dns.resp.z.do')[0] === '1', `${what}: DO`);
    t.same(
      m.edns.options.map((o) => [o.code, toHex(o.data)]),
      field(c, 'dns.opt.code').map((code, i) => [num(code), (field(c, 'dns.opt.data')[i] ?? '').replace(/:|<MISSING>/g, '')]),
      `${what}: EDNS options`,
    );
  }
}

t.test('every captured dig/kdig query and dnsmasq answer decodes as tshark decodes it', async (t) => {
  t.ok(CAPTURES.length >= 26, `${CAPTURES.length} captured messages`);
  for (const [i, c] of CAPTURES.entries()) {
    const m = decoded(c);
    compareWithTshark(t, m, c, `#${i} ${c.transport} ${m.header.qr ? 'answer' : 'query'} ${m.questions[0]?.name} ${typeName(m.questions[0]?.type ?? 0)}`);
  }
});

t.test('queries: our encoder writes exactly the bytes dig and kdig sent', async (t) => {
  for (const [i, c] of CAPTURES.entries()) {
    const m = decoded(c);
    if (m.header.qr) continue;
    // Queries carry one uncompressed question: no implementation choice is left, so the bytes must match.
    t.equal(toHex(encodeDnsMessage(m)), c.hex, `#${i} ${m.questions[0]!.name} ${typeName(m.questions[0]!.type)} ${c.transport}`);
  }
});

t.test('0x20: the question keeps the case it was sent in', async (t) => {
  const c = CAPTURES.find((x) => field(x, 'dns.qry.name')[0] === 'UcUpdates-R2.Schertz.Name' && field(x, 'dns.flags.response')[0] === '0')!;
  const m = decoded(c);
  t.equal(m.questions[0]!.name, 'UcUpdates-R2.Schertz.Name');
  t.equal(m.edns, null, 'dig +noedns sends no OPT');
});

t.test('answers: dnsmasq compressed only where it chose to; our re-encoding decodes to the same message', async (t) => {
  for (const [i, c] of CAPTURES.entries()) {
    const m = decoded(c);
    if (!m.header.qr) continue;
    const ours = encodeDnsMessage(m);
    const back = decodeDnsMessage(ours);
    t.ok(back.ok, `#${i} decodes`);
    if (back.ok) t.same(folded(back.value), folded(m), `#${i} ${m.questions[0]!.name} same message after our encoding (names case-folded)`);
    t.ok(ours.length <= c.hex.length / 2, `#${i}: ours ${ours.length} bytes <= dnsmasq's ${c.hex.length / 2}`);
  }
});

t.test('SRV targets are never compressed (RFC 2782), owners are', async (t) => {
  const name = '_sipinternaltls._tcp.schertz.name';
  const srv: ResourceRecord = { name, class: 1, ttl: 600, data: { type: 'SRV', priority: 0, weight: 0, port: 5061, target: 'lyncpool.schertz.name' } };
  const msg: DnsMessage = {
    header: { id: 0x1234, qr: true, opcode: 0, aa: true, tc: false, rd: false, ra: false, z: false, ad: false, cd: false, rcode: 0 },
    questions: [{ name, type: DnsType.SRV, class: 1 }],
    answers: [srv, { name: 'lyncpool.schertz.name', class: 1, ttl: 600, data: { type: 'A', address: '10.20.0.10' } }],
    authorities: [],
    additionals: [],
    edns: null,
  };
  const b = encodeDnsMessage(msg);
  // Written out by hand from RFC 1035 §4.1.3 and RFC 2782: owner = pointer to the question (offset 12),
  // type 33, class 1, TTL 600, rdlength 29, priority 0, weight 0, port 5061, then the whole target.
  const qlen = 1 + 15 + 1 + 4 + 1 + 7 + 1 + 4 + 1;
  const answerAt = 12 + qlen + 4;
  t.equal(
    toHex(b.subarray(answerAt, answerAt + 12 + 29)),
    'c00c' + '0021' + '0001' + '00000258' + '001d' + '0000' + '0000' + '13c5' + '086c796e63706f6f6c' + '077363686572747a' + '046e616d65' + '00',
  );
  // The next owner name may point into the question, never into the SRV target.
  const next = b.subarray(answerAt + 41, answerAt + 41 + 11);
  t.equal(toHex(next.subarray(0, 9)), '086c796e63706f6f6c', 'lyncpool label written out');
  const ptr = ((next[9]! & 0x3f) << 8) | next[10]!;
  t.ok(next[9]! >= 0xc0 && ptr < answerAt, `its suffix points into the question (offset ${ptr})`);
});

t.test('OPT (RFC 6891 §6.1.2) and the 12-bit rcode', async (t) => {
  const w = new MessageWriter();
  w.question({ name: 'x', type: 1, class: 1 });
  w.opt({ udpPayloadSize: 1232, extendedRcode: 1, version: 0, dnssecOk: true, flags: 0, options: [{ code: 10, data: hex('0102030405060708') }] });
  const b = w.finish({ id: 1, qr: true, opcode: 0, aa: false, tc: false, rd: false, ra: false, z: false, ad: false, cd: false, rcode: 0 });
  // root, type 41, class = 1232, ttl = ext-rcode 1 | version 0 | DO, rdlength 12, option 10 len 8.
  t.equal(toHex(b.subarray(12 + 7)), '00' + '0029' + '04d0' + '01' + '00' + '8000' + '000c' + '000a' + '0008' + '0102030405060708');
  const m = decodeDnsMessage(b);
  t.ok(m.ok);
  if (m.ok) {
    t.equal(fullRcode(m.value), 16, 'BADVERS = extended 1 << 4 | 0');
    t.equal(m.value.edns?.dnssecOk, true);
  }
});

t.test('records of every kind round-trip, with and without compression', async (t) => {
  const rrs: ResourceRecord[] = [
    { name: 'ucupdates-r2.schertz.name', class: 1, ttl: 300, data: { type: 'A', address: '10.20.0.10' } },
    { name: 'v6.schertz.name', class: 1, ttl: 300, data: { type: 'AAAA', address: '2001:db8::10' } },
    { name: 'sip.schertz.name', class: 1, ttl: 300, data: { type: 'CNAME', target: 'lyncpool.schertz.name' } },
    { name: 'schertz.name', class: 1, ttl: 300, data: { type: 'NS', target: 'provlab.schertz.name' } },
    { name: '10.0.20.10.in-addr.arpa', class: 1, ttl: 300, data: { type: 'PTR', target: 'lyncpool.schertz.name' } },
    { name: 'schertz.name', class: 1, ttl: 60, data: { type: 'SOA', mname: 'provlab.schertz.name', rname: 'hostmaster.schertz.name', serial: 4294967295, refresh: 3600, retry: 600, expire: 86400, minimum: 60 } },
    { name: 'txt.schertz.name', class: 1, ttl: 0, data: { type: 'TXT', strings: ['v=provlab', '', 'x'.repeat(255), '\u00ff\u0000'] } },
    { name: '_ntp._udp.schertz.name', class: 1, ttl: 300, data: { type: 'SRV', priority: 1, weight: 2, port: 123, target: 'ntp.schertz.name' } },
    { name: 'raw.schertz.name', class: 1, ttl: 300, data: { type: 'unknown', code: 99, bytes: hex('deadbeef') } },
  ];
  for (const compress of [true, false]) {
    const m: DnsMessage = {
      header: { id: 7, qr: true, opcode: 0, aa: true, tc: false, rd: true, ra: false, z: false, ad: false, cd: false, rcode: 0 },
      questions: [{ name: 'SchErtz.name', type: DnsType.ANY, class: 1 }],
      answers: rrs.slice(0, 5),
      authorities: rrs.slice(5, 6),
      additionals: rrs.slice(6),
      edns: { udpPayloadSize: 512, extendedRcode: 0, version: 0, dnssecOk: false, flags: 0, options: [] },
    };
    const b = encodeDnsMessage(m, { compress });
    const back = decodeDnsMessage(b);
    t.ok(back.ok, `compress=${compress}`);
    if (back.ok) {
      t.same(folded(back.value), folded(m), `compress=${compress}: same message (names case-folded)`);
      t.equal(back.value.questions[0]!.name, 'SchErtz.name', 'the question keeps its case');
      const soaOwner = back.value.authorities[0]!.name;
      t.equal(soaOwner, compress ? 'SchErtz.name' : 'schertz.name', compress ? 'a compressed owner reads back in the question case (0x20)' : 'uncompressed owners keep their own case');
    }
  }
});

t.test('IPv6 text: RFC 4291 forms in, RFC 5952 out', async (t) => {
  const cases: [string, string][] = [
    ['2001:db8::10', '2001:db8::10'],
    ['2001:0DB8:0000:0000:0000:0000:0000:0010', '2001:db8::10'],
    ['::', '::'],
    ['::1', '::1'],
    ['::ffff:10.20.0.1', '::ffff:a14:1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['fe80::', 'fe80::'],
  ];
  for (const [input, want] of cases) t.equal(formatIPv6(parseIPv6(input)!), want, input);
  for (const bad of ['', ':', '1::2::3', '12345::', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', 'fe80::1%eth0', '::1.2.3', 'g::1', '1:2:3:4:5:6:7::8']) {
    t.equal(parseIPv6(bad), null, JSON.stringify(bad));
  }
});

t.test('malformed messages fail with a code, never throw, never read past the end', async (t) => {
  const query = hex(CAPTURES[0]!.hex);
  const code = (b: Uint8Array) => {
    const r = decodeDnsMessage(b);
    return r.ok ? 'ok' : r.error.code;
  };
  t.equal(code(query.subarray(0, 11)), 'short-header');
  t.equal(code(hex('0b0b0000ffffffffffffffff')), 'counts-exceed-length', 'four 0xffff counts are refused before any parsing');
  t.equal(code(query.subarray(0, 30)), 'truncated', 'cut inside the question name');
  t.equal(code(Uint8Array.from([...query.subarray(0, 12 + 27 + 4 - 1)].map((b, i) => (i === 11 ? 0 : b)))), 'truncated', 'question cut in its class');
  t.equal(code(Uint8Array.from([...query, 0])), 'trailing-bytes');
  t.equal(code(hex('0001 0000 0001 0000 0000 0000 c00c 0001 0001')), 'forward-pointer', 'pointer to itself');
  t.equal(code(hex('0001 0000 0001 0000 0000 0000 40 0001 0001')), 'bad-label-type');
  t.equal(code(hex('0001 0000 0001 0000 0000 0000 3f61 6263 6465 6667')), 'truncated', 'a label longer than what is left');
  t.equal(code(hex('0001 0000 0001 0000 0000 0000 0161 0162 0163')), 'no-root', 'labels but no root');
  // Two OPT records (RFC 6891 §6.1.1), OPT in the answer section, OPT with a non-root owner.
  const opt = '00 0029 0200 00000000 0000';
  t.equal(code(hex(`0001 0000 0000 0000 0000 0002 ${opt} ${opt}`)), 'multiple-opt');
  t.equal(code(hex(`0001 8000 0000 0001 0000 0000 ${opt}`)), 'misplaced-opt');
  t.equal(code(hex('0001 0000 0000 0000 0000 0001 0161 00 0029 0200 00000000 0000')), 'bad-opt');
  t.equal(code(hex('0001 8000 0000 0001 0000 0000 00 0001 0001 00000000 0003 0a0000')), 'bad-rdata', 'A of 3 bytes');
  t.equal(code(hex('0001 8000 0000 0001 0000 0000 00 0010 0001 00000000 0002 0561')), 'bad-rdata', 'TXT string past its RDATA');
  t.equal(code(hex('0001 8000 0000 0001 0000 0000 00 0021 0001 00000000 0003 000000')), 'bad-rdata', 'SRV too short');
  t.equal(code(hex('0001 8000 0000 0001 0000 0000 00 0001 0001 00000000 0009 0a000001')), 'truncated', 'RDATA past the end');
  t.equal(code(hex('0001 8000 0000 0001 0000 0000 00 0005 0001 00000000 0003 016100 ff')), 'trailing-bytes');
  t.equal(code(hex('0001 8000 0000 0001 0000 0000 00 0005 0001 00000000 0004 01610000')), 'bad-rdata', 'CNAME with a byte left over');

  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (b) => {
      const r = decodeDnsMessage(b);
      return r.ok || typeof r.error.code === 'string';
    }),
    { numRuns: 3000 },
  );
  // Mutations of real messages: flip bytes anywhere, decode must still return a Result.
  const real = CAPTURES.map((c) => hex(c.hex));
  fc.assert(
    fc.property(fc.integer({ min: 0, max: real.length - 1 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), (i, flips) => {
      const b = Uint8Array.from(real[i]!);
      for (const [at, v] of flips) b[at % b.length] = v;
      const r = decodeDnsMessage(b);
      if (r.ok) {
        // Whatever decodes must encode again without throwing on names we produced ourselves... unless a label holds
        // characters our (strict) encoder refuses; either way, nothing escapes as an exception other than RangeError.
        try {
          encodeDnsMessage(r.value);
        } catch (e) {
          return e instanceof RangeError;
        }
      }
      return true;
    }),
    { numRuns: 3000 },
  );
});

t.test('decodeHeader reads every flag', async (t) => {
  const h = decodeHeader(hex('beef ff ff 0001 0002 0003 0004'));
  t.ok(h.ok);
  if (h.ok) t.same(h.value, { id: 0xbeef, qr: true, opcode: 15, aa: true, tc: true, rd: true, ra: true, z: true, ad: true, cd: true, rcode: 15, qdcount: 1, ancount: 2, nscount: 3, arcount: 4 });
});

// ---------------------------------------------------------------- tshark reads what we write

const TSHARK = '/usr/bin/tshark';
const tsharkThere = spawnSync(TSHARK, ['-v'], { encoding: 'utf8' }).status === 0;

/** Classic pcap, LINKTYPE_RAW (IPv4), UDP 53 -> 53, no UDP checksum. */
function pcap(messages: Uint8Array[]): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(101, 20);
  const parts: Buffer[] = [header];
  messages.forEach((m, i) => {
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(28 + m.length, 2);
    ip[8] = 64;
    ip[9] = 17;
    ip.set([127, 0, 0, 1], 12);
    ip.set([127, 0, 0, 1], 16);
    let sum = 0;
    for (let j = 0; j < 20; j += 2) sum += ip.readUInt16BE(j);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    ip.writeUInt16BE(~sum & 0xffff, 10);
    const udp = Buffer.alloc(8);
    udp.writeUInt16BE(53, 0);
    udp.writeUInt16BE(53, 2);
    udp.writeUInt16BE(8 + m.length, 4);
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(1_700_000_000 + i, 0);
    rec.writeUInt32LE(28 + m.length, 8);
    rec.writeUInt32LE(28 + m.length, 12);
    parts.push(rec, ip, udp, Buffer.from(m));
  });
  return Buffer.concat(parts);
}

t.test('tshark decodes our encoding of every captured message to the same fields', { skip: tsharkThere ? false : process.env.CI === 'true' ? false : 'tshark not installed' }, async (t) => {
  if (!tsharkThere) {
    t.fail('tshark is required in CI');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'provlab-dns-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ours = CAPTURES.map((c) => encodeDnsMessage(decoded(c)));
  const file = join(dir, 'ours.pcap');
  writeFileSync(file, pcap(ours));
  const FIELDS = Object.keys(CAPTURES.reduce((all, c) => ({ ...all, ...c.tshark }), {} as Record<string, unknown>)).filter((f) => f !== 'frame.number');
  const out = spawnSync(TSHARK, ['-r', file, '-T', 'json', ...FIELDS.flatMap((f) => ['-e', f])], { encoding: 'utf8', maxBuffer: 1 << 24 });
  t.equal(out.status, 0, out.stderr);
  const packets = JSON.parse(out.stdout) as { _source: { layers: Record<string, string[]> } }[];
  t.equal(packets.length, ours.length);
  packets.forEach((p, i) => {
    const again: Captured = { transport: 'udp', hex: toHex(ours[i]!), tshark: p._source.layers };
    // Content equals dnsmasq's up to name case (previous test); here tshark must read our bytes as our decoder does.
    compareWithTshark(t, decoded(again), again, `ours #${i}`);
  });
  const expert = spawnSync(TSHARK, ['-r', file, '-q', '-z', 'expert'], { encoding: 'utf8' });
  t.notMatch(expert.stdout, /^(Errors|Warns) \(/m, 'no error or warning expert info');
});

// ---------------------------------------------------------------- stub resolver (the probe's)

t.test('encodeDnsQuery: a plain RD query with one IN question (RFC 1035 §4.1)', async (t) => {
  const timeWindowsCom = '0474696d650777696e646f777303636f6d00';
  t.equal(toHex(encodeDnsQuery(0x1234, 'time.windows.com', DnsType.A)), '1234' + '0100' + '0001' + '0000' + '0000' + '0000' + timeWindowsCom + '0001' + '0001');
  t.equal(toHex(encodeDnsQuery(1, '_ntp._udp.x.org', DnsType.SRV)).slice(-8), '00210001');
  t.throws(() => encodeDnsQuery(1, 'a..b', DnsType.A), RangeError);
});

t.test('decodeDnsAnswers: answers with their offsets, SRV target compression, later sections unread', async (t) => {
  const qn = '045f7369700474657374056c6f63616c00'; // _sip.test.local
  const head = (an: string, ar: string) => '0001 8180 0001' + an + '0000' + ar + qn + '0021 0001';
  const compressed = 'c00c 0021 0001 0000003c 000d' + '0000 0000 13c5 0473697031 c011'; // sip1 + pointer to test.local
  const plain = 'c00c 0021 0001 0000003c 0017' + '0000 0000 13c5 0473697031 0474657374 056c6f63616c 00';
  const a = hex(head('0002', '0000') + compressed + plain);
  const r = decodeDnsAnswers(a);
  t.ok(r.ok);
  if (!r.ok) return;
  t.equal(r.value.header.qr, true);
  t.same(r.value.questions, [{ name: '_sip.test.local', type: DnsType.SRV, class: 1 }]);
  const [first, second] = r.value.answers;
  t.same(first!.record.data, { type: 'SRV', priority: 0, weight: 0, port: 5061, target: 'sip1.test.local' });
  t.equal(first!.offset, 12 + 17 + 4);
  t.equal(first!.end, first!.offset + 2 + 10 + 13);
  t.equal(first!.targetCompressed, true);
  t.equal(second!.offset, first!.end);
  t.equal(second!.end, a.length);
  t.equal(second!.targetCompressed, false);

  // An additional count the datagram cannot hold: the whole-message decoder refuses it, the stub still reads its answers.
  const lying = hex(head('0001', '0005') + plain);
  t.match(decodeDnsMessage(lying), { ok: false, error: { code: 'counts-exceed-length' } });
  t.match(decodeDnsAnswers(lying), { ok: true, value: { answers: [{ targetCompressed: false }] } });
  // More answers announced than sent: the missing one fails where the bytes run out.
  const short = hex(head('0002', '0000') + plain);
  t.match(decodeDnsAnswers(short), { ok: false, error: { code: 'no-root', offset: short.length } });
  t.match(decodeDnsAnswers(hex('0001 8180')), { ok: false, error: { offset: 0 } });
});
