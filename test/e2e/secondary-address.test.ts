// The site's address is a secondary address of the served interface (an
// appliance that got a second address for staging). The DHCP socket is
// 0.0.0.0:67 bound to the device, so the kernel would send every reply from
// the interface's primary address while option 54 names the site's: a client
// that checks the two (or unicasts its RENEW to 54 and ARPs for it) is
// confused. tshark reads the IP source of OFFER and ACK off the wire.
import t from 'tap';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { createLab, namespaceSkip } from '../helpers/netns.js';
import { tempDir, upWithSite } from '../helpers/provlab.js';
import { labSpec, siteYaml } from '../helpers/sites.js';

t.test('replies leave from the site address, a secondary one, as option 54 says', { skip: namespaceSkip(['busybox', 'tshark']) }, async (t) => {
  const lab = createLab(t); // PREFIX.1 on the server side: the primary address
  const site = `${lab.prefix}.2`;
  execFileSync('ip', ['-n', lab.server, 'addr', 'add', `${site}/24`, 'dev', lab.serverIf], { stdio: ['ignore', 'ignore', 'pipe'] });
  const dir = tempDir();
  const pcap = join(dir, 'capture.pcap');
  const capture = lab.spawn(lab.server, 'tshark', ['-q', '-i', lab.serverIf, '-f', 'udp port 67 or udp port 68', '-w', pcap]);
  for (let i = 0; i < 50 && !existsSync(pcap); i++) await new Promise((r) => setTimeout(r, 100));
  await upWithSite(t, dir, siteYaml(labSpec({ serverIf: lab.serverIf, serverIp: site, prefix: lab.prefix }, { name: 'secondary', state: join(dir, 'state') })), { ns: lab.server });

  const hook = join(dir, 'udhcpc.sh');
  writeFileSync(hook, '#!/bin/sh\nexit 0\n');
  chmodSync(hook, 0o755);
  lab.exec(lab.client, 'env', ['-i', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'timeout', '30', 'busybox', 'udhcpc', '-f', '-q', '-n', '-t', '4', '-T', '2', '-i', lab.clientIf, '-s', hook], 40_000);
  await new Promise((r) => setTimeout(r, 300));
  capture.kill('SIGINT');
  await new Promise((r) => capture.once('exit', r));

  // message type | ip.src | option 54
  const rows = lab
    .exec(lab.server, 'tshark', ['-r', pcap, '-Y', 'dhcp.option.dhcp == 2 || dhcp.option.dhcp == 5', '-T', 'fields', '-E', 'separator=|', '-e', 'dhcp.option.dhcp', '-e', 'ip.src', '-e', 'dhcp.option.dhcp_server_id'])
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('|'));
  t.ok(rows.some((r) => r[0] === '2'), 'an OFFER on the wire');
  t.ok(rows.some((r) => r[0] === '5'), 'an ACK on the wire');
  for (const [type, src, id] of rows) {
    const name = type === '2' ? 'OFFER' : 'ACK';
    t.equal(id, site, `${name}: option 54 is the site address`);
    t.equal(src, site, `${name}: IP source is the site address too, not the primary ${lab.serverIp}`);
  }
});
