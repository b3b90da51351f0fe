import { createHash } from 'node:crypto';
import { open, readdir, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode } from './errors.js';

/** 8 MiB: big enough for few system calls, small enough to keep memory flat. */
export const COPY_CHUNK = 8 << 20;

export type ByteProgress = (done: number, total: number) => void;

/**
 * Copies LENGTH bytes from SRC to DST (both at offset 0) in fixed chunks, with progress, and
 * optionally flushing as it goes. Where only speed counts (a lock is held), fs.copyFile
 * (copy_file_range, no user-space buffers) is used instead.
 */
export async function copyRange(src: FileHandle, dst: FileHandle, length: number, onProgress?: ByteProgress, opts: { flushEveryBytes?: number } = {}): Promise<number> {
  const buf = Buffer.allocUnsafe(Math.min(COPY_CHUNK, Math.max(length, 1)));
  let pos = 0;
  let unflushed = 0;
  let flushing: Promise<void> | null = null;
  while (pos < length) {
    const want = Math.min(buf.length, length - pos);
    const { bytesRead } = await src.read(buf, 0, want, pos);
    if (bytesRead === 0) break;
    await writeFully(dst, buf, bytesRead, pos);
    pos += bytesRead;
    unflushed += bytesRead;
    // Many small flushes instead of one big one at the end: a 1 GiB fsync holds up the POS app's
    // own fsync on the same file system for most of a second (measured by the benchmark). One
    // flush runs while the copy goes on, so the copy does not wait for the disk.
    if (opts.flushEveryBytes && unflushed >= opts.flushEveryBytes) {
      await flushing;
      flushing = dst.datasync();
      unflushed = 0;
    }
    onProgress?.(pos, length);
  }
  await flushing;
  return pos;
}

/** Flushing a copy as it is written: 64 MiB at a time, a few tens of milliseconds each. */
export const FLUSH_EVERY = 64 << 20;

export async function writeFully(fh: FileHandle, buf: Buffer, length: number, position: number): Promise<void> {
  let off = 0;
  while (off < length) {
    const { bytesWritten } = await fh.write(buf, off, length - off, position + off);
    off += bytesWritten;
  }
}

export async function sha256File(path: string, onProgress?: ByteProgress): Promise<{ sha256: string; bytes: number }> {
  const fh = await open(path, 'r');
  try {
    const total = (await fh.stat()).size;
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafe(COPY_CHUNK);
    let pos = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
      onProgress?.(pos, total);
    }
    return { sha256: hash.digest('hex'), bytes: pos };
  } finally {
    await fh.close();
  }
}

export async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Makes a rename inside DIR durable. Windows cannot open a folder for fsync; NTFS journals the rename. */
export async function fsyncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch (err) {
    const code = errnoCode(err);
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM') throw err;
  } finally {
    await fh.close();
  }
}

export async function fileExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
}

/** Temp files carry the writer's pid, so a run can tell its own live files from a crashed run's. */
export const TEMP_PREFIX = '.lifeboat-tmp-';

export function tempName(finalName: string): string {
  return `${TEMP_PREFIX}${process.pid}-${Math.random().toString(36).slice(2, 8)}-${finalName}`;
}

/** Whether a process exists (EPERM: it does, but belongs to another user). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}

/** Removes temp files left in DIR by runs that were killed. Returns the names removed. */
export async function removeStaleTemps(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(TEMP_PREFIX)) continue;
    const pid = Number(name.slice(TEMP_PREFIX.length).split('-')[0]);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && pidAlive(pid)) continue;
    if (pid === process.pid) continue;
    await rm(join(dir, name), { force: true, recursive: true });
    removed.push(name);
  }
  return removed;
}
