import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { canonicalPath, pathKey } from '../config/paths.js';
import { LifeboatError, errnoCode } from '../engine/errors.js';
import { pidAlive } from '../engine/file-ops.js';

interface Holder {
  pid: number;
  host: string;
  since: string;
}

/**
 * One backup of a database at a time, across processes: the agent and a `lifeboat backup` run
 * from a script or the OS scheduler take the same lock file under LIFEBOAT_HOME/locks. The file
 * names its holder's pid; a holder that is gone (kill -9, power loss) leaves a lock that the next
 * run takes over at once, instead of waiting for a time-out.
 */
export async function lockDatabase(home: string, dbPath: string): Promise<() => Promise<void>> {
  const dir = join(home, 'locks');
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new LifeboatError('config', `Lifeboat's folder ${home} cannot be written (${errnoCode(err) ?? (err as Error).message}).`,
      'Run Lifeboat as the user who owns that folder, or set LIFEBOAT_HOME to a folder this user can write to.');
  }
  // A symlink, a relative path or another spelling of the same database shares one lock.
  const abs = canonicalPath(dbPath);
  const path = join(dir, `${createHash('sha256').update(pathKey(dbPath)).digest('hex').slice(0, 16)}.lock`);
  const me: Holder = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, JSON.stringify({ ...me, db: abs }), { flag: 'wx' });
      return async () => rmSync(path, { force: true });
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
    }
    let holder: Holder | null = null;
    try {
      holder = JSON.parse(readFileSync(path, 'utf8')) as Holder;
    } catch {
      holder = null; // Half-written by a holder that died mid-write: stale.
    }
    if (holder && holder.host === me.host && holder.pid !== me.pid && pidAlive(holder.pid)) {
      throw new LifeboatError('busy', `Another Lifeboat backup of ${abs} is running right now (the agent or a script, pid ${holder.pid}).`,
        'Wait for it to finish and try again; `lifeboat status` shows what the agent is doing.');
    }
    // Stale: rename it away first, so of two processes taking over only one wins.
    try {
      renameSync(path, `${path}.stale-${process.pid}-${attempt}`);
      rmSync(`${path}.stale-${process.pid}-${attempt}`, { force: true });
    } catch {
      // The other one renamed it; the next create decides.
    }
  }
  throw new LifeboatError('busy', `Could not take the backup lock for ${abs}.`, 'Try again in a moment.');
}
