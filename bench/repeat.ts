import type { Consistency, Measurement, WriterStats } from './types.js';

/**
 * Folds several runs of one method into one table row. Times are the median run's, because on
 * this kind of machine (a VM where fresh page-cache memory is slow to fault in) one 1 GiB copy
 * can take 0.2 s or 1 s with nothing else changed. Costs to others are the worst seen instead:
 * a till that stalls in one backup of three has a problem, and the median would hide it.
 */
export function combineRuns(runs: Measurement[]): Measurement {
  const first = runs[0];
  if (!first) throw new Error('combineRuns needs at least one run');
  const unfinished = runs.find((r) => !r.completed.ok);
  if (unfinished) return { ...unfinished, runs: runs.length };
  const byWall = [...runs].sort((a, b) => a.wallMs - b.wallMs);
  // The lower median for an even count: a real run, not an average of two.
  const median = byWall[Math.floor((byWall.length - 1) / 2)] ?? first;
  const combined: Measurement = {
    ...median,
    runs: runs.length,
    wallRangeMs: [byWall[0]?.wallMs ?? median.wallMs, byWall[byWall.length - 1]?.wallMs ?? median.wallMs],
    peakRssMiB: highest(runs.map((r) => r.peakRssMiB)),
  };
  if (first.condition === 'writes') combined.writer = worstWriter(runs.map((r) => r.writer ?? null));
  const consistency = worstConsistency(runs.map((r) => r.consistency));
  if (consistency) combined.consistency = consistency;
  return combined;
}

function highest(values: Array<number | null>): number | null {
  const known = values.filter((v): v is number => v !== null);
  return known.length ? Math.max(...known) : null;
}

/** The run with the slowest commit, with BUSY and other errors summed over all runs; null if a report was lost. */
function worstWriter(stats: Array<WriterStats | null>): WriterStats | null {
  if (stats.some((s) => s === null)) return null;
  const known = stats.filter((s): s is WriterStats => s !== null);
  const worst = [...known].sort((a, b) => b.maxCommitMs - a.maxCommitMs)[0];
  if (!worst) return null;
  const sum = (pick: (s: WriterStats) => number): number => known.reduce((n, s) => n + pick(s), 0);
  return { ...worst, busy: sum((s) => s.busy), otherErrors: sum((s) => s.otherErrors) };
}

function worstConsistency(values: Array<Consistency | undefined>): Consistency | undefined {
  const known = values.filter((c): c is Consistency => c !== undefined);
  return [...known].sort((a, b) => b.broken - a.broken)[0];
}
