import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Job } from '../../agent/config/job.js';
import { makePosDb, runCli, tempDir, type CliResult } from '../helpers/fixtures.js';

const t = tempDir('job-commands');
const db = join(t.dir, 'shop', 'pos.db');
mkdirSync(join(t.dir, 'shop'));
makePosDb(db, 1 << 20, 'wal');
afterAll(() => t.cleanup());

let homes = 0;
function newHome(): string {
  const home = join(t.dir, `home-${++homes}`);
  mkdirSync(home);
  return home;
}

/** No passphrase anywhere unless a test gives one: the refusal of --encrypt-copies depends on it. */
const cli = (home: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> =>
  runCli(args, { env: { LIFEBOAT_HOME: home, LIFEBOAT_PASSPHRASE: '', ...env } });

const configText = (home: string): string => readFileSync(join(home, 'config.json'), 'utf8');
const jobs = (home: string): Job[] => (JSON.parse(configText(home)) as { jobs: Job[] }).jobs;
const onlyJob = (home: string): Job => jobs(home)[0] as Job;

/** A home with job "till" backing up DB into its own folder; EXTRA adds options to `job add`. */
async function homeWithJob(extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const home = newHome();
  const add = await cli(home, ['job', 'add', '--name', 'Till', '--db', db, '--schedule', 'daily at 23:00', '--dest', join(home, 'backups'), ...extra], env);
  expect(add.stderr).toMatch(/Added job/);
  expect(add.code).toBe(0);
  return home;
}

async function statusOf(home: string): Promise<Record<string, unknown>> {
  const s = await cli(home, ['status', '--json']);
  expect(s.code).toBe(0);
  return (s.json.jobs as Array<Record<string, unknown>>)[0] as Record<string, unknown>;
}

describe('job add', () => {
  it('takes retention options, shows them in job list, creates a missing backup folder and marks each copy folder', async () => {
    const copy = join(t.dir, 'nas-1');
    const home = await homeWithJob(['--keep-last', '3', '--keep-daily', '10', '--keep-weekly', '0', '--keep-monthly', '24', '--max-age-days', '800', '--copy-to', copy]);
    expect(onlyJob(home).retention).toEqual({ keepLast: 3, daily: 10, weekly: 0, monthly: 24, maxAgeDays: 800 });
    expect(existsSync(join(home, 'backups'))).toBe(true);
    expect(JSON.parse(readFileSync(join(copy, '.lifeboat-destination.json'), 'utf8'))).toMatchObject({ createdBy: 'lifeboat' });
    const list = await cli(home, ['job', 'list']);
    expect(list.stderr).toMatch(/retention: keep last 3, 10 daily, 0 weekly, 24 monthly, none older than 800 days/);
  });

  it('encrypts copies once a passphrase is set', async () => {
    const home = await homeWithJob(['--copy-to', join(t.dir, 'nas-2'), '--encrypt-copies'], { LIFEBOAT_PASSPHRASE: 'correct horse battery staple' });
    expect(onlyJob(home).destinations).toEqual([{ kind: 'folder', path: join(home, 'backups') }, { kind: 'folder', path: join(t.dir, 'nas-2'), encrypt: true }]);
  });

  it.each([
    ['an empty name', 2, { '--name': '' }, [], /--name is empty.*--name "Shop till"/],
    ['the database file as the backup folder', 2, { '--dest': db }, [], /backup folder .*pos\.db is a file \(the database itself\), not a folder/],
    ['the database\'s own folder', 2, { '--dest': join(t.dir, 'shop') }, [], /is the database's own folder.*shop\/backups/],
    ['a backup folder whose parent is missing', 6, { '--dest': join(t.dir, 'no-such-disk', 'backups') }, [], /cannot be created: .*no-such-disk does not exist/],
    ['a copy folder whose parent is missing', 6, { '--copy-to': join(t.dir, 'unmounted', 'nas') }, [], /copy folder .*nas cannot be created: .*unmounted does not exist/],
    ['encrypted copies without a passphrase', 7, { '--copy-to': join(t.dir, 'nas-3') }, ['--encrypt-copies'], /--encrypt-copies needs an encryption passphrase.*lifeboat passphrase set/],
    ['a schedule with seconds', 2, { '--schedule': '*/5 * * * * *' }, [], /has 6 fields.*five fields/],
    ['a retention count that is not a whole number', 2, { '--keep-last': '2.5' }, [], /--keep-last.*whole number from 0 to 1000/],
    ['a maximum age of 0 days', 2, { '--max-age-days': '0' }, [], /--max-age-days.*from 1, or none/],
  ])('refuses %s (exit %i), saving nothing', async (_what, code, patch, flags, message) => {
    const home = newHome();
    const args = { '--name': 'Till', '--db': db, '--schedule': 'daily at 23:00', '--dest': join(home, 'backups'), ...patch };
    const r = await cli(home, ['job', 'add', ...Object.entries(args).flat(), ...flags]);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(code);
    expect(existsSync(join(home, 'config.json')) ? jobs(home) : []).toEqual([]);
  });
});

describe('job edit', () => {
  it('changes what it is told, keeps the rest, and shows retention in job list', async () => {
    const home = await homeWithJob();
    const before = onlyJob(home);
    const r = await cli(home, ['job', 'edit', 'till', '--name', 'Front till', '--schedule', 'weekly on sun at 22:00', '--timezone', 'Europe/Berlin',
      '--keep-last', '2', '--keep-daily', '5', '--keep-weekly', '1', '--keep-monthly', '3', '--max-age-days', '90', '--check', 'full', '--json']);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ ok: true, changed: true });
    expect(onlyJob(home)).toEqual({
      ...before, name: 'Front till', check: 'full',
      schedule: { cron: '0 22 * * 0', label: 'weekly on sun at 22:00', timezone: 'Europe/Berlin' },
      retention: { keepLast: 2, daily: 5, weekly: 1, monthly: 3, maxAgeDays: 90 },
    });
    expect((await cli(home, ['job', 'list'])).stderr).toMatch(/schedule: +weekly on sun at 22:00 \(Europe\/Berlin\)\n.*\n +retention: keep last 2, 5 daily, 1 weekly, 3 monthly, none older than 90 days/);
  });

  it('--timezone local clears the time zone and --max-age-days none the age limit', async () => {
    const home = await homeWithJob(['--timezone', 'Asia/Tokyo', '--max-age-days', '30']);
    expect(onlyJob(home).schedule.timezone).toBe('Asia/Tokyo');
    const r = await cli(home, ['job', 'edit', 'till', '--timezone', 'local', '--max-age-days', 'none']);
    expect(r.code).toBe(0);
    expect(onlyJob(home).schedule).toEqual({ cron: '0 23 * * *', label: 'daily at 23:00' });
    expect(onlyJob(home).retention.maxAgeDays).toBeNull();
  });

  it('a new backup folder is created when the folder above it exists', async () => {
    const home = await homeWithJob();
    const dest = join(home, 'elsewhere');
    const r = await cli(home, ['job', 'edit', 'till', '--dest', dest]);
    expect(r.code).toBe(0);
    expect(existsSync(dest)).toBe(true);
    expect(onlyJob(home).destinations[0]).toEqual({ kind: 'folder', path: dest });
  });

  it('values equal to the current ones change nothing and say so', async () => {
    const home = await homeWithJob();
    const text = configText(home);
    const r = await cli(home, ['job', 'edit', 'till', '--name', 'Till', '--json']);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ ok: true, changed: false });
    expect(r.stderr).toMatch(/Nothing changed: job till already has these settings/);
    expect(configText(home)).toBe(text);
  });

  it.each([
    ['no option at all', 2, [], /Nothing to change.*Give at least one of --name, --db, .*--keep-last.*--max-age-days/],
    ['an empty name', 2, ['--name', ''], /--name is empty/],
    ['an empty backup folder', 2, ['--dest', ''], /--dest is empty/],
    ['an empty time zone', 2, ['--timezone', ''], /--timezone is empty.*local for the machine's own/],
    ['an unknown time zone', 2, ['--timezone', 'Mars/Olympus'], /Unknown time zone "Mars\/Olympus".*IANA/],
    ['a schedule with seconds', 2, ['--schedule', '0 0 23 * * *'], /has 6 fields/],
    ['the database file as the backup folder', 2, ['--dest', db], /is a file \(the database itself\)/],
    ['the database\'s own folder', 2, ['--dest', join(t.dir, 'shop')], /database's own folder/],
    ['a backup folder whose parent is missing', 6, ['--dest', join(t.dir, 'gone', 'b')], /cannot be created: .*gone does not exist/],
    ['encrypting copies the job does not have', 2, ['--encrypt-copies'], /has no copies for --encrypt-copies.*--copy-to DIR or --drive/],
    ['a negative retention count', 2, ['--keep-daily=-1'], /--keep-daily.*whole number from 0 to 1000/],
  ])('refuses %s (exit %i) and leaves config.json as it was', async (_what, code, args, message) => {
    const home = await homeWithJob();
    const text = configText(home);
    const r = await cli(home, ['job', 'edit', 'till', ...args]);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(code);
    expect(configText(home)).toBe(text);
  });

  it('refuses --encrypt-copies without a passphrase, and an unknown job, listing the jobs', async () => {
    const home = await homeWithJob(['--copy-to', join(t.dir, 'nas-4')]);
    const text = configText(home);
    const enc = await cli(home, ['job', 'edit', 'till', '--encrypt-copies']);
    expect(enc.code).toBe(7);
    expect(enc.stderr).toMatch(/needs an encryption passphrase.*lifeboat passphrase set/);
    const nope = await cli(home, ['job', 'edit', 'nope', '--name', 'X']);
    expect(nope.code).toBe(2);
    expect(nope.stderr).toMatch(/There is no job "nope"\. Jobs: till\./);
    expect(configText(home)).toBe(text);
    const ok = await cli(home, ['job', 'edit', 'till', '--encrypt-copies'], { LIFEBOAT_PASSPHRASE: 'correct horse battery staple' });
    expect(ok.code).toBe(0);
    expect(onlyJob(home).destinations[1]).toEqual({ kind: 'folder', path: join(t.dir, 'nas-4'), encrypt: true });
  });
});

describe('job pause and resume', () => {
  it('resume of a job that is not paused changes nothing (a pending catch-up stays) and says so', async () => {
    const home = await homeWithJob();
    const text = configText(home);
    const r = await cli(home, ['job', 'resume', 'till']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/till is not paused, so nothing changed/);
    expect(configText(home)).toBe(text);
    expect(onlyJob(home).pausedUntil).toBeNull();
  });

  it('a pause that has ended is not a pause: status says so, and resume leaves it alone', async () => {
    const home = await homeWithJob();
    const past = new Date(Date.now() - 3_600_000).toISOString();
    const config = JSON.parse(configText(home)) as { jobs: Job[] };
    (config.jobs[0] as Job).pausedUntil = past;
    writeFileSync(join(home, 'config.json'), JSON.stringify(config, null, 2));
    expect(await statusOf(home)).toMatchObject({ state: 'idle', paused: false, pausedUntil: null });
    expect((await cli(home, ['job', 'resume', 'till'])).stderr).toMatch(/not paused/);
    expect(onlyJob(home).pausedUntil).toBe(past);
  });

  it('pause until resumed, pause again, a timed pause replacing it, then resume', async () => {
    const home = await homeWithJob();
    const paused = await cli(home, ['job', 'pause', 'till']);
    expect(paused.code).toBe(0);
    expect(onlyJob(home)).toMatchObject({ enabled: false });
    expect(await statusOf(home)).toMatchObject({ state: 'paused', paused: true, pausedUntil: 'indefinitely', nextRun: null });

    const text = configText(home);
    const again = await cli(home, ['job', 'pause', 'till']);
    expect(again.stderr).toMatch(/already paused until you resume it; nothing changed/);
    expect(configText(home)).toBe(text);

    const timed = await cli(home, ['job', 'pause', 'till', '--for', '2h']);
    expect(timed.code).toBe(0);
    expect(timed.stderr).toMatch(/Paused till until .*replaces the pause until resumed/);
    const job = onlyJob(home);
    expect(job.enabled).toBe(true);
    expect(Date.parse(job.pausedUntil as string) - Date.now()).toBeGreaterThan(119 * 60_000);
    expect(await statusOf(home)).toMatchObject({ state: 'paused', paused: true, pausedUntil: job.pausedUntil });

    const before = Date.now();
    const resumed = await cli(home, ['job', 'resume', 'till']);
    expect(resumed.stderr).toMatch(/Resumed till\./);
    // The pause ends now: occurrences missed during it are not caught up on.
    const end = Date.parse(onlyJob(home).pausedUntil as string);
    expect(end).toBeGreaterThanOrEqual(before - 1000);
    expect(end).toBeLessThanOrEqual(Date.now());
    expect(onlyJob(home).enabled).toBe(true);
    expect(await statusOf(home)).toMatchObject({ state: 'idle', paused: false, pausedUntil: null });
  });

  it.each([['0m'], ['0.0h'], ['soon']])('refuses a pause --for %s, changing nothing', async (length) => {
    const home = await homeWithJob();
    const text = configText(home);
    const r = await cli(home, ['job', 'pause', 'till', '--for', length]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/pause.*Use .*30m, 1h, 2d or tomorrow/);
    expect(configText(home)).toBe(text);
  });
});

describe('job remove, and history of a job', () => {
  it('remove takes the job out of config.json and leaves its backup folder', async () => {
    const home = await homeWithJob();
    const r = await cli(home, ['job', 'remove', 'till', '--json']);
    expect(r.code).toBe(0);
    expect(r.json).toEqual({ ok: true, removed: 'till' });
    expect(jobs(home)).toEqual([]);
    expect(existsSync(join(home, 'backups'))).toBe(true);
  });

  it('remove, pause, resume and history of an unknown job are refused with the list of jobs', async () => {
    const home = await homeWithJob();
    const text = configText(home);
    for (const args of [['job', 'remove', 'nope'], ['job', 'pause', 'nope'], ['job', 'resume', 'nope'], ['history', '--job', 'nope']]) {
      const r = await cli(home, args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/There is no job "nope"\. Jobs: till\./);
    }
    expect(configText(home)).toBe(text);
    expect((await cli(home, ['history', '--job', 'till'])).code).toBe(0);
  });
});

describe('config.json written or lost by hand', () => {
  it('a hand-written file that breaks the schema is reported and kept byte for byte (conf never stamps it)', async () => {
    const home = await homeWithJob();
    const job = { ...onlyJob(home), check: 'thorough' };
    const text = `{"jobs": [${JSON.stringify(job)}], "settings": {}}`; // no conf __internal__ stamp, compact: as a person might write it
    writeFileSync(join(home, 'config.json'), text);
    const list = await cli(home, ['job', 'list', '--json']);
    expect(list.stderr).toMatch(/job "till": check is "thorough"; allowed: quick, full, none/);
    expect(configText(home)).toBe(text);
  });

  it('a config.json moved away is a problem, not "no jobs": the last good config is kept and used', async () => {
    const home = await homeWithJob();
    const lastGood = readFileSync(join(home, 'config.last-good.json'), 'utf8');
    const { renameSync } = await import('node:fs');
    renameSync(join(home, 'config.json'), join(home, 'config.json.moved'));
    const list = await cli(home, ['job', 'list', '--json']);
    expect(list.stderr).toMatch(/config\.json is missing\. Copy .*config\.last-good\.json to .*config\.json to restore the jobs/);
    expect(list.json).toMatchObject({ jobs: [{ id: 'till' }] });
    const status = await cli(home, ['status', '--json']);
    expect(status.json).toMatchObject({ config: { usingLastGood: true }, jobs: [{ id: 'till' }] });
    expect(existsSync(join(home, 'config.json'))).toBe(false);
    expect(readFileSync(join(home, 'config.last-good.json'), 'utf8')).toBe(lastGood);
  });
});

describe('job mark-copy-folder', () => {
  it('marks a mounted folder (once), so runs copy there; re-adding a folder whose marker went says it was set up', async () => {
    const home = newHome();
    const dir = join(t.dir, 'mark-me');
    mkdirSync(dir);
    const typo = await cli(home, ['job', 'mark-copy-folder', join(t.dir, 'mark-mee')]);
    expect(typo.code).toBe(6);
    expect(typo.stderr).toMatch(/mark-mee is not there .*Mount the drive or share/);
    expect(existsSync(join(t.dir, 'mark-mee'))).toBe(false);
    const first = await cli(home, ['job', 'mark-copy-folder', dir]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/Marked .*mark-me as a copy folder\.\nlifeboat: warning: no job copies to .*mark-me/);
    expect(existsSync(join(dir, '.lifeboat-destination.json'))).toBe(true);
    const again = await cli(home, ['job', 'mark-copy-folder', dir]);
    expect(again.stderr).toMatch(/was already marked as a copy folder; nothing changed/);
    const relative = await cli(home, ['job', 'mark-copy-folder', 'nas']);
    expect(relative.code).toBe(2);

    const copy = join(t.dir, 'nas-remark');
    const withCopy = await homeWithJob(['--copy-to', copy]);
    const { rmSync } = await import('node:fs');
    rmSync(join(copy, '.lifeboat-destination.json'));
    const edit = await cli(withCopy, ['job', 'edit', 'till', '--copy-to', copy]);
    expect(edit.code, edit.stderr).toBe(0);
    expect(edit.stderr).toMatch(/Set up the copy folder .*nas-remark \(marker \.lifeboat-destination\.json written\)/);
    expect(existsSync(join(copy, '.lifeboat-destination.json'))).toBe(true);
    rmSync(join(copy, '.lifeboat-destination.json'));
    const mark = await cli(withCopy, ['job', 'mark-copy-folder', copy]);
    expect(mark.stderr).toMatch(/Jobs that copy there: till; their next runs send the copies that wait/);
  });
});
