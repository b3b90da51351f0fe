import { copyFileSync, openSync, closeSync, writeSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksum, readWalIndex } from '../../agent/engine/wal-reader.js';
import { runSnippet } from '../helpers/children.js';
import { tempDir } from '../helpers/fixtures.js';

const t = tempDir('wal-reader');
const db = join(t.dir, 'w.db');
const PAGE = 4096;
const FRAME = 24 + PAGE;

beforeAll(() => {
  // 40 transactions of 3 pages' worth each, left in the log by a process that then dies.
  const r = runSnippet(`
    const db = new Database(process.argv[1]);
    db.pragma('journal_mode = WAL');
    db.pragma('wal_autocheckpoint = 0');
    db.exec('CREATE TABLE t (x BLOB)');
    const ins = db.prepare('INSERT INTO t VALUES (randomblob(9000))');
    for (let i = 0; i < 40; i++) ins.run();
    process.kill(process.pid, 'SIGKILL');`, [db]);
  expect(r.signal).toBe('SIGKILL');
});
afterAll(() => t.cleanup());

function walCopy(name: string): string {
  const p = join(t.dir, name);
  copyFileSync(`${db}-wal`, p);
  return p;
}

describe('readWalIndex', () => {
  it('finds every committed frame and the database size after the last commit', async () => {
    const frames = (statSync(`${db}-wal`).size - 32) / FRAME;
    const idx = await readWalIndex(`${db}-wal`, PAGE);
    expect(idx.committedFrames).toBe(frames);
    expect(idx.dbPages).toBeGreaterThan(40 * 2);
    // Each page maps to its newest frame: page 1 (schema/header) is rewritten by every commit.
    const last = idx.pages.get(1);
    expect(last).toBeDefined();
    expect(Math.max(...[...idx.pages.values()].map((r) => r.offset))).toBe(32 + (frames - 1) * FRAME);
  });

  it('a frame cut short by a crash ends the log at the commit before it', async () => {
    const whole = await readWalIndex(`${db}-wal`, PAGE);
    const p = walCopy('cut.wal');
    truncateSync(p, statSync(p).size - 100);
    const idx = await readWalIndex(p, PAGE);
    expect(idx.committedFrames).toBeLessThan(whole.committedFrames);
    expect(idx.committedFrames).toBeGreaterThan(0);
    for (const ref of idx.pages.values()) expect(ref.offset).toBeLessThan(32 + idx.committedFrames * FRAME);
  });

  it('a damaged frame (checksum mismatch) ends the log there, as in SQLite\'s own recovery', async () => {
    const p = walCopy('flipped.wal');
    const k = 10; // 0-based frame to damage
    const fd = openSync(p, 'r+');
    writeSync(fd, Buffer.from([0xff, 0x00, 0xff]), 0, 3, 32 + k * FRAME + 24 + 2000);
    closeSync(fd);
    const idx = await readWalIndex(p, PAGE);
    expect(idx.committedFrames).toBeLessThanOrEqual(k);
  });

  it('no log, an empty log, or a foreign file: nothing to lay over the copy', async () => {
    expect((await readWalIndex(join(t.dir, 'missing-wal'), PAGE)).committedFrames).toBe(0);
    const empty = join(t.dir, 'empty.wal');
    writeFileSync(empty, '');
    expect((await readWalIndex(empty, PAGE)).pages.size).toBe(0);
    const junk = join(t.dir, 'junk.wal');
    writeFileSync(junk, Buffer.alloc(FRAME * 3, 7));
    expect((await readWalIndex(junk, PAGE)).committedFrames).toBe(0);
  });

  it('refuses a log whose page size differs from the database', async () => {
    await expect(readWalIndex(`${db}-wal`, 1024)).rejects.toThrow(/page size 4096 differs/);
  });
});

describe('the WAL checksum', () => {
  it('reads words through a typed array when it can, with the same result as word by word', () => {
    const data = Buffer.alloc(4096 + 8);
    for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
    const aligned = Buffer.alloc(4096);
    data.copy(aligned, 0, 0, 4096);
    // Offset 1 in a bigger buffer: not 4-byte aligned, so the word-by-word path is taken.
    const unaligned = Buffer.alloc(4097).subarray(1);
    data.copy(unaligned, 0, 0, 4096);
    // The typed-array path is taken for a log in the CPU's own byte order.
    const bigEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1;
    const fast = checksum(aligned, 0, 4096, bigEndian, 7, 11);
    expect(checksum(unaligned, 0, 4096, bigEndian, 7, 11)).toEqual(fast);
    expect(fast).not.toEqual([7, 11]);
  });
});
