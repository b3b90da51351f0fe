import type { Destination, Job } from '../config/job.js';
import type { BackupOptions, BackupProgress, BackupResult } from '../engine/backup-options.js';
import { LifeboatError } from '../engine/errors.js';
import { runBackup } from '../engine/run-backup.js';
import type { Trigger } from '../schedule/scheduler.js';
import { copyToDestinations, pruneJob, type CopyContext } from './copies.js';
import { lockDatabase } from './db-lock.js';
import type { History } from './history.js';

export function backupOptionsFor(job: Job): BackupOptions {
  // The type says so, but config.json can be edited by hand: the schema cannot say "first".
  const first: Destination | undefined = job.destinations[0];
  if (!first || first.kind !== 'folder') {
    throw new LifeboatError('config', `The first destination of job ${job.id} must be the local backup folder.`, 'Fix config.json, or set it with `lifeboat job edit ID --dest DIR`.');
  }
  return {
    jobId: job.id,
    db: job.db,
    dest: first.path,
    check: job.check,
    gzip: job.gzip,
    quietMs: job.quietSeconds * 1000,
    maxWaitMs: job.maxWaitSeconds * 1000,
    busyTimeoutMs: job.busyRetry.timeoutSeconds * 1000,
    retry: { attempts: job.busyRetry.attempts, initialDelayMs: job.busyRetry.delaySeconds * 1000, maxDelayMs: 30_000 },
  };
}

export type RunOutcome = { ok: true; runId: number; result: BackupResult; warnings: string[] } | { ok: false; runId: number; error: LifeboatError };

/** Copies to the other destinations, then retention everywhere; both only ever produce warnings. */
async function storeAndPrune(job: Job, file: string, ctx: CopyContext): Promise<string[]> {
  const warnings = await copyToDestinations(job, file, ctx);
  for (const r of await pruneJob(job, ctx, { dryRun: false })) {
    if (r.error) warnings.push(`Pruning ${r.destination} failed: ${r.error}`);
  }
  return warnings;
}

export interface PipelineDeps {
  home: string;
  history: History;
  now: () => number;
  backup?: (o: BackupOptions) => Promise<BackupResult>;
  /** Off-site copies and retention (absent: local backup only, as in tests of scheduling). */
  copies?: CopyContext;
  /** Progress of the running backup (the tray's tooltip). */
  onProgress?: (p: BackupProgress) => void;
}

/** Kinds of failure that may pass by themselves, so a later retry can succeed. */
export function isRetryable(err: LifeboatError): boolean {
  return err.kind === 'busy' || err.kind === 'destination' || err.kind === 'internal';
}

/**
 * The one pipeline every trigger goes through: lock → backup (probe, snapshot, verify, store) →
 * record. Off-site upload, pruning and notifications hook in here, never beside it.
 */
export async function runPipeline(job: Job, trigger: Trigger, scheduledFor: Date | null, deps: PipelineDeps): Promise<RunOutcome> {
  const startedAt = deps.now();
  const runId = deps.history.start({ jobId: job.id, db: job.db, trigger, scheduledFor: scheduledFor?.getTime() ?? null, startedAt });
  let release: (() => Promise<void>) | undefined;
  try {
    release = await lockDatabase(deps.home, job.db);
    const options = backupOptionsFor(job);
    const result = await (deps.backup ? deps.backup(options) : runBackup(options, deps.onProgress));
    // The local backup is made and verified: from here on, failures are warnings, not a failed run.
    const warnings = deps.copies ? await storeAndPrune(job, result.file, { ...deps.copies, onProgress: deps.onProgress }) : [];
    deps.history.finish(runId, {
      endedAt: deps.now(), outcome: 'success', file: result.file, bytes: result.bytes, sha256: result.sha256,
      check: `${result.check.level}:${result.check.ok ? 'ok' : 'failed'}`, durationMs: result.durationMs, warnings,
    });
    return { ok: true, runId, result, warnings };
  } catch (err) {
    const error = err instanceof LifeboatError ? err : new LifeboatError('internal', `Unexpected error: ${(err as Error).message}`, 'Please report this with the log.');
    // Copies still waiting from earlier runs do not need a new snapshot: a locked database must
    // not also hold back the off-site catch-up.
    const warnings = deps.copies ? await copyToDestinations(job, null, { ...deps.copies, onProgress: deps.onProgress }).catch(() => []) : [];
    deps.history.finish(runId, { endedAt: deps.now(), outcome: 'failure', reason: error.toLine(), errorKind: error.kind, durationMs: deps.now() - startedAt, warnings });
    return { ok: false, runId, error };
  } finally {
    await release?.().catch(() => {});
  }
}
