import type { BackupOptions } from './backup-options.js';
import { LifeboatError } from './errors.js';

const CHECKS = ['quick', 'full', 'none'];

/** Refuses option values that make no sense, naming the option and what would be right. */
export function validateBackupOptions(o: BackupOptions): void {
  const bad = (what: string, hint: string): never => {
    throw new LifeboatError('usage', `Invalid ${what}.`, hint);
  };
  if (!o.db) bad('database path (empty)', 'Give the database file with --db PATH.');
  if (!o.dest) bad('destination (empty)', 'Give the backup folder with --dest DIR.');
  if (!CHECKS.includes(o.check)) bad(`check level "${o.check}"`, 'Use quick, full or none.');
  const nonNegative: Array<[string, number]> = [
    ['quiet period', o.quietMs], ['maximum wait', o.maxWaitMs], ['busy timeout', o.busyTimeoutMs],
    ['retry delay', o.retry.initialDelayMs], ['maximum retry delay', o.retry.maxDelayMs],
  ];
  for (const [name, v] of nonNegative) {
    if (!Number.isFinite(v) || v < 0) bad(`${name} (${v})`, `The ${name} must be a number of seconds, 0 or more.`);
  }
  if (!Number.isInteger(o.retry.attempts) || o.retry.attempts < 1 || o.retry.attempts > 100) {
    bad(`number of attempts (${o.retry.attempts})`, 'Use a whole number from 1 to 100.');
  }
}
