// The lease store under what happens to it from outside while provlab runs or
// between runs: an admin's rm or truncate of the journal, a container's PID 1
// restarted with its own stale pid in the lock, a journal past 2 GiB.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { LeaseJournal } from '../../src/dhcp/lease-journal.js';
import { encodeHeaderLine, encodeRecordLine, LeaseFileReader, parseLeaseFile } from '../../src/dhcp/lease-line.js';
import type { LeaseRecord } from '../../src/dhcp/lease-record.js';
import { rec } from './fixtures/lease-records.js';
import { loadNativeAddon } from '../../src/net/native-addon.js';
import { tempDir, upWithSite } from '../helpers/provlab.js';
import { LOOPBACK_SITE, mergeSite, siteYaml } from '../helpers/sites.js';

/**
 * What the daemon does: an append acked goes into memory; a refused one makes it
 * compact its memory into a fresh snapshot and journal, then the client retries.
 */
async function ackLikeTheDaemon(journal: LeaseJournal, memory: Map<string, LeaseRecord>, r: LeaseRecord): Promise<string | undefined> {
  try {
    await journal.append(r);
    memory.set(r.ip, r);
    return undefined;
  } catch (e) {
    if (!journal.pendingCompaction) throw e;
    await journal.compact(memory.values());
    await journal.append(r);
    memory.set(r.ip, r);
    return (e as Error).message;
  }
}

for (const fault of ['deleted', 'truncated'] as const) {
  t.test(`journal ${fault} while running: noticed at the next commit, every acked lease survives a restart`, async (t) => {
    const dir = t.testdir();
    const { journal } = await LeaseJournal.open(dir, { fsync: true });
    const memory = new Map<string, LeaseRecord>();
    for (let i = 1; i <= 20; i++) t.equal(await ackLikeTheDaemon(journal, memory, rec(i)), undefined);
    const file = path.join(dir, 'leases.journal');
    if (fault === 'deleted') await fs.unlink(file);
    else await fs.truncate(file, 0);
    const refused = await ackLikeTheDaemon(journal, memory, rec(21));
    t.match(refused, new RegExp(`was ${fault} while provlab runs`), 'the commit after the fault is refused, saying why');
    for (let i = 22; i <= 30; i++) t.equal(await ackLikeTheDaemon(journal, memory, rec(i)), undefined, 'appends go on into the new journal');
    const onDisk = (await fs.readFile(file)).toString('latin1');
    t.notOk(onDisk.includes('\0'), 'no hole of NULs in the journal');
    await journal.close();
    const again = await LeaseJournal.open(dir);
    t.teardown(() => again.journal.close());
    t.same([...again.leases.keys()].sort(), [...memory.keys()].sort(), 'all 30 acked leases are there after a restart');
    t.same(again.warnings, []);
  });
}

t.test('a lock naming this very process (PID 1 in a container, restarted) is not held by anyone', async (t) => {
  const bootId = await fs.readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => '');
  const dir = t.testdir({ 'leases.lock': `${process.pid}\n${bootId.trim()}\n`, 'provlab.pid': `${process.pid}\n` });
  const { journal } = await LeaseJournal.open(dir);
  t.pass('opened');
  await journal.close();
});

const addon = loadNativeAddon<{ tryLock?: unknown }>();
const noFlock = addon.ok && typeof addon.addon.tryLock === 'function' ? false : 'the native addon has no tryLock (rebuild it: npx node-gyp rebuild)';

t.test('a lock file left by a live process that holds no lock is not a lock', { skip: noFlock }, async (t) => {
  // Only a flock held by a live process keeps others out: a pid in a file proves nothing.
  const bootId = await fs.readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => '');
  const dir = t.testdir({ 'leases.lock': `${process.ppid}\n${bootId.trim()}\n` });
  const { journal } = await LeaseJournal.open(dir);
  t.pass('opened');
  await journal.close();
});

t.test('a lock held by another process keeps us out, and is free once it dies', async (t) => {
  const dir = t.testdir();
  // A child holding the lock through the module itself, then waiting to be killed.
  const loader = import.meta.resolve('@tapjs/typescript/import');
  const env: NodeJS.ProcessEnv = { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' };
  delete env.NODE_OPTIONS;
  const mod = new URL('../../src/dhcp/lease-journal.ts', import.meta.url).href;
  const script = `import { LeaseJournal } from ${JSON.stringify(mod)}; await LeaseJournal.open(${JSON.stringify(dir)}); console.log('ready'); setInterval(() => {}, 1000);`;
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, ['--import', loader, '--input-type=module', '-e', script], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout.on('data', () => resolve()));
  const err = await LeaseJournal.open(dir).then(
    (l) => l.journal.close().then(() => undefined),
    (e: unknown) => e as Error,
  );
  t.match(err?.message, new RegExp(`in use by another provlab process \\(pid ${child.pid}\\)`));
  const exited = new Promise((resolve) => child.on('close', resolve));
  child.kill('SIGKILL');
  await exited;
  const { journal } = await LeaseJournal.open(dir);
  t.pass('taken once the holder died');
  await journal.close();
});

t.test('lease files are read as a stream: any chunk size gives what one buffer gives', async (t) => {
  let text = encodeHeaderLine('lease-journal', 3);
  for (let i = 0; i < 40; i++) text += encodeRecordLine(rec(i % 25, { updatedAt: 1_700_000_000_000 + i }));
  text += 'garbage line\n\n' + encodeRecordLine(rec(99)).slice(0, 30); // damage and a torn tail
  const whole = parseLeaseFile(Buffer.from(text), '/s/leases.journal', 'leases.journal', 'lease-journal');
  t.equal(whole.records.length, 40);
  for (const size of [1, 2, 7, 64, 1000]) {
    const records: LeaseRecord[] = [];
    const reader = new LeaseFileReader('/s/leases.journal', 'leases.journal', 'lease-journal', (r) => records.push(r));
    const buf = Buffer.from(text);
    for (let i = 0; i < buf.length; i += size) reader.push(buf.subarray(i, i + size));
    reader.end();
    t.same(records, whole.records, `chunks of ${size}`);
    t.same(reader.warnings, whole.warnings);
    t.equal(reader.gen, 3);
  }
});

t.test('a journal larger than 2 GiB loads (a sparse file: a hole between two records)', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'leases.journal');
  const head = encodeHeaderLine('lease-journal', 1) + encodeRecordLine(rec(1));
  await fs.writeFile(file, head);
  const big = 2.5 * 1024 ** 3;
  await fs.truncate(file, big);
  await fs.appendFile(file, '\n' + encodeRecordLine(rec(2)));
  const df = spawnSync('df', ['--output=avail', '-B1', dir], { encoding: 'utf8' });
  t.comment(`sparse file of ${(await fs.stat(file)).size} bytes (free: ${df.stdout.trim().split('\n')[1] ?? '?'})`);
  const { journal, leases, warnings } = await LeaseJournal.open(dir, { fsync: false });
  t.same([...leases.keys()], [rec(1).ip, rec(2).ip], 'provlab starts on it, with both records, the one after the hole too');
  t.match(warnings.join('\n'), /without a line end/);
  await journal.close();
});

t.test('provlab up starts when the lock and pid file name pid 1 (the init of a container, killed and restarted)', async (t) => {
  const bootId = (await fs.readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => '')).trim();
  const dir = tempDir();
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const state = path.join(dir, 'state');
  await fs.mkdir(state);
  await fs.writeFile(path.join(state, 'leases.lock'), `1\n${bootId}\n`);
  await fs.writeFile(path.join(state, 'provlab.pid'), '1\n');
  const net = `127.${60 + (process.pid % 30)}.0`;
  const port = 42000 + (process.pid % 3000) * 3;
  const yaml = siteYaml(mergeSite(LOOPBACK_SITE, { site: 'pid-one', dhcp: { subnet: `${net}.0/24`, pool: `${net}.10-${net}.20` }, listen: port, state, control: { enabled: false } }));
  const { provlab } = await upWithSite(t, dir, yaml, { ready: 'provlab up:' });
  t.pass('started');
  t.equal(await provlab.stop('SIGTERM'), 0);
});

// Last in the file: run before the test that spawns a child, the mocked import kept that child from reporting ready.
t.test('without the addon (link() lock), a lock naming this very process is stale too', async (t) => {
  const { acquireLock, releaseLock } = await t.mockImport<typeof import('../../src/dhcp/lease-lock.js')>('../../src/dhcp/lease-lock.js', {
    '../../src/net/native-addon.js': { loadNativeAddon: () => ({ ok: false, reason: 'mocked away' }) },
  });
  const dir = t.testdir({ 'leases.lock': `${process.pid}\n` });
  const lock = await acquireLock(dir);
  t.equal(lock.fh, undefined, 'the link() lock');
  const again = await acquireLock(dir).then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  t.match(again?.message, /this very process/, 'but one this process took is held');
  await releaseLock(lock);
});
