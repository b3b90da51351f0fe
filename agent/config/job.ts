import type { CheckLevel } from '../engine/integrity.js';
import { LifeboatError } from '../engine/errors.js';

/** One backup job: one source database, its schedule and where its backups go. */
export interface Job {
  /** Short, stable, unique: used on the command line (`lifeboat now pos`) and in history. */
  id: string;
  name: string;
  /** Absolute path of the live database. */
  db: string;
  schedule: {
    cron: string;
    /** IANA time zone (e.g. Europe/Berlin); the machine's own when absent. */
    timezone?: string;
    /** The preset the person typed ("daily at 23:00"), for display. */
    label?: string;
  };
  /** Where backups go: first the local backup folder (where the backup is made), then copies. */
  destinations: [FolderDestinationConfig, ...Destination[]];
  retention: Retention;
  check: CheckLevel;
  gzip: boolean;
  quietSeconds: number;
  maxWaitSeconds: number;
  /** Retries inside one run while the database is locked (the engine's backoff). */
  busyRetry: { attempts: number; delaySeconds: number; timeoutSeconds: number };
  /** Retries of a whole run that failed for a passing reason (busy, destination, internal). */
  retry: { attempts: number; delaySeconds: number; maxDelaySeconds: number };
  enabled: boolean;
  /** ISO time until which the job is paused; null when not paused for a while. */
  pausedUntil: string | null;
  createdAt: string;
}

/** How a copy is stored at a destination other than the local backup folder. */
export interface CopyOptions {
  /** Compress the copy (when the local backup is not compressed already). */
  gzip?: boolean;
  /** Encrypt the copy with AES-256-GCM (passphrase from LIFEBOAT_PASSPHRASE or LIFEBOAT_HOME/passphrase). */
  encrypt?: boolean;
  /** Retention here, when it differs from the job's. */
  retention?: Retention;
}

export type FolderDestinationConfig = { kind: 'folder'; path: string } & CopyOptions;
export type DriveDestinationConfig = { kind: 'gdrive' } & CopyOptions;
export type Destination = FolderDestinationConfig | DriveDestinationConfig;

export interface Retention {
  keepLast: number;
  daily: number;
  weekly: number;
  monthly: number;
  maxAgeDays: number | null;
}

export interface Settings {
  /** Delay of catch-up runs after login or wake, so the desktop settles first. */
  catchUpDelaySeconds: number;
  notifyOnSuccess: boolean;
  /** The Google OAuth client and endpoints (see `lifeboat drive setup`). */
  drive?: { clientId: string; clientSecret: string; apiRootUrl?: string; tokenUrl?: string; authUrl?: string; revokeUrl?: string };
}

export const DEFAULT_SETTINGS: Settings = { catchUpDelaySeconds: 60, notifyOnSuccess: false };

/** Shop-sized defaults: a week of dailies, a month of weeklies, a year of monthlies. */
export const DEFAULT_RETENTION: Retention = { keepLast: 7, daily: 7, weekly: 4, monthly: 12, maxAgeDays: null };

export const DEFAULT_JOB_FIELDS = {
  retention: DEFAULT_RETENTION,
  check: 'quick' as CheckLevel,
  gzip: false,
  quietSeconds: 2,
  maxWaitSeconds: 30,
  busyRetry: { attempts: 5, delaySeconds: 1, timeoutSeconds: 2 },
  retry: { attempts: 3, delaySeconds: 60, maxDelaySeconds: 900 },
  enabled: true,
  pausedUntil: null,
};

/** The one answer to an id that names no job (CLI, agent, history), listing the ones there are. */
export function noSuchJob(id: string, jobs: Array<Pick<Job, 'id'>>): LifeboatError {
  return new LifeboatError('usage', `There is no job "${id}".`, jobs.length ? `Jobs: ${jobs.map((j) => j.id).join(', ')}.` : 'There are no jobs yet; add one with `lifeboat job add`.');
}
