import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { LifeboatError, errnoCode } from './errors.js';
import { fsyncPath, tempName } from './file-ops.js';
import type { CheckLevel } from './integrity.js';
import type { JournalFamily } from './source-db.js';

export const MANIFEST_SUFFIX = '.manifest.json';

/** The sidecar that turns a file into a backup Lifeboat can vouch for. Fields are only ever added. */
export interface Manifest {
  format: 'lifeboat-backup';
  formatVersion: 1;
  /** The backup file's name, in the same folder as this manifest. */
  file: string;
  source: { path: string; journalMode: JournalFamily; pageSize: number; pages: number };
  /** When the snapshot was taken (the read transaction began). */
  snapshotAt: string;
  createdAt: string;
  /** The stored file (compressed when compression is gzip). */
  bytes: number;
  sha256: string;
  compression: 'none' | 'gzip';
  /** Copies at other destinations may be encrypted; the local backup never is. */
  encryption?: 'none' | 'aes-256-gcm';
  /** The database itself, uncompressed. */
  db: { bytes: number; sha256: string };
  check: { level: CheckLevel; ok: boolean; durationMs: number };
  walFrames: number;
  recoveredHotJournal: boolean;
  lifeboatVersion: string;
  hostname: string;
  /** The agent job that made it (absent for `lifeboat backup` and backups made before 0.1.0 had it). */
  jobId?: string;
}

export function manifestPathFor(backupPath: string): string {
  return backupPath + MANIFEST_SUFFIX;
}

/** Written to a temp name, flushed, then renamed, so a manifest on disk is always whole. */
export async function writeManifest(path: string, manifest: Manifest): Promise<void> {
  const tmp = join(dirname(path), tempName(basename(path)));
  try {
    await writeFile(tmp, JSON.stringify(manifest, null, 2) + '\n', { flag: 'wx' });
    await fsyncPath(tmp);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export async function readManifest(backupPath: string): Promise<Manifest> {
  const path = manifestPathFor(backupPath);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') {
      throw new LifeboatError('source', `${backupPath} has no manifest (${basename(path)} is missing), so Lifeboat cannot vouch for it.`,
        'Use a backup made by Lifeboat, or check that the .manifest.json file was copied along with it.');
    }
    throw err;
  }
  try {
    const m = JSON.parse(text) as Partial<Manifest>;
    if (m.format !== 'lifeboat-backup' || typeof m.sha256 !== 'string' || typeof m.file !== 'string') throw new Error('not a Lifeboat manifest');
    return m as Manifest;
  } catch (err) {
    throw new LifeboatError('check', `The manifest ${path} is damaged (${(err as Error).message}).`,
      'Use another backup; this one cannot be checked against what was recorded when it was made.');
  }
}
