// `provlab export isc-dhcpd` run by the real ISC dhcpd 4.4 (Debian
// isc-dhcp-server) in a network namespace, on the veth only; dhclient asks as
// an MS-UC-Client and tshark reads the ACK. Options 43, 120 and 119 must be
// provlab's bytes.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { namespaceSkip } from '../helpers/netns.js';
import { exportPlan } from '../../src/export/index.js';
import { hex } from '../../src/export/common.js';
import { assertAlwaysSent, assertProvlabBytes, exportLab, requestAsPhone, stopChild, systemTool, waitForOutput } from './peer-lab.js';

const skip = namespaceSkip(['dhcpd', 'dhclient', 'tshark']);

t.test('ISC dhcpd with the exported config sends provlab\'s option 43, 120 and 119 bytes', { skip }, async (t) => {
  const { lab, dir, plan } = exportLab(t, 'dhcpd');
  const result = exportPlan('isc-dhcpd', plan);
  t.same(result.warnings, [], 'nothing dhcpd cannot reproduce');
  const conf = join(dir, 'dhcpd.conf');
  writeFileSync(conf, result.files[0]!.content);
  const leases = join(dir, 'dhcpd.leases');
  writeFileSync(leases, '');

  // /usr/sbin/dhcpd: the `dhcp` npm dev dependency has a `dhcpd` of its own in node_modules/.bin.
  const DHCPD = systemTool('dhcpd');
  lab.exec(lab.server, 'timeout', ['20', DHCPD, '-4', '-t', '-cf', conf], 25_000);
  // Foreground (-f), log to stderr (-d), own lease and pid files, only the lab's veth.
  const dhcpd = lab.spawn(lab.server, 'timeout', ['60', DHCPD, '-4', '-f', '-d', '-cf', conf, '-lf', leases, '-pf', join(dir, 'dhcpd.pid'), lab.serverIf]);
  t.teardown(() => stopChild(dhcpd));
  await waitForOutput(dhcpd, /Sending on\s+LPF/);

  const asked = await requestAsPhone(lab, dir, 'asked', true);
  assertProvlabBytes(t, plan, asked);
  t.equal(asked.ack.get(58), hex(Uint8Array.of(0, 0, 0x07, 0x08)), 'T1 1800 s, as provlab sends it');
  assertAlwaysSent(t, await requestAsPhone(lab, dir, 'not-asked', false));
});
