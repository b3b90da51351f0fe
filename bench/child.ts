import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { POS_WRITER } from './paths.js';
import type { Completion, WriterStats } from './types.js';

/**
 * Every child the benchmark starts, so that a timeout, an error or Ctrl-C never leaves a 60 s
 * backup loop or a writer committing into a deleted file behind.
 */
const live = new Set<ChildProcess>();

export function killAllChildren(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }
  live.clear();
}

function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** Peak resident set size of PID in KiB (Linux: VmHWM in /proc/PID/status); null once it is gone. */
export function readPeakRssKiB(pid: number): number | null {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

export interface ChildRun {
  wallMs: number;
  peakRssKiB: number | null;
  completed: Completion;
  stdout: string;
  stderr: string;
}

const RSS_POLL_MS = 50;
const MAX_CAPTURE = 1 << 20;

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return (lines[lines.length - 1] ?? '').slice(0, 200);
}

/**
 * Runs CMD to its end or until TIMEOUT_MS, then kills it. Wall time ends when the process exits;
 * peak RSS is the last VmHWM read while it ran (VmHWM only grows, so the last read is the
 * highest seen; a peak in the final < 50 ms can be missed).
 */
export function runChild(cmd: string, args: string[], timeoutMs: number): Promise<ChildRun> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = track(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
    let stdout = '';
    let stderr = '';
    let peak: number | null = null;
    let wallMs = 0;
    let timedOut = false;
    let spawnError: Error | null = null;
    const poll = (): void => {
      const v = child.pid === undefined ? null : readPeakRssKiB(child.pid);
      if (v !== null) peak = v;
    };
    poll();
    const poller = setInterval(poll, RSS_POLL_MS);
    const killer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout?.on('data', (d: Buffer) => { if (stdout.length < MAX_CAPTURE) stdout += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { if (stderr.length < MAX_CAPTURE) stderr += d.toString(); });
    child.once('error', (err) => { spawnError = err; });
    child.once('exit', () => {
      wallMs = performance.now() - started;
      clearInterval(poller);
      clearTimeout(killer);
    });
    // 'close' comes after 'exit' once stdout/stderr are drained, so the output is complete.
    child.once('close', (code, signal) => {
      clearInterval(poller);
      clearTimeout(killer);
      let completed: Completion = { ok: true };
      if (timedOut) completed = { ok: false, reason: 'timeout', afterS: Math.round(timeoutMs / 1000) };
      else if (spawnError) completed = { ok: false, reason: 'failed', detail: spawnError.message };
      else if (code !== 0) completed = { ok: false, reason: 'failed', detail: `exit ${code ?? signal}: ${lastLine(stderr)}` };
      resolve({ wallMs: wallMs || performance.now() - started, peakRssKiB: peak, completed, stdout, stderr });
    });
  });
}

/** A POS app stand-in in its own process (tools/pos-writer), committing one invoice per interval. */
export interface WriterHandle {
  /** Stops it and returns what it saw; null if it had to be killed without a report. */
  stop(): Promise<WriterStats | null>;
}

const WRITER_BUSY_TIMEOUT_MS = 5000;
// A commit can wait up to the busy timeout before the writer sees SIGTERM, so allow more than that.
const WRITER_REPLY_MS = WRITER_BUSY_TIMEOUT_MS + 10_000;

function isWriterStats(v: unknown): v is WriterStats {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.commits === 'number' && typeof o.busy === 'number' && typeof o.maxCommitMs === 'number';
}

export async function startWriter(db: string, intervalMs: number): Promise<WriterHandle> {
  const child = track(spawn(process.execPath, [POS_WRITER, db, String(intervalMs), String(WRITER_BUSY_TIMEOUT_MS)], { stdio: ['ignore', 'pipe', 'inherit'] }));
  if (!child.stdout) throw new Error('pos-writer has no stdout');
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = (ms: number): Promise<string | null> => Promise.race([
    lines.next().then((r) => (r.done ? null : r.value)),
    new Promise<null>((r) => setTimeout(() => r(null), ms).unref()),
  ]);
  const ready = await next(15_000);
  if (!ready?.includes('"ready":true')) {
    child.kill('SIGKILL');
    throw new Error(`pos-writer did not start (first line: ${ready ?? 'none'})`);
  }
  return {
    async stop() {
      child.kill('SIGTERM');
      const line = await next(WRITER_REPLY_MS);
      child.kill('SIGKILL');
      if (line === null) return null;
      try {
        const parsed: unknown = JSON.parse(line);
        return isWriterStats(parsed) ? parsed : null;
      } catch {
        return null;
      }
    },
  };
}
