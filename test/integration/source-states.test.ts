import { existsSync, readdirSync, statSync, truncateSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { checkPosConsistency } from '../../agent/demo/pos-schema.js';
import { runSnippet, startSnippet } from '../helpers/children.js';
import { ROOT, makePosDb, runCli, sha256, sleep, tempDir } from '../helpers/fixtures.js';
import { spawn } from 'node:child_process';

const t = tempDir('source-states');
afterAll(() => t.cleanup());

/** Commits N invoices in another process that is then killed: its work lives only in the -wal. */
const COMMIT_THEN_DIE = `
const db = new Database(process.argv[1]);
db.pragma('wal_autocheckpoint = 0');
const n = Number(process.argv[2]);
const inv = db.prepare("INSERT INTO invoices (customer_id, created_at, total_cents, line_count) VALUES (1, 'x', ?, 1)");
const line = db.prepare('INSERT INTO invoice_lines (invoice_id, product_id, qty, price_cents) VALUES (?, 1, 1, ?)');
for (let i = 0; i < n; i++) db.transaction(() => { const id = inv.run(100 + i).lastInsertRowid; line.run(id, 100 + i); })();
process.kill(process.pid, 'SIGKILL');`;

/** Starts a big transaction that spills into the database file, then dies: a hot journal. */
const CRASH_MID_TRANSACTION = `
const db = new Database(process.argv[1]);
db.pragma('cache_size = 10');
db.exec('BEGIN');
const inv = db.prepare("INSERT INTO invoices (customer_id, created_at, total_cents, line_count) VALUES (1, 'x', 5, 1)");
for (let i = 0; i < 20000; i++) inv.run();
db.prepare('DELETE FROM invoice_lines WHERE invoice_id < 500').run();
process.kill(process.pid, 'SIGKILL');`;

describe('database states a crash or a busy till leaves behind', () => {
  it('committed transactions still only in the -wal are in the backup, and the -wal is left as it was', async () => {
    const db = join(t.dir, 'uncheckpointed.db');
    makePosDb(db, 4 << 20, 'wal');
    const before = checkPosConsistency(db).invoices;
    const r0 = runSnippet(COMMIT_THEN_DIE, [db, '300']);
    expect(r0.signal).toBe('SIGKILL');
    expect(statSync(`${db}-wal`).size).toBeGreaterThan(300 * 4096);
    const walBefore = sha256(`${db}-wal`);
    const dbBefore = sha256(db);

    const r = await runCli(['backup', '--db', db, '--dest', join(t.dir, 'out-wal'), '--quiet', '0', '--json']);
    expect(r.code).toBe(0);
    expect(r.json.walFrames).toBeGreaterThanOrEqual(300);
    const c = checkPosConsistency(String(r.json.file));
    expect(c.invoices).toBe(before + 300);
    expect(c.broken).toBe(0);
    // Never checkpointed: the log and the database file are byte for byte what they were.
    expect(sha256(`${db}-wal`)).toBe(walBefore);
    expect(sha256(db)).toBe(dbBefore);
  });

  it.each([1024, 65536])('page size %i: the log is read with the right frame size', async (pageSize) => {
    const db = join(t.dir, `pages-${pageSize}.db`);
    const r0 = runSnippet(`
      const db = new Database(process.argv[1]);
      db.pragma('page_size = ${pageSize}');
      db.pragma('journal_mode = WAL');
      db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)');
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.pragma('wal_autocheckpoint = 0');
      const ins = db.prepare('INSERT INTO t (b) VALUES (randomblob(?))');
      for (let i = 0; i < 200; i++) ins.run(100 + (i % 7) * 900);
      process.kill(process.pid, 'SIGKILL');`, [db]);
    expect(r0.signal).toBe('SIGKILL');
    const r = await runCli(['backup', '--db', db, '--dest', join(t.dir, `out-${pageSize}`), '--quiet', '0', '--check', 'full', '--json']);
    expect(r.code).toBe(0);
    expect(r.json.walFrames).toBeGreaterThan(0);
    const copy = new Database(String(r.json.file), { readonly: true });
    expect(copy.pragma('page_size', { simple: true })).toBe(pageSize);
    expect(copy.prepare('SELECT count(*) FROM t').pluck().get()).toBe(200);
    copy.close();
  });

  it('a hot journal of a crashed writer: the backup is the last committed state, the source untouched', async () => {
    const db = join(t.dir, 'hot.db');
    makePosDb(db, 4 << 20, 'delete');
    const committed = checkPosConsistency(db);
    const r0 = runSnippet(CRASH_MID_TRANSACTION, [db]);
    expect(r0.signal).toBe('SIGKILL');
    expect(statSync(`${db}-journal`).size).toBeGreaterThan(0);
    const dbBefore = sha256(db);
    const journalBefore = sha256(`${db}-journal`);

    const dest = join(t.dir, 'out-hot');
    const r = await runCli(['backup', '--db', db, '--dest', dest, '--quiet', '0', '--json']);
    expect(r.code).toBe(0);
    expect(r.json.recoveredHotJournal).toBe(true);
    expect(r.stderr).toContain('a crashed write was left out');
    expect(checkPosConsistency(String(r.json.file))).toEqual(committed);
    expect(sha256(db)).toBe(dbBefore);
    expect(sha256(`${db}-journal`)).toBe(journalBefore);
    expect(readdirSync(dest).sort()).toEqual([String(r.json.file).split('/').pop(), `${String(r.json.file).split('/').pop()}.manifest.json`].sort());
  });

  it('a database locked by another program the whole time: busy (exit 4) after the set attempts, nothing written', async () => {
    const db = join(t.dir, 'locked.db');
    makePosDb(db, 1 << 20, 'delete');
    const holder = await startSnippet(`const db = new Database(${JSON.stringify(db)}); db.exec('BEGIN EXCLUSIVE'); console.log('ready'); setInterval(() => {}, 1000);`);
    try {
      const dest = join(t.dir, 'out-locked');
      const started = Date.now();
      const r = await runCli(['backup', '--db', db, '--dest', dest, '--quiet', '0', '--attempts', '3', '--retry-delay', '0.2', '--busy-timeout', '0.2', '--json']);
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(/stayed busy through 3 attempts .*close the POS app/);
      expect(r.json).toMatchObject({ ok: false, error: { kind: 'busy' } });
      // 3 attempts of 0.2 s each plus backoff delays of 0.2 s and 0.4 s.
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
      expect(readdirSync(dest)).toEqual([]);
    } finally {
      await holder.kill();
    }
  });

  it('an exclusive-locking-mode WAL app keeps readers out: busy (exit 4)', async () => {
    const db = join(t.dir, 'exclusive-wal.db');
    makePosDb(db, 1 << 20, 'wal');
    const holder = await startSnippet(`const db = new Database(${JSON.stringify(db)}); db.pragma('locking_mode = EXCLUSIVE'); db.exec("UPDATE products SET stock = stock + 1 WHERE id = 1"); console.log('ready'); setInterval(() => {}, 1000);`);
    try {
      const r = await runCli(['backup', '--db', db, '--dest', join(t.dir, 'out-xwal'), '--quiet', '0', '--attempts', '2', '--retry-delay', '0.1', '--busy-timeout', '0.2']);
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(/stayed busy through 2 attempts/);
    } finally {
      await holder.kill();
    }
  });

  it('a lock released while Lifeboat backs off: a later attempt succeeds', async () => {
    const db = join(t.dir, 'briefly-locked.db');
    makePosDb(db, 1 << 20, 'delete');
    // Held long enough for the CLI's first attempt to meet it even on a loaded machine.
    const holder = await startSnippet(`const db = new Database(${JSON.stringify(db)}); db.exec('BEGIN EXCLUSIVE'); console.log('ready'); setTimeout(() => { db.exec('ROLLBACK'); setInterval(() => {}, 1000); }, 3000);`);
    try {
      const r = await runCli(['backup', '--db', db, '--dest', join(t.dir, 'out-brief'), '--quiet', '0', '--attempts', '8', '--retry-delay', '0.3', '--busy-timeout', '0.2', '--json']);
      expect(r.code).toBe(0);
      expect(Number(r.json.attempts)).toBeGreaterThan(1);
    } finally {
      await holder.kill();
    }
  });

  it('waits for a quiet moment: the snapshot is taken only after the writer paused for the quiet period', async () => {
    const db = join(t.dir, 'quiet.db');
    makePosDb(db, 1 << 20, 'wal');
    const writer = spawn(process.execPath, ['-e', `
      const Database = require(${JSON.stringify(join(ROOT, 'node_modules/better-sqlite3/lib/index.js'))});
      const db = new Database(${JSON.stringify(db)});
      const s = db.prepare('UPDATE products SET stock = stock + 1 WHERE id = 1');
      let last = 0;
      const t = setInterval(() => { s.run(); last = Date.now(); }, 50);
      process.on('SIGTERM', () => { clearInterval(t); process.stdout.write(String(last)); process.exit(0); });
      console.error('ready');`], { stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((r) => writer.stderr.once('data', () => r()));
    const cli = runCli(['backup', '--db', db, '--dest', join(t.dir, 'out-quiet'), '--quiet', '0.5', '--max-wait', '20', '--json']);
    await sleep(1500);
    let lastCommit = '';
    writer.stdout.on('data', (d: Buffer) => (lastCommit += d.toString()));
    await new Promise<void>((r) => {
      writer.once('exit', () => r());
      writer.kill('SIGTERM');
    });
    const r = await cli;
    expect(r.code).toBe(0);
    expect(r.json.quiet).toBe(true);
    expect(Number(lastCommit)).toBeGreaterThan(0);
    expect(Date.parse(String(r.json.snapshotAt)) - Number(lastCommit)).toBeGreaterThanOrEqual(450);
  });

  it('never quiet: after --max-wait it copies anyway (safe under writes) and says it was not quiet', async () => {
    const db = join(t.dir, 'never-quiet.db');
    makePosDb(db, 1 << 20, 'wal');
    const writer = await startSnippet(`const db = new Database(${JSON.stringify(db)}); const s = db.prepare('UPDATE products SET stock = stock + 1 WHERE id = 1'); console.log('ready'); setInterval(() => s.run(), 30);`);
    try {
      const r = await runCli(['backup', '--db', db, '--dest', join(t.dir, 'out-noisy'), '--quiet', '1', '--max-wait', '1.5', '--json']);
      expect(r.code).toBe(0);
      expect(r.json.quiet).toBe(false);
      expect(Number(r.json.waitedMs)).toBeGreaterThanOrEqual(1500);
    } finally {
      await writer.kill();
    }
  });
});

describe('a damaged source is a failed backup, never a kept one (exit 5)', () => {
  function corruptPageAt(path: string, fraction: number): void {
    const size = statSync(path).size;
    const page = Math.floor((size / 4096) * fraction);
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0xa5), 0, 4096, page * 4096);
    closeSync(fd);
  }

  it('a garbled page in the middle', async () => {
    const db = join(t.dir, 'corrupt.db');
    makePosDb(db, 4 << 20, 'delete');
    corruptPageAt(db, 0.5);
    const dest = join(t.dir, 'out-corrupt');
    const r = await runCli(['backup', '--db', db, '--dest', dest, '--quiet', '0', '--json']);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/fails SQLite's quick check .*the database itself is damaged/);
    expect(r.json).toMatchObject({ ok: false, error: { kind: 'check' } });
    expect(readdirSync(dest)).toEqual([]);
  });

  it('a database cut short', async () => {
    const db = join(t.dir, 'truncated.db');
    makePosDb(db, 4 << 20, 'delete');
    truncateSync(db, Math.floor(statSync(db).size / 2 / 4096) * 4096);
    const dest = join(t.dir, 'out-truncated');
    const r = await runCli(['backup', '--db', db, '--dest', dest, '--quiet', '0']);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/damaged/);
    expect(existsSync(dest) ? readdirSync(dest) : []).toEqual([]);
  });
});
