import { stat } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { Option, type Command } from 'commander';
import { DEFAULT_JOB_FIELDS, DEFAULT_RETENTION, noSuchJob, type Destination, type Job, type Retention } from '../config/job.js';
import { readPassphrase } from '../config/passphrase.js';
import { lifeboatHome, pathKey } from '../config/paths.js';
import { LifeboatError } from '../engine/errors.js';
import type { CheckLevel } from '../engine/integrity.js';
import { checkSourceFile } from '../engine/source-check.js';
import { FOLDER_MARKER, makeFolderIfParentExists, prepareCopyFolder } from '../destinations/folder.js';
import { describeDestination } from '../destinations/registry.js';
import { isPaused, pausedJob, resumedJob } from '../schedule/catch-up.js';
import { checkTimezone, parseSchedule } from '../schedule/cron.js';
import { tellAgent } from './agent-link.js';
import { configStore } from './load-store.js';
import type { ConfigStore } from '../config/store.js';
import { printJson, reportError, say } from './output.js';
import { parseCheck, parseCount, parseMaxAge, parseSeconds } from './parse.js';

interface JobFlags {
  id?: string;
  name?: string;
  db?: string;
  schedule?: string;
  timezone?: string;
  dest?: string;
  check?: CheckLevel;
  gzip?: boolean;
  quiet?: number;
  maxWait?: number;
  json?: boolean;
  copyTo?: string[];
  drive?: boolean;
  gzipCopies?: boolean;
  encryptCopies?: boolean;
  copies?: boolean;
  keepLast?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  maxAgeDays?: number | 'none';
}

/** The options of `job edit` that change something, as the person types them (for "nothing to change"). */
const EDIT_OPTIONS: Array<[keyof JobFlags, string]> = [
  ['name', '--name'], ['db', '--db'], ['schedule', '--schedule'], ['timezone', '--timezone'], ['dest', '--dest'], ['check', '--check'],
  ['gzip', '--gzip/--no-gzip'], ['quiet', '--quiet'], ['maxWait', '--max-wait'], ['copyTo', '--copy-to'], ['drive', '--drive'],
  ['gzipCopies', '--gzip-copies'], ['encryptCopies', '--encrypt-copies'], ['copies', '--no-copies'],
  ['keepLast', '--keep-last'], ['keepDaily', '--keep-daily'], ['keepWeekly', '--keep-weekly'], ['keepMonthly', '--keep-monthly'], ['maxAgeDays', '--max-age-days'],
];

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

const EXAMPLE_DB = process.platform === 'win32' ? 'C:\\POS\\data\\pos.db' : '/home/shop/pos/pos.db';
const EXAMPLE_DEST = process.platform === 'win32' ? 'D:\\Backups' : '/mnt/backups';

function absolute(path: string, what: string, example: string): string {
  if (!isAbsolute(path)) {
    throw new LifeboatError('usage', `The ${what} "${path}" is a relative path.`, `Use the full path, e.g. ${example}: the agent starts from another folder at login.`);
  }
  return path;
}

/** Commander accepts `--name ""`; an empty value is never meant, and silently ignoring it would claim a change that did not happen. */
function nonEmpty(value: string, flag: string, example: string): string {
  if (value.trim() === '') throw new LifeboatError('usage', `${flag} is empty.`, `Give a value, e.g. ${flag} ${example}.`);
  return value;
}

function checkedName(name: string): string {
  nonEmpty(name, '--name', '"Shop till"');
  if (name.length > 200) throw new LifeboatError('usage', `The name is ${name.length} characters long.`, 'Use a name of up to 200 characters.');
  return name;
}

function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'job';
}

async function checkedDb(db: string): Promise<string> {
  absolute(nonEmpty(db, '--db', EXAMPLE_DB), 'database path', EXAMPLE_DB);
  await checkSourceFile(db);
  return db;
}

/** `--timezone local` (or leaving it out on `add`) means the machine's own zone: stored as no zone at all. */
function timezoneFlag(tz: string): string | undefined {
  nonEmpty(tz, '--timezone', 'Europe/Berlin (or local for the machine\'s own)');
  if (tz === 'local') return undefined;
  checkTimezone(tz);
  return tz;
}

const samePlace = (a: string, b: string): boolean => pathKey(a) === pathKey(b);

/**
 * The local backup folder, made while the person is there to see it: created when its parent
 * exists (a typo in the parent is refused rather than building a whole tree), never a file and
 * never the database's own folder, whose files the POS app owns.
 */
async function prepareLocalFolder(dest: string, db: string): Promise<void> {
  if (samePlace(dest, dirname(db))) {
    throw new LifeboatError('usage', `The backup folder ${dest} is the database's own folder.`, `Use a folder of its own, e.g. ${join(dirname(db), 'backups')}, or better one on another disk.`);
  }
  if (samePlace(dest, db)) throw new LifeboatError('usage', `The backup folder ${dest} is a file (the database itself), not a folder.`, `Give a folder, e.g. ${EXAMPLE_DEST}.`);
  await makeFolderIfParentExists(dest, 'backup folder', { isFile: `Give a folder, e.g. ${EXAMPLE_DEST}.`, noParent: 'Check the path for a typo, or create the folder above it first.' });
}

/** Copies are encrypted with the passphrase at run time; without one, every copy would fail later, unseen. */
function requirePassphrase(): void {
  try {
    readPassphrase(lifeboatHome(), undefined, process.env);
  } catch (err) {
    if (!(err instanceof LifeboatError)) throw err;
    throw new LifeboatError('config', '--encrypt-copies needs an encryption passphrase, and none is set.', 'Set one first with `lifeboat passphrase set` (or LIFEBOAT_PASSPHRASE), then run this again.');
  }
}

/** The copies after the local folder: other folders (a second disk, a NAS) and Google Drive. */
function copyDestinations(f: JobFlags, opts: { gzip?: boolean; encrypt?: boolean }): Destination[] {
  const extra = { ...(opts.gzip ? { gzip: true } : {}), ...(opts.encrypt ? { encrypt: true } : {}) };
  const folders: Destination[] = (f.copyTo ?? []).map((p) => ({ kind: 'folder', path: p, ...extra }));
  return f.drive ? [...folders, { kind: 'gdrive', ...extra }] : folders;
}

function checkCopyPaths(f: JobFlags): void {
  for (const p of f.copyTo ?? []) absolute(nonEmpty(p, '--copy-to', EXAMPLE_DEST), 'copy folder', EXAMPLE_DEST);
}

/** Each copy folder gets its marker now, so a run can later tell the mounted share from an empty mount point. */
async function prepareCopies(job: Job, f: JobFlags): Promise<string[]> {
  const local = job.destinations[0].path;
  const marked: string[] = [];
  for (const p of f.copyTo ?? []) {
    if (samePlace(p, local)) throw new LifeboatError('usage', `The copy folder ${p} is the local backup folder.`, 'Copy to another disk or a network share.');
    if ((await prepareCopyFolder(p)).marked) marked.push(p);
  }
  return marked;
}

function retentionFrom(f: JobFlags, base: Retention): Retention {
  return {
    keepLast: f.keepLast ?? base.keepLast,
    daily: f.keepDaily ?? base.daily,
    weekly: f.keepWeekly ?? base.weekly,
    monthly: f.keepMonthly ?? base.monthly,
    maxAgeDays: f.maxAgeDays === 'none' ? null : (f.maxAgeDays ?? base.maxAgeDays),
  };
}

function describeRetention(r: Retention): string {
  return `keep last ${r.keepLast}, ${r.daily} daily, ${r.weekly} weekly, ${r.monthly} monthly, ${r.maxAgeDays === null ? 'no age limit' : `none older than ${r.maxAgeDays} days`}`;
}

function findJob(jobs: Job[], id: string): Job {
  const job = jobs.find((j) => j.id === id);
  if (!job) throw noSuchJob(id, jobs);
  return job;
}

/** Tells a running agent to pick up the change; without one, the next start reads it. */
async function notifyAgent(): Promise<void> {
  await tellAgent({ cmd: 'reload' }).catch(() => null);
}

/** "1h", "30m", "2d", or "tomorrow" (until 06:00 tomorrow, local time) → the end of the pause. */
export function pauseEnd(text: string, now: Date): Date {
  if (text === 'tomorrow') {
    const d = new Date(now);
    d.setDate(d.getDate() + 1);
    d.setHours(6, 0, 0, 0);
    return d;
  }
  const m = /^(\d+(?:\.\d+)?)\s*(m|min|h|d)$/.exec(text.trim());
  if (!m) throw new LifeboatError('usage', `"${text}" is not a pause length.`, 'Use e.g. 30m, 1h, 2d or tomorrow.');
  const amount = Number(m[1]);
  if (amount <= 0) throw new LifeboatError('usage', `A pause of "${text}" ends before it starts.`, 'Use a length above zero, e.g. 30m, 1h, 2d or tomorrow; `lifeboat job resume ID` ends a pause.');
  const unit = m[2] === 'd' ? 86_400_000 : m[2] === 'h' ? 3_600_000 : 60_000;
  return new Date(now.getTime() + amount * unit);
}

function describe(job: Job): string {
  const paused = !job.enabled ? ' [paused]' : isPaused(job, Date.now()) ? ` [paused until ${job.pausedUntil}]` : '';
  return `${job.id}  ${job.name}${paused}\n    database:  ${job.db}\n    schedule:  ${job.schedule.label ?? job.schedule.cron}${job.schedule.timezone ? ` (${job.schedule.timezone})` : ''}\n    backups:   ${job.destinations.map(describeDestination).join(', ')}\n    retention: ${describeRetention(job.retention)}`;
}

/** Everything `add` checks before it creates folders or saves, so a refusal leaves nothing behind. */
async function newJobFrom(f: Required<Pick<JobFlags, 'name' | 'db' | 'schedule' | 'dest'>> & JobFlags): Promise<Job> {
  const name = checkedName(f.name);
  const timezone = f.timezone === undefined ? undefined : timezoneFlag(f.timezone);
  const schedule = parseSchedule(f.schedule, timezone);
  const db = await checkedDb(f.db);
  const dest = absolute(nonEmpty(f.dest, '--dest', EXAMPLE_DEST), 'backup folder', EXAMPLE_DEST);
  checkCopyPaths(f);
  const id = f.id ?? slug(name);
  if (!/^[a-z0-9][a-z0-9_-]{0,39}$/.test(id)) throw new LifeboatError('usage', `"${id}" cannot be a job id.`, 'Use lower-case letters, digits, - and _ (up to 40), e.g. --id shop.');
  const copies = copyDestinations(f, { gzip: f.gzipCopies, encrypt: f.encryptCopies });
  if ((f.gzipCopies || f.encryptCopies) && copies.length === 0) {
    throw new LifeboatError('usage', `${f.encryptCopies ? '--encrypt-copies' : '--gzip-copies'} applies to copies, and this job has none.`, 'Add --copy-to DIR or --drive, or leave the option out.');
  }
  return {
    ...structuredClone(DEFAULT_JOB_FIELDS),
    id,
    name,
    db,
    schedule: { ...schedule, ...(timezone ? { timezone } : {}) },
    destinations: [{ kind: 'folder', path: dest }, ...copies],
    retention: retentionFrom(f, DEFAULT_RETENTION),
    check: f.check ?? DEFAULT_JOB_FIELDS.check,
    gzip: Boolean(f.gzip),
    quietSeconds: f.quiet ?? DEFAULT_JOB_FIELDS.quietSeconds,
    maxWaitSeconds: f.maxWait ?? DEFAULT_JOB_FIELDS.maxWaitSeconds,
    createdAt: new Date().toISOString(),
  };
}

function refuseNoChange(f: JobFlags): void {
  const given = EDIT_OPTIONS.filter(([key]) => (key === 'copies' ? f.copies === false : f[key] !== undefined));
  if (given.length > 0) return;
  throw new LifeboatError('usage', 'Nothing to change: no option was given.', `Give at least one of ${EDIT_OPTIONS.map(([, flag]) => flag).join(', ')}; see \`lifeboat job edit --help\`.`);
}

/** Copy options alone (no --copy-to, --drive) change the copies the job already has. */
function editedCopies(j: Job, f: JobFlags): Destination[] {
  const current = j.destinations.slice(1);
  if (f.copies === false) return [];
  // Replacing the copies keeps their gzip and encryption unless told otherwise: dropping encryption unasked would be a surprise.
  const opts = { gzip: f.gzipCopies ?? current[0]?.gzip, encrypt: f.encryptCopies ?? current[0]?.encrypt };
  if (f.copyTo || f.drive) return copyDestinations(f, opts);
  if (f.gzipCopies === undefined && f.encryptCopies === undefined) return current;
  if (current.length === 0) {
    throw new LifeboatError('usage', `Job "${j.id}" has no copies for ${f.encryptCopies !== undefined ? '--encrypt-copies' : '--gzip-copies'} to change.`, 'Add copies with --copy-to DIR or --drive.');
  }
  return current.map((d) => {
    const { gzip: _g, encrypt: _e, ...rest } = d;
    return { ...rest, ...(opts.gzip ? { gzip: true } : {}), ...(opts.encrypt ? { encrypt: true } : {}) } as Destination;
  });
}

/** The job with the edit applied; pure, so it can be checked first and then applied to the file's current version. */
function edited(j: Job, f: JobFlags, db: string | undefined): Job {
  const next = structuredClone(j);
  const timezone = f.timezone === undefined ? j.schedule.timezone : timezoneFlag(f.timezone);
  if (f.schedule !== undefined || f.timezone !== undefined) {
    const text = f.schedule === undefined ? (j.schedule.label ?? j.schedule.cron) : nonEmpty(f.schedule, '--schedule', '"daily at 23:00"');
    next.schedule = { ...parseSchedule(text, timezone), ...(timezone ? { timezone } : {}) };
  }
  if (f.name !== undefined) next.name = checkedName(f.name);
  if (db) next.db = db;
  if (f.dest !== undefined) next.destinations[0] = { ...next.destinations[0], kind: 'folder', path: absolute(nonEmpty(f.dest, '--dest', EXAMPLE_DEST), 'backup folder', EXAMPLE_DEST) };
  next.destinations = [next.destinations[0], ...editedCopies(j, f)];
  next.retention = retentionFrom(f, j.retention);
  if (f.check) next.check = f.check;
  if (f.gzip !== undefined) next.gzip = f.gzip;
  if (f.quiet !== undefined) next.quietSeconds = f.quiet;
  if (f.maxWait !== undefined) next.maxWaitSeconds = f.maxWait;
  return next;
}

export function registerJob(program: Command): void {
  const job = program.command('job').description('Add, list, change, pause or remove backup jobs (kept in config.json under LIFEBOAT_HOME).');
  const store = (): Promise<ConfigStore> => configStore(lifeboatHome());
  const run = (json: boolean | undefined, fn: () => Promise<void>): Promise<void> =>
    fn().catch((err: unknown) => {
      process.exitCode = reportError(err, Boolean(json));
    });

  /** Replaces job ID by EDIT(job) in config.json and tells the agent; `changed` is false when nothing differed. */
  const changeJob = async (id: string, edit: (j: Job) => Job): Promise<{ job: Job; changed: boolean }> => {
    let job: Job | undefined;
    const { changed } = (await store()).changeJobs((jobs) => {
      findJob(jobs, id);
      return jobs.map((j) => (j.id === id ? (job = edit(j)) : j));
    });
    if (changed) await notifyAgent();
    return { job: job as Job, changed };
  };

  const retentionOptions = (cmd: Command): Command => cmd
    .option('--keep-last <n>', 'keep the newest N backups', parseCount)
    .option('--keep-daily <n>', 'keep the newest backup of each of the last N days', parseCount)
    .option('--keep-weekly <n>', 'keep the newest backup of each of the last N weeks', parseCount)
    .option('--keep-monthly <n>', 'keep the newest backup of each of the last N months', parseCount)
    .option('--max-age-days <n>', 'remove backups older than N days (none: no limit)', parseMaxAge);

  retentionOptions(job.command('add')
    .description('Add a job: back up one database on a schedule.')
    .requiredOption('--name <name>', 'a name for people, e.g. "Shop till"')
    .requiredOption('--db <path>', 'the database file (full path)')
    .requiredOption('--schedule <when>', 'a preset ("daily at 23:00", "every 4 hours", "weekdays at 18:30", "weekly on sun at 22:00", "hourly") or a five-field cron expression')
    .requiredOption('--dest <dir>', 'the local backup folder (full path; created if the folder above it exists)')
    .option('--id <id>', 'a short id for the command line (default: from the name)')
    .option('--timezone <tz>', 'IANA time zone for the schedule (default, or local: the machine\'s)')
    .option('--check <level>', 'quick, full or none', parseCheck, DEFAULT_JOB_FIELDS.check)
    .option('--gzip', 'store backups gzip-compressed')
    .option('--quiet <seconds>', 'quiet period before copying', parseSeconds, DEFAULT_JOB_FIELDS.quietSeconds)
    .option('--max-wait <seconds>', 'longest wait for a quiet moment', parseSeconds, DEFAULT_JOB_FIELDS.maxWaitSeconds)
    .option('--copy-to <dir>', 'also copy each backup to this folder (a second disk, a NAS share); repeatable', collect)
    .option('--drive', 'also copy each backup to Google Drive (after `lifeboat drive setup` and `login`)')
    .option('--gzip-copies', 'compress the copies')
    .option('--encrypt-copies', 'encrypt the copies (AES-256-GCM; set the passphrase with `lifeboat passphrase set` first)')
    .option('--json', 'print the new job as JSON'))
    .action((f: Required<Pick<JobFlags, 'name' | 'db' | 'schedule' | 'dest'>> & JobFlags) => run(f.json, async () => {
      const newJob = await newJobFrom(f);
      const s = await store();
      const exists = (jobs: Job[]): void => {
        if (jobs.some((j) => j.id === newJob.id)) throw new LifeboatError('usage', `A job "${newJob.id}" exists already.`, 'Pick another --id, or change it with `lifeboat job edit`.');
      };
      exists(s.currentJobs());
      if (f.encryptCopies) requirePassphrase();
      await prepareLocalFolder(newJob.destinations[0].path, newJob.db);
      await prepareCopies(newJob, f);
      s.updateJobs((jobs) => {
        exists(jobs);
        return [...jobs, newJob];
      });
      await notifyAgent();
      if (f.json) printJson({ ok: true, job: newJob });
      say(`Added job:\n${describe(newJob)}`);
    }));

  job.command('list')
    .description('List the jobs.')
    .option('--json', 'print the jobs as JSON')
    .action((f: { json?: boolean }) => run(f.json, async () => {
      const loaded = (await store()).load();
      if (loaded.problem) say(`lifeboat: warning: ${loaded.problem}${loaded.usingLastGood ? ' (showing the last valid config)' : ''}`);
      if (f.json) printJson({ ok: true, jobs: loaded.jobs, problem: loaded.problem });
      else if (loaded.jobs.length === 0 && loaded.problem) say(`No jobs to show: fix ${loaded.path} first (jobs cannot be added while it is broken).`);
      else if (loaded.jobs.length === 0) say('No jobs yet. Add one with: lifeboat job add --name NAME --db PATH --schedule "daily at 23:00" --dest DIR');
      else say(loaded.jobs.map(describe).join('\n'));
    }));

  retentionOptions(job.command('edit')
    .description('Change a job; only the options given change.')
    .argument('<id>', 'the job id')
    .option('--name <name>', 'new name')
    .option('--db <path>', 'new database file (full path)')
    .option('--schedule <when>', 'new schedule (preset or five-field cron)')
    .option('--timezone <tz>', 'new time zone (local: the machine\'s own)')
    .option('--dest <dir>', 'new local backup folder (full path; created if the folder above it exists)')
    .option('--check <level>', 'quick, full or none', parseCheck)
    .addOption(new Option('--gzip', 'store backups gzip-compressed'))
    .addOption(new Option('--no-gzip', 'store backups uncompressed'))
    .option('--quiet <seconds>', 'quiet period before copying', parseSeconds)
    .option('--max-wait <seconds>', 'longest wait for a quiet moment', parseSeconds)
    .option('--copy-to <dir>', 'replace the copy destinations with this folder; repeatable (with --drive too)', collect)
    .option('--drive', 'copy to Google Drive (replaces the copy destinations, with any --copy-to)')
    .option('--gzip-copies', 'compress the copies')
    .option('--no-gzip-copies', 'store the copies uncompressed')
    .option('--encrypt-copies', 'encrypt the copies (needs a passphrase: `lifeboat passphrase set`)')
    .option('--no-encrypt-copies', 'store the copies unencrypted')
    .option('--no-copies', 'keep backups in the local folder only')
    .option('--json', 'print the changed job as JSON'))
    .action((id: string, f: JobFlags) => run(f.json, async () => {
      refuseNoChange(f);
      const db = f.db === undefined ? undefined : await checkedDb(f.db);
      checkCopyPaths(f);
      const planned = edited(findJob((await store()).currentJobs(), id), f, db);
      if (f.encryptCopies && planned.destinations.length > 1) requirePassphrase();
      if (f.dest !== undefined || db) await prepareLocalFolder(planned.destinations[0].path, planned.db);
      const marked = await prepareCopies(planned, f);
      const { job: changed, changed: didChange } = await changeJob(id, (j) => edited(j, f, db));
      if (f.json) printJson({ ok: true, changed: didChange, job: changed, markedCopyFolders: marked });
      for (const p of marked) say(`Set up the copy folder ${p} (marker ${FOLDER_MARKER} written).`);
      say(didChange ? `Changed job:\n${describe(changed)}` : `Nothing changed: job ${id} already has these settings.`);
    }));

  job.command('mark-copy-folder')
    .description(`Mark DIR as Lifeboat's copy folder (writes ${FOLDER_MARKER}) once its drive or share is mounted; jobs' settings do not change.`)
    .argument('<dir>', 'the copy folder (full path)')
    .option('--json', 'print the result as JSON')
    .action((dir: string, f: { json?: boolean }) => run(f.json, async () => {
      const path = absolute(nonEmpty(dir, '<dir>', EXAMPLE_DEST), 'copy folder', EXAMPLE_DEST);
      // Unlike `job add --copy-to`, nothing is created here: the folder is one a run could not use, and a typo must not make a new one.
      if (!(await stat(path).then((st) => st.isDirectory(), () => false))) {
        throw new LifeboatError('destination', `${path} is not there (or is not a folder).`, 'Mount the drive or share that holds it and try again; to copy to a new folder, use `lifeboat job edit ID --copy-to DIR`.');
      }
      const users = (await store()).load().jobs.filter((j) => j.destinations.slice(1).some((d) => d.kind === 'folder' && samePlace(d.path, path))).map((j) => j.id);
      const { marked } = await prepareCopyFolder(path);
      if (f.json) printJson({ ok: true, folder: path, marked, jobs: users });
      say(marked ? `Marked ${path} as a copy folder.` : `${path} was already marked as a copy folder; nothing changed.`);
      say(users.length ? `Jobs that copy there: ${users.join(', ')}; their next runs send the copies that wait.` : `lifeboat: warning: no job copies to ${path}; add it with \`lifeboat job edit ID --copy-to ${path}\` (that replaces the job's copy destinations).`);
    }));

  job.command('remove')
    .description('Remove a job (its backups stay where they are).')
    .argument('<id>', 'the job id')
    .option('--json', 'print the result as JSON')
    .action((id: string, f: { json?: boolean }) => run(f.json, async () => {
      (await store()).updateJobs((jobs) => {
        findJob(jobs, id);
        return jobs.filter((j) => j.id !== id);
      });
      await notifyAgent();
      if (f.json) printJson({ ok: true, removed: id });
      say(`Removed job ${id}. Its backups were left in place.`);
    }));

  job.command('pause')
    .description('Pause a job\'s scheduled runs (indefinitely, or --for 1h / 2d / tomorrow).')
    .argument('<id>', 'the job id')
    .option('--for <length>', 'how long: e.g. 30m, 1h, 2d, or tomorrow (until 06:00); replaces any pause already set')
    .option('--json', 'print the changed job as JSON')
    .action((id: string, f: { for?: string; json?: boolean }) => run(f.json, async () => {
      const until = f.for === undefined ? null : pauseEnd(f.for, new Date());
      let wasIndefinite = false;
      const { job: changed, changed: didChange } = await changeJob(id, (j) => {
        wasIndefinite = !j.enabled;
        return pausedJob(j, until);
      });
      if (f.json) printJson({ ok: true, changed: didChange, job: changed });
      if (!didChange) say(`${id} is already paused until you resume it; nothing changed.`);
      else if (!until) say(`Paused ${id} until you resume it (lifeboat job resume ${id}).`);
      else say(`Paused ${id} until ${until.toLocaleString()}${wasIndefinite ? ' (this replaces the pause until resumed)' : ''}.`);
    }));

  job.command('resume')
    .description('Resume a paused job (runs missed during the pause are not caught up on).')
    .argument('<id>', 'the job id')
    .option('--json', 'print the changed job as JSON')
    .action((id: string, f: { json?: boolean }) => run(f.json, async () => {
      const now = Date.now();
      const { job: changed, changed: didChange } = await changeJob(id, (j) => resumedJob(j, now));
      if (f.json) printJson({ ok: true, changed: didChange, job: changed });
      say(didChange ? `Resumed ${id}.` : `${id} is not paused, so nothing changed.`);
    }));
}
