// The responder without sockets: any bytes in, a well-formed answer (or
// silence) out, never an exception; answers decode with our decoder and echo
// the ID and the question bytes. Queries are built by hand (helpers.rawQuery).
import t from 'tap';
import fc from 'fast-check';
import { Authority } from '../../src/dns/authority.js';
import { Responder } from '../../src/dns/responder.js';
import { decodeDnsMessage, fullRcode } from '../../src/wire/dns-message.js';
import { rawQuery, testPlan } from './helpers.js';

const plan = testPlan();
const responder = new Responder(new Authority(plan.dns));
const OPT = '00 0029 04d0 00 00 0000 0000';

function answer(q: Uint8Array, tcp = false) {
  const out = responder.respond(q, tcp);
  if (out === null) return null;
  const m = decodeDnsMessage(out);
  if (!m.ok) throw new Error(`our own answer does not decode: ${m.error.message} (${Buffer.from(out).toString('hex')})`);
  return { bytes: out, m: m.value };
}

t.test('precomputed answers: ID, flags and question patched, nothing else', async (t) => {
  const q = rawQuery(0xbeef, 'UCUPDATES-R2.schertz.NAME', 1, { flags: 0x0110 }); // RD and CD set
  const a = answer(q)!;
  t.equal(a.m.header.id, 0xbeef);
  t.ok(a.m.header.qr && a.m.header.aa && a.m.header.rd && a.m.header.cd, 'QR, AA, RD and CD');
  t.notOk(a.m.header.ra || a.m.header.ad || a.m.header.tc);
  t.equal(Buffer.from(a.bytes.subarray(12, q.length)).toString('hex'), q.subarray(12).toString('hex'));
  t.same(a.m.answers.map((r) => [r.name, r.ttl, r.data]), [['UCUPDATES-R2.schertz.NAME', 300, { type: 'A', address: '127.88.0.10' }]]);
  t.equal(responder.name, 'ucupdates-r2.schertz.name', 'logged in lower case');
  const again = answer(rawQuery(1, 'ucupdates-r2.schertz.name', 1, { flags: 0 }))!;
  t.equal(again.m.answers[0]!.name, 'ucupdates-r2.schertz.name', 'the template itself was not modified by the previous answer');
  t.notOk(again.m.header.rd, 'RD not left over from the previous query');
});

t.test('EDNS: OPT appended, payload honoured, BADVERS', async (t) => {
  const plain = answer(rawQuery(1, 'big.schertz.name', 16))!;
  t.ok(plain.m.header.tc, 'no EDNS: over 512 bytes -> TC');
  t.equal(plain.m.answers.length, 0);
  t.equal(plain.m.edns, null);
  const e = answer(rawQuery(2, 'big.schertz.name', 16, { additional: OPT }))!;
  t.notOk(e.m.header.tc);
  t.same(e.m.edns && [e.m.edns.udpPayloadSize, e.m.edns.version, e.m.edns.dnssecOk], [1232, 0, false]);
  const e600 = answer(rawQuery(3, 'big.schertz.name', 16, { additional: '00 0029 0258 00 00 8000 0000' }))!;
  t.ok(e600.m.header.tc, 'EDNS 600 honoured');
  t.equal(e600.m.edns?.dnssecOk, true, 'DO copied');
  const tiny = answer(rawQuery(4, 'big.schertz.name', 16, { additional: '00 0029 0100 00 00 0000 0000' }))!;
  t.ok(tiny.m.header.tc, 'EDNS below 512 is treated as 512');
  const tcp = answer(rawQuery(5, 'huge.schertz.name', 16, { additional: OPT }), true)!;
  t.notOk(tcp.m.header.tc, 'TCP: no limit below 64 KiB');
  t.ok(tcp.bytes.length > 1232);
  const v1 = answer(rawQuery(6, 'sip.schertz.name', 1, { additional: '00 0029 04d0 00 01 0000 0000' }))!;
  t.equal(fullRcode(v1.m), 16, 'BADVERS');
  t.equal(v1.m.answers.length, 0);
  const opts = answer(rawQuery(7, 'sip.schertz.name', 1, { additional: '00 0029 04d0 00 00 0000 000c 000a 0008 0102030405060708' }))!;
  t.equal(opts.m.answers.length, 1, 'a client COOKIE option is ignored, the query answered');
  const badOpt = answer(rawQuery(8, 'sip.schertz.name', 1, { additional: '00 0029 04d0 00 00 0000 0005 000a 0008 01' }))!;
  t.equal(fullRcode(badOpt.m), 1, 'an option running past the OPT: FORMERR');
});

t.test('negative answers and refusals', async (t) => {
  const nx = answer(rawQuery(1, 'x.y.corp.schertz.name', 1))!;
  t.equal(nx.m.header.rcode, 3);
  t.ok(nx.m.header.aa);
  t.same(nx.m.authorities.map((r) => [r.name, r.ttl, r.data.type]), [['corp.schertz.name', 60, 'SOA']]);
  const nodata = answer(rawQuery(2, 'lyncpool.schertz.name', 28))!;
  t.equal(nodata.m.header.rcode, 0);
  t.equal(responder.nodata, true);
  t.equal(nodata.m.answers.length, 0);
  const refused = answer(rawQuery(3, 'example.com', 1))!;
  t.equal(refused.m.header.rcode, 5);
  t.notOk(refused.m.header.aa);
  // A label holding a dot must not be confused with two labels.
  const label = (text: string) => Buffer.concat([Buffer.from([text.length]), Buffer.from(text, 'latin1')]);
  const header = rawQuery(4, '', 1).subarray(0, 12);
  const dotted = answer(Buffer.concat([header, label('lyncpool.sch'), label('ertz.nam'), label('e'), Buffer.from([0, 0, 1, 0, 1])]))!;
  t.equal(dotted.m.header.rcode, 5, '"lyncpool.sch" + "ertz.nam" + "e" is no name of ours');
  const dotted2 = answer(Buffer.concat([header, label('lyncpool.xx'), label('schertz'), label('name'), Buffer.from([0, 0, 1, 0, 1])]))!;
  t.equal(dotted2.m.header.rcode, 3, 'a dotted label inside our zone: NXDOMAIN');
  t.equal(dotted2.m.authorities[0]?.name, 'schertz.name', 'with the SOA owner pointing at the right labels');
  const forwarding = new Responder(new Authority({ ...plan.dns, forwarders: [{ address: '127.0.0.1', port: 5353 }] }));
  t.equal(forwarding.respond(rawQuery(6, 'example.com', 1), false), null);
  t.equal(forwarding.action, 'forward');
  t.equal(forwarding.respond(rawQuery(7, 'nope.schertz.name', 1), false)?.[3]! & 0xf, 3, 'own zones are never forwarded');
});

t.test('ANY is minimal (RFC 8482), CNAMEs are chased', async (t) => {
  const any = answer(rawQuery(1, 'lyncpool.schertz.name', 255))!;
  t.same(any.m.answers.map((r) => r.data.type), ['A']);
  t.equal(any.m.questions[0]!.type, 255);
  const apex = answer(rawQuery(2, 'schertz.name', 255))!;
  t.same(apex.m.answers.map((r) => r.data.type), ['SOA']);
  const cname = answer(rawQuery(3, 'WWW.schertz.name', 1))!;
  t.same(cname.m.answers.map((r) => [r.name, r.data.type]), [['WWW.schertz.name', 'CNAME'], ['lyncweb.schertz.name', 'A']]);
  const cnameTxt = answer(rawQuery(4, 'www.schertz.name', 16))!;
  t.same(cnameTxt.m.answers.map((r) => r.data.type), ['CNAME'], 'no TXT at the target: the CNAME alone');
});

t.test('any bytes: never throws, answers always decode, IDs always echoed', async (t) => {
  const seeds = [
    rawQuery(1, 'ucupdates-r2.schertz.name', 1),
    rawQuery(2, '_sipinternaltls._tcp.schertz.name', 33, { additional: OPT }),
    rawQuery(3, 'nope.corp.schertz.name', 1),
    rawQuery(4, 'example.com', 1),
    rawQuery(5, '10.0.88.127.in-addr.arpa', 12),
  ];
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (b, tcp) => {
      const out = answer(b, tcp);
      return out === null || (out.m.header.qr && out.bytes[0] === b[0] && out.bytes[1] === b[1]);
    }),
    { numRuns: 5000 },
  );
  fc.assert(
    fc.property(fc.integer({ min: 0, max: seeds.length - 1 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 5 }), fc.nat({ max: 40 }), (i, flips, cut) => {
      const b = Buffer.from(seeds[i]!);
      for (const [at, v] of flips) b[at % b.length] = v;
      const q = cut > 0 ? b.subarray(0, Math.max(0, b.length - cut)) : b;
      const out = answer(q, false);
      if (out === null) return responder.action !== 'answer';
      return out.m.header.id === ((q[0]! << 8) | q[1]!) && out.bytes.length <= 1232;
    }),
    { numRuns: 20000 },
  );
});
