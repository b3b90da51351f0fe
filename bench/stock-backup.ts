/**
 * The stock online backup as an app would write it: better-sqlite3's `db.backup(dst)` with its
 * default step of 100 pages. A child process of the benchmark, because under writes on a WAL
 * database it restarts on every commit and never finishes; the benchmark kills it on its timeout.
 *
 *   node dist/bench/stock-backup.js SRC DST   → one JSON line {totalPages, backupMs} on stdout
 */
import Database from 'better-sqlite3';

const [src, dst] = process.argv.slice(2);
if (!src || !dst) {
  process.stderr.write('usage: stock-backup SRC DST\n');
  process.exit(2);
}

// The same 5 s busy timeout the POS writer uses: the backup waits for locks instead of failing.
const db = new Database(src, { fileMustExist: true, timeout: 5000 });
try {
  const started = performance.now();
  const { totalPages } = await db.backup(dst);
  process.stdout.write(JSON.stringify({ totalPages, backupMs: Math.round(performance.now() - started) }) + '\n');
} catch (err) {
  process.stderr.write(`stock backup failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
} finally {
  db.close();
}
