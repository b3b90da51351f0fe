import { copyFileSync, closeSync, openSync, readFileSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pathToFileURL } from 'node:url';
import { mapPages } from '../../agent/engine/page-map.js';
import { ROOT, tempDir } from '../helpers/fixtures.js';

// The built module: its check threads load dist/agent/engine/check-worker.js, which only exists there.
type Integrity = typeof import('../../agent/engine/integrity.js');
const { checkDatabase, checkInParallel, planParallelCheck } = (await import(pathToFileURL(join(ROOT, 'dist/agent/engine/integrity.js')).href)) as Integrity;

const t = tempDir('parallel-check');
afterAll(() => t.cleanup());

/** Two tables of about the same size, each with an index, and a freelist left by a dropped table. */
let good = '';
/** The same, vacuumed: no free pages and no overflow pages, which is where the check is split. */
let compact = '';
beforeAll(() => {
  good = join(t.dir, 'good.db');
  const db = new Database(good);
  db.exec(`
    CREATE TABLE sales (id INTEGER PRIMARY KEY, sku TEXT NOT NULL, note TEXT);
    CREATE TABLE stock (id INTEGER PRIMARY KEY, sku TEXT NOT NULL, note TEXT);
    CREATE INDEX sales_sku ON sales(sku);
    CREATE INDEX stock_sku ON stock(sku);
    CREATE TABLE scratch (x BLOB);`);
  const fill = db.transaction(() => {
    const a = db.prepare('INSERT INTO sales (sku, note) VALUES (?, ?)');
    const b = db.prepare('INSERT INTO stock (sku, note) VALUES (?, ?)');
    for (let i = 0; i < 20_000; i++) {
      a.run(`sku-${i % 997}`, 'x'.repeat(60));
      b.run(`sku-${(i * 7) % 991}`, 'y'.repeat(60));
    }
    // Big blobs: overflow pages, which the page map does not follow and must not trip over.
    const s = db.prepare('INSERT INTO scratch VALUES (?)');
    for (let i = 0; i < 200; i++) s.run(Buffer.alloc(9000, i));
  });
  fill();
  db.exec('DROP TABLE scratch');
  compact = join(t.dir, 'compact.db');
  db.exec(`VACUUM INTO '${compact}'`);
  db.close();
});

function copyOf(name: string, from = good): string {
  const path = join(t.dir, name);
  copyFileSync(from, path);
  return path;
}

function readU32(path: string, offset: number): number {
  const fd = openSync(path, 'r');
  const b = Buffer.alloc(4);
  readSync(fd, b, 0, 4, offset);
  closeSync(fd);
  return b.readUInt32BE(0);
}

function writeU32(path: string, offset: number, value: number): void {
  const fd = openSync(path, 'r+');
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value, 0);
  writeSync(fd, b, 0, 4, offset);
  closeSync(fd);
}

/** The first column of every row SQL gives on PATH (opened read-only). */
function column(path: string, sql: string, ...params: unknown[]): number[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(sql).pluck().all(...params) as number[];
  } finally {
    db.close();
  }
}

const leafOf = (path: string, table: string): number =>
  column(path, "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno DESC LIMIT 1", table)[0] ?? 0;
const middleLeafOf = (path: string, table: string): number =>
  column(path, "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY path LIMIT 1 OFFSET 3", table)[0] ?? 0;
const rootsOf = (path: string): number[] => column(path, 'SELECT rootpage FROM sqlite_schema WHERE rootpage > 0');

describe('the page map (b-tree interior pages and the freelist, read without SQLite)', () => {
  it('of a sound database: no problems, the freelist SQLite reports, and the pages of every b-tree', () => {
    const db = new Database(good, { readonly: true });
    const freelist = db.pragma('freelist_count', { simple: true }) as number;
    const perTree = db.prepare("SELECT s.rootpage AS root, count(*) AS pages FROM dbstat d JOIN sqlite_schema s ON s.name = d.name WHERE d.pagetype IN ('internal', 'leaf') GROUP BY s.rootpage").all() as Array<{ root: number; pages: number }>;
    const roots = perTree.map((r) => r.root);
    db.close();
    expect(freelist).toBeGreaterThan(400);
    const map = mapPages(good, roots);
    expect(map.problems).toEqual([]);
    expect(map.freelistPages).toBe(freelist);
    for (const { root, pages } of perTree) expect(map.treePages.get(root)).toBe(pages);
  });

  it('catches a page that is both free and in use, which a per-table quick_check does not', async () => {
    const bad = copyOf('double-use.db');
    const trunk = readU32(bad, 32);
    const pageSize = 4096;
    const victim = leafOf(bad, 'sales');
    // The first leaf entry of the first freelist trunk now names a page the sales table uses.
    writeU32(bad, (trunk - 1) * pageSize + 8, victim);

    const partial = checkDatabase(bad, 'quick', ['sqlite_schema', 'sales', 'stock']);
    expect(partial.ok).toBe(true); // the gap the page map closes
    const whole = checkDatabase(bad, 'quick');
    expect(whole.ok).toBe(false);

    const parallel = await checkInParallel(bad);
    expect(parallel.ok).toBe(false);
    expect(parallel.problems.join('\n')).toContain(`page ${victim} is used by both the b-tree at page`);
  });

  it('catches a freelist count that does not match the header', async () => {
    const bad = copyOf('freelist-count.db');
    writeU32(bad, 36, readU32(bad, 36) + 3);
    const r = await checkInParallel(bad);
    expect(r.ok).toBe(false);
    expect(r.problems[0]).toMatch(/freelist holds \d+ pages, the header says \d+/);
  });

  it('catches a freelist trunk that points past the end of the file', async () => {
    const bad = copyOf('freelist-range.db');
    writeU32(bad, 32, 0x7fff0000);
    const r = await checkInParallel(bad);
    expect(r.ok).toBe(false);
    expect(r.problems[0]).toMatch(/invalid page number \d+ in the freelist/);
  });
});

describe('the parallel quick check', () => {
  it('shares the tables out over two threads and passes a sound database', async () => {
    const plan = planParallelCheck(compact, 2);
    expect(plan.groups.map((g) => g.tables.length > 0)).toEqual([true, true]);
    expect(plan.groups.flatMap((g) => g.tables).sort()).toEqual(['sales', 'sqlite_schema', 'stock']);
    const [a, b] = plan.groups.map((g) => g.cost);
    expect(Math.min(a ?? 0, b ?? 0) / Math.max(a ?? 1, b ?? 1)).toBeGreaterThan(0.8);
    expect(plan.map).toMatchObject({ freelistPages: 0, unaccountedPages: 0, autoVacuum: false, problems: [] });
    expect(await checkInParallel(compact)).toMatchObject({ level: 'quick', ok: true, problems: [], threads: 2 });
    expect(await checkInParallel(compact, { useThisThread: true, thisThreadPages: 100 })).toMatchObject({ level: 'quick', ok: true, problems: [], threads: 2 });
    // The calling thread's own work (hashing) is counted: it gets the lighter share.
    const busy = planParallelCheck(compact, 2, [0, 5000]);
    expect(busy.groups[1]?.checkCost ?? 0).toBeLessThan(busy.groups[0]?.checkCost ?? 0);
  });

  it('fails on a garbled leaf page of either table, whichever thread checks it', async () => {
    for (const table of ['sales', 'stock']) {
      const bad = copyOf(`garbled-${table}.db`, compact);
      // A leaf in the middle: the page map never reads it, so SQLite's check in one share must catch it.
      const page = middleLeafOf(bad, table);
      const fd = openSync(bad, 'r+');
      writeSync(fd, Buffer.alloc(4096, 0xa5), 0, 4096, (page - 1) * 4096);
      closeSync(fd);
      expect(mapPages(bad, rootsOf(bad)).problems).toEqual([]);
      for (const useThisThread of [false, true]) {
        const r = await checkInParallel(bad, { useThisThread });
        expect(r.ok, `${table}, this thread: ${useThisThread}`).toBe(false);
        expect(r.threads).toBe(2);
        expect(r.problems.join('\n')).toMatch(/Tree \d+ page \d+|malformed/);
      }
    }
  });

  it('runs the whole-file check where the map cannot vouch for every page: free pages, overflow pages', async () => {
    expect(await checkInParallel(good)).toMatchObject({ ok: true, problems: [] });
    expect((await checkInParallel(good)).threads).toBeUndefined();
    const blobs = join(t.dir, 'blobs.db');
    const db = new Database(blobs);
    db.exec('CREATE TABLE a (x); CREATE TABLE b (x);');
    const ins = db.prepare('INSERT INTO a VALUES (?)');
    for (let i = 0; i < 3000; i++) ins.run('a'.repeat(200));
    db.prepare('INSERT INTO b VALUES (?)').run(Buffer.alloc(40_000, 7));
    db.close();
    expect(planParallelCheck(blobs, 2).map.unaccountedPages).toBeGreaterThan(5);
    const r = await checkInParallel(blobs);
    expect(r).toMatchObject({ ok: true, problems: [] });
    expect(r.threads).toBeUndefined();
  });

  it('catches a copy torn between two states: a big row\'s overflow pages also on the freelist', async () => {
    const before = join(t.dir, 'torn-before.db');
    const db = new Database(before);
    db.exec('CREATE TABLE a (k INTEGER PRIMARY KEY, v); CREATE TABLE c (k INTEGER PRIMARY KEY, v); CREATE TABLE b (k INTEGER PRIMARY KEY, v);');
    for (const table of ['a', 'c']) {
      const ins = db.prepare(`INSERT INTO ${table} VALUES (?, ?)`);
      db.transaction(() => { for (let i = 0; i < 2000; i++) ins.run(i, 'y'.repeat(300)); })();
    }
    db.prepare('INSERT INTO b VALUES (1, ?)').run('z'.repeat(40_000));
    // A freelist whose trunk page is already there, so the later free pages only join its list.
    db.exec('DELETE FROM c WHERE k >= 1000');
    db.close();
    const after = copyOf('torn-after.db', before);
    const db2 = new Database(after);
    db2.exec('DELETE FROM b');
    db2.close();
    // The old file with the new header and freelist trunk: the row's overflow pages are both in use and free.
    const old = readFileSync(before);
    const now = readFileSync(after);
    const trunk = now.readUInt32BE(32);
    now.copy(old, 0, 0, 4096);
    now.copy(old, (trunk - 1) * 4096, (trunk - 1) * 4096, trunk * 4096);
    const torn = join(t.dir, 'torn.db');
    writeFileSync(torn, old);
    expect(checkDatabase(torn, 'quick', ['sqlite_schema', 'a', 'b', 'c']).ok).toBe(true); // per-table checks alone miss it
    const r = await checkInParallel(torn);
    expect(r.ok).toBe(false);
    expect(r.problems.join('\n')).toMatch(/2nd reference to page/);
  });

  it('is not fooled by a file that is not a database', async () => {
    const path = join(t.dir, 'not-a-db.db');
    const fd = openSync(path, 'w');
    writeSync(fd, Buffer.alloc(8192, 0x41));
    closeSync(fd);
    const r = await checkInParallel(path);
    expect(r.ok).toBe(false);
    expect(r.problems[0]).toMatch(/not a database/);
  });
});
