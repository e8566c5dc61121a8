// The spec example (issue 2, "The site file") parses and compiles to the right
// option bytes. Expected bytes are written out by hand from the RFC rules and
// the DHCPUtil example in docs/lpe-facts.md, never taken from our own encoders.

import t from 'tap';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LAB_SEARCH, planOf, planOfFile, siteYaml } from '../helpers/sites.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/[\s:]/g, ''), 'hex'));
const ascii = (s: string) => Uint8Array.from(Buffer.from(s, 'ascii'));
const cat = (...parts: Uint8Array[]) => Uint8Array.from(Buffer.concat(parts));
const same = (t: { equal(a: unknown, b: unknown, m: string): boolean }, got: Uint8Array | undefined, want: Uint8Array, what: string) =>
  t.equal(got === undefined ? 'missing' : Buffer.from(got).toString('hex'), Buffer.from(want).toString('hex'), what);

// Verbatim from issue 2.
const SPEC_EXAMPLE = `site: staging-lab
interface: eth1                    # the VLAN interface; provlab answers DHCP broadcasts only on an interface the site names
address: 10.20.0.1                 # the appliance on the VLAN: DHCP server id, DNS and NTP address
dhcp:
  subnet: 10.20.0.0/24
  pool: 10.20.0.100-10.20.0.199    # one range or a list of ranges
  router: 10.20.0.1
  dns: [10.20.0.1]                 # default [address]
  lease: 8h
  reservations:
    - { mac: "00:04:f2:95:31:a2", ip: 10.20.0.50, name: cx600-lobby }
domains:
  primary: schertz.name            # option 15
  search: [schertz.name, corp.schertz.name]   # option 119, default [primary]
  sip: schertz.name                # SIP domain for SRV records, default primary
lync:
  pool: lyncpool.schertz.name      # option 120 (encoding 0) and the SIP SRV target
  web: lyncweb.schertz.name        # option 43 sub-option 3, default pool
  address: 10.20.0.10              # where pool, web and ucupdates-r2 resolve
  scheme: https                    # sub-option 2
  port: 443                        # sub-option 4, sent as ASCII text
  certprov: /CertProv/CertProvisioningService.svc   # sub-option 5
ntp:
  servers: [10.20.0.1]             # options 42 and 4; default [address]
  stratum: 10
dns:
  records: []                      # extra records (used by the DNS issue)
  forwarders: []
listen: { dhcp: 67, dns: 53, ntp: 123 }   # port overrides for tests and unprivileged labs
state: ./state                     # where leases are kept
`;

t.test('the spec example compiles to the expected plan', async (t) => {
  const plan = planOf(SPEC_EXAMPLE, '/srv/provlab/site.yaml');
  t.equal(plan.site, 'staging-lab');
  t.equal(plan.sourceFile, '/srv/provlab/site.yaml');
  t.equal(plan.interface, 'eth1');
  t.equal(plan.address, '10.20.0.1');
  t.equal(plan.statePath, '/srv/provlab/state', 'state is resolved next to the site file');
  t.equal(plan.certProvUrl, 'https://lyncweb.schertz.name:443/CertProv/CertProvisioningService.svc');

  const d = plan.dhcp;
  t.equal(d.enabled, true);
  t.equal(d.port, 67);
  t.equal(d.serverId, '10.20.0.1');
  t.equal(d.scopes.length, 1, 'one subnet: one scope');
  const sc = d.scopes[0]!;
  t.equal(sc.name, '10.20.0.0/24', 'named by its subnet');
  t.same(sc.subnet, { network: '10.20.0.0', prefix: 24, mask: '255.255.255.0', broadcast: '10.20.0.255' });
  t.same(sc.pools, [{ start: '10.20.0.100', end: '10.20.0.199' }]);
  t.same(sc.reservations, [{ mac: '00:04:f2:95:31:a2', ip: '10.20.0.50', name: 'cx600-lobby' }]);
  t.equal(sc.leaseSeconds, 8 * 3600);
  t.equal(sc.renewSeconds, 4 * 3600, 'T1 = 0.5 lease');
  t.equal(sc.rebindSeconds, 7 * 3600, 'T2 = 0.875 lease');
  t.equal(d.offerHoldSeconds, 30);
  t.equal(d.declineHoldSeconds, 600);

  t.same([...sc.baseOptions.keys()], [1, 3, 6, 15, 119, 42, 4], 'base options in send order');
  same(t, sc.baseOptions.get(1), hex('ff ff ff 00'), 'option 1: /24 mask');
  same(t, sc.baseOptions.get(3), hex('0a 14 00 01'), 'option 3: router');
  same(t, sc.baseOptions.get(6), hex('0a 14 00 01'), 'option 6: DNS');
  same(t, sc.baseOptions.get(15), hex('73 63 68 65 72 74 7a 2e 6e 61 6d 65'), 'option 15: "schertz.name", no NUL');
  // RFC 1035 labels; the second name points back to "schertz.name" at offset 0 (RFC 3397 §2).
  same(
    t,
    sc.baseOptions.get(119),
    hex('07 73 63 68 65 72 74 7a 04 6e 61 6d 65 00   04 63 6f 72 70 c0 00'),
    'option 119: schertz.name, corp.<pointer to 0>',
  );
  same(t, sc.baseOptions.get(42), hex('0a 14 00 01'), 'option 42: NTP');
  same(t, sc.baseOptions.get(4), hex('0a 14 00 01'), 'option 4: same list as 42');

  t.equal(d.classes.length, 1);
  const uc = d.classes[0]!;
  t.equal(uc.name, 'MS-UC-Client');
  t.equal(uc.vendorClass, 'MS-UC-Client');
  t.same(uc.alwaysSend, [43, 120]);
  t.same([...uc.options.keys()], [43, 120]);
  // DHCPUtil layout (docs/lpe-facts.md §Option 43): 1 "MS-UC-Client", 2 "https", 3 web FQDN, 4 "443" as text, 5 certprov; no 0xFF.
  const want43 = cat(
    hex('01 0c 4d 53 2d 55 43 2d 43 6c 69 65 6e 74'),
    hex('02 05 68 74 74 70 73'),
    hex('03 14'),
    ascii('lyncweb.schertz.name'),
    hex('04 03 34 34 33'),
    hex('05 25 2f 43 65 72 74 50 72 6f 76 2f 43 65 72 74 50 72 6f 76 69 73 69 6f 6e 69 6e 67 53 65 72 76 69 63 65 2e 73 76 63'),
  );
  same(t, uc.options.get(43), want43, 'option 43 as DHCPUtil writes it');
  t.equal(uc.options.get(43)!.length, 67 + 'lyncweb.schertz.name'.length, 'option 43 length = 67 + web FQDN (docs/lpe-facts.md §Option 43)');
  same(
    t,
    uc.options.get(120),
    hex('00 08 6c 79 6e 63 70 6f 6f 6c 07 73 63 68 65 72 74 7a 04 6e 61 6d 65 00'),
    'option 120: encoding 0, one uncompressed name',
  );

  t.match(plan.dns, { enabled: true, port: 53, servers: ['10.20.0.1'] }); // zones: test/site/dns-zones.test.ts
  t.same(plan.ntp, { enabled: true, port: 123, servers: ['10.20.0.1'], stratum: 10, refId: 'LOCL', rateLimit: null });
  const limited = planOf(SPEC_EXAMPLE.replace(/  stratum: 10\n/, '  stratum: 10\n  refid: GPS\n  rate_limit: { interval: 4s, burst: 3 }\n'), 'x.yaml');
  t.same(limited.ntp, { enabled: true, port: 123, servers: ['10.20.0.1'], stratum: 10, refId: 'GPS', rateLimit: { intervalSeconds: 4, burst: 3 } });
});

t.test('the DHCPUtil example from docs/lpe-facts.md, byte for byte', async (t) => {
  const plan = planOf(
    siteYaml({
      site: 'dhcputil',
      address: '192.168.1.1',
      dhcp: { subnet: '192.168.1.0/24', pool: '192.168.1.100-192.168.1.200' },
      domains: { primary: 'company.com' },
      lync: { pool: 'server.fqdn.company.com', address: '192.168.1.10' },
    }),
  );
  const uc = plan.dhcp.classes[0]!;
  same(t, uc.options.get(120), hex('0006736572766572046671646E07636F6D70616E7903636F6D00'), 'option 120');
  same(
    t,
    uc.options.get(43),
    hex(
      '010C4D532D55432D436C69656E740205687474707303177365727665722E6671646E2E636F6D70616E792E636F6D040334343305252F4365727450726F762F4365727450726F766973696F6E696E67536572766963652E737663',
    ),
    'option 43 (90 bytes), web defaults to pool',
  );
  t.equal(uc.options.get(43)!.length, 90);
  t.equal(plan.certProvUrl, 'https://server.fqdn.company.com:443/CertProv/CertProvisioningService.svc');
  t.notOk(plan.dhcp.scopes[0]!.baseOptions.has(3), 'no router, no option 3');
});

t.test('lab switches: option 43 order and end marker, option 120 as an address', async (t) => {
  const site = siteYaml({ lync: { web: 'w.schertz.name', scheme: 'http', port: 80, option43: '{ order: [4, 2], end: true }', sip_encoding: 'ipv4' } });
  const uc = planOf(site).dhcp.classes[0]!;
  same(t, uc.options.get(43), hex('04 02 38 30  02 04 68 74 74 70  ff'), 'sub-options 4 then 2, then 0xFF');
  same(t, uc.options.get(120), hex('01 0a 14 00 0a'), 'option 120 encoding 1 with lync.address');
});

t.test('extra vendor classes are packed as written', async (t) => {
  // The option values as an admin spells them: sub-options out of order, hex with colons and with spaces.
  const classes = `- vendor: CPE-OCPHONE
  options:
    43: { suboptions: { 2: "20", 1: { hex: "0a:0b" } } }
    66: { text: tftp.schertz.name }
    150: { ipv4: [10.20.0.5, 10.20.0.6] }
    224: { hex: "de ad be ef" }
  always: [43]
`;
  const plan = planOf(siteYaml({ site: 'classes', dhcp: { pool: ['10.20.0.100-10.20.0.149', '10.20.0.150-10.20.0.199'], classes } }));
  t.same(plan.dhcp.scopes[0]!.pools, [
    { start: '10.20.0.100', end: '10.20.0.149' },
    { start: '10.20.0.150', end: '10.20.0.199' },
  ]);
  t.equal(plan.dhcp.classes.length, 2);
  const c = plan.dhcp.classes[1]!;
  t.equal(c.vendorClass, 'CPE-OCPHONE');
  t.same(c.alwaysSend, [43]);
  same(t, c.options.get(43), hex('01 02 0a 0b  02 02 32 30'), 'RFC 2132 §8.4 TLVs, ascending');
  same(t, c.options.get(66), ascii('tftp.schertz.name'), 'text as ASCII');
  same(t, c.options.get(150), hex('0a 14 00 05 0a 14 00 06'), 'IPv4 list');
  same(t, c.options.get(224), hex('deadbeef'), 'hex');
});

t.test('shipped config files load and compile', async (t) => {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  for (const name of ['site.example.yaml', 'default.yaml']) {
    t.ok(planOfFile(join(root, 'config', name)).dhcp.scopes[0]!.baseOptions.size >= 6, `${name} compiles`);
  }
  const def = planOfFile(join(root, 'config', 'default.yaml'));
  t.equal(def.interface, null, 'the default is relay-only: it never answers a broadcast');
  t.equal(def.address, '127.0.0.1');
  t.ok(def.dhcp.port > 1024 && def.dns.port > 1024 && def.ntp.port > 1024, 'the default uses unprivileged ports');
  t.same(def.dhcp.scopes[0]!.subnet, { network: '127.88.0.0', prefix: 24, mask: '255.255.255.0', broadcast: '127.88.0.255' });
  t.equal(def.statePath, join(root, 'state', 'default'));
  const ex = planOfFile(join(root, 'config', 'site.example.yaml'));
  t.equal(ex.certProvUrl, 'https://lyncweb.schertz.name:443/CertProv/CertProvisioningService.svc');
});

t.test('one list of the site\'s domains: option 15, then 119, then what classes send instead, as the bytes decode', async (t) => {
  // RFC 3397's example names, written as a class's raw option 119 (RFC 3397 §2 bytes).
  const classes = `- vendor: Polycom-Lab
  options:
    119: { hex: "03 65 6e 67 05 61 70 70 6c 65 03 63 6f 6d 00 09 6d 61 72 6b 65 74 69 6e 67 c0 04" }
    15: { text: "Schertz.Name" }
`;
  const plan = planOf(siteYaml({ site: 'domains', dhcp: { classes }, domains: { primary: 'Schertz.name', search: LAB_SEARCH } }));
  t.same(plan.domains, ['schertz.name', 'corp.schertz.name', 'eng.apple.com', 'marketing.apple.com']);
  const names = plan.dns.zones.flatMap((z) => z.records.map((r) => r.name));
  for (const d of plan.domains) t.ok(names.includes(`ucupdates-r2.${d}`), `DNS answers ucupdates-r2.${d}`);
});
