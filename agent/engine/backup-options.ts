import type { CheckLevel } from './integrity.js';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** Delay before the second attempt; doubles after each further failure up to maxDelayMs. */
  initialDelayMs: number;
  maxDelayMs: number;
}

export interface BackupOptions {
  db: string;
  dest: string;
  check: CheckLevel;
  gzip: boolean;
  /** A moment counts as quiet after this long without a commit by another connection. */
  quietMs: number;
  /** Longest wait for a quiet moment; after it the snapshot is taken anyway (it is safe under writes). */
  maxWaitMs: number;
  /** How long one attempt waits for a lock before it counts as busy. */
  busyTimeoutMs: number;
  retry: RetryPolicy;
  /** The agent's job this backup is for, recorded in the manifest so pruning can tell jobs apart. */
  jobId?: string;
}

export const DEFAULT_BACKUP_OPTIONS: Omit<BackupOptions, 'db' | 'dest'> = {
  check: 'quick',
  gzip: false,
  quietMs: 2000,
  maxWaitMs: 30_000,
  busyTimeoutMs: 2000,
  retry: { attempts: 5, initialDelayMs: 1000, maxDelayMs: 30_000 },
};

export type BackupPhase = 'waiting' | 'copying' | 'checking' | 'hashing' | 'compressing' | 'finishing' | 'uploading' | 'downloading';

export interface BackupProgress {
  phase: BackupPhase;
  done?: number;
  total?: number;
  attempt?: number;
  message?: string;
}

export interface BackupResult {
  file: string;
  manifest: string;
  bytes: number;
  sha256: string;
  durationMs: number;
  check: { level: CheckLevel; ok: boolean; durationMs: number };
  journalMode: 'wal' | 'rollback';
  compression: 'none' | 'gzip';
  snapshotAt: string;
  dbBytes: number;
  walFrames: number;
  /** Time a read transaction or lock was held on the live database. */
  readTxnMs: number;
  recoveredHotJournal: boolean;
  attempts: number;
  /** Whether a quiet moment was found before the snapshot, and how long was waited for it. */
  quiet: boolean;
  waitedMs: number;
  staleTempsRemoved: string[];
  /** Where the time went, in ms: waiting for a quiet moment, the copy itself, flushing it, checking and hashing (run at the same time, each its own duration), compressing. */
  timings: { waitMs: number; snapshotMs: number; syncMs: number; checkMs: number; hashMs: number; compressMs: number };
}
