import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPosDatabase, type DemoJournalMode } from '../../agent/demo/pos-schema.js';
import type { WriterStats } from '../../tools/writer-stats.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = join(ROOT, 'dist/agent/cli.js');
export const WRITER = join(ROOT, 'dist/tools/pos-writer.js');

export function tempDir(label: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `lifeboat-${label}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** POS databases are cached per (size, mode) inside one test file's run to keep the suite fast. */
export function makePosDb(path: string, bytes: number, mode: DemoJournalMode): void {
  createPosDatabase(path, bytes, mode);
}

export function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  json: Record<string, unknown>;
}

/** Each test file gets its own LIFEBOAT_HOME unless a test names one: config, history and locks never leak. */
let defaultHome: string | null = null;
export function testHome(): string {
  defaultHome ??= mkdtempSync(join(tmpdir(), 'lifeboat-home-'));
  return defaultHome;
}

export function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; uid?: number; gid?: number; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, LIFEBOAT_HOME: testHome(), ...opts.env },
      uid: opts.uid,
      gid: opts.gid,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 50_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      let json: Record<string, unknown> = {};
      try {
        json = stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : {};
      } catch {
        json = {};
      }
      resolve({ code, signal, stdout, stderr, json });
    });
  });
}

export type { WriterStats } from '../../tools/writer-stats.js';

/** The POS app stand-in: another process committing an invoice every INTERVAL_MS. */
export async function startWriter(db: string, intervalMs = 20): Promise<{ child: ChildProcess; stop: () => Promise<WriterStats> }> {
  const child = spawn(process.execPath, [WRITER, db, String(intervalMs), '5000'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let buf = '';
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  await new Promise<void>((resolve, reject) => {
    const t = setInterval(() => {
      if (lines.length > 0) {
        clearInterval(t);
        resolve();
      }
    }, 10);
    child.on('exit', (code) => {
      clearInterval(t);
      reject(new Error(`writer exited early (${code})`));
    });
  });
  const stop = (): Promise<WriterStats> =>
    new Promise((resolve) => {
      child.on('exit', () => resolve(JSON.parse(lines[lines.length - 1] ?? '{}') as WriterStats));
      child.kill('SIGTERM');
    });
  return { child, stop };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
