import { constants as fsConstants } from 'node:fs';
import { copyFile, open, rm, stat } from 'node:fs/promises';
import Database from 'better-sqlite3';
import { FLUSH_EVERY, copyRange, fileExists, writeFully, type ByteProgress } from './file-ops.js';
import { setFileFormat } from './sqlite-header.js';
import { SourceDb, type JournalFamily } from './source-db.js';
import { readFramePage, readWalIndex } from './wal-reader.js';

/** The source changed under a snapshot in a way that makes this attempt unusable; try again. */
export class SnapshotRaced extends Error {}

export interface SnapshotResult {
  journalMode: JournalFamily;
  pageSize: number;
  pages: number;
  bytes: number;
  /** Committed WAL frames folded into the copy. */
  walFrames: number;
  /** How long Lifeboat held a lock or read transaction on the live database. */
  readTxnMs: number;
  /** True when a crashed writer's hot journal was rolled back in the private copy. */
  recoveredHotJournal: boolean;
}

/**
 * Rollback-journal mode: a SHARED lock keeps every writer out, so a straight copy of the file is
 * one committed state. The POS app's next commit waits for the lock, so the lock is held for the
 * copy alone: no fsync, no hashing, no checking while it is held.
 */
export async function snapshotRollback(src: SourceDb, outPath: string, onProgress?: ByteProgress): Promise<SnapshotResult> {
  const started = performance.now();
  const { pageSize, pageCount } = src.beginRead();
  const bytes = pageCount * pageSize;
  onProgress?.(0, bytes);
  try {
    // copy_file_range in the kernel: the fastest copy there is, and the POS app waits for all of it.
    await copyFile(src.path, outPath, fsConstants.COPYFILE_EXCL);
  } finally {
    src.endRead();
  }
  const readTxnMs = performance.now() - started;
  const out = await open(outPath, 'r+');
  try {
    const size = (await out.stat()).size;
    if (size < bytes) throw new SnapshotRaced(`database file shorter than its ${pageCount} pages`);
    if (size > bytes) await out.truncate(bytes);
  } finally {
    await out.close();
  }
  onProgress?.(bytes, bytes);
  return { journalMode: 'rollback', pageSize, pages: pageCount, bytes, walFrames: 0, readTxnMs, recoveredHotJournal: false };
}

/**
 * WAL mode: an open read transaction pins one committed state and keeps checkpoints from copying
 * WAL frames past it into the database file, and the log from being restarted. Copying the file
 * and then laying every committed WAL frame over it gives one consistent state (that of the log's
 * last commit) at file-copy speed, while the POS app goes on committing; the stock backup API
 * instead restarts on every commit and never finishes under a busy till.
 */
export async function snapshotWal(src: SourceDb, outPath: string, onProgress?: ByteProgress): Promise<SnapshotResult> {
  const out = await open(outPath, 'wx+');
  try {
    const started = performance.now();
    const { pageSize, pageCount } = src.beginRead();
    let pages: number;
    let walFrames: number;
    try {
      const input = await open(src.path, 'r');
      try {
        const fileSize = (await input.stat()).size;
        await copyRange(input, out, fileSize, onProgress, { flushEveryBytes: FLUSH_EVERY });
      } finally {
        await input.close();
      }
      // Read the log only after the copy: every frame a checkpoint could have copied into the
      // file while we read it is then in the index, and is laid over what we copied.
      const index = await readWalIndex(`${src.path}-wal`, pageSize);
      pages = index.committedFrames > 0 ? index.dbPages : pageCount;
      walFrames = index.committedFrames;
      if (index.pages.size > 0) {
        const wal = await open(`${src.path}-wal`, 'r');
        try {
          const page = Buffer.alloc(pageSize);
          const order = [...index.pages.keys()].filter((p) => p <= pages).sort((a, b) => a - b);
          for (const pgno of order) {
            const ref = index.pages.get(pgno);
            if (!ref || !(await readFramePage(wal, ref, pageSize, page))) {
              throw new SnapshotRaced('the write-ahead log was restarted during the copy');
            }
            await writeFully(out, page, pageSize, (pgno - 1) * pageSize);
          }
        } finally {
          await wal.close();
        }
      }
    } finally {
      src.endRead();
    }
    const readTxnMs = performance.now() - started;
    await out.truncate(pages * pageSize);
    // Store the backup as a self-contained rollback-format file; restore puts WAL format back.
    const header = Buffer.alloc(100);
    await out.read(header, 0, 100, 0);
    setFileFormat(header, 1);
    await writeFully(out, header, 100, 0);
    onProgress?.(pages * pageSize, pages * pageSize);
    return { journalMode: 'wal', pageSize, pages, bytes: pages * pageSize, walFrames, readTxnMs, recoveredHotJournal: false };
  } finally {
    await out.close();
  }
}

async function fileIdentity(path: string): Promise<string> {
  try {
    const s = await stat(path, { bigint: true });
    return `${s.ino}:${s.size}:${s.mtimeNs}`;
  } catch {
    return 'missing';
  }
}

/**
 * A writer crashed mid-transaction and left a hot journal. Lifeboat may not roll it back in the
 * live database (that is a write, and the POS app will do it when it next opens the database), so
 * it copies the database and the journal side by side and lets SQLite roll back the private copy:
 * the result is the last committed state. If either file changes while they are copied, the POS
 * app is recovering right now and the attempt is repeated.
 */
export async function snapshotHotJournal(src: SourceDb, outPath: string): Promise<SnapshotResult> {
  const journal = `${src.path}-journal`;
  const before = [await fileIdentity(src.path), await fileIdentity(journal)];
  const outJournal = `${outPath}-journal`;
  try {
    await copyFile(journal, outJournal);
    await copyFile(src.path, outPath);
    const after = [await fileIdentity(src.path), await fileIdentity(journal)];
    const stillHot = src.tryRead();
    if (before.join() !== after.join() || stillHot.ok || stillHot.reason !== 'hot-journal') {
      throw new SnapshotRaced('the database was being recovered while it was copied');
    }
    const copy = new Database(outPath, { fileMustExist: true });
    let pageSize: number;
    let pages: number;
    try {
      copy.prepare('SELECT count(*) FROM sqlite_master').pluck().get();
      copy.pragma('journal_mode = DELETE');
      pageSize = Number(copy.pragma('page_size', { simple: true }));
      pages = Number(copy.pragma('page_count', { simple: true }));
    } finally {
      copy.close();
    }
    if (await fileExists(outJournal)) throw new SnapshotRaced('SQLite did not roll back the copied journal');
    return { journalMode: 'rollback', pageSize, pages, bytes: pageSize * pages, walFrames: 0, readTxnMs: 0, recoveredHotJournal: true };
  } catch (err) {
    await rm(outJournal, { force: true });
    throw err;
  }
}
