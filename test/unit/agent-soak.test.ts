import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { afterAll, describe, expect, it } from 'vitest';
import { Agent } from '../../agent/agent.js';
import { DEFAULT_JOB_FIELDS, type Job } from '../../agent/config/job.js';
import type { BackupResult } from '../../agent/engine/backup-options.js';
import { silentLogger } from '../../agent/log.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { tempDir } from '../helpers/fixtures.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const t = tempDir('soak');
afterAll(() => t.cleanup());

function fakeResult(n: number): BackupResult {
  return {
    file: `/backups/pos-${n}.sqlite`, manifest: '', bytes: 1, sha256: 'x', durationMs: 1, check: { level: 'quick', ok: true, durationMs: 0 },
    journalMode: 'wal', compression: 'none', snapshotAt: '', dbBytes: 1, walFrames: 0, readTxnMs: 0, recoveredHotJournal: false,
    attempts: 1, quiet: true, waitedMs: 0, staleTempsRemoved: [], timings: { waitMs: 0, snapshotMs: 0, syncMs: 0, checkMs: 0, hashMs: 0, compressMs: 0 },
  };
}

describe('agent soak: an accelerated schedule', () => {
  it('1000 scheduled runs through the real queue and history leave memory and open handles flat', async () => {
    const home = join(t.dir, 'home');
    const job: Job = {
      ...structuredClone(DEFAULT_JOB_FIELDS), id: 'pos', name: 'POS', db: join(t.dir, 'pos.db'),
      schedule: { cron: '* * * * *' }, destinations: [{ kind: 'folder', path: join(t.dir, 'b') }], createdAt: '2026-11-26T00:00:00Z',
    };
    writeFileSync(join(t.dir, 'pos.db'), '');
    let runs = 0;
    const agent = new Agent({ home, log: silentLogger(), clock: new FakeClock('2026-11-26T00:00:30Z'), backup: async () => fakeResult(runs++) });
    agent.store.updateJobs(() => [job]);
    agent.reload();
    expect(await agent.start()).toBeNull();
    const clock = agent.clock as FakeClock;
    const minutes = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        clock.advance(60_000);
        while (agent.queue.running || agent.queue.pending.length) await new Promise((r) => setImmediate(r));
      }
    };
    await minutes(100);
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const handlesBefore = process.getActiveResourcesInfo().length;
    const timersBefore = clock.pendingTimers;
    await minutes(1000);
    gc();
    const grewMiB = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
    expect(runs).toBe(1100);
    expect(agent.history.list({ jobId: 'pos', limit: 5000 }).filter((r) => r.outcome === 'success')).toHaveLength(1100);
    expect(grewMiB).toBeLessThan(8);
    expect(process.getActiveResourcesInfo().length).toBeLessThanOrEqual(handlesBefore + 1);
    expect(clock.pendingTimers).toBe(timersBefore);
    await agent.stop();
  });
});
