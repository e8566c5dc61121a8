// dig and kdig against a DnsDaemon on loopback: every record kind the site
// makes, TCP, EDNS payload sizes, truncation and the TCP retry, negative
// answers with the SOA, REFUSED, 0x20, NOTIMP, FORMERR, QR=1, garbage, lease
// names, reload and forwarding. Expected bytes are written out by hand.
import t from 'tap';
import { pino } from 'pino';
import { randomBytes } from 'node:crypto';
import { DnsDaemon } from '../../src/dns/daemon.js';
import { decodeDnsMessage } from '../../src/wire/dns-message.js';
import { which } from '../helpers/netns.js';
import { BIG_TXT, HUGE_TXT, dig, frame, rawQuery, run, tcpExchange, testPlan, udpExchange } from './helpers.js';

const missing = ['dig', 'kdig'].filter((x) => !which(x));
if (missing.length && process.env.CI === 'true') t.fail(`CI=true and ${missing.join(', ')} missing`);
const skip = missing.length ? `${missing.join(', ')} not installed` : false;

const unhandled: unknown[] = [];
process.on('unhandledRejection', (e) => unhandled.push(e));

async function start(t: Tap, extra: Parameters<typeof testPlan>[0] = {}, options: { tcpIdleMs?: number; maxTcpConnections?: number; forwardTimeoutMs?: number } = {}) {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  const daemon = await DnsDaemon.start(testPlan(extra), { logger, ...options });
  t.teardown(() => daemon.stop());
  return { daemon, port: daemon.address().port, lines };
}
type Tap = Parameters<Parameters<typeof t.test>[0]>[0];

t.test('every record kind, with dig and kdig', { skip }, async (t) => {
  const { daemon, port, lines } = await start(t);
  for (const tool of ['dig', 'kdig'] as const) {
    const a = async (args: string[]) => dig(tool, port, args);
    for (const d of ['schertz.name', 'corp.schertz.name']) {
      const r = await a([`ucupdates-r2.${d}`, 'A']);
      t.equal(r.status, 'NOERROR', `${tool} ucupdates-r2.${d}`);
      t.ok(r.flags.includes('aa'), 'aa=1 for our zones');
      t.notOk(r.flags.includes('ra'), 'no recursion offered');
      t.same(r.answer, [`ucupdates-r2.${d}. 300 IN A 127.88.0.10`]);
      const ntp = await a([`_ntp._udp.${d}`, 'SRV']);
      t.same(ntp.answer, [`_ntp._udp.${d}. 300 IN SRV 0 0 123 ntp.${d}.`], 'NTP SRV target inside its own domain');
      t.same(ntp.additional, [`ntp.${d}. 300 IN A 127.88.0.1`], 'with the target address');
      const soa = await a([d, 'SOA']);
      t.match(soa.answer[0], new RegExp(`^${d.replace(/\./g, '\\.')}\\. 300 IN SOA provlab\\.schertz\\.name\\. hostmaster\\.schertz\\.name\\. \\d+ 3600 600 86400 60$`));
      const ns = await a([d, 'NS']);
      t.same(ns.answer, [`${d}. 300 IN NS provlab.schertz.name.`]);
      t.same(ns.additional, ['provlab.schertz.name. 300 IN A 127.0.0.1'], 'the name server address as glue');
    }
    for (const [service, port_] of [['_sipinternaltls._tcp', 5061], ['_sipinternal._tcp', 5060], ['_sip._tls', 5061]] as const) {
      const r = await a([`${service}.schertz.name`, 'SRV']);
      t.same(r.answer, [`${service}.schertz.name. 300 IN SRV 0 0 ${port_} lyncpool.schertz.name.`], `${tool} ${service}`);
      t.same(r.additional, ['lyncpool.schertz.name. 300 IN A 127.88.0.10']);
    }
    for (const name of ['sipinternal.schertz.name', 'sip.schertz.name', 'lyncpool.schertz.name', 'lyncweb.schertz.name', 'provlab.schertz.name', 'cx600-lobby.schertz.name', 'time.windows.com']) {
      const r = await a([name, 'A']);
      t.equal(r.answer.length, 1, `${tool} ${name} A`);
      t.match(r.answer[0], new RegExp(`^${name.replace(/\./g, '\\.')}\\. 300 IN A 127\\.88\\.0\\.(10|1|50)$|^provlab.schertz.name. 300 IN A 127.0.0.1$`));
      t.ok(r.flags.includes('aa'));
    }
    t.same((await a(['time.windows.com', 'A'])).answer, ['time.windows.com. 300 IN A 127.88.0.1'], 'the time fallback points at the NTP server');
    t.same((await a(['v6.schertz.name', 'AAAA'])).answer, ['v6.schertz.name. 300 IN AAAA 2001:db8::10']);
    t.same((await a(['note.schertz.name', 'TXT'])).answer, ['note.schertz.name. 300 IN TXT "v=provlab" "second string"']);
    t.same((await a(['www.schertz.name', 'A'])).answer, ['www.schertz.name. 300 IN CNAME lyncweb.schertz.name.', 'lyncweb.schertz.name. 300 IN A 127.88.0.10'], 'CNAME chased inside our data');
    t.same((await a(['www.schertz.name', 'CNAME'])).answer, ['www.schertz.name. 300 IN CNAME lyncweb.schertz.name.']);
    t.same((await a(['-x', '127.88.0.10'])).answer, ['10.0.88.127.in-addr.arpa. 300 IN PTR lyncpool.schertz.name.']);
    t.same((await a(['-x', '127.88.0.50'])).answer, ['50.0.88.127.in-addr.arpa. 300 IN PTR cx600-lobby.schertz.name.']);
    t.same((await a(['-x', '127.88.0.99'])).answer, ['99.0.88.127.in-addr.arpa. 300 IN PTR printer.schertz.name.']);
    t.same((await a(['0.88.127.in-addr.arpa', 'NS'])).answer, ['0.88.127.in-addr.arpa. 300 IN NS provlab.schertz.name.']);
  }
  t.equal(daemon.counters.internalErrors, 0);
  // The admin's capture: who asked for ucupdates-r2.
  const seen = lines.find((l) => l.msg === 'dns query' && l.name === 'ucupdates-r2.corp.schertz.name');
  t.match(seen, { level: 30, daemon: 'dns', client: '127.0.0.1', type: 'A', rcode: 'NOERROR' });
  t.same(Object.keys(seen!).sort(), ['client', 'daemon', 'level', 'msg', 'name', 'pid', 'hostname', 'rcode', 'time', 'type'].sort(), 'a small log object');
});

t.test('negative answers carry the SOA; outside the zones: REFUSED', { skip }, async (t) => {
  const { port } = await start(t);
  for (const tool of ['dig', 'kdig'] as const) {
    const nx = await dig(tool, port, ['nope.corp.schertz.name', 'A']);
    t.equal(nx.status, 'NXDOMAIN', `${tool} NXDOMAIN`);
    t.ok(nx.flags.includes('aa'));
    t.same(nx.answer, []);
    t.match(nx.authority, [/^corp\.schertz\.name\. 60 IN SOA provlab\.schertz\.name\. hostmaster\.schertz\.name\. \d+ 3600 600 86400 60$/], 'SOA of the closest zone, TTL = minimum (RFC 2308)');
    const nodata = await dig(tool, port, ['ucupdates-r2.schertz.name', 'AAAA']);
    t.equal(nodata.status, 'NOERROR', `${tool} NODATA`);
    t.same(nodata.answer, []);
    t.match(nodata.authority, [/^schertz\.name\. 60 IN SOA /]);
    const ent = await dig(tool, port, ['_tcp.schertz.name', 'SRV']);
    t.equal(ent.status, 'NOERROR', 'an empty non-terminal is NODATA, not NXDOMAIN (RFC 8020)');
    const revNx = await dig(tool, port, ['-x', '127.88.0.77']);
    t.equal(revNx.status, 'NXDOMAIN');
    t.match(revNx.authority, [/^0\.88\.127\.in-addr\.arpa\. 60 IN SOA /]);
    const refused = await dig(tool, port, ['www.example.com', 'A']);
    t.equal(refused.status, 'REFUSED', `${tool} REFUSED outside the zones`);
    t.notOk(refused.flags.includes('aa'));
    t.same(refused.answer, []);
    const windows = await dig(tool, port, ['update.windows.com', 'A']);
    t.equal(windows.status, 'REFUSED', 'time.windows.com is served alone, not windows.com');
    t.equal((await dig(tool, port, ['+norec', 'version.bind', 'TXT', 'CH'])).status, 'REFUSED', 'CHAOS class refused');
  }
  const axfr = await tcpExchange(port, [frame(rawQuery(9, 'schertz.name', 252))], 1);
  t.equal(axfr.answers[0]![3]! & 0xf, 5, 'AXFR: REFUSED (no zone transfers)');
  t.match((await run('dig', ['@127.0.0.1', '-p', String(port), 'schertz.name', 'AXFR'])).stdout, /Transfer failed/);
  const any = await dig('dig', port, ['schertz.name', 'ANY']);
  t.equal(any.answer.length, 1, 'ANY answered with one RRset (RFC 8482)');
});

t.test('0x20: the answer comes back in the case of the question', { skip }, async (t) => {
  const { port } = await start(t);
  // kdig lower-cases names before sending, so only dig can show this.
  const r = await dig('dig', port, ['UcUpDaTeS-r2.ScHeRtZ.nAmE', 'A']);
  t.match(r.raw, /;UcUpDaTeS-r2\.ScHeRtZ\.nAmE\.\s+IN\s+A/, 'question as sent');
  t.same(r.answer, ['UcUpDaTeS-r2.ScHeRtZ.nAmE. 300 IN A 127.88.0.10'], "owner in the client's case");
  const nx = await dig('dig', port, ['NoPe.ScHeRtZ.nAmE', 'A']);
  t.same(nx.authority.map((l) => l.split(' ')[0]), ['ScHeRtZ.nAmE.'], 'the SOA owner points into the question');
  t.same((await dig('kdig', port, ['UcUpDaTeS-r2.ScHeRtZ.nAmE', 'A'])).answer, ['ucupdates-r2.schertz.name. 300 IN A 127.88.0.10'], 'kdig: matched case-insensitively');
  // Raw bytes: the question section must be a byte-exact copy.
  const q = rawQuery(0x4242, 'SiP.sChErTz.NaMe', 1);
  const [[answer]] = await udpExchange(port, [q]);
  t.ok(answer);
  t.equal(answer!.subarray(12, q.length).toString('hex'), q.subarray(12).toString('hex'), 'question bytes echoed exactly');
  t.equal(answer!.readUInt16BE(0), 0x4242, 'ID echoed');
  t.equal(answer![2], 0x85, 'QR, AA, RD copied');
});

t.test('TCP: one query, several on one connection, pipelined and split', { skip }, async (t) => {
  const { daemon, port } = await start(t);
  for (const tool of ['dig', 'kdig'] as const) {
    const r = await dig(tool, port, ['+tcp', 'ucupdates-r2.schertz.name', 'A']);
    t.same(r.answer, ['ucupdates-r2.schertz.name. 300 IN A 127.88.0.10'], `${tool} over TCP`);
  }
  // kdig reuses one connection for several queries with +keepopen.
  const before = daemon.counters.tcpConnections;
  const k = await run('kdig', ['@127.0.0.1', '-p', String(port), '+tcp', '+keepopen', 'ucupdates-r2.schertz.name', 'A', 'sip.schertz.name', 'A', 'nope.schertz.name', 'A']);
  t.match(k.stdout, /ucupdates-r2\.schertz\.name\.\s+300\s+IN\s+A\s+127\.88\.0\.10/);
  t.match(k.stdout, /sip\.schertz\.name\.\s+300\s+IN\s+A\s+127\.88\.0\.10/);
  t.match(k.stdout, /NXDOMAIN/);
  t.equal(daemon.counters.tcpConnections - before, 1, 'kdig +keepopen: three queries, one connection');

  const q1 = rawQuery(1, 'ucupdates-r2.schertz.name', 1);
  const q2 = rawQuery(2, 'big.schertz.name', 16);
  const q3 = rawQuery(3, 'nope.schertz.name', 1);
  const pipelined = await tcpExchange(port, [Buffer.concat([frame(q1), frame(q2), frame(q3)])], 3);
  t.same(pipelined.answers.map((a) => a.readUInt16BE(0)), [1, 2, 3], 'three pipelined queries in one write, three answers');
  const big = decodeDnsMessage(pipelined.answers[1]!);
  t.ok(big.ok && big.value.answers.length === 1 && !big.value.header.tc, 'a 600-byte TXT answer is whole over TCP');
  const bytes = Buffer.concat([frame(q1), frame(q3)]);
  const split = await tcpExchange(port, [...bytes].map((b) => Uint8Array.of(b)), 2, 5000);
  t.same(split.answers.map((a) => a.readUInt16BE(0)), [1, 3], 'queries sent one byte at a time');
});

t.test('EDNS payload sizes, TC=1 and the TCP retry', { skip }, async (t) => {
  const { daemon, port } = await start(t);
  const bigAnswer = `big.schertz.name. 300 IN TXT ${BIG_TXT.map((s) => `"${s}"`).join(' ')}`;
  // ~650 bytes: over 512, under 1232.
  const noedns = await dig('dig', port, ['+noedns', '+ignore', 'big.schertz.name', 'TXT']);
  t.ok(noedns.flags.includes('tc'), 'no EDNS: 512 bytes at most, TC=1');
  t.same(noedns.answer, []);
  const small = await dig('dig', port, ['+bufsize=600', '+ignore', 'big.schertz.name', 'TXT']);
  t.ok(small.flags.includes('tc'), 'EDNS 600: still too small');
  t.match(small.raw, /udp: 1232/, 'OPT in the truncated answer');
  const fits = await dig('dig', port, ['+bufsize=1232', '+ignore', 'big.schertz.name', 'TXT']);
  t.notOk(fits.flags.includes('tc'), 'EDNS 1232: fits');
  t.same(fits.answer, [bigAnswer]);
  const kfits = await dig('kdig', port, ['+bufsize=700', '+ignore', 'big.schertz.name', 'TXT']);
  t.notOk(kfits.flags.includes('TC') || kfits.flags.includes('tc'), 'kdig EDNS 700: fits');
  const retried = await dig('dig', port, ['+noedns', 'big.schertz.name', 'TXT']);
  t.match(retried.raw, /;; Truncated, retrying in TCP mode\./, 'dig retries over TCP by itself');
  t.same(retried.answer, [bigAnswer], 'and gets the whole answer');
  // ~1.5 kB: more than we ever send over UDP, whatever the client offers.
  const huge = await dig('dig', port, ['+bufsize=4096', '+ignore', 'huge.schertz.name', 'TXT']);
  t.ok(huge.flags.includes('tc'), 'EDNS 4096: capped at 1232, TC=1');
  const hugeTcp = await dig('dig', port, ['+bufsize=4096', 'huge.schertz.name', 'TXT']);
  t.same(hugeTcp.answer, [`huge.schertz.name. 300 IN TXT ${HUGE_TXT.map((s) => `"${s}"`).join(' ')}`], 'the full answer over TCP');
  const kretry = await dig('kdig', port, ['huge.schertz.name', 'TXT']);
  t.match(kretry.raw, /TC|retrying over TCP|TCP/i, 'kdig also gets it (retries with TCP or shows TC)');
  t.ok(daemon.counters.truncated >= 4);
  const dnssec = await dig('dig', port, ['+dnssec', 'ucupdates-r2.schertz.name', 'A']);
  t.match(dnssec.raw, /EDNS: version: 0, flags: do;/, 'DO copied (RFC 3225)');
  const v1 = await dig('dig', port, ['+edns=1', '+noednsneg', 'ucupdates-r2.schertz.name', 'A']);
  t.equal(v1.status, 'BADVERS', 'EDNS version 1: BADVERS');
  t.same(v1.answer, []);
});

t.test('NOTIMP, FORMERR, QR=1 dropped, garbage survives', { skip }, async (t) => {
  const { daemon, port } = await start(t);
  t.equal((await dig('dig', port, ['+opcode=2', 'ucupdates-r2.schertz.name', 'A'])).status, 'NOTIMP', 'opcode STATUS: NOTIMP');
  t.equal((await dig('dig', port, ['+opcode=4', 'schertz.name', 'SOA'])).status, 'NOTIMP', 'opcode NOTIFY: NOTIMP');
  const opt = '00 0029 04d0 00 00 0000 0000';
  const results = await udpExchange(port, [
    rawQuery(10, 'schertz.name', 6, { flags: 0x2800 }), // UPDATE (opcode 5)
    rawQuery(11, 'schertz.name', 6, { qdcount: 2 }), // two questions announced, one present
    rawQuery(12, 'schertz.name', 6, { qdcount: 0 }).subarray(0, 12), // no question at all
    Buffer.concat([rawQuery(13, '', 1).subarray(0, 12), Buffer.from('c00c00010001', 'hex')]), // compression in the question
    Buffer.concat([rawQuery(14, 'schertz.name', 6), Buffer.from('00', 'hex')]), // a trailing byte
    rawQuery(15, 'schertz.name', 6, { additional: `${opt} ${opt}`, arcount: 2 }), // two OPTs
    rawQuery(16, 'schertz.name', 6, { arcount: 0xffff }), // counts that cannot fit
    rawQuery(17, 'schertz.name', 6, { flags: 0x8100 }), // QR=1: a response, never answered
    Buffer.from('0102', 'hex'), // shorter than a header
    rawQuery(18, 'ucupdates-r2.schertz.name', 1), // and a good one still works
  ]);
  const rcode = (b: Buffer | undefined) => (b ? b[3]! & 0xf : -1);
  t.equal(rcode(results[0]![0]), 4, 'UPDATE: NOTIMP');
  t.equal(results[0]![0]![2]! & 0x78, 0x28, 'the opcode is echoed');
  for (const i of [1, 2, 3, 4, 5, 6]) {
    t.equal(results[i]!.length, 1, `malformed #${i}: one answer`);
    t.equal(rcode(results[i]![0]), 1, `malformed #${i}: FORMERR`);
    t.equal(results[i]![0]!.readUInt16BE(0), 10 + i, 'with its ID');
  }
  t.same(results[7], [], 'QR=1: no answer at all');
  t.same(results[8], [], 'two bytes: no answer');
  t.equal(rcode(results[9]![0]), 0, 'a good query right after is answered');
  // nsupdate believes a server that answers UPDATE; ours says NOTIMP and nsupdate must fail.
  const ns = await run('sh', ['-c', `printf 'server 127.0.0.1 ${port}\\nzone schertz.name\\nupdate add evil.schertz.name 60 A 192.0.2.66\\nsend\\n' | nsupdate -t 2 -r 0`]);
  if (which('nsupdate')) t.not(ns.code, 0, `nsupdate fails: ${ns.stderr.trim().split('\n').pop()}`);

  // Garbage: random datagrams, mutated real queries, compression loops; then it still answers.
  const good = rawQuery(0x7777, 'ucupdates-r2.schertz.name', 1, { additional: opt });
  const junk: Buffer[] = [];
  for (let i = 0; i < 300; i++) junk.push(randomBytes(1 + (i % 200)));
  for (let i = 0; i < 300; i++) {
    const b = Buffer.from(good);
    for (let k = 0; k < 3; k++) b[(i * 7 + k * 13) % b.length] = (i * 31 + k) & 0xff;
    junk.push(b);
  }
  junk.push(Buffer.from('0b0b0000ffffffffffffffff', 'hex'));
  junk.push(Buffer.concat([rawQuery(1, '', 1).subarray(0, 12), Buffer.from('01 61 c0 0c 0001 0001'.replace(/ /g, ''), 'hex')]));
  junk.push(rawQuery(2, 'schertz.name', 1, { additional: '01 61 c0 1e 0029 0200 00000000 0000', arcount: 1 }));
  await udpExchange(port, junk, 0);
  await new Promise((r) => setTimeout(r, 300));
  await tcpExchange(port, [randomBytes(3000)], 1, 1000);
  await tcpExchange(port, [Buffer.from('0005ffff', 'hex')], 1, 500);
  const after = await dig('dig', port, ['ucupdates-r2.schertz.name', 'A']);
  t.same(after.answer, ['ucupdates-r2.schertz.name. 300 IN A 127.88.0.10'], 'still answering after the garbage');
  t.equal(daemon.counters.internalErrors, 0, 'no internal error');
  t.ok(daemon.counters.dropped >= 2);
  t.same(unhandled, [], 'no unhandled rejection');
});

t.test('TCP bounds: idle connections close, a full table evicts the longest idle one', { skip }, async (t) => {
  const { daemon, port } = await start(t, {}, { tcpIdleMs: 300, maxTcpConnections: 2 });
  const idle = await tcpExchange(port, [], 1, 1500);
  t.ok(idle.closed, 'an idle connection is closed by the server');
  const net = await import('node:net');
  const a = net.connect(port, '127.0.0.1');
  const b = net.connect(port, '127.0.0.1');
  a.on('error', () => undefined);
  b.on('error', () => undefined);
  await new Promise((r) => setTimeout(r, 100));
  // RFC 7766 §6.2.3: the idle ones make room rather than the newcomer being turned away (test/dns/tcp-limits.test.ts).
  const third = await tcpExchange(port, [frame(rawQuery(5, 'sip.schertz.name', 1))], 1, 1000);
  t.equal(third.answers.length, 1, 'the third connection is answered');
  t.equal(daemon.counters.tcpEvicted, 1, 'the longest idle connection was closed for it');
  t.equal(daemon.counters.tcpRejected, 0);
  a.destroy();
  b.destroy();
});

t.test('lease names (option 12) and reload', { skip }, async (t) => {
  const { daemon, port, lines } = await start(t);
  daemon.setLeaseName('127.88.0.150', 'CX3000-Desk');
  t.same((await dig('dig', port, ['cx3000-desk.schertz.name', 'A'])).answer, ['cx3000-desk.schertz.name. 60 IN A 127.88.0.150']);
  t.same((await dig('dig', port, ['-x', '127.88.0.150'])).answer, ['150.0.88.127.in-addr.arpa. 60 IN PTR cx3000-desk.schertz.name.']);
  daemon.setLeaseName('127.88.0.151', 'cx3000-desk.other.domain');
  t.same((await dig('dig', port, ['cx3000-desk.schertz.name', 'A'])).answer, ['cx3000-desk.schertz.name. 60 IN A 127.88.0.151'], 'the newest lease takes the name');
  t.equal((await dig('dig', port, ['-x', '127.88.0.150'])).status, 'NXDOMAIN', 'and the old PTR goes');
  daemon.setLeaseName('127.88.0.152', 'ucupdates-r2');
  t.same((await dig('dig', port, ['ucupdates-r2.schertz.name', 'A'])).answer, ['ucupdates-r2.schertz.name. 300 IN A 127.88.0.10'], 'a phone cannot take a name of the site');
  daemon.setLeaseName('127.88.0.152', 'ucupdates-r2');
  const collisions = lines.filter((l) => l.level === 40 && l.code === 'dns-name-collision');
  t.equal(collisions.length, 1, 'said at warn, once per client and name (was debug only)');
  t.match(collisions[0]?.msg, /127\.88\.0\.152 calls itself ucupdates-r2, but ucupdates-r2\.schertz\.name is a name of the site/);
  daemon.setLeaseName('127.88.0.153', 'bad_name!');
  t.equal(daemon.counters.leaseNames, 1);
  daemon.setLeaseName('127.88.0.151', null);
  t.equal((await dig('dig', port, ['cx3000-desk.schertz.name', 'A'])).status, 'NXDOMAIN', 'gone with the lease');
  t.equal((await dig('dig', port, ['-x', '127.88.0.151'])).status, 'NXDOMAIN');

  daemon.setLeaseName('127.88.0.160', 'survivor');
  const next = testPlan();
  daemon.reload({ ...next, dns: { ...next.dns, port, zones: next.dns.zones.map((z) => (z.apex === 'time.windows.com' ? { ...z, records: z.records.map((r) => (r.data.type === 'A' ? { ...r, data: { type: 'A' as const, address: '127.88.0.2' } } : r)) } : z)) } });
  t.same((await dig('dig', port, ['time.windows.com', 'A'])).answer, ['time.windows.com. 300 IN A 127.88.0.2'], 'reload swaps the zones');
  t.same((await dig('dig', port, ['survivor.schertz.name', 'A'])).answer, ['survivor.schertz.name. 60 IN A 127.88.0.160'], 'lease names survive a reload');
});

t.test('forwarders: outside names go upstream and come back unchanged', { skip }, async (t) => {
  // The upstream is a second daemon authoritative for example.net; ours forwards to it.
  const upstreamPlan = testPlan({ records: [{ name: 'host.example.net', type: 'A', address: '192.0.2.7' }] });
  const upstream = await DnsDaemon.start(upstreamPlan, { logger: pino({ level: 'silent' }) });
  t.teardown(() => upstream.stop());
  const up = upstream.address().port;
  const { daemon, port, lines } = await start(t, { forwarders: [`127.0.0.1:${up}`] }, { forwardTimeoutMs: 300 });
  const r = await dig('dig', port, ['host.example.net', 'A']);
  t.equal(r.status, 'NOERROR');
  t.same(r.answer, ['host.example.net. 300 IN A 192.0.2.7'], 'answer passed back');
  t.ok(r.flags.includes('aa'), 'the upstream flags, unchanged');
  const q = rawQuery(0xabcd, 'HoSt.example.net', 1);
  const [[a]] = await udpExchange(port, [q], 500);
  t.equal(a?.readUInt16BE(0), 0xabcd, "the client's ID");
  t.equal(a?.subarray(12, q.length).toString('hex'), q.subarray(12).toString('hex'), 'question as sent');
  const tcp = await dig('dig', port, ['+tcp', 'host.example.net', 'A']);
  t.same(tcp.answer, ['host.example.net. 300 IN A 192.0.2.7'], 'a TCP client is forwarded too');
  t.equal((await dig('dig', port, ['nope.schertz.name', 'A'])).status, 'NXDOMAIN', 'our own zones are never forwarded');
  t.equal(daemon.counters.forwarded, 3);
  t.ok(lines.some((l) => l.name === 'host.example.net' && l.rcode === 'NOERROR' && l.forwarder === '127.0.0.1'), 'forwarded queries are logged too');
  await upstream.stop();
  const dead = await dig('dig', port, ['other.example.net', 'A']);
  t.equal(dead.status, 'SERVFAIL', 'no answer upstream: SERVFAIL after the timeout');
  t.equal(daemon.counters.forwardFailures, 1);
});

t.test('both UDP paths: the batch socket (default) and the dgram fallback answer alike', { skip }, async (t) => {
  const answers: Record<string, string[]> = {};
  for (const dgram of [false, true]) {
    const logger = pino({ level: 'silent' });
    const daemon = await DnsDaemon.start(testPlan(), { logger, dgram });
    t.teardown(() => daemon.stop());
    const port = daemon.address().port;
    t.equal(daemon.udpTransport, dgram ? 'dgram' : 'batch', `transport ${daemon.udpTransport}`);
    const results = await udpExchange(port, [
      rawQuery(1, 'ucupdates-r2.schertz.name', 1),
      rawQuery(2, 'schertz.name', 6, { qdcount: 2 }), // FORMERR
      rawQuery(3, 'schertz.name', 6, { flags: 0x8100 }), // QR=1: dropped
      Buffer.concat([rawQuery(4, 'schertz.name', 6), Buffer.alloc(70000 - 100)]).subarray(0, 65000), // longer than a slot, answered (RFC 8906): FORMERR, trailing bytes
      rawQuery(5, 'nope.example.org', 1), // REFUSED
    ]);
    answers[daemon.udpTransport] = results.map((r) => r.map((b) => b.toString('hex')).join(','));
    t.equal(results[0]![0]?.[3]! & 0xf, 0, 'NOERROR');
    t.equal(results[1]![0]?.[3]! & 0xf, 1, 'FORMERR');
    t.same(results[2], [], 'QR=1 not answered');
    t.equal(results[4]![0]?.[3]! & 0xf, 5, 'REFUSED');
    t.equal(daemon.counters.received, 5);
    t.equal(results[3]![0]?.[3]! & 0xf, 1, 'the 65000-byte datagram: FORMERR (trailing bytes), not dropped');
    t.equal(daemon.counters.dropped, 1, 'QR=1 counted as dropped');
    t.equal(daemon.counters.internalErrors, 0);
    t.equal(daemon.counters.sendErrors, 0);
    const after = await dig('dig', port, ['ucupdates-r2.schertz.name', 'A']);
    t.same(after.answer, ['ucupdates-r2.schertz.name. 300 IN A 127.88.0.10'], 'dig after the 65000-byte datagram');
  }
  t.same(answers.batch, answers.dgram, 'byte-identical answers on both paths');
});
