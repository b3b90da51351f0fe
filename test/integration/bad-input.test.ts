import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, requireOrSkip } from '../helpers/env.js';
import { makePosDb, runCli, sha256, tempDir } from '../helpers/fixtures.js';

const t = tempDir('bad-input');
const good = join(t.dir, 'pos.db');
beforeAll(() => makePosDb(good, 2 << 20, 'wal'));
afterAll(() => t.cleanup());

describe('a source that is not a database gets a one-line message and exit code 3', () => {
  const cases: Array<{ name: string; make: () => string; says: RegExp }> = [
    { name: 'missing file', make: () => join(t.dir, 'nope.db'), says: /not found: .*nope\.db\. Check the path/ },
    { name: 'a folder', make: () => { const d = join(t.dir, 'a-folder'); mkdirSync(d, { recursive: true }); return d; }, says: /is a folder, not a database file\. Point at the database file/ },
    { name: 'zero-byte file', make: () => { const f = join(t.dir, 'empty.db'); writeFileSync(f, ''); return f; }, says: /is empty \(0 bytes\)/ },
    { name: 'text file', make: () => { const f = join(t.dir, 'notes.db'); writeFileSync(f, 'customer,total\nalice,12.50\n'.repeat(50)); return f; }, says: /is a text file, not a SQLite database/ },
    {
      name: 'encrypted or unknown header',
      make: () => { const f = join(t.dir, 'cipher.db'); writeFileSync(f, Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919 + 13) % 251))); return f; },
      says: /not a plain SQLite database .*encrypted/,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const src = c.make();
      const dest = join(t.dir, `out-${c.name.replace(/\W+/g, '-')}`);
      const r = await runCli(['backup', '--db', src, '--dest', dest, '--quiet', '0', '--json']);
      expect(r.code).toBe(3);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(c.says);
      expect(r.json).toMatchObject({ ok: false, exitCode: 3, error: { kind: 'source' } });
    });
  }
});

describe('bad usage exits 2 and says what is wrong', () => {
  it('missing --db', async () => {
    const r = await runCli(['backup', '--dest', t.dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/required option '--db <path>' not specified/);
  });
  it('with --json, a usage error is one JSON object on stdout too', async () => {
    const r = await runCli(['backup', '--dest', t.dir, '--json']);
    expect(r.code).toBe(2);
    expect(r.json).toMatchObject({ ok: false, exitCode: 2, error: { kind: 'usage', message: "required option '--db <path>' not specified" } });
    const h = await runCli(['history', '--limit', '0', '--json']);
    expect(h.json).toMatchObject({ ok: false, error: { kind: 'usage', message: expect.stringMatching(/--limit/) as unknown as string } });
  });
  it('unknown check level', async () => {
    const r = await runCli(['backup', '--db', good, '--dest', t.dir, '--check', 'thorough']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/expected quick, full or none/);
  });
  it('negative max wait', async () => {
    const r = await runCli(['backup', '--db', good, '--dest', t.dir, '--max-wait', '-5']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/number of seconds/);
  });
  it('--version and --help succeed', async () => {
    const v = await runCli(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    for (const cmd of ['backup', 'verify', 'restore', 'demo']) {
      const h = await runCli([cmd, '--help']);
      expect(h.code).toBe(0);
      expect(h.stdout).toContain(`Usage: lifeboat ${cmd}`);
    }
  });
});

/** A folder under the test's dir that the user nobody may write (mode 0777). */
function openToNobody(name: string): string {
  const dir = join(t.dir, name);
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o777);
  return dir;
}

/** A LIFEBOAT_HOME the user nobody may write: the tests below are about the database and destination. */
const nobodyHome = (): string => openToNobody('nobody-home');

/** A 1 MiB POS database the user nobody may read (but, for WAL, not open: its -shm needs writing). */
function dbForNobody(name: string, mode: 'delete' | 'wal'): string {
  const db = join(t.dir, name);
  makePosDb(db, 1 << 20, mode);
  chmodSync(t.dir, 0o755);
  return db;
}

describe('a destination that cannot take the backup exits 6 and leaves what was there', () => {
  it('a LIFEBOAT_HOME this user cannot write: exit 7 with what to do', async () => {
    if (!requireOrSkip(isRoot, 'root (to run the CLI as user nobody)')) return;
    const rollbackDb = dbForNobody('home-test.db', 'delete');
    const rootsHome = join(t.dir, 'roots-home');
    mkdirSync(rootsHome, { mode: 0o700 });
    const out = openToNobody('out-home-test');
    const r = await runCli(['backup', '--db', rollbackDb, '--dest', out, '--quiet', '0'], { uid: 65534, gid: 65534, env: { LIFEBOAT_HOME: rootsHome } });
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/Lifeboat's folder .*roots-home cannot be written.*set LIFEBOAT_HOME/);
  });

  it('destination is a file', async () => {
    const f = join(t.dir, 'file-not-dir');
    writeFileSync(f, 'x');
    const r = await runCli(['backup', '--db', good, '--dest', f, '--quiet', '0']);
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/is a file, not a folder/);
  });

  it('destination whose drive is missing', async () => {
    const r = await runCli(['backup', '--db', good, '--dest', join(t.dir, 'unplugged-usb', 'backups'), '--quiet', '0']);
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/does not exist.*drive or network share is connected/);
  });

  it('unwritable destination (permission denied, as an ordinary user)', async () => {
    if (!requireOrSkip(isRoot, 'root (to run the CLI as user nobody)')) return;
    const locked = join(t.dir, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o755);
    const rollbackDb = dbForNobody('rollback.db', 'delete');
    chmodSync(rollbackDb, 0o644);
    const r = await runCli(['backup', '--db', rollbackDb, '--dest', locked, '--quiet', '0', '--json'], { uid: 65534, gid: 65534, env: { LIFEBOAT_HOME: nobodyHome() } });
    expect(r.stderr).toMatch(/may not write to .*locked \(permission denied\)\. Choose a folder/);
    expect(r.code).toBe(6);
    expect(readdirSync(locked)).toEqual([]);
  });

  it('a WAL database this user cannot open for reading says why (its -shm needs write access)', async () => {
    if (!requireOrSkip(isRoot, 'root (to run the CLI as user nobody)')) return;
    const walDb = dbForNobody('wal-other-user.db', 'wal');
    const out = openToNobody('out-nobody');
    const r = await runCli(['backup', '--db', walDb, '--dest', out, '--quiet', '0'], { uid: 65534, gid: 65534, env: { LIFEBOAT_HOME: nobodyHome() } });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/WAL mode and this user cannot read it.*Run Lifeboat as the same user as the POS app/);
  });

  describe('with real small file systems', () => {
    const mounts: string[] = [];
    afterAll(() => {
      for (const m of mounts) execFileSync('umount', ['-l', m]);
    });
    const mount = (dir: string, opts: string): void => {
      mkdirSync(dir, { recursive: true });
      execFileSync('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', dir]);
      mounts.push(dir);
    };

    it('a full disk: refused up front, earlier backups untouched', async () => {
      if (!requireOrSkip(isRoot, 'root (to mount a small tmpfs)')) return;
      const small = join(t.dir, 'small-disk');
      mount(small, 'size=1m');
      writeFileSync(join(small, 'older-backup.sqlite'), Buffer.alloc(300 << 10, 1));
      const before = sha256(join(small, 'older-backup.sqlite'));
      const r = await runCli(['backup', '--db', good, '--dest', small, '--quiet', '0', '--json']);
      expect(r.code).toBe(6);
      expect(r.stderr).toMatch(/is full: the backup needs about .* only .* is free\. Free some space/);
      expect(readdirSync(small)).toEqual(['older-backup.sqlite']);
      expect(sha256(join(small, 'older-backup.sqlite'))).toBe(before);
    });

    it('a disk that fills up during the write: clear message, no partial files, earlier backups untouched', async () => {
      if (!requireOrSkip(isRoot, 'root (to mount a small tmpfs)')) return;
      // Random blobs do not compress, so raw copy + gzip copy need about twice the database, more
      // than the up-front estimate (1.6x, from typical POS data): the write itself hits ENOSPC.
      const noisy = join(t.dir, 'noisy.db');
      const conn = new Database(noisy);
      conn.exec('CREATE TABLE blobs (b BLOB)');
      const ins = conn.prepare('INSERT INTO blobs VALUES (?)');
      for (let i = 0; i < 128; i++) ins.run(randomBytes(64 << 10));
      conn.close();
      const size = statSync(noisy).size;
      const tight = join(t.dir, 'tight-disk');
      mount(tight, `size=${Math.ceil((size * 1.6 + (2 << 20)) / 4096) * 4096}`);
      writeFileSync(join(tight, 'older-backup.sqlite'), 'older');
      const r = await runCli(['backup', '--db', noisy, '--dest', tight, '--quiet', '0', '--gzip']);
      expect(r.stderr).toMatch(/backup folder .*tight-disk is full\. Free some space/);
      expect(r.code).toBe(6);
      expect(readdirSync(tight)).toEqual(['older-backup.sqlite']);
    });

    it('a read-only disk', async () => {
      if (!requireOrSkip(isRoot, 'root (to mount a read-only tmpfs)')) return;
      const ro = join(t.dir, 'ro-disk');
      mount(ro, 'size=8m,ro');
      const r = await runCli(['backup', '--db', good, '--dest', ro, '--quiet', '0']);
      expect(r.code).toBe(6);
      expect(r.stderr).toMatch(/read-only/);
    });
  });
});
