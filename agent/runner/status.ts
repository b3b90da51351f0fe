import type { Job } from '../config/job.js';
import { isPaused } from '../schedule/catch-up.js';
import { nextRunOrNull } from '../schedule/cron.js';
import type { History } from './history.js';

export interface JobStatus {
  id: string;
  name: string;
  db: string;
  schedule: string;
  state: 'running' | 'queued' | 'idle' | 'paused';
  /** Paused right now (switched off, or a timed pause that has not ended). */
  paused: boolean;
  /** When the pause ends, 'indefinitely' until resumed by hand; null when not paused (a past end is not a pause). */
  pausedUntil: string | null;
  lastSuccess: { at: string; file: string | null } | null;
  lastFailure: { at: string; reason: string | null } | null;
  /** Milliseconds since the last good backup (null: never). */
  sinceLastSuccessMs: number | null;
  nextRun: string | null;
  /** Over the last 30 days. */
  successRate: { success: number; total: number };
  /** Copies to other destinations that failed and wait for the next run. */
  pendingUploads: number;
  /** Warnings of the last good run (copies or pruning that failed). */
  warnings: string[];
}

export interface StatusReport {
  agent: { running: boolean; pid?: number; startedAt?: string; version?: string; schedulerTicks?: number; rssBytes?: number };
  config: { path: string; problem: string | null; usingLastGood: boolean };
  jobs: JobStatus[];
}

const DAY = 86_400_000;

function pendingCount(history: History | null, jobId: string): number {
  try {
    return history?.pendingUploads(jobId).length ?? 0;
  } catch {
    return 0; // A history file from before uploads were tracked, opened read-only.
  }
}

/** The same report whether the agent builds it live or the CLI reads config and history itself. */
export function jobStatuses(jobs: Job[], history: History | null, now: number, live?: { running: string | null; queued: string[]; next: Map<string, Date | null> }): JobStatus[] {
  return jobs.map((job) => {
    const ok = history?.lastOf(job.id, 'success') ?? null;
    const bad = history?.lastOf(job.id, 'failure') ?? null;
    const paused = isPaused(job, now);
    const state = live?.running === job.id ? 'running' : live?.queued.includes(job.id) ? 'queued' : paused ? 'paused' : 'idle';
    const next = paused ? null : (live?.next.get(job.id) ?? nextRunOrNull(job.schedule.cron, job.schedule.timezone, new Date(now)));
    return {
      id: job.id,
      name: job.name,
      db: job.db,
      schedule: `${job.schedule.label ?? job.schedule.cron}${job.schedule.timezone ? ` (${job.schedule.timezone})` : ''}`,
      state,
      paused,
      pausedUntil: !paused ? null : job.enabled ? job.pausedUntil : 'indefinitely',
      lastSuccess: ok ? { at: ok.startedAt, file: ok.file } : null,
      lastFailure: bad ? { at: bad.startedAt, reason: bad.reason } : null,
      sinceLastSuccessMs: ok ? now - Date.parse(ok.startedAt) : null,
      nextRun: next ? next.toISOString() : null,
      successRate: history ? history.successRate(job.id, now - 30 * DAY) : { success: 0, total: 0 },
      pendingUploads: pendingCount(history, job.id),
      warnings: ok?.warnings ?? [],
    };
  });
}

/** "just now", "12 min ago", "3 h ago", "5 days ago": for the status line, the tray and the CLI. */
export function ago(ms: number): string {
  const m = Math.floor(ms / 60_000);
  if (m < 1) return 'just now';
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.floor(h / 24)} days ago`;
}
