import { copyFile, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LifeboatError, destinationError, errnoCode } from '../engine/errors.js';
import { copyRange, fsyncDir, sha256File, tempName, type ByteProgress } from '../engine/file-ops.js';
import type { Destination, StoredObject } from './destination.js';

/**
 * Another disk, a USB drive or a network share. Files land under a temp name, are flushed and
 * read back for their SHA-256, and only then renamed into place. The folder itself is not
 * created when its drive or share is missing: that is a warning, not a new folder on the wrong disk.
 */
export class FolderDestination implements Destination {
  readonly kind = 'folder';
  readonly path: string;

  constructor(path: string) {
    this.path = resolve(path);
  }

  get label(): string {
    return `folder ${this.path}`;
  }

  private async ensureFolder(): Promise<void> {
    try {
      const st = await stat(this.path);
      if (!st.isDirectory()) throw new LifeboatError('destination', `${this.path} is not a folder.`, 'Point the destination at a folder.');
    } catch (err) {
      if (err instanceof LifeboatError) throw err;
      if (errnoCode(err) !== 'ENOENT') throw destinationError(err, this.path);
      try {
        await stat(join(this.path, '..'));
      } catch {
        throw new LifeboatError('destination', `The copy folder ${this.path} cannot be reached (its drive or network share is not there).`,
          'Plug in the drive or connect the share; the local backup is kept and the copy is retried on the next run.');
      }
      await mkdir(this.path).catch((e: unknown) => {
        if (errnoCode(e) !== 'EEXIST') throw destinationError(e, this.path);
      });
    }
  }

  async put(localPath: string, name: string, sha256: string, onProgress?: ByteProgress): Promise<StoredObject> {
    await this.ensureFolder();
    const tmp = join(this.path, tempName(name));
    try {
      const src = await open(localPath, 'r');
      const dst = await open(tmp, 'wx');
      try {
        const size = (await src.stat()).size;
        const copied = await copyRange(src, dst, size, onProgress);
        if (copied !== size) throw new Error(`copied ${copied} of ${size} bytes`);
        await dst.sync();
      } finally {
        await src.close();
        await dst.close();
      }
      const landed = await sha256File(tmp);
      if (landed.sha256 !== sha256) {
        throw new LifeboatError('destination', `The copy in ${this.path} does not match the backup (SHA-256 differs).`,
          'The drive or share may be failing; the copy was thrown away and will be retried.');
      }
      await rename(tmp, join(this.path, name));
      await fsyncDir(this.path);
      return { name, bytes: landed.bytes, id: name };
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => {});
      if (err instanceof LifeboatError) throw err;
      throw destinationError(err, this.path);
    }
  }

  async list(): Promise<StoredObject[]> {
    let names: string[];
    try {
      names = await readdir(this.path);
    } catch (err) {
      throw destinationError(err, this.path);
    }
    const out: StoredObject[] = [];
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const st = await stat(join(this.path, name)).catch(() => null);
      if (st?.isFile()) out.push({ name, bytes: st.size, id: name });
    }
    return out;
  }

  async get(name: string, toPath: string): Promise<void> {
    try {
      await copyFile(join(this.path, name), toPath);
    } catch (err) {
      throw destinationError(err, this.path);
    }
  }

  async delete(name: string): Promise<void> {
    await rm(join(this.path, name), { force: true });
  }
}
