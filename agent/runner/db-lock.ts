import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import lockfile from 'proper-lockfile';
import { LifeboatError } from '../engine/errors.js';

/**
 * One backup of a database at a time, across processes: the agent and a `lifeboat backup` run
 * from a script or the OS scheduler take the same lock under LIFEBOAT_HOME/locks. The lock is a
 * directory whose time stamp the holder refreshes; a crashed holder's lock goes stale after 30 s.
 */
export async function lockDatabase(home: string, dbPath: string, onCompromised: (err: Error) => void = () => {}): Promise<() => Promise<void>> {
  const dir = join(home, 'locks');
  mkdirSync(dir, { recursive: true });
  const abs = resolve(dbPath);
  const lockPath = join(dir, `${createHash('sha256').update(abs).digest('hex').slice(0, 16)}.lock`);
  try {
    return await lockfile.lock(abs, { lockfilePath: lockPath, realpath: false, stale: 30_000, update: 10_000, retries: 0, onCompromised });
  } catch (err) {
    if ((err as { code?: string }).code === 'ELOCKED') {
      throw new LifeboatError('busy', `Another Lifeboat backup of ${abs} is running right now (the agent or a script).`,
        'Wait for it to finish and try again; `lifeboat status` shows what the agent is doing.');
    }
    throw err;
  }
}
