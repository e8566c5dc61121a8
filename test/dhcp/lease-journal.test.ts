import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from '../../src/dhcp/crc32.js';
import { LeaseJournal } from '../../src/dhcp/lease-journal.js';
import { JournalLockedError } from '../../src/dhcp/lease-lock.js';
import type { LeaseRecord } from '../../src/dhcp/lease-record.js';
import { ipOf, rec } from './fixtures/lease-records.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The on-disk line format, written out independently of the module's encoder. */
function line(obj: unknown): string {
  const json = JSON.stringify(obj);
  return `${crc32(Buffer.from(json, 'utf8')).toString(16).padStart(8, '0')} ${json}\n`;
}

const sorted = (m: Map<string, LeaseRecord>) => [...m.entries()].sort(([a], [b]) => a.localeCompare(b));

t.test('crc32 matches the published check value', async (t) => {
  // "123456789" -> 0xCBF43926 is the standard CRC-32/ISO-HDLC check value.
  t.equal(crc32(Buffer.from('123456789', 'ascii')), 0xcbf43926);
  t.equal(crc32(Buffer.alloc(0)), 0);
});

t.test('round trip: latest record per ip wins, survives reopen and compaction', async (t) => {
  const dir = t.testdir();
  const first = await LeaseJournal.open(dir);
  t.equal(first.leases.size, 0);
  t.same(first.warnings, []);
  const expected = new Map<string, LeaseRecord>();
  const appends: Promise<void>[] = [];
  for (let v = 0; v < 3; v++) {
    for (let i = 0; i < 200; i++) {
      const state = v === 2 && i % 5 === 0 ? 'released' : 'bound';
      const r = rec(i, { state, updatedAt: 1_700_000_000_000 + v * 1000 + i, ...(i % 7 === 0 ? { hostname: undefined } : {}) });
      expected.set(r.ip, { ...r });
      appends.push(first.journal.append(r));
    }
  }
  await Promise.all(appends);
  await first.journal.close();
  for (const r of expected.values()) if (r.hostname === undefined) delete r.hostname;

  const second = await LeaseJournal.open(dir);
  t.same(second.warnings, []);
  t.same(sorted(second.leases), sorted(expected), 'reopen gives the same map');
  t.equal(second.leases.get(ipOf(5))?.state, 'released', 'the latest version won');

  await second.journal.compact(second.leases.values());
  const journalText = await fs.readFile(path.join(dir, 'leases.journal'), 'utf8');
  t.equal(journalText.split('\n').length, 2, 'journal holds only its header after compaction');
  await second.journal.close();

  const third = await LeaseJournal.open(dir);
  t.same(third.warnings, []);
  t.same(sorted(third.leases), sorted(expected), 'compaction then reopen gives the same map');
  await third.journal.close();
  t.same((await fs.readdir(dir)).sort(), ['leases.journal', 'leases.snapshot'], 'lock released, no leftovers');
});

t.test('pendingCompaction counts dead lines: records that replace one earlier in the journal', async (t) => {
  const dir = t.testdir();
  const { journal } = await LeaseJournal.open(dir, { compactAfterRecords: 10, fsync: false /* test: no disk durability needed */ });
  const view = new Map<string, LeaseRecord>();
  for (let i = 0; i < 50; i++) {
    await journal.append(rec(i));
    view.set(ipOf(i), rec(i));
  }
  t.equal(journal.pendingCompaction, false, '50 distinct leases: a snapshot would hold the same 50 lines');
  for (let i = 0; i < 9; i++) {
    const renewed = rec(i, { updatedAt: 1_700_000_100_000 + i });
    await journal.append(renewed);
    view.set(renewed.ip, renewed);
  }
  t.equal(journal.pendingCompaction, false, '9 dead lines');
  const tenth = rec(9, { updatedAt: 1_700_000_100_009 });
  await journal.append(tenth);
  view.set(tenth.ip, tenth);
  t.equal(journal.pendingCompaction, true, '10 dead lines');
  const c = journal.compact(view.values());
  t.equal(journal.pendingCompaction, false, 'false while a compaction is under way');
  await c;
  t.equal(journal.pendingCompaction, false, 'the new journal is empty');
  // The snapshot now holds 50 leases: the next compaction waits for 50 dead lines.
  for (let k = 0; k < 49; k++) await journal.append(rec(k % 5, { updatedAt: 1_700_000_200_000 + k }));
  t.equal(journal.pendingCompaction, false, '44 dead lines (the first record of each of the 5 ips replaces a snapshot line, not a journal line)');
  for (let k = 49; k < 55; k++) await journal.append(rec(k % 5, { updatedAt: 1_700_000_200_000 + k }));
  t.equal(journal.pendingCompaction, true, '50 dead lines, as many as the snapshot holds');
  await journal.close();
});

t.test('appends racing a compaction are kept', async (t) => {
  const dir = t.testdir();
  const { journal } = await LeaseJournal.open(dir);
  // Like the daemon: the view learns a record once its append resolved.
  const view = new Map<string, LeaseRecord>();
  const expected = new Map<string, LeaseRecord>();
  const ack = (r: LeaseRecord) => {
    expected.set(r.ip, r);
    return journal.append(r).then(() => void view.set(r.ip, r));
  };
  for (let i = 0; i < 100; i++) await ack(rec(i));
  // Acknowledged but not yet in the caller's view when it compacts: with group commit a
  // whole batch resolves at once, and the other callers' continuations run afterwards.
  const lagging = Array.from({ length: 30 }, (_, k) => rec(100 + k));
  await Promise.all(lagging.map((r) => (expected.set(r.ip, r), journal.append(r))));
  // The view may also be ahead: an in-memory change it never journaled, newer by updatedAt,
  // and an address the journal never saw.
  const expiredInMemory = rec(3, { state: 'expired', updatedAt: 1_800_000_000_000 });
  const onlyInView = rec(5000);
  for (const r of [expiredInMemory, onlyInView]) {
    view.set(r.ip, r);
    expected.set(r.ip, r);
  }

  const compaction = journal.compact(view.values());
  const racing: Promise<void>[] = [];
  for (let i = 130; i < 200; i++) racing.push(ack(rec(i)));
  for (let i = 0; i < 20; i++) racing.push(ack(rec(i, { state: 'released', updatedAt: 1_900_000_000_000 + i })));
  await compaction;
  for (let i = 200; i < 230; i++) racing.push(ack(rec(i)));
  for (const r of lagging) view.set(r.ip, r); // the caller caught up
  await journal.compact(view.values());
  for (let i = 230; i < 260; i++) racing.push(ack(rec(i)));
  await Promise.all(racing);
  await journal.close();

  const again = await LeaseJournal.open(dir);
  t.same(again.warnings, []);
  t.same(sorted(again.leases), sorted(expected));
  t.equal(again.leases.get(ipOf(3))?.state, 'released', 'an append racing the snapshot wins over the older view');
  t.equal(again.leases.get(ipOf(25))?.state, 'bound');
  await again.journal.close();
});

t.test('concurrent compact() calls are serialized', async (t) => {
  const dir = t.testdir();
  const { journal } = await LeaseJournal.open(dir);
  const view = new Map<string, LeaseRecord>();
  const all: Promise<unknown>[] = [];
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 40; i++) {
      const r = rec(round * 40 + i);
      all.push(journal.append(r).then(() => view.set(r.ip, r)));
    }
    all.push(journal.compact(view.values()));
  }
  await Promise.all(all);
  await journal.close();
  const again = await LeaseJournal.open(dir);
  t.equal(again.leases.size, 200);
  t.same(again.warnings, []);
  await again.journal.close();
});

t.test('close flushes pending appends; appends and compactions after close reject', async (t) => {
  const dir = t.testdir();
  const { journal } = await LeaseJournal.open(dir);
  const pending: Promise<void>[] = [];
  for (let i = 0; i < 100; i++) pending.push(journal.append(rec(i)));
  const closed = journal.close();
  await t.rejects(journal.append(rec(1000)), /closed/);
  await t.rejects(journal.compact([]), /closed/);
  await closed;
  await Promise.all(pending);
  await journal.close(); // idempotent
  await t.rejects(journal.append(rec(1001)), /closed/);
  const again = await LeaseJournal.open(dir);
  t.equal(again.leases.size, 100);
  await again.journal.close();
});

t.test('invalid records are refused', async (t) => {
  const dir = t.testdir();
  const { journal } = await LeaseJournal.open(dir, { fsync: false /* test: no disk durability needed */ });
  await t.rejects(journal.append({ ...rec(1), state: 'bogus' } as unknown as LeaseRecord), TypeError);
  await t.rejects(journal.append({ ...rec(1), expiresAt: Number.NaN }), TypeError);
  await t.rejects(journal.append({ ...rec(1), ip: '' }), TypeError);
  await journal.close();
});

t.test('torn last record is skipped with a warning; the rest is kept', async (t) => {
  const dir = t.testdir();
  const { journal } = await LeaseJournal.open(dir);
  for (let i = 0; i < 20; i++) await journal.append(rec(i));
  await journal.close();
  const full = line(rec(99));
  await fs.appendFile(path.join(dir, 'leases.journal'), full.slice(0, Math.floor(full.length / 2)));

  const again = await LeaseJournal.open(dir);
  t.equal(again.warnings.length, 1);
  // Line 1 is the journal header, records are lines 2..21, the torn one is 22.
  t.match(again.warnings[0], /leases\.journal line 22: torn record/);
  t.equal(again.leases.size, 20);
  t.notOk(again.leases.has(ipOf(99)));
  // New appends must not be glued onto the torn fragment.
  await again.journal.append(rec(21));
  await again.journal.close();
  const third = await LeaseJournal.open(dir);
  t.same(third.warnings, []);
  t.equal(third.leases.size, 21);
  await third.journal.close();
});

t.test('complete last record without its newline is kept', async (t) => {
  const dir = t.testdir();
  const { journal } = await LeaseJournal.open(dir);
  await journal.append(rec(1));
  await journal.close();
  await fs.appendFile(path.join(dir, 'leases.journal'), line(rec(2)).slice(0, -1));
  const again = await LeaseJournal.open(dir);
  t.ok(again.leases.has(ipOf(2)));
  t.match(again.warnings.join('\n'), /line 3: last record has no trailing newline/);
  await again.journal.close();
});

t.test('corrupted record in the middle is skipped with a warning; later records are kept', async (t) => {
  const dir = t.testdir();
  const { journal } = await LeaseJournal.open(dir);
  for (let i = 0; i < 20; i++) await journal.append(rec(i));
  await journal.close();
  const file = path.join(dir, 'leases.journal');
  const lines = (await fs.readFile(file, 'utf8')).split('\n');
  // line 8 holds rec(6): flip one digit of its expiresAt (a bit-rot-style change)
  t.match(lines[7], /"ip":"10\.0\.0\.6"/);
  lines[7] = lines[7]!.replace('"expiresAt":1700003600006', '"expiresAt":1700003600007');
  // line 12 holds rec(10): a chunk missing
  lines[11] = lines[11]!.slice(0, 20) + lines[11]!.slice(40);
  await fs.writeFile(file, lines.join('\n'));

  const again = await LeaseJournal.open(dir);
  t.equal(again.warnings.length, 2, again.warnings.join('\n'));
  t.match(again.warnings[0], /leases\.journal line 8: checksum mismatch/);
  t.match(again.warnings[1], /leases\.journal line 12: /);
  t.equal(again.leases.size, 18);
  t.notOk(again.leases.has(ipOf(6)));
  t.notOk(again.leases.has(ipOf(10)));
  t.ok(again.leases.has(ipOf(19)), 'records after the corruption are kept');
  await again.journal.close();
  const third = await LeaseJournal.open(dir);
  t.same(third.warnings, [], 'the restart rewrote a clean snapshot');
  t.equal(third.leases.size, 18);
  await third.journal.close();
});

t.test('corrupted snapshot line is skipped with a warning', async (t) => {
  const dir = t.testdir();
  const { journal } = await LeaseJournal.open(dir);
  for (let i = 0; i < 5; i++) await journal.append(rec(i));
  await journal.compact([]);
  await journal.close();
  const file = path.join(dir, 'leases.snapshot');
  const lines = (await fs.readFile(file, 'utf8')).split('\n');
  lines[2] = lines[2]!.replace('phone-', 'phono-');
  await fs.writeFile(file, lines.join('\n'));
  const again = await LeaseJournal.open(dir);
  t.equal(again.leases.size, 4);
  t.match(again.warnings.join('\n'), /leases\.snapshot line 3: checksum mismatch/);
  t.match(again.warnings.join('\n'), /header announces 5 leases, 4 loaded/);
  await again.journal.close();
});

t.test('recovers every state an interrupted compaction can leave', async (t) => {
  const v = (i: number, version: number, state: LeaseRecord['state'] = 'bound') => rec(i, { state, updatedAt: 1_700_000_000_000 + version });
  t.test('crash before the new snapshot landed: snapshot g + journal g + journal.next g+1', async (t) => {
    const dir = t.testdir({
      'leases.snapshot': line({ provlab: 'lease-snapshot', v: 1, gen: 5, count: 1 }) + line(v(1, 1)),
      'leases.journal': line({ provlab: 'lease-journal', v: 1, gen: 5 }) + line(v(1, 2)) + line(v(2, 1)),
      'leases.journal.next': line({ provlab: 'lease-journal', v: 1, gen: 6 }) + line(v(2, 2, 'released')) + line(v(3, 1)),
      'leases.snapshot.tmp': 'half a snapsh',
    });
    const { journal, leases, warnings } = await LeaseJournal.open(dir);
    t.same(warnings, []);
    t.same(sorted(leases), sorted(new Map([v(1, 2), v(2, 2, 'released'), v(3, 1)].map((r) => [r.ip, r]))));
    await journal.close();
    t.same((await fs.readdir(dir)).sort(), ['leases.journal', 'leases.snapshot']);
  });
  t.test('crash after the snapshot landed: snapshot g+1 + stale journal g + journal.next g+1', async (t) => {
    const dir = t.testdir({
      'leases.snapshot': line({ provlab: 'lease-snapshot', v: 1, gen: 6, count: 2 }) + line(v(1, 3)) + line(v(2, 3)),
      'leases.journal': line({ provlab: 'lease-journal', v: 1, gen: 5 }) + line(v(1, 2)) + line(v(9, 1)),
      'leases.journal.next': line({ provlab: 'lease-journal', v: 1, gen: 6 }) + line(v(3, 1)),
    });
    const { journal, leases, warnings } = await LeaseJournal.open(dir);
    t.same(sorted(leases), sorted(new Map([v(1, 3), v(2, 3), v(3, 1)].map((r) => [r.ip, r]))), 'the stale journal is not replayed');
    t.match(warnings.join('\n'), /leases\.journal: generation 5 is older than the snapshot \(6\)/);
    await journal.close();
  });
  t.test('a journal cut right after its header, before the newline, is opened with a warning', async (t) => {
    const dir = t.testdir({
      'leases.snapshot': line({ provlab: 'lease-snapshot', v: 1, gen: 2, count: 1 }) + line(v(1, 1)),
      'leases.journal': line({ provlab: 'lease-journal', v: 1, gen: 2 }).slice(0, -1),
    });
    const { journal, leases, warnings } = await LeaseJournal.open(dir);
    t.equal(leases.size, 1, 'the snapshot');
    t.match(warnings.join('\n'), /leases\.journal line 1: header has no trailing newline/);
    await journal.close();
  });

  t.test('crash right after journal.next was created: empty or torn header', async (t) => {
    const dir = t.testdir({
      'leases.snapshot': line({ provlab: 'lease-snapshot', v: 1, gen: 2, count: 1 }) + line(v(1, 1)),
      'leases.journal': line({ provlab: 'lease-journal', v: 1, gen: 2 }) + line(v(2, 1)),
      'leases.journal.next': line({ provlab: 'lease-journal', v: 1, gen: 3 }).slice(0, 12),
    });
    const { journal, leases, warnings } = await LeaseJournal.open(dir);
    t.equal(leases.size, 2);
    t.match(warnings.join('\n'), /leases\.journal\.next line 1: torn header/);
    await journal.close();
  });
});

t.test('group commit', async (t) => {
  // Count fdatasync calls by wrapping FileHandle.prototype.datasync (no timing involved).
  const probe = await fs.open(path.join(t.testdir(), 'probe'), 'w');
  const proto = Object.getPrototypeOf(probe) as { datasync: (this: FileHandle) => Promise<void> };
  await probe.close();
  const original = proto.datasync;
  let calls = 0;
  let gate: Promise<void> | undefined;
  let onCall: (() => void) | undefined;
  let failNext = false;
  proto.datasync = async function (this: FileHandle) {
    calls++;
    onCall?.();
    if (failNext) {
      failNext = false;
      throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    }
    if (gate) await gate;
    return original.call(this);
  };
  t.teardown(() => {
    proto.datasync = original;
  });

  t.test('1000 concurrent appends share few fdatasyncs', async (t) => {
    const dir = t.testdir();
    const { journal } = await LeaseJournal.open(dir);
    calls = 0;
    const all: Promise<void>[] = [];
    for (let i = 0; i < 1000; i++) all.push(journal.append(rec(i)));
    await Promise.all(all);
    t.ok(calls >= 1 && calls <= 10, `1000 appends took ${calls} fdatasync call(s)`);
    await journal.close();
    const again = await LeaseJournal.open(dir);
    t.equal(again.leases.size, 1000);
    await again.journal.close();
  });

  t.test('appends arriving during an fdatasync go out together in the next one', async (t) => {
    const dir = t.testdir();
    const { journal } = await LeaseJournal.open(dir);
    calls = 0;
    let release!: () => void;
    gate = new Promise<void>((r) => (release = r));
    const firstSyncStarted = new Promise<void>((r) => (onCall = r));
    let firstDone = false;
    const first = journal.append(rec(0)).then(() => (firstDone = true));
    await firstSyncStarted;
    onCall = undefined;
    gate = undefined; // only the first sync is held
    const settled: number[] = [];
    const batch = Array.from({ length: 50 }, (_, k) => journal.append(rec(k + 1)).then(() => settled.push(k)));
    await new Promise((r) => setImmediate(r));
    t.equal(firstDone, false, 'the first append waits for its fdatasync');
    t.equal(settled.length, 0, 'the later appends are queued, not acknowledged');
    release();
    await Promise.all([first, ...batch]);
    t.equal(calls, 2, 'one fdatasync for the first append, one for the 50 that queued behind it');
    await journal.close();
  });

  t.test('under load, appends wait out the commit interval and share one fdatasync (and one promise)', async (t) => {
    const dir = t.testdir();
    // A long interval, so that the appends below surely fall inside it on a busy box.
    const { journal } = await LeaseJournal.open(dir, { commitIntervalMs: 400 });
    calls = 0;
    await journal.append(rec(0));
    t.equal(calls, 1, 'the first append is written at once');
    const later: Promise<void>[] = [];
    for (let k = 1; k <= 5; k++) {
      later.push(journal.append(rec(k)));
      await new Promise((r) => setImmediate(r)); // each from its own turn of the event loop
    }
    t.ok(later.every((p) => p === later[0]), 'appends of one batch share one promise');
    await Promise.all(later);
    t.equal(calls, 2, 'the five later appends went out in one fdatasync');
    await journal.close();
    const again = await LeaseJournal.open(dir);
    t.equal(again.leases.size, 6, 'all on disk');
    await again.journal.close();
  });

  t.test('commitIntervalMs 0: each batch starts as soon as the previous one is done', async (t) => {
    const dir = t.testdir();
    const { journal } = await LeaseJournal.open(dir, { commitIntervalMs: 0 });
    calls = 0;
    for (let k = 0; k < 3; k++) await journal.append(rec(k));
    t.equal(calls, 3, 'one fdatasync per append awaited one after the other');
    await journal.close();
  });

  t.test('commitIntervalMs is checked', async (t) => {
    for (const bad of [-1, Number.NaN, 5000]) {
      await t.rejects(LeaseJournal.open(t.testdir(), { commitIntervalMs: bad }), RangeError, `refused: ${bad}`);
    }
  });

  t.test('a failed fdatasync is never acknowledged; compaction starts a healthy journal', async (t) => {
    const dir = t.testdir();
    const { journal } = await LeaseJournal.open(dir);
    const view = new Map<string, LeaseRecord>();
    await journal.append(rec(1));
    view.set(ipOf(1), rec(1));
    failNext = true;
    const failed = Array.from({ length: 5 }, (_, k) => journal.append(rec(10 + k)));
    for (const p of failed) await t.rejects(p, /lease journal write failed .*EIO/);
    await t.rejects(journal.append(rec(20)), /write failed/, 'later appends to the broken journal are refused');
    t.equal(journal.pendingCompaction, true, 'the broken journal asks for the compaction that replaces it');
    await journal.compact(view.values());
    t.equal(journal.pendingCompaction, false, 'the new journal is healthy');
    await journal.append(rec(21));
    await journal.close();
    const again = await LeaseJournal.open(dir);
    t.ok(again.leases.has(ipOf(1)) && again.leases.has(ipOf(21)));
    t.notOk(again.leases.has(ipOf(10)), 'a record whose write failed is not resurrected by the compaction');
    await again.journal.close();
  });
});

t.test('single writer lock', async (t) => {
  t.test('a second open of the same dir fails naming the holder', async (t) => {
    const dir = t.testdir();
    const first = await LeaseJournal.open(dir);
    const err = await LeaseJournal.open(dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.type(err, JournalLockedError);
    t.equal((err as JournalLockedError).pid, process.pid);
    t.match((err as Error).message, new RegExp(`in use by another provlab process \\(pid ${process.pid}`));
    await first.journal.close();
    const again = await LeaseJournal.open(dir);
    t.pass('open works once the holder closed');
    await again.journal.close();
  });

  t.test('a stale lock (dead pid) is taken over', async (t) => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    t.ok(dead && dead > 0);
    const dir = t.testdir({ 'leases.lock': `${dead}\n` });
    const { journal } = await LeaseJournal.open(dir);
    t.equal((await fs.readFile(path.join(dir, 'leases.lock'), 'utf8')).split('\n')[0], String(process.pid));
    await journal.close();
  });

  const bootId = await fs.readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => '');
  const noBootId = bootId === '' ? 'no boot id on this system' : false;
  t.test('a lock written during another boot is taken over even if its pid is alive now', { skip: noBootId }, async (t) => {
    const dir = t.testdir({ 'leases.lock': `${process.ppid}\n00000000-0000-0000-0000-000000000000\n` });
    const { journal } = await LeaseJournal.open(dir);
    t.pass('taken over');
    await journal.close();
  });
});

t.test('kill -9: every acknowledged lease survives', async (t) => {
  const dir = t.testdir();
  const fixture = path.join(here, 'fixtures', 'lease-journal-writer.ts');
  // The child runs TypeScript through the same loader tap uses for this file.
  const loader = import.meta.resolve('@tapjs/typescript/import');
  const env: NodeJS.ProcessEnv = { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' };
  delete env.NODE_OPTIONS; // tap's coverage hook: not wanted in a process we SIGKILL
  const child = spawn(process.execPath, ['--import', loader, fixture, dir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const acked: string[] = [];
  const renewed: string[] = [];
  let compactions = 0;
  let ready = false;
  let buffered = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
  let lockChecked: Promise<void> | undefined;
  let killedAt = 0;
  const enough = new Promise<void>((resolve) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buffered += d;
      const parts = buffered.split('\n');
      buffered = parts.pop()!; // an incomplete last line is not an ack
      for (const p of parts) {
        if (p.startsWith('acked ')) acked.push(p.slice(6));
        else if (p.startsWith('renewed ')) renewed.push(p.slice(8));
        else if (p === 'compacted') compactions++;
        else if (p.startsWith('ready ')) ready = true;
      }
      if (ready && !lockChecked) {
        // While the child lives, its state dir is locked against us.
        lockChecked = LeaseJournal.open(dir).then(
          async (l) => {
            await l.journal.close();
            t.fail('second writer was let in');
          },
          (e: unknown) => {
            t.type(e, JournalLockedError);
            t.equal((e as JournalLockedError).pid, child.pid);
          },
        );
      }
      if (!killedAt && acked.length >= 600 && compactions >= 2 && lockChecked) {
        void lockChecked.then(() => {
          killedAt = acked.length;
          child.kill('SIGKILL');
          resolve();
        });
      }
    });
    child.on('close', () => resolve());
  });
  const bail = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await enough;
  const signal = await exited;
  clearTimeout(bail);
  t.equal(signal, 'SIGKILL', `child was killed (stderr: ${stderr.slice(0, 2000)})`);
  t.ok(killedAt >= 600, `killed after ${killedAt} acks (${acked.length} read in all, ${renewed.length} renewals, ${compactions} compactions)`);

  const { journal, leases, warnings } = await LeaseJournal.open(dir); // also takes over the dead child's lock
  t.comment(`reopened: ${leases.size} leases, warnings: ${JSON.stringify(warnings)}`);
  const missing = acked.filter((ip) => leases.get(ip)?.state !== 'bound');
  t.same(missing, [], `all ${acked.length} acknowledged leases are on disk`);
  t.ok(renewed.length > 0 && renewed.every((ip) => acked.includes(ip)), 'renewals were of acknowledged leases');
  t.equal(new Set(acked).size, acked.length, 'every ack is for a distinct ip');
  await journal.close();
});
