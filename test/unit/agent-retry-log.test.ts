import { lstatSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Agent } from '../../agent/agent.js';
import { DEFAULT_JOB_FIELDS, type Job } from '../../agent/config/job.js';
import { LifeboatError } from '../../agent/engine/errors.js';
import { createLogger, logDir, silentLogger } from '../../agent/log.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { sleep, tempDir } from '../helpers/fixtures.js';

const t = tempDir('retry');
afterAll(() => t.cleanup());

function job(over: Partial<Job>): Job {
  return {
    ...structuredClone(DEFAULT_JOB_FIELDS), id: 'pos', name: 'POS', db: join(t.dir, 'pos.db'),
    schedule: { cron: '0 23 * * *', timezone: 'UTC' }, destinations: [{ kind: 'folder', path: join(t.dir, 'b') }], createdAt: '2026-11-26T00:00:00Z', ...over,
  };
}

/** A started agent with one job whose every backup fails with ERROR; counts the attempts. */
async function failingAgent(home: string, error: LifeboatError, delaySeconds: number): Promise<{ agent: Agent; calls: () => number }> {
  let calls = 0;
  const agent = new Agent({
    home: join(t.dir, home), log: silentLogger(), clock: new FakeClock('2026-11-26T22:00:00Z'),
    backup: async () => {
      calls++;
      throw error;
    },
  });
  agent.store.updateJobs(() => [job({ retry: { attempts: 3, delaySeconds, maxDelaySeconds: 1 } })]);
  agent.reload();
  await agent.start();
  return { agent, calls: () => calls };
}

describe('failed runs', () => {
  it('are retried per the job\'s retry settings, recorded with their reason, and the next scheduled run still happens', async () => {
    writeFileSync(join(t.dir, 'pos.db'), '');
    const { agent, calls } = await failingAgent('home', new LifeboatError('busy', 'The database stayed busy.', 'Try again later.'), 0.05);
    (agent.clock as FakeClock).advance(3_600_000);
    for (let i = 0; i < 50 && calls() < 3; i++) await sleep(50);
    await sleep(300);
    expect(calls()).toBe(3);
    const runs = agent.history.list({ jobId: 'pos', limit: 10 }).reverse();
    expect(runs.map((r) => r.trigger)).toEqual(['schedule', 'retry', 'retry']);
    expect(runs.every((r) => r.outcome === 'failure' && r.errorKind === 'busy' && /stayed busy/.test(r.reason ?? ''))).toBe(true);
    (agent.clock as FakeClock).advance(24 * 3_600_000);
    for (let i = 0; i < 50 && calls() < 4; i++) await sleep(20);
    expect(agent.history.list({ jobId: 'pos', limit: 10 })[0]?.trigger).toBe('schedule');
    await agent.stop();
  });

  it('a damaged database is not retried (it will not heal by waiting)', async () => {
    const { agent, calls } = await failingAgent('home2', new LifeboatError('check', 'The database is damaged.', 'Restore it.'), 0.01);
    agent.trigger('pos', 'manual');
    await sleep(300);
    expect(calls()).toBe(1);
    await agent.stop();
  });
});

describe('logs', () => {
  it('are JSON lines under LIFEBOAT_HOME/logs and never contain a secret', async () => {
    const home = join(t.dir, 'loghome');
    const log = await createLogger(home);
    log.info({ event: 'drive-login', refreshToken: 'rt-SECRET-1', nested: { clientSecret: 'cs-SECRET-2' } }, 'connected');
    await new Promise<void>((resolve) => log.flush(() => resolve()));
    await sleep(500);
    const files = readdirSync(logDir(home)).filter((f) => f.endsWith('.log') && f !== 'current.log');
    expect(files.length).toBeGreaterThan(0);
    const text = files.map((f) => readFileSync(join(logDir(home), f), 'utf8')).join('');
    const line = JSON.parse(text.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
    expect(line).toMatchObject({ event: 'drive-login', msg: 'connected', refreshToken: '[secret]', nested: { clientSecret: '[secret]' } });
    expect(text).not.toMatch(/SECRET/);
  });
});

describe('log rotation', () => {
  it('30 MiB of log lines over two agent runs leave at most 5 old files of about 5 MiB plus the current one, which holds the newest line', async () => {
    const home = join(t.dir, 'rotating');
    const pad = 'x'.repeat(1000);
    // Two loggers one after the other, as a restart makes: the second must count the first's files.
    let log = await createLogger(home);
    for (let run = 0; run < 2; run++) {
      if (run === 1) {
        await new Promise<void>((resolve) => log.flush(() => resolve()));
        log = await createLogger(home);
      }
      // Paced, as an agent's few lines a minute always are: pino-roll checks the size as each write
      // lands, so one synchronous burst of megabytes would overshoot a file's limit (not a case the
      // agent has). A loaded machine may still let a file grow a little past 5 MiB between checks.
      for (let i = 0; i < 15_000; i++) {
        log.info({ run, i, pad }, 'line');
        if (i % 20 === 0) await sleep(1);
      }
    }
    log.info({ last: true }, 'the newest line');
    await sleep(500);
    const dir = logDir(home);
    const files = readdirSync(dir).filter((f) => /^lifeboat\.\d+\.log$/.test(f));
    const sizes = files.map((f) => statSync(join(dir, f)).size);
    expect(files.length).toBeGreaterThanOrEqual(5);
    expect(files.length).toBeLessThanOrEqual(6);
    for (const size of sizes) expect(size).toBeLessThan(7 * 1024 * 1024);
    expect(sizes.reduce((a, b) => a + b, 0)).toBeLessThan(40 * 1024 * 1024);
    expect(lstatSync(join(dir, 'current.log')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, 'current.log'), 'utf8')).toContain('the newest line');
  });
});
