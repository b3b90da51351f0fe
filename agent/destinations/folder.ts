import { copyFile, mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { LifeboatError, destinationError, errnoCode } from '../engine/errors.js';
import { copyRange, fsyncDir, sha256File, tempName, type ByteProgress } from '../engine/file-ops.js';
import { MANIFEST_SUFFIX } from '../engine/manifest.js';
import type { Destination, StoredObject } from './destination.js';
import { linuxMountTables, unmountedMountPoint, type MountTables } from './mounts.js';

/** Left in a copy folder when it is set up; its absence at run time means the wrong disk. */
export const FOLDER_MARKER = '.lifeboat-destination.json';

async function hasMarker(folder: string): Promise<boolean> {
  return stat(join(folder, FOLDER_MARKER)).then((st) => st.isFile(), () => false);
}

async function writeMarker(folder: string): Promise<void> {
  const body = { createdBy: 'lifeboat', createdAt: new Date().toISOString(), hostname: hostname() };
  await writeFile(join(folder, FOLDER_MARKER), JSON.stringify(body, null, 2) + '\n');
  await fsyncDir(folder);
}

/**
 * Makes FOLDER for a person setting a job up, who is there to see it: created when the folder
 * above it exists (a typo higher up is refused rather than building a whole tree), and a file in
 * its place is refused. WHAT names it in the messages; HINTS say what to do in each case.
 */
export async function makeFolderIfParentExists(folder: string, what: string, hints: { isFile: string; noParent: string }): Promise<void> {
  try {
    if ((await stat(folder)).isDirectory()) return;
    throw new LifeboatError('usage', `The ${what} ${folder} is a file, not a folder.`, hints.isFile);
  } catch (err) {
    if (err instanceof LifeboatError) throw err;
    if (errnoCode(err) !== 'ENOENT') throw destinationError(err, folder);
  }
  try {
    await mkdir(folder);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw new LifeboatError('destination', `The ${what} ${folder} cannot be created: ${dirname(folder)} does not exist.`, hints.noParent);
    if (errnoCode(err) !== 'EEXIST') throw destinationError(err, folder);
  }
}

/**
 * Sets a copy folder up while a person is there to see it (`job add/edit --copy-to`): creates it
 * when its parent exists, and leaves the marker that later runs look for.
 */
export async function prepareCopyFolder(path: string, tables?: MountTables | null): Promise<{ marked: boolean }> {
  const folder = resolve(path);
  refuseUnmounted(folder, tables, 'setup');
  await makeFolderIfParentExists(folder, 'copy folder', {
    isFile: 'Give the path of a folder on the second disk or share.',
    noParent: 'Plug in the drive or connect the share first, or create the folder yourself.',
  });
  if (await hasMarker(folder)) return { marked: false };
  try {
    await writeMarker(folder);
  } catch (err) {
    throw destinationError(err, folder);
  }
  return { marked: true };
}

/** WHEN: a person setting the folder up (nothing saved yet) or a run (the copy waits for the next). */
function refuseUnmounted(folder: string, tables: MountTables | null | undefined, when: 'setup' | 'run'): void {
  const point = unmountedMountPoint(folder, tables === undefined ? linuxMountTables() : tables);
  if (point) {
    throw new LifeboatError('destination', `The copy folder ${folder} is on ${point}, which /etc/fstab mounts but is not mounted now: a copy there would land on the local disk.`,
      `Mount it (e.g. \`mount ${point}\`), or plug in the drive; ${when === 'setup' ? 'then run the command again (nothing was saved)' : 'the local backup is kept and the copy is retried on the next run'}.`);
  }
}

/**
 * Another disk, a USB drive or a network share. Files land under a temp name, are flushed and
 * read back for their SHA-256, and only then renamed into place. The folder itself is not
 * created when its drive or share is missing: that is a warning, not a new folder on the wrong disk.
 */
export class FolderDestination implements Destination {
  readonly kind = 'folder';
  readonly path: string;

  /** TABLES: the mount tables to judge "not mounted" by (tests); read from the system when absent. */
  constructor(path: string, private readonly tables?: MountTables | null) {
    this.path = resolve(path);
  }

  get label(): string {
    return `folder ${this.path}`;
  }

  /**
   * At run time the folder must already be there, with the marker `prepareCopyFolder` left: an
   * unmounted share or drive often leaves an empty mount-point folder (or its parent) behind,
   * and a copy written there would land on the local disk and look like an off-site copy.
   */
  private async ensureFolder(): Promise<void> {
    refuseUnmounted(this.path, this.tables, 'run');
    let st;
    try {
      st = await stat(this.path);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT' && errnoCode(err) !== 'ENOTDIR') throw destinationError(err, this.path);
      throw new LifeboatError('destination', `The copy folder ${this.path} cannot be reached (its drive or network share is not there).`,
        'Plug in the drive or connect the share; the local backup is kept and the copy is retried on the next run.');
    }
    if (!st.isDirectory()) throw new LifeboatError('destination', `${this.path} is not a folder.`, 'Point the destination at a folder.');
    if (await hasMarker(this.path)) return;
    // Folders set up before the marker existed: they hold Lifeboat's own manifests.
    const names = await readdir(this.path).catch(() => [] as string[]);
    if (names.some((n) => n.endsWith(MANIFEST_SUFFIX))) {
      await writeMarker(this.path);
      return;
    }
    throw new LifeboatError('destination',
      `The copy folder ${this.path} is there but is not the one Lifeboat set up (its ${FOLDER_MARKER} file is missing), so the drive or share is probably not mounted.`,
      `Mount the drive or share. If it is mounted and this is the right folder, mark it with \`lifeboat job mark-copy-folder ${this.path}\`. The local backup is kept and the copy is retried on the next run.`);
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
