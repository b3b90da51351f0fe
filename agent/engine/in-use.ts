import { readdir, readlink, readFile, stat } from 'node:fs/promises';
import Database from 'better-sqlite3';
import { journalActive } from './quiet-wait.js';
import { classifyHeader, readHeader } from './sqlite-header.js';

/**
 * Reasons to think another program has the database at PATH open. Restoring over a database in
 * use would have that program keep writing into the old file, or replay its old WAL into the new
 * one, so restore refuses while any reason stands (unless forced).
 */
export async function inUseReasons(path: string): Promise<string[]> {
  const reasons: string[] = [];
  const walSize = await sizeOf(`${path}-wal`);
  if (walSize > 0) reasons.push(`it has a write-ahead log (${path}-wal) with ${walSize} bytes, so a program has it open or was not closed cleanly`);
  if (await journalActive(path)) reasons.push(`it has a transaction journal (${path}-journal): a program is writing to it or crashed mid-write`);
  reasons.push(...(await openByProcesses(path)));
  if (reasons.length === 0 && (await isRollbackFormat(path)) && lockedByOthers(path)) {
    reasons.push('another program holds a lock on it');
  }
  return reasons;
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function isRollbackFormat(path: string): Promise<boolean> {
  try {
    const info = classifyHeader(await readHeader(path));
    return info.kind === 'sqlite' && !info.walFormat;
  } catch {
    return false;
  }
}

/** Only asked when there is no journal, so opening read-write cannot trigger a rollback here. */
function lockedByOthers(path: string): boolean {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { fileMustExist: true, timeout: 0 });
    db.exec('BEGIN EXCLUSIVE');
    db.exec('ROLLBACK');
    return false;
  } catch (err) {
    const code = String((err as { code?: unknown }).code ?? '');
    return code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED');
  } finally {
    db?.close();
  }
}

/** Linux: the processes that hold the file open, from /proc (other platforms rely on the checks above). */
async function openByProcesses(path: string): Promise<string[]> {
  if (process.platform !== 'linux') return [];
  const targets = new Set([path, `${path}-wal`, `${path}-journal`]);
  const found: string[] = [];
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid);
  } catch {
    return [];
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = await readdir(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = await readlink(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (targets.has(link)) {
        const comm = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '?')).trim();
        found.push(`process ${pid} (${comm}) has it open`);
        break;
      }
    }
  }
  return found;
}
