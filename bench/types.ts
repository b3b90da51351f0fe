/** Shapes shared by the benchmark's modules and written to .bench/last-run.json. */

/** The two journal families a POS app's database comes in; 'delete' is SQLite's default rollback journal. */
export type BenchMode = 'wal' | 'delete';
export const MODE_NAMES: Record<BenchMode, string> = { wal: 'WAL', delete: 'rollback' };
export type Condition = 'idle' | 'writes';
export type MethodId = 'cp' | 'cp+sync' | 'sqlite3' | 'stock' | 'lifeboat';

export const METHOD_LABELS: Record<MethodId, string> = {
  'cp': '`cp`',
  'cp+sync': '`cp` + `sync` of the copy',
  'sqlite3': '`sqlite3 .backup`',
  'stock': 'better-sqlite3 `db.backup()` stock',
  'lifeboat': 'Lifeboat `backup` (CLI)',
};

/** How a child process ended: finished, failed on its own, or was killed by us after the timeout. */
export type Completion =
  | { ok: true }
  | { ok: false; reason: 'timeout'; afterS: number }
  | { ok: false; reason: 'failed'; detail: string };

import type { WriterStats } from '../tools/writer-stats.js';

export type { WriterStats };

/** The parts of Lifeboat's --json result the benchmark reports. */
export interface LifeboatDetails {
  file: string;
  durationMs: number;
  readTxnMs: number;
  attempts: number;
  walFrames: number;
  timings: { waitMs: number; snapshotMs: number; syncMs: number; checkMs: number; hashMs: number; compressMs: number };
}

export interface Consistency {
  invoices: number;
  lines: number;
  broken: number;
}

/** One row of the results table. */
export interface Measurement {
  method: MethodId;
  mode: BenchMode;
  condition: Condition;
  /** Until it exited or was killed; only a lower bound when it did not complete. The median over the runs. */
  wallMs: number;
  /** Runs measured (a method that did not complete is not run again), and the fastest and slowest. */
  runs: number;
  wallRangeMs: [number, number];
  /** The highest over the runs; null when the process ended before the first /proc read. */
  peakRssMiB: number | null;
  completed: Completion;
  /** Only under writes: the run with the slowest commit, BUSY summed over the runs; null if a report was lost. */
  writer?: WriterStats | null;
  /** From the median run. */
  lifeboat?: LifeboatDetails;
  /** The worst over the runs. */
  consistency?: Consistency;
}

/** The in-process measurement of the caller's event loop while runBackup() runs. */
export interface EventLoopResult {
  mode: BenchMode;
  /** RSS of a Node process that has loaded the engine and does nothing. */
  idleRssMiB: number;
  /** Peak RSS of that process, backup included (getrusage). */
  peakRssMiB: number;
  maxMs: number;
  p99Ms: number;
  meanMs: number;
  backupMs: number;
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  sqlite: string;
  sqliteCli: string;
  kernel: string;
  fileSystem: string;
  platform: string;
}

export interface DatasetInfo {
  mode: BenchMode;
  path: string;
  bytes: number;
  invoices: number;
}

export interface GoalResult {
  id: string;
  pass: boolean | null;
  text: string;
}
