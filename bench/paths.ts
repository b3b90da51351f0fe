import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

// This file runs as dist/bench/paths.js; everything is found relative to it, not to the current
// directory, so `node dist/bench/bench.js` works from anywhere.
const here = (rel: string): string => fileURLToPath(new URL(rel, import.meta.url));

export const PROJECT_ROOT = here('../../');
/** Cached databases, the per-measurement work area and last-run.json (gitignored). */
export const BENCH_DIR = join(PROJECT_ROOT, '.bench');
/** Everything in here is disposable and removed after each measurement. */
export const WORK_DIR = join(BENCH_DIR, 'work');
export const LAST_RUN_JSON = join(BENCH_DIR, 'last-run.json');

export const LIFEBOAT_CLI = here('../agent/cli.js');
export const POS_WRITER = here('../tools/pos-writer.js');
export const STOCK_BACKUP_SCRIPT = here('./stock-backup.js');
export const EVENT_LOOP_PROBE_SCRIPT = here('./event-loop-probe.js');
