// The staging timeline model: which steps of a Lync Phone Edition boot are
// done, what is missing and why, how DNS/NTP events find their phone through
// the DHCP leases, and that memory stays bounded.
import t from 'tap';
import { StagingTimeline } from '../../src/timeline/timeline.js';
import type { DhcpExchangeEvent, PhoneView } from '../../src/timeline/types.js';

const SITE = { site: 'staging-lab', domains: ['schertz.name', 'corp.schertz.name'] };
const MAC = '00:04:f2:95:31:a2';
const IP = '10.20.0.101';
const T0 = Date.UTC(2024, 4, 31, 15, 8, 0);
// A plausible LPE option 55: the documented 43 and 120 among the usual ones ([U] in docs/lpe-facts.md §Option 60).
const LPE_PRL = [1, 3, 6, 15, 42, 4, 43, 119, 120];
const SENT_INFORM = [53, 54, 1, 3, 6, 15, 42, 4, 43, 119, 120];

function dhcp(over: Partial<DhcpExchangeEvent> & { type: string; at: number }): DhcpExchangeEvent {
  return { mac: MAC, prl: LPE_PRL, optionsSent: [], vendorClass: 'MS-UC-Client', ...over };
}

/** DISCOVER/OFFER then REQUEST/ACK. */
function lease(tl: StagingTimeline, at: number, over: Partial<DhcpExchangeEvent> = {}): void {
  tl.onDhcpExchange(dhcp({ type: 'DISCOVER', replyType: 'OFFER', ip: over.ip ?? IP, at, ...over }));
  tl.onDhcpExchange(dhcp({ type: 'REQUEST', replyType: 'ACK', ip: over.ip ?? IP, at: at + 10, optionsSent: [53, 54, 51, 58, 59, 1, 3, 6, 15, 42, 4, 43, 119, 120], ...over }));
}

function inform(tl: StagingTimeline, at: number, over: Partial<DhcpExchangeEvent> = {}): void {
  tl.onDhcpExchange(dhcp({ type: 'INFORM', replyType: 'ACK', ip: IP, at, optionsSent: SENT_INFORM, ...over }));
}

function phone(tl: StagingTimeline, mac = MAC): PhoneView {
  const p = tl.snapshot().phones.find((x) => x.mac === mac);
  if (!p) throw new Error(`no phone ${mac}`);
  return p;
}

t.test('a full LPE boot: every step done, with times, nothing missing', async (t) => {
  const tl = new StagingTimeline({ site: SITE, now: () => T0 + 60_000 });
  lease(tl, T0);
  inform(tl, T0 + 1000);
  tl.onDnsQuery({ client: IP, name: 'ucupdates-r2.schertz.name.', type: 'A', rcode: 'NOERROR', answers: 1, at: T0 + 2000 });
  tl.onDnsQuery({ client: IP, name: '_ntp._udp.schertz.name', type: 'SRV', rcode: 'NOERROR', answers: 1, at: T0 + 2500 });
  tl.onNtpClient({ address: IP, version: 3, clientOffsetMs: -3_600_000, kind: 'reply', at: T0 + 3000 });
  tl.onNtpClient({ address: IP, version: 3, clientOffsetMs: 12, kind: 'reply', at: T0 + 67_000 });

  const p = phone(tl);
  t.equal(p.ip, IP);
  t.equal(p.lpe, true);
  t.same(p.vendorClasses, ['MS-UC-Client']);
  t.same(p.missing, [], 'nothing missing');
  t.same(
    [p.lease.state, p.inform.state, p.ucupdates.state, p.timeLookup.state, p.ntp.state],
    ['done', 'done', 'done', 'done', 'done'],
  );
  t.equal(p.lease.at, T0 + 10, 'lease done at the ACK');
  t.equal(p.lease.discoverAt, T0);
  t.equal(p.lease.address, IP);
  t.equal(p.lease.vendorClass, 'MS-UC-Client', 'vendor class seen on the lease');
  t.same(p.lease.prl, LPE_PRL, 'parameter request list seen');
  t.equal(p.inform.at, T0 + 1000);
  t.same(p.inform.informs[0]!.optionsSent, SENT_INFORM, 'which options answered the INFORM');
  t.equal(p.ucupdates.summary, 'schertz.name');
  t.equal(p.ucupdates.queries[0]!.inSite, true);
  t.equal(p.ucupdates.at, T0 + 2000);
  t.equal(p.timeLookup.at, T0 + 2500);
  t.equal(p.ntp.at, T0 + 3000, 'NTP done at the first answer');
  t.equal(p.ntp.replies, 2);
  t.equal(p.ntp.offsetMs, 12, 'latest offset');
  t.match(p.notes.join('\n'), /has not asked ucupdates-r2 for corp\.schertz\.name/, 'the second 119 domain is a note, not a failure');
  t.same(
    p.events.map((e) => [e.kind, e.text, e.count]),
    [
      ['dhcp', `DISCOVER (MS-UC-Client) → OFFER ${IP}`, 1],
      ['dhcp', `REQUEST (MS-UC-Client) → ACK ${IP}`, 1],
      ['dhcp', 'INFORM (MS-UC-Client) → ACK with 43 and 120', 1],
      ['dns', 'DNS A ucupdates-r2.schertz.name → NOERROR', 1],
      ['dns', 'DNS SRV _ntp._udp.schertz.name → NOERROR', 1],
      ['ntp', 'NTP v3 answered (its clock was off by +0.012 s)', 2],
    ],
    'events in order; NTP polls collapse into a count',
  );
  const view = tl.snapshot();
  t.same(JSON.parse(JSON.stringify(view)), view, 'the view is plain JSON');
  t.equal(view.site, 'staging-lab');
  t.same(view.domains, SITE.domains);
});

t.test('what is missing, step by step, in boot order', async (t) => {
  const tl = new StagingTimeline({ site: SITE });
  tl.onDhcpExchange(dhcp({ type: 'DISCOVER', at: T0, note: 'pool exhausted: no address to offer (100 in pool)' }));
  t.same(phone(tl).missing, [
    'sent DISCOVER but got no offer: pool exhausted: no address to offer (100 in pool)',
    'never sent INFORM',
    'no DNS query for ucupdates-r2 yet',
    'no NTP request yet',
  ]);
  t.equal(phone(tl).lease.state, 'waiting');

  tl.onDhcpExchange(dhcp({ type: 'DISCOVER', replyType: 'OFFER', ip: IP, at: T0 + 1 }));
  t.equal(phone(tl).missing[0], `was offered ${IP} but never sent REQUEST`);
  t.equal(phone(tl).lease.summary, `offered ${IP}`);

  tl.onDhcpExchange(dhcp({ type: 'REQUEST', replyType: 'NAK', at: T0 + 2, note: '10.20.0.9 is not on this network' }));
  t.equal(phone(tl).missing[0], 'its REQUEST was refused (NAK): 10.20.0.9 is not on this network');

  tl.onDhcpExchange(dhcp({ type: 'REQUEST', replyType: 'ACK', ip: IP, at: T0 + 3 }));
  t.same(phone(tl).missing, ['never sent INFORM', 'no DNS query for ucupdates-r2 yet', 'no NTP request yet'], 'lease done: INFORM is next');

  inform(tl, T0 + 4);
  t.same(phone(tl).missing, ['no DNS query for ucupdates-r2 yet', 'no NTP request yet']);
  t.equal(phone(tl).timeLookup.state, 'waiting');

  tl.onDnsQuery({ client: IP, name: 'time.windows.com', type: 'A', rcode: 'NOERROR', answers: 1, at: T0 + 5 });
  t.same(phone(tl).missing, ['no DNS query for ucupdates-r2 yet', 'no NTP request yet (looked up time.windows.com)']);
  t.match(phone(tl).notes.join('\n'), /time\.windows\.com, its fallback/);
});

t.test('a lease without vendor class MS-UC-Client', async (t) => {
  const tl = new StagingTimeline({ site: SITE });
  lease(tl, T0, { vendorClass: undefined });
  let p = phone(tl);
  t.equal(p.lease.state, 'warn');
  t.equal(p.missing[0], 'got a lease without vendor class MS-UC-Client (no option 60)');
  t.equal(p.lpe, false);
  lease(tl, T0 + 100, { vendorClass: 'ms-uc-client' });
  p = phone(tl);
  t.equal(p.missing[0], 'got a lease with vendor class "ms-uc-client", not MS-UC-Client', 'case matters (Microsoft: case-sensitive)');
});

t.test('INFORM answered without 43/120, not answered, and PRL without them', async (t) => {
  const tl = new StagingTimeline({ site: SITE });
  lease(tl, T0);
  inform(tl, T0 + 1, { vendorClass: 'CPE-OCPHONE', optionsSent: [53, 54, 1, 3, 6] });
  let p = phone(tl);
  t.equal(p.inform.state, 'warn');
  t.equal(p.missing[0], 'sent INFORM with vendor class "CPE-OCPHONE": answered without 43 and 120 (only MS-UC-Client gets them)');

  inform(tl, T0 + 2, { replyType: undefined, note: 'relay 10.9.9.1 is not in subnet 10.20.0.0/24', optionsSent: [] });
  p = phone(tl);
  t.equal(p.missing[0], 'sent INFORM with vendor class "MS-UC-Client" but it was not answered: relay 10.9.9.1 is not in subnet 10.20.0.0/24');

  inform(tl, T0 + 3, { prl: [1, 3, 6, 43] });
  p = phone(tl);
  t.equal(p.inform.state, 'done');
  t.equal(p.inform.informs.length, 2, 'the latest INFORM per vendor class');
  t.match(p.notes.join('\n'), /asked for 43 only .*both were sent anyway/);
  t.match(p.notes.join('\n'), /also sent INFORM as "CPE-OCPHONE"/);
});

t.test('ucupdates-r2 for a domain that is not in the site', async (t) => {
  const tl = new StagingTimeline({ site: SITE });
  lease(tl, T0);
  tl.onDnsQuery({ client: IP, name: 'ucupdates-r2.corp.x', type: 'A', rcode: 'REFUSED', at: T0 + 1 });
  let p = phone(tl);
  t.equal(p.ucupdates.state, 'warn');
  t.ok(p.missing.includes('asked ucupdates-r2.corp.x but that domain is not in the site (schertz.name, corp.schertz.name)'), p.missing.join('\n'));
  t.equal(p.ucupdates.queries[0]!.inSite, false);
  t.match(p.ucupdates.summary, /corp\.x \(not in site\)/);

  tl.onDnsQuery({ client: IP, name: 'UCUPDATES-R2.Schertz.Name', type: 'A', rcode: 'NOERROR', answers: 1, at: T0 + 2 });
  p = phone(tl);
  t.equal(p.ucupdates.state, 'warn', 'still flagged while the foreign domain was asked');
  t.notOk(p.missing.includes('no DNS query for ucupdates-r2 yet'));
  t.ok(p.missing.some((m) => m.startsWith('asked ucupdates-r2.corp.x')), 'the foreign domain stays reported');

  tl.onDnsQuery({ client: IP, name: 'ucupdates-r2', type: 'A', rcode: 'NXDOMAIN', at: T0 + 3 });
  t.ok(phone(tl).missing.includes('asked bare ucupdates-r2 (no domain): it holds no DHCP domain (option 15)'));

  // A reload that adds corp.x to the site clears the flag: the view judges, the state only records.
  tl.setSite({ site: 'staging-lab', domains: ['schertz.name', 'corp.x'] });
  t.notOk(phone(tl).missing.some((m) => m.includes('corp.x but')));
});

t.test('ucupdates-r2 answered NXDOMAIN or with no data', async (t) => {
  const tl = new StagingTimeline({ site: SITE });
  lease(tl, T0);
  tl.onDnsQuery({ client: IP, name: 'ucupdates-r2.schertz.name', type: 'A', rcode: 'NXDOMAIN', at: T0 + 1 });
  t.equal(phone(tl).ucupdates.state, 'warn');
  t.ok(phone(tl).missing.includes('ucupdates-r2.schertz.name was answered NXDOMAIN: the phone cannot reach Device Update'));
  tl.onDnsQuery({ client: IP, name: 'ucupdates-r2.corp.schertz.name', type: 'A', rcode: 'NOERROR', answers: 0, at: T0 + 2 });
  t.ok(phone(tl).missing.includes('ucupdates-r2.corp.schertz.name was answered NOERROR with no records: the phone cannot reach Device Update'));
});

t.test('DNS and NTP find their phone through the latest lease or INFORM per address', async (t) => {
  const tl = new StagingTimeline({ site: SITE });
  const A = '00:04:f2:00:00:0a';
  const B = '00:04:f2:00:00:0b';
  lease(tl, T0, { mac: A });
  tl.onDnsQuery({ client: IP, name: 'ucupdates-r2.schertz.name', type: 'A', rcode: 'NOERROR', answers: 1, at: T0 + 1 });
  t.equal(phone(tl, A).ucupdates.state, 'done');

  // The address moves to B (A's lease expired): later queries are B's.
  lease(tl, T0 + 100, { mac: B });
  tl.onNtpClient({ address: IP, version: 4, clientOffsetMs: 5, kind: 'reply', at: T0 + 101 });
  t.equal(phone(tl, B).ntp.state, 'done');
  t.equal(phone(tl, A).ntp.state, 'waiting');

  // A phone with a static address is known from its INFORM's ciaddr.
  const C = '00:04:f2:00:00:0c';
  tl.onDhcpExchange(dhcp({ mac: C, type: 'INFORM', replyType: 'ACK', ip: '10.20.0.7', optionsSent: SENT_INFORM, at: T0 + 200 }));
  tl.onDnsQuery({ client: '10.20.0.7', name: 'ucupdates-r2.schertz.name', type: 'A', rcode: 'NOERROR', answers: 1, at: T0 + 201 });
  const c = phone(tl, C);
  t.equal(c.ucupdates.state, 'done');
  t.equal(c.lease.state, 'skipped');
  t.match(c.notes.join('\n'), /no lease from provlab: it uses 10\.20\.0\.7/);
  t.same(
    tl.leases().map((l) => [l.ip, l.mac, l.source]),
    [
      [IP, B, 'ack'],
      ['10.20.0.7', C, 'inform'],
    ],
  );

  // Nobody explains 10.20.0.99: counted apart, never a phone.
  tl.onDnsQuery({ client: '10.20.0.99', name: 'ucupdates-r2.schertz.name', type: 'A', rcode: 'NOERROR', answers: 1, at: T0 + 300 });
  tl.onNtpClient({ address: '10.20.0.99', version: 4, clientOffsetMs: 0, kind: 'reply', at: T0 + 301 });
  const v = tl.snapshot();
  t.equal(v.phones.length, 3);
  t.same(v.unknownClients, [{ ip: '10.20.0.99', firstAt: T0 + 300, at: T0 + 301, dns: 1, ntp: 1, lastName: 'ucupdates-r2.schertz.name' }]);
  t.same([v.counts.unmatchedDns, v.counts.unmatchedNtp], [1, 1]);
});

t.test('leases from the journal place a phone that has not talked DHCP since the restart', async (t) => {
  const tl = new StagingTimeline({ site: SITE });
  tl.onLease({ ip: IP, mac: MAC, state: 'bound', updatedAt: T0 - 3_600_000 });
  tl.onLease({ ip: '10.20.0.102', mac: '00:04:f2:00:00:02', state: 'expired', updatedAt: T0 });
  tl.onDnsQuery({ client: IP, name: 'ucupdates-r2.schertz.name', type: 'A', rcode: 'NOERROR', answers: 1, at: T0 });
  const p = phone(tl);
  t.equal(p.lease.state, 'done');
  t.equal(p.lease.source, 'journal');
  t.equal(p.lease.summary, `${IP} (journal)`);
  t.match(p.notes.join('\n'), /from the lease journal/);
  t.same(tl.leases().map((l) => l.ip), [IP], 'expired records place nobody');
});

t.test('NTP: rate-limited only, and time lookups not needed once answered', async (t) => {
  const tl = new StagingTimeline({ site: SITE, now: () => T0 + 5 });
  lease(tl, T0);
  tl.onNtpClient({ address: IP, version: 4, clientOffsetMs: 0, kind: 'kiss' });
  let p = phone(tl);
  t.equal(p.ntp.state, 'warn');
  t.equal(p.ntp.at, T0 + 5, 'NTP events without a time take the timeline clock');
  t.ok(p.missing.some((m) => m.startsWith('its NTP requests were rate-limited')));
  tl.onNtpClient({ address: IP, version: 4, clientOffsetMs: 250_000, kind: 'reply' });
  p = phone(tl);
  t.equal(p.ntp.state, 'done');
  t.equal(p.ntp.summary, 'off by +4 min');
  t.equal(p.timeLookup.state, 'skipped', 'option 42 was enough: no lookup needed');
  tl.onDnsQuery({ client: IP, name: '_ntp._udp.corp.x', type: 'SRV', rcode: 'REFUSED', at: T0 + 6 });
  t.ok(phone(tl).missing.includes('asked _ntp._udp.corp.x but that domain is not in the site (schertz.name, corp.schertz.name)'));
});

t.test('text off the wire is made printable', async (t) => {
  const tl = new StagingTimeline({ site: SITE });
  lease(tl, T0, { vendorClass: 'MS-UC-Client\u001b[2J', hostname: 'cx600\u202elobby' });
  const p = phone(tl);
  t.same(p.vendorClasses, ['MS-UC-Client\\u001b[2J']);
  t.equal(p.hostname, 'cx600\\u202elobby');
  tl.onDnsQuery({ client: IP, name: `${'a'.repeat(300)}.x`, type: 'A', rcode: 'NXDOMAIN', at: T0 });
  t.ok(phone(tl).otherQueries[0]!.name.length <= 256, 'names are capped');
});

t.test('bounds: phones, events per phone, queries per step, unknown clients', async (t) => {
  const tl = new StagingTimeline({ site: SITE, maxPhones: 3, maxEventsPerPhone: 5, maxQueriesPerStep: 4, maxUnknownClients: 2 });
  const mac = (i: number) => `02:00:00:00:00:${i.toString(16).padStart(2, '0')}`;
  for (let i = 0; i < 10; i++) lease(tl, T0 + i * 100, { mac: mac(i), ip: `10.20.0.${110 + i}` });
  // Phone 7 is seen again: it is no longer the least recently seen.
  tl.onDnsQuery({ client: '10.20.0.117', name: 'x.schertz.name', type: 'A', rcode: 'NXDOMAIN', at: T0 + 2000 });
  lease(tl, T0 + 3000, { mac: mac(10), ip: '10.20.0.120' });
  const v = tl.snapshot();
  t.same(v.phones.map((p) => p.mac), [mac(7), mac(9), mac(10)], 'the least recently seen phones went first');
  t.equal(v.counts.evictedPhones, 8);
  t.same(v.limits, { maxPhones: 3, maxEventsPerPhone: 5 });

  const ip = '10.20.0.120';
  for (let i = 0; i < 20; i++) tl.onDnsQuery({ client: ip, name: `n${i}.schertz.name`, type: 'A', rcode: 'NXDOMAIN', at: T0 + 4000 + i });
  for (let i = 0; i < 20; i++) tl.onDnsQuery({ client: ip, name: `ucupdates-r2.d${i}.example`, type: 'A', rcode: 'REFUSED', at: T0 + 5000 + i });
  const p = phone(tl, mac(10));
  t.equal(p.events.length, 5, 'events capped');
  t.equal(p.events[4]!.text, 'DNS A ucupdates-r2.d19.example → REFUSED', 'newest kept');
  t.equal(p.otherQueries.length, 4, 'other names capped');
  t.equal(p.ucupdates.queries.length, 4, 'ucupdates-r2 names capped');

  for (let i = 0; i < 5; i++) tl.onNtpClient({ address: `192.0.2.${i}`, version: 4, clientOffsetMs: 0, kind: 'reply', at: T0 });
  t.same(tl.snapshot().unknownClients.map((u) => u.ip), ['192.0.2.3', '192.0.2.4']);
  t.ok(tl.leases().length <= 6, 'the address map is bounded too (2 x maxPhones)');

  for (let i = 0; i < 100; i++) tl.onNtpClient({ address: ip, version: 4, clientOffsetMs: i, kind: 'reply', at: T0 + 6000 + i });
  const last = phone(tl, mac(10)).events.at(-1)!;
  t.equal(last.count, 100, 'repeated NTP polls collapse into one event');
  t.equal(last.lastAt, T0 + 6099);

  t.throws(() => new StagingTimeline({ maxPhones: 0 }), RangeError);
});

t.test('a phone going round DISCOVER/REQUEST again and again: two events with counts, not a pair per lease', async (t) => {
  const tl = new StagingTimeline({ site: SITE });
  for (let i = 0; i < 30; i++) lease(tl, T0 + i * 1000);
  const events = phone(tl).events;
  t.same(
    events.map((e) => [e.text, e.count, e.at, e.lastAt]),
    [
      [`DISCOVER (MS-UC-Client) → OFFER ${IP}`, 30, T0, T0 + 29_000],
      [`REQUEST (MS-UC-Client) → ACK ${IP}`, 30, T0 + 10, T0 + 29_010],
    ],
    'each counted on its first occurrence, lastAt the latest',
  );

  // A, B, A: the third is a repeat of the event two back; A, B, C, A: C stands between, so A is new again.
  const tl2 = new StagingTimeline({ site: SITE });
  tl2.onDhcpExchange(dhcp({ type: 'DISCOVER', replyType: 'OFFER', ip: IP, at: T0 }));
  tl2.onDhcpExchange(dhcp({ type: 'REQUEST', replyType: 'NAK', note: 'wrong address', at: T0 + 1 }));
  tl2.onDhcpExchange(dhcp({ type: 'DISCOVER', replyType: 'OFFER', ip: IP, at: T0 + 2 }));
  t.same(
    phone(tl2).events.map((e) => [e.text, e.count, e.lastAt]),
    [
      [`DISCOVER (MS-UC-Client) → OFFER ${IP}`, 2, T0 + 2],
      ['REQUEST (MS-UC-Client) → NAK: wrong address', 1, T0 + 1],
    ],
  );
  tl2.onDhcpExchange(dhcp({ type: 'REQUEST', replyType: 'ACK', ip: IP, at: T0 + 3 }));
  tl2.onDhcpExchange(dhcp({ type: 'DISCOVER', replyType: 'OFFER', ip: IP, at: T0 + 4 }));
  t.same(
    phone(tl2).events.map((e) => [e.text, e.count]),
    [
      [`DISCOVER (MS-UC-Client) → OFFER ${IP}`, 2],
      ['REQUEST (MS-UC-Client) → NAK: wrong address', 1],
      [`REQUEST (MS-UC-Client) → ACK ${IP}`, 1],
      [`DISCOVER (MS-UC-Client) → OFFER ${IP}`, 1],
    ],
    'only the two latest events are looked at',
  );
});

t.test('subscribers hear every change, and a throwing one harms nobody', async (t) => {
  const tl = new StagingTimeline({ site: SITE });
  const seen: number[] = [];
  tl.subscribe(() => {
    throw new Error('listener bug');
  });
  const off = tl.subscribe((v) => seen.push(v));
  lease(tl, T0);
  off();
  inform(tl, T0 + 1);
  t.same(seen, [1, 2]);
  t.equal(tl.snapshot().version, 3);
});

t.test('an INFORM flood from random MACs never pushes a leased phone off the timeline, nor its address', (t) => {
  const tl = new StagingTimeline({ site: SITE, maxPhones: 8, now: () => T0 + 60_000 });
  lease(tl, T0);
  const flood = (i: number) => `02:00:00:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
  for (let i = 0; i < 2000; i++) inform(tl, T0 + 1000 + i, { mac: flood(i), ip: `10.99.${(i >> 8) & 255}.${i & 255}` });
  const v = tl.snapshot();
  t.equal(v.phones.length, 8, 'still bounded');
  t.ok(v.phones.some((p) => p.mac === MAC), 'the leased phone is kept');
  t.ok(v.counts.evictedPhones >= 2000 - 7, 'the flooders went instead');
  // Its DNS queries are still placed on it.
  tl.onDnsQuery({ client: IP, name: 'ucupdates-r2.schertz.name', type: 'A', rcode: 'NOERROR', answers: 1, at: T0 + 5000 });
  t.equal(phone(tl).ucupdates.queries.length, 1);
  t.end();
});
