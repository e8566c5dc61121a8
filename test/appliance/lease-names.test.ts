// `provlab up` wiring from DHCP leases to DNS names: a phone's option 12 name
// resolves while its lease is bound and goes with it; a phone without option
// 12 costs the DNS daemon nothing (up only tells it about addresses it named).
// Loopback, through a relay: no root.
import t from 'tap';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MessageType } from '../../src/wire/dhcp-message.js';
import { startProvlab, tempDir, writeSite } from '../helpers/provlab.js';
import { clientMessage, openRelay } from '../helpers/relay-client.js';
import { LOOPBACK_SITE, mergeSite, siteYaml } from '../helpers/sites.js';

const run = promisify(execFile);
const PORT = 31000 + (process.pid % 3000) * 3;
const NET = `127.${100 + (process.pid % 40)}.0`;

async function lookup(name: string): Promise<{ status: string; answer: string }> {
  const { stdout } = await run('dig', ['@127.0.0.1', '-p', String(PORT + 1), '+tries=2', '+time=2', name, 'A']);
  const status = /status: (\w+)/.exec(stdout)?.[1] ?? '?';
  const answer = /ANSWER SECTION:\n(.*)\n/.exec(stdout)?.[1]?.split(/\s+/).pop() ?? '';
  return { status, answer };
}

t.test('option 12 names follow the lease; phones without one are left out', async (t) => {
  const dir = tempDir();
  const file = writeSite(
    dir,
    siteYaml(
      mergeSite(LOOPBACK_SITE, {
        site: 'lease-names',
        dhcp: { subnet: `${NET}.0/24`, pool: `${NET}.100-${NET}.150`, router: `${NET}.1`, lease: '1h' },
        ntp: { enabled: false },
        listen: PORT,
        state: join(dir, 'state'),
      }),
    ),
  );
  const p = startProvlab(['up', '--site', file]);
  t.teardown(() => p.stop('SIGKILL'));
  await p.waitForLog((l) => String(l.msg).startsWith('provlab up:'));
  const relay = await openRelay(`${NET}.1`, '127.0.0.1', PORT);
  t.teardown(() => relay.close());

  const named = await relay.lease('02:00:00:00:77:01', [[12, new TextEncoder().encode('CX600-Lobby')]]);
  t.ok(named, 'leased');
  t.same(await lookup('cx600-lobby.example.local'), { status: 'NOERROR', answer: named }, 'the name resolves to the lease');
  const plain = await relay.lease('02:00:00:00:77:02');
  t.ok(plain, 'a phone without option 12 is leased too');
  t.equal((await lookup('cx600-lobby.example.local')).answer, named, 'and the named one is untouched');

  const release = clientMessage(MessageType.RELEASE, '02:00:00:00:77:01', `${NET}.1`, [[54, Uint8Array.of(127, 0, 0, 1)]]);
  release.ciaddr = named!;
  relay.send(release);
  await p.waitForLog((l) => l.type === 'RELEASE' || String(l.msg).includes('RELEASE'));
  // The release is journaled, then the name goes: poll briefly.
  let status = '';
  for (let i = 0; i < 50 && status !== 'NXDOMAIN'; i++) {
    status = (await lookup('cx600-lobby.example.local')).status;
    if (status !== 'NXDOMAIN') await new Promise((r) => setTimeout(r, 50));
  }
  t.equal(status, 'NXDOMAIN', 'gone with the lease');
});
