import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { copyFile, mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createPosDatabase } from '../agent/demo/pos-schema.js';
import { BENCH_DIR, WORK_DIR } from './paths.js';
import type { BenchMode, DatasetInfo } from './types.js';

const log = (line: string): void => { process.stderr.write(`[bench] ${line}\n`); };

interface CacheMeta {
  sizeMb: number;
  bytes: number;
  invoices: number;
}

const pristinePath = (sizeMb: number, mode: BenchMode): string => join(BENCH_DIR, `pos-${sizeMb}mb-${mode}.sqlite`);

function readMeta(path: string, sizeMb: number): CacheMeta | null {
  try {
    const meta = JSON.parse(readFileSync(`${path}.json`, 'utf8')) as Partial<CacheMeta>;
    if (meta.sizeMb !== sizeMb || typeof meta.bytes !== 'number' || typeof meta.invoices !== 'number') return null;
    // A file of another size than recorded was touched by hand or by a crashed run: rebuild it.
    if (!existsSync(path) || statSync(path).size !== meta.bytes) return null;
    return { sizeMb, bytes: meta.bytes, invoices: meta.invoices };
  } catch {
    return null;
  }
}

/** Half-built files of an interrupted run; they would otherwise pile up at 1 GiB each. */
function removeStaleTemps(): void {
  if (!existsSync(BENCH_DIR)) return;
  for (const name of readdirSync(BENCH_DIR)) {
    if (name.includes('.tmp-')) rmSync(join(BENCH_DIR, name), { force: true });
  }
}

function buildRollback(path: string, sizeMb: number): CacheMeta {
  const tmp = `${path}.tmp-${process.pid}`;
  const target = sizeMb * 1024 * 1024;
  let nextReport = 0.1;
  const started = performance.now();
  const stats = createPosDatabase(tmp, target, 'delete', (bytes) => {
    if (bytes / target < nextReport) return;
    log(`  generating: ${Math.min(100, Math.round((100 * bytes) / target))}% (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    nextReport += 0.1;
  });
  return finish(tmp, path, { sizeMb, bytes: stats.bytes, invoices: stats.invoices });
}

/**
 * The WAL database is the rollback one switched to WAL, which is exactly what createPosDatabase()
 * does after filling it, so there is no need to spend another minute generating the same rows.
 */
async function deriveWal(rollback: string, path: string, meta: CacheMeta): Promise<CacheMeta> {
  const tmp = `${path}.tmp-${process.pid}`;
  await copyFile(rollback, tmp);
  const db = new Database(tmp);
  try {
    db.pragma('journal_mode = WAL');
  } finally {
    db.close(); // The last connection checkpoints and removes the -wal file: a clean WAL database.
  }
  return finish(tmp, path, { ...meta, bytes: statSync(tmp).size });
}

function finish(tmp: string, path: string, meta: CacheMeta): CacheMeta {
  // The metadata is written last, so a cached file counts only once it is complete and renamed.
  rmSync(`${tmp}-journal`, { force: true });
  rmSync(`${path}.json`, { force: true });
  renameSync(tmp, path);
  writeFileSync(`${path}.json`, JSON.stringify(meta));
  return meta;
}

/** Returns the cached pristine database for SIZE_MB and MODE, generating it on the first run. */
export async function ensureDataset(sizeMb: number, mode: BenchMode): Promise<DatasetInfo> {
  await mkdir(BENCH_DIR, { recursive: true });
  removeStaleTemps();
  const path = pristinePath(sizeMb, mode);
  let meta = readMeta(path, sizeMb);
  if (meta) {
    log(`using cached ${path}`);
  } else if (mode === 'delete') {
    log(`generating a ${sizeMb} MiB POS-like database (about 75 s per GiB), cached as ${path}`);
    meta = buildRollback(path, sizeMb);
  } else {
    const base = await ensureDataset(sizeMb, 'delete');
    log(`deriving the WAL database from ${base.path}`);
    meta = await deriveWal(base.path, path, { sizeMb, bytes: base.bytes, invoices: base.invoices });
  }
  return { mode, path, bytes: meta.bytes, invoices: meta.invoices };
}

export interface WorkCopy {
  /** The database the measured command and the writer use. */
  db: string;
  /** An empty folder for the backup. */
  outDir: string;
}

/**
 * A fresh copy of the pristine file for one measurement, so a writer's earlier commits never
 * make later measurements copy a bigger file. It is flushed first, so the kernel is not writing
 * it back during the timing, and read once, so every method starts from a warm page cache.
 */
export async function prepareWorkCopy(pristine: string): Promise<WorkCopy> {
  await removeWork();
  await mkdir(join(WORK_DIR, 'out'), { recursive: true });
  const db = join(WORK_DIR, 'pos.sqlite');
  await copyFile(pristine, db);
  const fh = await open(db, 'r+');
  try {
    await fh.sync();
    const buf = Buffer.allocUnsafe(8 << 20);
    let pos = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
    }
  } finally {
    await fh.close();
  }
  // And anything else still dirty (the previous run's deleted output, a freshly generated cache
  // file): background writeback during a timing would slow whichever method it hits.
  execFileSync('sync');
  return { db, outDir: join(WORK_DIR, 'out') };
}

/** Removes the work copy, its -wal/-shm/-journal and every backup made of it. */
export async function removeWork(): Promise<void> {
  await rm(WORK_DIR, { recursive: true, force: true });
}

/** For exit paths, where nothing asynchronous runs any more. */
export function removeWorkSync(): void {
  rmSync(WORK_DIR, { recursive: true, force: true });
}
