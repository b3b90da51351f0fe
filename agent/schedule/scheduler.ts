import type { Clock } from './clock.js';
import { isPaused, missedOccurrence, type CatchUpJob } from './catch-up.js';
import { nextRun, scheduleProblem } from './cron.js';

export type Trigger = 'schedule' | 'catch-up' | 'manual' | 'cli' | 'retry';

export interface SchedulerOptions {
  clock: Clock;
  /** Called when a job is due. */
  onDue: (jobId: string, trigger: Trigger, scheduledFor: Date) => void;
  /** When the job last succeeded (ms), from the run history. */
  lastSuccess: (jobId: string) => number | null;
  catchUpDelayMs: number;
  /** A job left out because its schedule cannot be computed; the others run on. */
  onBadJob?: (jobId: string, problem: string) => void;
  /** A gap this big between wall-clock and monotonic time means a sleep, hibernate or clock change. */
  jumpThresholdMs?: number;
  /** Longest timer: croner's own cap, so a late timer after resume is noticed within this. */
  maxSleepMs?: number;
  onWake?: (info: { wallJumpMs: number; reason: string }) => void;
}

/**
 * Fires each job at its cron times (computed by croner, DST-aware) and catches up on missed ones.
 * One timer for all jobs, never longer than maxSleepMs, compared against the wall clock on each
 * tick: a timer that fires hours late after a resume, or a clock that jumped, is seen as a wake,
 * and then every job that missed an occurrence gets one catch-up run (not one per occurrence).
 */
export class Scheduler {
  private jobs: CatchUpJob[] = [];
  private readonly next = new Map<string, Date | null>();
  private readonly caughtUp = new Map<string, number>();
  private readonly catchUpTimers = new Map<string, { handle: unknown; missed: Date }>();
  private timer: unknown = null;
  private lastWall = 0;
  private lastMono = 0;
  private running = false;
  private catchUpDelayMs: number;
  readonly jumpThresholdMs: number;
  readonly maxSleepMs: number;
  wakeUps = 0;

  constructor(private readonly o: SchedulerOptions) {
    this.jumpThresholdMs = o.jumpThresholdMs ?? 60_000;
    this.maxSleepMs = o.maxSleepMs ?? 30_000;
    this.catchUpDelayMs = o.catchUpDelayMs;
  }

  /** Jobs whose schedule croner cannot compute are left out (and reported), so they cannot stop the others. */
  setJobs(jobs: CatchUpJob[]): void {
    this.jobs = jobs.filter((j) => this.schedulable(j)).map((j) => ({ ...j }));
    const now = this.o.clock.now();
    this.next.clear();
    for (const job of this.jobs) this.next.set(job.id, nextRun(job.schedule.cron, job.schedule.timezone, new Date(now)));
    for (const id of [...this.catchUpTimers.keys()]) {
      if (!this.jobs.some((j) => j.id === id)) this.cancelCatchUp(id);
    }
    if (this.running) this.arm();
  }

  /** A changed settings.catchUpDelaySeconds applies at once: a waiting catch-up then waits the new delay from now. */
  setCatchUpDelay(ms: number): void {
    if (ms === this.catchUpDelayMs) return;
    this.catchUpDelayMs = ms;
    for (const [id, { missed }] of [...this.catchUpTimers]) this.armCatchUp(id, missed);
  }

  /** At start (login): catch up on what was missed while the agent was not running. */
  start(): void {
    this.running = true;
    this.lastWall = this.o.clock.now();
    this.lastMono = this.o.clock.monotonic();
    this.scheduleCatchUps('start');
    this.arm();
  }

  stop(): void {
    this.running = false;
    if (this.timer !== null) this.o.clock.clearTimer(this.timer);
    this.timer = null;
    for (const id of [...this.catchUpTimers.keys()]) this.cancelCatchUp(id);
  }

  nextRuns(): Map<string, Date | null> {
    return new Map(this.next);
  }

  /** For a platform power event (resume) that arrives before the next tick would notice. */
  wake(reason: string): void {
    this.o.onWake?.({ wallJumpMs: 0, reason });
    this.resync(reason);
  }

  private arm(): void {
    if (this.timer !== null) this.o.clock.clearTimer(this.timer);
    const now = this.o.clock.now();
    let delay = this.maxSleepMs;
    for (const at of this.next.values()) if (at) delay = Math.min(delay, Math.max(0, at.getTime() - now));
    this.timer = this.o.clock.setTimer(() => this.tick(), delay);
  }

  private tick(): void {
    this.timer = null;
    if (!this.running) return;
    this.wakeUps++;
    const now = this.o.clock.now();
    const mono = this.o.clock.monotonic();
    const jump = now - this.lastWall - (mono - this.lastMono);
    this.lastWall = now;
    this.lastMono = mono;
    const overdue = [...this.next.values()].some((at) => at !== null && now - at.getTime() > this.jumpThresholdMs);
    if (Math.abs(jump) > this.jumpThresholdMs || overdue) {
      this.o.onWake?.({ wallJumpMs: jump, reason: overdue ? 'timer fired late' : 'wall clock jumped' });
      this.resync('wake');
    } else {
      for (const job of this.jobs) {
        const at = this.next.get(job.id);
        if (!at || at.getTime() > now) continue;
        if (!isPaused(job, now)) this.o.onDue(job.id, 'schedule', at);
        this.next.set(job.id, nextRun(job.schedule.cron, job.schedule.timezone, new Date(now)));
      }
    }
    this.arm();
  }

  /** After a wake or a clock change: missed jobs get one catch-up, and every next run is computed anew from now. */
  private resync(reason: string): void {
    const now = this.o.clock.now();
    for (const job of this.jobs) this.next.set(job.id, nextRun(job.schedule.cron, job.schedule.timezone, new Date(now)));
    this.scheduleCatchUps(reason);
    if (this.running) this.arm();
  }

  private scheduleCatchUps(_reason: string): void {
    const now = this.o.clock.now();
    for (const job of this.jobs) {
      const missed = missedOccurrence(job, this.o.lastSuccess(job.id), now);
      if (!missed) continue;
      // One catch-up per missed occurrence, however many wakes report it.
      if (this.caughtUp.get(job.id) === missed.getTime()) continue;
      this.caughtUp.set(job.id, missed.getTime());
      this.armCatchUp(job.id, missed);
    }
  }

  private armCatchUp(id: string, missed: Date): void {
    this.cancelCatchUp(id);
    const handle = this.o.clock.setTimer(() => {
      this.catchUpTimers.delete(id);
      // The job as it is now: a pause set while the catch-up waited holds it back.
      const job = this.jobs.find((j) => j.id === id);
      if (this.running && job && !isPaused(job, this.o.clock.now())) this.o.onDue(id, 'catch-up', missed);
    }, this.catchUpDelayMs);
    this.catchUpTimers.set(id, { handle, missed });
  }

  private cancelCatchUp(id: string): void {
    const pending = this.catchUpTimers.get(id);
    if (pending !== undefined) this.o.clock.clearTimer(pending.handle);
    this.catchUpTimers.delete(id);
  }

  private schedulable(job: CatchUpJob): boolean {
    const problem = scheduleProblem(job.schedule.cron, job.schedule.timezone);
    if (problem) this.o.onBadJob?.(job.id, problem);
    return problem === null;
  }
}
