// File helpers for the lease state dir: positional writes that finish, a
// directory fsync (a rename or a new file is durable only once its directory
// entry is), and unlink that tolerates a file already gone.
import { promises as fs, constants as fsConstants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

export async function writeAll(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off, position + off);
    if (bytesWritten <= 0) throw new Error('write made no progress');
    off += bytesWritten;
  }
}

export async function syncDir(dir: string): Promise<void> {
  const d = await fs.open(dir, fsConstants.O_RDONLY);
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
