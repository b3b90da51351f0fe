import { previousRun } from './cron.js';

export interface CatchUpJob {
  id: string;
  schedule: { cron: string; timezone?: string };
  createdAt: string;
  enabled: boolean;
  pausedUntil: string | null;
}

/** True while a job is switched off or paused for a while. */
export function isPaused(job: CatchUpJob, now: number): boolean {
  return !job.enabled || (job.pausedUntil !== null && Date.parse(job.pausedUntil) > now);
}

/**
 * A job paused until UNTIL, or until resumed when UNTIL is null. A timed pause replaces an
 * indefinite one: the person said when backups should start again.
 */
export function pausedJob<J extends CatchUpJob>(job: J, until: Date | null): J {
  return until ? { ...job, enabled: true, pausedUntil: until.toISOString() } : { ...job, enabled: false };
}

/**
 * A job resumed at NOW. Only a job that is paused is touched: moving pausedUntil on a running job
 * would cancel its pending catch-up. The end of a pause also ends what it skipped: runs missed
 * during it are not caught up on.
 */
export function resumedJob<J extends CatchUpJob>(job: J, now: number): J {
  return isPaused(job, now) ? { ...job, enabled: true, pausedUntil: new Date(now).toISOString() } : job;
}

/**
 * The scheduled time a job missed, if any: its newest occurrence at or before NOW that came after
 * everything that already covers it (its last successful run, its creation, the end of a pause).
 * However many occurrences were missed, there is at most one, so a catch-up runs once.
 */
export function missedOccurrence(job: CatchUpJob, lastSuccessAt: number | null, now: number): Date | null {
  if (isPaused(job, now)) return null;
  const prev = previousRun(job.schedule.cron, job.schedule.timezone, new Date(now));
  if (!prev) return null;
  const covered = Math.max(
    Date.parse(job.createdAt),
    lastSuccessAt ?? Number.NEGATIVE_INFINITY,
    job.pausedUntil ? Date.parse(job.pausedUntil) : Number.NEGATIVE_INFINITY,
  );
  return prev.getTime() > covered ? prev : null;
}
