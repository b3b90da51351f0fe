import { isAbsolute } from 'node:path';
import { Option, type Command } from 'commander';
import { DEFAULT_JOB_FIELDS, type Destination, type Job } from '../config/job.js';
import { lifeboatHome } from '../config/paths.js';
import { LifeboatError } from '../engine/errors.js';
import type { CheckLevel } from '../engine/integrity.js';
import { checkSourceFile } from '../engine/source-check.js';
import { describeDestination } from '../destinations/registry.js';
import { parseSchedule } from '../schedule/cron.js';
import { tellAgent } from './agent-link.js';
import { configStore } from './load-store.js';
import type { ConfigStore } from '../config/store.js';
import { printJson, reportError, say } from './output.js';
import { parseCheck, parseSeconds } from './parse.js';

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
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** The copies after the local folder: other folders (a second disk, a NAS) and Google Drive. */
function copyDestinations(f: JobFlags): Destination[] {
  const opts = { ...(f.gzipCopies ? { gzip: true } : {}), ...(f.encryptCopies ? { encrypt: true } : {}) };
  const folders: Destination[] = (f.copyTo ?? []).map((p) => ({ kind: 'folder', path: absolute(p, 'copy folder', EXAMPLE_DEST), ...opts }));
  return f.drive ? [...folders, { kind: 'gdrive', ...opts }] : folders;
}

function absolute(path: string, what: string, example: string): string {
  if (!isAbsolute(path)) {
    throw new LifeboatError('usage', `The ${what} "${path}" is a relative path.`, `Use the full path, e.g. ${example}: the agent starts from another folder at login.`);
  }
  return path;
}

function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'job';
}

const EXAMPLE_DB = process.platform === 'win32' ? 'C:\\POS\\data\\pos.db' : '/home/shop/pos/pos.db';
const EXAMPLE_DEST = process.platform === 'win32' ? 'D:\\Backups' : '/mnt/backups';

async function checkedDb(db: string): Promise<string> {
  absolute(db, 'database path', EXAMPLE_DB);
  await checkSourceFile(db);
  return db;
}

function findJob(jobs: Job[], id: string): Job {
  const job = jobs.find((j) => j.id === id);
  if (!job) throw new LifeboatError('usage', `There is no job "${id}".`, jobs.length ? `Jobs: ${jobs.map((j) => j.id).join(', ')}.` : 'Add one with `lifeboat job add`.');
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
  const unit = m[2] === 'd' ? 86_400_000 : m[2] === 'h' ? 3_600_000 : 60_000;
  return new Date(now.getTime() + Number(m[1]) * unit);
}

function describe(job: Job): string {
  const paused = !job.enabled ? ' [paused]' : job.pausedUntil && Date.parse(job.pausedUntil) > Date.now() ? ` [paused until ${job.pausedUntil}]` : '';
  return `${job.id}  ${job.name}${paused}\n    database: ${job.db}\n    schedule: ${job.schedule.label ?? job.schedule.cron}${job.schedule.timezone ? ` (${job.schedule.timezone})` : ''}\n    backups:  ${job.destinations.map(describeDestination).join(', ')}`;
}

export function registerJob(program: Command): void {
  const job = program.command('job').description('Add, list, change, pause or remove backup jobs (kept in config.json under LIFEBOAT_HOME).');
  const store = (): Promise<ConfigStore> => configStore(lifeboatHome());
  const run = (json: boolean | undefined, fn: () => Promise<void>): Promise<void> =>
    fn().catch((err: unknown) => {
      process.exitCode = reportError(err, Boolean(json));
    });

  job.command('add')
    .description('Add a job: back up one database on a schedule.')
    .requiredOption('--name <name>', 'a name for people, e.g. "Shop till"')
    .requiredOption('--db <path>', 'the database file (full path)')
    .requiredOption('--schedule <when>', 'a preset ("daily at 23:00", "every 4 hours", "weekdays at 18:30", "hourly") or a cron expression')
    .requiredOption('--dest <dir>', 'the local backup folder (full path)')
    .option('--id <id>', 'a short id for the command line (default: from the name)')
    .option('--timezone <tz>', 'IANA time zone for the schedule (default: the machine\'s)')
    .option('--check <level>', 'quick, full or none', parseCheck, DEFAULT_JOB_FIELDS.check)
    .option('--gzip', 'store backups gzip-compressed')
    .option('--quiet <seconds>', 'quiet period before copying', parseSeconds, DEFAULT_JOB_FIELDS.quietSeconds)
    .option('--max-wait <seconds>', 'longest wait for a quiet moment', parseSeconds, DEFAULT_JOB_FIELDS.maxWaitSeconds)
    .option('--copy-to <dir>', 'also copy each backup to this folder (a second disk, a NAS share); repeatable', collect)
    .option('--drive', 'also copy each backup to Google Drive (after `lifeboat drive setup` and `login`)')
    .option('--gzip-copies', 'compress the copies')
    .option('--encrypt-copies', 'encrypt the copies (AES-256-GCM; set the passphrase with `lifeboat passphrase set`)')
    .option('--json', 'print the new job as JSON')
    .action((f: Required<Pick<JobFlags, 'name' | 'db' | 'schedule' | 'dest'>> & JobFlags) => run(f.json, async () => {
      const schedule = parseSchedule(f.schedule, f.timezone);
      const db = await checkedDb(f.db);
      const dest = absolute(f.dest, 'backup folder', EXAMPLE_DEST);
      const id = f.id ?? slug(f.name);
      if (!/^[a-z0-9][a-z0-9_-]{0,39}$/.test(id)) throw new LifeboatError('usage', `"${id}" cannot be a job id.`, 'Use lower-case letters, digits, - and _ (up to 40), e.g. --id shop.');
      const newJob: Job = {
        ...structuredClone(DEFAULT_JOB_FIELDS),
        id,
        name: f.name,
        db,
        schedule: { ...schedule, ...(f.timezone ? { timezone: f.timezone } : {}) },
        destinations: [{ kind: 'folder', path: dest }, ...copyDestinations(f)],
        check: f.check ?? DEFAULT_JOB_FIELDS.check,
        gzip: Boolean(f.gzip),
        quietSeconds: f.quiet ?? DEFAULT_JOB_FIELDS.quietSeconds,
        maxWaitSeconds: f.maxWait ?? DEFAULT_JOB_FIELDS.maxWaitSeconds,
        createdAt: new Date().toISOString(),
      };
      (await store()).updateJobs((jobs) => {
        if (jobs.some((j) => j.id === id)) throw new LifeboatError('usage', `A job "${id}" exists already.`, 'Pick another --id, or change it with `lifeboat job edit`.');
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
      else if (loaded.jobs.length === 0) say('No jobs yet. Add one with: lifeboat job add --name NAME --db PATH --schedule "daily at 23:00" --dest DIR');
      else say(loaded.jobs.map(describe).join('\n'));
    }));

  job.command('edit')
    .description('Change a job; only the options given change.')
    .argument('<id>', 'the job id')
    .option('--name <name>', 'new name')
    .option('--db <path>', 'new database file (full path)')
    .option('--schedule <when>', 'new schedule (preset or cron)')
    .option('--timezone <tz>', 'new time zone')
    .option('--dest <dir>', 'new local backup folder (full path)')
    .option('--check <level>', 'quick, full or none', parseCheck)
    .addOption(new Option('--gzip', 'store backups gzip-compressed'))
    .addOption(new Option('--no-gzip', 'store backups uncompressed'))
    .option('--quiet <seconds>', 'quiet period before copying', parseSeconds)
    .option('--max-wait <seconds>', 'longest wait for a quiet moment', parseSeconds)
    .option('--copy-to <dir>', 'replace the copy destinations with this folder; repeatable (with --drive too)', collect)
    .option('--drive', 'copy to Google Drive (replaces the copy destinations, with any --copy-to)')
    .option('--gzip-copies', 'compress the copies')
    .option('--encrypt-copies', 'encrypt the copies')
    .option('--no-copies', 'keep backups in the local folder only')
    .option('--json', 'print the changed job as JSON')
    .action((id: string, f: JobFlags) => run(f.json, async () => {
      const db = f.db ? await checkedDb(f.db) : undefined;
      const dest = f.dest ? absolute(f.dest, 'backup folder', EXAMPLE_DEST) : undefined;
      let changed: Job | undefined;
      (await store()).updateJobs((jobs) => {
        const j = findJob(jobs, id);
        const tz = f.timezone ?? j.schedule.timezone;
        if (f.schedule || f.timezone) {
          const s = parseSchedule(f.schedule ?? j.schedule.label ?? j.schedule.cron, tz);
          j.schedule = { ...s, ...(tz ? { timezone: tz } : {}) };
        }
        if (f.name) j.name = f.name;
        if (db) j.db = db;
        if (dest) j.destinations[0] = { ...j.destinations[0], kind: 'folder', path: dest };
        if (f.copies === false) j.destinations = [j.destinations[0]];
        else if (f.copyTo || f.drive) j.destinations = [j.destinations[0], ...copyDestinations(f)];
        if (f.check) j.check = f.check;
        if (f.gzip !== undefined) j.gzip = f.gzip;
        if (f.quiet !== undefined) j.quietSeconds = f.quiet;
        if (f.maxWait !== undefined) j.maxWaitSeconds = f.maxWait;
        changed = j;
        return jobs;
      });
      await notifyAgent();
      if (f.json) printJson({ ok: true, job: changed });
      if (changed) say(`Changed job:\n${describe(changed)}`);
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
    .option('--for <length>', 'how long: e.g. 30m, 1h, 2d, or tomorrow (until 06:00)')
    .option('--json', 'print the changed job as JSON')
    .action((id: string, f: { for?: string; json?: boolean }) => run(f.json, async () => {
      const until = f.for ? pauseEnd(f.for, new Date()) : null;
      let changed: Job | undefined;
      (await store()).updateJobs((jobs) => {
        const j = findJob(jobs, id);
        if (until) j.pausedUntil = until.toISOString();
        else j.enabled = false;
        changed = j;
        return jobs;
      });
      await notifyAgent();
      if (f.json) printJson({ ok: true, job: changed });
      say(until ? `Paused ${id} until ${until.toLocaleString()}.` : `Paused ${id} until you resume it (lifeboat job resume ${id}).`);
    }));

  job.command('resume')
    .description('Resume a paused job.')
    .argument('<id>', 'the job id')
    .option('--json', 'print the changed job as JSON')
    .action((id: string, f: { json?: boolean }) => run(f.json, async () => {
      let changed: Job | undefined;
      (await store()).updateJobs((jobs) => {
        const j = findJob(jobs, id);
        j.enabled = true;
        // The end of the pause: occurrences before it are not caught up on.
        j.pausedUntil = new Date().toISOString();
        changed = j;
        return jobs;
      });
      await notifyAgent();
      if (f.json) printJson({ ok: true, job: changed });
      say(`Resumed ${id}.`);
    }));
}
