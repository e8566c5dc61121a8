// What provlab answers from its own zones, held against what Knot 3.2 and NSD
// 4.6 answered when loaded with the same records (`provlab export bind`), tried
// by hand on loopback: sets without duplicates (RFC 2181 §5), CNAME chains,
// loops and dangling targets (RFC 6604 §2, RFC 2308 §2), additional records
// dropped before TC (RFC 2181 §9), DS at a child apex (RFC 4035 §3.1.4.1).
// The expectations below are those servers' answers, written out by hand.
import t from 'tap';
import { Authority } from '../../src/dns/authority.js';
import { rdata } from '../../src/export/bind.js';
import { Responder } from '../../src/dns/responder.js';
import { decodeDnsMessage, type ResourceRecord } from '../../src/wire/dns-message.js';
import type { DnsPlan } from '../../src/site/plan.js';
import { mergeSite, planOf, siteYaml, type SiteRow, type SiteSpec } from '../helpers/sites.js';
import { rawQuery } from './helpers.js';

const A = 1;
const CNAME = 5;
const SOA = 6;
const TXT = 16;
const AAAA = 28;
const SRV = 33;
const DS = 43;
const NOERROR = 0;
const NXDOMAIN = 3;
const OPT = '00 0029 04d0 00 00 0000 0000';

const BASE: SiteSpec = {
  address: '10.20.0.1',
  domains: { primary: 'schertz.name', search: ['schertz.name', 'corp.schertz.name'] },
  lync: { pool: 'lyncpool.schertz.name', web: 'lyncweb.schertz.name', address: '10.20.0.10' },
  ntp: { servers: ['10.20.0.5'] },
};

function dnsOf(over: SiteSpec = {}, records: readonly SiteRow[] = []): DnsPlan {
  const spec = mergeSite(BASE, over);
  if (records.length > 0) spec.dns = { ...spec.dns, records };
  return planOf(siteYaml(spec), '/tmp/site.yaml').dns;
}

/** "owner TTL TYPE rdata" as dig prints it, without trailing dots; an SOA without its numbers (the serial is a hash). */
function text(r: ResourceRecord): string {
  const d = r.data;
  if (d.type === 'unknown') return `${r.name} ${r.ttl} TYPE${d.code}`;
  const rd = d.type === 'SOA' ? `${d.mname} ${d.rname}` : rdata(d).replace(/\.(?= |$)/g, '');
  return `${r.name} ${r.ttl} ${d.type} ${rd}`;
}

function ask(authority: Authority, name: string, type: number, o: { edns?: boolean; tcp?: boolean } = {}) {
  const responder = new Responder(authority);
  const out = responder.respond(rawQuery(7, name, type, o.edns ? { additional: OPT } : {}), o.tcp ?? false);
  if (out === null) throw new Error('no answer');
  const m = decodeDnsMessage(out);
  if (!m.ok) throw new Error(m.error.message);
  return {
    rcode: m.value.header.rcode,
    tc: m.value.header.tc,
    aa: m.value.header.aa,
    answer: m.value.answers.map(text),
    authority: m.value.authorities.map(text),
    additional: m.value.additionals.map(text),
    size: out.length,
    nodata: responder.nodata,
  };
}

t.test('lync.pool = sip.<sip>, lync.web = sipinternal.<sip>: every RRset is a set (RFC 2181 §5)', async (t) => {
  const dns = dnsOf({ lync: { pool: 'sip.schertz.name', web: 'SipInternal.schertz.name' } });
  const auth = new Authority(dns);
  t.same(ask(auth, 'sip.schertz.name', A).answer, ['sip.schertz.name 300 A 10.20.0.10'], 'sip.<sip> A once');
  t.same(ask(auth, 'sipinternal.schertz.name', A).answer, ['sipinternal.schertz.name 300 A 10.20.0.10'], 'sipinternal.<sip> A once');
  for (const srv of ['_sipinternaltls._tcp', '_sipinternal._tcp', '_sip._tls']) {
    const a = ask(auth, `${srv}.schertz.name`, SRV);
    t.equal(a.answer.length, 1, `${srv}: one SRV`);
    t.same(a.additional, ['sip.schertz.name 300 A 10.20.0.10'], `${srv}: the target's A once in additional`);
  }
  const owners = dns.zones.flatMap((z) => z.records).filter((r) => r.name === 'sip.schertz.name' || r.name === 'sipinternal.schertz.name');
  t.equal(owners.length, 2, 'the plan (and so the BIND export) holds each A once');
});

t.test('records are the same when their RDATA bytes are: AAAA spellings, name case', async (t) => {
  const dns = dnsOf({}, [
    { name: 'v6.schertz.name', type: 'AAAA', address: '2001:db8::11' },
    { name: 'V6.schertz.name', type: 'AAAA', address: '2001:0db8:0::11' },
    { name: 'v6.schertz.name', type: 'AAAA', address: '2001:DB8:0:0:0:0:0:11' },
    { name: 'alias.schertz.name', type: 'PTR', target: 'Printer.schertz.name' },
    { name: 'alias.schertz.name', type: 'PTR', target: 'printer.SCHERTZ.name.' },
    { name: 'note.schertz.name', type: 'TXT', text: 'Case' },
    { name: 'note.schertz.name', type: 'TXT', text: 'case' },
  ]);
  const auth = new Authority(dns);
  t.same(ask(auth, 'v6.schertz.name', AAAA).answer, ['v6.schertz.name 300 AAAA 2001:db8::11']);
  t.equal(ask(auth, 'alias.schertz.name', 12).answer.length, 1, 'PTR targets compare case-insensitively');
  t.equal(ask(auth, 'note.schertz.name', TXT).answer.length, 2, 'TXT text is case-sensitive: two records');
});

t.test('two SRVs with one target: its addresses once in additional', async (t) => {
  const dns = dnsOf({}, [
    { name: '_x._tcp.schertz.name', type: 'SRV', target: 'host.schertz.name', port: 1, weight: 0 },
    { name: '_x._tcp.schertz.name', type: 'SRV', target: 'host.schertz.name', port: 1, weight: 1 },
    { name: 'host.schertz.name', type: 'A', address: '10.20.0.7' },
    { name: 'host.schertz.name', type: 'AAAA', address: '2001:db8::7' },
  ]);
  const a = ask(new Authority(dns), '_x._tcp.schertz.name', SRV);
  t.equal(a.answer.length, 2);
  t.same(a.additional, ['host.schertz.name 300 A 10.20.0.7', 'host.schertz.name 300 AAAA 2001:db8::7']);
});

t.test('CNAME chains: loops, dangling targets, NODATA through a CNAME (Knot and NSD)', async (t) => {
  const dns = dnsOf({}, [
    { name: 'loop1.schertz.name', type: 'CNAME', target: 'loop2.schertz.name' },
    { name: 'loop2.schertz.name', type: 'CNAME', target: 'loop1.schertz.name' },
    { name: 'self.schertz.name', type: 'CNAME', target: 'self.schertz.name' },
    { name: 'dangling.schertz.name', type: 'CNAME', target: 'nothere.schertz.name' },
    { name: 'cross.schertz.name', type: 'CNAME', target: 'nothere.corp.schertz.name' },
    { name: 'nodata.schertz.name', type: 'CNAME', target: 'ntp.corp.schertz.name' },
    { name: 'away.schertz.name', type: 'CNAME', target: 'www.example.org' },
    { name: 'c1.schertz.name', type: 'CNAME', target: 'c2.schertz.name' },
    { name: 'c2.schertz.name', type: 'CNAME', target: 'ucupdates-r2.corp.schertz.name' },
  ]);
  const auth = new Authority(dns);
  const soa = (zone: string) => `${zone} 60 SOA provlab.schertz.name hostmaster.schertz.name`;

  const loop = ask(auth, 'loop1.schertz.name', A);
  t.equal(loop.rcode, NOERROR, 'a loop: NOERROR');
  t.same(loop.answer, ['loop1.schertz.name 300 CNAME loop2.schertz.name', 'loop2.schertz.name 300 CNAME loop1.schertz.name'], 'each CNAME once');
  t.same(loop.authority, []);
  t.same(ask(auth, 'self.schertz.name', AAAA).answer, ['self.schertz.name 300 CNAME self.schertz.name']);

  const dangling = ask(auth, 'dangling.schertz.name', A);
  t.equal(dangling.rcode, NXDOMAIN, 'a target that does not exist in our zone: NXDOMAIN (RFC 6604 §2)');
  t.same(dangling.answer, ['dangling.schertz.name 300 CNAME nothere.schertz.name']);
  t.same(dangling.authority, [soa('schertz.name')], 'with the SOA (RFC 2308 §2.1)');
  t.ok(dangling.aa);

  const cross = ask(auth, 'cross.schertz.name', A);
  t.equal(cross.rcode, NXDOMAIN);
  t.same(cross.authority, [soa('corp.schertz.name')], "the SOA of the target's zone (as NSD)");

  const nodata = ask(auth, 'nodata.schertz.name', AAAA);
  t.equal(nodata.rcode, NOERROR);
  t.same(nodata.answer, ['nodata.schertz.name 300 CNAME ntp.corp.schertz.name']);
  t.same(nodata.authority, [soa('corp.schertz.name')], 'NODATA through a CNAME: the SOA (RFC 2308 §2.2)');

  const away = ask(auth, 'away.schertz.name', A);
  t.equal(away.rcode, NOERROR, 'a target outside our zones: the chain alone');
  t.same(away.answer, ['away.schertz.name 300 CNAME www.example.org']);
  t.same(away.authority, []);

  const chain = ask(auth, 'c1.schertz.name', A);
  t.same(chain.answer, [
    'c1.schertz.name 300 CNAME c2.schertz.name',
    'c2.schertz.name 300 CNAME ucupdates-r2.corp.schertz.name',
    'ucupdates-r2.corp.schertz.name 300 A 10.20.0.10',
  ]);
  t.same(chain.authority, []);
  t.same(ask(auth, 'c1.schertz.name', CNAME).answer, ['c1.schertz.name 300 CNAME c2.schertz.name'], 'CNAME asked for: not followed');
});

t.test('a lease that fills a dangling CNAME target: the chain answers, and NXDOMAIN again when it goes', async (t) => {
  const auth = new Authority(dnsOf({}, [{ name: 'printer-alias.schertz.name', type: 'CNAME', target: 'printer.schertz.name' }]));
  t.equal(ask(auth, 'printer-alias.schertz.name', A).rcode, NXDOMAIN);
  t.equal(auth.setLease('10.20.0.120', 'printer'), 'printer.schertz.name');
  const a = ask(auth, 'printer-alias.schertz.name', A);
  t.equal(a.rcode, NOERROR);
  t.same(a.answer, ['printer-alias.schertz.name 300 CNAME printer.schertz.name', 'printer.schertz.name 60 A 10.20.0.120']);
  auth.setLease('10.20.0.120', null);
  t.equal(ask(auth, 'printer-alias.schertz.name', A).rcode, NXDOMAIN);
});

t.test('a reservation named like a built-in name adds nothing there, and check says why', async (t) => {
  const over: SiteSpec = {
    dhcp: {
      reservations: [
        { mac: '00:04:f2:00:00:01', ip: '10.20.0.51', name: 'ntp' },
        { mac: '00:04:f2:00:00:02', ip: '10.20.0.52', name: 'SIP' },
        { mac: '00:04:f2:00:00:03', ip: '10.20.0.53', name: 'corp' },
        { mac: '00:04:f2:00:00:04', ip: '10.20.0.54', name: 'printer' },
        { mac: '00:04:f2:00:00:05', ip: '10.20.0.55', name: 'lab' },
        { mac: '00:04:f2:00:00:06', ip: '10.20.0.56', name: 'cx600-lobby' },
      ],
    },
  };
  const plan = planOf(siteYaml({ ...mergeSite(BASE, over), dns: { records: [
    { name: 'printer.schertz.name', type: 'TXT', text: 'the admin\'s' },
    { name: 'x.lab.schertz.name', type: 'A', address: '10.20.0.9' },
  ] } }), '/tmp/site.yaml');
  const auth = new Authority(plan.dns);
  t.same(ask(auth, 'ntp.schertz.name', A).answer, ['ntp.schertz.name 300 A 10.20.0.5'], 'the time source is the NTP server only');
  t.same(ask(auth, '_ntp._udp.schertz.name', SRV).additional, ['ntp.schertz.name 300 A 10.20.0.5']);
  t.same(ask(auth, 'sip.schertz.name', A).answer, ['sip.schertz.name 300 A 10.20.0.10']);
  t.same(ask(auth, 'corp.schertz.name', A).answer, [], 'a zone apex gets no A');
  t.same(ask(auth, 'printer.schertz.name', A).answer, [], 'a dns.records name gets no A');
  t.same(ask(auth, 'lab.schertz.name', A).answer, [], 'a name above a dns.records name gets no A');
  for (const ip of ['51', '52', '53', '54', '55']) t.equal(ask(auth, `${ip}.0.20.10.in-addr.arpa`, 12).rcode, NXDOMAIN, `no PTR for 10.20.0.${ip}`);
  t.same(ask(auth, 'cx600-lobby.schertz.name', A).answer, ['cx600-lobby.schertz.name 300 A 10.20.0.56'], 'other reservations as before');
  const collisions = plan.warnings.filter((w) => w.startsWith('dns-name-collision: '));
  t.equal(collisions.length, 5, 'one warning per colliding reservation, with a stable code');
  t.match(collisions[0], /reservation 00:04:f2:00:00:01 \(10\.20\.0\.51\) is named ntp, but ntp\.schertz\.name is already a name of the site \(NTP server for the primary domain schertz\.name.*the reservation gets no A or PTR record: rename it/);
  t.match(collisions[4], /lab\.schertz\.name is already a name of the site \(x\.lab\.schertz\.name, dns\.records\[1\], is below it\)/);
});

t.test('too big for 512 bytes: additional RRsets go first, TC only when the answer does not fit (RFC 2181 §9)', async (t) => {
  const records: SiteRow[] = [];
  for (let i = 1; i <= 20; i++) {
    if (i <= 10) records.push({ name: '_mid._tcp.schertz.name', type: 'SRV', target: `host${i}.schertz.name`, port: 5061 });
    records.push({ name: '_big._tcp.schertz.name', type: 'SRV', target: `host${i}.schertz.name`, port: 5061 });
    records.push({ name: `host${i}.schertz.name`, type: 'A', address: `10.20.0.${100 + i}` });
  }
  const auth = new Authority(dnsOf({}, records));
  const full = ask(auth, '_mid._tcp.schertz.name', SRV, { tcp: true });
  t.equal(full.additional.length, 10, 'over TCP: every address');
  t.ok(full.size > 512);
  const mid = ask(auth, '_mid._tcp.schertz.name', SRV);
  t.notOk(mid.tc, 'no TC: only additional data was left out (Knot and NSD)');
  t.equal(mid.answer.length, 10, 'the whole SRV RRset');
  t.ok(mid.additional.length > 0 && mid.additional.length < 10, `as many whole address RRsets as fit (${mid.additional.length})`);
  t.same(mid.additional, full.additional.slice(0, mid.additional.length), 'in order');
  t.ok(mid.size <= 512);
  const edns = ask(auth, '_mid._tcp.schertz.name', SRV, { edns: true });
  t.equal(edns.additional.length, 10, 'EDNS 1232: everything fits');
  const big = ask(auth, '_big._tcp.schertz.name', SRV);
  t.ok(big.tc, 'the SRV RRset itself does not fit: TC');
  t.same(big.answer, []);
});

t.test('DS at a child zone apex is answered from the parent side (RFC 4035 §3.1.4.1)', async (t) => {
  const auth = new Authority(dnsOf());
  const ds = ask(auth, 'corp.schertz.name', DS);
  t.equal(ds.rcode, NOERROR);
  t.same(ds.answer, []);
  t.same(ds.authority, ['schertz.name 60 SOA provlab.schertz.name hostmaster.schertz.name'], "the parent's SOA (as NSD)");
  t.ok(ds.nodata, 'logged and counted as NODATA');
  const own = ask(auth, 'time.windows.com', DS);
  t.same(own.authority, ['time.windows.com 60 SOA provlab.schertz.name hostmaster.schertz.name'], 'no parent held: the zone itself, as before');
  t.same(ask(auth, 'corp.schertz.name', SOA).answer.length, 1, 'other types at the child apex: the child');
});
