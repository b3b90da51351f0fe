import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { lifeboatHome } from '../config/paths.js';
import { LifeboatError } from '../engine/errors.js';
import { History } from '../runner/history.js';
import { lockDatabase } from '../runner/db-lock.js';
import { DEFAULT_BACKUP_OPTIONS, type BackupOptions, type BackupResult } from '../engine/backup-options.js';
import { formatBytes } from '../engine/backup.js';
import type { CheckLevel } from '../engine/integrity.js';
import { runBackup } from '../engine/run-backup.js';
import { printJson, progressReporter, reportError, say } from './output.js';
import { parseAttempts, parseCheck, parseSeconds } from './parse.js';

interface BackupFlags {
  db: string;
  dest: string;
  json?: boolean;
  check: CheckLevel;
  gzip?: boolean;
  maxWait: number;
  quiet: number;
  attempts: number;
  retryDelay: number;
  busyTimeout: number;
}

export function summaryLine(r: BackupResult): string {
  const extras = [
    `${r.check.level === 'none' ? 'not checked' : `${r.check.level} check ok`}`,
    `sha256 ${r.sha256.slice(0, 12)}…`,
    `${r.journalMode === 'wal' ? 'WAL' : 'rollback journal'}`,
    r.recoveredHotJournal ? 'last committed state, a crashed write was left out' : '',
    r.attempts > 1 ? `${r.attempts} attempts` : '',
    `${(r.durationMs / 1000).toFixed(1)} s`,
  ].filter(Boolean);
  return `Backup OK: ${r.file} (${formatBytes(r.bytes)}; ${extras.join(', ')})`;
}

/**
 * Records a headless backup in the run history with trigger "cli", so `status` and `history`
 * see script and OS-scheduler backups too. The history is a record, not the backup: if it
 * cannot be written, the backup still stands and only a warning is printed.
 */
function cliRunRecorder(db: string): { start: () => void; finish: (r: BackupResult | null, err: unknown) => void } {
  let history: History | null = null;
  let runId = 0;
  const warn = (e: unknown): void => say(`lifeboat: warning: could not record this run in the history (${(e as Error).message}).`);
  return {
    start() {
      try {
        history = new History(join(lifeboatHome(), 'history.sqlite'));
        runId = history.start({ jobId: null, db: resolve(db), trigger: 'cli', scheduledFor: null, startedAt: Date.now() });
      } catch (e) {
        warn(e);
        history = null;
      }
    },
    finish(r, err) {
      if (!history) return;
      try {
        if (r) history.finish(runId, { endedAt: Date.now(), outcome: 'success', file: r.file, bytes: r.bytes, sha256: r.sha256, check: `${r.check.level}:ok`, durationMs: r.durationMs });
        else {
          const e = err instanceof LifeboatError ? err : null;
          history.finish(runId, { endedAt: Date.now(), outcome: 'failure', reason: e ? e.toLine() : String(err), errorKind: e?.kind ?? 'internal' });
        }
      } catch (e) {
        warn(e);
      } finally {
        history.close();
        history = null;
      }
    },
  };
}

export function registerBackup(program: Command): void {
  const d = DEFAULT_BACKUP_OPTIONS;
  program
    .command('backup')
    .description('Make one verified backup of a SQLite database, safely while the POS app is writing to it.')
    .requiredOption('--db <path>', 'the database file to back up')
    .requiredOption('--dest <dir>', 'the folder to put the backup in (created if its parent exists)')
    .option('--json', 'print one JSON object with the result on stdout')
    .option('--check <level>', 'check of the copy: quick, full (integrity_check) or none', parseCheck, d.check)
    .option('--gzip', 'store the backup gzip-compressed (.sqlite.gz)')
    .option('--max-wait <seconds>', 'longest wait for a quiet moment before copying anyway', parseSeconds, d.maxWaitMs / 1000)
    .option('--quiet <seconds>', 'how long without a commit counts as a quiet moment (0: do not wait)', parseSeconds, d.quietMs / 1000)
    .option('--attempts <n>', 'attempts in all while the database stays locked', parseAttempts, d.retry.attempts)
    .option('--retry-delay <seconds>', 'first delay between attempts (doubles each time, up to 30 s)', parseSeconds, d.retry.initialDelayMs / 1000)
    .option('--busy-timeout <seconds>', 'how long one attempt waits for a lock', parseSeconds, d.busyTimeoutMs / 1000)
    .action(async (flags: BackupFlags) => {
      const options: BackupOptions = {
        db: flags.db,
        dest: flags.dest,
        check: flags.check,
        gzip: Boolean(flags.gzip),
        quietMs: flags.quiet * 1000,
        maxWaitMs: flags.maxWait * 1000,
        busyTimeoutMs: flags.busyTimeout * 1000,
        retry: { attempts: flags.attempts, initialDelayMs: flags.retryDelay * 1000, maxDelayMs: Math.max(d.retry.maxDelayMs, flags.retryDelay * 1000) },
      };
      const bar = progressReporter(!flags.json && process.stderr.isTTY === true);
      let release: (() => Promise<void>) | undefined;
      const record = cliRunRecorder(options.db);
      try {
        // Never at the same time as the agent's (or another script's) backup of this database.
        release = await lockDatabase(lifeboatHome(), options.db);
        record.start();
        const result = await runBackup(options, bar.update);
        record.finish(result, null);
        bar.stop();
        if (flags.json) printJson({ ok: true, ...result });
        say(summaryLine(result));
        process.exitCode = 0;
      } catch (err) {
        bar.stop();
        record.finish(null, err);
        process.exitCode = reportError(err, Boolean(flags.json));
      } finally {
        await release?.().catch(() => {});
      }
    });
}
