import { execFileSync } from 'node:child_process';
import { existsSync, openSync, readdirSync, closeSync, writeSync, statSync, renameSync } from 'node:fs';
import { basename, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPosConsistency } from '../../agent/demo/pos-schema.js';
import { hasCommand, requireOrSkip } from '../helpers/env.js';
import { startSnippet } from '../helpers/children.js';
import { makePosDb, runCli, sha256, startWriter, tempDir } from '../helpers/fixtures.js';

const t = tempDir('restore');
const walDb = join(t.dir, 'pos-wal.db');
const dest = join(t.dir, 'backups');
let plainBackup = '';
let gzBackup = '';

beforeAll(async () => {
  makePosDb(walDb, 8 << 20, 'wal');
  // Taken while the till is busy, so the restore round trip covers a live snapshot.
  const writer = await startWriter(walDb, 20);
  try {
    const a = await runCli(['backup', '--db', walDb, '--dest', dest, '--quiet', '0', '--json']);
    const b = await runCli(['backup', '--db', walDb, '--dest', dest, '--quiet', '0', '--gzip', '--json']);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    plainBackup = String(a.json.file);
    gzBackup = String(b.json.file);
  } finally {
    await writer.stop();
  }
});
afterAll(() => t.cleanup());

/** sqldiff prints nothing when two databases hold the same schema and rows. */
function sameContent(a: string, b: string): void {
  if (requireOrSkip(hasCommand('sqldiff'), 'sqldiff (Debian package sqlite3-tools)')) {
    expect(execFileSync('sqldiff', [a, b], { encoding: 'utf8' })).toBe('');
  } else {
    expect(checkPosConsistency(a)).toEqual(checkPosConsistency(b));
  }
}

describe('verify', () => {
  it('a good backup passes, plain and gzip', async () => {
    for (const f of [plainBackup, gzBackup]) {
      const r = await runCli(['verify', f, '--json']);
      expect(r.code).toBe(0);
      expect(r.json).toMatchObject({ ok: true, check: { level: 'quick', ok: true } });
      expect(r.stderr).toContain('SHA-256 matches');
    }
  });

  it('one flipped byte is caught (exit 5) and named', async () => {
    const copy = join(t.dir, 'tampered', basename(plainBackup));
    execFileSync('mkdir', ['-p', join(t.dir, 'tampered')]);
    execFileSync('cp', [plainBackup, `${plainBackup}.manifest.json`, join(t.dir, 'tampered')]);
    const fd = openSync(copy, 'r+');
    writeSync(fd, Buffer.from([0x42]), 0, 1, Math.floor(statSync(copy).size / 2));
    closeSync(fd);
    const r = await runCli(['verify', copy, '--json']);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/NOT good: SHA-256 differs from the manifest/);
  });

  it('a backup without its manifest cannot be vouched for (exit 3)', async () => {
    const lone = join(t.dir, 'lone.sqlite');
    execFileSync('cp', [plainBackup, lone]);
    const r = await runCli(['verify', lone]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/has no manifest/);
  });
});

describe('restore', () => {
  it('round trip: the restored database equals the snapshot and is back in WAL mode', async () => {
    for (const f of [plainBackup, gzBackup]) {
      const target = join(t.dir, `restored-${basename(f)}.db`);
      const r = await runCli(['restore', '--from', f, '--to', target, '--json']);
      expect(r.code).toBe(0);
      expect(r.json).toMatchObject({ ok: true, restored: target, previous: null, journalMode: 'wal' });
      const conn = new Database(target, { readonly: true });
      expect(conn.pragma('journal_mode', { simple: true })).toBe('wal');
      conn.close();
      let snapshot = f;
      if (f.endsWith('.gz')) {
        snapshot = join(t.dir, 'gunzipped-snapshot.db');
        execFileSync('sh', ['-c', `gzip -dc "${f}" > "${snapshot}"`]);
      }
      sameContent(snapshot, target);
      expect(checkPosConsistency(target).broken).toBe(0);
    }
  });

  it('over an existing database: keeps the old one as .before-restore-*, swaps in the new one', async () => {
    const target = join(t.dir, 'shop.db');
    makePosDb(target, 1 << 20, 'delete');
    const oldSha = sha256(target);
    const r = await runCli(['restore', '--from', plainBackup, '--to', target, '--json']);
    expect(r.code).toBe(0);
    const previous = String(r.json.previous);
    expect(previous).toMatch(/shop\.db\.before-restore-\d{4}-\d\d-\d\dT\d{6}Z$/);
    expect(sha256(previous)).toBe(oldSha);
    sameContent(plainBackup, target);
    expect(r.stderr).toContain('is kept as');
  });

  it('refuses while another program has the database open (exit 4), and changes nothing', async () => {
    const target = join(t.dir, 'in-use.db');
    makePosDb(target, 1 << 20, 'wal');
    const app = await startSnippet(`const db = new Database(${JSON.stringify(target)}); db.prepare('SELECT count(*) FROM invoices').get(); db.exec("UPDATE products SET stock = stock + 1 WHERE id = 1"); console.log('ready'); setInterval(() => {}, 1000);`);
    try {
      const before = sha256(target);
      const r = await runCli(['restore', '--from', plainBackup, '--to', target, '--json']);
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(/Refusing to restore over .*in-use\.db: .*Close the POS app/);
      expect(sha256(target)).toBe(before);
      expect(readdirSync(t.dir).filter((n) => n.startsWith('in-use.db.before-restore'))).toEqual([]);
    } finally {
      await app.kill();
    }
  });

  it('refuses over a rollback database another program holds a lock on', async () => {
    const target = join(t.dir, 'locked-target.db');
    makePosDb(target, 1 << 20, 'delete');
    const app = await startSnippet(`const db = new Database(${JSON.stringify(target)}); db.exec('BEGIN'); db.prepare('SELECT count(*) FROM invoices').get(); console.log('ready'); setInterval(() => {}, 1000);`);
    try {
      const r = await runCli(['restore', '--from', plainBackup, '--to', target]);
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(/Refusing to restore/);
    } finally {
      await app.kill();
    }
  });

  it('--force after a crash: stale -wal/-shm are moved aside so they cannot be replayed into the restored file', async () => {
    const target = join(t.dir, 'crashed.db');
    makePosDb(target, 1 << 20, 'wal');
    const app = await startSnippet(`const db = new Database(${JSON.stringify(target)}); db.pragma('wal_autocheckpoint = 0'); for (let i = 0; i < 50; i++) db.exec("UPDATE products SET stock = stock + 1 WHERE id = 1"); console.log('ready'); setInterval(() => {}, 1000);`);
    await app.kill();
    expect(statSync(`${target}-wal`).size).toBeGreaterThan(0);
    const refused = await runCli(['restore', '--from', plainBackup, '--to', target]);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/write-ahead log/);
    const r = await runCli(['restore', '--from', plainBackup, '--to', target, '--force', '--json']);
    expect(r.code).toBe(0);
    expect((r.json.movedAside as string[]).map((p) => basename(p).replace(/\.before-restore-.*/, '')).sort()).toEqual(['crashed.db-shm', 'crashed.db-wal']);
    expect(existsSync(`${target}-wal`) && statSync(`${target}-wal`).size > 0).toBe(false);
    sameContent(plainBackup, target);
  });

  it('a damaged backup is not restored (exit 5) and the target is untouched', async () => {
    const dir = join(t.dir, 'bad-backup');
    execFileSync('mkdir', ['-p', dir]);
    execFileSync('cp', [gzBackup, `${gzBackup}.manifest.json`, dir]);
    const bad = join(dir, basename(gzBackup));
    const fd = openSync(bad, 'r+');
    writeSync(fd, Buffer.alloc(64, 0), 0, 64, 4096);
    closeSync(fd);
    const target = join(t.dir, 'keep-me.db');
    makePosDb(target, 1 << 20, 'delete');
    const before = sha256(target);
    const r = await runCli(['restore', '--from', bad, '--to', target]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/failed verification.*Nothing was restored/);
    expect(sha256(target)).toBe(before);
    renameSync(bad, `${bad}.inspected`);
  });
});
