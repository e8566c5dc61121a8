// The appliance as an admin runs it: refuses to become a second DHCP server on
// a segment where one already answers, drops root after binding, and reloads
// its site file (valid: swapped; invalid: refused, old plan keeps serving).
import t from 'tap';
import { execFile, execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { createLab, namespaceSkip, type Lab } from '../helpers/netns.js';
import { CLI, startProvlab, tempDir, upWithSite, writeSite } from '../helpers/provlab.js';
import { labSite, LOOPBACK_SITE, mergeSite, siteYaml } from '../helpers/sites.js';
import { openRelay, clientMessage } from '../helpers/relay-client.js';
import { MessageType } from '../../src/wire/dhcp-message.js';

const skip = namespaceSkip(['dnsmasq', 'busybox']);

/** Runs the CLI without blocking the event loop, so test traffic keeps flowing meanwhile. */
function cli(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ status: err ? Number((err as NodeJS.ErrnoException & { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** A lean lab site: no router, no search list, default lease; DNS and NTP on high ports. */
function applianceSite(lab: Lab, state: string): string {
  return labSite(lab, { name: 'appliance', state, router: null, lease: null, search: null, web: null, listen: { dhcp: 67, dns: 5300, ntp: 12300 } });
}

t.test('refuses to start when another DHCP server (dnsmasq) answers on the interface', { skip }, async (t) => {
  const lab = createLab(t, { clientAddress: undefined });
  const dir = tempDir();
  lab.exec(lab.client, 'ip', ['addr', 'add', `${lab.prefix}.2/24`, 'dev', lab.clientIf]);
  const dnsmasq = lab.spawn(lab.client, 'dnsmasq', [
    '-d', '-k', '--conf-file=/dev/null', '--port=0', `--interface=${lab.clientIf}`, '--bind-interfaces', '--no-ping',
    `--dhcp-range=${lab.prefix}.60,${lab.prefix}.70,1h`, `--dhcp-leasefile=${join(dir, 'dnsmasq.leases')}`, `--pid-file=${join(dir, 'dnsmasq.pid')}`,
  ]);
  t.teardown(() => dnsmasq.kill('SIGKILL'));
  await new Promise((r) => setTimeout(r, 500));
  const site = writeSite(dir, applianceSite(lab, join(dir, 'state')));

  const refused = startProvlab(['up', '--site', site], lab.server);
  t.teardown(() => refused.stop('SIGKILL'));
  const code = await new Promise<number | null>((r) => refused.child.once('exit', r));
  t.equal(code, 1, 'exit 1');
  const fatal = refused.logs.find((l) => l.level === 60);
  t.match(String(fatal?.msg), new RegExp(`another DHCP server answers on ${lab.serverIf}: ${lab.prefix.replace(/\./g, '\\.')}\\.2 \\(offered ${lab.prefix.replace(/\./g, '\\.')}\\.(6\\d|70)`), 'names the other server and what it offered');
  t.notOk(refused.logs.some((l) => String(l.msg).startsWith('DHCP serving')), 'never served');

  const allowed = startProvlab(['up', '--site', site, '--allow-other-dhcp'], lab.server);
  t.teardown(() => allowed.stop('SIGKILL'));
  await allowed.waitForLog((l) => String(l.msg).startsWith('DHCP serving'));
  t.ok(allowed.logs.some((l) => l.level === 40 && String(l.msg).includes('--allow-other-dhcp given')), 'warns and serves when told to');
});

t.test('drops root with --user after binding, and still leases durably', { skip }, async (t) => {
  const lab = createLab(t);
  const dir = tempDir();
  chmodSync(dir, 0o755);
  const state = join(dir, 'state');
  const { provlab: p } = await upWithSite(t, dir, applianceSite(lab, state), { ns: lab.server, args: ['--user', 'nobody', '--other-dhcp-wait', '300'], ready: 'provlab up:' });
  const status = readFileSync(`/proc/${p.child.pid}/status`, 'utf8');
  const uid = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(status);
  const nobody = execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim();
  t.same(uid?.slice(1), [nobody, nobody, nobody], 'real, effective and saved uid are nobody');
  const ready = p.logs.find((l) => String(l.msg).startsWith('provlab up:'));
  t.equal(ready?.gc, 'single-threaded', 'the ready line says how V8 collects garbage');
  const hook = join(dir, 'hook.sh');
  writeFileSync(hook, `#!/bin/sh\nenv > "${dir}/udhcpc.$1.env"\nexit 0\n`);
  chmodSync(hook, 0o755);
  lab.exec(lab.client, 'env', ['-i', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'timeout', '30', 'busybox', 'udhcpc', '-f', '-q', '-n', '-t', '5', '-T', '2', '-i', lab.clientIf, '-V', 'MS-UC-Client', '-s', hook], 40_000);
  const env = readFileSync(join(dir, 'udhcpc.bound.env'), 'utf8');
  const ip = /^ip=(.*)$/m.exec(env)?.[1];
  t.match(ip, new RegExp(`^${lab.prefix.replace(/\./g, '\\.')}\\.1\\d\\d$`), 'lease granted by the unprivileged process');
  t.equal(await p.stop('SIGTERM'), 0);
  const journal = readFileSync(join(state, 'leases.journal'), 'utf8') + readFileSync(join(state, 'leases.snapshot'), 'utf8');
  t.match(journal, `"ip":"${ip}"`, 'the lease was written by the unprivileged process');
});

t.test('reload: a valid file swaps the plan with no lease lost; an invalid one is refused', async (t) => {
  const PORT = 30000 + (process.pid % 3000) * 3;
  const NET = `127.${140 + (process.pid % 50)}.0`;
  const dir = tempDir();
  // `typo` goes in as an unknown dhcp key on line 7, right after the lease.
  const site = (lease: string, typo?: number) =>
    siteYaml(mergeSite(LOOPBACK_SITE, { site: 'reload', dhcp: { subnet: `${NET}.0/24`, pool: `${NET}.10-${NET}.200`, lease, pool_typo: typo }, listen: PORT, state: join(dir, 'state') }));
  const file = writeSite(dir, site('1h'));
  const p = startProvlab(['up', '--site', file]);
  t.teardown(() => p.stop('SIGKILL'));
  await p.waitForLog((l) => String(l.msg).startsWith('provlab up:'));
  const relay = await openRelay(`${NET}.1`, '127.0.0.1', PORT);
  t.teardown(() => relay.close());
  const before = await relay.lease('02:00:00:00:10:01');
  t.ok(before, 'leased before reload');

  // Traffic keeps flowing while the reloads happen.
  let answered = 0;
  let asked = 0;
  let running = true;
  const unanswered: string[] = [];
  // DNS queries keep coming too: ucupdates-r2.example.local A, a new ID each.
  let dnsAsked = 0;
  let dnsAnswered = 0;
  const dns = dgram.createSocket('udp4');
  t.teardown(() => dns.close());
  const pending = new Set<number>();
  dns.on('message', (m) => {
    const qid = m.readUInt16BE(0);
    if (pending.delete(qid) && (m[3]! & 0x0f) === 0 && m.readUInt16BE(6) === 1) dnsAnswered++;
  });
  const question = Buffer.concat([Buffer.from([12]), Buffer.from('ucupdates-r2'), Buffer.from([7]), Buffer.from('example'), Buffer.from([5]), Buffer.from('local'), Buffer.from([0, 0, 1, 0, 1])]);
  const dnsTraffic = (async () => {
    for (let qid = 1; running && qid < 60000; qid++) {
      const header = Buffer.from([qid >> 8, qid & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
      pending.add(qid);
      dnsAsked++;
      dns.send(Buffer.concat([header, question]), PORT + 1, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  const traffic = (async () => {
    for (let i = 0; running && i < 5000; i++) {
      asked++;
      const mac = `02:00:00:00:20:${(i % 100).toString(16).padStart(2, "0")}`; // reused MACs renew: the pool never runs out
      if (await relay.lease(mac)) answered++;
      else unanswered.push(mac);
    }
  })();

  writeFileSync(file, site('2h'));
  const ok = await cli(['reload', '--site', file]);
  t.equal(ok.status, 0, ok.stderr);
  await p.waitForLog((l) => l.msg === 'site file reloaded');

  writeFileSync(file, site('2h', 1));
  const bad = await cli(['reload', '--site', file]);
  t.equal(bad.status, 1, 'reload command refuses an invalid file');
  t.match(bad.stderr, /site\.yaml:7:3: dhcp\.pool_typo: unknown key/, 'with line:col');
  const pid = Number(readFileSync(join(dir, 'state', 'provlab.pid'), 'utf8'));
  process.kill(pid, 'SIGHUP');
  await p.waitForLog((l) => String(l.msg).startsWith('site file refused on reload'));

  await new Promise((r) => setTimeout(r, 300));
  running = false;
  await traffic;
  await dnsTraffic;
  await new Promise((r) => setTimeout(r, 300));
  t.ok(dnsAsked >= 20, `DNS queries ran during the reloads (${dnsAsked})`);
  t.equal(dnsAnswered, dnsAsked, `every DNS query during the reloads was answered (${dnsAnswered}/${dnsAsked})`);
  t.ok(asked >= 20, `traffic ran during the reloads (${asked} exchanges)`);
  t.equal(answered, asked, `every request during the reloads was answered (${answered}/${asked})`, { unanswered, logs: p.logs.filter((l) => unanswered.includes(String(l.mac))) });
  const renew = clientMessage(MessageType.REQUEST, '02:00:00:00:10:01', `${NET}.1`, [[50, new Uint8Array(before!.split('.').map(Number))]]);
  const ack = await relay.exchange(renew);
  t.equal(ack?.options.get(53)?.[0], MessageType.ACK, 'the lease from before the reloads is still known');
  t.same([...(ack?.options.get(51) ?? [])], [0, 0, 0x1c, 0x20], 'and is renewed with the reloaded 2h lease time');
  t.equal(p.child.exitCode, null, 'still running after the invalid file');
});
