import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkPosConsistency } from '../agent/demo/pos-schema.js';
import type { BenchOptions } from './args.js';
import { runChild, startWriter, type ChildRun } from './child.js';
import { prepareWorkCopy, removeWork, type WorkCopy } from './dataset.js';
import { EVENT_LOOP_PROBE_SCRIPT, LIFEBOAT_CLI, STOCK_BACKUP_SCRIPT } from './paths.js';
import type { Completion, Condition, Consistency, DatasetInfo, EventLoopResult, LifeboatDetails, Measurement, MethodId, WriterStats } from './types.js';

/** The commands measured; 'cp' yields two rows (plain cp, and cp + sync), from one run. */
export type MethodGroup = 'cp' | 'sqlite3' | 'stock' | 'lifeboat';
export const METHOD_GROUPS: MethodGroup[] = ['cp', 'sqlite3', 'stock', 'lifeboat'];

interface MethodRun {
  method: MethodId;
  wallMs: number;
  peakRssKiB: number | null;
  completed: Completion;
  lifeboat?: LifeboatDetails;
}

const fromChild = (method: MethodId, run: ChildRun): MethodRun =>
  ({ method, wallMs: run.wallMs, peakRssKiB: run.peakRssKiB, completed: run.completed });

const maxOrNull = (a: number | null, b: number | null): number | null =>
  a === null ? b : b === null ? a : Math.max(a, b);

/** The floor: a file copy (copy_file_range on Linux) and then an fsync of the copy, as `sync FILE` does. */
async function runCp(work: WorkCopy, timeoutMs: number): Promise<MethodRun[]> {
  const dst = join(work.outDir, 'copy.sqlite');
  const cp = await runChild('cp', [work.db, dst], timeoutMs);
  if (!cp.completed.ok) return [fromChild('cp', cp), fromChild('cp+sync', cp)];
  const sync = await runChild('sync', [dst], timeoutMs);
  return [
    fromChild('cp', cp),
    { method: 'cp+sync', wallMs: cp.wallMs + sync.wallMs, peakRssKiB: maxOrNull(cp.peakRssKiB, sync.peakRssKiB), completed: sync.completed },
  ];
}

/**
 * The sqlite3 shell's `.backup` (the online backup API, 100 pages a step). `.timeout 5000` gives
 * it the writer's busy timeout, so under writes it waits for a lock instead of failing at once.
 */
async function runSqlite3(work: WorkCopy, timeoutMs: number): Promise<MethodRun[]> {
  const dst = join(work.outDir, 'sqlite3.sqlite');
  const run = await runChild('sqlite3', ['-cmd', '.timeout 5000', work.db, `.backup "${dst}"`], timeoutMs);
  return [fromChild('sqlite3', run)];
}

async function runStock(work: WorkCopy, timeoutMs: number): Promise<MethodRun[]> {
  const run = await runChild(process.execPath, [STOCK_BACKUP_SCRIPT, work.db, join(work.outDir, 'stock.sqlite')], timeoutMs);
  return [fromChild('stock', run)];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** Picks the reported fields out of `lifeboat backup --json`, or explains why it cannot. */
function parseLifeboatJson(stdout: string): LifeboatDetails | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    return `no JSON on stdout: ${stdout.slice(0, 120)}`;
  }
  if (!isRecord(parsed) || parsed.ok !== true) return `not ok: ${stdout.slice(0, 200)}`;
  const t = parsed.timings;
  if (!isRecord(t)) return 'the JSON has no "timings" (is dist/ built from the current engine?)';
  const num = (v: unknown): number => (typeof v === 'number' ? v : Number.NaN);
  return {
    file: String(parsed.file),
    durationMs: num(parsed.durationMs),
    readTxnMs: num(parsed.readTxnMs),
    attempts: num(parsed.attempts),
    walFrames: num(parsed.walFrames),
    timings: {
      waitMs: num(t.waitMs), snapshotMs: num(t.snapshotMs), syncMs: num(t.syncMs),
      checkMs: num(t.checkMs), hashMs: num(t.hashMs), compressMs: num(t.compressMs),
    },
  };
}

/** The CLI as a script or the OS scheduler runs it; --quiet 0 so the time is the engine's, not a wait. */
async function runLifeboat(work: WorkCopy, timeoutMs: number): Promise<MethodRun[]> {
  const run = await runChild(process.execPath, [LIFEBOAT_CLI, 'backup', '--db', work.db, '--dest', work.outDir, '--quiet', '0', '--json'], timeoutMs);
  const base = fromChild('lifeboat', run);
  if (!run.completed.ok) return [base];
  const details = parseLifeboatJson(run.stdout);
  if (typeof details === 'string') return [{ ...base, completed: { ok: false, reason: 'failed', detail: details } }];
  return [{ ...base, lifeboat: details }];
}

const RUNNERS: Record<MethodGroup, (work: WorkCopy, timeoutMs: number) => Promise<MethodRun[]>> = {
  cp: runCp, sqlite3: runSqlite3, stock: runStock, lifeboat: runLifeboat,
};

const log = (line: string): void => { process.stderr.write(`[bench] ${line}\n`); };

function toMeasurement(run: MethodRun, dataset: DatasetInfo, condition: Condition, writer: WriterStats | null | undefined): Measurement {
  const m: Measurement = {
    method: run.method,
    mode: dataset.mode,
    condition,
    wallMs: Math.round(run.wallMs),
    runs: 1,
    wallRangeMs: [Math.round(run.wallMs), Math.round(run.wallMs)],
    peakRssMiB: run.peakRssKiB === null ? null : Math.round(run.peakRssKiB / 1024),
    completed: run.completed,
  };
  if (condition === 'writes') m.writer = writer ?? null;
  if (run.lifeboat) m.lifeboat = run.lifeboat;
  // The point of a backup taken under writes: every invoice in it is whole.
  if (run.lifeboat && condition === 'writes') m.consistency = checkConsistency(run.lifeboat.file);
  return m;
}

function checkConsistency(file: string): Consistency {
  log('  checking the backup: every invoice has all its lines');
  return checkPosConsistency(file);
}

/**
 * One measurement on a fresh warm copy of the dataset: under 'writes' a second process commits an
 * invoice every 20 ms from a second before the command starts until it has ended (or was killed).
 * The copy and every backup of it are removed afterwards, whatever happened.
 */
export async function measure(group: MethodGroup, dataset: DatasetInfo, condition: Condition, options: BenchOptions): Promise<Measurement[]> {
  log(`${group}, ${dataset.mode}, ${condition}: preparing a warm copy`);
  const work = await prepareWorkCopy(dataset.path);
  try {
    const writer = condition === 'writes' ? await startWriter(work.db, options.writerIntervalMs) : null;
    let runs: MethodRun[] = [];
    let stats: WriterStats | null | undefined;
    try {
      if (writer) await sleep(options.writerWarmupMs);
      log(`${group}, ${dataset.mode}, ${condition}: running`);
      runs = await RUNNERS[group](work, options.timeoutS * 1000);
    } finally {
      stats = writer ? await writer.stop() : undefined;
    }
    const rows = runs.map((r) => toMeasurement(r, dataset, condition, stats));
    for (const r of rows) log(`  ${r.method}: ${(r.wallMs / 1000).toFixed(2)} s, ${r.completed.ok ? 'done' : `not done (${r.completed.reason})`}`);
    return rows;
  } finally {
    await removeWork();
  }
}

/** Runs bench/event-loop-probe on a fresh warm copy: runBackup() in-process, idle, default options, quietMs 0. */
export async function measureEventLoop(dataset: DatasetInfo, options: BenchOptions): Promise<EventLoopResult | string> {
  log(`event loop, ${dataset.mode}, idle: preparing a warm copy`);
  const work = await prepareWorkCopy(dataset.path);
  try {
    log(`event loop, ${dataset.mode}, idle: running runBackup() in-process`);
    const run = await runChild(process.execPath, [EVENT_LOOP_PROBE_SCRIPT, work.db, work.outDir], options.timeoutS * 1000);
    if (!run.completed.ok) return run.completed.reason === 'timeout' ? `still running after ${run.completed.afterS} s` : run.completed.detail;
    const parsed: unknown = JSON.parse(run.stdout);
    if (!isRecord(parsed)) return 'the probe printed no result';
    const num = (k: string): number => {
      const v = parsed[k];
      return typeof v === 'number' ? v : Number.NaN;
    };
    return {
      mode: dataset.mode, idleRssMiB: num('idleRssMiB'), peakRssMiB: num('peakRssMiB'),
      maxMs: num('maxMs'), p99Ms: num('p99Ms'), meanMs: num('meanMs'), backupMs: num('backupMs'),
    };
  } finally {
    await removeWork();
  }
}
