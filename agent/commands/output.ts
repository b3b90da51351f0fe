import { createRequire } from 'node:module';
import type cliProgressModule from 'cli-progress';
import { EXIT_CODES, LifeboatError } from '../engine/errors.js';
import type { BackupProgress } from '../engine/backup-options.js';
import { formatBytes } from '../engine/backup.js';

/** Human words go to stderr; stdout carries only the one JSON object of --json. */
export function say(line: string): void {
  process.stderr.write(line + '\n');
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** Reports a failure the way every command does, and returns the exit code for it. */
export function reportError(err: unknown, json: boolean): number {
  const e = err instanceof LifeboatError
    ? err
    : new LifeboatError('internal', `Unexpected error: ${err instanceof Error ? err.message : String(err)}`, 'Please report this with the log.');
  say(`lifeboat: ${e.toLine()}`);
  if (e.kind === 'internal' && err instanceof Error && err.stack && process.env.LIFEBOAT_DEBUG) say(err.stack);
  const exitCode = EXIT_CODES[e.kind];
  if (json) printJson({ ok: false, error: e.toJSON(), exitCode });
  return exitCode;
}

const PHASE_WORDS: Record<BackupProgress['phase'], string> = {
  waiting: 'Waiting  ',
  copying: 'Copying  ',
  checking: 'Checking ',
  hashing: 'Hashing  ',
  compressing: 'Gzipping ',
  finishing: 'Flushing ',
  uploading: 'Uploading',
  downloading: 'Fetching ',
};

/** A progress bar on an interactive terminal; silent otherwise (scripts, --json, the OS scheduler). */
export function progressReporter(enabled: boolean): { update: (p: BackupProgress) => void; stop: () => void } {
  if (!enabled) return { update: () => {}, stop: () => {} };
  // Loaded only for a terminal that shows it; scripts and the agent never draw a bar.
  const cliProgress = createRequire(import.meta.url)('cli-progress') as typeof cliProgressModule;
  const bar = new cliProgress.SingleBar({
    stream: process.stderr,
    format: '{phase} [{bar}] {percentage}% {amount}',
    barsize: 30,
    hideCursor: true,
    clearOnComplete: true,
    fps: 10,
  }, cliProgress.Presets.shades_classic);
  bar.start(1, 0, { phase: PHASE_WORDS.waiting, amount: '' });
  return {
    update(p) {
      const total = p.total && p.total > 0 ? p.total : 1;
      const done = p.total && p.total > 0 ? (p.done ?? 0) : 0;
      bar.setTotal(total);
      bar.update(done, {
        phase: PHASE_WORDS[p.phase],
        amount: p.total ? `${formatBytes(done)} / ${formatBytes(total)}` : (p.message ?? ''),
      });
    },
    stop() {
      bar.stop();
    },
  };
}
