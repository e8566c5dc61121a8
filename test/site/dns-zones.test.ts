// Site -> DNS zones in the plan: every name the "What it answers" list
// names, written out by hand from the site below.
import t from 'tap';
import { allRecords, reverseZoneApexes, srvDomain } from '../../src/site/dns-zones.js';
import type { DnsPlan } from '../../src/site/plan.js';
import { LAB_SEARCH, LAB_WEB, mergeSite, planOf, siteYaml, type SiteSpec } from '../helpers/sites.js';

const SITE: SiteSpec = {
  site: 'staging-lab',
  dhcp: { router: '10.20.0.254', reservations: [{ mac: '00:04:f2:95:31:a2', ip: '10.20.0.50', name: 'CX600-Lobby' }] },
  domains: { primary: 'Schertz.name', search: LAB_SEARCH },
  lync: { web: LAB_WEB },
  ntp: { servers: ['10.20.0.1', '10.20.0.2'] },
};

/** The plan of SITE with `over` on top. */
function plan(over: SiteSpec = {}) {
  return planOf(siteYaml(mergeSite(SITE, over)), '/tmp/site.yaml');
}

/** "name TYPE rdata" lines, sorted, the way a zone file reads. */
function lines(dns: DnsPlan): string[] {
  return allRecords(dns)
    .map((r) => {
      const d = r.data;
      const rdata =
        d.type === 'A' || d.type === 'AAAA'
          ? d.address
          : d.type === 'SRV'
            ? `${d.priority} ${d.weight} ${d.port} ${d.target}`
            : d.type === 'SOA'
              ? `${d.mname} ${d.rname} ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`
              : d.type === 'TXT'
                ? d.strings.map((s) => JSON.stringify(s)).join(' ')
                : d.target;
      return `${r.name} ${r.ttl} ${d.type} ${rdata}`;
    })
    .sort();
}

t.test('the names an LPE phone looks up, from the site file', async (t) => {
  const p = plan();
  t.same(
    p.dns.zones.map((z) => [z.apex, z.kind]),
    [
      ['schertz.name', 'domain'],
      ['corp.schertz.name', 'domain'],
      ['0.20.10.in-addr.arpa', 'reverse'],
      ['time.windows.com', 'host'],
    ],
  );
  const soa = (zone: string) => `${zone} 300 SOA provlab.schertz.name hostmaster.schertz.name 3600 600 86400 60`;
  const ns = (zone: string) => `${zone} 300 NS provlab.schertz.name`;
  t.same(
    lines(p.dns),
    [
      soa('schertz.name'),
      ns('schertz.name'),
      soa('corp.schertz.name'),
      ns('corp.schertz.name'),
      soa('0.20.10.in-addr.arpa'),
      ns('0.20.10.in-addr.arpa'),
      soa('time.windows.com'),
      ns('time.windows.com'),
      'provlab.schertz.name 300 A 10.20.0.1',
      'ucupdates-r2.schertz.name 300 A 10.20.0.10',
      'ucupdates-r2.corp.schertz.name 300 A 10.20.0.10',
      '_ntp._udp.schertz.name 300 SRV 0 0 123 ntp.schertz.name',
      'ntp.schertz.name 300 A 10.20.0.1',
      '_ntp._udp.corp.schertz.name 300 SRV 0 0 123 ntp.corp.schertz.name',
      'ntp.corp.schertz.name 300 A 10.20.0.1',
      '_sipinternaltls._tcp.schertz.name 300 SRV 0 0 5061 lyncpool.schertz.name',
      '_sipinternal._tcp.schertz.name 300 SRV 0 0 5060 lyncpool.schertz.name',
      '_sip._tls.schertz.name 300 SRV 0 0 5061 lyncpool.schertz.name',
      'sipinternal.schertz.name 300 A 10.20.0.10',
      'sip.schertz.name 300 A 10.20.0.10',
      'lyncpool.schertz.name 300 A 10.20.0.10',
      'lyncweb.schertz.name 300 A 10.20.0.10',
      'time.windows.com 300 A 10.20.0.1',
      'cx600-lobby.schertz.name 300 A 10.20.0.50',
      '1.0.20.10.in-addr.arpa 300 PTR provlab.schertz.name',
      '10.0.20.10.in-addr.arpa 300 PTR lyncpool.schertz.name',
      '50.0.20.10.in-addr.arpa 300 PTR cx600-lobby.schertz.name',
    ].sort(),
  );
  const apex = p.dns.zones[0]!.records;
  t.same(apex.slice(0, 2).map((r) => r.data.type), ['SOA', 'NS'], 'SOA and NS first');
  t.equal(p.dns.leaseDomain, 'schertz.name', 'lease names go under the primary domain');
  t.equal(p.dns.leaseTtl, 60);
  t.same(p.dns.forwarders, []);
  t.same(p.warnings, [], 'a site with everything inside its domains has nothing to warn about');
  const serial = (pl: typeof p) => pl.dns.zones.map((z) => (z.records[0]!.data as { serial: number }).serial);
  t.same(serial(plan()), serial(p), 'the same site gives the same serials');
  const changed = plan({ lync: { address: '10.20.0.11' } });
  t.not(serial(changed)[0], serial(p)[0], 'a changed zone gets a new serial');
  t.equal(serial(changed)[3], serial(p)[3], 'an unchanged zone keeps its serial');
});

t.test('a pool outside the SIP domain: served, and check warns (CU7+ wants the SRV target inside)', async (t) => {
  const p = plan({ lync: { pool: 'pool01.lync.contoso.com' }, domains: { sip: 'contoso.com' } });
  t.same(p.warnings, [], 'a pool in a subdomain of the SIP domain is inside it');
  t.ok(allRecords(p.dns).some((r) => r.name === '_sip._tls.contoso.com' && r.data.type === 'SRV' && r.data.target === 'pool01.lync.contoso.com'));
  const q = plan({ lync: { pool: 'pool01.contoso.com' } });
  t.equal(q.warnings.length, 3, 'one warning per SIP SRV');
  for (const w of q.warnings) t.match(w, /outside schertz\.name: phones with firmware CU7 or later refuse that; put lync\.pool inside schertz\.name, or override this SRV in dns\.records/);
  t.ok(q.dns.zones.some((z) => z.apex === 'pool01.contoso.com' && z.kind === 'host'), 'the pool gets a host zone of its own');
  // The admin's way out: an override inside the domain.
  const r = plan({
    lync: { pool: 'pool01.contoso.com' },
    dns: {
      records: [
        { name: '_sipinternaltls._tcp.schertz.name', type: 'SRV', target: 'sip.schertz.name', port: 5061 },
        { name: '_sipinternal._tcp.schertz.name', type: 'SRV', target: 'sip.schertz.name', port: 5060 },
        { name: '_sip._tls.schertz.name', type: 'SRV', target: 'sip.schertz.name', port: 5061 },
      ],
    },
  });
  t.same(
    r.warnings.filter((w) => w.includes('outside')),
    [],
    'no SRV warning once the targets are inside',
  );
  t.equal(r.warnings.filter((w) => w.includes('replaces the built-in')).length, 3, 'each override is reported');
});

t.test('dns.records: overrides, extra kinds, CNAME rules, names outside the domains', async (t) => {
  const p = plan({
    dns: {
      records: [
        { name: 'time.windows.com', type: 'A', address: '10.20.0.2' },
        { name: 'ucupdates-r2.schertz.name', type: 'CNAME', target: 'lyncweb.schertz.name' },
        { name: 'ucupdates-r2.schertz.name', type: 'TXT', text: 'clash' },
        { name: 'schertz.name', type: 'CNAME', target: 'elsewhere.example' },
        { name: 'v6.schertz.name', type: 'AAAA', address: '2001:db8::10', ttl: 60 },
        { name: 'long.schertz.name', type: 'TXT', text: 'x'.repeat(300) },
        { name: 'list.schertz.name', type: 'TXT', text: ['a', 'b'] },
        { name: '200.0.20.10.in-addr.arpa', type: 'PTR', target: 'printer.schertz.name' },
        { name: '_ldap._tcp.other.example', type: 'SRV', target: 'dc.other.example', port: 389 },
        { name: 'Dup.schertz.name', type: 'A', address: '10.20.0.3' },
        { name: 'dup.schertz.name', type: 'A', address: '10.20.0.3' },
        { name: 'dup.schertz.name', type: 'A', address: '10.20.0.4' },
      ],
    },
  });
  const l = lines(p.dns);
  t.ok(l.includes('time.windows.com 300 A 10.20.0.2'), 'site A replaces the built-in time.windows.com');
  t.notOk(l.includes('time.windows.com 300 A 10.20.0.1'));
  t.ok(l.includes('ucupdates-r2.schertz.name 300 CNAME lyncweb.schertz.name'), 'a CNAME replaces the built-in A');
  t.notOk(l.some((x) => x.startsWith('ucupdates-r2.schertz.name 300 A')));
  t.notOk(l.some((x) => x.includes('clash')), 'other data next to a CNAME is dropped');
  t.notOk(l.some((x) => x.includes('elsewhere')), 'a CNAME at an apex is dropped');
  t.ok(l.includes('v6.schertz.name 60 AAAA 2001:db8::10'));
  t.ok(l.includes(`long.schertz.name 300 TXT "${'x'.repeat(255)}" "${'x'.repeat(45)}"`), 'long text split into 255-byte strings');
  t.ok(l.includes('list.schertz.name 300 TXT "a" "b"'));
  t.ok(l.includes('200.0.20.10.in-addr.arpa 300 PTR printer.schertz.name'));
  t.same(l.filter((x) => x.startsWith('dup.')), ['dup.schertz.name 300 A 10.20.0.3', 'dup.schertz.name 300 A 10.20.0.4'], 'duplicates collapse, names fold to lower case');
  t.ok(p.dns.zones.some((z) => z.apex === '_ldap._tcp.other.example' && z.kind === 'host'));
  t.match(p.warnings.join('\n'), /dns\.records\[2\]: ucupdates-r2\.schertz\.name TXT is ignored: ucupdates-r2\.schertz\.name is a CNAME/);
  t.match(p.warnings.join('\n'), /dns\.records\[3\]: a CNAME at schertz\.name is ignored: that name is a zone apex/);
  t.match(p.warnings.join('\n'), /dns\.records\[0\] replaces the built-in time\.windows\.com A/);
  // _ldap._tcp.other.example -> dc.other.example stays inside other.example: no SRV warning.
  t.notMatch(p.warnings.join('\n'), /_ldap/);
});

t.test('reverse zones on octet boundaries', async (t) => {
  t.same(reverseZoneApexes('10.20.0.0/24'), ['0.20.10.in-addr.arpa']);
  t.same(reverseZoneApexes('10.20.0.64/26'), ['0.20.10.in-addr.arpa'], 'longer than /24: the whole /24');
  t.same(reverseZoneApexes('10.20.0.0/16'), ['20.10.in-addr.arpa']);
  t.same(reverseZoneApexes('10.20.4.0/22'), ['4.20.10.in-addr.arpa', '5.20.10.in-addr.arpa', '6.20.10.in-addr.arpa', '7.20.10.in-addr.arpa']);
  t.equal(reverseZoneApexes('10.16.0.0/12').length, 16);
  t.equal(srvDomain('_sipinternaltls._tcp.schertz.name'), 'schertz.name');
  t.equal(srvDomain('_ntp._udp.corp.schertz.name'), 'corp.schertz.name');
});

t.test('forwarders, disabled DNS, a DHCP dns list without the appliance', async (t) => {
  const p = plan({ dhcp: { dns: ['10.20.0.53'] }, dns: { forwarders: ['10.0.0.53', '127.0.0.1:5300'] } });
  t.same(p.dns.forwarders, [
    { address: '10.0.0.53', port: 53 },
    { address: '127.0.0.1', port: 5300 },
  ]);
  t.match(p.warnings, [/dhcp\.dns \(10\.20\.0\.53\) does not list the appliance address 10\.20\.0\.1/]);
  const off = plan({ dhcp: { dns: ['10.20.0.53'] }, dns: { enabled: false } });
  t.same(off.warnings, [], 'no DNS warnings when provlab serves no DNS');
});
