// The lease state dir's single-writer lock (leases.lock): pid + boot id,
// created atomically with link() so the file never exists without its content.
// A holder is stale when its pid is gone or it was written during another boot
// (after a power cut the old pid may belong to anything).
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { unlinkIfExists } from './durable-file.js';

const LOCK = 'leases.lock';

/** Thrown by `LeaseJournal.open` when another live process holds the state dir. */
export class JournalLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
    readonly lockFile: string,
  ) {
    super(
      `lease state dir ${dir} is in use by another provlab process (pid ${pid}${pid === process.pid ? ', this very process' : ''}); ` +
        `lock file ${lockFile}. Stop that process first: two writers would corrupt the lease journal.`,
    );
    this.name = 'JournalLockedError';
  }
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

/** Takes the lock of `dir` (its path is returned), or throws JournalLockedError. */
export async function acquireLock(dir: string): Promise<string> {
  const lockFile = path.join(dir, LOCK);
  const bootId = await readBootId();
  const tmp = path.join(dir, `${LOCK}.${process.pid}.tmp`);
  await fs.writeFile(tmp, `${process.pid}\n${bootId}\n`, { flag: 'w' });
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await fs.link(tmp, lockFile);
        return lockFile;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      let text: string;
      try {
        text = await fs.readFile(lockFile, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      const [pidText = '', holderBoot = ''] = text.split('\n');
      const pid = /^\d+$/.test(pidText.trim()) ? Number(pidText.trim()) : NaN;
      const sameBoot = holderBoot.trim() === '' || bootId === '' || holderBoot.trim() === bootId;
      if (Number.isInteger(pid) && pid > 0 && sameBoot && pidAlive(pid)) {
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

export async function releaseLock(lockFile: string): Promise<void> {
  try {
    const text = await fs.readFile(lockFile, 'utf8');
    if (text.split('\n')[0]?.trim() === String(process.pid)) await fs.unlink(lockFile);
  } catch {
    // Best effort: a lock left behind is detected as stale by the next start.
  }
}
