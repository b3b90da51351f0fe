import { rm } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { LifeboatError } from './errors.js';
import { sha256File, tempName } from './file-ops.js';
import { gunzipFile } from './gzip.js';
import { checkDatabase, type CheckLevel } from './integrity.js';
import { readManifest, type Manifest } from './manifest.js';
import { checkSourceFile } from './source-check.js';

export interface VerifyResult {
  file: string;
  ok: boolean;
  /** What is wrong, first the most telling; empty when ok. */
  problems: string[];
  sha256: string;
  bytes: number;
  check: { level: CheckLevel; ok: boolean; durationMs: number };
  manifest: Manifest;
}

/**
 * Re-checks a backup against what was recorded when it was made: the file's size and SHA-256,
 * then (decompressed when gzip) SQLite's own check. A backup that passes is what was made.
 */
export async function verifyBackup(file: string, level: CheckLevel): Promise<VerifyResult> {
  const path = resolve(file);
  const manifest = await readManifest(path);
  const problems: string[] = [];
  const digest = await sha256File(path).catch((err: unknown) => {
    throw new LifeboatError('source', `Backup ${path} cannot be read: ${(err as Error).message}.`, 'Check the path and that the drive is connected.');
  });
  if (digest.bytes !== manifest.bytes) problems.push(`size is ${digest.bytes} bytes, the manifest says ${manifest.bytes}`);
  if (digest.sha256 !== manifest.sha256) problems.push('SHA-256 differs from the manifest: the file changed or was damaged after it was made');

  let check = { level, ok: problems.length === 0, durationMs: 0 };
  if (problems.length === 0 && level !== 'none') {
    let dbPath = path;
    let temp: string | undefined;
    try {
      if (manifest.compression === 'gzip') {
        // The backup folder may be read-only (a mounted share): decompress to the temp folder.
        temp = join(tmpdir(), tempName(basename(path, '.gz')));
        await gunzipFile(path, temp);
        dbPath = temp;
      } else {
        await checkSourceFile(path, 'Backup');
      }
      const r = checkDatabase(dbPath, level);
      check = { level, ok: r.ok, durationMs: Math.round(r.durationMs) };
      if (!r.ok) problems.push(`SQLite ${level} check failed: ${r.problems.join('; ')}`);
    } finally {
      if (temp) await rm(temp, { force: true });
    }
  }
  return { file: path, ok: problems.length === 0, problems, sha256: digest.sha256, bytes: digest.bytes, check, manifest };
}
