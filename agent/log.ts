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
 * so a till PC that runs for months never fills its disk with logs.
 */
export function createLogger(home: string, opts: { alsoStderr?: boolean; level?: string } = {}): Logger {
  const dir = logDir(home);
  mkdirSync(dir, { recursive: true });
  const targets: pino.TransportTargetOptions[] = [
    { target: 'pino-roll', level: opts.level ?? 'info', options: { file: join(dir, 'lifeboat'), extension: '.log', size: '5m', limit: { count: 5 }, mkdir: true, symlink: true } },
  ];
  if (opts.alsoStderr) targets.push({ target: 'pino/file', level: opts.level ?? 'info', options: { destination: 2 } });
  return pino({ level: opts.level ?? 'info', redact: { paths: REDACT, censor: '[secret]' }, base: { pid: process.pid } }, pino.transport({ targets }));
}

/** For tests and one-shot commands: no files, no threads. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
