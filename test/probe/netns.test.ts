// `provlab probe --interface` in network namespaces, as a phone plugged into
// the VLAN: provlab serves in SRV, the probe broadcasts from port 68 in CLI.
// First with no address on the probe's interface (DISCOVER/REQUEST; the
// probe never configures the offered address, so DNS and NTP are not
// checked), then with an address and --inform (DNS and NTP over the interface).
import t from 'tap';
import { join } from 'node:path';
import { createLab, namespaceSkip, type Lab } from '../helpers/netns.js';
import { tempDir, upWithSite, type Running } from '../helpers/provlab.js';
import { labSite } from '../helpers/sites.js';
import { runProbeCli } from './fixtures/run-probe.js';
import type { Check } from '../../src/probe/check.js';

const skip = namespaceSkip();

async function serve(t: Tap, lab: Lab): Promise<{ provlab: Running; dnsServing: boolean }> {
  const dir = tempDir();
  const site = labSite(lab, { name: 'probe-netns', state: join(dir, 'state'), stratum: 10 });
  const { provlab } = await upWithSite(t, dir, site, { ns: lab.server, ready: 'provlab up:', timeoutMs: 15_000 });
  return { provlab, dnsServing: provlab.logs.some((l) => String(l.msg).startsWith('DNS serving')) };
}
type Tap = { teardown(fn: () => void | Promise<void>): void; fail(m: string): void };

const of = (checks: readonly Check[], section: Check['section']): Check[] => checks.filter((c) => c.section === section);

t.test('DISCOVER/REQUEST on an interface without an address', { skip }, async (t) => {
  const lab = createLab(t);
  const { provlab } = await serve(t, lab);
  const run = await runProbeCli(['--interface', lab.clientIf, '--json', '--timeout', '1500'], { ns: lab.client });
  t.ok(run.report, `JSON report; stderr: ${run.stderr}`);
  const r = run.report!;
  t.equal(r.transport.kind, 'interface');
  for (const c of [...of(r.checks, 'dhcp'), ...of(r.checks, 'options')]) t.equal(c.status, 'pass', `${c.title}: ${c.detail}`);
  t.match(r.address, new RegExp(`^${lab.prefix.replace(/\./g, '\\.')}\\.1[0-5]\\d$`));
  t.equal(r.dhcpServer, lab.serverIp);
  t.equal(r.certProvUrl, 'https://lyncweb.schertz.name:443/CertProv/CertProvisioningService.svc');
  t.match(of(r.checks, 'dns'), [{ status: 'skip', detail: /has no IPv4 address and the probe never configures one/ }]);
  t.match(of(r.checks, 'ntp'), [{ status: 'skip' }]);
  t.equal(run.code, 0, 'nothing failed');
  // The interface still has no address: the probe configured nothing.
  t.notMatch(lab.exec(lab.client, 'ip', ['-4', 'addr', 'show', 'dev', lab.clientIf]), /inet /);
  // The probe's own MAC (the interface's) is what provlab leased to.
  const mac = lab.exec(lab.client, 'cat', [`/sys/class/net/${lab.clientIf}/address`]).trim();
  t.equal(r.identity.mac, mac);
  t.ok(provlab.logs.some((l) => l.reply === 'ACK' && l.vendorClass === 'MS-UC-Client'), 'provlab ACKed an MS-UC-Client');
});

t.test('INFORM from a configured address: DHCP, options and NTP over the interface', { skip }, async (t) => {
  const lab = createLab(t);
  const address = `${lab.prefix}.57`;
  lab.exec(lab.client, 'ip', ['addr', 'add', `${address}/24`, 'dev', lab.clientIf]);
  const { dnsServing } = await serve(t, lab);
  const run = await runProbeCli(['--interface', lab.clientIf, '--inform', address, '--json', '--timeout', '1500'], { ns: lab.client });
  t.ok(run.report, `JSON report; stderr: ${run.stderr}`);
  const r = run.report!;
  t.match(of(r.checks, 'dhcp'), [{ id: 'dhcp.inform', status: 'pass' }]);
  for (const c of of(r.checks, 'options')) t.not(c.status, 'fail', `${c.title}: ${c.detail}`);
  t.match(of(r.checks, 'ntp')[0], { status: 'pass', title: `NTP ${lab.serverIp}:123 (option 42)`, detail: /^stratum 10/ });
  const dns = of(r.checks, 'dns');
  t.ok(dns.length >= 7, 'DNS asked over the interface');
  if (dnsServing) {
    for (const c of dns) t.not(c.status, 'fail', `${c.title}: ${c.detail}`);
    t.equal(run.code, 0);
  } else {
    for (const c of dns) t.match(c.detail, new RegExp(`no answer from ${lab.serverIp.replace(/\./g, '\\.')}:53`), c.title);
    t.equal(run.code, 1, 'no DNS yet: a phone would fail');
  }
});
