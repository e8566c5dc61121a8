// End to end on port 53 in network namespaces made by this test: busybox
// udhcpc gets a lease from `provlab up` (as an LPE phone would: vendor class
// MS-UC-Client, options 6, 15, 119), and then resolves ucupdates-r2.<each
// search domain> and the SIP/NTP SRV records through the DNS server the lease
// named. DNS comes from `provlab up` once the CLI starts it; until then a
// fixture runs DnsDaemon from dist/ next to it with the same site file.
import t from 'tap';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLab, namespaceSkip, readEnvFile } from '../helpers/netns.js';
import { ROOT, tempDir, upWithSite } from '../helpers/provlab.js';
import { labSite } from '../helpers/sites.js';

const SERVE = fileURLToPath(new URL('./fixtures/serve-dns.mjs', import.meta.url));
const skip = namespaceSkip(['busybox', 'dig', 'kdig']);

t.test('a phone leased by provlab resolves ucupdates-r2.<each search domain> through the DNS server of its lease', { skip }, async (t) => {
  if (!existsSync(`${ROOT}/dist/dns/daemon.js`)) {
    t.fail('dist/dns/daemon.js is missing: run `npx tsc -p tsconfig.json` (npm test does it as pretest)');
    return;
  }
  const lab = createLab(t);
  const dir = tempDir();
  const { file, provlab } = await upWithSite(t, dir, labSite(lab, { name: 'dns-e2e', state: join(dir, 'state') }), { ns: lab.server });
  // `provlab up` with DNS (once the CLI wires it) logs "DNS serving on ..."; give it a moment, else use the fixture.
  const fromProvlab = await provlab.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('DNS serving'), 2000).then(
    () => true,
    () => false,
  );
  let fixtureErr = '';
  if (!fromProvlab) {
    const dns = lab.spawn(lab.server, process.execPath, [SERVE, file, '--log-level', 'info']);
    let out = '';
    dns.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    dns.stderr!.on('data', (b: Buffer) => (fixtureErr += b.toString()));
    for (let i = 0; i < 100 && !out.includes('listening'); i++) await new Promise((r) => setTimeout(r, 100));
    t.match(out, /"port":53/, `DNS fixture listening on ${lab.serverIp}:53`);
  }
  t.comment(fromProvlab ? 'DNS served by provlab up' : 'DNS served by the DnsDaemon fixture (provlab up does not start DNS yet)');

  const hook = join(dir, 'udhcpc.sh');
  writeFileSync(
    hook,
    `#!/bin/sh\nenv > "${dir}/udhcpc.$1.env"\ncase "$1" in bound|renew) ip addr add "$ip/$subnet" dev "$interface" ;; esac\nexit 0\n`,
  );
  chmodSync(hook, 0o755);
  lab.exec(
    lab.client,
    'env',
    ['-i', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'timeout', '30', 'busybox', 'udhcpc', '-f', '-q', '-n', '-t', '5', '-T', '2', '-i', lab.clientIf, '-V', 'MS-UC-Client', '-x', 'hostname:cx600-e2e', '-O', '119', '-O', '15', '-O', '6', '-s', hook],
    40_000,
  );
  const lease = readEnvFile(join(dir, 'udhcpc.bound.env'));
  t.equal(lease.dns, lab.serverIp, 'option 6: provlab itself');
  t.equal(lease.domain, 'schertz.name');
  const search = (lease.search ?? '').split(' ').filter(Boolean);
  t.same(search, ['schertz.name', 'corp.schertz.name'], 'option 119');
  const server = lease.dns!.split(' ')[0]!;

  for (const domain of search) {
    const out = lab.exec(lab.client, 'dig', [`@${server}`, '+tries=2', '+time=2', '+norec', `ucupdates-r2.${domain}`, 'A']);
    t.match(out, /status: NOERROR/, `ucupdates-r2.${domain}: NOERROR`);
    t.match(out, /flags: qr aa;/, 'authoritative');
    t.match(out, new RegExp(`ucupdates-r2\\.${domain.replace(/\./g, '\\.')}\\.\\s+300\\s+IN\\s+A\\s+${lab.prefix.replace(/\./g, '\\.')}\\.10`), `ucupdates-r2.${domain} -> lync.address`);
    const srv = lab.exec(lab.client, 'kdig', [`@${server}`, '+short', `_ntp._udp.${domain}`, 'SRV']);
    t.equal(srv.trim(), `0 0 123 ntp.${domain}.`, `_ntp._udp.${domain} (kdig)`);
  }
  t.equal(lab.exec(lab.client, 'dig', [`@${server}`, '+short', '_sipinternaltls._tcp.schertz.name', 'SRV']).trim(), '0 0 5061 lyncpool.schertz.name.');
  t.equal(lab.exec(lab.client, 'dig', [`@${server}`, '+short', 'time.windows.com', 'A']).trim(), lab.serverIp, 'time.windows.com -> the NTP server');
  t.equal(lab.exec(lab.client, 'dig', [`@${server}`, '+short', '+tcp', 'lyncpool.schertz.name', 'A']).trim(), `${lab.prefix}.10`, 'over TCP too');
  t.match(lab.exec(lab.client, 'dig', [`@${server}`, 'www.example.com', 'A']), /status: REFUSED/, 'never an open resolver');
  if (fromProvlab) {
    // The lead connects DHCP leases to setLeaseName: the phone's option 12 name resolves.
    const named = lab.exec(lab.client, 'dig', [`@${server}`, '+short', 'cx600-e2e.schertz.name', 'A']).trim();
    t.equal(named, lease.ip, 'option 12 host name resolves to the leased address');
  }

  // The admin's view: which phone asked for ucupdates-r2.
  await new Promise((r) => setTimeout(r, 300));
  const logText = fromProvlab ? provlab.stderr() : fixtureErr;
  const asked = logText
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === 'dns query' && typeof l.name === 'string' && l.name.startsWith('ucupdates-r2.'));
  t.same(
    asked.map((l) => [l.client, l.name, l.type, l.rcode]),
    search.map((d) => [lease.ip, `ucupdates-r2.${d}`, 'A', 'NOERROR']),
    'each query logged with the client address',
  );
});
