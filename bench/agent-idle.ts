import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AGENT_NODE_FLAGS } from '../agent/node-flags.js';

/**
 * The idle headless agent, as a till PC runs it all day: RSS, and how often it wakes when nothing
 * is due (the scheduler's own ticks, and the whole process's voluntary context switches, which
 * also count pino's and libuv's threads). Linux only: it reads /proc.
 */
export interface AgentIdleResult {
  rssMiB: number;
  peakRssMiB: number;
  schedulerTicksPerMin: number;
  contextSwitchesPerMin: number;
  observedSeconds: number;
}

const CLI = fileURLToPath(new URL('../agent/cli.js', import.meta.url));

function procStatus(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

const kib = (v: string | undefined): number => Number((v ?? '0').split(/\s+/)[0]) / 1024;

async function status(home: string): Promise<{ schedulerTicks: number }> {
  const out = await new Promise<string>((resolve) => {
    const c = spawn(process.execPath, [CLI, 'status', '--json'], { env: { ...process.env, LIFEBOAT_HOME: home }, stdio: ['ignore', 'pipe', 'ignore'] });
    let s = '';
    c.stdout.on('data', (d: Buffer) => (s += d.toString()));
    c.on('exit', () => resolve(s));
  });
  const parsed = JSON.parse(out) as { agent: { schedulerTicks?: number } };
  return { schedulerTicks: parsed.agent.schedulerTicks ?? 0 };
}

/** A job whose schedule never comes due while measuring (03:00 on 1 January). */
function idleJob(home: string, dbPath: string): Record<string, unknown> {
  return {
    id: 'pos', name: 'POS', db: dbPath, schedule: { cron: '0 3 1 1 *' }, destinations: [{ kind: 'folder', path: join(home, 'backups') }],
    retention: { keepLast: 7, daily: 7, weekly: 4, monthly: 12, maxAgeDays: null }, check: 'quick', gzip: false, quietSeconds: 2, maxWaitSeconds: 30,
    busyRetry: { attempts: 5, delaySeconds: 1, timeoutSeconds: 2 }, retry: { attempts: 3, delaySeconds: 60, maxDelaySeconds: 900 },
    enabled: true, pausedUntil: null, createdAt: new Date().toISOString(),
  };
}

export async function measureAgentIdle(dbPath: string, observeSeconds = 60): Promise<AgentIdleResult> {
  const home = mkdtempSync(join(tmpdir(), 'lifeboat-bench-agent-'));
  writeFileSync(join(home, 'config.json'), JSON.stringify({ jobs: [idleJob(home, dbPath)], settings: {} }));
  const child = spawn(process.execPath, [...AGENT_NODE_FLAGS, CLI, 'start', '--headless'], { env: { ...process.env, LIFEBOAT_HOME: home }, stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 5000));
    const pid = child.pid ?? 0;
    const s0 = procStatus(pid);
    const t0 = await status(home);
    const started = Date.now();
    await new Promise((r) => setTimeout(r, observeSeconds * 1000));
    const s1 = procStatus(pid);
    const t1 = await status(home);
    const minutes = (Date.now() - started) / 60_000;
    const switches = (st: Record<string, string>): number => Number(st.voluntary_ctxt_switches ?? 0);
    return {
      rssMiB: Math.round(kib(s1.VmRSS) * 10) / 10,
      peakRssMiB: Math.round(kib(s1.VmHWM) * 10) / 10,
      schedulerTicksPerMin: Math.round(((t1.schedulerTicks - t0.schedulerTicks) / minutes) * 10) / 10,
      contextSwitchesPerMin: Math.round((switches(s1) - switches(s0)) / minutes),
      observedSeconds: Math.round(minutes * 60),
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(home, { recursive: true, force: true });
  }
}

export interface AgentTrayIdleResult {
  agentRssMiB: number;
  helperRssMiB: number;
  /** Agent and tray helper together: the goal is under TRAY_IDLE_GOAL_MIB. */
  totalRssMiB: number;
  /** Anonymous (private) memory of both: RSS minus shared library and binary pages. */
  totalAnonMiB: number;
  goalMiB: number;
  met: boolean;
  observedSeconds: number;
}

export const TRAY_IDLE_GOAL_MIB = 90;

function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function childPids(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((t) => readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
  } catch {
    return [];
  }
}

/**
 * The idle agent as a shop PC runs it: `lifeboat start` with its tray icon, under Xvfb with trayer
 * as the tray host and a private session bus. RSS of the agent plus the tray helper process
 * (GTK), summed. Null (with the reason on stderr) when Xvfb, trayer or dbus-daemon is missing.
 */
export async function measureAgentTrayIdle(dbPath: string, observeSeconds = 30): Promise<AgentTrayIdleResult | null> {
  const missing = ['Xvfb', 'trayer', 'dbus-daemon'].filter((c) => !hasCommand(c));
  if (missing.length > 0) {
    process.stderr.write(`agent+tray idle RSS not measured: needs ${missing.join(', ')} (apt-get install xvfb trayer dbus)\n`);
    return null;
  }
  const { x11SelectionOwned } = await import('../agent/desktop/tray-host.js');
  const home = mkdtempSync(join(tmpdir(), 'lifeboat-bench-tray-'));
  writeFileSync(join(home, 'config.json'), JSON.stringify({ jobs: [idleJob(home, dbPath)], settings: {} }));
  const procs: ChildProcess[] = [];
  const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  try {
    const x = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '800x600x24', '-nolisten', 'tcp', '-noreset'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
    procs.push(x);
    let fd3 = '';
    (x.stdio[3] as NodeJS.ReadableStream).on('data', (b: Buffer) => (fd3 += b.toString()));
    for (let i = 0; i < 100 && !fd3.includes('\n'); i++) await wait(50);
    const display = `:${fd3.trim()}`;
    const bus = spawn('dbus-daemon', ['--session', '--nofork', '--print-address=1'], { stdio: ['ignore', 'pipe', 'ignore'] });
    procs.push(bus);
    let address = '';
    bus.stdout.on('data', (b: Buffer) => (address += b.toString()));
    for (let i = 0; i < 100 && !address.includes('\n'); i++) await wait(50);
    const env = { ...process.env, DISPLAY: display, DBUS_SESSION_BUS_ADDRESS: address.trim(), LIFEBOAT_HOME: home, HOME: home };
    procs.push(spawn('trayer', ['--edge', 'top', '--align', 'right', '--widthtype', 'request', '--height', '24', '--SetDockType', 'true'], { env, stdio: 'ignore' }));
    for (let i = 0; i < 100 && !(await x11SelectionOwned(display, '_NET_SYSTEM_TRAY_S0', env).catch(() => false)); i++) await wait(100);
    const agent = spawn(process.execPath, [...AGENT_NODE_FLAGS, CLI, 'start'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    procs.push(agent);
    let out = '';
    agent.stderr.on('data', (b: Buffer) => (out += b.toString()));
    for (let i = 0; i < 200 && !/Tray icon shown|No tray icon/.test(out); i++) await wait(100);
    if (!out.includes('Tray icon shown')) throw new Error(`the agent did not show its tray icon: ${out.slice(-500)}`);
    await wait(5000);
    const started = Date.now();
    await wait(observeSeconds * 1000);
    const pid = agent.pid ?? 0;
    const helper = childPids(pid).find((c) => readFileSync(`/proc/${c}/comm`, 'utf8').startsWith('tray_'));
    if (!helper) throw new Error('no tray helper process under the agent');
    const agentRss = kib(procStatus(pid).VmRSS);
    const helperRss = kib(procStatus(helper).VmRSS);
    const total = Math.round((agentRss + helperRss) * 10) / 10;
    const anon = Math.round((kib(procStatus(pid).RssAnon) + kib(procStatus(helper).RssAnon)) * 10) / 10;
    return {
      agentRssMiB: Math.round(agentRss * 10) / 10, helperRssMiB: Math.round(helperRss * 10) / 10, totalRssMiB: total, totalAnonMiB: anon,
      goalMiB: TRAY_IDLE_GOAL_MIB, met: total < TRAY_IDLE_GOAL_MIB, observedSeconds: Math.round((Date.now() - started) / 1000),
    };
  } finally {
    for (const p of procs.reverse()) {
      if (p.exitCode === null && p.signalCode === null) {
        p.kill('SIGTERM');
        await new Promise((r) => p.once('exit', r));
      }
    }
    rmSync(home, { recursive: true, force: true });
  }
}

// Run on its own: node dist/bench/agent-idle.js DB [SECONDS] [--tray]
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const tray = args.includes('--tray');
  const [db, secs] = args.filter((a) => a !== '--tray');
  if (!db) {
    process.stderr.write('usage: agent-idle DB [SECONDS] [--tray]\n');
    process.exit(2);
  }
  if (tray) measureAgentTrayIdle(db, Number(secs ?? 30)).then((r) => process.stdout.write(JSON.stringify(r) + '\n'));
  else measureAgentIdle(db, Number(secs ?? 60)).then((r) => process.stdout.write(JSON.stringify(r) + '\n'));
}
