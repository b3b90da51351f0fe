import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './fixtures.js';

const BETTER_SQLITE3 = join(ROOT, 'node_modules/better-sqlite3/lib/index.js');

/** Runs a snippet of CommonJS in a fresh Node process with `Database` (better-sqlite3) in scope. */
export function runSnippet(code: string, args: string[] = []): { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['-e', `const Database = require(${JSON.stringify(BETTER_SQLITE3)});\n${code}`, ...args], { encoding: 'utf8' });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Starts a snippet that keeps running (e.g. holding a lock) until killed; resolves once it prints "ready". */
export async function startSnippet(code: string): Promise<{ kill: () => Promise<void> }> {
  const child = spawn(process.execPath, ['-e', `const Database = require(${JSON.stringify(BETTER_SQLITE3)});\n${code}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`snippet exited (${code}) before it was ready`)));
  });
  return {
    kill: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.on('exit', () => resolve());
      child.kill('SIGKILL');
    }),
  };
}
