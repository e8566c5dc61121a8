// dhcp.scopes: several subnets in one site file. A one-subnet file compiles as
// before; each scope gets its own options, reverse zone and recursion right;
// the checks name the key at file:line:col.
import t from 'tap';
import { parseSite, SiteFileError } from '../../src/site/load.js';
import { compilePlan } from '../../src/site/compile.js';
import { hex } from '../../src/wire/bytes.js';

const HEAD = ['site: two-vlans', 'interface: eth1', 'address: 10.20.0.1', 'dhcp:', '  subnet: 10.20.0.0/24', '  pool: 10.20.0.100-10.20.0.199', '  router: 10.20.0.254'];
const TAIL = ['domains:', '  primary: schertz.name', 'lync:', '  pool: lyncpool.schertz.name', '  address: 10.20.0.10', ''];
const text = (scopes: string[], extra: string[] = []) => [...HEAD, ...extra, '  scopes:', ...scopes, ...TAIL].join('\n');

const VLAN30 = [
  '    - name: vlan30',
  '      subnet: 10.30.0.0/24',
  '      pool: 10.30.0.100-10.30.0.199',
  '      router: 10.30.0.1',
  '      lease: 1h',
  '      reservations:',
  '        - { mac: "00:04:f2:00:00:31", ip: 10.30.0.50, name: cx600-vlan30 }',
  '      domains: { primary: vlan30.schertz.name }',
  '      options: { "66": { text: tftp.vlan30 } }',
];

function errors(yaml: string): string[] {
  try {
    parseSite(yaml, 'x.yaml');
  } catch (e) {
    if (e instanceof SiteFileError) return e.errors.map((x) => `${x.line}:${x.col}: ${x.path}: ${x.message}`);
    throw e;
  }
  return [];
}

t.test('two scopes compile: each its subnet, pool, router, lease, reservations, domains and options', async (t) => {
  const plan = compilePlan(parseSite(text(VLAN30), 'x.yaml'), '/srv/x.yaml');
  const [a, b] = plan.dhcp.scopes;
  t.equal(plan.dhcp.scopes.length, 2);
  t.equal(a!.name, '10.20.0.0/24');
  t.equal(b!.name, 'vlan30');
  t.same(b!.subnet, { network: '10.30.0.0', prefix: 24, mask: '255.255.255.0', broadcast: '10.30.0.255' });
  t.same(b!.pools, [{ start: '10.30.0.100', end: '10.30.0.199' }]);
  t.same(b!.reservations, [{ mac: '00:04:f2:00:00:31', ip: '10.30.0.50', name: 'cx600-vlan30' }]);
  t.equal(b!.leaseSeconds, 3600);
  t.equal(b!.renewSeconds, 1800);
  t.equal(a!.leaseSeconds, 8 * 3600, 'the first keeps dhcp.lease');
  t.same([...b!.baseOptions.keys()], [1, 3, 6, 15, 119, 42, 4, 66]);
  t.equal(hex(b!.baseOptions.get(3)!), '0a1e0001', 'its router');
  t.equal(hex(b!.baseOptions.get(6)!), '0a140001', 'dhcp.dns (default: the appliance) inherited');
  t.equal(new TextDecoder().decode(b!.baseOptions.get(15)), 'vlan30.schertz.name');
  // RFC 1035 names: vlan30.schertz.name, search defaults to [primary] when the scope sets primary.
  t.equal(hex(b!.baseOptions.get(119)!), '06766c616e3330077363686572747a046e616d6500');
  t.equal(hex(b!.baseOptions.get(66)!), '746674702e766c616e3330');
  t.same(plan.domains, ['schertz.name', 'vlan30.schertz.name'], 'the scope\'s domain is a site domain (zones, certificate names)');
  const zones = plan.dns.zones.map((z) => z.apex);
  t.ok(zones.includes('0.30.10.in-addr.arpa'), 'a reverse zone for the second subnet');
  t.ok(zones.includes('0.20.10.in-addr.arpa'));
  t.ok(zones.includes('vlan30.schertz.name'), 'a zone for its domain');
  const ucupdates = plan.dns.zones.flatMap((z) => z.records).find((r) => r.name === 'ucupdates-r2.vlan30.schertz.name');
  t.ok(ucupdates, 'ucupdates-r2 in the scope\'s domain');
  const ptr = plan.dns.zones.flatMap((z) => z.records).find((r) => r.name === '50.0.30.10.in-addr.arpa');
  t.same(ptr?.data, { type: 'PTR', target: 'cx600-vlan30.schertz.name' }, 'a PTR for the scope\'s named reservation');
  t.same(plan.dns.allowRecursion, ['127.0.0.0/8', '10.20.0.0/24', '10.30.0.0/24', '10.20.0.1/32'], 'every scope may recurse');
});

t.test('a top-level reservation may be for any scope: it goes to the scope its address is in', async (t) => {
  const plan = compilePlan(parseSite(text(VLAN30.slice(0, 5), ['  reservations:', '    - { mac: "00:04:f2:00:00:32", ip: 10.30.0.60 }']), 'x.yaml'), '/srv/x.yaml');
  t.same(plan.dhcp.scopes[0]!.reservations, []);
  t.same(plan.dhcp.scopes[1]!.reservations, [{ mac: '00:04:f2:00:00:32', ip: '10.30.0.60' }]);
});

t.test('check: overlapping subnets, pools and routers outside their scope, reservations outside every scope, names twice', async (t) => {
  t.same(errors(text(['    - subnet: 10.20.0.128/25', '      pool: 10.20.0.200-10.20.0.210'])), [
    '9:15: dhcp.scopes[0].subnet: subnet 10.20.0.128/25 overlaps subnet 10.20.0.0/24 (dhcp.subnet)',
  ]);
  t.same(errors(text(['    - subnet: 10.30.0.0/24', '      pool: 10.31.0.100-10.31.0.110', '      router: 10.20.0.1'])), [
    '10:13: dhcp.scopes[0].pool: 10.31.0.100-10.31.0.110 is outside subnet 10.30.0.0/24',
    '11:15: dhcp.scopes[0].router: router 10.20.0.1 is outside subnet 10.30.0.0/24',
  ]);
  t.same(errors(text(['    - subnet: 10.30.0.0/24', '      pool: 10.30.0.100-10.30.0.110', '      reservations: [{ mac: "00:04:f2:00:00:31", ip: 10.40.0.5 }]'])), [
    '11:54: dhcp.scopes[0].reservations[0].ip: reservation 10.40.0.5 is outside every subnet served (10.20.0.0/24, 10.30.0.0/24)',
  ]);
  t.same(errors(text(['    - { name: a, subnet: 10.30.0.0/24, pool: 10.30.0.100-10.30.0.110 }', '    - { name: a, subnet: 10.40.0.0/24, pool: 10.40.0.100-10.40.0.110 }'])), [
    '10:15: dhcp.scopes[1].name: scope name a is already used (dhcp.scopes[0])',
  ]);
  t.same(errors(text(['    - { subnet: 10.30.0.0/24, pool: 10.30.0.1-10.30.0.110, router: 10.30.0.1 }'])), [
    '9:37: dhcp.scopes[0].pool: 10.30.0.1-10.30.0.110 includes the router 10.30.0.1: the pool must not hand it out',
  ]);
  t.same(
    errors(text(['    - { subnet: 10.30.0.0/24, pool: 10.30.0.100-10.30.0.110, reservations: [{ mac: "00:04:f2:00:00:31", ip: 10.30.0.50 }] }'], ['  reservations:', '    - { mac: "00:04:f2:00:00:31", ip: 10.20.0.50 }'])),
    ['11:84: dhcp.scopes[0].reservations[0].mac: MAC 00:04:f2:00:00:31 is already reserved (reservation 1)'],
  );
});
