import type { Retention } from '../config/job.js';

export interface RetentionCandidate {
  name: string;
  time: Date;
  /** Verified when made (it has a manifest Lifeboat wrote). */
  verified: boolean;
  /** An upload or check of it is still pending: never deleted. */
  pending: boolean;
}

export interface RetentionPlan {
  keep: Array<{ name: string; reasons: string[] }>;
  remove: string[];
}

const DAY = 86_400_000;

function localDay(d: Date): string {
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
}

/** ISO-8601 week (Monday first), local time: the shop's calendar week. */
function localWeek(d: Date): string {
  const t = new Date(d.getFullYear(), d.getMonth(), d.getDate());
  const dayNr = (t.getDay() + 6) % 7;
  t.setDate(t.getDate() - dayNr + 3);
  const firstThursday = new Date(t.getFullYear(), 0, 4);
  const week = 1 + Math.round(((t.getTime() - firstThursday.getTime()) / DAY - 3 + ((firstThursday.getDay() + 6) % 7)) / 7);
  return `${t.getFullYear()}-W${week}`;
}

function localMonth(d: Date): string {
  return `${d.getFullYear()}-${d.getMonth() + 1}`;
}

/**
 * Grandfather-father-son retention: the newest KEEP_LAST backups, plus the newest backup of each of
 * the last DAILY days, WEEKLY weeks and MONTHLY months that have one; MAX_AGE_DAYS removes older
 * ones whatever else would keep them. Two things always hold: the newest verified backup is
 * kept, and nothing pending is removed — so a prune can never leave zero good backups.
 */
export function planRetention(candidates: RetentionCandidate[], policy: Retention, now: Date): RetentionPlan {
  const newestFirst = [...candidates].sort((a, b) => b.time.getTime() - a.time.getTime() || b.name.localeCompare(a.name));
  const reasons = new Map<string, string[]>();
  const mark = (name: string, why: string): void => {
    const list = reasons.get(name) ?? [];
    list.push(why);
    reasons.set(name, list);
  };
  newestFirst.slice(0, policy.keepLast).forEach((c) => mark(c.name, 'last'));
  const bucket = (n: number, key: (d: Date) => string, why: string): void => {
    const seen = new Set<string>();
    for (const c of newestFirst) {
      if (!c.verified) continue;
      const k = key(c.time);
      if (seen.has(k)) continue;
      if (seen.size >= n) break;
      seen.add(k);
      mark(c.name, why);
    }
  };
  bucket(policy.daily, localDay, 'daily');
  bucket(policy.weekly, localWeek, 'weekly');
  bucket(policy.monthly, localMonth, 'monthly');
  if (policy.maxAgeDays !== null) {
    const cutoff = now.getTime() - policy.maxAgeDays * DAY;
    for (const c of newestFirst) if (c.time.getTime() < cutoff) reasons.delete(c.name);
  }
  const newestVerified = newestFirst.find((c) => c.verified);
  if (newestVerified) mark(newestVerified.name, 'newest verified');
  for (const c of newestFirst) if (c.pending) mark(c.name, 'pending');
  return {
    keep: newestFirst.filter((c) => reasons.has(c.name)).map((c) => ({ name: c.name, reasons: reasons.get(c.name) ?? [] })),
    remove: newestFirst.filter((c) => !reasons.has(c.name)).map((c) => c.name),
  };
}
