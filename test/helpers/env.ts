import { execFileSync } from 'node:child_process';

/**
 * A test that needs something outside Node (root for mounts, a Debian tool) may skip on a
 * newcomer's machine, saying what to install; under CI=true a missing piece is a failure.
 */
export function requireOrSkip(have: boolean, what: string): boolean {
  if (have) return true;
  if (process.env.CI === 'true') throw new Error(`CI must provide ${what}`);
  console.warn(`skipping: needs ${what}`);
  return false;
}

export function hasCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
