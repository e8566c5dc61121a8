// `provlab probe --relay` against the real `provlab up` on loopback high
// ports, the shape of the `npm start` default: no root, no namespace.
// DNS joins `provlab up` later: until provlab logs "DNS serving…", the DNS
// steps must be reported as failures with a reason; once it does, they must
// pass. The test tightens by itself when DNS lands.
import t, { type Test } from 'tap';
import { join } from 'node:path';
import { startProvlab, tempDir, writeSite, type Running } from '../helpers/provlab.js';
import { runProbe } from '../../src/probe/probe.js';
import { exitCode } from '../../src/probe/report.js';
import type { Check } from '../../src/probe/check.js';
import { runProbeCli } from './fixtures/run-probe.js';
import { LOOPBACK_SITE, mergeSite, siteYaml } from '../helpers/sites.js';

const PORT = 30000 + (process.pid % 3000) * 3;
const NET = `127.${150 + (process.pid % 50)}.0`;
const GIADDR = `${NET}.1`;

function site(state: string): string {
  return siteYaml(
    mergeSite(LOOPBACK_SITE, {
      site: 'probe-relay',
      dhcp: { subnet: `${NET}.0/24`, pool: `${NET}.100-${NET}.199`, router: GIADDR, lease: '8h' },
      domains: { search: ['example.local', 'corp.example.local'] },
      lync: { web: 'lyncweb.example.local' },
      listen: PORT,
      state,
    }),
  );
}

let provlab: Running;
let dnsServing = false;

t.before(async () => {
  const dir = tempDir();
  provlab = startProvlab(['up', '--site', writeSite(dir, site(join(dir, 'state')))]);
  await provlab.waitForLog((l) => String(l.msg).startsWith('provlab up:'));
  dnsServing = provlab.logs.some((l) => String(l.msg).startsWith('DNS serving'));
});
t.teardown(() => provlab?.stop('SIGKILL'));

const of = (checks: readonly Check[], section: Check['section']): Check[] => checks.filter((c) => c.section === section);
const relay = { kind: 'relay' as const, giaddr: GIADDR, server: '127.0.0.1', port: PORT };

function assertDns(t: Test, checks: readonly Check[]): void {
  const dns = of(checks, 'dns');
  t.ok(dns.length >= 7, `DNS steps reported (${dns.length})`);
  if (dnsServing) {
    for (const c of dns) t.not(c.status, 'fail', `DNS serving: ${c.title} → ${c.detail}`);
    t.match(dns.find((c) => c.title === 'A ucupdates-r2.example.local'), { status: 'pass' });
  } else {
    t.comment('provlab up does not serve DNS yet: DNS steps must fail with a reason');
    for (const c of dns) {
      t.ok(c.status === 'fail' || c.status === 'warn', `${c.title} reported as a problem`);
      t.match(c.detail, /no answer from 127\.0\.0\.1:\d+/, `${c.title} says why`);
    }
    t.ok(dns.some((c) => c.status === 'fail'), 'and at least one is a failure');
  }
}

t.test('DISCOVER/REQUEST as a relay: DHCP, options and NTP pass', async (t) => {
  const report = await runProbe({ via: relay, dnsPort: PORT + 1, ntpPort: PORT + 2, timeoutMs: 1500 });
  for (const c of [...of(report.checks, 'dhcp'), ...of(report.checks, 'options')]) t.equal(c.status, 'pass', `${c.title}: ${c.detail}`);
  t.match(report.checks.find((c) => c.id === 'dhcp.offer'), { status: 'pass', detail: new RegExp(`^${NET.replace(/\./g, '\\.')}\\.\\d+ from server 127\\.0\\.0\\.1`) });
  t.equal(report.certProvUrl, 'https://lyncweb.example.local:443/CertProv/CertProvisioningService.svc');
  t.match(report.address, new RegExp(`^${NET.replace(/\./g, '\\.')}\\.`));
  const ntp = of(report.checks, 'ntp');
  t.ok(ntp.length >= 1);
  t.match(ntp[0], { status: 'pass', title: `NTP 127.0.0.1:${PORT + 2} (option 42)`, detail: /^stratum 10, offset/ });
  assertDns(t, report.checks);
  t.equal(exitCode(report), dnsServing ? 0 : 1, 'exit code follows the DNS state');

  // provlab logged the probe as an MS-UC-Client asking for our list.
  const line = await provlab.waitForLog((l) => l.vendorClass === 'MS-UC-Client' && l.reply === 'ACK');
  t.ok(line, 'provlab saw an MS-UC-Client REQUEST');
});

t.test('the same probe gets the same lease again (stable MAC)', async (t) => {
  const a = await runProbe({ via: relay, dns: false, ntp: false, timeoutMs: 1500 });
  const b = await runProbe({ via: relay, dns: false, ntp: false, timeoutMs: 1500 });
  t.equal(a.identity.mac, b.identity.mac);
  t.equal(a.address, b.address);
  t.equal(exitCode(a), 0, 'DNS and NTP switched off: nothing fails');
  t.match(a.checks.filter((c) => c.status === 'skip').map((c) => c.detail), [/--no-dns/, /--no-ntp/]);
});

t.test('INFORM as a relay: ACK without lease, options pass', async (t) => {
  const report = await runProbe({ via: relay, inform: `${NET}.57`, dnsPort: PORT + 1, ntpPort: PORT + 2, timeoutMs: 1500 });
  t.match(of(report.checks, 'dhcp'), [{ id: 'dhcp.inform', status: 'pass' }], 'one ACK, no RFC 2131 §4.3.5 warning');
  for (const c of of(report.checks, 'options')) t.not(c.status, 'fail', `${c.title}: ${c.detail}`);
  t.equal(report.request, 'inform');
  t.equal(report.address, `${NET}.57`);
  t.match(of(report.checks, 'ntp')[0], { status: 'pass' });
});

t.test('the CLI: checklist text, --json, exit code', async (t) => {
  const base = ['--relay', GIADDR, '--server', '127.0.0.1', '--port', String(PORT), '--dns-port', String(PORT + 1), '--ntp-port', String(PORT + 2), '--timeout', '1500'];
  const text = await runProbeCli(base);
  t.equal(text.code, dnsServing ? 0 : 1, text.stderr);
  t.match(text.stdout, /^provlab probe: DISCOVER\/REQUEST on relay/);
  t.match(text.stdout, /✔ DISCOVER → OFFER/);
  t.match(text.stdout, /✔ option 43 \(MS-UC-Client\)\s+88 bytes, Certificate Provisioning URL https:\/\/lyncweb\.example\.local:443\/CertProv/);
  t.match(text.stdout, /✔ NTP 127\.0\.0\.1/);
  t.match(text.stdout, dnsServing ? /✔ a phone would get through/ : /✘ A ucupdates-r2\.example\.local\s+no answer/);

  const json = await runProbeCli([...base, '--json']);
  t.equal(json.code, text.code);
  t.ok(json.report, json.stdout);
  t.equal(json.report?.ok, dnsServing);
  t.equal(json.report?.transport.kind, 'relay');
  t.equal(json.report?.checks.find((c) => c.id === 'opt120')?.status, 'pass');

  const noServer = await runProbeCli(['--relay', GIADDR, '--server', '127.0.0.1', '--port', String(PORT + 2999), '--timeout', '200', '--attempts', '2']);
  t.equal(noServer.code, 1, 'no DHCP server: a phone would fail');
  t.match(noServer.stdout, /✘ DISCOVER → OFFER\s+no OFFER after 2 DISCOVER\(s\)/);

  const usage = await runProbeCli(['--relay', GIADDR]);
  t.equal(usage.code, 2);
  t.match(usage.stderr, /--relay needs --server/);
  const badBind = await runProbeCli(['--relay', '192.0.2.1', '--server', '127.0.0.1', '--port', String(PORT)]);
  t.equal(badBind.code, 2);
  t.match(badBind.stderr, /cannot bind the relay socket 192\.0\.2\.1/);
});
