import { parseArgs } from 'node:util';

export interface BenchOptions {
  sizeMb: number;
  /** Longest a single measured command may run before it is killed and reported as unfinished. */
  timeoutS: number;
  /** Runs per measurement; the table shows the median (this machine's copy times vary run to run). */
  repeat: number;
  /** Commit interval of the second process that plays the POS app. */
  writerIntervalMs: number;
  /** How long the writer commits before the measured command starts, so its WAL / journal is in use. */
  writerWarmupMs: number;
}

const QUICK_MB = 128;
const DEFAULT_MB = 1024;

export const USAGE = `usage: node dist/bench/bench.js [--quick | --size-mb N] [--timeout S] [--repeat N]

  --size-mb N   size of the generated POS-like database in MiB (default ${DEFAULT_MB})
  --quick       same as --size-mb ${QUICK_MB}
  --timeout S   seconds before a measured command is killed and reported unfinished (default 60)
  --repeat N    runs per measurement, median reported (default 3); one that does not finish runs once

Linux only: peak RSS is read from /proc/<pid>/status. Markdown goes to stdout, progress to
stderr, and the results as JSON to .bench/last-run.json.`;

function positiveNumber(flag: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} needs a positive number, got "${raw}"`);
  return n;
}

/** Returns null when --help was asked for. */
export function parseBenchArgs(argv: string[]): BenchOptions | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      'size-mb': { type: 'string' },
      'quick': { type: 'boolean', default: false },
      'timeout': { type: 'string' },
      'repeat': { type: 'string' },
      'help': { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return null;
  if (values.quick && values['size-mb'] !== undefined) throw new Error('--quick and --size-mb exclude each other');
  return {
    sizeMb: values.quick ? QUICK_MB : Math.round(positiveNumber('--size-mb', values['size-mb'], DEFAULT_MB)),
    timeoutS: positiveNumber('--timeout', values.timeout, 60),
    repeat: Math.max(1, Math.round(positiveNumber('--repeat', values.repeat, 3))),
    writerIntervalMs: 20,
    writerWarmupMs: 1000,
  };
}
