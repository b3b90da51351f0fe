import { existsSync, statSync } from 'node:fs';
import { mkdir, rename, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { VERSION } from '../version.js';
import type { BackupOptions, BackupProgress, BackupResult } from './backup-options.js';
import { backupFileName } from './backup-name.js';
import { LifeboatError, destinationError, errnoCode } from './errors.js';
import { fsyncDir, fsyncPath, removeStaleTemps, sha256File, tempName } from './file-ops.js';
import { gunzipDigest, gzipFile } from './gzip.js';
import { checkCopy } from './integrity.js';
import { manifestPathFor, writeManifest, type Manifest } from './manifest.js';
import { waitForQuiet, type QuietResult } from './quiet-wait.js';
import { SnapshotRaced, snapshotHotJournal, snapshotRollback, snapshotWal, type SnapshotResult } from './snapshot.js';
import { checkSourceFile } from './source-check.js';
import { SourceDb, classifyOpenError } from './source-db.js';
import { validateBackupOptions } from './validate-options.js';

export interface BackupDeps {
  sleep: (ms: number) => Promise<void>;
  now: () => Date;
}

const realDeps: BackupDeps = {
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  now: () => new Date(),
};

type ProgressFn = (p: BackupProgress) => void;

/**
 * One verified backup of one live database: probe → snapshot → verify → store. A file only
 * appears under its final name after it was copied whole, flushed, checked and hashed, and its
 * manifest is in place; anything short of that is a temp file that is removed on the way out, or
 * by the next run if this process was killed.
 */
export async function backupDatabase(options: BackupOptions, onProgress: ProgressFn = () => {}, deps: BackupDeps = realDeps): Promise<BackupResult> {
  const started = performance.now();
  validateBackupOptions(options);
  const db = resolve(options.db);
  const dest = resolve(options.dest);
  const source = await checkSourceFile(db);
  await ensureDestination(dest);
  let staleTempsRemoved: string[];
  try {
    staleTempsRemoved = await removeStaleTemps(dest);
  } catch (err) {
    throw destinationError(err, dest);
  }
  await checkFreeSpace(dest, source.size + walSize(db), options.gzip);

  const snapshotDate = deps.now();
  const finalName = backupFileName(db, snapshotDate, options.gzip, (n) => existsSync(join(dest, n)));
  const finalPath = join(dest, finalName);
  const rawTmp = join(dest, tempName(finalName.replace(/\.gz$/, '')));
  const temps = [rawTmp];
  try {
    const taken = await snapshotWithRetries(db, rawTmp, options, onProgress, deps);
    const snap = taken.snapshot;
    let mark = performance.now();
    const lap = (): number => {
      const now = performance.now();
      const ms = Math.round(now - mark);
      mark = now;
      return ms;
    };
    // The check and the hash read the copy from the page cache, so they need not wait for the
    // disk: the flush runs alongside them, and all three finish before the rename.
    onProgress({ phase: 'checking', message: `${options.check} check` });
    let syncMs = 0;
    const syncing = fsyncPath(rawTmp).then(() => {
      syncMs = Math.round(performance.now() - mark);
    });
    let checkMs = 0;
    // On the backup's own worker thread one share of the check runs here, before the hash: a
    // third thread would cost more memory than the time it saves.
    const checking = checkCopy(rawTmp, options.check, { useThisThread: !isMainThread, thisThreadPages: snap.pages }).then((r) => {
      checkMs = Math.round(performance.now() - mark);
      return r;
    });
    let hashMs = 0;
    const hashing = sha256File(rawTmp, (done, total) => onProgress({ phase: 'hashing', done, total })).then((d) => {
      hashMs = Math.round(performance.now() - mark);
      return d;
    });
    // All three settle before anything is decided: a failed hash must not delete the copy while
    // the check still reads it (Windows refuses to delete an open file).
    const failed = (await Promise.allSettled([syncing, hashing, checking])).find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    const [check, dbDigest] = await Promise.all([checking, hashing]);
    lap();
    if (!check.ok) {
      throw new LifeboatError('check',
        `The copy of ${db} fails SQLite's ${check.level === 'full' ? 'integrity' : 'quick'} check (${check.problems[0] ?? 'unknown problem'}): the database itself is damaged.`,
        'The copy was thrown away and earlier backups are untouched; keep them, and ask the POS vendor or restore the newest good backup.');
    }

    let stored = rawTmp;
    let storedDigest = dbDigest;
    if (options.gzip) {
      const gzTmp = join(dest, tempName(finalName));
      temps.push(gzTmp);
      await gzipFile(rawTmp, gzTmp, (done, total) => onProgress({ phase: 'compressing', done, total }));
      await fsyncPath(gzTmp);
      const roundTrip = await gunzipDigest(gzTmp);
      if (roundTrip.sha256 !== dbDigest.sha256) {
        throw new LifeboatError('check', 'The compressed copy does not decompress to the database that was checked.',
          'Try again; if it repeats, the destination disk may be failing.');
      }
      storedDigest = await sha256File(gzTmp);
      await rm(rawTmp, { force: true });
      stored = gzTmp;
    }
    const compressMs = lap();

    const manifest: Manifest = {
      format: 'lifeboat-backup',
      formatVersion: 1,
      file: finalName,
      source: { path: db, journalMode: snap.journalMode, pageSize: snap.pageSize, pages: snap.pages },
      snapshotAt: taken.snapshotAt.toISOString(),
      createdAt: deps.now().toISOString(),
      bytes: storedDigest.bytes,
      sha256: storedDigest.sha256,
      compression: options.gzip ? 'gzip' : 'none',
      db: { bytes: dbDigest.bytes, sha256: dbDigest.sha256 },
      check: { level: check.level, ok: check.ok, durationMs: Math.round(check.durationMs) },
      walFrames: snap.walFrames,
      recoveredHotJournal: snap.recoveredHotJournal,
      lifeboatVersion: VERSION,
      hostname: hostname(),
      ...(options.jobId ? { jobId: options.jobId } : {}),
    };
    // Manifest first: a backup file under its final name then always has its manifest.
    await writeManifest(manifestPathFor(finalPath), manifest);
    await rename(stored, finalPath);
    await fsyncDir(dest);

    return {
      file: finalPath,
      manifest: manifestPathFor(finalPath),
      bytes: storedDigest.bytes,
      sha256: storedDigest.sha256,
      durationMs: Math.round(performance.now() - started),
      check: manifest.check,
      journalMode: snap.journalMode,
      compression: manifest.compression,
      snapshotAt: manifest.snapshotAt,
      dbBytes: dbDigest.bytes,
      walFrames: snap.walFrames,
      readTxnMs: Math.round(snap.readTxnMs),
      recoveredHotJournal: snap.recoveredHotJournal,
      attempts: taken.attempts,
      quiet: taken.quiet.quiet,
      waitedMs: taken.quiet.waitedMs,
      staleTempsRemoved,
      timings: { waitMs: taken.quiet.waitedMs, snapshotMs: Math.round(taken.snapshotMs), syncMs, checkMs, hashMs, compressMs },
    };
  } catch (err) {
    await Promise.all(temps.map((t) => rm(t, { force: true }).catch(() => {})));
    throw toLifeboatError(err, db, dest);
  }
}

interface Taken {
  snapshot: SnapshotResult;
  snapshotAt: Date;
  attempts: number;
  quiet: QuietResult;
  snapshotMs: number;
}

function isBusyError(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
  return code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED');
}

async function snapshotWithRetries(db: string, rawTmp: string, options: BackupOptions, onProgress: ProgressFn, deps: BackupDeps): Promise<Taken> {
  const { attempts, initialDelayMs, maxDelayMs } = options.retry;
  let delay = initialDelayMs;
  let lastReason = '';
  const firstTry = Date.now();
  for (let attempt = 1; attempt <= attempts; attempt++) {
    onProgress({ phase: 'waiting', attempt, message: attempt === 1 ? 'waiting for a quiet moment' : `attempt ${attempt} of ${attempts}` });
    const src = SourceDb.open(db, options.busyTimeoutMs);
    try {
      const probe = src.tryRead();
      if (!probe.ok && probe.reason === 'hot-journal') {
        const snapshotAt = deps.now();
        const t0 = performance.now();
        const snapshot = await snapshotHotJournal(src, rawTmp);
        return { snapshot, snapshotAt, attempts: attempt, quiet: { quiet: false, waitedMs: 0 }, snapshotMs: performance.now() - t0 };
      }
      if (!probe.ok) throw Object.assign(new Error(probe.detail), { code: 'SQLITE_BUSY' });
      const family = src.journalFamily();
      const quiet = await waitForQuiet(src, family, options.quietMs, options.maxWaitMs, deps.sleep);
      onProgress({ phase: 'copying', done: 0, total: 0, attempt });
      const snapshotAt = deps.now();
      const progress = (done: number, total: number): void => onProgress({ phase: 'copying', done, total, attempt });
      const t0 = performance.now();
      const snapshot = family === 'wal' ? await snapshotWal(src, rawTmp, progress) : await snapshotRollback(src, rawTmp, progress);
      return { snapshot, snapshotAt, attempts: attempt, quiet, snapshotMs: performance.now() - t0 };
    } catch (err) {
      if (!(err instanceof SnapshotRaced) && !isBusyError(err)) throw err;
      lastReason = err instanceof SnapshotRaced ? err.message : 'locked by another program';
      await rm(rawTmp, { force: true });
      await rm(`${rawTmp}-journal`, { force: true });
    } finally {
      src.close();
    }
    if (attempt < attempts) {
      onProgress({ phase: 'waiting', attempt, message: `database busy (${lastReason}); next try in ${(delay / 1000).toFixed(1)} s` });
      await deps.sleep(delay);
      delay = Math.min(delay * 2, maxDelayMs);
    }
  }
  const seconds = ((Date.now() - firstTry) / 1000).toFixed(1);
  throw new LifeboatError('busy', `The database ${db} stayed busy through ${attempts} attempts over ${seconds} s (${lastReason}).`,
    'Another program keeps it locked; try again later, or close the POS app (or whatever else has the database open) and try again.');
}

async function ensureDestination(dest: string): Promise<void> {
  try {
    const st = await stat(dest);
    if (!st.isDirectory()) throw new LifeboatError('destination', `${dest} is a file, not a folder.`, 'Point --dest at a folder.');
    await probeWritable(dest);
    return;
  } catch (err) {
    if (err instanceof LifeboatError) throw err;
    if (errnoCode(err) !== 'ENOENT') throw destinationError(err, dest);
  }
  // Create the backup folder itself, but not a missing drive or share above it: backups written
  // to a stand-in folder on the local disk would look like off-site copies and be lost with it.
  if (!existsSync(dirname(dest))) {
    throw new LifeboatError('destination', `The backup folder ${dest} does not exist, and neither does ${dirname(dest)}.`,
      'Check that the drive or network share is connected, or create the folder first.');
  }
  try {
    await mkdir(dest);
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw destinationError(err, dest);
  }
  await probeWritable(dest);
}

/** Fails fast, before the live database is touched, when the destination cannot take a file. */
async function probeWritable(dest: string): Promise<void> {
  const probe = join(dest, tempName('write-probe'));
  try {
    await writeFile(probe, '', { flag: 'wx' });
  } catch (err) {
    throw destinationError(err, dest);
  } finally {
    await rm(probe, { force: true }).catch(() => {});
  }
}

/** Only feeds the free-space estimate, so a writer changing it meanwhile does no harm. */
function walSize(db: string): number {
  try {
    return statSync(`${db}-wal`).size;
  } catch {
    return 0;
  }
}

async function checkFreeSpace(dest: string, sourceBytes: number, gzip: boolean): Promise<void> {
  let free: number;
  try {
    const s = await statfs(dest);
    free = Number(s.bavail) * Number(s.bsize);
  } catch {
    return; // Not every file system reports free space; a real shortage still fails the write.
  }
  const needed = Math.ceil(sourceBytes * (gzip ? 1.6 : 1.0)) + (1 << 20);
  if (free < needed) {
    throw new LifeboatError('destination',
      `The backup folder ${dest} is full: the backup needs about ${formatBytes(needed)}, only ${formatBytes(free)} is free.`,
      'Free some space there or choose another destination; nothing was changed in the existing backups.');
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

function toLifeboatError(err: unknown, db: string, dest: string): LifeboatError {
  if (err instanceof LifeboatError) return err;
  const path = typeof err === 'object' && err !== null && 'path' in err ? String((err as { path: unknown }).path) : '';
  const code = errnoCode(err);
  // Lifeboat never writes to the source, so a full or read-only disk is always the destination's
  // (stream errors carry no path to tell by).
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EROFS') return destinationError(err, dest);
  if (code && path.startsWith(dest)) return destinationError(err, dest);
  if (typeof err === 'object' && err !== null && 'code' in err && String((err as { code: unknown }).code).startsWith('SQLITE_')) {
    return classifyOpenError(err, db);
  }
  const message = err instanceof Error ? err.message : String(err);
  return new LifeboatError('internal', `Backup of ${db} failed unexpectedly: ${message}`,
    'Please report this with the log; earlier backups are untouched.', { cause: err });
}
