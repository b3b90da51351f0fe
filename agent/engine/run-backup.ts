import { Worker } from 'node:worker_threads';
import type { BackupOptions, BackupProgress, BackupResult } from './backup-options.js';
import { LifeboatError, fromSerialized, type SerializedError } from './errors.js';

type WorkerMessage =
  | { type: 'progress'; progress: BackupProgress }
  | { type: 'result'; result: BackupResult }
  | { type: 'error'; error: SerializedError };

/** Runs backupDatabase() on a worker thread and relays its progress; the caller's event loop stays free. */
export function runBackup(options: BackupOptions, onProgress: (p: BackupProgress) => void = () => {}): Promise<BackupResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./backup-worker.js', import.meta.url), { workerData: options });
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      fn();
    };
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'progress') onProgress(m.progress);
      else if (m.type === 'result') settle(() => resolve(m.result));
      else settle(() => reject(fromSerialized(m.error)));
    });
    worker.on('error', (err) => settle(() => reject(new LifeboatError('internal', `The backup worker crashed: ${err.message}`, 'Please report this with the log; earlier backups are untouched.', { cause: err }))));
    worker.on('exit', (code) => settle(() => reject(new LifeboatError('internal', `The backup worker stopped (exit code ${code}) without a result.`, 'Please report this with the log; earlier backups are untouched.'))));
  });
}
