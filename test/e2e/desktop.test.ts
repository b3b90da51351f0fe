import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_JOB_FIELDS, type Job } from '../../agent/config/job.js';
import { AGENT_NODE_FLAGS } from '../../agent/node-flags.js';
import { startSnippet } from '../helpers/children.js';
import { missingDesktopTools, STATE_COLOURS, TestDesktop, until } from '../helpers/desktop.js';
import { requireOrSkip } from '../helpers/env.js';
import { CLI, makePosDb, runCli, sleep, tempDir } from '../helpers/fixtures.js';

/**
 * The desktop parts for real: the agent is started as `lifeboat start` under Xvfb, with trayer as
 * the tray host, dunst as the notification daemon on a private D-Bus session, and xdotool as the
 * person clicking. Screenshots go to test-artifacts/ (not committed).
 */
const run = promisify(execFile);
const missing = missingDesktopTools();
// Under CI=true requireOrSkip throws when a package is missing, so this file fails there instead of skipping.
const have = requireOrSkip(missing.length === 0, `the Debian packages ${missing.join(' ')} (apt-get install ${missing.join(' ')})`);

const t = tempDir('desktop');
const db = join(t.dir, 'pos.db');
const lockedDb = join(t.dir, 'locked.db');
if (have) {
  makePosDb(db, 1 << 20, 'wal');
  makePosDb(lockedDb, 1 << 20, 'delete');
}

let desk: TestDesktop;
beforeAll(async () => {
  if (have) desk = await TestDesktop.start({ trayHeight: 24 });
});
afterAll(async () => {
  await desk?.stop();
  t.cleanup();
});

interface Agent { child: ChildProcess; home: string; output: () => string; exited: Promise<number | null> }
const agents: Agent[] = [];
afterEach(async () => {
  await desk?.dunstCloseAll();
  for (const a of agents.splice(0)) {
    if (a.child.exitCode === null && a.child.signalCode === null) {
      a.child.kill('SIGKILL');
      await a.exited;
    }
  }
});

let homes = 0;
function job(over: Partial<Job> = {}): Job {
  return {
    ...structuredClone(DEFAULT_JOB_FIELDS), id: 'pos', name: 'POS', db, schedule: { cron: '0 3 1 1 *', timezone: 'UTC' },
    destinations: [{ kind: 'folder', path: join(t.dir, `backups-${homes}`) }], quietSeconds: 0, createdAt: new Date().toISOString(), ...over,
  } as Job;
}

function newHome(jobs: Job[], settings: Record<string, unknown> = {}): string {
  const home = join(t.dir, `home-${++homes}`);
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, 'config.json'), JSON.stringify({ jobs, settings }, null, 2));
  return home;
}

function startAgent(home: string, env: NodeJS.ProcessEnv, args: string[] = []): Agent {
  // HOME is the test's own, so start-at-login never touches the real ~/.config/autostart.
  // With the flags the launcher gives the agent in production (agent/node-flags.ts).
  const child = spawn(process.execPath, [...AGENT_NODE_FLAGS, CLI, 'start', ...args], { env: { ...process.env, DISPLAY: '', WAYLAND_DISPLAY: '', LIFEBOAT_HOME: home, HOME: home, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const a = { child, home, output: () => out, exited };
  agents.push(a);
  return a;
}

async function trayUp(a: Agent): Promise<void> {
  await until('the agent to show its tray icon', () => a.output().includes('Tray icon shown') || a.child.exitCode !== null, 20_000);
  expect(a.output()).toContain('Tray icon shown');
}

function logLines(home: string): Array<Record<string, unknown>> {
  const dir = join(home, 'logs');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => /^lifeboat\.\d+\.log$/.test(f)).sort().flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>));
}

async function history(home: string): Promise<Array<{ trigger: string; outcome: string; file: string | null; reason: string | null; jobId: string }>> {
  return (await runCli(['history', '--json'], { env: { LIFEBOAT_HOME: home } })).json.runs as Array<{ trigger: string; outcome: string; file: string | null; reason: string | null; jobId: string }>;
}

/** Pixels of each state's colour in the tray icon. */
async function iconColours(d: TestDesktop): Promise<Record<string, number>> {
  const icon = await d.trayIcon();
  return d.countColours(icon, STATE_COLOURS, 45);
}

async function iconState(d: TestDesktop, state: keyof typeof STATE_COLOURS, timeoutMs = 10_000): Promise<Record<string, number>> {
  return until(`the tray icon to turn ${state}`, async () => {
    const c = await iconColours(d);
    const others = Object.entries(c).filter(([k]) => k !== state).reduce((n, [, v]) => n + v, 0);
    return (c[state] ?? 0) >= 40 && others < 10 ? c : null;
  }, timeoutMs, 200);
}

// The menu of one job, not paused: status, Backup now, Pause backups, Open backup folder, Open log, Start at login, Quit.
const ROWS = 7;
const ROW = { status: 0, backupNow: 1, pause: 2, openFolder: 3, openLog: 4, autostart: 5, quit: 6 };

describe.skipIf(!have)('the tray, for real under Xvfb with trayer', () => {
  it('shows the icon; "Backup now" from the menu makes a backup with a history record; "Start at login" writes a valid entry; "Quit" ends agent and helper', async () => {
    const home = newHome([job()]);
    const a = startAgent(home, desk.env);
    await trayUp(a);
    const icon = await desk.trayIcon();
    expect(icon.w).toBeGreaterThanOrEqual(16);
    const idle = await iconState(desk, 'ok');
    expect(idle.ok).toBeGreaterThan(40);
    await desk.screenshot('tray-24px-ok.png');
    await desk.screenshot('tray-24px-ok-zoom.png', { x: icon.x - 8, y: 0, w: icon.w + 16, h: icon.h + 8, zoom: 8 });

    const menu = await desk.openTrayMenu();
    await desk.screenshot('tray-menu.png', { x: menu.x - 20, y: 0, w: menu.w + 60, h: menu.h + menu.y + 10 });
    await desk.clickRow(menu, ROW.backupNow, ROWS);
    const runs = await until('a manual backup in the history', async () => (await history(home)).find((r) => r.trigger === 'manual' && r.outcome === 'success'), 20_000);
    expect(runs.file).toBeTruthy();
    expect(existsSync(runs.file as string)).toBe(true);
    expect(readdirSync(dirname(runs.file as string)).filter((f) => f.endsWith('.sqlite'))).toHaveLength(1);
    expect(logLines(home).some((l) => l.event === 'tray-click' && l.item === 'Backup now')).toBe(true);

    // Start at login: the tick reflects the real entry, written where the session looks for it.
    const entry = join(home, '.config', 'autostart', 'lifeboat.desktop');
    expect(existsSync(entry)).toBe(false);
    await desk.clickRow(await desk.openTrayMenu(), ROW.autostart, ROWS);
    await until('the autostart entry', () => existsSync(entry), 10_000);
    await run('desktop-file-validate', [entry]);
    const ticked = await desk.openTrayMenu();
    await sleep(300);
    await desk.screenshot('tray-menu-autostart-on.png', { x: ticked.x - 20, y: 0, w: ticked.w + 60, h: ticked.h + ticked.y + 10 });
    await desk.clickRow(ticked, ROW.quit, ROWS);

    const helperPid = Number(logLines(home).find((l) => l.event === 'tray-ready')?.helperPid);
    expect(helperPid).toBeGreaterThan(0);
    expect(await Promise.race([a.exited, sleep(15_000).then(() => 'still running')])).toBe(0);
    await until('the tray helper to exit', () => !existsSync(`/proc/${helperPid}`), 5000);
    expect((await desk.windows('--classname', 'systray')).filter((w) => w.x >= 0)).toHaveLength(0);
  });

  it('a failing job (database locked beyond the max wait) turns the icon red and shows a notification through dunst', async () => {
    const home = newHome([job({
      id: 'till', name: 'Till', db: lockedDb, maxWaitSeconds: 1, busyRetry: { attempts: 2, delaySeconds: 1, timeoutSeconds: 1 }, retry: { attempts: 1, delaySeconds: 60, maxDelaySeconds: 60 },
    })]);
    const lock = await startSnippet(`const db = new Database(${JSON.stringify(lockedDb)}); db.exec('BEGIN EXCLUSIVE'); console.log('ready'); setInterval(() => {}, 1000);`);
    try {
      // A stand-in for the desktop's opener records what a click on the note opens.
      const bin = join(home, 'fake-bin');
      const opened = join(home, 'opened.txt');
      mkdirSync(bin);
      writeFileSync(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s\\n' "$1" >> '${opened}'\n`, { mode: 0o755 });
      const a = startAgent(home, { ...desk.env, PATH: `${bin}:${process.env.PATH ?? ''}` });
      await trayUp(a);
      await iconState(desk, 'ok');
      await desk.dunstCloseAll(); // so the click below can only land on this test's note
      const before = desk.notifyCalls.length;
      expect((await runCli(['now', 'till'], { env: { LIFEBOAT_HOME: home } })).code).toBe(0);
      const failed = await until('the failure in the history', async () => (await history(home)).find((r) => r.outcome === 'failure'), 30_000);
      expect(failed.reason).toMatch(/locked|busy/i);
      await iconState(desk, 'error');
      const note = await until('the Notify call on the bus', () => {
        const calls = desk.notifyCalls.slice(before);
        return calls.includes('Backup failed: Till') ? calls : null;
      }, 10_000);
      expect(note).toMatch(/What to do/);
      expect(note).toMatch(/locked|busy/i);
      expect(await desk.dunstDisplayed()).toBeGreaterThanOrEqual(1);
      await sleep(300);
      await desk.screenshot('tray-error-notification.png');
      // Clicking the note opens the log.
      await desk.dunstClickNewest();
      const target = await until('the click to open something', () => existsSync(opened) && readFileSync(opened, 'utf8').trim(), 10_000);
      expect(target).toBe(join(home, 'logs', 'current.log'));
      expect(logLines(home).some((l) => l.event === 'notification-clicked')).toBe(true);
      const icon = await desk.trayIcon();
      await desk.screenshot('tray-24px-error-zoom.png', { x: icon.x - 8, y: 0, w: icon.w + 16, h: icon.h + 8, zoom: 8 });
      const menu = await desk.openTrayMenu();
      await sleep(200);
      await desk.screenshot('tray-menu-error.png', { x: menu.x - 20, y: 0, w: menu.w + 60, h: menu.h + menu.y + 10 });
      await desk.xdotool('key', 'Escape');
      // A second failure of the same kind within the window is counted, not shown again.
      const calls = desk.notifyCalls.split('Backup failed: Till').length;
      expect((await runCli(['now', 'till', '--wait'], { env: { LIFEBOAT_HOME: home } })).code).toBe(4);
      await until('the repeat to be held back', () => logLines(home).some((l) => l.event === 'notify-suppressed'), 5000);
      expect(desk.notifyCalls.split('Backup failed: Till').length).toBe(calls);
    } finally {
      await lock.kill();
    }
  });

  it('"Pause backups → for 1 hour" stops scheduled runs; "Resume backups" starts them again', async () => {
    const home = newHome([job({ schedule: { cron: '*/2 * * * * *' } })]);
    const a = startAgent(home, desk.env);
    await trayUp(a);
    await until('a scheduled run', async () => (await history(home)).some((r) => r.trigger === 'schedule' && r.outcome === 'success'), 20_000);
    const menu = await desk.openTrayMenu();
    await desk.clickRow(menu, ROW.pause, ROWS);
    // The submenu is the popup that is not the main menu (which may have moved as its status line changed).
    const sub = await until('the pause submenu', async () => (await desk.menus()).find((m) => m.id !== menu.id), 5000);
    await desk.screenshot('tray-menu-pause.png');
    await desk.clickRow(sub, 0, 3);
    const paused = await until('the pause in config.json', () => {
      const j = (JSON.parse(readFileSync(join(home, 'config.json'), 'utf8')) as { jobs: Job[] }).jobs[0];
      return j?.pausedUntil ? j : null;
    }, 5000);
    expect(Date.parse(paused.pausedUntil as string) - Date.now()).toBeGreaterThan(55 * 60_000);
    await sleep(1500); // a run that had already started may finish
    const count = (await history(home)).filter((r) => r.trigger === 'schedule').length;
    await sleep(5000);
    expect((await history(home)).filter((r) => r.trigger === 'schedule').length).toBe(count);
    const status = await runCli(['status', '--json'], { env: { LIFEBOAT_HOME: home } });
    expect(status.json).toMatchObject({ jobs: [{ id: 'pos', state: 'paused' }] });

    // Paused, the menu shows "Resume backups" where "Pause backups" was.
    const again = await desk.openTrayMenu();
    await sleep(200);
    await desk.screenshot('tray-menu-paused.png', { x: again.x - 20, y: 0, w: again.w + 60, h: again.h + again.y + 10 });
    await desk.clickRow(again, ROW.pause, ROWS);
    await until('scheduled runs again', async () => (await history(home)).filter((r) => r.trigger === 'schedule').length > count, 10_000);
    expect(logLines(home).some((l) => l.event === 'tray-config' && l.what === 'resume backups')).toBe(true);
  });

  it('a tray helper that keeps crashing is restarted a bounded number of times, then the agent runs headless and says so', async () => {
    const home = newHome([job()]);
    const a = startAgent(home, desk.env);
    await trayUp(a);
    for (let i = 0; i < 4; i++) {
      const pid = await until('a running helper', () => {
        const ready = logLines(home).filter((l) => l.event === 'tray-ready');
        return ready.length === i + 1 ? Number(ready[i]?.helperPid) : null;
      }, 10_000);
      process.kill(pid, 'SIGKILL');
    }
    const gaveUp = await until('the headless line', () => logLines(home).find((l) => l.event === 'tray-headless'), 10_000);
    expect(String(gaveUp.msg)).toMatch(/crashed 4 times.*running headless/);
    expect(logLines(home).filter((l) => l.event === 'tray-helper-exit')).toHaveLength(3);
    // The agent itself goes on.
    const now = await runCli(['now', 'pos', '--wait', '--json'], { env: { LIFEBOAT_HOME: home } });
    expect(now.code).toBe(0);
    expect(a.child.exitCode).toBeNull();
  });
});

describe.skipIf(!have)('without a tray, the agent runs headless and says so once', () => {
  it('no display: one log line, and a notification that cannot be shown never breaks the backup', async () => {
    const home = newHome([job()], { notifyOnSuccess: true });
    // No DISPLAY and a session bus that is not there: no tray, and notify-send fails.
    const a = startAgent(home, { DISPLAY: '', WAYLAND_DISPLAY: '', DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(t.dir, 'no-bus')}` });
    await until('the agent to start', () => a.output().includes('No tray icon'), 30_000);
    expect(a.output()).toMatch(/No tray icon \(no display.*running headless/);
    const now = await runCli(['now', 'pos', '--wait', '--json'], { env: { LIFEBOAT_HOME: home } });
    expect(now.code).toBe(0);
    expect((await history(home))[0]).toMatchObject({ outcome: 'success', trigger: 'manual' });
    const failed = await until('the failed notification in the log', () => logLines(home).find((l) => l.event === 'notify-failed'), 10_000);
    expect(String(failed.msg)).toMatch(/the backup itself is not affected/);
    expect(logLines(home).filter((l) => l.event === 'desktop-headless')).toHaveLength(1);
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
  });

  it('a display without a tray host: one log line, headless; at 16 px with trayer the icon still reads', async () => {
    const bare = await TestDesktop.start({ tray: false, notifications: false });
    try {
      const home = newHome([job()]);
      const a = startAgent(home, bare.env);
      await until('the agent to start', () => a.output().includes('No tray icon'), 30_000);
      expect(a.output()).toMatch(/no tray host on display/);
      expect(logLines(home).filter((l) => l.event === 'desktop-headless')).toHaveLength(1);
      a.child.kill('SIGTERM');
      expect(await a.exited).toBe(0);
    } finally {
      await bare.stop();
    }
    const small = await TestDesktop.start({ trayHeight: 16, notifications: false });
    try {
      const a = startAgent(newHome([job()]), small.env);
      await trayUp(a);
      const icon = await small.trayIcon();
      const c = await until('the green icon at 16 px', async () => {
        const k = await small.countColours(icon, STATE_COLOURS, 45);
        return (k.ok ?? 0) >= 20 ? k : null;
      }, 10_000, 200);
      expect(c.error).toBeLessThan(5);
      await small.screenshot('tray-16px-ok-zoom.png', { x: icon.x - 8, y: 0, w: icon.w + 16, h: icon.h + 8, zoom: 8 });
    } finally {
      await small.stop();
    }
  });
});

describe.skipIf(!have)('lifeboat autostart', () => {
  it('on / status / off, with spaces and non-ASCII in the paths; the .desktop entry validates and starts the agent in the tray with the login catch-up', async () => {
    const base = join(t.dir, 'Kassen PC', 'Jürgen Ölmann');
    const home = join(base, 'Lifeboat Daten');
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, 'config.json'), JSON.stringify({ jobs: [job()], settings: {} }));
    const env = { LIFEBOAT_HOME: home, HOME: base };
    const on = await runCli(['autostart', 'on', '--json'], { env });
    expect(on.code).toBe(0);
    expect(on.json).toMatchObject({ ok: true, enabled: true });
    const entry = join(base, '.config', 'autostart', 'lifeboat.desktop');
    expect(on.json.entry).toBe(entry);
    await run('desktop-file-validate', [entry]);
    const text = readFileSync(entry, 'utf8');
    const exec = /^Exec=(.*)$/m.exec(text)?.[1] ?? '';
    expect(exec).toMatch(/^".*Kassen PC.*Jürgen Ölmann.*"$/);
    expect((await runCli(['autostart', 'status', '--json'], { env })).json).toMatchObject({ enabled: true });

    // What the session does at login: unquote Exec (Desktop Entry spec) and run it.
    const program = exec.replace(/\\\\/g, '\\').replace(/^"(.*)"$/, '$1').replace(/\\(["`$\\])/g, '$1');
    expect(existsSync(program)).toBe(true);
    expect(readFileSync(program, 'utf8')).toContain(`${AGENT_NODE_FLAGS.join(' ')} `);
    const child = spawn(program, [], { env: { ...process.env, ...desk.env, HOME: base, LIFEBOAT_HOME: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const a: Agent = { child, home, output: () => out, exited: new Promise((r) => child.on('exit', (c) => r(c))) };
    let out = '';
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    agents.push(a);
    await trayUp(a);
    expect(out).toContain(`for ${home}`);
    expect(logLines(home).some((l) => l.event === 'login-start')).toBe(true);
    child.kill('SIGTERM');
    expect(await a.exited).toBe(0);

    const off = await runCli(['autostart', 'off', '--json'], { env });
    expect(off.json).toMatchObject({ ok: true, enabled: false });
    expect(existsSync(entry)).toBe(false);
  });
});
