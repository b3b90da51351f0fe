import type { BenchOptions } from './args.js';
import { METHOD_LABELS, MODE_NAMES, type DatasetInfo, type EventLoopResult, type GoalResult, type MachineInfo, type Measurement } from './types.js';

const sec = (ms: number): string => (ms / 1000).toFixed(2);
const gib = (bytes: number): string => `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
/** Table cells must not contain a pipe or a newline. */
const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');

/** Pads columns so the Markdown also reads well as plain text in a terminal. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

export function machineSection(machine: MachineInfo, datasets: DatasetInfo[], options: BenchOptions): string {
  const dbs = datasets.map((d) => `${MODE_NAMES[d.mode]} ${gib(d.bytes)}`).join(', ');
  return [
    '## Machine',
    '',
    `- CPU: ${machine.cpu}, ${machine.cores} cores; memory ${machine.memoryGiB} GiB`,
    `- Node ${machine.node}; SQLite ${machine.sqlite} (better-sqlite3), sqlite3 CLI ${machine.sqliteCli}`,
    `- Kernel: ${machine.platform} ${machine.kernel}; file system of .bench: ${machine.fileSystem}`,
    `- Database: POS-like, ${options.sizeMb} MiB asked (${dbs}; ${datasets[0]?.invoices ?? '?'} invoices), warm page cache, fresh copy per run`,
    `- Under writes: a second process commits one invoice (1 + 5 rows) every ${options.writerIntervalMs} ms with a 5 s busy timeout; timeout per command ${options.timeoutS} s`,
    `- Runs per measurement: ${options.repeat}; peak RSS: VmHWM from /proc/<pid>/status, polled every 50 ms (Linux only)`,
  ].join('\n');
}

function completedText(m: Measurement): string {
  if (m.completed.ok) return 'yes';
  if (m.completed.reason === 'timeout') return `no: still running after ${m.completed.afterS} s`;
  return `no: failed (${m.completed.detail})`;
}

function writerCells(m: Measurement): [string, string] {
  if (m.condition === 'idle') return ['', ''];
  if (!m.writer) return ['?', '?'];
  const busy = m.writer.otherErrors > 0 ? `${m.writer.busy} (+${m.writer.otherErrors} other errors)` : String(m.writer.busy);
  return [busy, String(Math.round(m.writer.maxCommitMs))];
}

function resultRow(m: Measurement): string[] {
  const wall = m.completed.ok ? sec(m.wallMs) : m.completed.reason === 'timeout' ? `> ${sec(m.wallMs)}` : `(${sec(m.wallMs)})`;
  const consistent = m.consistency ? `${m.consistency.broken === 0 ? 'yes' : 'NO'}: ${m.consistency.broken} broken of ${m.consistency.invoices}` : '';
  const range = m.runs > 1 ? `${sec(m.wallRangeMs[0])}–${sec(m.wallRangeMs[1])}` : '';
  return [
    METHOD_LABELS[m.method], MODE_NAMES[m.mode], m.condition === 'idle' ? 'idle' : 'writes',
    wall, range, String(m.runs), m.peakRssMiB === null ? '?' : String(m.peakRssMiB), cell(completedText(m)), ...writerCells(m), consistent,
  ];
}

export function resultsTable(rows: Measurement[]): string {
  const header = ['method', 'mode', 'condition', 'wall (s)', 'min–max (s)', 'runs', 'peak RSS (MiB)', 'completed', 'writer BUSY', 'writer slowest commit (ms)', 'backup consistent'];
  return [
    table(header, rows.map(resultRow)),
    '',
    'wall: the median run (a command that does not complete runs once); peak RSS: the highest run;',
    'writer: its slowest commit in the worst run and its BUSY errors over all runs, from a second before the',
    'command starts until it ends; backup consistent: every invoice in the Lifeboat backup has all its lines.',
  ].join('\n');
}

/** Where a Lifeboat backup's time goes (from its --json), and how long the live database was held. */
export function lifeboatTable(rows: Measurement[]): string {
  const header = ['mode', 'condition', 'CLI wall (s)', 'engine total (s)', 'snapshot (s)', 'read txn / lock (s)', 'fsync (s)', 'quick_check (s)', 'sha256 (s)', 'WAL frames', 'attempts'];
  const body = rows.filter((r) => r.method === 'lifeboat').map((r) => {
    const lb = r.lifeboat;
    if (!lb) return [MODE_NAMES[r.mode], r.condition, sec(r.wallMs), cell(completedText(r)), '', '', '', '', '', '', ''];
    const t = lb.timings;
    return [MODE_NAMES[r.mode], r.condition, sec(r.wallMs), sec(lb.durationMs), sec(t.snapshotMs), sec(lb.readTxnMs),
      sec(t.syncMs), sec(t.checkMs), sec(t.hashMs), String(lb.walFrames), String(lb.attempts)];
  });
  return [
    table(header, body),
    '',
    'From the median run\'s --json. CLI wall includes starting Node and the worker; read txn / lock: how long the live',
    'database was held (in rollback mode the POS app cannot commit meanwhile).',
  ].join('\n');
}

export function eventLoopSection(loop: EventLoopResult | string): string {
  if (typeof loop === 'string') return `Event loop: not measured (${loop}).`;
  const header = ['mode', 'runBackup() (s)', 'event-loop delay max (ms)', 'p99 (ms)', 'mean (ms)', 'idle RSS (MiB)', 'peak RSS (MiB)'];
  const row = [MODE_NAMES[loop.mode], sec(loop.backupMs), String(loop.maxMs), String(loop.p99Ms), String(loop.meanMs), String(loop.idleRssMiB), String(loop.peakRssMiB)];
  return [
    table(header, [row]),
    '',
    'monitorEventLoopDelay (resolution 10 ms) in a fresh process that calls runBackup() (idle, default options, quietMs 0);',
    'the run with the longest delay is shown. Its values are the time between 10 ms timer ticks, so 10 ms means no delay.',
    'Idle RSS: that process with the engine loaded, before the backup.',
  ].join('\n');
}

export function goalsSection(goals: GoalResult[]): string {
  const mark = (g: GoalResult): string => (g.pass === null ? 'N/A ' : g.pass ? 'PASS' : 'FAIL');
  return goals.map((g) => `- **${mark(g)}** (${g.id}) ${g.text}`).join('\n');
}
