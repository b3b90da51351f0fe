import { EventEmitter } from 'node:events';
import type { Trigger } from '../schedule/scheduler.js';

export interface RunRequest {
  jobId: string;
  trigger: Trigger;
  scheduledFor: Date | null;
}

export type EnqueueResult = 'started' | 'queued' | 'coalesced';

/**
 * One backup at a time (two cores, one disk; the POS app comes first). A job is never run twice
 * at once: a trigger while it runs is kept as at most one follow-up run, and a trigger for a job
 * already waiting is merged into it. Jobs wait in arrival order, so every database gets its turn.
 */
export class JobQueue extends EventEmitter {
  private readonly waiting: RunRequest[] = [];
  private current: RunRequest | null = null;
  private stopped = false;

  constructor(private readonly run: (req: RunRequest) => Promise<void>) {
    super();
  }

  enqueue(req: RunRequest): EnqueueResult {
    if (this.waiting.some((w) => w.jobId === req.jobId)) return 'coalesced';
    this.waiting.push(req);
    if (this.current) return 'queued';
    void this.pump();
    return this.current ? 'started' : 'queued';
  }

  get running(): RunRequest | null {
    return this.current;
  }

  get pending(): readonly RunRequest[] {
    return this.waiting;
  }

  isBusy(jobId: string): boolean {
    return this.current?.jobId === jobId || this.waiting.some((w) => w.jobId === jobId);
  }

  /** Stops taking new runs; resolves when the current one has finished. */
  async drain(): Promise<void> {
    this.stopped = true;
    this.waiting.length = 0;
    if (!this.current) return;
    await new Promise<void>((resolve) => this.once('idle', resolve));
  }

  private async pump(): Promise<void> {
    if (this.current || this.stopped) return;
    const next = this.waiting.shift();
    if (!next) {
      this.emit('idle');
      return;
    }
    this.current = next;
    this.emit('start', next);
    try {
      await this.run(next);
    } catch (err) {
      this.emit('error-run', next, err);
    } finally {
      this.current = null;
      this.emit('end', next);
    }
    if (this.waiting.length === 0 || this.stopped) this.emit('idle');
    void this.pump();
  }
}
