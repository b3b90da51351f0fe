import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { mapPages, type PageMap } from './page-map.js';

export type CheckLevel = 'quick' | 'full' | 'none';

export interface CheckResult {
  level: CheckLevel;
  ok: boolean;
  /** SQLite's own words for what is wrong (at most a few lines). */
  problems: string[];
  durationMs: number;
  /** 2 when the quick check was split over two threads (checkInParallel); otherwise absent. */
  threads?: number;
}

/**
 * Opens a database copy read-only and asks SQLite whether it is sound: `quick_check` (structure,
 * O(N)) by default, `integrity_check` (also indexes against tables) on request.
 */
export function checkDatabase(path: string, level: CheckLevel, tables?: string[]): CheckResult {
  const started = performance.now();
  if (level === 'none') return { level, ok: true, problems: [], durationMs: 0 };
  let db: Database.Database | undefined;
  try {
    const open = new Database(path, { readonly: true, fileMustExist: true });
    db = open;
    const pragmas = tables && level === 'quick'
      ? tables.map((t) => `quick_check('${t.replaceAll("'", "''")}')`)
      : [level === 'full' ? 'integrity_check(20)' : 'quick_check(20)'];
    const rows = pragmas.flatMap((p) => open.pragma(p) as Array<Record<string, unknown>>);
    // SQLite prefixes the first problem with "*** in database main ***" and a newline; keep one line per problem.
    const lines = rows
      .flatMap((r) => String(Object.values(r)[0]).split('\n'))
      .map((l) => l.trim())
      .filter((l) => l && !/^\*\*\* in database/.test(l));
    const ok = lines.length > 0 && lines.every((l) => l === 'ok');
    return { level, ok, problems: ok ? [] : lines.filter((l) => l !== 'ok').slice(0, 5), durationMs: performance.now() - started };
  } catch (err) {
    return { level, ok: false, problems: [err instanceof Error ? err.message : String(err)], durationMs: performance.now() - started };
  } finally {
    db?.close();
  }
}

export interface ShareOptions {
  /**
   * Run one share of a parallel check on the calling thread, which it blocks for that long: for a
   * thread that is itself a worker. Each extra worker thread costs about 30 MiB of memory.
   */
  useThisThread?: boolean;
  /** Pages of other work the calling thread has meanwhile (hashing the copy), so it gets less. */
  thisThreadPages?: number;
}

/**
 * The check of a fresh copy, off the calling thread unless told otherwise. `quick` uses two
 * threads where that checks as much as one whole-file check would (see checkInParallel); `full`
 * is one `integrity_check`.
 */
export async function checkCopy(path: string, level: CheckLevel, o: ShareOptions = {}): Promise<CheckResult> {
  if (level === 'none') return checkDatabase(path, level);
  if (level === 'quick' && availableParallelism() > 1) return checkInParallel(path, o);
  return runCheckWorker({ path, level });
}

/** Hashing a page costs about half of what checking one does (measured: 0.9 s vs 1.9 s per GiB). */
const HASH_COST_PER_PAGE = 0.5;

/**
 * `PRAGMA quick_check` on one thread takes about 3 s per GiB, longer than the copy itself. Split by
 * table over two threads it takes about the time of the biggest table, but each thread's check is
 * then partial and skips what needs the whole file: the freelist, pages used by two b-trees, pages
 * used by none. mapPages() checks those from the interior pages and the freelist. The split is
 * made only where the map accounts for every page and the freelist is empty; free pages, overflow
 * pages (big rows, which the map does not follow) or auto-vacuum's pointer-map pages mean the
 * whole-file check on one thread. A freelist or map problem fails the check either way.
 */
export async function checkInParallel(path: string, o: ShareOptions = {}): Promise<CheckResult> {
  const started = performance.now();
  let plan: CheckPlan;
  try {
    plan = planParallelCheck(path, 2, [0, o.useThisThread ? (o.thisThreadPages ?? 0) * HASH_COST_PER_PAGE : 0]);
  } catch (err) {
    return { level: 'quick', ok: false, problems: [err instanceof Error ? err.message : String(err)], durationMs: performance.now() - started };
  }
  if (plan.map.problems.length > 0) {
    return { level: 'quick', ok: false, problems: plan.map.problems.slice(0, 5), durationMs: performance.now() - started };
  }
  // Pages the map cannot vouch for, or one table holding nearly everything (splitting gains
  // little): the whole-file check.
  const shares = plan.groups.filter((g) => g.tables.length > 0);
  const total = shares.reduce((n, g) => n + g.checkCost, 0);
  // Free pages or unaccounted ones (overflow pages) could hide a page used twice that the map
  // cannot see, because it does not follow overflow chains (that would mean reading every leaf).
  const complete = plan.map.unaccountedPages === 0 && plan.map.freelistPages === 0 && !plan.map.autoVacuum;
  if (!complete || shares.length < 2 || Math.max(...shares.map((g) => g.checkCost)) > 0.85 * total) return runCheckWorker({ path, level: 'quick' });
  const [first = [], second = []] = plan.groups.map((g) => g.tables);
  const inWorker = runCheckWorker({ path, level: 'quick', tables: first });
  const results = await Promise.all([inWorker, o.useThisThread ? checkDatabase(path, 'quick', second) : runCheckWorker({ path, level: 'quick', tables: second })]);
  const problems = results.flatMap((r) => r.problems);
  return { level: 'quick', ok: results.every((r) => r.ok), problems: problems.slice(0, 5), durationMs: performance.now() - started, threads: 2 };
}

export interface CheckPlan {
  /**
   * Tables per thread. checkCost counts the pages each share's check reads (a table's pages twice,
   * once for the b-tree check and once for the NOT NULL row scan); cost adds the thread's other work.
   */
  groups: Array<{ tables: string[]; checkCost: number; cost: number }>;
  map: PageMap;
}

/** Shares the tables out between THREADS groups of about equal work (largest first), after BUSY. */
export function planParallelCheck(path: string, threads: number, busy: number[] = []): CheckPlan {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  let objects: Array<{ type: string; name: string; tbl_name: string; rootpage: number }>;
  try {
    objects = db.prepare("SELECT type, name, tbl_name, rootpage FROM sqlite_schema WHERE rootpage > 0 AND type IN ('table', 'index')").all() as typeof objects;
  } finally {
    db.close();
  }
  const map = mapPages(path, objects.map((o) => o.rootpage));
  const cost = new Map<string, number>([['sqlite_schema', map.treePages.get(1) ?? 1]]);
  for (const o of objects) {
    const pages = map.treePages.get(o.rootpage) ?? 0;
    cost.set(o.tbl_name, (cost.get(o.tbl_name) ?? 0) + (o.type === 'table' ? 2 * pages : pages));
  }
  const groups = Array.from({ length: threads }, (_, i) => ({ tables: [] as string[], checkCost: 0, cost: busy[i] ?? 0 }));
  for (const [table, c] of [...cost].sort((a, b) => b[1] - a[1])) {
    const lightest = groups.reduce((a, b) => (b.cost < a.cost ? b : a));
    lightest.tables.push(table);
    lightest.checkCost += c;
    lightest.cost += c;
  }
  return { groups, map };
}

export interface CheckJob {
  path: string;
  level: CheckLevel;
  /** Only these tables (with their indexes), as `PRAGMA quick_check(TABLE)` does. */
  tables?: string[];
}

function runCheckWorker(job: CheckJob): Promise<CheckResult> {
  const { level } = job;
  return new Promise((resolve) => {
    const worker = new Worker(new URL('./check-worker.js', import.meta.url), { workerData: job });
    let done = false;
    worker.once('message', (r: CheckResult) => {
      done = true;
      resolve(r);
    });
    worker.once('error', (err) => {
      done = true;
      resolve({ level, ok: false, problems: [`the check could not run: ${err.message}`], durationMs: 0 });
    });
    worker.once('exit', (code) => {
      if (!done) resolve({ level, ok: false, problems: [`the check stopped (exit code ${code})`], durationMs: 0 });
    });
  });
}
