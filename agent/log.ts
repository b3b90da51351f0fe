import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';

export type { Logger };

/** Field names that may carry secrets; pino replaces their values before anything is written. */
const REDACT = ['token', 'accessToken', 'refreshToken', 'refresh_token', 'access_token', 'clientSecret', 'client_secret', 'passphrase', 'password', 'authorization']
  .flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

export function logDir(home: string): string {
  return join(home, 'logs');
}

/**
 * Structured JSON lines in LIFEBOAT_HOME/logs, rotated by pino-roll at 5 MiB with 5 files kept,
 * so a till PC that runs for months never fills its disk with logs. pino-roll's stream is used in
 * this thread rather than as a pino transport: a transport's worker thread costs ~15 MiB of RSS,
 * more than the idle agent's whole budget allows.
 */
export async function createLogger(home: string, opts: { level?: string } = {}): Promise<Logger> {
  const dir = logDir(home);
  mkdirSync(dir, { recursive: true });
  // Loaded here, not at the top: pino-roll pulls in all of date-fns (313 files), which every
  // short `lifeboat` command would otherwise load for nothing.
  const { default: pinoRoll } = await import('pino-roll');
  // removeOtherLogFiles: count the files of earlier agent runs too (by default pino-roll counts
  // only its own, so every restart left up to five more). It counts before the new file exists,
  // so 5 leaves five rotated files plus the current one.
  const stream = await pinoRoll({ file: join(dir, 'lifeboat'), extension: '.log', size: '5m', limit: { count: 5, removeOtherLogFiles: true }, mkdir: true, symlink: true });
  return pino({ level: opts.level ?? 'info', redact: { paths: REDACT, censor: '[secret]' }, base: { pid: process.pid } }, stream);
}

/** For tests and one-shot commands: no files. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
