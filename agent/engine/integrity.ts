import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';

export type CheckLevel = 'quick' | 'full' | 'none';

export interface CheckResult {
  level: CheckLevel;
  ok: boolean;
  /** SQLite's own words for what is wrong (at most a few lines). */
  problems: string[];
  durationMs: number;
}

/**
 * Opens a database copy read-only and asks SQLite whether it is sound: `quick_check` (structure,
 * O(N)) by default, `integrity_check` (also indexes against tables) on request.
 */
export function checkDatabase(path: string, level: CheckLevel): CheckResult {
  const started = performance.now();
  if (level === 'none') return { level, ok: true, problems: [], durationMs: 0 };
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    const pragma = level === 'full' ? 'integrity_check(20)' : 'quick_check(20)';
    const rows = db.pragma(pragma) as Array<Record<string, unknown>>;
    // SQLite prefixes the first problem with "*** in database main ***" and a newline; keep one line per problem.
    const lines = rows
      .flatMap((r) => String(Object.values(r)[0]).split('\n'))
      .map((l) => l.trim())
      .filter((l) => l && !/^\*\*\* in database/.test(l));
    const ok = lines.length === 1 && lines[0] === 'ok';
    return { level, ok, problems: ok ? [] : lines.slice(0, 5), durationMs: performance.now() - started };
  } catch (err) {
    return { level, ok: false, problems: [err instanceof Error ? err.message : String(err)], durationMs: performance.now() - started };
  } finally {
    db?.close();
  }
}

/**
 * checkDatabase() on a worker thread: the check reads through SQLite and the hash reads the
 * file, two cores, so doing both at once saves the hash's time (about 1 s per GiB).
 */
export function checkDatabaseInWorker(path: string, level: CheckLevel): Promise<CheckResult> {
  if (level === 'none') return Promise.resolve(checkDatabase(path, level));
  return new Promise((resolve) => {
    const worker = new Worker(new URL('./check-worker.js', import.meta.url), { workerData: { path, level } });
    let done = false;
    worker.once('message', (r: CheckResult) => {
      done = true;
      resolve(r);
    });
    worker.once('error', (err) => {
      done = true;
      resolve({ level, ok: false, problems: [`the check could not run: ${err.message}`], durationMs: 0 });
    });
    worker.once('exit', (code) => {
      if (!done) resolve({ level, ok: false, problems: [`the check stopped (exit code ${code})`], durationMs: 0 });
    });
  });
}
