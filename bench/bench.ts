/**
 * Lifeboat's benchmark: how a verified Lifeboat backup compares with a plain file copy, the
 * sqlite3 shell and the stock online backup API, on a POS-like database, idle and while a second
 * process commits like a busy till, in WAL and rollback-journal mode; and what it costs the POS
 * app (its commits' waits and BUSY errors) and the agent (memory, event-loop delay).
 *
 *   npm run bench [-- --quick | --size-mb N] [--timeout S]
 *
 * Linux only (peak RSS comes from /proc). Markdown on stdout, progress on stderr, JSON in
 * .bench/last-run.json.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { platform } from 'node:os';
import { parseBenchArgs, USAGE, type BenchOptions } from './args.js';
import { killAllChildren } from './child.js';
import { ensureDataset, removeWork, removeWorkSync } from './dataset.js';
import { measureAgentIdle, measureAgentTrayIdle, type AgentIdleResult, type AgentTrayIdleResult } from './agent-idle.js';
import { measureDriveUpload, type DriveUploadResult } from './drive-upload.js';
import { evaluateGoals } from './goals.js';
import { describeMachine } from './machine.js';
import { METHOD_GROUPS, measure, measureEventLoop, type MethodGroup } from './methods.js';
import { BENCH_DIR, LAST_RUN_JSON, LIFEBOAT_CLI, POS_WRITER } from './paths.js';
import { combineRuns } from './repeat.js';
import { eventLoopSection, goalsSection, lifeboatTable, machineSection, resultsTable } from './report.js';
import type { BenchMode, Condition, DatasetInfo, EventLoopResult, Measurement, MethodId } from './types.js';

const log = (line: string): void => { process.stderr.write(`[bench] ${line}\n`); };

const MODES: BenchMode[] = ['wal', 'delete'];
const CONDITIONS: Condition[] = ['idle', 'writes'];
const GROUP_ROWS: Record<MethodGroup, MethodId[]> = { cp: ['cp', 'cp+sync'], sqlite3: ['sqlite3'], stock: ['stock'], lifeboat: ['lifeboat'] };

/** Whatever way the script ends, no child keeps running and no 1 GiB copy is left behind. */
function installCleanup(): void {
  process.on('exit', () => {
    killAllChildren();
    removeWorkSync();
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      log(`${signal}: stopping children and removing copies`);
      process.exit(130);
    });
  }
}

/** One failed measurement (a writer that would not start, a full disk) is reported, not fatal. */
async function measureSafely(group: MethodGroup, dataset: DatasetInfo, condition: Condition, options: BenchOptions): Promise<Measurement[]> {
  try {
    return await measure(group, dataset, condition, options);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    log(`  ${group} failed: ${detail}`);
    return GROUP_ROWS[group].map((method) => ({
      method, mode: dataset.mode, condition, wallMs: 0, runs: 1, wallRangeMs: [0, 0], peakRssMiB: null,
      completed: { ok: false, reason: 'failed', detail },
    }));
  }
}

interface Measured {
  /** One row per method, folded from its runs: what the tables show. */
  rows: Measurement[];
  /** Every single run, for last-run.json. */
  runs: Measurement[];
}

/** Runs a method --repeat times (once if it does not complete: waiting out another timeout tells nothing new). */
async function measureRepeated(group: MethodGroup, dataset: DatasetInfo, condition: Condition, options: BenchOptions): Promise<Measured> {
  const runs: Measurement[] = [];
  for (let i = 1; i <= options.repeat; i++) {
    if (options.repeat > 1) log(`run ${i} of ${options.repeat}`);
    const rows = await measureSafely(group, dataset, condition, options);
    runs.push(...rows);
    if (rows.some((r) => !r.completed.ok)) break;
  }
  return { rows: GROUP_ROWS[group].map((method) => combineRuns(runs.filter((r) => r.method === method))), runs };
}

async function measureAll(datasets: DatasetInfo[], options: BenchOptions): Promise<Measured> {
  const all: Measured = { rows: [], runs: [] };
  for (const dataset of datasets) {
    for (const condition of CONDITIONS) {
      for (const group of METHOD_GROUPS) {
        const { rows, runs } = await measureRepeated(group, dataset, condition, options);
        all.rows.push(...rows);
        all.runs.push(...runs);
      }
    }
  }
  return all;
}

/** The event-loop goal is about the worst moment, so of several runs the one with the longest delay is kept. */
async function measureEventLoopRepeated(dataset: DatasetInfo, options: BenchOptions): Promise<EventLoopResult | string> {
  let worst: EventLoopResult | string = 'not run';
  for (let i = 1; i <= options.repeat; i++) {
    const result = await measureEventLoop(dataset, options);
    if (typeof result === 'string') return result;
    if (typeof worst === 'string' || result.maxMs > worst.maxMs) worst = result;
  }
  return worst;
}

function preflight(): void {
  if (platform() !== 'linux') throw new Error('the benchmark reads peak RSS from /proc and runs on Linux only');
  for (const file of [LIFEBOAT_CLI, POS_WRITER]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first (or use \`npm run bench\`)`);
  }
}

/** The agent's own goals (issue 3: idle RSS, wake-ups) and the Drive upload's (issue 5: flat memory). */
function agentSection(idle: AgentIdleResult | string, tray: AgentTrayIdleResult | string, upload: DriveUploadResult | string, sizeMb: number): string {
  const mark = (ok: boolean): string => (ok ? '**PASS**' : '**FAIL**');
  const lines: string[] = [];
  if (typeof idle === 'string') lines.push(`- idle agent: not measured (${idle})`);
  else {
    lines.push('| idle headless agent | RSS (MiB) | peak RSS (MiB) | scheduler wake-ups / min | process context switches / min | observed (s) |', '|---|---|---|---|---|---|');
    lines.push(`| one job, nothing due | ${idle.rssMiB} | ${idle.peakRssMiB} | ${idle.schedulerTicksPerMin} | ${idle.contextSwitchesPerMin} | ${idle.observedSeconds} |`, '');
    lines.push(`- ${mark(idle.rssMiB < 70)} idle headless agent RSS < 70 MiB: ${idle.rssMiB} MiB`);
  }
  if (typeof tray === 'string') lines.push(`- idle agent with its tray icon: not measured (${tray})`);
  else {
    lines.push(`- ${mark(tray.met)} idle agent plus tray helper (under Xvfb with trayer) RSS < ${tray.goalMiB} MiB: ${tray.totalRssMiB} MiB (agent ${tray.agentRssMiB}, helper ${tray.helperRssMiB}; private memory of both ${tray.totalAnonMiB} MiB; observed ${tray.observedSeconds} s)`);
  }
  if (typeof upload === 'string') lines.push(`- Drive upload: not measured (${upload})`);
  else {
    lines.push(`- Drive: resumable upload of ${sizeMb} MiB through @googleapis/drive + google-auth-library to the stand-in on 127.0.0.1: ${upload.seconds} s (${upload.mibPerSecond} MiB/s), uploader RSS ${upload.rssBeforeMiB} → peak ${upload.peakRssMiB} MiB`);
    lines.push(`- ${mark(upload.growthMiB < 64)} upload memory flat: RSS growth < 64 MiB: +${upload.growthMiB} MiB`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  let options: BenchOptions | null;
  try {
    options = parseBenchArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  if (!options) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  preflight();
  const started = performance.now();
  await removeWork(); // Copies left by a run that was killed.

  const datasets: DatasetInfo[] = [];
  for (const mode of MODES) datasets.push(await ensureDataset(options.sizeMb, mode));
  // Only now: generating is synchronous, so a handler would delay Ctrl-C until it ends, while the
  // default action stops at once and the next run removes the half-built file.
  installCleanup();
  const machine = describeMachine(BENCH_DIR);
  const { rows, runs } = await measureAll(datasets, options);
  const wal = datasets.find((d) => d.mode === 'wal');
  const loop = wal ? await measureEventLoopRepeated(wal, options) : 'no WAL database';
  const goals = evaluateGoals(rows, loop);
  log('idle headless agent (60 s)…');
  const idle = wal ? await measureAgentIdle(wal.path, 60).catch((e: unknown) => String(e)) : 'no WAL database';
  log('idle agent with its tray icon, under Xvfb (30 s)…');
  const tray = wal ? await measureAgentTrayIdle(wal.path, 30).then((r) => r ?? 'Xvfb, trayer or dbus-daemon is missing').catch((e: unknown) => String(e)) : 'no WAL database';
  log(`resumable upload of ${options.sizeMb} MiB to the local Drive stand-in…`);
  const upload = await measureDriveUpload(options.sizeMb * 2 ** 20).catch((e: unknown) => String(e));

  const markdown = [
    `# Lifeboat benchmark (${options.sizeMb} MiB)`,
    '',
    machineSection(machine, datasets, options),
    '',
    '## Results',
    '',
    resultsTable(rows),
    '',
    '## Lifeboat backup, step by step',
    '',
    lifeboatTable(rows),
    '',
    '## Event loop of the caller',
    '',
    eventLoopSection(loop),
    '',
    '## Agent and off-site copies',
    '',
    agentSection(idle, tray, upload, options.sizeMb),
    '',
    '## Goals',
    '',
    goalsSection(goals),
    '',
  ].join('\n');
  process.stdout.write(markdown);
  const json = { finishedAt: new Date().toISOString(), options, machine, datasets, measurements: rows, runs, eventLoop: loop, goals, agentIdle: idle, agentTrayIdle: tray, driveUpload: upload };
  await writeFile(LAST_RUN_JSON, JSON.stringify(json, null, 2) + '\n');
  log(`done in ${((performance.now() - started) / 1000).toFixed(0)} s; results also in ${LAST_RUN_JSON}`);
}

main().catch((err: unknown) => {
  log(`failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exitCode = 1;
});
