// `provlab probe` against a real dnsmasq (Debian's) in a namespace, set up
// the way admins write it from the usual guides: an unquoted
// `dhcp-option=vendor:MS-UC-Client,4,443`. dnsmasq then sends the port as the
// integer `01 bb` and appends 0xFF inside option 43 (docs/lpe-facts.md §Option 43, lab-notes):
// the probe must flag both and exit non-zero. With the port quoted, the 0xFF
// alone must still fail.
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

t.test('unquoted port: ✘ for 01 bb and for the 0xFF, exit non-zero', { skip }, async (t) => {
  const { run, report, lab } = await withDnsmasq(t, '443');
  const byId = (id: string) => report.checks.find((c) => c.id === id);
  t.match(byId('dhcp.offer'), { status: 'pass' });
  t.match(byId('dhcp.ack'), { status: 'pass' });
  t.match(byId('opt43.sub4'), { status: 'fail', detail: /01 bb is the 16-bit integer 443, not ASCII text/, bytes: '04 02 01 bb' });
  t.match(byId('opt43.end'), { status: 'fail', detail: /0xFF end marker/ });
  t.match(byId('opt43.end')?.bytes, /^ff/);
  t.match(byId('opt43.url'), { status: 'fail' });
  t.equal(report.ok, false);
  t.equal(run.code, 1, 'a phone would fail: exit 1');
  // The other sub-options dnsmasq got right.
  for (const id of ['opt43.sub1', 'opt43.sub2', 'opt43.sub3', 'opt43.sub5']) t.match(byId(id), { status: 'pass' }, id);
  t.match(byId('opt43.order'), { status: 'fail', detail: /order 5,4,3,2,1/ }, 'dnsmasq sends 43 reversed');
  t.comment(`dnsmasq's option 120: ${byId('opt120')?.status} ${byId('opt120')?.detail}`);


  // The checklist a person reads: both problems marked, with the bytes.
  const text = await runProbeCli(['--interface', lab.clientIf, '--timeout', '1500'], { ns: lab.client });
  t.equal(text.code, 1);
  if (process.env.PROBE_SHOW) process.stderr.write(text.stdout);
  t.match(text.stdout, /✘ option 43 sub-option 4 \(WebServerPort\)\s+01 bb is the 16-bit integer 443/);
  t.match(text.stdout, /bytes at offset \d+: 04 02 01 bb/);
  t.match(text.stdout, /✘ option 43 end marker\s+0xFF end marker/);
  t.match(text.stdout, /✘ a phone would fail/);
});

t.test('quoted port: 443 is right, the 0xFF still fails', { skip }, async (t) => {
  const { run, report } = await withDnsmasq(t, '"443"');
  const byId = (id: string) => report.checks.find((c) => c.id === id);
  t.match(byId('opt43.sub4'), { status: 'pass', detail: '"443"' });
  t.match(byId('opt43.end'), { status: 'fail' });
  t.ok(report.certProvUrl?.startsWith('https://lyncweb.schertz.name:443/'));
  t.equal(run.code, 1);
});
