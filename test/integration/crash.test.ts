import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, makePosDb, runCli, sleep, tempDir } from '../helpers/fixtures.js';

const t = tempDir('crash');
const db = join(t.dir, 'pos.db');
const dest = join(t.dir, 'backups');
beforeAll(() => makePosDb(db, 48 << 20, 'delete'));
afterAll(() => t.cleanup());

const isTemp = (n: string): boolean => n.startsWith('.lifeboat-tmp-');

/** Starts a backup and SIGKILLs it once WHEN says so (or after a time limit). */
async function killDuring(when: (names: string[], elapsedMs: number) => boolean): Promise<boolean> {
  const child = spawn(process.execPath, [CLI, 'backup', '--db', db, '--dest', dest, '--quiet', '0', '--gzip', '--check', 'full'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const started = Date.now();
  let seen: string[] = [];
  let killed = false;
  for (;;) {
    if (child.exitCode !== null) break;
    try {
      seen = readdirSync(dest);
    } catch {
      seen = [];
    }
    if (when(seen, Date.now() - started)) {
      killed = child.kill('SIGKILL');
      break;
    }
    await sleep(5);
  }
  await exited;
  return killed;
}

async function assertOnlyWholeBackups(): Promise<number> {
  const names = readdirSync(dest).filter((n) => !isTemp(n));
  const backups = names.filter((n) => n.endsWith('.sqlite') || n.endsWith('.sqlite.gz'));
  for (const b of backups) {
    expect(names).toContain(`${b}.manifest.json`);
    const v = await runCli(['verify', join(dest, b), '--json']);
    expect(v.code, `${b}: ${v.stderr}`).toBe(0);
  }
  return backups.length;
}

describe('kill -9 in the middle of a backup', () => {
  it('leaves either no new backup or a whole verified one, never a locked source; the next run cleans up', async () => {
    const moments: Array<[string, (names: string[], ms: number) => boolean]> = [
      ['as the copy starts', (names) => names.some((n) => isTemp(n) && n.endsWith('.sqlite'))],
      ['while compressing', (names) => names.some((n) => isTemp(n) && n.endsWith('.gz'))],
      ['after 200 ms', (_n, ms) => ms > 200],
      ['after 700 ms', (_n, ms) => ms > 700],
      ['after 1200 ms', (_n, ms) => ms > 1200],
    ];
    let leftTemps = 0;
    for (const [label, when] of moments) {
      expect(await killDuring(when), `killed ${label}`).toBe(true);
      leftTemps += readdirSync(dest).filter(isTemp).length;
      await assertOnlyWholeBackups();
      // The OS dropped the dead process's lock: the POS app can write at once.
      const w = new Database(db, { timeout: 0 });
      w.exec('BEGIN IMMEDIATE; UPDATE products SET stock = stock WHERE id = 1; COMMIT');
      w.close();
    }
    expect(leftTemps).toBeGreaterThan(0);

    const next = await runCli(['backup', '--db', db, '--dest', dest, '--quiet', '0', '--json']);
    expect(next.code).toBe(0);
    expect((next.json.staleTempsRemoved as string[]).length).toBeGreaterThan(0);
    expect(readdirSync(dest).filter(isTemp)).toEqual([]);
    expect(await assertOnlyWholeBackups()).toBeGreaterThanOrEqual(1);
  });
});
