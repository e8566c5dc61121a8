// The pure response rate limiter: buckets per (prefix, class), refill,
// window, slip, classes read from hand-written response bytes.
import t from 'tap';
import { RRL_DROP, RRL_SEND, RRL_SLIP, RateLimiter, responseClass, writeSlip, type RrlSettings } from '../../src/dns/rrl.js';

const settings = (over: Partial<RrlSettings> = {}): RrlSettings => ({ responsesPerSecond: 5, slip: 2, windowSeconds: 2, ipv4PrefixLength: 24, ...over });
const ip = (s: string) => s.split('.').reduce((a, o) => a * 256 + Number(o), 0);

/** `n` responses at `at` ms: the verdicts. */
function burst(rrl: RateLimiter, addr: string, key: number, n: number, at: number): number[] {
  return Array.from({ length: n }, () => rrl.decide(ip(addr), key, at));
}

t.test('rate, burst, slip and refill', async (t) => {
  const rrl = new RateLimiter(settings());
  t.same(burst(rrl, '10.0.0.1', 7, 5, 1000), [0, 0, 0, 0, 0], 'five a second pass');
  t.same(burst(rrl, '10.0.0.1', 7, 4, 1000), [RRL_DROP, RRL_SLIP, RRL_DROP, RRL_SLIP], 'then every second one slips, the others drop');
  t.same(burst(rrl, '10.0.0.1', 8, 1, 1000), [RRL_SEND], 'another class has its own bucket');
  t.same(burst(rrl, '10.0.1.1', 7, 1, 1000), [RRL_SEND], 'another /24 has its own bucket');
  t.same(burst(rrl, '10.0.0.200', 7, 1, 1000), [RRL_DROP], 'the same /24 shares it');
  const fresh = new RateLimiter(settings());
  burst(fresh, '10.0.0.1', 7, 5, 1000);
  t.same(burst(fresh, '10.0.0.1', 7, 2, 1200), [RRL_SEND, RRL_DROP], '200 ms later one token is back');
});

t.test('a flood keeps its debt for the window, then the bucket recovers', async (t) => {
  const rrl = new RateLimiter(settings());
  burst(rrl, '10.0.0.1', 7, 1000, 1000);
  t.not(rrl.decide(ip('10.0.0.1'), 7, 2000), RRL_SEND, 'one second later: still limited (a debt of rate × window = 10)');
  t.equal(rrl.decide(ip('10.0.0.1'), 7, 4500), RRL_SEND, 'once the debt is paid back it answers again');
});

t.test('slip 0 drops all, slip 1 slips all; rate 0 is off; /32 separates neighbours', async (t) => {
  const s0 = new RateLimiter(settings({ slip: 0, responsesPerSecond: 1 }));
  t.same(burst(s0, '10.0.0.1', 1, 4, 1), [RRL_SEND, RRL_DROP, RRL_DROP, RRL_DROP]);
  const s1 = new RateLimiter(settings({ slip: 1, responsesPerSecond: 1 }));
  t.same(burst(s1, '10.0.0.1', 1, 3, 1), [RRL_SEND, RRL_SLIP, RRL_SLIP]);
  const off = new RateLimiter(settings({ responsesPerSecond: 0 }));
  t.notOk(off.enabled);
  t.same(new Set(burst(off, '10.0.0.1', 1, 1000, 1)), new Set([RRL_SEND]));
  const host = new RateLimiter(settings({ ipv4PrefixLength: 32, responsesPerSecond: 1 }));
  t.same([...burst(host, '10.0.0.1', 1, 2, 1), ...burst(host, '10.0.0.2', 1, 1, 1)], [RRL_SEND, RRL_DROP, RRL_SEND]);
});

t.test('a full table still serves new keys', async (t) => {
  const rrl = new RateLimiter(settings({ responsesPerSecond: 1 }));
  for (let i = 0; i < 100_000; i++) rrl.decide(i, i, 1 + (i >> 10));
  t.equal(rrl.decide(ip('192.0.2.1'), 12345, 200), RRL_SEND, 'a new (prefix, class) gets a slot');
  t.equal(rrl.decide(ip('192.0.2.1'), 12345, 200), RRL_DROP, 'and keeps it');
});

// sip.schertz.name A, as a response header + question (RFC 1035 §4.1), written out by hand.
const Q_SIP = '03 736970 07 73636865727a74 04 6e616d65 00 0001 0001';
const Q_SIP_UPPER = '03 534950 07 73636865727a74 04 6e616d65 00 0001 0001';
const Q_NOPE = '04 6e6f7065 07 73636865727a74 04 6e616d65 00 0001 0001';
const Q_ELSE = '04 656c7365 07 73636865727a74 04 6e616d65 00 0001 0001';
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
/** Header with the given rcode and counts, then the question, then `rest`. */
function response(question: string, rcode: number, an: number, ns: number, rest = ''): { bytes: Buffer; qEnd: number } {
  const q = hex(question);
  const header = hex(`abcd 84${rcode.toString(16).padStart(2, '0')} 0001 ${an.toString(16).padStart(4, '0')} ${ns.toString(16).padStart(4, '0')} 0000`);
  return { bytes: Buffer.concat([header, q, hex(rest)]), qEnd: 12 + q.length };
}
// SOA owner: a pointer to "schertz.name" inside the question (offset 12 + 4 or 12 + 5).
const SOA_RDATA = '0006 0001 0000003c 0016 c000 c000 00000001 00000e10 00000258 00015180 0000003c';

t.test('response classes', async (t) => {
  const a = response(Q_SIP, 0, 1, 0, 'c00c 0001 0001 0000012c 0004 7f580a0a');
  const upper = response(Q_SIP_UPPER, 0, 1, 0, 'c00c 0001 0001 0000012c 0004 7f580a0a');
  t.equal(responseClass(a.bytes, a.qEnd, 0, false), responseClass(upper.bytes, upper.qEnd, 0, false), 'names match whatever the case (0x20)');
  t.not(responseClass(a.bytes, a.qEnd, 0, false), responseClass(a.bytes, a.qEnd, 0, true), 'NODATA is its own class');
  const nope = response(Q_NOPE, 3, 0, 1, `c011 ${SOA_RDATA}`);
  const other = response(Q_ELSE, 3, 0, 1, `c011 ${SOA_RDATA}`);
  t.equal(responseClass(nope.bytes, nope.qEnd, 3, false), responseClass(other.bytes, other.qEnd, 3, false), 'NXDOMAIN: one bucket per zone, whatever the name');
  const noSoa = response(Q_NOPE, 3, 0, 0);
  t.not(responseClass(noSoa.bytes, noSoa.qEnd, 3, false), responseClass(other.bytes, other.qEnd, 3, false), 'without a SOA the name stands in');
  t.not(responseClass(nope.bytes, nope.qEnd, 3, false), responseClass(a.bytes, a.qEnd, 0, false));
  const refused1 = response(Q_NOPE, 5, 0, 0);
  const refused2 = response(Q_SIP, 5, 0, 0);
  t.equal(responseClass(refused1.bytes, refused1.qEnd, 5, false), responseClass(refused2.bytes, refused2.qEnd, 5, false), 'errors: by rcode only');
  t.equal(responseClass(hex('abcd 8101 0000 0000 0000 0000'), -1, 1, false), responseClass(refused1.bytes, refused1.qEnd, 1, false), 'FORMERR without a question');
  // Garbage never throws.
  for (let i = 0; i < 2000; i++) {
    const junk = Buffer.from(Array.from({ length: (i % 60) + 12 }, (_, k) => (i * 31 + k * 17) & 0xff));
    responseClass(junk, Math.min(junk.length, 12 + (i % 50)), i % 2 ? 3 : 0, false);
  }
  t.pass('2000 garbage responses classified without a throw');
});

t.test('the slipped response: header and question, TC=1, no records', async (t) => {
  const a = response(Q_SIP, 0, 1, 0, 'c00c 0001 0001 0000012c 0004 7f580a0a');
  const out = Buffer.alloc(512);
  const n = writeSlip(a.bytes, a.qEnd, out);
  t.equal(out.subarray(0, n).toString('hex'), `abcd8600000100000000000${'0'}${hex(Q_SIP).toString('hex')}`);
  const e = writeSlip(hex('abcd 8101 0000 0000 0000 0000'), -1, out);
  t.equal(out.subarray(0, e).toString('hex'), 'abcd830100000000000000' + '00');
});
