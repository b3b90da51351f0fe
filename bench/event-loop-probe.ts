/**
 * Measures what a Lifeboat backup costs the thread that asks for it (the tray agent's main
 * thread): the event-loop delay while runBackup() runs, and the process's RSS before and at peak.
 *
 * It runs in a fresh process of its own rather than inside the benchmark, whose heap still holds
 * whatever generating the database and parsing results left behind: the idle RSS here is that of
 * a Node process with the engine loaded and nothing else, like the agent waiting for its schedule.
 *
 *   node dist/bench/event-loop-probe.js DB DEST_DIR   → one JSON line on stdout
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DEFAULT_BACKUP_OPTIONS } from '../agent/engine/backup-options.js';
import { runBackup } from '../agent/engine/run-backup.js';

const [db, dest] = process.argv.slice(2);
if (!db || !dest) {
  process.stderr.write('usage: event-loop-probe DB DEST_DIR\n');
  process.exit(2);
}

const MiB = 1024 * 1024;
const nsToMs = (ns: number): number => Math.round(ns / 1e4) / 100;

// Let module loading and startup garbage settle before calling the process idle.
await new Promise((r) => setTimeout(r, 500));
const idleRss = process.memoryUsage().rss;

// Resolution 10 ms: the histogram records the time between 10 ms timer ticks, so a value of
// 10 ms means no delay at all, and max is "the longest the loop could not run a timer" + 10 ms.
const histogram = monitorEventLoopDelay({ resolution: 10 });
histogram.enable();
const started = performance.now();
const result = await runBackup({ ...DEFAULT_BACKUP_OPTIONS, db, dest, quietMs: 0 });
const backupMs = performance.now() - started;
histogram.disable();

process.stdout.write(JSON.stringify({
  idleRssMiB: Math.round(idleRss / MiB),
  peakRssMiB: Math.round((process.resourceUsage().maxRSS * 1024) / MiB),
  maxMs: nsToMs(histogram.max),
  p99Ms: nsToMs(histogram.percentile(99)),
  meanMs: nsToMs(histogram.mean),
  backupMs: Math.round(backupMs),
  file: result.file,
}) + '\n');
