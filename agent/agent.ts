import { watch, type FSWatcher } from 'node:fs';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:net';
import { noSuchJob, type Job } from './config/job.js';
import { ConfigStore, type LoadedConfig } from './config/store.js';
import type { BackupOptions, BackupProgress, BackupResult } from './engine/backup-options.js';
import { agentEndpoint } from './ipc/endpoint.js';
import type { Reply, Request } from './ipc/protocol.js';
import { listenSingleInstance } from './ipc/server.js';
import type { Logger } from './log.js';
import { History } from './runner/history.js';
import { isRetryable, runPipeline, type RunOutcome } from './runner/pipeline.js';
import { JobQueue, type RunRequest } from './runner/queue.js';
import { jobStatuses, type StatusReport } from './runner/status.js';
import { realClock, type Clock } from './schedule/clock.js';
import { Scheduler, type Trigger } from './schedule/scheduler.js';
import { VERSION } from './version.js';

export interface AgentOptions {
  home: string;
  log: Logger;
  clock?: Clock;
  /** Replaces the real backup (tests of scheduling only). */
  backup?: (o: BackupOptions) => Promise<BackupResult>;
}

export interface RunEvent {
  jobId: string;
  trigger: Trigger;
  outcome: RunOutcome;
}

/**
 * The long-running agent: config, schedules and catch-up, the job queue, run history and the
 * local channel for the CLI. Desktop parts (tray, notifications) listen to its events; the agent
 * itself never needs a display.
 */
export class Agent {
  readonly store: ConfigStore;
  readonly history: History;
  readonly queue: JobQueue;
  readonly scheduler: Scheduler;
  readonly clock: Clock;
  readonly endpoint: string;
  config: LoadedConfig;
  private server: Server | null = null;
  private watcher: FSWatcher | null = null;
  private reloadTimer: NodeJS.Timeout | null = null;
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private readonly attempts = new Map<string, number>();
  private readonly waiters = new Map<string, Array<(e: RunEvent) => void>>();
  private readonly listeners: Array<(e: RunEvent) => void> = [];
  private readonly progressListeners: Array<(jobId: string, p: BackupProgress) => void> = [];
  private readonly reloadListeners: Array<() => void> = [];
  private startedAt = 0;
  private lastProblem: string | null = null;

  constructor(private readonly o: AgentOptions) {
    this.clock = o.clock ?? realClock;
    mkdirSync(o.home, { recursive: true, mode: 0o700 });
    this.endpoint = agentEndpoint(o.home);
    this.store = new ConfigStore(o.home);
    this.config = this.store.load();
    this.history = new History(join(o.home, 'history.sqlite'));
    this.queue = new JobQueue((req) => this.execute(req));
    this.scheduler = new Scheduler({
      clock: this.clock,
      catchUpDelayMs: this.config.settings.catchUpDelaySeconds * 1000,
      lastSuccess: (id) => this.history.lastSuccess(id),
      onDue: (jobId, trigger, scheduledFor) => this.trigger(jobId, trigger, scheduledFor),
      onBadJob: (jobId, problem) => o.log.error({ event: 'job-not-scheduled', jobId, problem }, `job ${jobId} is not scheduled: ${problem}`),
      onWake: (info) => o.log.info({ event: 'wake', ...info }, 'wall clock jumped or timer fired late: re-checking schedules'),
    });
  }

  /** Takes the instance lock and starts. Returns the running agent's ping reply when there already is one. */
  async start(): Promise<Reply | null> {
    const listened = await listenSingleInstance(this.endpoint, (req, reply) => this.handle(req, reply));
    if ('alreadyRunning' in listened) return listened.alreadyRunning;
    this.server = listened.server;
    try {
      this.setUp();
    } catch (err) {
      // Holding the socket while not running would make every later start say "already running".
      await this.abortStart();
      throw err;
    }
    return null;
  }

  private setUp(): void {
    this.startedAt = this.clock.now();
    // A broken config with no valid one before it still starts the agent, with no jobs: it says
    // what is wrong (log, status, tray) and picks the file up as soon as it is fixed, where an
    // agent that refused to start at login would leave the shop with no icon and no word.
    this.reportConfigProblem();
    const interrupted = this.history.markInterrupted(this.clock.now());
    if (interrupted > 0) this.o.log.warn({ interrupted }, 'runs cut off by an earlier crash were marked interrupted');
    this.scheduler.setJobs(this.config.jobs);
    this.scheduler.start();
    this.watchConfig();
    this.o.log.info({ event: 'start', version: VERSION, home: this.o.home, jobs: this.config.jobs.map((j) => j.id) }, 'agent started');
  }

  private async abortStart(): Promise<void> {
    this.scheduler.stop();
    this.watcher?.close();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
    if (process.platform !== 'win32') rmSync(this.endpoint, { force: true });
    this.history.close();
  }

  onRun(listener: (e: RunEvent) => void): void {
    this.listeners.push(listener);
  }

  /** Progress of the running backup, for the tray; listeners must be cheap (called often). */
  onProgress(listener: (jobId: string, p: BackupProgress) => void): void {
    this.progressListeners.push(listener);
  }

  /** After the config was read again (a `job` command, a hand edit, the tray). */
  onReload(listener: () => void): void {
    this.reloadListeners.push(listener);
  }

  jobs(): Job[] {
    return this.config.jobs;
  }

  /** Every trigger (schedule, catch-up, tray, CLI) enters here and goes through the one queue. */
  trigger(jobId: string, trigger: Trigger, scheduledFor: Date | null = null): 'started' | 'queued' | 'coalesced' | 'unknown-job' {
    if (!this.config.jobs.some((j) => j.id === jobId)) return 'unknown-job';
    const r = this.queue.enqueue({ jobId, trigger, scheduledFor });
    this.o.log.info({ event: 'trigger', jobId, trigger, scheduledFor, result: r }, `${trigger} run of ${jobId}: ${r}`);
    return r;
  }

  /** Never throws: a reload that fails leaves the agent running on what it had. */
  reload(): void {
    try {
      this.config = this.store.load();
      this.reportConfigProblem();
      this.scheduler.setCatchUpDelay(this.config.settings.catchUpDelaySeconds * 1000);
      this.scheduler.setJobs(this.config.jobs);
      this.o.log.info({ event: 'reload', jobs: this.config.jobs.map((j) => j.id) }, 'config reloaded');
    } catch (err) {
      this.o.log.error({ event: 'reload-failed', err }, 'config reload failed; running on the config loaded before');
      return;
    }
    for (const l of this.reloadListeners) l();
  }

  status(): StatusReport {
    const running = this.queue.running?.jobId ?? null;
    return {
      agent: { running: true, pid: process.pid, startedAt: new Date(this.startedAt).toISOString(), version: VERSION, schedulerTicks: this.scheduler.wakeUps, rssBytes: process.memoryUsage.rss() },
      config: { path: this.config.path, problem: this.config.problem, usingLastGood: this.config.usingLastGood },
      jobs: jobStatuses(this.config.jobs, this.history, this.clock.now(), { running, queued: this.queue.pending.map((p) => p.jobId), next: this.scheduler.nextRuns() }),
    };
  }

  async stop(): Promise<void> {
    this.scheduler.stop();
    this.watcher?.close();
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    for (const t of this.retryTimers) clearTimeout(t);
    await this.queue.drain();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    if (process.platform !== 'win32') rmSync(this.endpoint, { force: true });
    this.history.close();
    this.o.log.info({ event: 'stop' }, 'agent stopped');
  }

  private async execute(req: RunRequest): Promise<void> {
    const job = this.config.jobs.find((j) => j.id === req.jobId);
    if (!job) return;
    const copies = this.o.backup ? undefined : { home: this.o.home, settings: this.config.settings, history: this.history, now: () => this.clock.now(), jobIds: () => this.config.jobs.map((j) => j.id) };
    const outcome = await runPipeline(job, req.trigger, req.scheduledFor, { home: this.o.home, history: this.history, now: () => this.clock.now(), backup: this.o.backup, copies,
      onProgress: this.progressListeners.length > 0 ? (p) => { for (const l of this.progressListeners) l(job.id, p); } : undefined });
    if (outcome.ok) {
      this.attempts.delete(job.id);
      this.o.log.info({ event: 'run', jobId: job.id, trigger: req.trigger, ok: true, file: outcome.result.file, bytes: outcome.result.bytes, durationMs: outcome.result.durationMs }, `backup of ${job.id} OK`);
      for (const w of outcome.warnings) this.o.log.warn({ event: 'run-warning', jobId: job.id, warning: w }, w);
    } else {
      this.o.log.error({ event: 'run', jobId: job.id, trigger: req.trigger, ok: false, kind: outcome.error.kind, reason: outcome.error.toLine() }, `backup of ${job.id} failed`);
      this.scheduleRetry(job, outcome);
    }
    const event: RunEvent = { jobId: job.id, trigger: req.trigger, outcome };
    for (const l of this.listeners) l(event);
    const waiting = this.waiters.get(job.id) ?? [];
    this.waiters.delete(job.id);
    for (const w of waiting) w(event);
  }

  /** A run that failed for a passing reason is tried again later, up to the job's attempts; the next scheduled run happens regardless. */
  private scheduleRetry(job: Job, outcome: Extract<RunOutcome, { ok: false }>): void {
    const done = (this.attempts.get(job.id) ?? 1);
    if (!isRetryable(outcome.error) || done >= job.retry.attempts) {
      this.attempts.delete(job.id);
      return;
    }
    this.attempts.set(job.id, done + 1);
    const delay = Math.min(job.retry.delaySeconds * 1000 * 2 ** (done - 1), job.retry.maxDelaySeconds * 1000);
    this.o.log.info({ event: 'retry-scheduled', jobId: job.id, attempt: done + 1, delayMs: delay }, `will retry ${job.id} in ${Math.round(delay / 1000)} s`);
    const t = setTimeout(() => {
      this.retryTimers.delete(t);
      this.trigger(job.id, 'retry');
    }, delay);
    t.unref();
    this.retryTimers.add(t);
  }

  private reportConfigProblem(): void {
    const p = this.config.problem;
    if (p && p !== this.lastProblem) {
      this.o.log.error({ event: 'config-invalid', problem: p, usingLastGood: this.config.usingLastGood }, `config.json is invalid: ${p}; ${this.config.usingLastGood ? 'running on the last valid config' : 'no valid config to fall back to'}`);
    }
    this.lastProblem = p;
  }

  /** Hand edits take effect without a restart; conf writes atomically (rename), so the folder is watched. */
  private watchConfig(): void {
    try {
      this.watcher = watch(this.o.home, (_event, name) => {
        if (name !== 'config.json') return;
        if (this.reloadTimer) clearTimeout(this.reloadTimer);
        this.reloadTimer = setTimeout(() => this.reload(), 300);
      });
      this.watcher.unref();
    } catch (err) {
      this.o.log.warn({ err }, 'cannot watch the config folder; changes apply after `lifeboat job` commands or a restart');
    }
  }

  private handle(req: Request, reply: (r: Reply) => void): void {
    switch (req.cmd) {
      case 'ping':
        return reply({ ok: true, pid: process.pid, version: VERSION, home: this.o.home });
      case 'status':
        return reply({ ok: true, ...this.status() });
      case 'reload':
        this.reload();
        return reply({ ok: true, problem: this.config.problem });
      case 'quit':
        reply({ ok: true });
        setImmediate(() => process.emit('SIGTERM'));
        return;
      case 'now': {
        const ids = req.job ? [req.job] : this.config.jobs.filter((j) => j.enabled).map((j) => j.id);
        if (req.job && !this.config.jobs.some((j) => j.id === req.job)) return reply({ ok: false, error: noSuchJob(req.job, this.config.jobs).toJSON() });
        if (ids.length === 0) return reply({ ok: false, error: { kind: 'config', message: 'There are no jobs to run.', hint: 'Add one with `lifeboat job add`.' } });
        // A job already running finishes that run first; the one asked for is the run after it.
        const busyBefore = new Set(ids.filter((id) => this.queue.running?.jobId === id));
        const queued = ids.map((id) => ({ job: id, result: this.trigger(id, 'manual') }));
        if (!req.wait) return reply({ ok: true, queued });
        reply({ ok: true, more: true, queued });
        let left = ids.length;
        const results: Array<{ job: string; ok: boolean; file?: string; warnings?: string[]; error?: unknown }> = [];
        for (const id of ids) {
          const list = this.waiters.get(id) ?? [];
          let skip = busyBefore.has(id) ? 1 : 0;
          const waiter = (e: RunEvent): void => {
            if (skip-- > 0) {
              const again = this.waiters.get(id) ?? [];
              again.push(waiter);
              this.waiters.set(id, again);
              return;
            }
            results.push(e.outcome.ok ? { job: id, ok: true, file: e.outcome.result.file, warnings: e.outcome.warnings } : { job: id, ok: false, error: e.outcome.error.toJSON() });
            if (--left === 0) reply({ ok: results.every((r) => r.ok), results });
          };
          list.push(waiter);
          this.waiters.set(id, list);
        }
        return;
      }
      default:
        return reply({ ok: false, error: { kind: 'usage', message: 'unknown request' } });
    }
  }
}
