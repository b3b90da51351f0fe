/**
 * Plays the POS app for tests and the benchmark: in its own process, commits one invoice (1 + 5
 * rows) every INTERVAL ms with the 5 s busy timeout common SQLite drivers use, and on SIGTERM
 * prints what it saw as one JSON line: commits, SQLITE_BUSY errors, and commit latencies.
 *
 *   node dist/tools/pos-writer.js DB [INTERVAL_MS=20] [BUSY_TIMEOUT_MS=5000]
 */
import Database from 'better-sqlite3';
import { invoiceWriter } from '../agent/demo/pos-schema.js';

const [dbPath, intervalArg, timeoutArg] = process.argv.slice(2);
if (!dbPath) {
  process.stderr.write('usage: pos-writer DB [INTERVAL_MS] [BUSY_TIMEOUT_MS]\n');
  process.exit(2);
}
const intervalMs = Number(intervalArg ?? 20);
const db = new Database(dbPath, { timeout: Number(timeoutArg ?? 5000), fileMustExist: true });
const addInvoice = invoiceWriter(db, process.pid);
const begin = db.prepare('BEGIN IMMEDIATE');
const commit = db.prepare('COMMIT');

const latencies: number[] = [];
let busy = 0;
let otherErrors = 0;
let lastError = '';

function once(): void {
  const t0 = performance.now();
  try {
    begin.run();
    try {
      addInvoice();
      commit.run();
    } catch (err) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw err;
    }
    latencies.push(performance.now() - t0);
  } catch (err) {
    const code = String((err as { code?: unknown }).code ?? '');
    if (code.startsWith('SQLITE_BUSY')) busy++;
    else otherErrors++;
    lastError = (err as Error).message;
  }
}

const timer = setInterval(once, intervalMs);
process.stdout.write(JSON.stringify({ ready: true, pid: process.pid }) + '\n');

function finish(): void {
  clearInterval(timer);
  const sorted = [...latencies].sort((a, b) => a - b);
  const q = (p: number): number => sorted.length ? (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0) : 0;
  db.close();
  process.stdout.write(JSON.stringify({
    commits: latencies.length, busy, otherErrors, lastError,
    maxCommitMs: Math.round(q(1) * 10) / 10, p99CommitMs: Math.round(q(0.99) * 10) / 10, p50CommitMs: Math.round(q(0.5) * 10) / 10,
  }) + '\n', () => process.exit(0));
}
process.on('SIGTERM', finish);
process.on('SIGINT', finish);
