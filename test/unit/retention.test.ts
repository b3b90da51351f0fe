import { describe, expect, it } from 'vitest';
import { DEFAULT_RETENTION } from '../../agent/config/job.js';
import { planRetention, type RetentionCandidate } from '../../agent/destinations/retention.js';

// Local calendar days, weeks and months; the suite runs with TZ=UTC (see vitest.config.ts).
const at = (day: string): Date => new Date(`${day}T23:00:00Z`);
const name = (d: Date): string => `pos-${d.toISOString().slice(0, 10)}T230000Z.sqlite`;

describe('retention (GFS)', () => {
  it('400 simulated days of nightly backups, pruned after each run, leave exactly the expected set', () => {
    let kept: RetentionCandidate[] = [];
    const start = at('2025-10-23');
    let minKept = Infinity;
    for (let i = 0; i < 400; i++) {
      const now = new Date(start.getTime() + i * 86_400_000);
      kept.push({ name: name(now), time: now, verified: true, pending: false });
      const plan = planRetention(kept, DEFAULT_RETENTION, now);
      kept = kept.filter((c) => !plan.remove.includes(c.name));
      minKept = Math.min(minKept, kept.length);
    }
    expect(name(new Date(start.getTime() + 399 * 86_400_000))).toBe('pos-2026-11-26T230000Z.sqlite');
    const days = kept.map((c) => c.time.toISOString().slice(0, 10)).sort();
    expect(days).toEqual([
      '2025-12-31', '2026-01-31', '2026-02-28', '2026-03-31', '2026-04-30', '2026-05-31', '2026-06-30', '2026-07-31', '2026-08-31', '2026-09-30', '2026-10-31',
      '2026-11-08', '2026-11-15',
      '2026-11-20', '2026-11-21', '2026-11-22', '2026-11-23', '2026-11-24', '2026-11-25', '2026-11-26',
    ]);
    expect(minKept).toBeGreaterThan(0);
  });

  it('never deletes the newest verified backup, even when max age says so', () => {
    const old = at('2026-01-01');
    const plan = planRetention([{ name: name(old), time: old, verified: true, pending: false }], { ...DEFAULT_RETENTION, maxAgeDays: 30 }, at('2026-11-26'));
    expect(plan.remove).toEqual([]);
    expect(plan.keep[0]?.reasons).toContain('newest verified');
  });

  it('never deletes a backup whose upload is still pending', () => {
    const cs: RetentionCandidate[] = Array.from({ length: 20 }, (_, i) => {
      const d = new Date(at('2026-11-01').getTime() + i * 3_600_000);
      return { name: `pos-2026-11-01T${String(i).padStart(2, '0')}0000Z.sqlite`, time: d, verified: true, pending: i === 2 };
    });
    const plan = planRetention(cs, { keepLast: 1, daily: 0, weekly: 0, monthly: 0, maxAgeDays: null }, at('2026-11-02'));
    expect(plan.keep.map((k) => k.name).sort()).toEqual(['pos-2026-11-01T020000Z.sqlite', 'pos-2026-11-01T190000Z.sqlite']);
    expect(plan.remove).toHaveLength(18);
  });

  it('max age removes what GFS would keep, but not the newest', () => {
    const cs: RetentionCandidate[] = ['2026-08-31', '2026-09-30', '2026-10-31', '2026-11-25'].map((d) => ({ name: name(at(d)), time: at(d), verified: true, pending: false }));
    const plan = planRetention(cs, { ...DEFAULT_RETENTION, maxAgeDays: 50 }, at('2026-11-26'));
    expect(plan.remove.sort()).toEqual([name(at('2026-08-31')), name(at('2026-09-30'))]);
  });
});
