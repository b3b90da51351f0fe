import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Agent } from '../agent.js';
import { pauseEnd } from '../commands/job.js';
import type { BackupProgress } from '../engine/backup-options.js';
import { logDir, type Logger } from '../log.js';
import { autostartStatus, disableAutostart, enableAutostart, type AutostartOptions } from './autostart.js';
import { Notifier } from './notifier.js';
import { openPath } from './open.js';
import { noteForRun } from './run-notes.js';
import { Tray, type PauseLength } from './tray.js';
import { findTrayHost } from './tray-host.js';
import { prepareTrayHelper } from './tray-helper.js';
import { trayView, type TrayView } from './tray-model.js';
import { ensureToastShortcut } from './windows-toast.js';
import { pausedJob, resumedJob } from '../schedule/catch-up.js';

export interface DesktopOptions {
  agent: Agent;
  home: string;
  log: Logger;
  /** Started at login: the desktop may still be coming up, so the tray host is waited for. */
  login?: boolean;
  /** A job whose first good backup is announced even with success notes off (the demo). */
  announce?: string | null;
  /** The tray's Quit: stops the agent the same way SIGTERM does. */
  onQuit: () => void;
  env?: NodeJS.ProcessEnv;
  /** How long --login waits for a tray host. */
  loginWaitMs?: number;
}

export interface Desktop {
  /** Null when the tray runs; otherwise why the agent runs without one. */
  headlessReason: string | null;
  tray: Tray | null;
  notifier: Notifier;
  stop: () => Promise<void>;
}

/**
 * Wires the tray, notifications and start-at-login to a running Agent. A thin adapter: it reads
 * the agent's status and events and turns menu clicks into the same calls the CLI makes
 * (trigger, config changes, reload); nothing here schedules or backs up.
 */
export async function startDesktop(o: DesktopOptions): Promise<Desktop> {
  const { agent, log } = o;
  const env = o.env ?? process.env;
  const open = (path: string): void => openPath(path, (err) => log.warn({ event: 'open-failed', path, error: err.message }, `could not open ${path}: ${err.message}`));
  const notifier = new Notifier({ log, open });
  const autostartOpts: AutostartOptions = { home: o.home, lifeboatHome: env.LIFEBOAT_HOME ? o.home : undefined, env };
  const logFile = (): string => (existsSync(join(logDir(o.home), 'current.log')) ? join(logDir(o.home), 'current.log') : logDir(o.home));
  const jobName = (id: string): string => agent.jobs().find((j) => j.id === id)?.name ?? id;
  const folderOf = (id: string): string | undefined => agent.jobs().find((j) => j.id === id)?.destinations[0]?.path;
  let announce = o.announce ?? null;

  // Before the first notification can matter; it never holds up the start.
  void ensureToastShortcut({ ...autostartOpts, log });

  agent.onRun((e) => {
    const note = noteForRun(e, {
      jobName: jobName(e.jobId),
      folder: folderOf(e.jobId),
      logFile: logFile(),
      wasFailing: () => notifier.forget(`failure:${e.jobId}:`),
      notifyOnSuccess: agent.config.settings.notifyOnSuccess,
      announce: announce === e.jobId,
    });
    if (note && announce === e.jobId && note.key.startsWith('success:')) announce = null;
    if (note) void notifier.notify(note);
  });

  let host = await findTrayHost(env);
  if (!host.ok && o.login) {
    // At login the panel often comes up after the programs started with the session.
    const end = Date.now() + (o.loginWaitMs ?? 60_000);
    while (!host.ok && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 2000));
      host = await findTrayHost(env);
    }
  }
  const headless = (reason: string): Desktop => {
    log.warn({ event: 'desktop-headless', reason }, `no tray icon: ${reason}; running headless (notifications are still tried)`);
    return { headlessReason: reason, tray: null, notifier, stop: async () => {} };
  };
  if (!host.ok) return headless(host.reason);

  let helper;
  try {
    helper = prepareTrayHelper(o.home);
  } catch (err) {
    return headless(`the tray helper cannot be prepared: ${(err as Error).message}`);
  }

  let progress: { jobId: string; progress: BackupProgress } | null = null;
  const view = (): TrayView => {
    const status = agent.status();
    const running = agent.queue.running;
    return trayView({
      now: Date.now(),
      jobs: agent.jobs(),
      statuses: status.jobs,
      failureKinds: new Map(agent.jobs().map((j) => [j.id, agent.history.lastOf(j.id, 'failure')?.errorKind ?? null])),
      running: running ? { jobId: running.jobId, progress: progress?.jobId === running.jobId ? progress.progress : null } : null,
      reachable: (p) => existsSync(p) || existsSync(dirname(p)),
      configProblem: status.config.problem,
    });
  };

  let autostartOn = (await autostartStatus(autostartOpts).catch(() => ({ enabled: false }))).enabled;
  const changeJobs = (what: string, change: Parameters<typeof agent.store.updateJobs>[0]): void => {
    try {
      agent.store.updateJobs(change);
      agent.reload();
      log.info({ event: 'tray-config', what }, `from the tray: ${what}`);
    } catch (err) {
      log.error({ event: 'tray-config-failed', what, error: (err as Error).message }, `could not ${what}: ${(err as Error).message}`);
      void notifier.notify({ key: 'tray-config', state: 'warning', title: `Could not ${what}`, message: (err as Error).message });
    }
  };

  let gaveUp: string | null = null;
  const tray = new Tray({
    helper,
    log,
    onGiveUp: (reason) => (gaveUp = reason),
    actions: {
      backupNow: (jobId) => {
        const ids = jobId ? [jobId] : agent.jobs().filter((j) => j.enabled).map((j) => j.id);
        for (const id of ids) agent.trigger(id, 'manual');
      },
      pause: (length: PauseLength) => {
        const until = length === '1h' ? new Date(Date.now() + 3_600_000) : length === 'tomorrow' ? pauseEnd('tomorrow', new Date()) : null;
        changeJobs(until ? `pause backups until ${until.toLocaleString()}` : 'pause backups until resumed', (jobs) => jobs.map((j) => pausedJob(j, until)));
      },
      // The end of the pause is now: occurrences missed while paused are not caught up on.
      resume: () => changeJobs('resume backups', (jobs) => jobs.map((j) => resumedJob(j, Date.now()))),
      openFolder: () => {
        const folder = agent.jobs()[0]?.destinations[0]?.path;
        if (folder) open(existsSync(folder) ? folder : dirname(folder));
      },
      openLog: () => open(logFile()),
      toggleAutostart: () => {
        void (autostartOn ? disableAutostart(autostartOpts) : enableAutostart(autostartOpts)).then((s) => {
          autostartOn = s.enabled;
          log.info({ event: 'autostart', enabled: s.enabled, entry: s.entry }, `start at login ${s.enabled ? 'on' : 'off'} (${s.entry})`);
          refresh();
        }, (err: unknown) => log.error({ event: 'autostart-failed', error: (err as Error).message }, `could not change start at login: ${(err as Error).message}`));
      },
      quit: () => o.onQuit(),
    },
  });
  if (!(await tray.start(view(), autostartOn))) return { ...headless(gaveUp ?? 'the tray helper did not start'), notifier };

  // Changes come in bursts (a run starts, progresses, ends): one redraw per burst is enough.
  let pending: NodeJS.Timeout | null = null;
  let lastProgressDraw = 0;
  function refresh(delayMs = 100): void {
    if (pending) return;
    pending = setTimeout(() => {
      pending = null;
      try {
        tray.update(view(), autostartOn);
      } catch (err) {
        log.warn({ event: 'tray-refresh-failed', error: (err as Error).message }, 'tray refresh failed');
      }
    }, delayMs);
  }
  agent.queue.on('start', () => {
    progress = null;
    refresh();
  });
  agent.queue.on('end', () => refresh());
  agent.onRun(() => refresh());
  agent.onReload(() => refresh());
  agent.onProgress((jobId, p) => {
    progress = { jobId, progress: p };
    if (Date.now() - lastProgressDraw < 1000) return;
    lastProgressDraw = Date.now();
    refresh(0);
  });
  // "2 h ago" ages and runs become overdue without any event.
  const ticker = setInterval(() => refresh(0), 30_000);
  ticker.unref();

  return {
    headlessReason: null,
    tray,
    notifier,
    stop: async () => {
      clearInterval(ticker);
      if (pending) clearTimeout(pending);
      await tray.stop();
    },
  };
}
