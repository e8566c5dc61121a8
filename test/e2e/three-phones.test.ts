// Three emulated phones on one staging segment (a bridge in provlab's
// namespace, one namespace per phone): ISC dhclient and busybox udhcpc only
// lease, `provlab probe` leases and then does what an LPE phone does next
// (INFORM, DNS, NTP). `provlab status --json` must show each with the right
// steps done and not done.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { namespaceSkip } from '../helpers/netns.js';
import { CLI, tempDir, upWithSite } from '../helpers/provlab.js';
import { labSite } from '../helpers/sites.js';
import type { TimelineView, PhoneView } from '../../src/timeline/types.js';

const skip = namespaceSkip(['dhclient', 'busybox']);

t.test('status shows three phones with the right steps done', { skip }, async (t) => {
  const id = process.pid.toString(36);
  const srv = `pl3S${id}`;
  const phones = ['a', 'b', 'c'].map((x) => ({ ns: `pl3${x}${id}`, ifPhone: `p3${x}${id}`.slice(0, 15), ifBridge: `b3${x}${id}`.slice(0, 15) }));
  const prefix = `10.98.${process.pid % 250}`;
  const ip = (args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  t.teardown(() => {
    for (const ns of [srv, ...phones.map((p) => p.ns)]) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  });
  ip(['netns', 'add', srv]);
  ip(['-n', srv, 'link', 'add', 'br0', 'type', 'bridge']);
  ip(['-n', srv, 'addr', 'add', `${prefix}.1/24`, 'dev', 'br0']);
  ip(['-n', srv, 'link', 'set', 'br0', 'up']);
  ip(['-n', srv, 'link', 'set', 'lo', 'up']);
  for (const p of phones) {
    ip(['netns', 'add', p.ns]);
    ip(['link', 'add', p.ifBridge, 'type', 'veth', 'peer', 'name', p.ifPhone]);
    ip(['link', 'set', p.ifBridge, 'netns', srv]);
    ip(['link', 'set', p.ifPhone, 'netns', p.ns]);
    ip(['-n', srv, 'link', 'set', p.ifBridge, 'master', 'br0']);
    ip(['-n', srv, 'link', 'set', p.ifBridge, 'up']);
    ip(['-n', p.ns, 'link', 'set', 'lo', 'up']);
    ip(['-n', p.ns, 'link', 'set', p.ifPhone, 'up']);
  }
  const dir = tempDir();
  const bridge = { serverIf: 'br0', serverIp: `${prefix}.1`, prefix };
  const { file: site } = await upWithSite(
    t,
    dir,
    labSite(bridge, { name: 'three-phones', state: join(dir, 'state'), router: null, lease: null, web: null }),
    { ns: srv, args: ['--other-dhcp-wait', '300'], ready: 'provlab up:' },
  );
  const inNs = (ns: string, cmd: string, args: string[]) => execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', timeout: 40_000 });
  const mac = (ns: string, iface: string) => /link\/ether ([0-9a-f:]+)/.exec(execFileSync('ip', ['-n', ns, 'link', 'show', iface], { encoding: 'utf8' }))![1]!;

  // Phone A: dhclient as MS-UC-Client, lease only (a hook that never touches resolv.conf).
  const [a, b, c] = phones as [typeof phones[0], typeof phones[0], typeof phones[0]];
  const conf = join(dir, 'dhclient.conf');
  writeFileSync(conf, 'send vendor-class-identifier "MS-UC-Client";\nrequest subnet-mask, routers, domain-name, domain-search, ntp-servers;\n');
  const hook = join(dir, 'hook.sh');
  writeFileSync(hook, '#!/bin/sh\nexit 0\n');
  chmodSync(hook, 0o755);
  inNs(a.ns, 'timeout', ['30', 'dhclient', '-4', '-1', '-cf', conf, '-sf', hook, '-lf', join(dir, 'a.leases'), '-pf', join(dir, 'a.pid'), a.ifPhone]);
  spawnSync('sh', ['-c', `kill $(cat ${join(dir, 'a.pid')}) 2>/dev/null`]);
  // Phone B: udhcpc without a vendor class: not an LPE phone as far as DHCP tells.
  inNs(b.ns, 'env', ['-i', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'timeout', '30', 'busybox', 'udhcpc', '-f', '-q', '-n', '-t', '5', '-T', '2', '-i', b.ifPhone, '-s', hook]);
  // Phone C: provlab probe, the whole boot: lease, then INFORM + DNS + NTP from the leased address.
  const lease = JSON.parse(inNs(c.ns, process.execPath, [CLI, 'probe', '--interface', c.ifPhone, '--no-dns', '--no-ntp', '--json'])) as { address: string };
  ip(['-n', c.ns, 'addr', 'add', `${lease.address}/24`, 'dev', c.ifPhone]);
  inNs(c.ns, process.execPath, [CLI, 'probe', '--interface', c.ifPhone, '--inform', lease.address, '--json']);

  const view = JSON.parse(inNs(srv, process.execPath, [CLI, 'status', '--site', site, '--json'])) as TimelineView;
  const byMac = (m: string): PhoneView | undefined => view.phones.find((x) => x.mac === m);
  const pa = byMac(mac(a.ns, a.ifPhone));
  const pb = byMac(mac(b.ns, b.ifPhone));
  const pc = byMac(mac(c.ns, c.ifPhone));
  t.equal(view.phones.length, 3, 'three phones');

  t.equal(pa?.lease.state, 'done', 'dhclient: leased');
  t.ok(pa?.lpe, 'dhclient sent MS-UC-Client');
  t.not(pa?.inform.state, 'done', 'dhclient: no INFORM');
  t.ok(pa?.missing.some((m) => m.includes('never sent INFORM')), 'dhclient: "never sent INFORM" is listed as missing');

  t.equal(pb?.lease.state, 'warn', 'udhcpc: leased, flagged because no MS-UC-Client');
  t.match(pb?.lease.address, new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.1\\d\\d$`), 'udhcpc: with its address');
  t.notOk(pb?.lpe, 'udhcpc sent no vendor class');
  t.ok(pb?.missing.some((m) => m.includes('MS-UC-Client')), 'udhcpc: the missing vendor class is named');

  t.equal(pc?.lease.state, 'done', 'probe: leased');
  t.equal(pc?.inform.state, 'done', 'probe: INFORM with 43/120');
  t.equal(pc?.ucupdates.state, 'done', 'probe: asked ucupdates-r2');
  t.equal(pc?.timeLookup.state, 'done', 'probe: looked up time');
  t.equal(pc?.ntp.state, 'done', 'probe: NTP answered');
  t.same(pc?.missing, [], 'probe: nothing missing');
});
