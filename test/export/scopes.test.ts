// A site with two scopes (dhcp.scopes): every export target serves both
// subnets, the second with its own router, domain, lease and reservation, and
// the servers' own check modes accept the files.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/provlab.js';
import { planOf, siteYaml } from '../helpers/sites.js';
import { exportPlan } from '../../src/export/index.js';
import { systemTool } from './peer-lab.js';

const TWO = planOf(
  siteYaml({
    site: 'two vlans',
    interface: 'lo',
    address: '10.20.0.1',
    dhcp: {
      subnet: '10.20.0.0/24',
      pool: '10.20.0.100-10.20.0.199',
      router: '10.20.0.254',
      scopes: [{ name: 'vlan30', subnet: '10.30.0.0/24', pool: '10.30.0.100-10.30.0.199', router: '10.30.0.1', lease: '1h' }],
      reservations: [{ mac: '00:04:f2:00:00:31', ip: '10.30.0.50', name: 'cx600-vlan30' }],
    },
    domains: { primary: 'schertz.name' },
  }).replace('router: 10.30.0.1,', 'router: 10.30.0.1, domains: { primary: vlan30.schertz.name },'),
);

function toolSkip(tool: string): string | false {
  try {
    execFileSync('sh', ['-c', `command -v ${systemTool(tool)}`], { stdio: 'ignore' });
    return false;
  } catch {
    return `${tool} is not installed`;
  }
}

t.test('the site has two scopes, the second with its own domain', async (t) => {
  t.equal(TWO.dhcp.scopes.length, 2);
  t.equal(new TextDecoder().decode(TWO.dhcp.scopes[1]!.baseOptions.get(15)), 'vlan30.schertz.name');
});

t.test('kea: one subnet4 per scope with ids, the second without interface, with its lease and reservation', async (t) => {
  const conf = JSON.parse(exportPlan('kea', TWO).files[0]!.content.replace(/^\/\/.*$/gm, '')) as { Dhcp4: { subnet4: Record<string, unknown>[] } };
  const [a, b] = conf.Dhcp4.subnet4;
  t.equal(conf.Dhcp4.subnet4.length, 2);
  t.match(a, { id: 1, subnet: '10.20.0.0/24', interface: 'lo' });
  t.match(b, { id: 2, subnet: '10.30.0.0/24', pools: [{ pool: '10.30.0.100 - 10.30.0.199' }], 'valid-lifetime': 3600, reservations: [{ 'hw-address': '00:04:f2:00:00:31', 'ip-address': '10.30.0.50' }] });
  t.notOk('interface' in b!, 'a relayed subnet has no interface');
  t.match(JSON.stringify(b), /"name":"routers","data":"10.30.0.1"/);
  t.match(JSON.stringify(b), /"name":"domain-name","data":"vlan30.schertz.name"/);
});

t.test('isc-dhcpd: one subnet block per scope', async (t) => {
  const c = exportPlan('isc-dhcpd', TWO).files[0]!.content;
  t.match(c, /subnet 10\.20\.0\.0 netmask 255\.255\.255\.0 \{\n  range 10\.20\.0\.100 10\.20\.0\.199;/);
  t.match(c, /subnet 10\.30\.0\.0 netmask 255\.255\.255\.0 \{\n  range 10\.30\.0\.100 10\.30\.0\.199;\n  default-lease-time 3600;/);
  t.match(c, /option routers 10\.30\.0\.1;/);
  t.match(c, /option domain-name "vlan30\.schertz\.name";/);
  t.match(c, /fixed-address 10\.30\.0\.50;/);
});

t.test('dnsmasq: a tagged dhcp-range per extra scope, with its own 3, 15 and 119', async (t) => {
  const c = exportPlan('dnsmasq', TWO).files[0]!.content;
  t.match(c, 'dhcp-range=10.20.0.100,10.20.0.199,255.255.255.0,28800');
  t.match(c, 'dhcp-range=set:scope-vlan30,10.30.0.100,10.30.0.199,255.255.255.0,3600');
  t.match(c, 'dhcp-option=tag:scope-vlan30,3,10.30.0.1');
  t.match(c, 'dhcp-option=tag:scope-vlan30,15,"vlan30.schertz.name"');
  t.match(c, /dhcp-option=tag:scope-vlan30,119,/);
});

t.test('windows: one scope each, options set per scope', async (t) => {
  const [ps, ns] = exportPlan('windows', TWO).files.map((f) => f.content);
  t.match(ps, "$ScopeId = '10.30.0.0'");
  t.match(ps, /Add-DhcpServerv4Scope -Name 'provlab two vlans vlan30' -StartRange 10\.30\.0\.100 -EndRange 10\.30\.0\.199 -SubnetMask 255\.255\.255\.0 -LeaseDuration \(New-TimeSpan -Seconds 3600\)/);
  t.match(ps, /-Router 10\.30\.0\.1 /);
  t.match(ns, 'netsh dhcp server scope 10.30.0.0 set optionvalue 3 IPADDRESS 10.30.0.1');
  t.match(ns, 'netsh dhcp server scope 10.30.0.0 add reservedip 10.30.0.50 0004f2000031 "cx600-vlan30"');
});

t.test('cisco-ios: one ip dhcp pool each', async (t) => {
  const c = exportPlan('cisco-ios', TWO).files[0]!.content;
  t.match(c, /ip dhcp pool PROVLAB-two-vlans\n network 10\.20\.0\.0 255\.255\.255\.0/);
  t.match(c, /ip dhcp pool PROVLAB-two-vlans-vlan30\n network 10\.30\.0\.0 255\.255\.255\.0/);
  t.match(c, 'ip dhcp excluded-address 10.30.0.1 10.30.0.99');
  t.match(c, /network 10\.30\.0\.0[^!]* lease 0 1 0/);
  t.match(c, ' host 10.30.0.50 255.255.255.0');
});

t.test('kea-dhcp4 -t accepts the two-scope export', { skip: toolSkip('kea-dhcp4') }, async (t) => {
  const dir = tempDir('provlab-export-scopes-');
  const conf = join(dir, 'kea-dhcp4.conf');
  writeFileSync(conf, exportPlan('kea', TWO).files[0]!.content);
  const out = execFileSync('timeout', ['20', 'env', `KEA_PIDFILE_DIR=${dir}`, 'KEA_LOCKFILE_DIR=none', systemTool('kea-dhcp4'), '-t', conf], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  t.notMatch(out, /ERROR/);
});

t.test('dhcpd -t accepts the two-scope export', { skip: toolSkip('dhcpd') }, async (t) => {
  const dir = tempDir('provlab-export-scopes-');
  const conf = join(dir, 'dhcpd.conf');
  writeFileSync(conf, exportPlan('isc-dhcpd', TWO).files[0]!.content);
  execFileSync('timeout', ['20', systemTool('dhcpd'), '-4', '-t', '-cf', conf], { stdio: 'ignore' });
  t.pass('dhcpd -t exit 0');
});

t.test('dnsmasq --test accepts the two-scope export', { skip: toolSkip('dnsmasq') }, async (t) => {
  const dir = tempDir('provlab-export-scopes-');
  const conf = join(dir, 'dnsmasq.conf');
  writeFileSync(conf, exportPlan('dnsmasq', TWO).files[0]!.content);
  execFileSync('timeout', ['20', systemTool('dnsmasq'), '--test', '-C', conf], { stdio: 'ignore' });
  t.pass('dnsmasq --test exit 0');
});
