// The lease state dir's single-writer lock (leases.lock): flock() on the lock
// file, held for the process's life; the kernel drops it when the holder dies,
// however it dies. A pid comparison is no lock: as PID 1 in a container the
// stale pid written by the last run is always our own. The file's content
// (pid + boot id) only names the holder in the error message.
//
// Without the native addon (flock is not in Node's core) the lock falls back
// to a file created atomically with link(); a holder is stale when its pid is
// gone, is this very process (which holds no lock on that dir), or was written
// during another boot (after a power cut the old pid may belong to anything).
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { createFresh, openExisting, openPersistent, unlinkIfExists, writeAll } from './durable-file.js';
import { loadNativeAddon } from '../net/native-addon.js';

const LOCK = 'leases.lock';

/** Thrown by `LeaseJournal.open` when another live process holds the state dir. */
export class JournalLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
    readonly lockFile: string,
  ) {
    super(
      `lease state dir ${dir} is in use by another provlab process (pid ${Number.isNaN(pid) ? 'unknown' : pid}${pid === process.pid ? ', this very process' : ''}); ` +
        `lock file ${lockFile}. Stop that process first: two writers would corrupt the lease journal.`,
    );
    this.name = 'JournalLockedError';
  }
}

/** A lock this process holds; `fh` is the flock'd file when the addon is there. */
export interface HeldLock {
  file: string;
  fh: FileHandle | undefined;
}

interface LockAddon {
  tryLock?(fd: number): boolean;
}

async function readBootId(): Promise<string> {
  try {
    return (await fs.readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
  } catch {
    return '';
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function holderPid(text: string): number {
  const pidText = text.split('\n')[0]?.trim() ?? '';
  return /^\d+$/.test(pidText) ? Number(pidText) : NaN;
}

/** Dirs this process holds the fallback lock of: any other pid-equals-ours lock is stale. */
const heldHere = new Set<string>();

/** Takes the lock of `dir`, or throws JournalLockedError. */
export async function acquireLock(dir: string): Promise<HeldLock> {
  const lockFile = path.join(dir, LOCK);
  const bootId = await readBootId();
  const content = `${process.pid}\n${bootId}\n`;
  const native = loadNativeAddon<LockAddon>();
  const tryLock = native.ok ? native.addon.tryLock : undefined;
  if (tryLock === undefined) return acquireLinkLock(dir, lockFile, bootId, content);
  for (let attempt = 0; attempt < 5; attempt++) {
    const fh = await openPersistent(lockFile);
    let held = false;
    try {
      if (!tryLock(fh.fd)) {
        const pid = holderPid(await fh.readFile({ encoding: 'utf8' }).catch(() => ''));
        throw new JournalLockedError(dir, pid, lockFile);
      }
      // The previous holder unlinks the file on release while still holding it: a lock
      // taken on a name that is gone (or replaced) locks nothing; take the new one.
      if (!(await isCurrent(fh, lockFile))) continue;
      await fh.truncate(0);
      await writeAll(fh, Buffer.from(content), 0);
      held = true;
      return { file: lockFile, fh };
    } finally {
      if (!held) await fh.close().catch(() => undefined);
    }
  }
  throw new Error(`could not take the lock ${lockFile} (it keeps being replaced)`);
}

async function isCurrent(fh: FileHandle, lockFile: string): Promise<boolean> {
  try {
    const [mine, named] = await Promise.all([fh.stat(), fs.lstat(lockFile)]);
    return named.ino === mine.ino && named.dev === mine.dev;
  } catch {
    return false;
  }
}

async function acquireLinkLock(dir: string, lockFile: string, bootId: string, content: string): Promise<HeldLock> {
  const tmp = path.join(dir, `${LOCK}.${process.pid}.tmp`);
  const fh = await createFresh(tmp);
  try {
    await writeAll(fh, Buffer.from(content), 0);
  } finally {
    await fh.close();
  }
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await fs.link(tmp, lockFile);
        heldHere.add(lockFile);
        return { file: lockFile, fh: undefined };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const existing = await openExisting(lockFile);
      if (existing === undefined) continue;
      let text: string;
      try {
        text = await existing.readFile({ encoding: 'utf8' });
      } finally {
        await existing.close();
      }
      const pid = holderPid(text);
      const holderBoot = text.split('\n')[1]?.trim() ?? '';
      const sameBoot = holderBoot === '' || bootId === '' || holderBoot === bootId;
      const ours = pid === process.pid && !heldHere.has(lockFile);
      if (Number.isInteger(pid) && pid > 0 && sameBoot && !ours && pidAlive(pid)) {
        throw new JournalLockedError(dir, pid, lockFile);
      }
      // Stale. Two processes taking over the same stale lock at the same instant could
      // both unlink; link() then lets only one of them in on the next round.
      await unlinkIfExists(lockFile);
    }
    throw new Error(`could not take the lock ${lockFile} (it keeps reappearing)`);
  } finally {
    await unlinkIfExists(tmp);
  }
}

export async function releaseLock(lock: HeldLock): Promise<void> {
  try {
    if (lock.fh !== undefined) {
      // Unlinked while still held: a process waiting on this inode then sees it is gone.
      if (await isCurrent(lock.fh, lock.file)) await unlinkIfExists(lock.file);
      await lock.fh.close();
      return;
    }
    heldHere.delete(lock.file);
    const text = await fs.readFile(lock.file, 'utf8');
    if (holderPid(text) === process.pid) await fs.unlink(lock.file);
  } catch {
    // Best effort: a lock left behind is detected as stale by the next start.
  }
}
