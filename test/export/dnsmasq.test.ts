// `provlab export dnsmasq` run by the real dnsmasq 2.90 (Debian dnsmasq-base)
// in a network namespace, on the veth only; dhclient asks as an MS-UC-Client
// and tshark reads the ACK. Options 120 and 119 must be provlab's bytes;
// option 43 must differ in exactly the two documented ways (reverse order,
// 0xFF inside), and the commented byte-exact alternative must remove both.
import t, { type Test } from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { namespaceSkip } from '../helpers/netns.js';
import { exportPlan } from '../../src/export/index.js';
import { hex } from '../../src/export/common.js';
import { EXPECTED_119, EXPECTED_120, EXPECTED_43, SUBS_43 } from '../helpers/lab-bytes.js';
import { exportLab, requestAsPhone, stopChild, systemTool, waitForOutput, type Received } from './peer-lab.js';

const skip = namespaceSkip(['dnsmasq', 'dhclient', 'tshark']);

/** Exports, lets `edit` change the config, runs dnsmasq on the lab's veth, and asks twice (with and without 43/120 in option 55). */
async function run(t: Test, edit: (conf: string) => string): Promise<{ asked: Received; notAsked: Received; conf: string; warnings: readonly string[] }> {
  const { lab, dir, plan } = exportLab(t, 'dnsmasq');
  t.equal(hex(plan.dhcp.classes[0]!.options.get(43)!), EXPECTED_43, 'plan option 43 is DHCPUtil\'s layout');
  const result = exportPlan('dnsmasq', plan);
  const conf = edit(result.files[0]!.content);
  const path = join(dir, 'dnsmasq.conf');
  writeFileSync(path, conf);
  const dnsmasq = systemTool('dnsmasq');
  lab.exec(lab.server, 'timeout', ['20', dnsmasq, '--test', '-C', path], 25_000);
  // Foreground (-k), logs to stderr, own lease and pid files; the config binds the lab's veth only.
  const server = lab.spawn(lab.server, 'timeout', [
    '60',
    dnsmasq,
    '-k',
    '-C',
    path,
    `--pid-file=${join(dir, 'dnsmasq.pid')}`,
    `--dhcp-leasefile=${join(dir, 'dnsmasq.leases')}`,
    '--log-facility=-',
  ]);
  t.teardown(() => stopChild(server));
  await waitForOutput(server, /DHCP, IP range/);
  const asked = await requestAsPhone(lab, dir, 'asked', true);
  const notAsked = await requestAsPhone(lab, dir, 'not-asked', false);
  return { asked, notAsked, conf, warnings: result.warnings };
}

/** Option 43 as dnsmasq builds it from vendor: lines (docs/lpe-facts.md §Option 43, lab-notes): the sub-options reversed, then 0xFF. */
const DNSMASQ_43 = [...SUBS_43].reverse().join('') + 'ff';

t.test('dnsmasq with the exported vendor: lines: 120 and 119 exact, 43 reversed with 0xFF', { skip }, async (t) => {
  const { asked, notAsked, conf, warnings } = await run(t, (c) => c);
  t.match(conf, /^dhcp-option-force=vendor:MS-UC-Client,4,"443"$/m, 'the port is quoted (else dnsmasq sends 01 bb)');
  t.match(conf, /WARNING: dnsmasq builds option 43[\s\S]*REVERSE order \(5, 4, 3, 2, 1\)[\s\S]*end marker 0xFF/, 'the config warns about both differences');
  t.match(warnings.join('\n'), /reverses the option 43 sub-options and appends 0xFF/);

  t.equal(asked.ack.get(120), EXPECTED_120, 'option 120 on the wire = provlab\'s bytes');
  t.equal(asked.ack.get(119), EXPECTED_119, 'option 119 on the wire = provlab\'s compressed bytes');
  const got43 = asked.ack.get(43)!;
  t.equal(got43, DNSMASQ_43, 'option 43 = provlab\'s sub-options in reverse order, plus 0xFF');
  // Exactly those two differences: drop the 0xFF, put the sub-options back in order, and it is provlab's option 43.
  t.equal(got43.slice(-2), 'ff', 'ends with 0xFF inside the option');
  const body = got43.slice(0, -2);
  const subs: string[] = [];
  for (let i = 0; i < body.length; ) {
    const len = parseInt(body.slice(i + 2, i + 4), 16);
    subs.push(body.slice(i, i + 4 + 2 * len));
    i += 4 + 2 * len;
  }
  t.same(subs.map((s) => parseInt(s.slice(0, 2), 16)), [5, 4, 3, 2, 1], 'sub-options 5, 4, 3, 2, 1');
  t.equal(subs.reverse().join(''), EXPECTED_43, 'reordered and without 0xFF: provlab\'s bytes');
  t.ok(SUBS_43[3] === '0403343433' && got43.includes('0403343433'), 'port is the text "443" (34 34 33), not 01 bb');

  t.equal(notAsked.ack.get(43), DNSMASQ_43, 'dhcp-option-force: option 43 although option 55 does not ask for it');
  t.equal(notAsked.ack.get(120), EXPECTED_120, 'dhcp-option-force: option 120 although option 55 does not ask for it');
});

t.test('dnsmasq with the commented byte-exact alternative: option 43 = provlab\'s bytes', { skip }, async (t) => {
  const { asked, notAsked } = await run(t, (c) => {
    const alt = /^# (dhcp-option-force=tag:msuc,43,[0-9a-f:]+)$/m.exec(c);
    t.ok(alt, 'the config carries the alternative line');
    return c.replace(/^dhcp-option-force=vendor:.*$/gm, '').replace(alt![0], alt![1]!);
  });
  t.equal(asked.ack.get(43), EXPECTED_43, 'option 43 on the wire = provlab\'s bytes (ascending, no 0xFF)');
  t.equal(asked.ack.get(120), EXPECTED_120);
  t.equal(asked.ack.get(119), EXPECTED_119);
  t.equal(notAsked.ack.get(43), EXPECTED_43, 'forced as well');
});
