import { mkdtemp, rm } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { LifeboatError } from './errors.js';
import { sha256File } from './file-ops.js';
import { gunzipFile } from './gzip.js';
import { checkDatabase, type CheckLevel } from './integrity.js';
import { readManifest, type Manifest } from './manifest.js';
import { decryptFile } from './crypto.js';
import { readPassphrase } from '../config/passphrase.js';
import { lifeboatHome } from '../config/paths.js';
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

export interface PlainOptions {
  /** Needed for encrypted copies: where the passphrase comes from (see config/passphrase.ts). */
  home?: string;
  passphraseFile?: string;
}

/**
 * The database inside a stored backup, as a plain file: decrypted and decompressed into the
 * temp folder when needed (the backup folder may be a read-only share). Call cleanup() after.
 */
export async function plainDatabase(path: string, manifest: Manifest, opts: PlainOptions): Promise<{ path: string; cleanup: () => Promise<void> }> {
  // The plaintext database goes in a folder only this user can enter (mkdtemp makes it 0700).
  let scratch: string | null = null;
  const cleanup = async (): Promise<void> => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  };
  const temp = async (name: string): Promise<string> => {
    const dir = scratch ?? (scratch = await mkdtemp(join(tmpdir(), 'lifeboat-plain-')));
    return join(dir, name);
  };
  try {
    let current = path;
    if (manifest.encryption === 'aes-256-gcm') {
      const out = await temp(basename(path, '.enc'));
      await decryptFile(current, out, readPassphrase(opts.home ?? lifeboatHome(), opts.passphraseFile));
      current = out;
    }
    if (manifest.compression === 'gzip') {
      const out = await temp(basename(path).replace(/\.gz(\.enc)?$/, ''));
      await gunzipFile(current, out);
      current = out;
    }
    return { path: current, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/**
 * Re-checks a backup against what was recorded when it was made: the file's size and SHA-256,
 * then (decompressed when gzip) SQLite's own check. A backup that passes is what was made.
 */
export async function verifyBackup(file: string, level: CheckLevel, opts: PlainOptions = {}): Promise<VerifyResult> {
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
    const plain = await plainDatabase(path, manifest, opts);
    try {
      if (plain.path === path) await checkSourceFile(path, 'Backup');
      const r = checkDatabase(plain.path, level);
      check = { level, ok: r.ok, durationMs: Math.round(r.durationMs) };
      if (!r.ok) problems.push(`SQLite ${level} check failed: ${r.problems.join('; ')}`);
    } finally {
      await plain.cleanup();
    }
  }
  return { file: path, ok: problems.length === 0, problems, sha256: digest.sha256, bytes: digest.bytes, check, manifest };
}
