import { describe, expect, it } from 'vitest';
import { JobQueue, type RunRequest } from '../../agent/runner/queue.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const req = (jobId: string): RunRequest => ({ jobId, trigger: 'manual', scheduledFor: null });

describe('job queue', () => {
  it('a trigger while the job runs is coalesced: at most one follow-up run', async () => {
    const gates: Array<() => void> = [];
    const runs: string[] = [];
    const q = new JobQueue(async (r) => {
      runs.push(r.jobId);
      const d = deferred();
      gates.push(d.resolve);
      await d.promise;
    });
    expect(q.enqueue(req('pos'))).toBe('started');
    expect(q.enqueue(req('pos'))).toBe('queued');
    expect(q.enqueue(req('pos'))).toBe('coalesced');
    expect(q.enqueue(req('pos'))).toBe('coalesced');
    gates.shift()?.();
    await new Promise((r) => setImmediate(r));
    expect(runs).toEqual(['pos', 'pos']);
    gates.shift()?.();
    await new Promise((r) => setImmediate(r));
    expect(runs).toEqual(['pos', 'pos']);
    expect(q.running).toBeNull();
  });

  it('never runs two backups at once, and serves databases in arrival order', async () => {
    let active = 0;
    let maxActive = 0;
    const order: string[] = [];
    const q = new JobQueue(async (r) => {
      active++;
      maxActive = Math.max(maxActive, active);
      order.push(r.jobId);
      await new Promise((res) => setTimeout(res, 5));
      active--;
    });
    q.enqueue(req('a'));
    q.enqueue(req('b'));
    q.enqueue(req('a'));
    q.enqueue(req('c'));
    q.enqueue(req('b'));
    await new Promise<void>((r) => q.once('idle', () => r()));
    expect(maxActive).toBe(1);
    expect(order).toEqual(['a', 'b', 'a', 'c']);
  });

  it('a run that throws does not stop the queue', async () => {
    const done: string[] = [];
    const q = new JobQueue(async (r) => {
      if (r.jobId === 'bad') throw new Error('boom');
      done.push(r.jobId);
    });
    q.enqueue(req('bad'));
    q.enqueue(req('good'));
    await new Promise<void>((r) => q.once('idle', () => r()));
    expect(done).toEqual(['good']);
  });
});
