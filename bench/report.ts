import type { BenchOptions } from './args.js';
import { MODE_NAMES } from './goals.js';
import { METHOD_LABELS, type DatasetInfo, type EventLoopResult, type GoalResult, type MachineInfo, type Measurement } from './types.js';

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
    '- Peak RSS: VmHWM from /proc/<pid>/status, polled every 50 ms (Linux only)',
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
  return [
    METHOD_LABELS[m.method], MODE_NAMES[m.mode], m.condition === 'idle' ? 'idle' : 'writes',
    wall, m.peakRssMiB === null ? '?' : String(m.peakRssMiB), cell(completedText(m)), ...writerCells(m), consistent,
  ];
}

export function resultsTable(rows: Measurement[]): string {
  const header = ['method', 'mode', 'condition', 'wall (s)', 'peak RSS (MiB)', 'completed', 'writer BUSY', 'writer slowest commit (ms)', 'backup consistent'];
  return table(header, rows.map(resultRow));
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
  return table(header, body);
}

export function eventLoopSection(loop: EventLoopResult | string): string {
  if (typeof loop === 'string') return `Event loop: not measured (${loop}).`;
  const header = ['mode', 'runBackup() (s)', 'event-loop delay max (ms)', 'p99 (ms)', 'mean (ms)', 'idle RSS (MiB)', 'peak RSS (MiB)'];
  const row = [MODE_NAMES[loop.mode], sec(loop.backupMs), String(loop.maxMs), String(loop.p99Ms), String(loop.meanMs), String(loop.idleRssMiB), String(loop.peakRssMiB)];
  return [
    table(header, [row]),
    '',
    'monitorEventLoopDelay, resolution 10 ms, in a fresh process that calls runBackup() (idle, default options, quietMs 0);',
    'its values are the time between 10 ms timer ticks, so 10 ms means no delay. Idle RSS: that process with the engine loaded, before the backup.',
  ].join('\n');
}

export function goalsSection(goals: GoalResult[]): string {
  const mark = (g: GoalResult): string => (g.pass === null ? 'N/A ' : g.pass ? 'PASS' : 'FAIL');
  return goals.map((g) => `- **${mark(g)}** (${g.id}) ${g.text}`).join('\n');
}
