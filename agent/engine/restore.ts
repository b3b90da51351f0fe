import { copyFile, link, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { timestampForName } from './backup-name.js';
import { LifeboatError, destinationError, errnoCode } from './errors.js';
import { fileExists, fsyncDir, fsyncPath, tempName, writeFully } from './file-ops.js';
import { inUseReasons } from './in-use.js';
import { setFileFormat } from './sqlite-header.js';
import { plainDatabase, verifyBackup, type VerifyResult } from './verify-backup.js';

export interface RestoreOptions {
  from: string;
  to: string;
  force: boolean;
  /** For encrypted copies. */
  passphraseFile?: string;
}

export interface RestoreResult {
  restored: string;
  /** The database that was there before, kept under a new name (null when there was none). */
  previous: string | null;
  /** -wal/-shm/-journal files of the old database, moved aside so they cannot be replayed into the new one. */
  movedAside: string[];
  verify: VerifyResult;
  journalMode: 'wal' | 'rollback';
}

const SIDE_FILES = ['-wal', '-shm', '-journal'];

/**
 * Puts a verified backup in place of a database. The backup is checked first; the database it
 * replaces is kept as `<name>.before-restore-<time>` (a hard link, so it exists the whole time);
 * the new file is written beside the target and renamed over it, so the target is at every
 * moment either the old database or the whole restored one.
 */
export async function restoreBackup(options: RestoreOptions): Promise<RestoreResult> {
  const from = resolve(options.from);
  const to = resolve(options.to);
  const dir = dirname(to);
  const verify = await verifyBackup(from, 'quick', { passphraseFile: options.passphraseFile });
  if (!verify.ok) {
    throw new LifeboatError('check', `The backup ${from} failed verification: ${verify.problems[0] ?? 'unknown problem'}.`,
      'Nothing was restored. Pick an earlier backup (lifeboat verify FILE checks one).');
  }
  try {
    const st = await stat(dir);
    if (!st.isDirectory()) throw new LifeboatError('destination', `${dir} is not a folder.`, 'Restore to a path inside an existing folder.');
  } catch (err) {
    if (err instanceof LifeboatError) throw err;
    throw destinationError(err, dir);
  }
  const targetExists = await fileExists(to);
  if (targetExists && (await stat(to)).isDirectory()) {
    throw new LifeboatError('usage', `${to} is a folder.`, 'Give the database file path to restore to, e.g. --to /path/to/pos.db.');
  }
  if (targetExists && !options.force) {
    const reasons = await inUseReasons(to);
    if (reasons.length > 0) {
      throw new LifeboatError('busy', `Refusing to restore over ${to}: ${reasons.join('; ')}.`,
        'Close the POS app (and anything else using the database) and try again; --force restores anyway and keeps the old files aside.');
    }
  }

  const tmp = join(dir, tempName(basename(to)));
  try {
    const plain = await plainDatabase(from, verify.manifest, { passphraseFile: options.passphraseFile });
    try {
      await copyFile(plain.path, tmp);
    } finally {
      await plain.cleanup();
    }
    const journalMode = verify.manifest.source.journalMode;
    if (journalMode === 'wal') {
      const fh = await open(tmp, 'r+');
      try {
        const header = Buffer.alloc(100);
        await fh.read(header, 0, 100, 0);
        setFileFormat(header, 2);
        await writeFully(fh, header, 100, 0);
      } finally {
        await fh.close();
      }
    }
    await fsyncPath(tmp);

    const stamp = timestampForName(new Date());
    let previous: string | null = null;
    const movedAside: string[] = [];
    if (targetExists) {
      previous = `${to}.before-restore-${stamp}`;
      await keepCopy(to, previous);
    }
    for (const suffix of SIDE_FILES) {
      const side = `${to}${suffix}`;
      if (await fileExists(side)) {
        const aside = `${side}.before-restore-${stamp}`;
        await rename(side, aside);
        movedAside.push(aside);
      }
    }
    await rename(tmp, to);
    await fsyncDir(dir);
    return { restored: to, previous, movedAside, verify, journalMode };
  } catch (err) {
    await rm(tmp, { force: true });
    if (err instanceof LifeboatError) throw err;
    if (errnoCode(err)) throw destinationError(err, dir);
    throw err;
  }
}

/** A hard link keeps the old database reachable under both names until the swap; file systems without links get a copy. */
async function keepCopy(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch (err) {
    const code = errnoCode(err);
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'EOPNOTSUPP') throw err;
    await copyFile(from, to);
    await fsyncPath(to);
  }
}
