// `provlab export isc-dhcpd` run by the real ISC dhcpd 4.4 (Debian
// isc-dhcp-server) in a network namespace, on the veth only; dhclient asks as
// an MS-UC-Client and tshark reads the ACK. Options 43, 120 and 119 must be
// provlab's bytes.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLab, namespaceSkip } from '../helpers/netns.js';
import { tempDir, writeSite } from '../helpers/provlab.js';
import { loadSite } from '../../src/site/load.js';
import { compilePlan } from '../../src/site/compile.js';
import { exportPlan } from '../../src/export/index.js';
import { hex } from '../../src/export/common.js';
import { EXPECTED_119, EXPECTED_120, EXPECTED_43, dhclientHex, labSite, requestAsPhone, stopChild, systemTool, waitForOutput } from './peer-lab.js';

const skip = namespaceSkip(['dhcpd', 'dhclient', 'tshark']);

t.test('ISC dhcpd with the exported config sends provlab\'s option 43, 120 and 119 bytes', { skip }, async (t) => {
  const lab = createLab(t);
  const dir = tempDir('provlab-export-dhcpd-');
  const file = writeSite(dir, labSite(lab, join(dir, 'state')));
  const plan = compilePlan(loadSite(file), file);
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
  t.equal(asked.ack.get(43), EXPECTED_43, 'option 43 on the wire = provlab\'s bytes (ascending, no 0xFF)');
  t.equal(asked.ack.get(120), EXPECTED_120, 'option 120 on the wire = provlab\'s bytes');
  t.equal(asked.ack.get(119), EXPECTED_119, 'option 119 on the wire = provlab\'s compressed bytes');
  t.equal(asked.ack.get(15), hex(plan.dhcp.baseOptions.get(15)!), 'option 15');
  t.equal(asked.ack.get(42), hex(plan.dhcp.baseOptions.get(42)!), 'option 42');
  t.equal(asked.ack.get(4), hex(plan.dhcp.baseOptions.get(4)!), 'option 4');
  t.equal(asked.ack.get(58), hex(Uint8Array.of(0, 0, 0x07, 0x08)), 'T1 1800 s, as provlab sends it');
  t.equal(dhclientHex(asked.env.new_vendor_encapsulated_options), EXPECTED_43, 'dhclient read the same option 43');
  t.equal(dhclientHex(asked.env.new_lync_sip_server), EXPECTED_120, 'dhclient read the same option 120');
  t.equal(asked.env.new_domain_search, 'schertz.name. corp.schertz.name.', 'dhclient decodes option 119');

  const notAsked = await requestAsPhone(lab, dir, 'not-asked', false);
  t.equal(notAsked.ack.get(43), EXPECTED_43, 'always-send: option 43 although option 55 does not ask for it');
  t.equal(notAsked.ack.get(120), EXPECTED_120, 'always-send: option 120 although option 55 does not ask for it');
});
