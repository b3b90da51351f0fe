import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_JOB_FIELDS, type Job } from '../../agent/config/job.js';
import { desktopExecArg } from '../../agent/desktop/autostart.js';
import { trayIcon } from '../../agent/desktop/icons.js';
import { Notifier, WINDOWS_APP_ID, linuxNotifySend, type Note } from '../../agent/desktop/notifier.js';
import { appindicatorShim, helperEnv, missingAppindicator } from '../../agent/desktop/tray-helper.js';
import { openerEnv } from '../../agent/desktop/open.js';
import { AGENT_NODE_FLAGS } from '../../agent/node-flags.js';
import { TOAST_SHORTCUT, ensureToastShortcut } from '../../agent/desktop/windows-toast.js';
import { trayView, type TrayInput } from '../../agent/desktop/tray-model.js';
import { noteForRun } from '../../agent/desktop/run-notes.js';
import { driveError } from '../../agent/destinations/gdrive/auth.js';
import type { BackupResult } from '../../agent/engine/backup-options.js';
import { LifeboatError } from '../../agent/engine/errors.js';
import { copyWarning } from '../../agent/runner/copies.js';
import type { JobStatus } from '../../agent/runner/status.js';
import pino from 'pino';

const NOW = Date.parse('2026-03-10T12:00:00Z');
async function until(ok: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
const job = (over: Partial<Job> = {}): Job => ({
  ...structuredClone(DEFAULT_JOB_FIELDS), id: 'pos', name: 'POS', db: '/data/pos.db', schedule: { cron: '0 * * * *' },
  destinations: [{ kind: 'folder', path: '/backups' }], createdAt: '2026-01-01T00:00:00Z', ...over,
} as Job);
const status = (over: Partial<JobStatus> = {}): JobStatus => (({
  id: 'pos', name: 'POS', db: '/data/pos.db', schedule: 'hourly', state: 'idle', pausedUntil: null, lastSuccess: null, lastFailure: null,
  sinceLastSuccessMs: null, nextRun: null, successRate: { success: 0, total: 0 }, ...over,
}) as JobStatus);
const input = (over: Partial<TrayInput> = {}): TrayInput => ({
  now: NOW, jobs: [job({ schedule: { cron: '0 23 * * *', timezone: 'UTC' } })], statuses: [status({ lastSuccess: { at: new Date(NOW - 2 * 3_600_000 - 60_000).toISOString(), file: 'x' } })],
  failureKinds: new Map(), running: null, reachable: () => true, configProblem: null, ...over,
});

describe('tray view', () => {
  it('all good: "Last backup 2 h ago — OK", green', () => {
    const v = trayView(input());
    expect(v).toMatchObject({ state: 'ok', statusLine: 'Last backup 2 h ago — OK' });
    expect(v.tooltip).toMatch(/all good/);
  });

  it('a failure newer than the last success: red, with the reason in plain words', () => {
    const v = trayView(input({
      statuses: [status({ lastSuccess: { at: new Date(NOW - 3_600_000).toISOString(), file: 'x' }, lastFailure: { at: new Date(NOW - 10 * 60_000).toISOString(), reason: 'The database … stayed busy' } })],
      failureKinds: new Map([['pos', 'busy']]),
    }));
    expect(v).toMatchObject({ state: 'error', statusLine: 'Backup failed 10 min ago: database locked' });
  });

  it('overdue or an unreachable folder: amber; a running backup: blue with its progress', () => {
    // An hourly job whose last backup is 5 h old; the 12:00 run (due just now) is not late yet, 11:00 is.
    const overdue = trayView(input({ jobs: [job()], statuses: [status({ lastSuccess: { at: new Date(NOW - 5 * 3_600_000).toISOString(), file: 'x' } })] }));
    expect(overdue.state).toBe('warning');
    expect(overdue.statusLine).toMatch(/overdue since/);
    const onTime = trayView(input({ jobs: [job()], statuses: [status({ lastSuccess: { at: new Date(NOW - 50 * 60_000).toISOString(), file: 'x' } })] }));
    expect(onTime.state).toBe('ok');
    expect(trayView(input({ reachable: () => false })).statusLine).toBe('backup folder not reachable: /backups');
    const running = trayView(input({ running: { jobId: 'pos', progress: { phase: 'copying', done: 45, total: 100 } } }));
    expect(running).toMatchObject({ state: 'running', statusLine: 'Backing up: copying 45%' });
    expect(running.tooltip).toContain('45%');
  });

  it('a copy that failed turns the icon amber with what to do (reconnect Google Drive, Drive full, copy folder not reachable)', () => {
    const ok = { at: new Date(NOW - 60_000).toISOString(), file: 'x' };
    const file = '/backups/pos-2026-03-10T110000Z.sqlite';
    const cases: Array<[string, RegExp]> = [
      [copyWarning(null, 'Google Drive (gzip)', driveError(new Error('invalid_grant'))), /^POS: Reconnect Google Drive/],
      [copyWarning(file, 'Google Drive', driveError(new Error('invalid_grant'))), /^POS: Reconnect Google Drive/],
      [copyWarning(file, 'Google Drive', driveError({ message: 'x', response: { status: 403, data: { error: { errors: [{ reason: 'storageQuotaExceeded' }] } } } })), /^POS: Google Drive is full/],
      [copyWarning(file, 'folder /mnt/nas', new LifeboatError('destination', 'The copy folder /mnt/nas cannot be reached (its drive or network share is not there).', 'Plug it in.')), /^POS: Copy folder not reachable: plug in the drive/],
      [copyWarning(file, 'folder /mnt/nas', new LifeboatError('destination', 'No space left on /mnt/nas.', 'Free space.')), /^POS: copy to folder \/mnt\/nas failed: No space left on \/mnt\/nas$/],
    ];
    for (const [warning, line] of cases) {
      const v = trayView(input({ jobs: [job({ schedule: { cron: '0 23 * * *', timezone: 'UTC' } }), job({ id: 'two', schedule: { cron: '0 23 * * *', timezone: 'UTC' } })], statuses: [status({ lastSuccess: ok, pendingUploads: 1, warnings: [warning] }), status({ id: 'two', lastSuccess: ok })] }));
      expect(v.state).toBe('warning');
      expect(v.statusLine).toMatch(line);
      expect(v.tooltip).toContain(v.statusLine);
    }
    const pendingOnly = trayView(input({ statuses: [status({ lastSuccess: ok, pendingUploads: 2, warnings: [] })] }));
    expect(pendingOnly).toMatchObject({ state: 'warning', statusLine: expect.stringMatching(/2 copies wait to be uploaded again/) as unknown as string });
  });

  it('run notes: a failed copy and a failed run say what to do and open the log; good news only when it is news', () => {
    const ctx = { jobName: 'Till', folder: '/backups', logFile: '/home/x/logs/current.log', wasFailing: () => false, notifyOnSuccess: false, announce: false };
    const result = { file: '/backups/pos-2026-03-10T110000Z.sqlite' } as BackupResult;
    const reconnect = copyWarning(result.file, 'Google Drive', driveError(new Error('invalid_grant')));
    const copy = noteForRun({ jobId: 'pos', trigger: 'schedule', outcome: { ok: true, runId: 1, result, warnings: [reconnect, 'another'] } }, ctx);
    expect(copy).toMatchObject({ state: 'warning', title: 'Backup made, but a copy failed: Till', open: { what: 'log', path: ctx.logFile } });
    expect(copy?.message).toMatch(/Reconnect Google Drive with `lifeboat drive login`[\s\S]*and 1 more/);
    const failed = noteForRun({ jobId: 'pos', trigger: 'schedule', outcome: { ok: false, runId: 2, error: new LifeboatError('busy', 'The database stayed locked.', 'Close the report.') } }, ctx);
    expect(failed).toMatchObject({ key: 'failure:pos:busy', state: 'error', message: expect.stringContaining('What to do: Close the report.') as unknown as string });
    const quiet = { jobId: 'pos', trigger: 'schedule' as const, outcome: { ok: true as const, runId: 3, result, warnings: [] } };
    expect(noteForRun(quiet, ctx)).toBeNull();
    expect(noteForRun(quiet, { ...ctx, wasFailing: () => true })).toMatchObject({ key: 'recovered:pos', open: { what: 'folder', path: '/backups' } });
    expect(noteForRun({ ...quiet, trigger: 'catch-up' }, ctx)).toMatchObject({ key: 'catch-up:pos', title: 'Missed backup made: Till' });
    expect(noteForRun(quiet, { ...ctx, announce: true })?.key).toMatch(/^success:pos:/);
  });

  it('paused jobs show "Resume"; the line says until when', () => {
    const v = trayView(input({ jobs: [job({ pausedUntil: new Date(NOW + 3_600_000).toISOString() })] }));
    expect(v).toMatchObject({ state: 'ok', anyPaused: true, allPaused: true });
    expect(v.statusLine).toMatch(/^Backups paused until /);
  });

  it('icons differ per platform: ICO on Windows, template images on macOS, PNG elsewhere; all exist', () => {
    for (const p of ['win32', 'darwin', 'linux'] as const) {
      for (const s of ['ok', 'running', 'warning', 'error'] as const) expect(existsSync(trayIcon(s, p).path)).toBe(true);
    }
    expect(trayIcon('ok', 'darwin').isTemplate).toBe(true);
    expect(trayIcon('error', 'win32').path).toMatch(/error\.ico$/);
  });
});

describe('notifications', () => {
  const log = pino({ level: 'silent' });
  it('the same failure is shown once per window; the next one after it carries the count', async () => {
    let now = NOW;
    const shown: string[] = [];
    const n = new Notifier({ log, now: () => now, windowMs: 30 * 60_000, send: async (note) => { shown.push(note.message); } });
    const fail: Note = { key: 'failure:pos:busy', state: 'error', title: 'Backup failed: POS', message: 'locked' };
    expect(await n.notify(fail)).toBe(true);
    for (let i = 0; i < 5; i++) {
      now += 60_000;
      expect(await n.notify(fail)).toBe(false);
    }
    now += 30 * 60_000;
    expect(await n.notify(fail)).toBe(true);
    expect(shown).toHaveLength(2);
    expect(shown[1]).toMatch(/This happened 7 times since/);
    // A success in between makes the next failure news again.
    expect(n.forget('failure:pos:')).toBe(true);
    expect(await n.notify(fail)).toBe(true);
  });

  it('Linux: notify-send\'s printed id means shown, its printed action a click; id 0 or an exit code is a failure', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeboat-notify-'));
    try {
      const fake = (name: string, body: string): string => {
        const path = join(dir, name);
        writeFileSync(path, `#!/bin/sh\necho "$@" > '${path}.args'\n${body}\n`, { mode: 0o755 });
        return path;
      };
      const note = { key: 'k', state: 'error' as const, title: 'Backup failed: POS', message: 'locked', icon: '/i.png', open: { what: 'log' as const, path: '/l' } };
      let clicks = 0;
      const clicked = fake('clicked', 'echo 17; sleep 0.2; echo default');
      await linuxNotifySend({ ...note, onClick: () => clicks++ }, clicked);
      await until(() => clicks === 1);
      expect(readFileSync(`${clicked}.args`, 'utf8')).toMatch(/--urgency=critical .*--print-id --action=default=Open log -- Backup failed: POS locked/);
      const closed = fake('closed', 'echo 18');
      await linuxNotifySend({ ...note, onClick: () => clicks++ }, closed);
      const noServer = fake('no-server', 'echo 0; echo "Could not connect: No such file or directory" >&2; exit 1');
      await expect(linuxNotifySend({ ...note, onClick: () => clicks++ }, noServer)).rejects.toThrow(/Could not connect/);
      await expect(linuxNotifySend(note, join(dir, 'missing'))).rejects.toThrow(/not installed .*libnotify-bin/);
      const zero = fake('zero', 'echo 0');
      await expect(linuxNotifySend({ ...note, onClick: () => clicks++ }, zero)).rejects.toThrow(/no notification server/);
      // libnotify before 0.8.4 prints the id only when it exits: still running after 0.5 s is "shown".
      const buffered = fake('buffered', 'sleep 1.5; echo 19; echo default');
      const started = Date.now();
      await linuxNotifySend({ ...note, onClick: () => clicks++ }, buffered);
      expect(Date.now() - started).toBeLessThan(1200);
      await until(() => clicks === 2);
      // libnotify before 0.7.10 knows no --action: the note is shown without one.
      const old = fake('old', 'case "$*" in *--print-id*) echo "Unknown option --print-id" >&2; exit 1;; esac; exit 0');
      await linuxNotifySend({ ...note, onClick: () => clicks++ }, old);
      expect(readFileSync(`${old}.args`, 'utf8')).not.toMatch(/--action/);
      await new Promise((r) => setTimeout(r, 300));
      expect(clicks).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a notification that cannot be shown resolves false and does not throw', async () => {
    const n = new Notifier({ log, send: async () => { throw new Error('notify-send must be installed on the system.'); } });
    await expect(n.notify({ key: 'k', state: 'error', title: 't', message: 'm' })).resolves.toBe(false);
  });
});

describe('Windows toasts (the command is checked here; Windows itself is not available in CI)', () => {
  const log = pino({ level: 'silent' });
  it('creates the Start-menu shortcut with the app ID once, pointing at the launcher, through the SnoreToast that node-notifier ships', async () => {
    const home = mkdtempSync(join(tmpdir(), 'lifeboat-toast-'));
    try {
      const env = { APPDATA: join(home, 'AppData', 'Roaming') };
      const calls: Array<[string, string[]]> = [];
      const run = async (file: string, args: string[]): Promise<void> => {
        calls.push([file, args]);
        const lnk = join(env.APPDATA, 'Microsoft', 'Windows', 'Start Menu', 'Programs', args[1] ?? '');
        mkdirSync(dirname(lnk), { recursive: true });
        writeFileSync(lnk, 'shortcut');
      };
      expect(await ensureToastShortcut({ home, env, platform: 'win32', arch: 'x64', log, run })).toBe('created');
      const [file, args] = calls[0] ?? ['', []];
      expect(existsSync(file)).toBe(true);
      expect(file).toMatch(/node-notifier[\\/]vendor[\\/]snoreToast[\\/]snoretoast-x64\.exe$/);
      expect(args).toEqual(['-install', TOAST_SHORTCUT, join(home, 'bin', 'lifeboat.vbs'), WINDOWS_APP_ID]);
      expect(readFileSync(join(home, 'bin', 'lifeboat.vbs'), 'utf8')).toMatch(/start --login/);
      expect(await ensureToastShortcut({ home, env, platform: 'win32', arch: 'x64', log, run })).toBe('exists');
      expect(calls).toHaveLength(1);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('a shortcut that cannot be made is logged and never thrown; other systems need none', async () => {
    const home = mkdtempSync(join(tmpdir(), 'lifeboat-toast-'));
    try {
      const run = async (): Promise<void> => { throw new Error('Access is denied.'); };
      expect(await ensureToastShortcut({ home, env: { APPDATA: home }, platform: 'win32', log, run })).toBe('failed');
      expect(await ensureToastShortcut({ home, platform: 'linux', log, run })).toBe('not-windows');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe('start at login', () => {
  it('quotes Exec arguments as the Desktop Entry spec asks', () => {
    expect(desktopExecArg('/usr/bin/lifeboat')).toBe('/usr/bin/lifeboat');
    expect(desktopExecArg('/home/Jürgen Ölmann/bin/lifeboat')).toBe('"/home/Jürgen Ölmann/bin/lifeboat"');
    expect(desktopExecArg('/a b/$x`"\\')).toBe('"/a b/\\\\$x\\\\`\\\\"\\\\\\\\"');
    expect(desktopExecArg('/a/100%')).toBe('/a/100%%');
  });
});

describe('memory', () => {
  it('the tray helper runs without OpenGL (GTK would load Mesa and LLVM), unless the user chose otherwise; opened programs do not inherit it', () => {
    expect(helperEnv(null, { PATH: '/bin' })).toEqual({ PATH: '/bin', GDK_GL: 'disable' });
    expect(helperEnv('/shim', { GDK_GL: 'gles', LD_LIBRARY_PATH: '/x' })).toEqual({ GDK_GL: 'gles', LD_LIBRARY_PATH: '/shim:/x' });
    expect(openerEnv({ PATH: '/bin', GDK_GL: 'disable', LIFEBOAT_SET_GDK_GL: '1' })).toEqual({ PATH: '/bin' });
    expect(openerEnv({ PATH: '/bin', GDK_GL: 'disable' })).toEqual({ PATH: '/bin', GDK_GL: 'disable' });
  });

  it('npm start runs the agent with the same Node flags as the start-at-login launcher', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toContain(`node ${AGENT_NODE_FLAGS.join(' ')} dist/agent/cli.js start`);
  });
});

describe('tray helper', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-helper-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('sees a missing libappindicator3 in ldd output', () => {
    expect(missingAppindicator('\tlibappindicator3.so.1 => not found\n')).toBe(true);
    expect(missingAppindicator('\tlibappindicator3.so.1 => /lib/x86_64-linux-gnu/libappindicator3.so.1 (0x1)\n')).toBe(false);
  });

  it.runIf(process.platform === 'linux' && existsSync('/usr/lib/x86_64-linux-gnu/libayatana-appindicator3.so.1'))('makes a folder whose symlink the dynamic linker then uses for libappindicator3', () => {
    const bin = join(dir, 'tray_linux_release');
    copyFileSync(join(dirname(createRequire(import.meta.url).resolve('systray2/package.json')), 'traybin', 'tray_linux_release'), bin);
    // As on a system without the compat name: ldd reports it missing.
    const shim = appindicatorShim(bin, join(dir, 'lib'), () => '\tlibappindicator3.so.1 => not found\n');
    expect(shim).toBe(join(dir, 'lib'));
    expect(readlinkSync(join(dir, 'lib', 'libappindicator3.so.1'))).toMatch(/libayatana-appindicator3\.so\.1$/);
    const ldd = execFileSync('ldd', [bin], { encoding: 'utf8', env: { ...process.env, LD_LIBRARY_PATH: shim ?? '' } });
    expect(ldd).toContain(`libappindicator3.so.1 => ${join(dir, 'lib', 'libappindicator3.so.1')}`);
  });
});
