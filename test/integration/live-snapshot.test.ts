import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPosConsistency } from '../../agent/demo/pos-schema.js';
import { makePosDb, runCli, startWriter, tempDir } from '../helpers/fixtures.js';

const SIZE = 48 << 20;

describe.each([
  { mode: 'wal' as const },
  { mode: 'delete' as const },
  { mode: 'truncate' as const },
])('backup of a live $mode-mode database while another process commits every 20 ms', ({ mode }) => {
  const t = tempDir(`live-${mode}`);
  const db = join(t.dir, 'pos.db');
  beforeAll(() => makePosDb(db, SIZE, mode));
  afterAll(() => t.cleanup());

  it('completes, holds whole invoices only, and never makes the writer fail', async () => {
    const before = checkPosConsistency(db).invoices;
    const writer = await startWriter(db, 20);
    let results: Array<Record<string, unknown>> = [];
    try {
      // Several backups in a row, so copies start at different points of the writer's cycle.
      for (let i = 0; i < 3; i++) {
        const r = await runCli(['backup', '--db', db, '--dest', join(t.dir, 'out'), '--quiet', '0', '--json']);
        expect(r.stderr).toContain('Backup OK');
        expect(r.code).toBe(0);
        results.push(r.json);
      }
    } finally {
      const stats = await writer.stop();
      expect(stats.busy).toBe(0);
      expect(stats.otherErrors).toBe(0);
      expect(stats.commits).toBeGreaterThan(10);
    }
    const after = checkPosConsistency(db).invoices;
    let previous = before;
    for (const r of results) {
      expect(r.journalMode).toBe(mode === 'wal' ? 'wal' : 'rollback');
      expect(r.check).toMatchObject({ level: 'quick', ok: true });
      const c = checkPosConsistency(String(r.file));
      expect(c.broken).toBe(0);
      // Each backup is a later committed state than the one before, within what the writer did.
      expect(c.invoices).toBeGreaterThanOrEqual(previous);
      expect(c.invoices).toBeLessThanOrEqual(after);
      previous = c.invoices;
    }
    expect(previous).toBeGreaterThan(before);
    results = [];
  });

  it('never changes the source journal mode', () => {
    const conn = new Database(db, { readonly: true });
    expect(String(conn.pragma('journal_mode', { simple: true }))).toBe(mode === 'wal' ? 'wal' : 'delete');
    conn.close();
    expect(readdirSync(join(t.dir, 'out')).filter((n) => n.startsWith('.lifeboat-tmp-'))).toEqual([]);
  });
});
