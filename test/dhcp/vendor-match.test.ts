// Vendor classes matched by prefix or substring (Kea's substring() test and
// dnsmasq's dhcp-vendorclass offer them), next to MS-UC-Client, which stays
// exact and case-sensitive. The site file is compiled, the engine answers,
// and the exports for Kea and ISC dhcpd are read by kea-dhcp4 -t and
// dhcpd -t themselves.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rfc2131 } from '../../src/dhcp/rfc2131.js';
import { LeaseTable } from '../../src/dhcp/lease-table.js';
import { exportPlan } from '../../src/export/index.js';
import { parseSite, SiteFileError } from '../../src/site/load.js';
import { emptyMessage, MessageType, type DhcpMessage } from '../../src/wire/dhcp-message.js';
import { which } from '../helpers/netns.js';
import { planOf, siteYaml } from '../helpers/sites.js';

const classes = `- vendor: Polycom
  match: prefix
  options:
    66: { text: tftp.polycom.example }
- vendor: VVX
  match: substring
  options:
    66: { text: tftp.vvx.example }
- vendor: MS-UC
  match: prefix
  options:
    66: { text: tftp.ms-uc-prefix.example }
`;
const SITE = siteYaml({ site: 'vendor-match', dhcp: { classes } });

function discover(vendor: string | null): DhcpMessage {
  const m = emptyMessage();
  m.op = 1;
  m.htype = 1;
  m.hlen = 6;
  m.xid = 7;
  m.chaddr = new Uint8Array([0, 4, 0xf2, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  m.options.set(53, new Uint8Array([MessageType.DISCOVER]));
  if (vendor !== null) m.options.set(60, new Uint8Array(Buffer.from(vendor, 'latin1')));
  return m;
}

t.test('prefix and substring classes apply; MS-UC-Client is matched first and exactly', (t) => {
  const plan = planOf(SITE);
  t.same(plan.dhcp.classes.map((c) => [c.vendorClass, c.match]), [['MS-UC-Client', 'exact'], ['Polycom', 'prefix'], ['VVX', 'substring'], ['MS-UC', 'prefix']]);
  const engine = new Rfc2131(plan.dhcp, new LeaseTable(plan.dhcp));
  const tftp = (vendor: string | null): string | undefined => {
    const d = engine.handle(discover(vendor), 'interface', 1_800_000_000_000);
    const v = d.reply?.message.options.get(66);
    return v === undefined ? undefined : Buffer.from(v).toString('latin1');
  };
  t.equal(tftp('Polycom-VVX400-UA/5.9'), 'tftp.polycom.example', 'prefix: the first matching class wins, in site order');
  t.equal(tftp('Poly-VVX'), 'tftp.vvx.example', 'substring anywhere');
  t.equal(tftp('polycom-vvx'), undefined, 'case-sensitive, as Kea and dhcpd compare');
  t.equal(tftp('MS-UC-Client-Beta'), 'tftp.ms-uc-prefix.example', 'a longer MS-UC value is not MS-UC-Client, so the prefix class applies');
  const phone = engine.handle(discover('MS-UC-Client'), 'interface', 1_800_000_000_000).reply!.message;
  t.notOk(phone.options.has(66), 'MS-UC-Client itself stays the built-in class');
  t.ok(phone.options.has(43) && phone.options.has(120), 'with its 43 and 120');
  t.equal(tftp(null), undefined, 'no option 60: no class');
  t.end();
});

t.test('a match that is not exact, prefix or substring is refused with its place in the file', (t) => {
  const bad = siteYaml({ site: 'bad-match', dhcp: { classes: '- { vendor: Polycom, match: regex }\n' } });
  let err: unknown;
  try {
    parseSite(bad, '/srv/site.yaml');
  } catch (e) {
    err = e;
  }
  t.ok(err instanceof SiteFileError, 'refused');
  t.match(String((err as Error).message), /^\/srv\/site\.yaml:\d+:\d+: dhcp\.classes\[0\]\.match: .*exact, prefix or substring/m);
  t.end();
});

t.test('the exports state the match where the target can, and say so where it cannot', (t) => {
  const plan = planOf(SITE);
  const kea = exportPlan('kea', plan);
  const keaText = kea.files[0]!.content;
  t.match(keaText, /"test": "substring\(option\[60\]\.text,0,7\) == 'Polycom'"/, 'Kea: a prefix through substring()');
  t.notMatch(keaText, /tftp\.vvx\.example/, 'the substring class is left out of Kea');
  t.match(kea.warnings.join('\n'), /kea: class VVX .*substring match "VVX".*not exported/);
  const dhcpd = exportPlan('isc-dhcpd', plan);
  t.match(dhcpd.files[0]!.content, /match if substring\(option vendor-class-identifier, 0, 7\) = "Polycom";/);
  t.match(dhcpd.warnings.join('\n'), /isc-dhcpd: class VVX .*not exported/);
  const windows = exportPlan('windows', plan);
  t.match(windows.warnings.join('\n'), /windows: class Polycom .*can only match option 60 exact/);
  const dnsmasq = exportPlan('dnsmasq', plan);
  const dm = dnsmasq.files[0]!.content;
  t.match(dm, /dhcp-vendorclass=set:vvx,VVX/, 'dnsmasq: its own substring match');
  t.match(dm, /provlab matches its start/, 'the prefix class carries the difference as a comment');

  // The servers' own parsers accept the prefix tests (no namespace needed for a syntax check).
  const dir = mkdtempSync(join(tmpdir(), 'provlab-vendor-match-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const kd = which('kea-dhcp4');
  if (kd) {
    const file = join(dir, 'kea.conf');
    writeFileSync(file, keaText);
    execFileSync('env', [`KEA_PIDFILE_DIR=${dir}`, 'KEA_LOCKFILE_DIR=none', kd, '-t', file], { stdio: 'pipe', timeout: 20_000 });
    t.pass('kea-dhcp4 -t accepts the exported classes');
  } else if (process.env.CI === 'true') t.fail('kea-dhcp4 is not installed');
  const dd = which('dhcpd');
  if (dd) {
    const file = join(dir, 'dhcpd.conf');
    writeFileSync(file, dhcpd.files[0]!.content);
    execFileSync(dd, ['-t', '-4', '-cf', file], { stdio: 'pipe', timeout: 20_000 });
    t.pass('dhcpd -t accepts the exported classes');
  } else if (process.env.CI === 'true') t.fail('dhcpd is not installed');
  t.end();
});
