import Database from 'better-sqlite3';
import { LifeboatError } from './errors.js';

export type JournalFamily = 'wal' | 'rollback';

/** What opening the live database and reading from it told us. */
export type ReadOutcome = { ok: true } | { ok: false; reason: 'busy' | 'hot-journal'; detail: string };

function sqliteCode(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
}

/**
 * A read-only connection to the POS app's live database. Read-only matters: such a connection
 * cannot roll back a hot journal, cannot checkpoint or delete the WAL on close, and cannot change
 * any persistent setting, so Lifeboat can never write to the source even through a bug.
 */
export class SourceDb {
  readonly db: Database.Database;
  private inTransaction = false;

  private constructor(db: Database.Database, readonly path: string) {
    this.db = db;
  }

  static open(path: string, busyTimeoutMs: number): SourceDb {
    try {
      return new SourceDb(new Database(path, { readonly: true, fileMustExist: true, timeout: busyTimeoutMs }), path);
    } catch (err) {
      throw classifyOpenError(err, path);
    }
  }

  /** A small read that needs the same lock a snapshot needs; tells busy and hot journal apart. */
  tryRead(): ReadOutcome {
    try {
      this.db.prepare('SELECT count(*) FROM sqlite_master').pluck().get();
      return { ok: true };
    } catch (err) {
      return this.classifyReadError(err);
    }
  }

  classifyReadError(err: unknown): { ok: false; reason: 'busy' | 'hot-journal'; detail: string } {
    const code = sqliteCode(err);
    if (code === 'SQLITE_READONLY_ROLLBACK') return { ok: false, reason: 'hot-journal', detail: (err as Error).message };
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return { ok: false, reason: 'busy', detail: (err as Error).message };
    throw classifyOpenError(err, this.path);
  }

  journalFamily(): JournalFamily {
    const mode = String(this.db.pragma('journal_mode', { simple: true })).toLowerCase();
    return mode === 'wal' ? 'wal' : 'rollback';
  }

  /** Changes whenever another connection commits (https://sqlite.org/pragma.html#pragma_data_version). */
  dataVersion(): number {
    return Number(this.db.pragma('data_version', { simple: true }));
  }

  /**
   * Starts a read transaction and returns the snapshot's size. In WAL mode this pins one
   * committed state and blocks nobody; in rollback mode it holds a SHARED lock, which makes the
   * POS app's next commit wait until endRead().
   */
  beginRead(): { pageSize: number; pageCount: number } {
    this.db.exec('BEGIN');
    this.inTransaction = true;
    try {
      this.db.prepare('SELECT count(*) FROM sqlite_master').pluck().get();
      const pageSize = Number(this.db.pragma('page_size', { simple: true }));
      const pageCount = Number(this.db.pragma('page_count', { simple: true }));
      return { pageSize, pageCount };
    } catch (err) {
      this.endRead();
      throw err;
    }
  }

  endRead(): void {
    if (!this.inTransaction) return;
    this.inTransaction = false;
    this.db.exec('COMMIT');
  }

  close(): void {
    try {
      this.endRead();
    } finally {
      this.db.close();
    }
  }
}

export function classifyOpenError(err: unknown, path: string): LifeboatError {
  if (err instanceof LifeboatError) return err;
  const code = sqliteCode(err);
  const msg = err instanceof Error ? err.message : String(err);
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return new LifeboatError('check', `The database ${path} is damaged (SQLite says: ${msg}).`,
      'Keep the existing backups; stop the POS app and restore the newest good backup, or ask the POS vendor for help.', { cause: err });
  }
  if (code.startsWith('SQLITE_CANTOPEN') || code === 'SQLITE_PERM' || code === 'SQLITE_AUTH') {
    return new LifeboatError('source', `The database ${path} cannot be opened (SQLite says: ${msg}).`,
      'Check that this user may read the database and its folder (SQLite also needs its -wal/-shm files in WAL mode).', { cause: err });
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return new LifeboatError('source', `The database ${path} is in WAL mode and this user cannot read it: SQLite must create or write ${path}-shm even to read.`,
      'Run Lifeboat as the same user as the POS app, or give this user write access to the database\'s folder.', { cause: err });
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new LifeboatError('busy', `The database ${path} is locked by another program.`,
      'Try again later; if it stays locked, close the POS app and try again.', { cause: err });
  }
  return new LifeboatError('source', `The database ${path} cannot be read (SQLite says: ${msg}).`, 'Check the path and try again.', { cause: err });
}
