// `provlab probe` against a real dnsmasq (Debian's) in a namespace, set up
// the way admins write it from the usual guides: an unquoted
// `dhcp-option=vendor:MS-UC-Client,4,443`. dnsmasq then sends the port as the
// integer `01 bb` and appends 0xFF inside option 43 (docs/lpe-facts.md, lab-notes):
// the probe must fail the port and warn about the 0xFF and the reversed order
// (whether a phone tolerates those is not known: src/lpe/README.md). With the
// port quoted the phone can build its URL: the same two warnings, exit 0, the
// verdict `provlab decode` gives on the same bytes.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLab, namespaceSkip, type Lab } from '../helpers/netns.js';
import { tempDir } from '../helpers/provlab.js';
import { runProbeCli } from './fixtures/run-probe.js';

const skip = namespaceSkip(['dnsmasq']);

function conf(lab: Lab, dir: string, port: string): string {
  return [
    'port=0', // DHCP only
    `interface=${lab.serverIf}`,
    'bind-interfaces',
    'no-resolv',
    'no-hosts',
    'user=root',
    `dhcp-range=${lab.prefix}.100,${lab.prefix}.150,255.255.255.0,1h`,
    `dhcp-leasefile=${join(dir, 'leases')}`,
    'dhcp-authoritative',
    'log-dhcp',
    `dhcp-option=option:router,${lab.serverIp}`,
    `dhcp-option=option:dns-server,${lab.serverIp}`,
    `dhcp-option=option:ntp-server,${lab.serverIp}`,
    'dhcp-option=option:domain-name,schertz.name',
    'dhcp-option=vendor:MS-UC-Client,1,MS-UC-Client',
    'dhcp-option=vendor:MS-UC-Client,2,https',
    'dhcp-option=vendor:MS-UC-Client,3,lyncweb.schertz.name',
    `dhcp-option=vendor:MS-UC-Client,4,${port}`,
    'dhcp-option=vendor:MS-UC-Client,5,/CertProv/CertProvisioningService.svc',
    'dhcp-option=120,lyncpool.schertz.name',
    '',
  ].join('\n');
}

async function withDnsmasq(t: Parameters<Parameters<typeof t.test>[2]>[0], port: string) {
  const lab = createLab(t);
  const dir = tempDir('provlab-dnsmasq-');
  const file = join(dir, 'dnsmasq.conf');
  writeFileSync(file, conf(lab, dir, port));
  const child = lab.spawn(lab.server, 'dnsmasq', ['--keep-in-foreground', '--log-facility=-', `--conf-file=${file}`, `--pid-file=${join(dir, 'pid')}`]);
  let log = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (log += d));
  child.stdout!.resume();
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  // Ready when it says it serves the range (or gone if the config is wrong).
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dnsmasq not ready:\n${log}`)), 10_000);
    const tick = setInterval(() => {
      if (/DHCP, IP range/.test(log)) {
        clearTimeout(timer);
        clearInterval(tick);
        resolve();
      } else if (child.exitCode !== null) {
        clearTimeout(timer);
        clearInterval(tick);
        reject(new Error(`dnsmasq exited ${child.exitCode}:\n${log}`));
      }
    }, 50);
  });
  const run = await runProbeCli(['--interface', lab.clientIf, '--json', '--timeout', '1500'], { ns: lab.client });
  t.ok(run.report, `JSON report; stderr: ${run.stderr}\ndnsmasq: ${log}`);
  return { run, report: run.report!, log, lab };
}

t.test('unquoted port: ✘ for 01 bb, ⚠ for the 0xFF and the order, exit non-zero', { skip }, async (t) => {
  const { run, report, lab } = await withDnsmasq(t, '443');
  const byId = (id: string) => report.checks.find((c) => c.id === id);
  t.match(byId('dhcp.offer'), { status: 'pass' });
  t.match(byId('dhcp.ack'), { status: 'pass' });
  t.match(byId('opt43.port-binary'), { status: 'fail', detail: /443 sent as a 16-bit integer, as dnsmasq does without quotes: 01 bb/, bytes: '01 bb' });
  t.match(byId('opt43.end-marker'), { status: 'warn', detail: /0xFF end marker/, bytes: 'ff' });
  t.match(byId('opt43.order'), { status: 'warn', detail: /order 5, 4, 3, 2, 1 \(reversed, as dnsmasq sends them\)/ }, 'dnsmasq sends 43 reversed');
  t.same(report.checks.filter((c) => c.id.startsWith('opt43')).map((c) => c.id).sort(), ['opt43.end-marker', 'opt43.order', 'opt43.port-binary'], 'nothing else wrong in 43');
  t.equal(report.certProvUrl, undefined, 'no usable URL');
  t.equal(report.ok, false);
  t.equal(run.code, 1, 'a phone would fail: exit 1');
  t.comment(`dnsmasq's option 120: ${byId('opt120')?.status} ${byId('opt120')?.detail}`);

  // The checklist a person reads: the problems marked, with the bytes.
  const text = await runProbeCli(['--interface', lab.clientIf, '--timeout', '1500'], { ns: lab.client });
  t.equal(text.code, 1);
  if (process.env.PROBE_SHOW) process.stderr.write(text.stdout);
  t.match(text.stdout, /✘ option 43 \(MS-UC-Client\)\s+sub-option 4 WebServerPort is 443 sent as a 16-bit integer/);
  t.match(text.stdout, /bytes at offset \d+: 01 bb/);
  t.match(text.stdout, /⚠ option 43 \(MS-UC-Client\)\s+option 43 ends with a 0xFF end marker/);
  t.match(text.stdout, /✘ a phone would fail/);
});

t.test('quoted port: 443 is right; the 0xFF and the order are warnings, as decode says', { skip }, async (t) => {
  const { run, report } = await withDnsmasq(t, '"443"');
  const byId = (id: string) => report.checks.find((c) => c.id === id);
  t.same(report.checks.filter((c) => c.id.startsWith('opt43')).map((c) => `${c.status}:${c.id}`).sort(), ['warn:opt43.end-marker', 'warn:opt43.order']);
  t.match(byId('opt43.end-marker'), { bytes: 'ff' });
  t.ok(report.certProvUrl?.startsWith('https://lyncweb.schertz.name:443/'));
  t.equal(run.code, 0, 'usable, with warnings: exit 0');
});
