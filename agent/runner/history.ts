import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Trigger } from '../schedule/scheduler.js';

export type Outcome = 'running' | 'success' | 'failure' | 'interrupted';

export interface RunRecord {
  id: number;
  jobId: string | null;
  db: string;
  trigger: Trigger;
  scheduledFor: string | null;
  startedAt: string;
  endedAt: string | null;
  outcome: Outcome;
  reason: string | null;
  errorKind: string | null;
  file: string | null;
  bytes: number | null;
  sha256: string | null;
  check: string | null;
  durationMs: number | null;
  /** Copies or pruning that failed in a run whose local backup succeeded. */
  warnings: string[];
}

interface Row {
  id: number;
  job_id: string | null;
  db: string;
  trigger: Trigger;
  scheduled_for: number | null;
  started_at: number;
  ended_at: number | null;
  outcome: Outcome;
  reason: string | null;
  error_kind: string | null;
  file: string | null;
  bytes: number | null;
  sha256: string | null;
  check_result: string | null;
  duration_ms: number | null;
  warnings?: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY,
  job_id TEXT,
  db TEXT NOT NULL,
  trigger TEXT NOT NULL,
  scheduled_for INTEGER,
  started_at INTEGER NOT NULL,
  ended_at INTEGER,
  outcome TEXT NOT NULL CHECK (outcome IN ('running', 'success', 'failure', 'interrupted')),
  reason TEXT,
  error_kind TEXT,
  file TEXT,
  bytes INTEGER,
  sha256 TEXT,
  check_result TEXT,
  duration_ms INTEGER
);
CREATE INDEX IF NOT EXISTS runs_job_started ON runs (job_id, started_at);
CREATE TABLE IF NOT EXISTS uploads (
  job_id TEXT NOT NULL,
  destination TEXT NOT NULL,
  file TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'done')),
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (job_id, destination, file)
);
`;

export interface PendingUpload {
  jobId: string;
  destination: string;
  /** Local backup file (full path) still to be copied. */
  file: string;
  attempts: number;
  lastError: string | null;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function toRecord(r: Row): RunRecord {
  return {
    id: r.id, jobId: r.job_id, db: r.db, trigger: r.trigger, scheduledFor: iso(r.scheduled_for),
    startedAt: new Date(r.started_at).toISOString(), endedAt: iso(r.ended_at), outcome: r.outcome,
    reason: r.reason, errorKind: r.error_kind, file: r.file, bytes: r.bytes, sha256: r.sha256,
    check: r.check_result, durationMs: r.duration_ms, warnings: r.warnings ? (JSON.parse(r.warnings) as string[]) : [],
  };
}

/**
 * Every run, in a SQLite file under LIFEBOAT_HOME (WAL, so the CLI reads while the agent writes).
 * A run is written when it starts and again when it ends; one still "running" when the agent
 * starts was cut off by a crash and is marked interrupted.
 */
export class History {
  private readonly db: Database.Database;

  constructor(path: string, opts: { readonly?: boolean } = {}) {
    if (!opts.readonly) mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false, timeout: 5000 });
    if (!opts.readonly) {
      this.db.pragma('journal_mode = WAL');
      this.db.exec(SCHEMA);
      // Added after 0.1.0: warnings of a run that succeeded locally but not everywhere.
      const cols = (this.db.pragma('table_info(runs)') as Array<{ name: string }>).map((c) => c.name);
      if (!cols.includes('warnings')) this.db.exec('ALTER TABLE runs ADD COLUMN warnings TEXT');
    }
  }

  /** A copy that failed: kept as pending so the next run retries it without a new snapshot. */
  uploadFailed(jobId: string, destination: string, file: string, error: string, now: number): void {
    this.db.prepare(`INSERT INTO uploads (job_id, destination, file, state, attempts, last_error, updated_at) VALUES (?, ?, ?, 'pending', 1, ?, ?)
      ON CONFLICT (job_id, destination, file) DO UPDATE SET state = 'pending', attempts = attempts + 1, last_error = excluded.last_error, updated_at = excluded.updated_at`)
      .run(jobId, destination, file, error, now);
  }

  uploadDone(jobId: string, destination: string, file: string, now: number): void {
    this.db.prepare(`INSERT INTO uploads (job_id, destination, file, state, attempts, updated_at) VALUES (?, ?, ?, 'done', 1, ?)
      ON CONFLICT (job_id, destination, file) DO UPDATE SET state = 'done', last_error = NULL, updated_at = excluded.updated_at`)
      .run(jobId, destination, file, now);
  }

  pendingUploads(jobId: string): PendingUpload[] {
    const rows = this.db.prepare("SELECT job_id, destination, file, attempts, last_error FROM uploads WHERE job_id = ? AND state = 'pending' ORDER BY updated_at")
      .all(jobId) as Array<{ job_id: string; destination: string; file: string; attempts: number; last_error: string | null }>;
    return rows.map((r) => ({ jobId: r.job_id, destination: r.destination, file: r.file, attempts: r.attempts, lastError: r.last_error }));
  }

  /** A pending upload whose local file is gone (pruned by hand, disk replaced) cannot be retried. */
  dropUpload(jobId: string, destination: string, file: string): void {
    this.db.prepare('DELETE FROM uploads WHERE job_id = ? AND destination = ? AND file = ?').run(jobId, destination, file);
  }

  start(run: { jobId: string | null; db: string; trigger: Trigger; scheduledFor: number | null; startedAt: number }): number {
    const r = this.db.prepare('INSERT INTO runs (job_id, db, trigger, scheduled_for, started_at, outcome) VALUES (?, ?, ?, ?, ?, \'running\')')
      .run(run.jobId, run.db, run.trigger, run.scheduledFor, run.startedAt);
    return Number(r.lastInsertRowid);
  }

  finish(id: number, end: { endedAt: number; outcome: 'success' | 'failure'; reason?: string | null; errorKind?: string | null; file?: string | null; bytes?: number | null; sha256?: string | null; check?: string | null; durationMs?: number | null; warnings?: string[] }): void {
    this.db.prepare(`UPDATE runs SET ended_at = ?, outcome = ?, reason = ?, error_kind = ?, file = ?, bytes = ?, sha256 = ?, check_result = ?, duration_ms = ?, warnings = ? WHERE id = ?`)
      .run(end.endedAt, end.outcome, end.reason ?? null, end.errorKind ?? null, end.file ?? null, end.bytes ?? null, end.sha256 ?? null, end.check ?? null, end.durationMs ?? null,
        end.warnings?.length ? JSON.stringify(end.warnings) : null, id);
  }

  /** Runs a crash left as "running" (only called by the agent that holds the instance lock). */
  markInterrupted(now: number): number {
    return this.db.prepare("UPDATE runs SET outcome = 'interrupted', ended_at = ?, reason = 'Lifeboat stopped during this run (crash, kill or power loss)' WHERE outcome = 'running'")
      .run(now).changes;
  }

  lastSuccess(jobId: string): number | null {
    const v = this.db.prepare("SELECT max(started_at) FROM runs WHERE job_id = ? AND outcome = 'success'").pluck().get(jobId);
    return typeof v === 'number' ? v : null;
  }

  lastOf(jobId: string, outcome: Outcome): RunRecord | null {
    const r = this.db.prepare('SELECT * FROM runs WHERE job_id = ? AND outcome = ? ORDER BY started_at DESC, id DESC LIMIT 1').get(jobId, outcome) as Row | undefined;
    return r ? toRecord(r) : null;
  }

  /** Successes and finished runs over the last DAYS days, for the success rate. */
  successRate(jobId: string, sinceMs: number): { success: number; total: number } {
    const r = this.db.prepare("SELECT sum(outcome = 'success') s, count(*) n FROM runs WHERE job_id = ? AND started_at >= ? AND outcome != 'running'").get(jobId, sinceMs) as { s: number | null; n: number };
    return { success: r.s ?? 0, total: r.n };
  }

  list(opts: { jobId?: string; limit: number }): RunRecord[] {
    const rows = opts.jobId
      ? this.db.prepare('SELECT * FROM runs WHERE job_id = ? ORDER BY started_at DESC, id DESC LIMIT ?').all(opts.jobId, opts.limit)
      : this.db.prepare('SELECT * FROM runs ORDER BY started_at DESC, id DESC LIMIT ?').all(opts.limit);
    return (rows as Row[]).map(toRecord);
  }

  close(): void {
    this.db.close();
  }
}
