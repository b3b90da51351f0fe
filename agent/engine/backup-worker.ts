import { parentPort, workerData } from 'node:worker_threads';
import type { BackupOptions, BackupProgress } from './backup-options.js';
import { backupDatabase } from './backup.js';
import { LifeboatError } from './errors.js';

/**
 * Runs one backup on a worker thread: the integrity check and hashing are long synchronous
 * stretches that would otherwise freeze the agent's tray, IPC and timers.
 */
const port = parentPort;
if (!port) throw new Error('backup-worker must run as a worker thread');

const PROGRESS_INTERVAL_MS = 100;
let lastSent = 0;
let lastPhase = '';
function progress(p: BackupProgress): void {
  const now = Date.now();
  // Phase changes always go through; byte counts at most ten times a second.
  if (p.phase === lastPhase && now - lastSent < PROGRESS_INTERVAL_MS && p.done !== p.total) return;
  lastSent = now;
  lastPhase = p.phase;
  port?.postMessage({ type: 'progress', progress: p });
}

backupDatabase(workerData as BackupOptions, progress).then(
  (result) => port.postMessage({ type: 'result', result }),
  (err: unknown) => {
    const e = err instanceof LifeboatError
      ? err.toJSON()
      : { kind: 'internal', message: err instanceof Error ? err.message : String(err), hint: 'Please report this with the log.' };
    port.postMessage({ type: 'error', error: e });
  },
);
