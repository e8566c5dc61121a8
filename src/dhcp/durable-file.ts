// File helpers for the state dir: positional writes that finish, a directory
// fsync (a rename or a new file is durable only once its directory entry is),
// unlink that tolerates a file already gone, and opening names in a directory
// that an unprivileged user may control (the service user of `up --user`):
// never through a symlink, never into a file someone else planted (CWE-59).
// Every state file (leases, lock, pid file, DNS serials) goes through here.
import { promises as fs, constants as fsConstants, fstatSync, fchownSync, closeSync, statSync, openSync, readdirSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';

const { O_RDONLY, O_RDWR, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_DIRECTORY } = fsConstants;

export async function writeAll(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off, position + off);
    if (bytesWritten <= 0) throw new Error('write made no progress');
    off += bytesWritten;
  }
}

export async function syncDir(dir: string): Promise<void> {
  const d = await fs.open(dir, O_RDONLY | O_DIRECTORY);
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

export async function unlinkIfExists(file: string): Promise<void> {
  try {
    await fs.unlink(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/** Why a file found in the state dir is not ours to write or read: a planted name. */
export class UnsafeStateFileError extends Error {
  constructor(readonly file: string, why: string) {
    super(`${file}: ${why}; not opened (a name planted to make provlab write elsewhere?). Remove it and start again`);
    this.name = 'UnsafeStateFileError';
  }
}

/**
 * A regular file with one name: a symlink is refused by O_NOFOLLOW already, a
 * hard link to a file elsewhere (where protected_hardlinks is off) here. Who
 * owns it does not matter for lease files (their content is checked line by
 * line); `ownerMustBeRoot` is for a file whose word root acts on (the pid file).
 */
function plantedWhy(st: Stats, ownerMustBeRoot = false): string | undefined {
  if (!st.isFile()) return 'not a regular file';
  if (st.nlink > 1) return `a hard link (${st.nlink} names)`;
  const me = process.geteuid?.() ?? 0;
  if (ownerMustBeRoot && st.uid !== 0 && st.uid !== me) return `owned by uid ${st.uid}, not by root`;
  return undefined;
}

function explainOpenError(file: string, e: unknown): Error {
  // O_NOFOLLOW on a symlink: ELOOP; O_EXCL on any existing name (a symlink included): EEXIST.
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ELOOP') return new UnsafeStateFileError(file, 'a symbolic link');
  if (code === 'EEXIST') return new UnsafeStateFileError(file, 'reappeared right after it was removed');
  return e as Error;
}

/**
 * A new file at `file`, created by us: whatever had that name is removed first
 * (unlink removes a symlink itself, never its target), then O_CREAT | O_EXCL |
 * O_NOFOLLOW, so a name planted in between fails instead of being followed.
 */
export async function createFresh(file: string): Promise<FileHandle> {
  await unlinkIfExists(file);
  try {
    return await fs.open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644);
  } catch (e) {
    throw explainOpenError(file, e);
  }
}

/** createFresh, synchronous, writing `text` (the pid file). */
export function writeFreshSync(file: string, text: string): void {
  try {
    unlinkSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  let fd: number;
  try {
    fd = openSync(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644);
  } catch (e) {
    throw explainOpenError(file, e);
  }
  try {
    const buf = Buffer.from(text);
    let off = 0;
    while (off < buf.length) {
      const n = writeSync(fd, buf, off, buf.length - off);
      if (n <= 0) throw new Error('write made no progress');
      off += n;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * An existing state file for reading, or undefined when there is none: never
 * through a symlink (O_NOFOLLOW), never a FIFO left to block us (O_NONBLOCK),
 * never a hard link to a file elsewhere.
 */
export async function openExisting(file: string, ownerMustBeRoot = false): Promise<FileHandle | undefined> {
  let fh: FileHandle;
  try {
    fh = await fs.open(file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw explainOpenError(file, e);
  }
  const why = plantedWhy(await fh.stat(), ownerMustBeRoot);
  if (why !== undefined) {
    await fh.close();
    throw new UnsafeStateFileError(file, why);
  }
  return fh;
}

/** A state file that persists across runs (the lock), opened read-write and created if missing. */
export async function openPersistent(file: string): Promise<FileHandle> {
  let fh: FileHandle;
  try {
    fh = await fs.open(file, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK, 0o644);
  } catch (e) {
    throw explainOpenError(file, e);
  }
  const why = plantedWhy(await fh.stat());
  if (why !== undefined) {
    await fh.close();
    throw new UnsafeStateFileError(file, why);
  }
  return fh;
}

/** Thrown when root is asked to use a state dir that someone unprivileged controls. */
export class UnsafeStateDirError extends Error {
  constructor(readonly dir: string, message: string) {
    super(message);
    this.name = 'UnsafeStateDirError';
  }
}

/**
 * Before a root process writes in `dir`: it must be a directory owned by root or by `serviceUid` (the --user provlab drops to,
 * which must be able to compact the journal after the drop), and writable by
 * no group or other. Anyone else who owns it can plant names in it. No check
 * when not running as root: then the kernel's permissions are the guard.
 */
export function checkStateDir(dir: string, serviceUid: number | undefined): void {
  if ((process.geteuid?.() ?? -1) !== 0) return;
  let st: Stats;
  try {
    // Followed: a symlink to the state dir is the admin's (its parent is theirs); names inside it are not.
    st = statSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // created by us, root-owned
    throw e;
  }
  const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
  const fix = serviceUid === undefined ? `chown root:root ${dir} && chmod 0755 ${dir}` : `chown ${serviceUid} ${dir} && chmod 0755 ${dir}`;
  const refuse = (why: string): never => {
    throw new UnsafeStateDirError(
      dir,
      `state directory ${dir} ${why} (owner uid ${st.uid}, mode ${mode}). Running as root, provlab writes only in a state directory ` +
        `owned by root${serviceUid === undefined ? '' : ` or by the --user it drops to (uid ${serviceUid})`} and writable by no one else: ` +
        `another user could plant symlinks there and make root overwrite files elsewhere. Fix it (${fix}) or start with --user set to its owner.`,
    );
  };
  if (!st.isDirectory()) refuse('is not a directory');
  if (st.uid !== 0 && st.uid !== serviceUid) refuse(`is owned by another user`);
  if ((st.mode & 0o022) !== 0) refuse('is writable by its group or by everyone');
}

/**
 * Hands the state dir and its files to the service user before root is dropped,
 * through file descriptors opened without following links: chown by name would
 * follow a planted symlink and give its target away. Subdirectories and
 * anything that is not a plain file of ours are left alone, and so are `keep`
 * (the pid file: root's word on which process to signal).
 */
export function chownStateDir(dir: string, uid: number, gid: number, keep: readonly string[] = []): void {
  const dfd = openSync(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  try {
    fchownSync(dfd, uid, gid);
  } finally {
    closeSync(dfd);
  }
  for (const name of readdirSync(dir)) {
    if (keep.includes(name)) continue;
    let fd: number;
    try {
      fd = openSync(path.join(dir, name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    } catch {
      continue; // a symlink (ELOOP), or gone
    }
    try {
      const st = fstatSync(fd);
      if (plantedWhy(st) === undefined) fchownSync(fd, uid, gid);
    } finally {
      closeSync(fd);
    }
  }
}
