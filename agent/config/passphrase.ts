import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LifeboatError } from '../engine/errors.js';

/**
 * Where the encryption passphrase comes from, in this order: a file named on the command line,
 * LIFEBOAT_PASSPHRASE, LIFEBOAT_HOME/passphrase (0600). Never from anywhere next to the backups.
 */
export function passphrasePath(home: string): string {
  return join(home, 'passphrase');
}

export function readPassphrase(home: string, file?: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromFile = (p: string): string => readFileSync(p, 'utf8').replace(/\r?\n$/, '');
  let value: string | undefined;
  try {
    value = file ? fromFile(file) : env.LIFEBOAT_PASSPHRASE || fromFile(passphrasePath(home));
  } catch {
    value = undefined;
  }
  if (!value) {
    throw new LifeboatError('config', 'No encryption passphrase is set.',
      'Set one with `lifeboat passphrase set` (stored 0600 under LIFEBOAT_HOME), or give LIFEBOAT_PASSPHRASE or --passphrase-file.');
  }
  return value;
}
