// The probe's pure checks, without a network. Input bytes come from
// independent sources: DHCPUtil's option 43/120 output and RFC 3397's example
// (both quoted in docs/lpe-facts.md), dnsmasq's documented mistakes
// (reverse order, `01 bb`, trailing `ff`) written out by hand, a DNS SRV
// answer from docs/dependency-audit.md, NTP headers laid out from RFC 5905 §7.3.
import t from 'tap';
import { emptyMessage, encodeDhcpMessage, MessageType, type DhcpMessage } from '../../src/wire/dhcp-message.js';
import type { Check } from '../../src/probe/check.js';
import { checkReplyOptions } from '../../src/probe/option-checks.js';
import { analyzeOption, exitCodeFor } from '../../src/toolkit/decode.js';
import { checkDnsAnswer, gradeDns, phoneQuestions, type DnsQuestion } from '../../src/probe/dns-checks.js';
import { decodeDnsAnswers } from '../../src/wire/dns-message.js';
import { buildNtpRequest, checkNtpAnswer, gradeNtp } from '../../src/probe/ntp-checks.js';
import { buildDiscover, buildInform, buildRequest, checkAck, checkInformAck, checkOffer, checkServers, parseMac, parsePrl, PHONE_PRL } from '../../src/probe/phone-dhcp.js';
import { buildReport, exitCode, renderText } from '../../src/probe/report.js';

import { DHCPUTIL_120, DHCPUTIL_43, H, RFC3397_119, SUB1, SUB2, SUB3, SUB4, SUB5 } from '../helpers/public-bytes.js';
const ascii = (s: string): string => Buffer.from(s, 'ascii').toString('hex');
const byId = (checks: readonly Check[], id: string): Check => {
  const c = checks.find((x) => x.id === id);
  if (!c) throw new Error(`no check ${id} in ${checks.map((x) => x.id).join(', ')}`);
  return c;
};

t.test('the pieces really are DHCPUtil\'s option 43', async (t) => {
  t.equal(SUB1 + SUB2 + SUB3 + SUB4 + SUB5, DHCPUTIL_43);
  t.equal(H(DHCPUTIL_43).length, 90);
});

t.test('option lines: a clean option is one pass line, each problem its own line with the bytes', async (t) => {
  const good = checkReplyOptions(goodOptions(), 'ack').checks;
  t.same(good.map((c) => c.id), ['opt1', 'opt3', 'opt6', 'opt15', 'opt119', 'opt42', 'opt4', 'opt43', 'opt120']);
  t.match(byId(good, 'opt43').detail, /Certificate Provisioning URL https:\/\/server\.fqdn\.company\.com:443\/CertProv/);
  t.match(byId(good, 'opt120').detail, 'encoding 0, server.fqdn.company.com');

  const dnsmasq = goodOptions();
  dnsmasq.set(43, H(SUB1 + SUB2 + SUB3 + '04 02 01 bb' + SUB5 + 'ff'));
  const bad = checkReplyOptions(dnsmasq, 'ack').checks;
  t.match(byId(bad, 'opt43.port-binary'), { status: 'fail', detail: /01 bb where the phone wants the ASCII text "443" \(34 34 33\)/, bytes: '01 bb', offset: H(SUB1 + SUB2 + SUB3).length + 2 });
  t.match(byId(bad, 'opt43.end-marker'), { status: 'warn', bytes: 'ff', offset: 89 });
  t.notOk(bad.some((c) => c.id === 'opt43'), 'no pass line for an option with problems');
});

t.test('probe and decode give one verdict on the same bytes (reversed, 0xFF, quoted port)', async (t) => {
  // The case: decode said "usable, with 2 warnings", the probe failed it.
  const bytes = H(SUB5 + SUB4 + SUB3 + SUB2 + SUB1 + 'ff');
  const opts = goodOptions();
  opts.set(43, bytes);
  const checks = checkReplyOptions(opts, 'ack').checks.filter((c) => c.id.startsWith('opt43'));
  t.same(checks.map((c) => `${c.status}:${c.id}`).sort(), ['warn:opt43.end-marker', 'warn:opt43.order']);
  const decoded = analyzeOption(43, bytes);
  t.equal(exitCodeFor(decoded.findings), 0);
  t.same(decoded.findings.map((f) => `${f.severity}:${f.code}`).sort(), ['warning:end-marker', 'warning:order']);
  const report = buildReport({ transport: { kind: 'relay', giaddr: '127.88.0.1', server: '127.0.0.1', port: 6767 }, request: 'discover', identity: { mac: '02:00:00:00:00:01', vendorClass: 'MS-UC-Client', prl: [...PHONE_PRL] }, checks });
  t.equal(exitCode(report), 0, 'the probe does not fail what decode calls usable');
});

function goodOptions(): Map<number, Uint8Array> {
  return new Map<number, Uint8Array>([
    [53, H('05')],
    [54, H('0a 14 00 01')],
    [51, H('00 00 70 80')],
    [1, H('ff ff ff 00')],
    [3, H('0a 14 00 01')],
    [6, H('0a 14 00 01')],
    [15, new Uint8Array(Buffer.from('eng.apple.com'))],
    [119, H(RFC3397_119)],
    [42, H('0a 14 00 01')],
    [4, H('0a 14 00 01')],
    [43, H(DHCPUTIL_43)],
    [120, H(DHCPUTIL_120)],
  ]);
}

t.test('a good ACK: every option check passes and the facts are right', async (t) => {
  const { checks, facts } = checkReplyOptions(goodOptions(), 'ack');
  for (const c of checks) t.equal(c.status, 'pass', `${c.id}: ${c.detail}`);
  t.same(facts, {
    dnsServers: ['10.20.0.1'],
    domains: ['eng.apple.com', 'marketing.apple.com'],
    ntpServers: ['10.20.0.1'],
    timeServers: ['10.20.0.1'],
    sipServers: ['server.fqdn.company.com'],
    has120: true,
    webFqdn: 'server.fqdn.company.com',
    certProvUrl: 'https://server.fqdn.company.com:443/CertProv/CertProvisioningService.svc',
  });
  t.same(
    phoneQuestions(facts).map((q) => `${q.type} ${q.name}`),
    [
      'A ucupdates-r2.eng.apple.com',
      'A ucupdates-r2.marketing.apple.com',
      'SRV _ntp._udp.eng.apple.com',
      'SRV _ntp._udp.marketing.apple.com',
      'A time.windows.com',
      'SRV _sipinternaltls._tcp.eng.apple.com',
      'SRV _sipinternaltls._tcp.marketing.apple.com',
      'A server.fqdn.company.com',
    ],
    'web and pool FQDN are the same name: asked once',
  );
});

t.test('an ACK without 120, with a bare-ASCII 120, without 6', async (t) => {
  const no120 = goodOptions();
  no120.delete(120);
  const a = checkReplyOptions(no120, 'ack');
  t.match(byId(a.checks, 'opt120'), { status: 'fail' });
  t.equal(a.facts.has120, false);

  const bare = goodOptions();
  bare.set(120, new Uint8Array(Buffer.from('lyncpool.schertz.name')));
  t.match(byId(checkReplyOptions(bare, 'ack').checks, 'opt120.bare-ascii'), { status: 'fail', detail: /no encoding byte/ });

  const no6 = goodOptions();
  no6.delete(6);
  no6.delete(1);
  const c = checkReplyOptions(no6, 'inform');
  t.match(byId(c.checks, 'opt6'), { status: 'fail' });
  t.match(byId(c.checks, 'opt1'), { status: 'skip' }, 'no mask is fine after an INFORM');
  t.same(c.facts.dnsServers, []);
});

// ---------------------------------------------------------------- DNS

const name = (s: string): string => s.split('.').map((l) => l.length.toString(16).padStart(2, '0') + ascii(l)).join('') + '00';
const q = (group: DnsQuestion['group'], n: string, type: 'A' | 'SRV'): DnsQuestion => ({ group, name: n, type, purpose: 'test' });

t.test('DNS answers: A, NXDOMAIN, compressed SRV target, garbage', async (t) => {
  const qn = name('ucupdates-r2.example.local');
  const a = H('1234 8180 0001 0001 0000 0000' + qn + '0001 0001' + 'c00c 0001 0001 00000e10 0004 0a14000a');
  const fa = checkDnsAnswer(q('ucupdates', 'ucupdates-r2.example.local', 'A'), { kind: 'answer', server: '10.20.0.1:53', bytes: a, rttMs: 1 });
  t.match(fa.check, { status: 'pass', detail: '10.20.0.10', id: 'dns.A.ucupdates-r2.example.local' });
  t.same(fa.addresses, ['10.20.0.10']);

  const nx = H('1234 8183 0001 0000 0000 0000' + qn + '0001 0001');
  t.match(checkDnsAnswer(q('ucupdates', 'ucupdates-r2.example.local', 'A'), { kind: 'answer', server: 's', bytes: nx, rttMs: 1 }).check, { status: 'fail', detail: /NXDOMAIN/ });

  const nodata = H('1234 8180 0001 0000 0000 0000' + qn + '0001 0001');
  t.match(checkDnsAnswer(q('ucupdates', 'ucupdates-r2.example.local', 'A'), { kind: 'answer', server: 's', bytes: nodata, rttMs: 1 }).check, { status: 'fail', detail: /NOERROR but no A record/ });

  // docs/dependency-audit.md: dns2's SRV RDATA with the target compressed onto the question (offset 33).
  const sq = name('_sipinternaltls._tcp.corp.example.com');
  const srv = H('0001 8180 0001 0001 0000 0000' + sq + '0021 0001' + 'c00c 0021 0001 0000003c 0010' + '00 00 00 00 13 c5 07 73 69 70 70 6f 6f 6c c0 21');
  const decoded = decodeDnsAnswers(srv);
  t.ok(decoded.ok && decoded.value.answers[0]!.targetCompressed);
  const fs = checkDnsAnswer(q('sip-srv', '_sipinternaltls._tcp.corp.example.com', 'SRV'), { kind: 'answer', server: 's', bytes: srv, rttMs: 1 });
  t.equal(fs.check.status, 'warn');
  t.match(fs.check.detail, /^0 0 5061 sippool\.corp\.example\.com: target name is compressed/);
  t.same(fs.srv, [{ priority: 0, weight: 0, port: 5061, target: 'sippool.corp.example.com' }]);

  const plain = H('0001 8180 0001 0001 0000 0000' + sq + '0021 0001' + 'c00c 0021 0001 0000003c 0020' + '0000 0000 13c5' + name('sippool.corp.example.com'));
  t.match(checkDnsAnswer(q('sip-srv', '_sipinternaltls._tcp.corp.example.com', 'SRV'), { kind: 'answer', server: 's', bytes: plain, rttMs: 1 }).check, { status: 'pass', detail: '0 0 5061 sippool.corp.example.com' });

  const outside = H('0001 8180 0001 0001 0000 0000' + sq + '0021 0001' + 'c00c 0021 0001 0000003c 001a' + '0000 0000 13c5' + name('pool.other.example'));
  t.match(checkDnsAnswer(q('sip-srv', '_sipinternaltls._tcp.corp.example.com', 'SRV'), { kind: 'answer', server: 's', bytes: outside, rttMs: 1 }).check, { status: 'warn', detail: /outside corp\.example\.com/ });

  // Counts of 0xffff with nothing behind them: fails at once, no stall.
  const huge = H('0001 8180 ffff ffff 0000 0000');
  t.match(checkDnsAnswer(q('time', 'time.windows.com', 'A'), { kind: 'answer', server: 's', bytes: huge, rttMs: 1 }).check, { status: 'fail', detail: /does not decode/ });

  t.match(checkDnsAnswer(q('time', 'time.windows.com', 'A'), { kind: 'timeout', servers: ['127.0.0.1:5300'], waitedMs: 2000 }).check, { status: 'fail', detail: 'no answer from 127.0.0.1:5300 within 2000 ms' });
});

t.test('DNS grading: alternatives, and SIP SRV only a fallback to option 120', async (t) => {
  const ok = { kind: 'answer' as const, server: 's', rttMs: 1, bytes: H('1234 8180 0001 0001 0000 0000' + name('ucupdates-r2.a.example') + '0001 0001 c00c 0001 0001 00000e10 0004 0a14000a') };
  const none = { kind: 'timeout' as const, servers: ['s'], waitedMs: 10 };
  const f = [
    checkDnsAnswer(q('ucupdates', 'ucupdates-r2.a.example', 'A'), ok),
    checkDnsAnswer(q('ucupdates', 'ucupdates-r2.b.example', 'A'), none),
    checkDnsAnswer(q('time', 'time.windows.com', 'A'), none),
    checkDnsAnswer(q('sip-srv', '_sipinternaltls._tcp.a.example', 'SRV'), none),
    checkDnsAnswer(q('web', 'web.a.example', 'A'), none),
  ];
  const with120 = gradeDns(f, true);
  t.same(with120.map((c) => c.status), ['pass', 'warn', 'fail', 'warn', 'fail']);
  t.match(with120[1]!.detail, /another domain answers/);
  t.match(with120[3]!.detail, /option 120's FQDN/);
  t.equal(gradeDns(f, false)[3]!.status, 'fail');
});

// ---------------------------------------------------------------- NTP

t.test('NTP: request layout, a good answer, and the ways one goes wrong', async (t) => {
  const t1 = H('e9f0a1b2 00000000');
  const req = buildNtpRequest(t1);
  t.equal(Buffer.from(req).toString('hex'), '1b' + '00'.repeat(39) + 'e9f0a1b200000000', 'LI 0, VN 3, mode 3, only the transmit timestamp');
  const reply = (first: string, stratum: string, origin: string, recv: string, xmit: string): Uint8Array =>
    H(first + stratum + '06 ec' + '00000000 00000000' + '4c4f434c' + 'e9f0a100 00000000' + origin + recv + xmit);
  const target = { address: '10.20.0.1', port: 123, source: 'option 42' };
  const t4 = H('e9f0a1b3 00000000');
  // Server receives and sends half a second after T1; we see it one second after T1: offset 0, delay 1 s.
  const good = reply('1c', '0a', 'e9f0a1b200000000', 'e9f0a1b280000000', 'e9f0a1b280000000');
  const g = checkNtpAnswer(target, t1, { kind: 'answer', bytes: good, t4 }, 300);
  t.match(g.check, { status: 'pass', detail: 'stratum 10, offset +0.000 s from this host, delay 1000.0 ms', id: 'ntp.10.20.0.1:123' });
  t.equal(g.offsetSeconds, 0);

  t.match(checkNtpAnswer(target, t1, { kind: 'answer', bytes: reply('1b', '0a', 'e9f0a1b200000000', 'e9f0a1b280000000', 'e9f0a1b280000000'), t4 }, 300).check, { status: 'fail', detail: /mode 3, not 4/ });
  const wrongOrigin = checkNtpAnswer(target, t1, { kind: 'answer', bytes: reply('1c', '0a', 'e9f0a1b200000001', 'e9f0a1b280000000', 'e9f0a1b280000000'), t4 }, 300).check;
  t.match(wrongOrigin, { status: 'fail', detail: /not the request's transmit timestamp/, bytes: 'e9 f0 a1 b2 00 00 00 01', offset: 24 });
  t.match(checkNtpAnswer(target, t1, { kind: 'answer', bytes: reply('dc', '00', 'e9f0a1b200000000', '0000000000000000', '0000000000000000').map((b, i) => (i >= 12 && i < 16 ? 'RATE'.charCodeAt(i - 12) : b)), t4 }, 300).check, { status: 'fail', detail: /kiss-o'-death "RATE"/ });
  t.match(checkNtpAnswer(target, t1, { kind: 'answer', bytes: reply('1c', '10', 'e9f0a1b200000000', 'e9f0a1b280000000', 'e9f0a1b280000000'), t4 }, 300).check, { status: 'fail', detail: /stratum 16/ });
  t.match(checkNtpAnswer(target, t1, { kind: 'answer', bytes: reply('dc', '0a', 'e9f0a1b200000000', 'e9f0a1b280000000', 'e9f0a1b280000000'), t4 }, 300).check, { status: 'fail', detail: /leap indicator 3/ });
  // An hour ahead.
  const far = checkNtpAnswer(target, t1, { kind: 'answer', bytes: reply('1c', '0a', 'e9f0a1b200000000', 'e9f0afc280000000', 'e9f0afc280000000'), t4 }, 300);
  t.equal(far.check.status, 'fail');
  t.equal(far.offsetSeconds, 3600);
  t.match(checkNtpAnswer(target, t1, { kind: 'answer', bytes: H('1c0a'), t4 }, 300).check, { status: 'fail', detail: /48 bytes/ });
  t.match(checkNtpAnswer(target, t1, { kind: 'timeout', waitedMs: 2000 }, 300).check, { status: 'fail', detail: 'no answer within 2000 ms' });

  const graded = gradeNtp([checkNtpAnswer(target, t1, { kind: 'timeout', waitedMs: 5 }, 300), g]);
  t.same(graded.map((c) => c.status), ['warn', 'pass']);
});

// ---------------------------------------------------------------- DHCP

const MAC = parseMac('00:04:f2:95:31:a2')!;
const id = { mac: MAC, vendorClass: 'MS-UC-Client', prl: PHONE_PRL, broadcast: true };

t.test('the phone\'s DISCOVER, REQUEST and INFORM on the wire', async (t) => {
  const d = encodeDhcpMessage(buildDiscover(id, 0x01020304));
  t.ok(d.ok);
  if (!d.ok) return;
  const hexd = Buffer.from(d.value).toString('hex');
  t.equal(hexd.slice(0, 24), '010106000102030400008000', 'BOOTREQUEST, Ethernet, xid, broadcast flag');
  t.equal(hexd.slice(56, 68), '0004f29531a2', 'chaddr');
  t.match(hexd, '350101', 'option 53 DISCOVER');
  t.match(hexd, '3d07010004f29531a2', 'option 61: type 1 + MAC');
  t.match(hexd, '3c0c' + '4d532d55432d436c69656e74', 'option 60 MS-UC-Client');
  t.match(hexd, '370d' + '0103060f2a042b7877022c2e2f', 'option 55 as documented');

  const relayed = encodeDhcpMessage(buildRequest({ ...id, broadcast: false, giaddr: '127.88.0.1' }, 7, '127.88.0.100', H('7f000001')));
  t.ok(relayed.ok);
  if (!relayed.ok) return;
  const hexr = Buffer.from(relayed.value).toString('hex');
  t.equal(hexr.slice(0, 24), '010106010000000700000000', 'hops 1, no broadcast flag');
  t.equal(hexr.slice(48, 56), '7f580001', 'giaddr');
  t.match(hexr, '3204' + '7f580064');
  t.match(hexr, '3604' + '7f000001');

  const inf = buildInform({ ...id, broadcast: false }, 9, '10.20.0.57');
  t.equal(inf.ciaddr, '10.20.0.57');
  t.equal(inf.options.get(53)![0], MessageType.INFORM);
  t.notOk(inf.options.has(50));

  t.same(parsePrl('1, 3,43,120'), [1, 3, 43, 120]);
  t.equal(parsePrl('1,300'), null);
  t.equal(parseMac('0004.f295.31a2')?.length, 6);
  t.equal(parseMac('zz'), null);
});

function reply(type: number, set?: (m: DhcpMessage) => void): DhcpMessage {
  const m = emptyMessage();
  m.options.set(53, new Uint8Array([type]));
  m.options.set(54, H('0a140001'));
  set?.(m);
  return m;
}

t.test('DHCP exchange checks', async (t) => {
  t.match(checkOffer({ sent: 3, waitedMs: 6000, reply: null }), { status: 'fail', detail: 'no OFFER after 3 DISCOVER(s) in 6.0 s' });
  t.match(checkOffer({ sent: 1, waitedMs: 5, reply: { message: reply(MessageType.OFFER, (m) => (m.yiaddr = '10.20.0.100')), from: '10.20.0.1', afterMs: 5 } }), { status: 'pass', detail: /10\.20\.0\.100 from server 10\.20\.0\.1/ });
  t.match(checkOffer({ sent: 1, waitedMs: 5, reply: { message: reply(MessageType.OFFER, (m) => { m.yiaddr = '10.20.0.100'; m.options.delete(54); }), from: 'x', afterMs: 5 } }), { status: 'fail', detail: /without a server identifier/ });

  const nak = reply(MessageType.NAK, (m) => m.options.set(56, new Uint8Array(Buffer.from('wrong network'))));
  t.match(checkAck({ sent: 1, waitedMs: 5, reply: { message: nak, from: 'x', afterMs: 5 } }, '10.20.0.100'), [{ status: 'fail', detail: 'NAK from x: "wrong network"' }]);
  const ack = reply(MessageType.ACK, (m) => {
    m.yiaddr = '10.20.0.100';
    m.options.set(51, H('00007080'));
  });
  t.match(checkAck({ sent: 1, waitedMs: 5, reply: { message: ack, from: 'x', afterMs: 5 } }, '10.20.0.100'), [{ status: 'pass' }, { status: 'pass', detail: '8h' }]);

  // dnsmasq puts a lease time in its INFORM ACK.
  const informAck = reply(MessageType.ACK, (m) => m.options.set(51, H('00000e10')));
  t.match(checkInformAck({ sent: 1, waitedMs: 5, reply: { message: informAck, from: 'x', afterMs: 5 } }), [{ status: 'pass' }, { id: 'dhcp.inform-form', status: 'warn', detail: /lease time \(51\)/ }]);
  t.match(checkInformAck({ sent: 2, waitedMs: 4000, reply: null }), [{ status: 'fail' }]);

  const other = reply(MessageType.OFFER, (m) => m.options.set(54, H('0a140002')));
  t.match(checkServers([{ message: reply(MessageType.OFFER), from: 'a', afterMs: 1 }, { message: other, from: 'b', afterMs: 2 }]), { status: 'warn', detail: /2 servers answered \(10\.20\.0\.1, 10\.20\.0\.2\)/ });
  t.equal(checkServers([{ message: reply(MessageType.OFFER), from: 'a', afterMs: 1 }]), null);
});

t.test('report: checklist text, JSON-able, exit code', async (t) => {
  const dnsmasq = goodOptions();
  dnsmasq.set(43, H(SUB1 + SUB2 + SUB3 + '04 02 01 bb' + SUB5 + 'ff'));
  const bad = checkReplyOptions(dnsmasq, 'ack').checks;
  const report = buildReport({
    transport: { kind: 'relay', giaddr: '127.88.0.1', server: '127.0.0.1', port: 6767 },
    request: 'discover',
    identity: { mac: '02:00:00:00:00:01', vendorClass: 'MS-UC-Client', prl: [...PHONE_PRL] },
    checks: bad,
  });
  t.equal(report.ok, false);
  t.equal(exitCode(report), 1);
  t.equal(report.counts.fail, 1);
  const text = renderText(report);
  t.match(text, /✘ option 43 \(MS-UC-Client\)\s+sub-option 4 WebServerPort is 443 sent as a 16-bit integer/);
  t.match(text, /bytes at offset 48: 01 bb/);
  t.match(text, /⚠ option 43 \(MS-UC-Client\)\s+option 43 ends with a 0xFF end marker/);
  t.match(text, /✔ option 120 \(SIP server\)/);
  t.match(text, /✘ a phone would fail: 8 passed, 1 warning, 1 failed\n$/);
  t.notMatch(text, /\x1b\[/, 'no colour unless asked');
  t.same(JSON.parse(JSON.stringify(report)), report);

  const good = buildReport({ ...report, checks: checkReplyOptions(goodOptions(), 'ack').checks, certProvUrl: 'https://x:443/y' });
  t.equal(exitCode(good), 0);
  t.match(renderText(good), /✔ a phone would get through/);
});
