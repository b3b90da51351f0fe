import { MODE_NAMES, type BenchMode, type Condition, type EventLoopResult, type GoalResult, type Measurement, type MethodId } from './types.js';
const MODES: BenchMode[] = ['wal', 'delete'];

const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

function find(rows: Measurement[], method: MethodId, mode: BenchMode, condition: Condition): Measurement | undefined {
  return rows.find((r) => r.method === method && r.mode === mode && r.condition === condition);
}

/** A goal that could not be judged because a measurement it needs is missing or failed. */
const unknown = (id: string, what: string): GoalResult => ({ id, pass: null, text: `${what}: not measured (a run it needs failed)` });

/** (a) idle: the snapshot alone (the time the live database is read) within 1.5x of cp + sync. */
function goalSnapshotVsCp(rows: Measurement[], mode: BenchMode): GoalResult {
  const what = `idle, ${MODE_NAMES[mode]}: Lifeboat snapshot within 1.5x of \`cp\` + \`sync\``;
  const floor = find(rows, 'cp+sync', mode, 'idle');
  const snap = find(rows, 'lifeboat', mode, 'idle')?.lifeboat?.timings.snapshotMs;
  if (!floor?.completed.ok || snap === undefined) return unknown('a', what);
  const ratio = snap / floor.wallMs;
  return { id: 'a', pass: ratio <= 1.5, text: `${what}: snapshot ${s(snap)} vs ${s(floor.wallMs)} = ${ratio.toFixed(2)}x` };
}

/** (b) idle: the whole verified backup, CLI start to exit, beats sqlite3's bare `.backup`. */
function goalWholeVsSqlite3(rows: Measurement[], mode: BenchMode): GoalResult {
  const what = `idle, ${MODE_NAMES[mode]}: whole verified Lifeboat backup faster than \`sqlite3 .backup\``;
  const lb = find(rows, 'lifeboat', mode, 'idle');
  const cli = find(rows, 'sqlite3', mode, 'idle');
  if (!lb?.completed.ok || !cli) return unknown('b', what);
  if (!cli.completed.ok) return { id: 'b', pass: true, text: `${what}: ${s(lb.wallMs)} vs sqlite3 not finished` };
  return { id: 'b', pass: lb.wallMs < cli.wallMs, text: `${what}: ${s(lb.wallMs)} vs ${s(cli.wallMs)}` };
}

function writerText(m: Measurement): string {
  const over = m.runs > 1 ? ` (worst of ${m.runs} runs)` : '';
  return m.writer ? `slowest commit ${m.writer.maxCommitMs} ms${over}, ${m.writer.busy} BUSY` : 'writer report lost';
}

/** (c) WAL under writes: the till's commits barely notice (< 250 ms) and never fail. */
function goalWalWrites(rows: Measurement[]): GoalResult {
  const what = 'writes, WAL: writer slowest commit < 250 ms and 0 BUSY during the Lifeboat backup';
  const lb = find(rows, 'lifeboat', 'wal', 'writes');
  if (!lb?.completed.ok || !lb.writer) return unknown('c', what);
  return { id: 'c', pass: lb.writer.maxCommitMs < 250 && lb.writer.busy === 0, text: `${what}: ${writerText(lb)}` };
}

/**
 * (d) rollback under writes: a SHARED lock must be held for the copy, so a commit waits for about
 * one plain file copy. A copy is not done until it is on disk, and writing 1 GiB holds up the
 * writer's own fsync whoever writes it (a bare `cp` stalls it half a second with no lock at all),
 * so the yardstick is `cp` + `sync` of the same file, measured idle: allowed max(1.5 x, + 150 ms).
 * The lock itself is reported against a bare `cp`.
 */
function goalRollbackWrites(rows: Measurement[]): GoalResult {
  const what = 'writes, rollback: writer slowest commit <= max(1.5 x, + 150 ms) one `cp` + `sync`, and 0 BUSY';
  const lb = find(rows, 'lifeboat', 'delete', 'writes');
  const copy = find(rows, 'cp+sync', 'delete', 'idle');
  const cp = find(rows, 'cp', 'delete', 'idle');
  if (!lb?.completed.ok || !lb.writer || !copy?.completed.ok) return unknown('d', what);
  const limit = Math.max(1.5 * copy.wallMs, copy.wallMs + 150);
  const pass = lb.writer.maxCommitMs <= limit && lb.writer.busy === 0;
  const lock = lb.lifeboat ? `; lock held ${lb.lifeboat.readTxnMs} ms vs bare \`cp\` ${cp?.wallMs ?? '?'} ms` : '';
  return { id: 'd', pass, text: `${what}: ${writerText(lb)}; limit ${Math.round(limit)} ms (\`cp\` + \`sync\` ${copy.wallMs} ms)${lock}` };
}

/** (e) the agent stays small on a till PC: every Lifeboat run's peak RSS < 150 MiB. */
function goalRss(rows: Measurement[]): GoalResult {
  const what = 'peak RSS of the Lifeboat backup < 150 MiB';
  const measured = rows.filter((r) => r.method === 'lifeboat' && r.peakRssMiB !== null);
  if (measured.length === 0) return unknown('e', what);
  const max = Math.max(...measured.map((r) => r.peakRssMiB ?? 0));
  const runs = measured.reduce((n, r) => n + r.runs, 0);
  return { id: 'e', pass: max < 150, text: `${what}: highest ${max} MiB over ${runs} runs` };
}

/** (f) the tray stays responsive: the caller's event loop is never blocked for 50 ms or more. */
function goalEventLoop(loop: EventLoopResult | string): GoalResult {
  const what = 'event-loop delay of the thread calling runBackup() (idle, WAL): max < 50 ms';
  if (typeof loop === 'string') return { id: 'f', pass: null, text: `${what}: not measured (${loop})` };
  return { id: 'f', pass: loop.maxMs < 50, text: `${what}: max ${loop.maxMs} ms, p99 ${loop.p99Ms} ms (10 ms timer interval included)` };
}

/** (g) a backup taken while the till commits holds whole invoices only. */
function goalConsistent(rows: Measurement[], mode: BenchMode): GoalResult {
  const what = `writes, ${MODE_NAMES[mode]}: Lifeboat backup consistent (0 broken invoices)`;
  const c = find(rows, 'lifeboat', mode, 'writes')?.consistency;
  if (!c) return unknown('g', what);
  return { id: 'g', pass: c.broken === 0, text: `${what}: ${c.broken} broken of ${c.invoices} invoices` };
}

export function evaluateGoals(rows: Measurement[], loop: EventLoopResult | string): GoalResult[] {
  return [
    ...MODES.map((m) => goalSnapshotVsCp(rows, m)),
    ...MODES.map((m) => goalWholeVsSqlite3(rows, m)),
    goalWalWrites(rows),
    goalRollbackWrites(rows),
    goalRss(rows),
    goalEventLoop(loop),
    ...MODES.map((m) => goalConsistent(rows, m)),
  ];
}
