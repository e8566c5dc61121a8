// The export targets without a network: the bytes inside the Windows
// (PowerShell and netsh) and Cisco IOS outputs, read back and decoded with
// provlab's wire decoders, against bytes written out by hand (docs/lpe-facts.md's
// DHCPUtil example, RFC 3397's compression rule); the Cisco 90-byte rule; and
// the Kea, dhcpd and dnsmasq files checked by the servers' own check modes.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/provlab.js';
import { LAB_SEARCH, mergeSite, planOf, siteYaml, type SiteSpec } from '../helpers/sites.js';
import type { Plan } from '../../src/site/plan.js';
import { exportPlan, TARGETS } from '../../src/export/index.js';
import { decodeEncapsulated } from '../../src/wire/rfc2132-encapsulated.js';
import { decodeSipServers } from '../../src/wire/rfc3361-sip.js';
import { decodeSearchList } from '../../src/wire/rfc3397-search.js';
import { KEA_FLEX_OPTION_LIBRARY } from '../../src/export/kea.js';
import { systemTool } from './peer-lab.js';

// docs/lpe-facts.md, "One public example (DHCPUtil, -sipserver server.fqdn.company.com)".
const DHCPUTIL_120 = '0006736572766572046671646E07636F6D70616E7903636F6D00'.toLowerCase();
const DHCPUTIL_43 = (
  '010C4D532D55432D436C69656E740205687474707303177365727665722E6671646E2E636F6D70616E792E636F6D04033434330525' +
  '2F4365727450726F762F4365727450726F766973696F6E696E67536572766963652E737663'
).toLowerCase();
// Option 119 for the single domain company.com: one uncompressed name.
const COMPANY_119 = '07636f6d70616e7903636f6d00';

const tlv = (code: number, s: string) => Buffer.concat([Buffer.from([code, s.length]), Buffer.from(s, 'ascii')]).toString('hex');

/** The DHCPUtil example's names (company.com) on eth1, with this web FQDN and `over` on top. */
function sitePlan(web: string, over: SiteSpec = {}): Plan {
  const site: SiteSpec = { site: 'export-targets', interface: 'eth1', dhcp: { router: '10.20.0.1' }, domains: { primary: 'company.com' }, lync: { pool: 'server.fqdn.company.com', web } };
  return planOf(siteYaml(mergeSite(site, over)));
}

const DHCPUTIL = sitePlan('server.fqdn.company.com');
// 24 characters: option 43 is 91 bytes, one over what IOS 15.1(3)S+ keeps.
const LONG_WEB = 'server1.fqdn.company.com';
const LONG = sitePlan(LONG_WEB);

t.test('the plan reproduces docs/lpe-facts.md\'s DHCPUtil bytes (the reference for everything below)', async (t) => {
  t.equal(Buffer.from(DHCPUTIL.dhcp.classes[0]!.options.get(43)!).toString('hex'), DHCPUTIL_43);
  t.equal(Buffer.from(DHCPUTIL.dhcp.classes[0]!.options.get(120)!).toString('hex'), DHCPUTIL_120);
  t.equal(DHCPUTIL.dhcp.classes[0]!.options.get(43)!.length, 90);
  t.equal(LONG.dhcp.classes[0]!.options.get(43)!.length, 91);
});

/** The bytes a PowerShell -Value argument stands for: GetBytes('text') or [byte[]](0x.., ...). */
function psValue(arg: string): Buffer {
  const text = /^\(\[System\.Text\.Encoding\]::ASCII\.GetBytes\('((?:[^']|'')*)'\)\)$/.exec(arg);
  if (text) return Buffer.from(text[1]!.replace(/''/g, "'"), 'ascii');
  const list = /^\(\[byte\[\]\]\(((?:0x[0-9A-Fa-f]{2},?)+)\)\)$/.exec(arg);
  if (list) return Buffer.from(list[1]!.split(',').map((h) => parseInt(h, 16)));
  throw new Error(`not a byte value: ${arg}`);
}

function windowsBytes(p: Plan): { ps: string; netsh: string; psSubs: Map<number, Buffer>; nsSubs: Map<number, Buffer>; ps120: Buffer; ns120: Buffer; ps119: Buffer; ns119: Buffer } {
  const r = exportPlan('windows', p);
  const ps = r.files.find((f) => f.name.endsWith('.ps1'))!.content;
  const netsh = r.files.find((f) => f.name.endsWith('.cmd'))!.content;
  const psSubs = new Map<number, Buffer>();
  for (const m of ps.matchAll(/^Set-DhcpServerv4OptionValue -ScopeId \$ScopeId -VendorClass 'MSUCClient' -OptionId (\d+) -Value (.+)$/gm)) {
    psSubs.set(Number(m[1]), psValue(m[2]!));
  }
  const nsSubs = new Map<number, Buffer>();
  for (const m of netsh.matchAll(/^netsh dhcp server scope 10\.20\.0\.0 set optionvalue (\d+) Binary vendor=MSUCClient ([0-9A-F]+)\r$/gm)) {
    nsSubs.set(Number(m[1]), Buffer.from(m[2]!, 'hex'));
  }
  const psStd = (code: number) => psValue(new RegExp(`^Set-DhcpServerv4OptionValue -ScopeId \\$ScopeId -OptionId ${code} -Value (.+)$`, 'm').exec(ps)![1]!);
  const nsStd = (code: number) => Buffer.from(new RegExp(`^netsh dhcp server scope 10\\.20\\.0\\.0 set optionvalue ${code} Binary ([0-9A-F]+)\\r$`, 'm').exec(netsh)![1]!, 'hex');
  return { ps, netsh, psSubs, nsSubs, ps120: psStd(120), ns120: nsStd(120), ps119: psStd(119), ns119: nsStd(119) };
}

/** Sub-options in ascending code order as TLVs: what Windows puts in option 43 (it keeps vendor options by code). */
function assemble(subs: Map<number, Buffer>): string {
  return [...subs.keys()]
    .sort((a, b) => a - b)
    .map((c) => Buffer.concat([Buffer.from([c, subs.get(c)!.length]), subs.get(c)!]).toString('hex'))
    .join('');
}

t.test('windows: PowerShell and netsh carry DHCPUtil\'s bytes for 43 (sub-options 1..5), 120 and 119', async (t) => {
  const w = windowsBytes(DHCPUTIL);
  t.same([...w.psSubs.keys()], [1, 2, 3, 4, 5], 'PowerShell sets sub-options 1..5 for vendor class MSUCClient');
  t.same([...w.nsSubs.keys()], [1, 2, 3, 4, 5], 'netsh sets sub-options 1..5 for vendor class MSUCClient');
  t.equal(assemble(w.psSubs), DHCPUTIL_43, 'PowerShell sub-options = DHCPUtil option 43');
  t.equal(assemble(w.nsSubs), DHCPUTIL_43, 'netsh sub-options = DHCPUtil option 43');
  const decoded = decodeEncapsulated(Buffer.from(assemble(w.nsSubs), 'hex'));
  t.ok(decoded.ok);
  if (decoded.ok) {
    t.same(
      decoded.value.subOptions.map((s) => Buffer.from(s.data).toString('latin1')),
      ['MS-UC-Client', 'https', 'server.fqdn.company.com', '443', '/CertProv/CertProvisioningService.svc'],
      'decoded: the port is the text "443"',
    );
    t.equal(decoded.value.endMarker, false, 'no 0xFF');
  }
  t.equal(w.ps120.toString('hex'), DHCPUTIL_120, 'PowerShell option 120 = DHCPUtil');
  t.equal(w.ns120.toString('hex'), DHCPUTIL_120, 'netsh option 120 = DHCPUtil');
  t.same(decodeSipServers(w.ns120), { ok: true, value: { encoding: 0, names: ['server.fqdn.company.com'] } });
  t.equal(w.ps119.toString('hex'), COMPANY_119);
  t.equal(w.ns119.toString('hex'), COMPANY_119);
  t.same(decodeSearchList(w.ns119), { ok: true, value: ['company.com'] });

  // The DHCPConfigScript.bat forms (Microsoft, "Using DHCPUtil").
  t.match(w.netsh, /^netsh dhcp server add class MSUCClient "UC Vendor Class Id" "MS-UC-Client" 1\r$/m);
  t.match(w.netsh, /^netsh dhcp server add optiondef 120 UCSipServer Binary 0 comment="Sip Server Fqdn"\r$/m);
  for (const [code, name] of [[1, 'UCIdentifier'], [2, 'URLScheme'], [3, 'WebServerFqdn'], [4, 'WebServerPort'], [5, 'CertProvRelPath']] as const) {
    t.match(w.netsh, new RegExp(`^netsh dhcp server add optiondef ${code} ${name} Binary 0 vendor=MSUCClient comment="[^"]+"\\r$`, 'm'));
    t.match(w.ps, new RegExp(`Add-DhcpServerv4OptionDefinition -VendorClass 'MSUCClient' -OptionId ${code} -Name '${name}' -Type BinaryData`));
  }
  t.match(w.ps, /Add-DhcpServerv4Class -Name 'MSUCClient' -Type Vendor -Data 'MS-UC-Client'/);
  t.match(w.ps, /-Router 10\.20\.0\.1 -DnsServer 10\.20\.0\.1 -DnsDomain 'company\.com' -Force/, 'options 3, 6, 15 on the scope');
  t.match(w.ps, /-OptionId 42 -Value '10\.20\.0\.1'/);
  t.match(w.ps, /-OptionId 4 -Value '10\.20\.0\.1'/);
  t.ok(w.netsh.startsWith('@echo off\r\n'), 'netsh file: @echo off first, CRLF line ends');
});

const iosHex = (dotted: string) => dotted.replace(/\./g, '');

t.test('cisco-ios: 90 bytes fit in "option 43 hex", exactly DHCPUtil\'s bytes', async (t) => {
  const r = exportPlan('cisco-ios', DHCPUTIL);
  const text = r.files[0]!.content;
  const lines = [...text.matchAll(/^ option 43 hex ([0-9a-f.]+)$/gm)];
  t.equal(lines.length, 1, 'one option 43 line');
  t.equal(iosHex(lines[0]![1]!), DHCPUTIL_43, 'DHCPUtil option 43');
  t.equal(iosHex(lines[0]![1]!).length / 2, 90);
  t.notMatch(text, /option ext/, 'no option ext needed');
  t.equal(iosHex(/^ option 120 hex ([0-9a-f.]+)$/m.exec(text)![1]!), DHCPUTIL_120);
  t.equal(iosHex(/^ option 119 hex ([0-9a-f.]+)$/m.exec(text)![1]!), COMPANY_119);
  t.match(text, /^ option 42 ip 10\.20\.0\.1$/m);
  t.match(text, /^ option 4 ip 10\.20\.0\.1$/m);
  t.match(text, /^ default-router 10\.20\.0\.1$/m);
  t.match(text, /^ domain-name company\.com$/m);
  t.match(text, /^ip dhcp excluded-address 10\.20\.0\.1 10\.20\.0\.99$/m);
  t.match(text, /^ip dhcp excluded-address 10\.20\.0\.200 10\.20\.0\.254$/m);
  t.same(r.warnings, []);
});

t.test('cisco-ios: 91 bytes switch to "option ext" parts of at most 90 bytes, with a loud warning', async (t) => {
  const r = exportPlan('cisco-ios', LONG);
  const text = r.files[0]!.content;
  const expected = tlv(1, 'MS-UC-Client') + tlv(2, 'https') + tlv(3, LONG_WEB) + tlv(4, '443') + tlv(5, '/CertProv/CertProvisioningService.svc');
  t.notMatch(text, /^ option 43 hex/m, 'no plain "option 43 hex" line that IOS would cut');
  const parts = [...text.matchAll(/^ option ext 43 hex ([0-9a-f.]+)$/gm)].map((m) => iosHex(m[1]!));
  t.ok(parts.length >= 2, 'option ext in parts');
  for (const p of parts) t.ok(p.length / 2 <= 90, `part of ${p.length / 2} bytes fits in 90`);
  t.equal(parts.join(''), expected, 'the parts joined are the whole option 43');
  t.equal(iosHex(/^ ! option 43 hex ([0-9a-f.]+)$/m.exec(text)![1]!), expected, 'the single line for older IOS is kept as a comment');
  t.match(text, /WARNING: option 43 is 91 bytes/);
  t.match(r.warnings.join('\n'), /option 43 is 91 bytes: IOS 15\.1\(3\)S and later silently cut "option 43 hex" at 90 bytes/);
  // What the cut would do: the last sub-option's declared length runs past the data.
  const cut = decodeEncapsulated(Buffer.from(expected, 'hex').subarray(0, 90));
  t.equal(cut.ok ? 'ok' : cut.error.code, 'truncated', 'IOS\'s 90-byte cut leaves sub-option 5 truncated');
  const whole = decodeEncapsulated(Buffer.from(parts.join(''), 'hex'));
  t.ok(whole.ok && Buffer.from(whole.value.subOptions[2]!.data).toString('latin1') === LONG_WEB, 'sub-option 3 is the whole web FQDN');
});

t.test('kea: class on option 60, 43 encapsulating MSUCClient, 120 as binary, 119 superseded with the compressed bytes', async (t) => {
  const p = sitePlan('server.fqdn.company.com', { domains: { primary: 'schertz.name', search: LAB_SEARCH } });
  const r = exportPlan('kea', p);
  const json = JSON.parse(r.files[0]!.content.replace(/^\/\/.*$/gm, '')) as { Dhcp4: Record<string, unknown> };
  const d = json.Dhcp4 as {
    'option-def': { name: string; code: number; type: string; space: string }[];
    'client-classes': { name: string; test: string; 'option-def': unknown[]; 'option-data': { name: string; space?: string; data?: string }[] }[];
    'hooks-libraries': { library: string; parameters: { options: { code: number; supersede: string }[] } }[];
  };
  const cls = d['client-classes'][0]!;
  t.equal(cls.test, "option[60].text == 'MS-UC-Client'");
  t.same(cls['option-def'], [{ name: 'vendor-encapsulated-options', code: 43, type: 'empty', encapsulate: 'MSUCClient' }]);
  t.same(
    cls['option-data'].filter((o) => o.space === 'MSUCClient').map((o) => [o.name, o.data]),
    [['UCIdentifier', 'MS-UC-Client'], ['URLScheme', 'https'], ['WebServerFqdn', 'server.fqdn.company.com'], ['WebServerPort', '443'], ['CertProvRelPath', '/CertProv/CertProvisioningService.svc']],
  );
  t.same(d['option-def'].find((o) => o.code === 120), { name: 'sip-server', code: 120, type: 'binary', space: 'dhcp4' });
  t.equal(cls['option-data'].find((o) => o.name === 'sip-server')!.data!.toLowerCase(), DHCPUTIL_120);
  // RFC 3397 §2: schertz.name in full, then "corp" and a pointer to offset 0.
  const rfc3397 = '077363686572747a046e616d650004636f7270c000';
  t.same(d['hooks-libraries'], [{ library: KEA_FLEX_OPTION_LIBRARY, parameters: { options: [{ code: 119, supersede: `0x${rfc3397.toUpperCase()}` }] } }]);
  const single = JSON.parse(exportPlan('kea', DHCPUTIL).files[0]!.content.replace(/^\/\/.*$/gm, '')) as { Dhcp4: Record<string, unknown> };
  t.notOk('hooks-libraries' in single.Dhcp4, 'no hook when compression changes nothing (one domain)');
});

t.test('every target names itself in the help list and exports the example sites', async (t) => {
  t.same(TARGETS.map((x) => x.name), ['windows', 'kea', 'isc-dhcpd', 'dnsmasq', 'cisco-ios', 'bind']);
  for (const target of TARGETS) {
    const r = exportPlan(target.name, DHCPUTIL);
    t.ok(r.files.length >= 1 && r.files.every((f) => f.content.includes(`provlab export ${target.name}`)), `${target.name}: header names the target`);
  }
});

/** Skip when a tool is missing, except under CI=true where that is a failure. */
function toolSkip(tool: string): string | false {
  try {
    execFileSync('sh', ['-c', `command -v ${systemTool(tool)}`], { stdio: 'ignore' });
    return false;
  } catch {
    if (process.env.CI === 'true') t.fail(`CI=true and ${tool} is not installed`);
    return `${tool} is not installed`;
  }
}

// A site with everything the exporters branch on: two pools, reservations with
// and without a name, no router, two DNS servers, an extra vendor class with
// sub-options and raw options, option 43 lab switches (reversed, with 0xFF).
const RICH_WEB = 'a-rather-long-web-services-name.example.com';
const RICH = siteYaml({
  site: 'rich lab',
  interface: 'lo',
  address: '10.30.0.1',
  dhcp: {
    subnet: '10.30.0.0/23',
    pool: ['10.30.0.100-10.30.0.149', '10.30.1.10-10.30.1.20'],
    dns: ['10.30.0.1', '10.30.0.2'],
    lease: '90m',
    reservations: [
      { mac: '00:04:f2:95:31:a2', ip: '10.30.0.50', name: 'cx600-lobby' },
      { mac: '00-04-F2-95-31-A3', ip: '10.30.0.51' },
    ],
    classes: `- vendor: CPE-OCPHONE
  options:
    43: { suboptions: { 10: "VLAN-A", 2: { hex: "0102" } } }
    66: { text: "tftp.example" }
    150: { ipv4: [10.30.0.5] }
    200: { hex: "c0ffee" }
  always: [43]
`,
  },
  domains: { primary: 'example.com', search: ['example.com', 'corp.example.com', 'lab.example.org'] },
  lync: { pool: 'lyncpool.example.com', web: RICH_WEB, address: '10.30.0.10', option43: '{ order: [5, 4, 3, 2, 1], end: true }' },
  ntp: { servers: ['10.30.0.1', '10.30.0.3'] },
});
// What the lab switches ask for: sub-options 5..1, then 0xFF.
const RICH_43 =
  tlv(5, '/CertProv/CertProvisioningService.svc') + tlv(4, '443') + tlv(3, RICH_WEB) + tlv(2, 'https') + tlv(1, 'MS-UC-Client') + 'ff';

t.test('rich site: the lab-switch option 43 goes in as raw bytes where a server would reorder it', async (t) => {
  const p = planOf(RICH);
  t.equal(Buffer.from(p.dhcp.classes[0]!.options.get(43)!).toString('hex'), RICH_43);
  const kea = exportPlan('kea', p);
  t.match(kea.files[0]!.content, RICH_43.toUpperCase(), 'kea: binary option 43');
  const dhcpd = exportPlan('isc-dhcpd', p);
  t.match(dhcpd.files[0]!.content, `option vendor-encapsulated-options ${RICH_43.match(/../g)!.join(':')};`, 'dhcpd: raw option 43');
  const dnsmasq = exportPlan('dnsmasq', p);
  t.match(dnsmasq.files[0]!.content, `dhcp-option-force=tag:msuc,43,${RICH_43.match(/../g)!.join(':')}`, 'dnsmasq: raw option 43 on the class tag');
  t.match(exportPlan('windows', p).warnings.join('\n'), /Windows chooses the order/);
  t.match(exportPlan('cisco-ios', p).warnings.join('\n'), /class CPE-OCPHONE .* is not exported/);
});

t.test('rich site: kea-dhcp4 -t accepts the export', { skip: toolSkip('kea-dhcp4') }, async (t) => {
  const dir = tempDir('provlab-export-check-');
  const conf = join(dir, 'kea-dhcp4.conf');
  writeFileSync(conf, exportPlan('kea', planOf(RICH)).files[0]!.content);
  const out = execFileSync('timeout', ['20', 'env', `KEA_PIDFILE_DIR=${dir}`, 'KEA_LOCKFILE_DIR=none', systemTool('kea-dhcp4'), '-t', conf], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  t.notMatch(out, /ERROR/);
});

t.test('rich site: dhcpd -t accepts the export', { skip: toolSkip('dhcpd') }, async (t) => {
  const dir = tempDir('provlab-export-check-');
  const conf = join(dir, 'dhcpd.conf');
  writeFileSync(conf, exportPlan('isc-dhcpd', planOf(RICH)).files[0]!.content);
  execFileSync('timeout', ['20', systemTool('dhcpd'), '-4', '-t', '-cf', conf], { stdio: 'ignore' });
  t.pass('dhcpd -t exit 0');
});

t.test('rich site: dnsmasq --test accepts the export', { skip: toolSkip('dnsmasq') }, async (t) => {
  const dir = tempDir('provlab-export-check-');
  const conf = join(dir, 'dnsmasq.conf');
  writeFileSync(conf, exportPlan('dnsmasq', planOf(RICH)).files[0]!.content);
  const out = execFileSync('timeout', ['20', systemTool('dnsmasq'), '--test', '-C', conf], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  t.pass(out.trim() || 'dnsmasq --test exit 0');
});
