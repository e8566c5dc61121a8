// Conflict detection before an offer (issue 17): a static device already
// uses the first pool address. ISC dhcpd pings before offering and abandons
// an address that answers; dnsmasq skips it. provlab must not offer it to a
// phone, must say so at warn naming the address, and must keep serving.
// The static device is the client namespace's own configured address (it
// answers ICMP echo as any host would); the phone is busybox udhcpc.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { createLab, namespaceSkip } from '../helpers/netns.js';
import { tempDir, upWithSite } from '../helpers/provlab.js';
import { udhcpcLease } from '../helpers/udhcpc.js';
import { labSite, labSpec, mergeSite, siteYaml } from '../helpers/sites.js';

const lease = udhcpcLease;

const skip = namespaceSkip(['busybox']);

for (const user of [null, 'nobody']) {
  const how = user === null ? '' : ` (after --user ${user} dropped root: the raw socket was opened before)`;
  t.test(`a pool address a static device answers on is not offered; the log names it${how}`, { skip }, async (t) => {
    const lab = createLab(t);
    const taken = `${lab.prefix}.100`; // the pool's first address: the one offered first
    execFileSync('ip', ['-n', lab.client, 'addr', 'add', `${taken}/24`, 'dev', lab.clientIf], { stdio: ['ignore', 'ignore', 'pipe'] });
    const dir = tempDir();
    const up = user === null ? { ns: lab.server } : { ns: lab.server, args: ['--user', user, '--other-dhcp-wait', '300'], ready: 'provlab up:' };
    const { provlab } = await upWithSite(t, dir, labSite(lab, { name: 'conflict', state: join(dir, 'state') }), up);

    const got = lease(lab, dir, 'phone');
    t.match(got.ip, new RegExp(`^${lab.prefix.replace(/\./g, '\\.')}\\.`), 'the phone got a lease');
    t.not(got.ip, taken, `the phone was not given ${taken}, which a static device uses`);
    // Logs are written asynchronously: wait for the lines rather than read what has arrived.
    const line = await provlab.waitForLog((l) => l.level === 40 && String(l.msg).includes(`address ${taken} answered a ping`));
    t.equal(line.ip, taken, `a warn line names ${taken}`);
    await provlab.waitForLog((l) => l.reply === 'ACK' && l.yiaddr === got.ip);
    t.notOk(provlab.logs.some((l) => l.yiaddr === taken), `${taken} appears in no exchange (never offered)`);
  });
}

t.test('dhcp.ping_check: false offers it as before (the switch works)', { skip }, async (t) => {
  const lab = createLab(t);
  const taken = `${lab.prefix}.100`;
  execFileSync('ip', ['-n', lab.client, 'addr', 'add', `${taken}/24`, 'dev', lab.clientIf], { stdio: ['ignore', 'ignore', 'pipe'] });
  const dir = tempDir();
  const spec = mergeSite(labSpec(lab, { name: 'noping', state: join(dir, 'state') }), { dhcp: { ping_check: false } });
  await upWithSite(t, dir, siteYaml(spec), { ns: lab.server });
  t.equal(lease(lab, dir, 'phone').ip, taken, 'without the check, the first pool address is offered');
});
