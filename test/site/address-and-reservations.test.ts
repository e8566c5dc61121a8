// The appliance address against the subnet (it must be on the subnet when
// provlab answers broadcasts there, anywhere for a relay-only site), and what
// a reservation may be: a station MAC, unique, inside the subnet. A
// reservation inside the dynamic pool is allowed, as Kea and dnsmasq allow it,
// and the pool then never hands that address to anyone else.
import t, { type Test } from 'tap';
import { fileURLToPath } from 'node:url';
import { parseSite, loadSite, SiteFileError } from '../../src/site/load.js';
import { notAStationMac } from '../../src/site/schema.js';
import { planOf } from '../helpers/sites.js';
import { LeaseTable } from '../../src/dhcp/lease-table.js';

const root = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

function site(opts: { iface?: string; address?: string; enabled?: boolean; reservations?: string } = {}): string {
  return [
    'site: rules',
    ...(opts.iface ? [`interface: ${opts.iface}`] : []),
    `address: ${opts.address ?? '10.20.0.1'}`,
    'dhcp:',
    ...(opts.enabled === false ? ['  enabled: false'] : []),
    '  subnet: 10.20.0.0/24',
    '  pool: 10.20.0.100-10.20.0.199',
    ...(opts.reservations ? ['  reservations:', opts.reservations] : []),
    'domains:',
    '  primary: schertz.name',
    'lync:',
    '  pool: lyncpool.schertz.name',
    '  address: 10.20.0.10',
    '',
  ].join('\n');
}

function refused(t: Test, text: string): SiteFileError {
  const e = t.throws(() => parseSite(text, 'x.yaml')) as unknown;
  t.ok(e instanceof SiteFileError, 'a SiteFileError');
  return e as SiteFileError;
}

t.test('the shipped sites still load', async (t) => {
  for (const file of ['config/default.yaml', 'config/site.example.yaml', 'docker/site.yaml']) {
    t.doesNotThrow(() => loadSite(root(file)), file);
  }
  // The loopback default is relay-only and sits outside the subnet it serves.
  const d = loadSite(root('config/default.yaml'));
  t.equal(d.interface, null);
  t.equal(d.address, '127.0.0.1');
  t.equal(d.dhcp.subnet, '127.88.0.0/24');
});

t.test('address: inside the subnet on an interface, anywhere when relay-only', async (t) => {
  t.equal(parseSite(site({ iface: 'eth1' }), 'x.yaml').address, '10.20.0.1', 'on the subnet, with an interface');
  t.equal(parseSite(site({ address: '10.0.0.5' }), 'x.yaml').address, '10.0.0.5', 'relay-only: the server sits behind the relay');
  t.equal(parseSite(site({ address: '10.0.0.5' }) + 'interface: null\n', 'x.yaml').interface, null, 'interface: null is relay-only too');
  t.equal(parseSite(site({ iface: 'eth1', address: '10.0.0.5', enabled: false }), 'x.yaml').address, '10.0.0.5', 'no DHCP served on the interface: not checked');

  const outside = refused(t, site({ iface: 'eth1', address: '10.0.0.5' }));
  t.same(
    outside.errors.map((e) => [e.line, e.col, e.path]),
    [[3, 10, 'address']],
    'one error, at the address value',
  );
  t.equal(
    outside.errors[0]!.message,
    'address 10.0.0.5 is outside subnet 10.20.0.0/24: provlab answers DHCP on interface eth1, so its own address must be in the subnet it serves (use the interface\'s address in 10.20.0.0/24, or remove "interface" for a relay-only site)',
  );
  for (const [address, what] of [['10.20.0.0', 'network'], ['10.20.0.255', 'broadcast']] as const) {
    for (const iface of ['eth1', undefined]) {
      const e = refused(t, site({ ...(iface ? { iface } : {}), address }));
      t.match(e.message, `x.yaml:${iface ? 3 : 2}:10: address: address ${address} is the ${what} address of 10.20.0.0/24`, `${what} address, interface ${iface ?? 'none'}`);
    }
  }
});

t.test('reservation MACs: the phone\'s own, never broadcast, multicast or all zeros', async (t) => {
  t.equal(notAStationMac('00:04:f2:95:31:a2'), null, 'a Polycom OUI');
  t.equal(notAStationMac('02:00:00:aa:bb:cc'), null, 'locally administered unicast (the e2e tests use these)');
  t.match(notAStationMac('ff:ff:ff:ff:ff:ff'), /broadcast MAC address/);
  t.match(notAStationMac('00:00:00:00:00:00'), /all zeros/);
  t.match(notAStationMac('01:00:5e:00:00:fb'), /multicast MAC address \(its first byte, 01, has the group bit set\)/);
  t.match(notAStationMac('33:33:00:00:00:01'), /multicast/, 'IPv6 multicast');
  t.match(notAStationMac('03:00:00:00:00:01'), /multicast/, 'locally administered multicast');
  for (const spelling of ['ffff.ffff.ffff', 'FF-FF-FF-FF-FF-FF', 'ffffffffffff']) {
    const e = refused(t, site({ reservations: `    - { mac: "${spelling}", ip: 10.20.0.50 }` }));
    t.same(e.errors.map((x) => [x.line, x.col, x.path]), [[7, 14, 'dhcp.reservations[0].mac']], spelling);
    t.match(e.errors[0]!.message, /^ff:ff:ff:ff:ff:ff is the broadcast MAC address/);
  }
});

t.test('reservations: unique MAC and IP, inside the subnet', async (t) => {
  const dupMac = refused(t, site({ reservations: '    - { mac: "00:04:f2:95:31:a2", ip: 10.20.0.50 }\n    - { mac: 0004.f295.31a2, ip: 10.20.0.51 }' }));
  t.match(dupMac.message, 'x.yaml:8:14: dhcp.reservations[1].mac: MAC 00:04:f2:95:31:a2 is already reserved (reservation 1)');
  const dupIp = refused(t, site({ reservations: '    - { mac: "00:04:f2:95:31:a2", ip: 10.20.0.50 }\n    - { mac: "00:04:f2:95:31:a3", ip: 10.20.0.50 }' }));
  t.match(dupIp.message, 'x.yaml:8:39: dhcp.reservations[1].ip: 10.20.0.50 is already reserved for 00:04:f2:95:31:a2 (reservation 1)');
  const outside = refused(t, site({ reservations: '    - { mac: "00:04:f2:95:31:a2", ip: 10.21.0.50 }' }));
  t.match(outside.message, 'x.yaml:7:39: dhcp.reservations[0].ip: reservation 10.21.0.50 is outside subnet 10.20.0.0/24');
});

t.test('a reservation inside the dynamic pool is allowed, and the pool skips it', async (t) => {
  const text = site({ reservations: '    - { mac: "00:04:f2:95:31:a2", ip: 10.20.0.100, name: cx600-lobby }' }).replace(
    'pool: 10.20.0.100-10.20.0.199',
    'pool: 10.20.0.100-10.20.0.102',
  );
  const plan = planOf(text);
  t.same(plan.dhcp.scopes[0]!.reservations, [{ mac: '00:04:f2:95:31:a2', ip: '10.20.0.100', name: 'cx600-lobby' }]);
  t.same(plan.dhcp.scopes[0]!.pools, [{ start: '10.20.0.100', end: '10.20.0.102' }], 'the pool is kept as written');

  const now = 1_800_000_000_000;
  const table = new LeaseTable(plan.dhcp);
  const given: (string | null)[] = [];
  for (const mac of ['00:11:22:33:44:01', '00:11:22:33:44:02', '00:11:22:33:44:03']) {
    const ip = table.choose(`mac:${mac}`, mac, undefined, now);
    if (ip !== null) table.hold(ip, `mac:${mac}`, now + 30_000);
    given.push(ip);
  }
  t.same(given, ['10.20.0.101', '10.20.0.102', '10.20.0.101'], 'other clients never get the reserved address; with only offers left, the oldest gives way');
  t.notOk(table.availableTo('10.20.0.100', 'mac:00:11:22:33:44:04', '00:11:22:33:44:04', now), 'nor when they ask for it');
  t.equal(table.choose('mac:00:04:f2:95:31:a2', '00:04:f2:95:31:a2', undefined, now), '10.20.0.100', 'the reserved phone gets it');
});
