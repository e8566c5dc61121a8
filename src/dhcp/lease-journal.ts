// Durable lease storage: a checksummed append-only journal over a snapshot,
// with group commit and compaction. The line format is lease-line.ts, the
// single-writer lock lease-lock.ts.
//
// Files in the state dir:
//   leases.snapshot       header line + one line per lease, replaced atomically by rename
//   leases.journal        header line + one line per append (group-committed, fdatasync'd)
//   leases.journal.next   only while a compaction runs (appends go there meanwhile)
//   leases.lock           flock'd by the single writer (its pid + boot id inside, for messages)
//
// Headers carry a generation number. A snapshot of generation g is followed by the
// journals of generation >= g, in order; a journal of a lower generation is a leftover of
// a compaction that was interrupted after its snapshot landed, and is ignored.

import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { ShardedMap } from './sharded-map.js';
import { recordProblem, type LeaseRecord } from './lease-record.js';
import { encodeHeaderLine, encodeRecordLine, LeaseFileReader, type LeaseFileKind } from './lease-line.js';
import { acquireLock, releaseLock, type HeldLock } from './lease-lock.js';
import { createFresh, openExisting, syncDir, unlinkIfExists, writeAll } from './durable-file.js';

export interface JournalLoad {
  journal: LeaseJournal;
  leases: Map<string, LeaseRecord>;
  warnings: string[];
}

export interface JournalOptions {
  /**
   * Compact once this many of the journal's records replace a lease recorded
   * earlier in the same journal (lines a snapshot would drop), or as many as
   * the last snapshot held if that is more (default 10000): a snapshot costs
   * time in proportion to the leases, so it is paid at most once per as many
   * dead lines. A journal of distinct leases (phones seen for the first time)
   * is not compacted: the snapshot would hold the same lines again.
   */
  compactAfterRecords?: number;
  fsync?: boolean /* default true; false only for tests/benchmarks that say so */;
  /**
   * Least time between the starts of two group commits, ms (default 2). Under
   * load, appends wait up to this long for the next fdatasync and share it;
   * an append after a quiet spell is written at once. Every fdatasync is a
   * thread-pool round trip and a disk flush, so at thousands of leases a
   * second fewer, fuller batches cost much less CPU; an append still resolves
   * only once its record is on disk. 0: start the next batch as soon as the
   * previous one is done.
   */
  commitIntervalMs?: number;
}

const SNAPSHOT = 'leases.snapshot';
const SNAPSHOT_TMP = 'leases.snapshot.tmp';
const JOURNAL = 'leases.journal';
const JOURNAL_NEXT = 'leases.journal.next';

/** Lets the event loop run (a DHCP socket fills in a few ms at thousands of packets a second). */
const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Records serialised between two yields while a snapshot is built. */
const SNAPSHOT_CHUNK = 500;

interface ParsedFile {
  exists: boolean;
  gen: number | undefined;
  count: number | undefined;
  /** Last record per ip, in file order: a journal of renewals holds many lines per lease. */
  records: Map<string, LeaseRecord>;
  /** Records read, repeats included (the snapshot's header count is checked against it). */
  lines: number;
  warnings: string[];
}

/** Bytes read per step: a journal may be larger than any one Buffer (2 GiB). */
const READ_CHUNK = 1 << 20;

/**
 * Reads one lease file as a stream in `chunkSize` steps, never the whole file at once;
 * only the last record per ip is kept, so memory follows the leases, not the file.
 */
export async function readLeaseFile(file: string, kind: LeaseFileKind, chunkSize = READ_CHUNK): Promise<ParsedFile> {
  const fh = await openExisting(file);
  if (fh === undefined) return { exists: false, gen: undefined, count: undefined, records: new Map(), lines: 0, warnings: [] };
  const records = new Map<string, LeaseRecord>();
  let lines = 0;
  const reader = new LeaseFileReader(file, path.basename(file), kind, (r) => {
    lines++;
    // Deleted first so the map's order is the order of last appearance.
    records.delete(r.ip);
    records.set(r.ip, r);
  });
  try {
    const buf = Buffer.alloc(chunkSize);
    for (let position = 0; ; ) {
      const { bytesRead } = await fh.read(buf, 0, chunkSize, position);
      if (bytesRead === 0) break;
      reader.push(buf.subarray(0, bytesRead));
      position += bytesRead;
    }
  } finally {
    await fh.close();
  }
  reader.end();
  return { exists: true, gen: reader.gen, count: reader.count, records, lines, warnings: reader.warnings };
}

// ---------------------------------------------------------------------------
// The journal

interface JournalFile {
  fh: FileHandle;
  path: string;
  gen: number;
  size: number; // bytes known to be written (positional writes go here)
  /** Appends for an ip already appended since the snapshot began: the dead lines compaction removes. */
  superseding: number;
  pending: number; // queued or in-flight appends targeting this file
  failed: Error | undefined;
  idleWaiters: Array<() => void>;
}

/**
 * Appends that will share one write and one fdatasync: they are acknowledged
 * (or refused) together, so they share one promise too.
 */
interface Batch {
  file: JournalFile;
  records: LeaseRecord[];
  text: string;
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: Error) => void;
}

function newBatch(file: JournalFile): Batch {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { file, records: [], text: '', promise, resolve, reject };
}

const CLOSED = () => new Error('LeaseJournal is closed: append/compact refused');

export class LeaseJournal {
  private readonly dir: string;
  private readonly lock: HeldLock;
  private readonly doSync: boolean;
  private readonly compactAfter: number;
  /** Leases in the last snapshot written: compaction waits for at least as many appends. */
  private snapshotCount = 0;
  private active: JournalFile;
  private unsettled = false; // active file still lives at leases.journal.next
  private retired: JournalFile[] = [];
  // Latest record per ip appended since the last durable snapshot began. Merged into
  // every compaction so that an append whose promise resolved just before the caller
  // built `current` (group commit resolves a whole batch at once) is never dropped.
  // Sharded: it holds one entry per lease appended, and grows without a long rehash.
  private sinceSnapshot = new ShardedMap<LeaseRecord>();
  /** Batches not yet being written, oldest first; appends join the last one while it is for the active file. */
  private queue: Batch[] = [];
  private writing = false;
  private readonly commitInterval: number;
  /** performance.now() when the last batch started. */
  private lastCommit = -Infinity;
  private compactChain: Promise<void> = Promise.resolve();
  private compactions = 0;
  private closing = false;
  private closePromise: Promise<void> | undefined;

  private constructor(dir: string, lock: HeldLock, active: JournalFile, options: Required<JournalOptions>) {
    this.dir = dir;
    this.lock = lock;
    this.active = active;
    this.doSync = options.fsync;
    this.compactAfter = options.compactAfterRecords;
    // Without fsync a batch is only a write: nothing to share.
    this.commitInterval = options.fsync ? options.commitIntervalMs : 0;
  }

  static async open(dir: string, options: JournalOptions = {}): Promise<JournalLoad> {
    const opts: Required<JournalOptions> = {
      compactAfterRecords: options.compactAfterRecords ?? 10000,
      fsync: options.fsync ?? true,
      commitIntervalMs: options.commitIntervalMs ?? 2,
    };
    if (!Number.isInteger(opts.compactAfterRecords) || opts.compactAfterRecords < 1) {
      throw new RangeError('compactAfterRecords must be a positive integer');
    }
    if (!Number.isFinite(opts.commitIntervalMs) || opts.commitIntervalMs < 0 || opts.commitIntervalMs > 1000) {
      throw new RangeError('commitIntervalMs must be between 0 and 1000');
    }
    const absDir = path.resolve(dir);
    await fs.mkdir(absDir, { recursive: true });
    const lock = await acquireLock(absDir);
    try {
      const { leases, warnings, gen } = await LeaseJournal.load(absDir);
      // Start every run from a fresh snapshot of exactly what was loaded: torn tails,
      // corrupt lines and leftovers of an interrupted compaction are gone from disk
      // afterwards, and new appends never land behind a torn fragment.
      // Order matters: the snapshot must be durable before any journal is truncated.
      await LeaseJournal.writeSnapshot(absDir, leases.values(), gen, opts.fsync);
      const active = await LeaseJournal.createJournalFile(absDir, gen, opts.fsync);
      await fs.rename(active.path, path.join(absDir, JOURNAL));
      active.path = path.join(absDir, JOURNAL);
      if (opts.fsync) await syncDir(absDir);
      const journal = new LeaseJournal(absDir, lock, active, opts);
      journal.snapshotCount = leases.size;
      return { journal, leases, warnings };
    } catch (e) {
      await releaseLock(lock);
      throw e;
    }
  }

  private static async load(dir: string): Promise<{ leases: Map<string, LeaseRecord>; warnings: string[]; gen: number }> {
    await unlinkIfExists(path.join(dir, SNAPSHOT_TMP)); // an interrupted compaction's half-written snapshot
    const warnings: string[] = [];
    const leases = new Map<string, LeaseRecord>();
    const snap = await readLeaseFile(path.join(dir, SNAPSHOT), 'lease-snapshot');
    warnings.push(...snap.warnings);
    for (const r of snap.records.values()) leases.set(r.ip, r);
    if (snap.count !== undefined && snap.count !== snap.lines) {
      warnings.push(`${SNAPSHOT}: header announces ${snap.count} leases, ${snap.lines} loaded`);
    }
    const snapGen = snap.gen ?? (snap.exists ? -1 : 0);
    let maxGen = Math.max(snapGen, 0);
    const journals: ParsedFile[] = [];
    for (const name of [JOURNAL, JOURNAL_NEXT]) {
      const j = await readLeaseFile(path.join(dir, name), 'lease-journal');
      if (!j.exists) continue;
      const gen = j.gen ?? Math.max(snapGen, 0);
      if (gen < snapGen) {
        warnings.push(
          `${name}: generation ${gen} is older than the snapshot (${snapGen}); left over from an interrupted compaction, ignored`,
        );
        continue;
      }
      warnings.push(...j.warnings);
      j.gen = gen;
      journals.push(j);
      maxGen = Math.max(maxGen, gen);
    }
    journals.sort((a, b) => (a.gen ?? 0) - (b.gen ?? 0));
    for (const j of journals) for (const r of j.records.values()) leases.set(r.ip, r);
    return { leases, warnings, gen: maxGen + 1 };
  }

  /** write snapshot.tmp, fsync, rename over the snapshot, fsync the dir */
  private static async writeSnapshot(dir: string, records: Iterable<LeaseRecord>, gen: number, doSync: boolean): Promise<void> {
    const all = Array.from(records);
    const tmp = path.join(dir, SNAPSHOT_TMP);
    const fh = await createFresh(tmp);
    try {
      let position = 0;
      const put = async (text: string): Promise<void> => {
        const buf = Buffer.from(text, 'utf8');
        await writeAll(fh, buf, position);
        position += buf.length;
      };
      await put(encodeHeaderLine('lease-snapshot', gen, all.length));
      // Serialised and written in chunks: tens of thousands of leases in one go would
      // stall the daemon long enough for its socket's receive buffer to overflow.
      for (let i = 0; i < all.length; i += SNAPSHOT_CHUNK) {
        let text = '';
        for (const r of all.slice(i, i + SNAPSHOT_CHUNK)) text += encodeRecordLine(r);
        await put(text);
      }
      if (doSync) await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, path.join(dir, SNAPSHOT));
    if (doSync) await syncDir(dir);
  }

  /** A new, empty journal at leases.journal.next whose header and directory entry are durable. */
  private static async createJournalFile(dir: string, gen: number, doSync: boolean): Promise<JournalFile> {
    const file = path.join(dir, JOURNAL_NEXT);
    const fh = await createFresh(file);
    try {
      const header = Buffer.from(encodeHeaderLine('lease-journal', gen), 'utf8');
      await writeAll(fh, header, 0);
      if (doSync) {
        await fh.datasync();
        await syncDir(dir);
      }
      return { fh, path: file, gen, size: header.length, superseding: 0, pending: 0, failed: undefined, idleWaiters: [] };
    } catch (e) {
      await fh.close().catch(() => undefined);
      throw e;
    }
  }

  /**
   * true when the journal's dead lines (records replaced later in it) passed
   * compactAfterRecords, or the size of the last snapshot if larger, or when a failed
   * write left the journal refusing appends (the caller then calls compact with its
   * current view, which starts a new journal). The second bound keeps compaction's
   * cost amortised O(1) per dead line however many leases there are; the journal
   * itself stays under (distinct leases + that bound) lines, so a restart's replay
   * stays proportional to the leases.
   */
  get pendingCompaction(): boolean {
    if (this.closing || this.compactions > 0) return false;
    return this.active.failed !== undefined || this.active.superseding >= Math.max(this.compactAfter, this.snapshotCount);
  }

  /**
   * Resolves only when the record is on disk (fdatasync done). Appends written
   * together share one promise (the same object).
   */
  append(record: LeaseRecord): Promise<void> {
    if (this.closing) return Promise.reject(CLOSED());
    const problem = recordProblem(record);
    if (problem !== undefined) return Promise.reject(new TypeError(`invalid lease record: ${problem}`));
    const file = this.active;
    if (file.failed) return Promise.reject(file.failed);
    const line = encodeRecordLine(record);
    // The caller's record itself (records are replaced, never changed): no second copy of
    // every lease to keep until the next compaction, which normalizes what it writes.
    if (this.sinceSnapshot.has(record.ip)) file.superseding++;
    this.sinceSnapshot.set(record.ip, record);
    file.pending++;
    let batch = this.queue[this.queue.length - 1];
    if (batch === undefined || batch.file !== file) {
      batch = newBatch(file);
      this.queue.push(batch);
    }
    batch.records.push(record);
    batch.text += line;
    if (!this.writing) {
      this.writing = true;
      // Deferred by a microtask so a burst issued in one tick becomes one batch.
      queueMicrotask(() => void this.drain());
    }
    return batch.promise;
  }

  // Group commit: one write + one fdatasync for everything queued while the previous
  // one was in flight (and, under load, during the rest of commitIntervalMs); all
  // appends of a batch settle together.
  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      if (this.commitInterval > 0) {
        // Under load, let the next batch gather for what is left of the interval.
        const wait = this.lastCommit + this.commitInterval - performance.now();
        // Whole milliseconds: Node keeps one timer list per distinct duration.
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, Math.ceil(wait)));
        this.lastCommit = performance.now();
      }
      // Taken off the queue: appends from now on start the next batch.
      const batch = this.queue.shift()!;
      const file = batch.file;
      let error = file.failed;
      if (!error) {
        try {
          // An admin's rm or truncate while we run: writing on would ack into a file no
          // restart reads, or leave a hole of NULs where acked records were. Refused like
          // a failed write: the caller compacts its memory into a fresh snapshot and journal.
          const st = await file.fh.stat();
          if (st.nlink === 0) throw new Error(`${file.path} was deleted while provlab runs`);
          if (st.size < file.size) throw new Error(`${file.path} was truncated while provlab runs (${st.size} bytes, ${file.size} written)`);
          const buf = Buffer.from(batch.text, 'utf8');
          await writeAll(file.fh, buf, file.size);
          if (this.doSync) await file.fh.datasync();
          file.size += buf.length;
        } catch (e) {
          // After a failed write or fdatasync the file's tail is unknown: refuse further
          // appends to it (a compaction starts a fresh journal) rather than ack blindly.
          error = new Error(
            `lease journal write failed (${file.path}): ${(e as Error).message}; ` +
              'appends are refused until a compaction starts a new journal',
          );
          file.failed = error;
        }
      }
      if (error) {
        // Not acknowledged, so a later compaction must not resurrect them from here.
        for (const r of batch.records) if (this.sinceSnapshot.get(r.ip) === r) this.sinceSnapshot.delete(r.ip);
        batch.reject(error);
      } else batch.resolve();
      file.pending -= batch.records.length;
      if (file.pending === 0) for (const w of file.idleWaiters.splice(0)) w();
    }
    this.writing = false;
  }

  private whenIdle(file: JournalFile): Promise<void> {
    if (file.pending === 0) return Promise.resolve();
    return new Promise((resolve) => file.idleWaiters.push(resolve));
  }

  /**
   * Atomic compaction. The snapshot holds `current`, plus every record appended since the
   * previous compaction switched journals that `current` lacks or holds an older version
   * of (by updatedAt): group commit resolves a whole batch at once, so the caller's view
   * may not yet show acks whose continuations have not run. Anything older than that
   * window comes from `current` alone (an ip left out of it is forgotten).
   * Appends made while compaction runs go to the new journal and replay after the snapshot.
   */
  compact(current: Iterable<LeaseRecord>): Promise<void> {
    if (this.closing) return Promise.reject(CLOSED());
    this.compactions++;
    const run = this.compactChain.then(() => this.runCompaction(current));
    const settled = run.then(
      () => {
        this.compactions--;
      },
      () => {
        this.compactions--;
      },
    );
    this.compactChain = settled;
    return run;
  }

  /**
   * `current` checked in chunks (writeSnapshot copies the known fields when it writes):
   * tens of thousands of leases in one go would stall the daemon long enough to lose datagrams.
   */
  private async merged(current: readonly LeaseRecord[], since: ShardedMap<LeaseRecord>): Promise<ShardedMap<LeaseRecord>> {
    const out = new ShardedMap<LeaseRecord>();
    for (let i = 0; i < current.length; i++) {
      const r = current[i]!;
      const problem = recordProblem(r);
      if (problem !== undefined) throw new TypeError(`compact: invalid lease record for ${String(r?.ip)}: ${problem}`);
      out.set(r.ip, r);
      if (i % SNAPSHOT_CHUNK === SNAPSHOT_CHUNK - 1) await yieldToLoop();
    }
    // Chunked too: tens of thousands of appends since the last compaction are as many lookups.
    let n = 0;
    for (const [ip, r] of since) {
      const c = out.get(ip);
      if (c === undefined || c.updatedAt <= r.updatedAt) out.set(ip, r);
      if (++n % SNAPSHOT_CHUNK === 0) await yieldToLoop();
    }
    return out;
  }

  private async runCompaction(current: Iterable<LeaseRecord>): Promise<void> {
    let previousSince: ShardedMap<LeaseRecord> | undefined;
    let captured: LeaseRecord[];
    let since: ShardedMap<LeaseRecord>;
    if (!this.unsettled) {
      // The new journal exists (and is durable) before appends are switched to it, so a
      // crash at any later point finds: snapshot g + journal g + journal.next g+1, or
      // snapshot g+1 + stale journal g + journal.next g+1, or the settled pair.
      const next = await LeaseJournal.createJournalFile(this.dir, this.active.gen + 1, this.doSync);
      // From here to the switch there is no await: appends before it are in `captured`,
      // appends after it are in the new journal. References only (callers replace a
      // record, they never change one): the copying and checking happen after the switch.
      captured = Array.from(current);
      this.retired.push(this.active);
      this.active = next;
      this.unsettled = true;
      previousSince = this.sinceSnapshot;
      this.sinceSnapshot = new ShardedMap();
      since = previousSince;
    } else {
      // Retrying after a compaction that failed midway: keep appending to the same
      // journal.next; its records replay after the new snapshot of the same generation.
      captured = Array.from(current);
      // A copy: merged() reads it across yields, while appends keep landing in the live map
      // (those replay from journal.next after the snapshot).
      since = new ShardedMap(this.sinceSnapshot);
    }
    try {
      // A record that fails its check leaves the switch in place: the old journal and
      // journal.next stay authoritative, as after a failed snapshot write.
      const snapshot = await this.merged(captured, since);
      await LeaseJournal.writeSnapshot(this.dir, snapshot.values(), this.active.gen, this.doSync);
      this.snapshotCount = snapshot.size;
    } catch (e) {
      if (previousSince) {
        // The old journal is still authoritative: keep its records for the retry.
        for (const [ip, r] of this.sinceSnapshot) previousSince.set(ip, r);
        this.sinceSnapshot = previousSince;
      }
      throw e;
    }
    // The old journals are superseded; let their in-flight batches finish, then drop them.
    for (const f of this.retired.splice(0)) {
      await this.whenIdle(f);
      await f.fh.close().catch(() => undefined);
    }
    const settled = path.join(this.dir, JOURNAL);
    await fs.rename(this.active.path, settled);
    if (this.doSync) await syncDir(this.dir);
    this.active.path = settled;
    this.unsettled = false;
  }

  /** Flushes pending appends, closes files, releases the lock. Idempotent. */
  close(): Promise<void> {
    if (!this.closePromise) {
      this.closing = true;
      this.closePromise = (async () => {
        await this.compactChain;
        for (const f of [...this.retired, this.active]) {
          await this.whenIdle(f);
          await f.fh.close().catch(() => undefined);
        }
        await releaseLock(this.lock);
      })();
    }
    return this.closePromise;
  }
}
