import { describe, expect, it } from 'vitest';
import { missedOccurrence, pausedJob, resumedJob } from '../../agent/schedule/catch-up.js';
import { LifeboatError } from '../../agent/engine/errors.js';
import { parseSchedule, scheduleProblem } from '../../agent/schedule/cron.js';
import { Scheduler, type Trigger } from '../../agent/schedule/scheduler.js';
import { FakeClock } from '../helpers/fake-clock.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function job(over: Partial<{ id: string; cron: string; timezone: string; createdAt: string; enabled: boolean; pausedUntil: string | null }> = {}) {
  return {
    id: over.id ?? 'pos',
    schedule: { cron: over.cron ?? '0 23 * * *', timezone: over.timezone ?? 'UTC' },
    createdAt: over.createdAt ?? '2026-01-01T00:00:00Z',
    enabled: over.enabled ?? true,
    pausedUntil: over.pausedUntil ?? null,
  };
}

interface Fired {
  jobId: string;
  trigger: Trigger;
  scheduledFor: string;
  at: string;
}

function harness(start: string, jobs: ReturnType<typeof job>[], lastSuccess: Record<string, number | null> = {}, catchUpDelayMs = 60_000) {
  const clock = new FakeClock(start);
  const fired: Fired[] = [];
  const wakes: string[] = [];
  const success = { ...lastSuccess };
  const s = new Scheduler({
    clock,
    catchUpDelayMs,
    lastSuccess: (id) => success[id] ?? null,
    onDue: (jobId, trigger, scheduledFor) => {
      fired.push({ jobId, trigger, scheduledFor: scheduledFor.toISOString(), at: new Date(clock.now()).toISOString() });
      // The run succeeds at once, as far as the scheduler is concerned.
      success[jobId] = clock.now();
    },
    onWake: (w) => wakes.push(w.reason),
  });
  s.setJobs(jobs);
  return { clock, fired, wakes, s };
}

describe('missed-run detection', () => {
  const now = Date.parse('2026-11-26T10:00:00Z');
  it.each([1, 3, 30])('after %i missed days there is exactly one occurrence to catch up: the newest', (days) => {
    const last = Date.parse('2026-11-25T23:00:00Z') - (days - 1) * DAY - 10 * 60_000;
    expect(missedOccurrence(job(), last, now)?.toISOString()).toBe('2026-11-25T23:00:00.000Z');
  });
  it('nothing missed: the last run covers the last occurrence', () => {
    expect(missedOccurrence(job(), Date.parse('2026-11-25T23:00:05Z'), now)).toBeNull();
  });
  it('a job created today whose first occurrence is still to come has nothing to catch up', () => {
    expect(missedOccurrence(job({ createdAt: '2026-11-25T23:30:00Z' }), null, now)).toBeNull();
  });
  it('a paused job, or one resumed after the occurrence, is not caught up', () => {
    expect(missedOccurrence(job({ enabled: false }), null, now)).toBeNull();
    expect(missedOccurrence(job({ pausedUntil: '2026-11-26T09:00:00Z' }), null, now)).toBeNull();
  });
});

describe('scheduler with a moved clock', () => {
  it.each([1, 3, 30])('at login after %i days off: one catch-up run after the delay, then the normal schedule', (days) => {
    const start = new Date(Date.parse('2026-11-26T08:00:00Z')).toISOString();
    const last = Date.parse('2026-11-25T23:00:00Z') - days * DAY + 60_000;
    const h = harness(start, [job()], { pos: last });
    h.s.start();
    h.clock.advance(59_000);
    expect(h.fired).toEqual([]);
    h.clock.advance(2_000);
    expect(h.fired).toEqual([{ jobId: 'pos', trigger: 'catch-up', scheduledFor: '2026-11-25T23:00:00.000Z', at: '2026-11-26T08:01:00.000Z' }]);
    h.clock.advance(20 * HOUR);
    expect(h.fired.map((f) => f.trigger)).toEqual(['catch-up', 'schedule']);
    expect(h.fired[1]?.at).toBe('2026-11-26T23:00:00.000Z');
  });

  it('no catch-up when nothing was missed; wakes up at most twice a minute when idle', () => {
    const h = harness('2026-11-26T08:00:00Z', [job()], { pos: Date.parse('2026-11-25T23:00:03Z') });
    h.s.start();
    h.clock.advance(10 * 60_000);
    expect(h.fired).toEqual([]);
    expect(h.s.wakeUps).toBeLessThanOrEqual(20);
  });

  it('a job created today whose first run is tomorrow does not run today', () => {
    const h = harness('2026-11-26T23:30:00Z', [job({ createdAt: '2026-11-26T23:29:00Z' })]);
    h.s.start();
    h.clock.advance(23 * HOUR);
    expect(h.fired).toEqual([]);
    h.clock.advance(HOUR);
    expect(h.fired.map((f) => [f.trigger, f.at])).toEqual([['schedule', '2026-11-27T23:00:00.000Z']]);
  });

  it('an 8-hour suspend over the 02:00 run: exactly one catch-up soon after waking, no second run for it', () => {
    const h = harness('2026-11-26T21:00:00Z', [job({ cron: '0 2 * * *' })], { pos: Date.parse('2026-11-26T02:00:01Z') });
    h.s.start();
    h.clock.advance(2 * HOUR); // 23:00, awake
    h.clock.suspend(8 * HOUR); // lid closed until 07:00
    h.clock.advance(31_000); // the pending timer (at most 30 s) fires late
    h.clock.advance(2 * 60_000);
    expect(h.wakes.length).toBeGreaterThanOrEqual(1);
    expect(h.fired).toEqual([{ jobId: 'pos', trigger: 'catch-up', scheduledFor: '2026-11-27T02:00:00.000Z', at: expect.stringMatching(/^2026-11-27T07:01:/) as unknown as string }]);
    h.clock.advance(12 * HOUR);
    expect(h.fired).toHaveLength(1);
    h.clock.advance(8 * HOUR);
    expect(h.fired.map((f) => f.trigger)).toEqual(['catch-up', 'schedule']);
  });

  it('a manual clock change forward over an occurrence is caught up once', () => {
    const h = harness('2026-11-26T20:00:00Z', [job()], { pos: Date.parse('2026-11-25T23:00:01Z') });
    h.s.start();
    h.clock.advance(60_000);
    h.clock.setWall('2026-11-27T06:00:00Z');
    h.clock.advance(3 * 60_000);
    expect(h.fired.map((f) => [f.trigger, f.scheduledFor])).toEqual([['catch-up', '2026-11-26T23:00:00.000Z']]);
  });

  describe.each([
    { tz: 'Europe/Berlin', spring: '2026-03-27T12:00:00Z', fall: '2026-10-23T12:00:00Z' },
    { tz: 'America/New_York', spring: '2026-03-06T12:00:00Z', fall: '2026-10-30T12:00:00Z' },
  ])('DST in $tz for a 02:30 job', ({ tz, spring, fall }) => {
    const localDay = (iso: string): string => new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(iso));
    it.each([['spring forward', spring], ['fall back', fall]])('%s neither skips nor doubles a run', (_name, start) => {
      const h = harness(start, [job({ cron: '30 2 * * *', timezone: tz, createdAt: start })]);
      h.s.start();
      h.clock.advance(4 * DAY);
      const days = h.fired.map((f) => localDay(f.at));
      expect(h.fired.every((f) => f.trigger === 'schedule')).toBe(true);
      expect(days).toHaveLength(4);
      expect(new Set(days).size).toBe(4);
      // 02:30 every day; the spring-forward day (the second run from these starts) has no 02:30, and runs at 03:00.
      const localTime = (iso: string): string => new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', minute: '2-digit' }).format(new Date(iso));
      const expected = _name === 'spring forward' ? ['02:30', '03:00', '02:30', '02:30'] : ['02:30', '02:30', '02:30', '02:30'];
      expect(h.fired.map((f) => localTime(f.at))).toEqual(expected);
    });
  });

  it('a paused job is skipped by the schedule and resumes after the pause', () => {
    const h = harness('2026-11-26T22:00:00Z', [job({ pausedUntil: '2026-11-27T12:00:00Z', createdAt: '2026-11-26T21:00:00Z' })]);
    h.s.start();
    h.clock.advance(2 * HOUR);
    expect(h.fired).toEqual([]);
    h.clock.advance(DAY);
    expect(h.fired.map((f) => f.at)).toEqual(['2026-11-27T23:00:00.000Z']);
  });
});

describe('a job whose schedule cannot be computed', () => {
  it.each([
    ['a cron croner cannot read', { id: 'bad', cron: 'bogus' }, /^bad: cron "bogus" is not a schedule/],
    ['an unknown time zone', { id: 'bad', timezone: 'Mars/Olympus' }, /^bad: timezone "Mars\/Olympus" is not a known time zone/],
  ])('(%s) is left out and reported; the other job still runs on time', (_what, bad, problem) => {
    const h = harness('2026-11-26T22:00:00Z', [job({ createdAt: '2026-11-26T21:00:00Z' })]);
    const reported: string[] = [];
    const s = new Scheduler({ clock: h.clock, catchUpDelayMs: 0, lastSuccess: () => null, onDue: (id, trigger) => reported.push(`${id} ${trigger}`), onBadJob: (id, problem) => reported.push(`${id}: ${problem}`) });
    expect(() => s.setJobs([job(bad), job({ createdAt: '2026-11-26T21:00:00Z' })])).not.toThrow();
    s.start();
    h.clock.advance(2 * HOUR);
    expect(reported[0]).toMatch(problem);
    expect(reported.slice(1)).toEqual(['pos schedule']);
    expect([...s.nextRuns().keys()]).toEqual(['pos']);
    s.stop();
  });
});

describe('a changed catch-up delay', () => {
  it('applies to a catch-up already waiting: it then waits the new delay from the change', () => {
    const h = harness('2026-11-26T10:00:00Z', [job()], { pos: Date.parse('2026-11-24T23:00:05Z') }, 3_600_000);
    h.s.start();
    h.clock.advance(60_000);
    h.s.setCatchUpDelay(5_000);
    h.clock.advance(6_000);
    expect(h.fired.map((f) => [f.trigger, f.at])).toEqual([['catch-up', '2026-11-26T10:01:05.000Z']]);
    h.clock.advance(2 * 3_600_000);
    expect(h.fired).toHaveLength(1);
  });

  it('a pause set while a catch-up waits holds it back', () => {
    const h = harness('2026-11-26T10:00:00Z', [job()], { pos: Date.parse('2026-11-24T23:00:05Z') }, 60_000);
    h.s.start();
    h.s.setJobs([job({ enabled: false })]);
    h.clock.advance(2 * 60_000);
    expect(h.fired).toEqual([]);
  });
});

/** The message and hint as the person reads them (toThrow alone sees only the message). */
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return err instanceof LifeboatError ? `${err.kind}: ${err.toLine()}` : String(err);
  }
  return 'not refused';
}

describe('schedules as typed', () => {
  it.each([
    ['weekly on sun at 22:00', '0 22 * * 0'],
    ['weekly on Mon at 07:30', '30 7 * * 1'],
    ['weekly on thurs at 18:00', '0 18 * * 4'],
    ['weekly on saturday at 09:00', '0 9 * * 6'],
  ])('"%s" is the cron "%s"', (text, cron) => {
    expect(parseSchedule(text)).toEqual({ cron, label: text });
  });

  it.each(['weekly on su at 22:00', 'weekly on sunny at 22:00'])('"%s" is refused, naming the day form that works', (text) => {
    expect(refusal(() => parseSchedule(text))).toMatch(/^usage: .*not a weekly schedule.*weekly on sun at 22:00/);
  });

  it.each(['*/5 * * * * *', '0 0 23 * * * 2026'])('"%s" (with seconds) is refused with a hint to use five fields', (text) => {
    expect(refusal(() => parseSchedule(text))).toMatch(/^usage: .*has [67] fields.*Use five fields: minute hour/);
  });

  it('croner\'s class names and nested "Original error" text stay out of the message', () => {
    expect(scheduleProblem('bogus')).toBe('cron "bogus" is not a schedule Lifeboat understands (it does not have five fields). Use five fields: minute hour day-of-month month day-of-week, e.g. "0 23 * * *" for 23:00 every day');
    expect(scheduleProblem('0 23 * * *', 'Mars/Olympus')).not.toMatch(/Original error|CronDate|toTZ/);
    expect(() => parseSchedule('0 23 * * 9')).toThrow(/\(Invalid value for dayOfWeek: 9\)/);
    expect(() => parseSchedule('0 23 * * 9')).not.toThrow(/CronPattern/);
  });
});

describe('pause and resume (shared by `job pause/resume` and the tray)', () => {
  const now = Date.parse('2026-11-26T12:00:00Z');
  const job = { id: 'pos', schedule: { cron: '0 3 * * *', timezone: 'UTC' }, createdAt: '2026-11-20T00:00:00Z', enabled: true, pausedUntil: null as string | null };

  it('resuming a job that is not paused changes nothing, so its pending catch-up stays', () => {
    expect(missedOccurrence(job, null, now)?.toISOString()).toBe('2026-11-26T03:00:00.000Z');
    const resumed = resumedJob(job, now);
    expect(resumed).toBe(job);
    expect(missedOccurrence(resumed, null, now)?.toISOString()).toBe('2026-11-26T03:00:00.000Z');
  });

  it('resuming a paused job ends the pause now, and what the pause skipped is not caught up on', () => {
    const resumed = resumedJob(pausedJob(job, null), now);
    expect(resumed).toMatchObject({ enabled: true, pausedUntil: new Date(now).toISOString() });
    expect(missedOccurrence(resumed, null, now)).toBeNull();
  });

  it('a timed pause replaces a pause until resumed', () => {
    const until = new Date(now + 3_600_000);
    expect(pausedJob(pausedJob(job, null), until)).toMatchObject({ enabled: true, pausedUntil: until.toISOString() });
  });
});
