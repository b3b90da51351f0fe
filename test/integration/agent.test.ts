import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_JOB_FIELDS, type Job } from '../../agent/config/job.js';
import { lockDatabase } from '../../agent/runner/db-lock.js';
import { requireOrSkip } from '../helpers/env.js';
import { CLI, makePosDb, runCli, sleep, startWriter, tempDir } from '../helpers/fixtures.js';

const t = tempDir('agent');
const db = join(t.dir, 'pos.db');
makePosDb(db, 8 << 20, 'wal');
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGKILL');
      await new Promise((r) => c.once('exit', r));
    }
  }
});
afterAll(() => t.cleanup());

let homes = 0;
function newHome(): string {
  return join(t.dir, `home-${++homes}`);
}

function startAgent(home: string, extraEnv: NodeJS.ProcessEnv = {}): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, 'start', '--headless'], { env: { ...process.env, LIFEBOAT_HOME: home, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for: ${what}`);
}

function writeConfig(home: string, jobs: Job[], settings: Record<string, unknown> = {}): void {
  writeFileSync(join(home, 'config.json'), JSON.stringify({ jobs, settings }, null, 2));
}

function jobFor(over: Partial<Job> = {}): Job {
  return {
    ...structuredClone(DEFAULT_JOB_FIELDS), id: 'pos', name: 'POS', db, schedule: { cron: '0 23 * * *', timezone: 'UTC' },
    destinations: [{ kind: 'folder', path: join(t.dir, 'backups') }], quietSeconds: 0, createdAt: new Date().toISOString(), ...over,
  };
}

const env = (home: string): { env: NodeJS.ProcessEnv } => ({ env: { LIFEBOAT_HOME: home } });

describe('one agent per LIFEBOAT_HOME', () => {
  it('two agents started at once leave exactly one running; the other says so and exits 0', async () => {
    const home = newHome();
    const a = startAgent(home);
    const b = startAgent(home);
    const first = await Promise.race([a.exited.then(() => 'a'), b.exited.then(() => 'b'), sleep(15_000).then(() => 'none')]);
    expect(first).not.toBe('none');
    const loser = first === 'a' ? a : b;
    const winner = first === 'a' ? b : a;
    expect(await loser.exited).toBe(0);
    expect(loser.output()).toMatch(/already running \(pid \d+\)/);
    expect(winner.child.exitCode).toBeNull();
    const status = await runCli(['status', '--json'], env(home));
    expect(status.json).toMatchObject({ agent: { running: true, pid: winner.child.pid } });
  });

  it('a crashed agent\'s stale socket is taken over by the next start', async () => {
    const home = newHome();
    const a = startAgent(home);
    await until('agent up', async () => (await runCli(['status', '--json'], env(home))).json.agent !== undefined && a.output().includes('running (pid'));
    a.child.kill('SIGKILL');
    await a.exited;
    expect(existsSync(join(home, 'agent.sock'))).toBe(true);
    const b = startAgent(home);
    await until('second agent up', () => b.output().includes('Lifeboat agent running'));
    const status = await runCli(['status', '--json'], env(home));
    expect(status.json).toMatchObject({ agent: { running: true, pid: b.child.pid } });
  });
});

describe('catch-up with the real agent process and the real clock', () => {
  it('a job created 3 days ago that never ran gets exactly one catch-up run at start, and none after a restart', async () => {
    const home = newHome();
    const { mkdirSync } = await import('node:fs');
    mkdirSync(home, { recursive: true });
    const threeDaysAgo = new Date(Date.now() - 3 * 86_400_000).toISOString();
    writeConfig(home, [jobFor({ createdAt: threeDaysAgo, schedule: { cron: '0 3 * * *', timezone: 'UTC' } })], { catchUpDelaySeconds: 1 });
    const a = startAgent(home);
    await until('catch-up run recorded', async () => {
      const h = await runCli(['history', '--json'], env(home));
      return Array.isArray(h.json.runs) && (h.json.runs as unknown[]).length > 0 && (h.json.runs as Array<{ outcome: string }>)[0]?.outcome !== 'running';
    });
    await sleep(2500);
    const h = await runCli(['history', '--json'], env(home));
    const runs = h.json.runs as Array<{ trigger: string; outcome: string; jobId: string }>;
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ trigger: 'catch-up', outcome: 'success', jobId: 'pos' });
    expect(a.output()).toMatch(/pos \(catch-up\): backup OK/);
    // Restarting does not catch up again: the last success now covers the missed occurrence.
    a.child.kill('SIGTERM');
    await a.exited;
    const b = startAgent(home);
    await until('restarted', () => b.output().includes('Lifeboat agent running'));
    await sleep(2500);
    expect(((await runCli(['history', '--json'], env(home))).json.runs as unknown[]).length).toBe(1);
  });
});

const LIBFAKETIME = [`/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu/faketime/libfaketime.so.1`, '/usr/lib/faketime/libfaketime.so.1'].find((p) => existsSync(p)) ?? '';
const haveFaketime = requireOrSkip(LIBFAKETIME !== '', "Debian's faketime package (libfaketime), to move a running agent's clock");

describe.skipIf(!haveFaketime)('a real agent whose wall clock jumps while it runs (libfaketime)', () => {
  it('after a good backup, the clock jumping 3 days forward (as after a suspend: monotonic time untouched) gives exactly one catch-up', async () => {
    const home = newHome();
    mkdirSync(home, { recursive: true });
    // Daily, 12 hours from now: nothing is due at start, and a 3-day jump passes 3 occurrences.
    const hour = (new Date().getUTCHours() + 12) % 24;
    writeConfig(home, [jobFor({ createdAt: new Date(Date.now() - 60_000).toISOString(), schedule: { cron: `0 ${hour} * * *`, timezone: 'UTC' } })], { catchUpDelaySeconds: 1 });
    const clockFile = join(home, 'faketime');
    writeFileSync(clockFile, '+0\n');
    const a = startAgent(home, { LD_PRELOAD: LIBFAKETIME, FAKETIME_TIMESTAMP_FILE: clockFile, FAKETIME_CACHE_DURATION: '1', DONT_FAKE_MONOTONIC: '1' });
    await until('agent up', () => a.output().includes('Lifeboat agent running'));
    const manual = await runCli(['now', 'pos', '--wait'], env(home));
    expect(manual.code, manual.stderr).toBe(0);
    await sleep(1500);
    const runs = async (): Promise<Array<{ trigger: string; outcome: string; startedAt: string }>> =>
      (await runCli(['history', '--json'], env(home))).json.runs as Array<{ trigger: string; outcome: string; startedAt: string }>;
    expect((await runs()).map((r) => r.trigger)).toEqual(['manual']);

    writeFileSync(clockFile, '+3d\n');
    // The watchdog looks at most every 30 s.
    await until('catch-up after the jump', async () => (await runs()).some((r) => r.trigger === 'catch-up' && r.outcome !== 'running'), 45_000);
    await sleep(3000);
    const after = await runs();
    expect(after.map((r) => [r.trigger, r.outcome])).toEqual([['catch-up', 'success'], ['manual', 'success']]);
    // Recorded at the agent's (moved) time: three days after the manual run.
    expect(Date.parse(after[0]?.startedAt ?? '') - Date.parse(after[1]?.startedAt ?? '')).toBeGreaterThan(2.9 * 86_400_000);
    expect(a.output()).toMatch(/pos \(catch-up\): backup OK/);
  }, 90_000);
});

describe('talking to the agent', () => {
  it('`now` during a running backup is coalesced; `now --wait` returns the result', async () => {
    const home = newHome();
    const { mkdirSync } = await import('node:fs');
    mkdirSync(home, { recursive: true });
    // A quiet period that the writer keeps from happening keeps the first run busy for a while.
    writeConfig(home, [jobFor({ quietSeconds: 2, maxWaitSeconds: 3 })]);
    const writer = await startWriter(db, 50);
    try {
      const a = startAgent(home);
      await until('agent up', () => a.output().includes('Lifeboat agent running'));
      const first = await runCli(['now', 'pos', '--json'], env(home));
      const second = await runCli(['now', 'pos', '--json'], env(home));
      const third = await runCli(['now', 'pos', '--json'], env(home));
      expect([first.json.queued, second.json.queued, third.json.queued]).toEqual([
        [{ job: 'pos', result: 'started' }], [{ job: 'pos', result: 'queued' }], [{ job: 'pos', result: 'coalesced' }],
      ]);
      const waited = await runCli(['now', 'pos', '--wait', '--json'], { ...env(home), timeoutMs: 50_000 });
      expect(waited.code).toBe(0);
      expect(waited.json).toMatchObject({ ok: true, results: [{ job: 'pos', ok: true }] });
      const runs = (await runCli(['history', '--json'], env(home))).json.runs as Array<{ trigger: string; outcome: string }>;
      // started + one coalesced follow-up + the --wait one (queued behind nothing or coalesced).
      expect(runs.filter((r) => r.trigger === 'manual').length).toBeGreaterThanOrEqual(2);
      expect(runs.filter((r) => r.trigger === 'manual').length).toBeLessThanOrEqual(3);
      expect(runs.every((r) => r.outcome === 'success')).toBe(true);
    } finally {
      await writer.stop();
    }
  });

  it('without an agent, `now` exits 8 and `status` reads config and history directly', async () => {
    const home = newHome();
    const { mkdirSync } = await import('node:fs');
    mkdirSync(home, { recursive: true });
    writeConfig(home, [jobFor()]);
    const now = await runCli(['now'], env(home));
    expect(now.code).toBe(8);
    expect(now.stderr).toMatch(/agent is not running.*lifeboat start/);
    const backup = await runCli(['backup', '--db', db, '--dest', join(t.dir, 'cli-backups'), '--quiet', '0'], env(home));
    expect(backup.code).toBe(0);
    const status = await runCli(['status', '--json'], env(home));
    expect(status.json).toMatchObject({ agent: { running: false }, jobs: [{ id: 'pos', state: 'idle' }] });
    const history = await runCli(['history', '--json'], env(home));
    expect(history.json.runs).toMatchObject([{ trigger: 'cli', outcome: 'success', jobId: null }]);
  });

  it('a headless backup and the agent never back up the same database at once (shared lock)', async () => {
    const home = newHome();
    const release = await lockDatabase(home, db);
    try {
      const r = await runCli(['backup', '--db', db, '--dest', join(t.dir, 'locked-out'), '--quiet', '0'], env(home));
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(/Another Lifeboat backup of .* is running right now/);
    } finally {
      await release();
    }
  });
});

describe('config', () => {
  it('a hand-broken config.json is reported with its line, kept byte for byte, and the agent runs on the last valid one', async () => {
    const home = newHome();
    const add = await runCli(['job', 'add', '--name', 'Till', '--db', db, '--schedule', 'daily at 23:00', '--dest', join(t.dir, 'till-backups')], env(home));
    expect(add.code).toBe(0);
    const path = join(home, 'config.json');
    const broken = readFileSync(path, 'utf8').replace('"name": "Till",', '"name": "Till"\n,,');
    writeFileSync(path, broken);
    const list = await runCli(['job', 'list', '--json'], env(home));
    expect(list.stderr).toMatch(/config\.json line \d+, column \d+ is not valid JSON/);
    expect(list.json).toMatchObject({ jobs: [{ id: 'till' }] });
    const add2 = await runCli(['job', 'add', '--name', 'Other', '--db', db, '--schedule', 'hourly', '--dest', join(t.dir, 'x')], env(home));
    expect(add2.code).toBe(7);
    expect(add2.stderr).toMatch(/config file is broken, so it was not changed.*last valid version is in/);
    expect(readFileSync(path, 'utf8')).toBe(broken);

    const a = startAgent(home);
    await until('agent up', () => a.output().includes('Lifeboat agent running'));
    expect(a.output()).toMatch(/not valid JSON.*Running on the last valid config/s);
    const status = await runCli(['status', '--json'], env(home));
    expect(status.json).toMatchObject({ agent: { running: true }, config: { usingLastGood: true }, jobs: [{ id: 'till' }] });
    expect(String((status.json.config as { problem: string }).problem)).toMatch(/line \d+/);
    expect(readFileSync(path, 'utf8')).toBe(broken);
  });

  it('a schema violation names the job, the field and what is allowed; an unknown top-level key is one too', async () => {
    const home = newHome();
    await runCli(['job', 'add', '--name', 'Till', '--db', db, '--schedule', 'hourly', '--dest', join(t.dir, 'b2')], env(home));
    const path = join(home, 'config.json');
    const good = readFileSync(path, 'utf8');
    writeFileSync(path, good.replace('"check": "quick"', '"check": "thorough"'));
    const s = await runCli(['status'], env(home));
    expect(s.stderr).toMatch(/has a value that is not allowed: job "till": check is "thorough"; allowed: quick, full, none/);
    // conf's own "__internal__" key is in every file and is no problem; a misspelled "settings" is.
    expect(good).toMatch(/"__internal__"/);
    writeFileSync(path, good.replace('"settings"', '"setings"'));
    const list = await runCli(['job', 'list'], env(home));
    expect(list.stderr).toMatch(/the top level has unknown key "setings"; allowed: jobs, settings/);
    expect(list.stderr).not.toMatch(/__internal__/);
  });

  it.each([
    [['--db', 'pos.db'], 2, /relative path.*full path/],
    [['--db', join(t.dir, 'missing.db')], 3, /not found/],
    [['--schedule', 'every day'], 2, /not a schedule Lifeboat understands.*daily at 23:00/],
    [['--schedule', 'daily at 24:30'], 2, /24-hour clock/],
    [['--timezone', 'Mars/Olympus'], 2, /Unknown time zone/],
    [['--dest', 'backups'], 2, /relative path/],
  ])('job add refuses %j (exit %i) and saves nothing', async (patch, code, message) => {
    const home = newHome();
    const args: Record<string, string> = { '--name': 'Till', '--db': db, '--schedule': 'daily at 23:00', '--dest': join(t.dir, 'b3') };
    for (let i = 0; i < patch.length; i += 2) args[patch[i] as string] = patch[i + 1] as string;
    const r = await runCli(['job', 'add', ...Object.entries(args).flat()], env(home));
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(existsSync(join(home, 'config.json')) ? JSON.parse(readFileSync(join(home, 'config.json'), 'utf8')).jobs ?? [] : []).toEqual([]);
  });
});

/** Hand edits the JSON schema lets through; each must be reported like a schema violation. */
const BAD_EDITS: Array<[string, (jobs: Job[]) => void, RegExp]> = [
  ['a cron croner cannot read', ([j]) => ((j as Job).schedule.cron = 'bogus'), /job "till": schedule\.cron "bogus" is not a schedule Lifeboat understands \(it does not have five fields\)/],
  ['an unknown time zone', ([j]) => ((j as Job).schedule.timezone = 'Mars/Olympus'), /job "till": schedule\.timezone "Mars\/Olympus" is not a known time zone/],
  ['a relative database path', ([j]) => ((j as Job).db = 'pos.db'), /job "till": db "pos\.db" is a relative path/],
  ['a second job with the same id', (jobs) => jobs.push({ ...(jobs[0] as Job), name: 'Till copy' }), /job "till": id is used by two jobs/],
];

function handEdit(home: string, edit: (jobs: Job[]) => void): string {
  const config = JSON.parse(readFileSync(join(home, 'config.json'), 'utf8')) as { jobs: Job[] };
  edit(config.jobs);
  const text = JSON.stringify(config, null, 2);
  writeFileSync(join(home, 'config.json'), text);
  return text;
}

async function addTill(home: string): Promise<void> {
  const add = await runCli(['job', 'add', '--name', 'Till', '--db', db, '--schedule', 'daily at 23:00', '--timezone', 'UTC', '--dest', join(t.dir, 'till-b')], env(home));
  expect(add.code).toBe(0);
}

describe('a hand edit the schema cannot judge', () => {
  it.each(BAD_EDITS)('(%s) leaves the running agent on the last good config, reported, with both files kept', async (_what, edit, problem) => {
    const home = newHome();
    await addTill(home);
    const lastGood = readFileSync(join(home, 'config.last-good.json'), 'utf8');
    const a = startAgent(home);
    await until('agent up', () => a.output().includes('Lifeboat agent running'));
    const bad = handEdit(home, edit);
    await until('the problem reported', async () => Boolean(((await runCli(['status', '--json'], env(home))).json.config as { problem: string | null } | undefined)?.problem));
    const status = await runCli(['status', '--json'], env(home));
    expect(status.json).toMatchObject({ agent: { running: true, pid: a.child.pid }, config: { usingLastGood: true }, jobs: [{ id: 'till', schedule: 'daily at 23:00 (UTC)' }] });
    expect(String((status.json.config as { problem: string }).problem)).toMatch(problem);
    const list = await runCli(['job', 'list', '--json'], env(home));
    expect(list.stderr).toMatch(problem);
    expect(list.json).toMatchObject({ jobs: [{ id: 'till', db, schedule: { cron: '0 23 * * *', timezone: 'UTC' } }] });
    expect(readFileSync(join(home, 'config.json'), 'utf8')).toBe(bad);
    expect(readFileSync(join(home, 'config.last-good.json'), 'utf8')).toBe(lastGood);
    expect(a.child.exitCode).toBeNull();
    expect(a.output()).not.toMatch(/TypeError|Unexpected error/);
    // `job` changes are refused until the file is fixed.
    const pause = await runCli(['job', 'pause', 'till'], env(home));
    expect(pause.code).toBe(7);
    expect(readFileSync(join(home, 'config.json'), 'utf8')).toBe(bad);
  });

  it.each(BAD_EDITS)('(%s) makes an offline `status` report the problem and exit 0, not crash', async (_what, edit, problem) => {
    const home = newHome();
    await addTill(home);
    handEdit(home, edit);
    const s = await runCli(['status'], env(home));
    expect(s.code).toBe(0);
    expect(s.stderr).toMatch(problem);
    expect(s.stderr).toMatch(/running on the last valid config/);
    const json = await runCli(['status', '--json'], env(home));
    expect(json.code).toBe(0);
    expect(json.json).toMatchObject({ agent: { running: false }, config: { usingLastGood: true }, jobs: [{ id: 'till' }] });
  });

  it('with no last good config, `start` runs with no jobs and says why, keeps the file, and picks the fix up without a restart', async () => {
    const home = newHome();
    mkdirSync(home, { recursive: true });
    writeConfig(home, [jobFor({ id: 'till', schedule: { cron: 'bogus', timezone: 'UTC' } })]);
    const bad = readFileSync(join(home, 'config.json'), 'utf8');
    const a = startAgent(home);
    await until('agent up', () => a.output().includes('Lifeboat agent running'));
    expect(a.output()).toMatch(/config\.json has a problem: .*job "till": schedule\.cron "bogus".*Running with no jobs until it is fixed/s);
    const broken = await runCli(['status', '--json'], env(home));
    expect(broken.json).toMatchObject({ agent: { running: true, pid: a.child.pid }, config: { usingLastGood: false }, jobs: [] });
    expect(String((broken.json.config as { problem: string }).problem)).toMatch(/job "till": schedule\.cron "bogus"/);
    expect(readFileSync(join(home, 'config.json'), 'utf8')).toBe(bad);
    expect(existsSync(join(home, 'config.last-good.json'))).toBe(false);
    writeConfig(home, [jobFor({ id: 'till' })]);
    await until('the fix picked up', async () => ((await runCli(['status', '--json'], env(home))).json.jobs as unknown[] | undefined)?.length === 1);
    expect((await runCli(['status', '--json'], env(home))).json).toMatchObject({ agent: { running: true, pid: a.child.pid }, config: { problem: null }, jobs: [{ id: 'till' }] });
    expect(a.child.exitCode).toBeNull();
  });
});

describe('settings applied on reload', () => {
  it('a shorter catchUpDelaySeconds written while a catch-up waits makes it run soon', async () => {
    const home = newHome();
    mkdirSync(home, { recursive: true });
    const jobs = [jobFor({ createdAt: new Date(Date.now() - 3 * 86_400_000).toISOString(), schedule: { cron: '0 3 * * *', timezone: 'UTC' } })];
    writeConfig(home, jobs, { catchUpDelaySeconds: 3600 });
    const a = startAgent(home);
    await until('agent up', () => a.output().includes('Lifeboat agent running'));
    await sleep(1000);
    expect((await runCli(['history', '--json'], env(home))).json.runs).toEqual([]);
    writeConfig(home, jobs, { catchUpDelaySeconds: 1 });
    await until('the catch-up run', async () => ((await runCli(['history', '--json'], env(home))).json.runs as Array<{ trigger: string; outcome: string }>)
      .some((r) => r.trigger === 'catch-up' && r.outcome === 'success'));
  });
});

describe('the per-database lock', () => {
  it('is shared by a symlink to the database and the database itself', async () => {
    const home = newHome();
    const link = join(t.dir, 'pos-link.db');
    symlinkSync(db, link);
    const release = await lockDatabase(home, link);
    try {
      const r = await runCli(['backup', '--db', db, '--dest', join(t.dir, 'via-link'), '--quiet', '0'], env(home));
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(/Another Lifeboat backup of .*pos\.db is running right now/);
    } finally {
      await release();
    }
  });
});
