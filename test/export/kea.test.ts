// `provlab export kea` run by the real kea-dhcp4 (Debian kea-dhcp4-server) in a
// network namespace, on the veth only; dhclient asks as an MS-UC-Client and
// tshark reads the ACK. Options 43, 120 and 119 must be provlab's bytes.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { namespaceSkip } from '../helpers/netns.js';
import { exportPlan } from '../../src/export/index.js';
import { hex } from '../../src/export/common.js';
import { EXPECTED_119, EXPECTED_120, EXPECTED_43 } from '../helpers/lab-bytes.js';
import { assertAlwaysSent, assertProvlabBytes, exportLab, requestAsPhone, stopChild, waitForOutput } from './peer-lab.js';

const skip = namespaceSkip(['kea-dhcp4', 'dhclient', 'tshark']);

t.test('kea-dhcp4 with the exported config sends provlab\'s option 43, 120 and 119 bytes', { skip }, async (t) => {
  const { lab, dir, plan } = exportLab(t, 'kea');
  t.equal(hex(plan.dhcp.classes[0]!.options.get(43)!), EXPECTED_43, 'plan option 43 is DHCPUtil\'s layout');
  t.equal(hex(plan.dhcp.classes[0]!.options.get(120)!), EXPECTED_120);
  t.equal(hex(plan.dhcp.scopes[0]!.baseOptions.get(119)!), EXPECTED_119);

  const result = exportPlan('kea', plan);
  t.same(result.warnings, [], 'nothing Kea cannot reproduce');
  const exported = result.files[0]!.content;
  // The one change for the test: leases in memory only (the export keeps Kea's default lease file).
  const json = JSON.parse(exported.replace(/^\/\/.*$/gm, '')) as { Dhcp4: Record<string, unknown> };
  json.Dhcp4['lease-database'] = { type: 'memfile', persist: false };
  json.Dhcp4['loggers'] = [{ name: 'kea-dhcp4', output_options: [{ output: 'stdout' }], severity: 'INFO' }];
  const conf = join(dir, 'kea-dhcp4.conf');
  writeFileSync(conf, JSON.stringify(json, null, 2));

  // The exported file itself (with its // comments) passes Kea's own check.
  const original = join(dir, 'exported-kea-dhcp4.conf');
  writeFileSync(original, exported);
  const env = ['env', `KEA_PIDFILE_DIR=${dir}`, 'KEA_LOCKFILE_DIR=none'];
  lab.exec(lab.server, 'timeout', ['20', ...env, 'kea-dhcp4', '-t', original], 25_000);

  const kea = lab.spawn(lab.server, 'timeout', ['60', ...env, 'kea-dhcp4', '-c', conf]);
  t.teardown(() => stopChild(kea));
  await waitForOutput(kea, /DHCP4_STARTED/);

  assertProvlabBytes(t, plan, await requestAsPhone(lab, dir, 'asked', true));
  assertAlwaysSent(t, await requestAsPhone(lab, dir, 'not-asked', false));
});
