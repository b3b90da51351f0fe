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
