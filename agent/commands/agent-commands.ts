import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import type { Desktop } from '../desktop/desktop.js';
import { DEFAULT_JOB_FIELDS, noSuchJob, type Job } from '../config/job.js';
import { demoPaths, lifeboatHome } from '../config/paths.js';
import type { ConfigStore } from '../config/store.js';
import { createPosDatabase } from '../demo/pos-schema.js';
import { formatBytes } from '../engine/backup.js';
import { EXIT_CODES, LifeboatError } from '../engine/errors.js';
import { History, type RunRecord } from '../runner/history.js';
import { ago, jobStatuses, type JobStatus, type StatusReport } from '../runner/status.js';
import { tellAgent } from './agent-link.js';
import { configStore } from './load-store.js';
import { printJson, reportError, say } from './output.js';

const DEMO_BYTES = 16 << 20;

/** A first start with nothing configured backs up a demo database, so a newcomer sees the whole loop. */
function ensureDemoJob(store: ConfigStore): Job | null {
  const loaded = store.load();
  if (loaded.jobs.length > 0 || loaded.problem) return null;
  const paths = demoPaths(store.home);
  mkdirSync(paths.dir, { recursive: true });
  if (!existsSync(paths.db)) createPosDatabase(paths.db, DEMO_BYTES, 'wal');
  const job: Job = {
    ...structuredClone(DEFAULT_JOB_FIELDS),
    id: 'demo',
    name: 'Demo POS database',
    db: paths.db,
    schedule: { cron: '0 * * * *', label: 'hourly' },
    destinations: [{ kind: 'folder', path: paths.backups }],
    quietSeconds: 1,
    createdAt: new Date().toISOString(),
  };
  store.updateJobs(() => [job]);
  return job;
}

function statusLines(r: StatusReport): string[] {
  const lines = [r.agent.running ? `Agent: running (pid ${r.agent.pid}, since ${r.agent.startedAt}, version ${r.agent.version})` : 'Agent: not running (start it with `lifeboat start`)'];
  if (r.config.problem) lines.push(`Config problem: ${r.config.problem}${r.config.usingLastGood ? ' — running on the last valid config' : ''}`);
  if (r.jobs.length === 0) lines.push(r.config.problem ? `No jobs to show: fix ${r.config.path} first (jobs cannot be added while it is broken).` : 'No jobs yet. Add one with `lifeboat job add`.');
  for (const j of r.jobs) {
    lines.push(`${j.id} (${j.name}): ${j.state}`);
    lines.push(`  last good backup: ${j.sinceLastSuccessMs === null ? 'never' : ago(j.sinceLastSuccessMs)}${j.lastSuccess?.file ? ` — ${j.lastSuccess.file}` : ''}`);
    if (j.lastFailure) lines.push(`  last failure: ${j.lastFailure.at}: ${j.lastFailure.reason ?? ''}`);
    lines.push(`  next run: ${j.nextRun ?? (j.state === 'paused' ? 'paused' : 'none')}   schedule: ${j.schedule}`);
    lines.push(`  success rate (30 days): ${j.successRate.total ? `${Math.round((100 * j.successRate.success) / j.successRate.total)}% (${j.successRate.success}/${j.successRate.total})` : 'no runs yet'}`);
    if (j.pendingUploads) lines.push(`  copies waiting to be retried: ${j.pendingUploads}`);
    for (const w of j.warnings) lines.push(`  warning: ${w}`);
  }
  return lines;
}

async function requireJob(home: string, id: string): Promise<void> {
  const jobs = (await configStore(home)).load().jobs;
  if (!jobs.some((j) => j.id === id)) throw noSuchJob(id, jobs);
}

async function offlineStatus(home: string): Promise<StatusReport> {
  const loaded = (await configStore(home)).load();
  const historyPath = join(home, 'history.sqlite');
  const history = existsSync(historyPath) ? new History(historyPath, { readonly: true }) : null;
  try {
    const jobs: JobStatus[] = jobStatuses(loaded.jobs, history, Date.now());
    return { agent: { running: false }, config: { path: loaded.path, problem: loaded.problem, usingLastGood: loaded.usingLastGood }, jobs };
  } finally {
    history?.close();
  }
}

export function registerAgentCommands(program: Command): void {
  program.command('start')
    .description('Run the agent: schedules, catch-up after the PC was off, the channel for `lifeboat now` and `status`, and (unless --headless) the tray icon and notifications.')
    .option('--headless', 'no desktop parts (tray, notifications): for servers, tests and the OS scheduler')
    .option('--login', 'started at login (see `lifeboat autostart`): waits up to a minute for the desktop\'s tray, then runs the login catch-up')
    .action(async (f: { headless?: boolean; login?: boolean }) => {
      const home = lifeboatHome();
      try {
        // The agent's own modules are loaded here, so the other commands start quickly.
        const [{ Agent }, { createLogger, logDir }] = await Promise.all([import('../agent.js'), import('../log.js')]);
        const store = await configStore(home);
        const demo = f.headless ? null : ensureDemoJob(store);
        const log = await createLogger(home);
        const agent = new Agent({ home, log });
        const running = await agent.start();
        if (running) {
          say(`Lifeboat is already running (pid ${String(running.pid)}) for ${home}.`);
          process.exit(EXIT_CODES.ok);
        }
        say(`Lifeboat agent running (pid ${process.pid}) for ${home}.`);
        const problem = agent.config.problem;
        if (problem) say(`lifeboat: warning: config.json has a problem: ${problem} ${agent.config.usingLastGood ? 'Running on the last valid config' : 'Running with no jobs'} until it is fixed; the change is picked up without a restart.`);
        if (f.login) log.info({ event: 'login-start' }, 'started at login');
        let stopping = false;
        let desktop: Desktop | null = null;
        const stop = (): void => {
          if (stopping) return;
          stopping = true;
          say('Stopping (waiting for a running backup to finish)…');
          void (desktop?.stop() ?? Promise.resolve())
            .catch(() => {})
            .then(() => agent.stop())
            .then(() => {
              log.flush();
              setTimeout(() => process.exit(0), 100);
            });
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
        if (agent.config.problem) say(`lifeboat: warning: ${agent.config.problem}. ${agent.config.usingLastGood ? 'Running on the last valid config.' : 'No valid config to fall back to.'}`);
        say(`Jobs: ${agent.jobs().map((j) => j.id).join(', ') || 'none (add one with `lifeboat job add`)'}. Logs: ${logDir(home)}. Stop with Ctrl+C or \`lifeboat stop\`.`);
        agent.onRun((e) => {
          if (e.outcome.ok) say(`${new Date().toLocaleTimeString()} ${e.jobId} (${e.trigger}): backup OK, ${formatBytes(e.outcome.result.bytes)} → ${e.outcome.result.file}`);
          if (e.outcome.ok) for (const w of e.outcome.warnings) say(`  warning: ${w}`);
          else say(`${new Date().toLocaleTimeString()} ${e.jobId} (${e.trigger}): FAILED: ${e.outcome.error.toLine()}`);
        });
        if (!f.headless) {
          // Loaded only here: a headless agent never pays for the tray and notifier modules.
          const { startDesktop } = await import('../desktop/desktop.js');
          desktop = await startDesktop({ agent, home, log, login: Boolean(f.login), announce: demo?.id ?? null, onQuit: stop });
          say(desktop.headlessReason ? `No tray icon (${desktop.headlessReason}): running headless.` : 'Tray icon shown; notifications on.');
        }
        if (demo) {
          say(`No job was configured, so a demo job backs up ${demo.db} into ${demo.destinations[0]?.path} now and every hour.`);
          agent.trigger(demo.id, 'manual');
        }
      } catch (err) {
        process.exitCode = reportError(err, false);
      }
    });

  program.command('stop')
    .description('Ask the running agent to stop (after a backup in progress).')
    .action(async () => {
      const r = await tellAgent({ cmd: 'quit' });
      if (!r) {
        say('Lifeboat is not running.');
        return;
      }
      say('Lifeboat is stopping.');
    });

  program.command('status')
    .description('Each job\'s state, last good backup, last failure and next run; works with or without the agent running.')
    .option('--json', 'print the status as JSON')
    .action(async (f: { json?: boolean }) => {
      try {
        const live = await tellAgent({ cmd: 'status' });
        const report = live ? (live as unknown as StatusReport) : await offlineStatus(lifeboatHome());
        if (f.json) {
          const { ok: _ok, ...rest } = live ?? { ok: true, ...report };
          printJson(live ? rest : report);
        } else say(statusLines(report).join('\n'));
      } catch (err) {
        process.exitCode = reportError(err, Boolean(f.json));
      }
    });

  program.command('history')
    .description('Past runs, newest first.')
    .option('--json', 'print the runs as JSON')
    .option('--job <id>', 'only this job')
    .option('--limit <n>', 'how many runs', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive whole number, e.g. 20.');
      return n;
    }, 20)
    .action(async (f: { json?: boolean; job?: string; limit: number }) => {
      try {
        const home = lifeboatHome();
        const path = join(home, 'history.sqlite');
        let runs: RunRecord[] = [];
        if (existsSync(path)) {
          const h = new History(path, { readonly: true });
          runs = h.list({ jobId: f.job, limit: f.limit });
          h.close();
        }
        // A removed job still has its runs; only an id with neither runs nor a job is a typo.
        if (f.job && runs.length === 0) await requireJob(home, f.job);
        if (f.json) printJson({ ok: true, runs });
        else if (runs.length === 0) say('No runs yet.');
        else for (const r of runs) say(`${r.startedAt}  ${r.jobId ?? '(cli)'}  ${r.trigger}  ${r.outcome}${r.file ? `  ${r.file}` : ''}${r.reason ? `  — ${r.reason}` : ''}`);
      } catch (err) {
        process.exitCode = reportError(err, Boolean(f.json));
      }
    });

  program.command('now')
    .description('Ask the running agent to back up now (all enabled jobs, or JOB).')
    .argument('[job]', 'the job id')
    .option('--wait', 'wait until the backup has finished; exit 0 only if it succeeded')
    .option('--json', 'print the result as JSON')
    .action(async (job: string | undefined, f: { wait?: boolean; json?: boolean }) => {
      try {
        const reply = await tellAgent({ cmd: 'now', job, wait: Boolean(f.wait) }, {
          onReply: (r) => {
            if (r.more) say(`Queued: ${JSON.stringify(r.queued)}; waiting for the result…`);
          },
        });
        if (!reply) {
          throw new LifeboatError('agent', 'The Lifeboat agent is not running, so nobody can take the request.',
            'Start it with `lifeboat start`, or back up directly with `lifeboat backup --db PATH --dest DIR`.');
        }
        if (f.json) printJson(reply);
        if (!reply.ok) {
          const e = (reply.error ?? (reply.results as Array<{ error?: { kind: string; message: string; hint?: string } }> | undefined)?.find((r) => r.error)?.error) as { kind?: string; message?: string; hint?: string } | undefined;
          say(`lifeboat: ${e?.message ?? 'the backup failed'} ${e?.hint ?? ''}`.trim());
          process.exitCode = EXIT_CODES[(e?.kind as keyof typeof EXIT_CODES) ?? 'internal'] ?? EXIT_CODES.internal;
          return;
        }
        if (f.wait) {
          for (const r of reply.results as Array<{ job: string; file?: string; warnings?: string[] }>) {
            say(`${r.job}: backup OK → ${r.file}`);
            // The local backup counts, but a copy that did not arrive must not go unsaid.
            for (const w of r.warnings ?? []) say(`${r.job}: warning: ${w}`);
          }
        }
        else say(`Asked the agent: ${(reply.queued as Array<{ job: string; result: string }>).map((q) => `${q.job} ${q.result}`).join(', ')}.`);
      } catch (err) {
        process.exitCode = reportError(err, Boolean(f.json));
      }
    });
}
