import { InvalidArgumentError } from 'commander';
import type { CheckLevel } from '../engine/integrity.js';

export function parseSeconds(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number of seconds, 0 or more (e.g. 30 or 0.5).');
  return n;
}

export function parseAttempts(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new InvalidArgumentError('expected a whole number from 1 to 100.');
  return n;
}

export function parseCheck(value: string): CheckLevel {
  if (value === 'quick' || value === 'full' || value === 'none') return value;
  throw new InvalidArgumentError('expected quick, full or none.');
}

/** Retention counts: how many backups of a kind to keep; 0 keeps none of that kind (the newest good one always stays). */
export function parseCount(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0 || n > 1000) throw new InvalidArgumentError('expected a whole number from 0 to 1000.');
  return n;
}

/** "none" (no age limit) or a whole number of days from 1; "none" stays a word, since commander turns a parsed null into "". */
export function parseMaxAge(value: string): number | 'none' {
  if (value.trim().toLowerCase() === 'none') return 'none';
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of days from 1, or none for no age limit.');
  return n;
}
