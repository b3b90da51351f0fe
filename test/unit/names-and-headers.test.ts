import { describe, expect, it } from 'vitest';
import { backupFileName, sourceLabel, timestampForName } from '../../agent/engine/backup-name.js';
import { DEFAULT_BACKUP_OPTIONS } from '../../agent/engine/backup-options.js';
import { EXIT_CODES, LifeboatError, destinationError } from '../../agent/engine/errors.js';
import { classifyHeader, SQLITE_MAGIC } from '../../agent/engine/sqlite-header.js';
import { validateBackupOptions } from '../../agent/engine/validate-options.js';

describe('backup names', () => {
  it('say what they are and sort by time', () => {
    const a = backupFileName('/data/POS Main.db', new Date('2026-11-26T23:00:00.500Z'), false, () => false);
    const b = backupFileName('/data/POS Main.db', new Date('2026-11-27T01:02:03Z'), true, () => false);
    expect(a).toBe('POS_Main-2026-11-26T230000Z.sqlite');
    expect(b).toBe('POS_Main-2026-11-27T010203Z.sqlite.gz');
    expect([b, a].sort()).toEqual([a, b]);
  });
  it('never collide within one second', () => {
    const taken = new Set(['pos-2026-11-26T230000Z.sqlite', 'pos-2026-11-26T230000Z-2.sqlite']);
    expect(backupFileName('pos.sqlite', new Date('2026-11-26T23:00:00Z'), false, (n) => taken.has(n))).toBe('pos-2026-11-26T230000Z-3.sqlite');
  });
  it('have no characters Windows forbids', () => {
    expect(timestampForName(new Date('2026-01-02T03:04:05Z'))).not.toMatch(/[:<>|?*"]/);
    expect(sourceLabel('C:\\shop\\..db')).toMatch(/^[A-Za-z0-9._-]+$/);
    expect(sourceLabel('/x/.hidden')).toBe('hidden');
  });
});

describe('header classification', () => {
  it('recognises SQLite, WAL format and page size 65536', () => {
    const h = Buffer.alloc(100);
    SQLITE_MAGIC.copy(h);
    h.writeUInt16BE(1, 16);
    h[18] = 2;
    h[19] = 2;
    expect(classifyHeader(h)).toEqual({ kind: 'sqlite', pageSize: 65536, walFormat: true });
  });
  it('tells text from binary junk', () => {
    expect(classifyHeader(Buffer.from('id,name\n1,Ann\n')).kind).toBe('text');
    expect(classifyHeader(Buffer.from([0x00, 0x01, 0x02, 0xff, 0x10])).kind).toBe('unknown');
    expect(classifyHeader(Buffer.alloc(0)).kind).toBe('empty');
  });
});

describe('errors and exit codes', () => {
  it('every kind has its own documented exit code', () => {
    const codes = Object.values(EXIT_CODES);
    expect(new Set(codes).size).toBe(codes.length);
    expect(EXIT_CODES).toEqual({ ok: 0, internal: 1, usage: 2, source: 3, busy: 4, check: 5, destination: 6, config: 7, agent: 8, auth: 9 });
  });
  it('file-system errors on the destination say what to do', () => {
    const full = destinationError(Object.assign(new Error('x'), { code: 'ENOSPC' }), '/mnt/nas');
    expect(full.kind).toBe('destination');
    expect(full.toLine()).toMatch(/is full\. Free some space/);
    expect(destinationError(Object.assign(new Error('x'), { code: 'EACCES' }), '/b').toLine()).toMatch(/permission denied/);
    expect(destinationError(new LifeboatError('busy', 'm', 'h'), '/b').kind).toBe('busy');
  });
});

describe('option validation', () => {
  const base = { ...DEFAULT_BACKUP_OPTIONS, db: '/a.db', dest: '/b' };
  it('accepts the defaults', () => {
    expect(() => validateBackupOptions(base)).not.toThrow();
  });
  it.each([
    [{ check: 'thorough' }, /check level "thorough"/],
    [{ quietMs: -1 }, /quiet period/],
    [{ retry: { attempts: 0, initialDelayMs: 1, maxDelayMs: 1 } }, /number of attempts \(0\)/],
    [{ maxWaitMs: Number.NaN }, /maximum wait/],
    [{ db: '' }, /database path/],
  ])('refuses %o', (patch, message) => {
    expect(() => validateBackupOptions({ ...base, ...patch } as typeof base)).toThrow(message);
  });
});
