// The served interface deleted and made again under the same name (a VLAN
// interface re-created by ifupdown, a lab's veth restarted): the kernel gives
// it a new index, and a socket bound to the old one hears nothing. provlab
// must say so at warn, and answer again once the interface is back, as
// dnsmasq does when it re-reads its interfaces.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { linkChange } from '../../src/net/link-watch.js';
import { createLab, namespaceSkip } from '../helpers/netns.js';
import { tempDir, upWithSite } from '../helpers/provlab.js';
import { udhcpcLease } from '../helpers/udhcpc.js';
import { labSite } from '../helpers/sites.js';

t.test('linkChange: what one poll means', (t) => {
  t.same(linkChange(5, false, 5), null, 'same index: nothing');
  t.same(linkChange(5, false, null), { kind: 'gone' }, 'no such interface: gone');
  t.same(linkChange(5, true, null), null, 'still gone: said once');
  t.same(linkChange(5, true, 9), { kind: 'back', ifindex: 9 }, 'a new index: bind again');
  t.same(linkChange(5, false, 9), { kind: 'back', ifindex: 9 }, 're-created between two polls');
  t.end();
});

const lease = udhcpcLease;

t.test('interface deleted and re-created: warned, then DHCP answers again', { skip: namespaceSkip(['busybox']) }, async (t) => {
  const lab = createLab(t);
  const dir = tempDir();
  const { provlab } = await upWithSite(t, dir, labSite(lab, { name: 'recreate', state: join(dir, 'state') }), { ns: lab.server });
  t.match(lease(lab, dir, 'before').ip, /^10\.99\./, 'a lease before');

  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  ip('-n', lab.server, 'link', 'del', lab.serverIf);
  await provlab.waitForLog((l) => l.level === 40 && /interface .* is gone/.test(String(l.msg)), 10_000);
  t.pass('warned that the interface is gone');

  ip('link', 'add', lab.serverIf, 'type', 'veth', 'peer', 'name', lab.clientIf);
  ip('link', 'set', lab.serverIf, 'netns', lab.server);
  ip('link', 'set', lab.clientIf, 'netns', lab.client);
  ip('-n', lab.server, 'addr', 'add', `${lab.serverIp}/24`, 'dev', lab.serverIf);
  ip('-n', lab.server, 'link', 'set', lab.serverIf, 'up');
  ip('-n', lab.client, 'link', 'set', lab.clientIf, 'up');
  await provlab.waitForLog((l) => l.level === 40 && /was re-created: DHCP bound to it again/.test(String(l.msg)), 10_000);
  t.pass('warned that it bound again');
  t.match(lease(lab, dir, 'after').ip, /^10\.99\./, 'a lease after: the new interface is served');
});
