import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

export async function measureAgentIdle(dbPath: string, observeSeconds = 60): Promise<AgentIdleResult> {
  const home = mkdtempSync(join(tmpdir(), 'lifeboat-bench-agent-'));
  const job = {
    id: 'pos', name: 'POS', db: dbPath, schedule: { cron: '0 3 1 1 *' }, destinations: [{ kind: 'folder', path: join(home, 'backups') }],
    retention: { keepLast: 7, daily: 7, weekly: 4, monthly: 12, maxAgeDays: null }, check: 'quick', gzip: false, quietSeconds: 2, maxWaitSeconds: 30,
    busyRetry: { attempts: 5, delaySeconds: 1, timeoutSeconds: 2 }, retry: { attempts: 3, delaySeconds: 60, maxDelaySeconds: 900 },
    enabled: true, pausedUntil: null, createdAt: new Date().toISOString(),
  };
  writeFileSync(join(home, 'config.json'), JSON.stringify({ jobs: [job], settings: {} }));
  const child = spawn(process.execPath, [CLI, 'start', '--headless'], { env: { ...process.env, LIFEBOAT_HOME: home }, stdio: 'ignore' });
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

// Run on its own: node dist/bench/agent-idle.js DB [SECONDS]
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [db, secs] = process.argv.slice(2);
  if (!db) {
    process.stderr.write('usage: agent-idle DB [SECONDS]\n');
    process.exit(2);
  }
  measureAgentIdle(db, Number(secs ?? 60)).then((r) => process.stdout.write(JSON.stringify(r) + '\n'));
}
