import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_JOB_FIELDS, DEFAULT_SETTINGS, type Destination, type Job } from '../../agent/config/job.js';
import { FOLDER_MARKER, FolderDestination, prepareCopyFolder } from '../../agent/destinations/folder.js';
import { LifeboatError } from '../../agent/engine/errors.js';
import { MAX_PENDING_PER_DESTINATION, copyToDestinations, pruneJob, type CopyContext } from '../../agent/runner/copies.js';
import { History } from '../../agent/runner/history.js';
import { runPipeline } from '../../agent/runner/pipeline.js';
import { sha256, tempDir } from '../helpers/fixtures.js';

const t = tempDir('copies');
afterAll(() => t.cleanup());
let n = 0;

/** A fresh scratch folder per test, with the pieces a run needs. */
function setup(): { dir: string; local: string; db: string; history: History; ctx: CopyContext } {
  const dir = join(t.dir, `case-${++n}`);
  const local = join(dir, 'local');
  mkdirSync(local, { recursive: true });
  const history = new History(join(dir, 'home', 'history.sqlite'));
  return { dir, local, db: join(dir, 'pos.db'), history, ctx: { home: join(dir, 'home'), settings: DEFAULT_SETTINGS, history, now: Date.now } };
}

const job = (db: string, destinations: Destination[], over: Partial<Job> = {}): Job => ({
  ...structuredClone(DEFAULT_JOB_FIELDS), id: 'pos', name: 'POS', db, schedule: { cron: '0 3 * * *' },
  destinations: destinations as Job['destinations'], createdAt: '2026-01-01T00:00:00Z', ...over,
});

const stamp = (day: number): string => `2026-10-${String(day).padStart(2, '0')}T230000Z`;

/** A backup file with the manifest Lifeboat writes (fields that matter for ownership set as given). */
function backup(folder: string, day: number, manifest: Record<string, unknown> | string = {}, label = 'pos'): string {
  const name = `${label}-${stamp(day)}.sqlite`;
  const file = join(folder, name);
  writeFileSync(file, `backup of day ${day}`);
  const body = typeof manifest === 'string' ? manifest : JSON.stringify({
    format: 'lifeboat-backup', formatVersion: 1, file: name, sha256: sha256(file), bytes: 16, compression: 'none',
    source: { path: join(folder, '..', 'pos.db'), journalMode: 'wal', pageSize: 4096, pages: 1 }, hostname: hostname(),
    check: { level: 'quick', ok: true, durationMs: 1 }, ...manifest,
  });
  writeFileSync(`${file}.manifest.json`, body);
  return file;
}

const keepLast = (k: number): Job['retention'] => ({ keepLast: k, daily: 0, weekly: 0, monthly: 0, maxAgeDays: null });

describe('prune touches only what this job made (real folders, real manifests)', () => {
  it('a foreign, garbled or mismatched manifest, another database and another PC are never candidates', async () => {
    const s = setup();
    for (let d = 1; d <= 5; d++) backup(s.local, d);
    const foreign = [
      backup(s.local, 11, '{"hello":"not lifeboat"}'),
      backup(s.local, 12, 'garbage{'),
      backup(s.local, 13, { source: { path: join(s.dir, 'other', 'pos.db') } }),
      backup(s.local, 14, { hostname: 'the-other-till' }),
      backup(s.local, 15, { file: 'pos-2026-01-01T000000Z.sqlite' }),
    ];
    const [report] = await pruneJob(job(s.db, [{ kind: 'folder', path: s.local }], { retention: keepLast(2) }), s.ctx, { dryRun: false });
    expect(report?.error).toBeNull();
    expect(report?.plan.keep.map((k) => k.name)).toEqual([`pos-${stamp(5)}.sqlite`, `pos-${stamp(4)}.sqlite`]);
    expect(report?.removed.sort()).toEqual([1, 2, 3].map((d) => `pos-${stamp(d)}.sqlite`));
    for (const f of foreign) expect(existsSync(f) && existsSync(`${f}.manifest.json`)).toBe(true);
    expect(report?.skipped.map((x) => x.why)).toEqual([
      'its manifest is not a Lifeboat manifest for this file', 'its manifest cannot be read', `it is a backup of ${join(s.dir, 'other', 'pos.db')}; delete it by hand when it is no longer needed`,
      'it was made on the-other-till; delete it by hand when it is no longer needed', 'its manifest is not a Lifeboat manifest for this file',
    ]);
  });

  it('two jobs sharing one folder: pruning one leaves the other\'s backups (and their pending copies) alone', async () => {
    const s = setup();
    for (let d = 1; d <= 4; d++) backup(s.local, d);
    const otherDb = join(s.dir, 'other', 'pos.db');
    const others = [1, 2, 3, 4].map((d) => backup(s.local, d + 10, { source: { path: otherDb } }));
    const other = job(otherDb, [{ kind: 'folder', path: s.local }], { id: 'other', retention: keepLast(1) });
    const [report] = await pruneJob(other, s.ctx, { dryRun: false });
    expect(report?.removed.sort()).toEqual([11, 12, 13].map((d) => `pos-${stamp(d)}.sqlite`));
    expect(readdirSync(s.local).filter((f) => f.endsWith('.sqlite'))).toHaveLength(4 + 1);
    expect(existsSync(others[3] ?? '')).toBe(true);
  });
});

describe('two jobs backing up one database into one folder (hourly and nightly)', () => {
  it('each prunes only the backups whose manifest names its job; a removed job\'s backups fall to the job of the same database', async () => {
    const s = setup();
    const hourly = [1, 2, 3, 4].map((d) => backup(s.local, d, { jobId: 'hourly' }));
    const nightly = [5, 6, 7].map((d) => backup(s.local, d, { jobId: 'nightly' }));
    const hourlyJob = job(s.db, [{ kind: 'folder', path: s.local }], { id: 'hourly', retention: keepLast(1) });
    const [report] = await pruneJob(hourlyJob, { ...s.ctx, jobIds: () => ['hourly', 'nightly'] }, { dryRun: false });
    expect(report?.removed.sort()).toEqual([1, 2, 3].map((d) => `pos-${stamp(d)}.sqlite`));
    expect(report?.skipped.map((x) => x.why)).toEqual(Array(3).fill("it belongs to job nightly; that job's retention applies to it"));
    for (const f of [hourly[3], ...nightly]) expect(existsSync(f ?? '')).toBe(true);
    // `job remove nightly`: its backups are no longer anyone's to keep by that job's rules.
    const [after] = await pruneJob(hourlyJob, { ...s.ctx, jobIds: () => ['hourly'] }, { dryRun: false });
    expect(after?.removed.sort()).toEqual([4, 5, 6].map((d) => `pos-${stamp(d)}.sqlite`));
    expect(existsSync(nightly[2] ?? '')).toBe(true);
    // A caller that does not know the jobs leaves other jobs' backups alone.
    const [unknown] = await pruneJob(hourlyJob, s.ctx, { dryRun: true });
    expect(unknown?.skipped.map((x) => x.name)).toEqual([`pos-${stamp(7)}.sqlite`]);
  });
});

describe('pending copies (real history database)', () => {
  it(`a copy folder gone for many runs keeps at most ${MAX_PENDING_PER_DESTINATION} pending, says what it gave up, and local pruning works again`, async () => {
    const s = setup();
    const gone = join(s.dir, 'unplugged', 'nas');
    const j = job(s.db, [{ kind: 'folder', path: s.local }, { kind: 'folder', path: gone }], { retention: keepLast(1) });
    const warnings: string[] = [];
    for (let d = 1; d <= 6; d++) warnings.push(...await copyToDestinations(j, backup(s.local, d), s.ctx));
    const pending = s.history.pendingUploads('pos').map((p) => p.file).sort();
    expect(pending).toEqual([4, 5, 6].map((d) => join(s.local, `pos-${stamp(d)}.sqlite`)));
    expect(warnings.filter((w) => w.startsWith('Gave up copying'))).toHaveLength(3);
    expect(warnings.filter((w) => /cannot be reached/.test(w))).toHaveLength(6);
    const [local] = await pruneJob(j, s.ctx, { dryRun: false });
    // Days 1-3 are no longer held back; 4-6 still wait for the drive.
    expect(local?.removed.sort()).toEqual([1, 2, 3].map((d) => `pos-${stamp(d)}.sqlite`));
    expect(local?.plan.keep.find((k) => k.name === `pos-${stamp(4)}.sqlite`)?.reasons).toEqual(['pending']);
  });

  it('a run whose snapshot fails still sends the copies waiting from earlier runs', async () => {
    const s = setup();
    const nas = join(s.dir, 'nas');
    await prepareCopyFolder(nas);
    const j = job(s.db, [{ kind: 'folder', path: s.local }, { kind: 'folder', path: nas }]);
    const waiting = backup(s.local, 7);
    s.history.uploadFailed('pos', `folder:${nas}`, waiting, 'the share was offline', Date.now());
    const outcome = await runPipeline(j, 'schedule', null, {
      home: s.ctx.home, history: s.history, now: Date.now, copies: s.ctx,
      backup: () => Promise.reject(new LifeboatError('busy', 'The database stayed locked.', 'Try later.')),
    });
    expect(outcome.ok).toBe(false);
    expect(readdirSync(nas).sort()).toEqual([FOLDER_MARKER, `pos-${stamp(7)}.sqlite`, `pos-${stamp(7)}.sqlite.manifest.json`]);
    expect(s.history.pendingUploads('pos')).toEqual([]);
    expect(s.history.lastOf('pos', 'failure')?.reason).toMatch(/stayed locked/);
  });
});

describe('copy folder on a drive or share that is not mounted', () => {
  it('job setup creates the folder and its marker; a file or a missing parent is refused', async () => {
    const s = setup();
    const nas = join(s.dir, 'mnt', 'nas');
    await expect(prepareCopyFolder(nas)).rejects.toThrow(/cannot be created: .*mnt does not exist/);
    mkdirSync(join(s.dir, 'mnt'));
    await prepareCopyFolder(nas);
    expect(readdirSync(nas)).toEqual([FOLDER_MARKER]);
    writeFileSync(join(s.dir, 'a-file'), 'x');
    await expect(prepareCopyFolder(join(s.dir, 'a-file'))).rejects.toThrow(/is a file, not a folder/);
  });

  it('an empty mount point without the marker is refused and nothing lands on the local disk; a missing folder is not created', async () => {
    const s = setup();
    const file = backup(s.local, 3);
    const mountPoint = join(s.dir, 'mnt', 'nas');
    mkdirSync(mountPoint, { recursive: true });
    const err = await new FolderDestination(mountPoint).put(file, 'pos.sqlite', sha256(file)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LifeboatError);
    expect((err as LifeboatError).message).toMatch(/is there but is not the one Lifeboat set up .*probably not mounted/);
    expect((err as LifeboatError).hint).toMatch(/Mount the drive or share\. If it is mounted and this is the right folder, mark it with `lifeboat job mark-copy-folder .*mnt\/nas`/);
    expect(readdirSync(mountPoint)).toEqual([]);
    const below = join(mountPoint, 'pos');
    await expect(new FolderDestination(below).put(file, 'pos.sqlite', sha256(file))).rejects.toThrow(/cannot be reached/);
    expect(existsSync(below)).toBe(false);
  });

  it('a folder that already holds Lifeboat backups (set up before the marker) is adopted', async () => {
    const s = setup();
    const old = join(s.dir, 'old-nas');
    mkdirSync(old);
    backup(old, 1);
    const file = backup(s.local, 2);
    await new FolderDestination(old).put(file, 'pos-copy.sqlite', sha256(file));
    expect(readdirSync(old)).toContain(FOLDER_MARKER);
    expect(readdirSync(old)).toContain('pos-copy.sqlite');
  });
});

describe('copy folder under an fstab mount point that is not mounted', () => {
  it('is refused even with the marker and old backups there, and nothing is written; setting it up is refused too', async () => {
    const s = setup();
    const mnt = join(s.dir, 'mnt', 'nas');
    const folder = join(mnt, 'pos');
    mkdirSync(mnt, { recursive: true });
    await prepareCopyFolder(folder);
    backup(folder, 1);
    const before = readdirSync(folder).sort();
    const tables = { fstab: `//nas/backups ${mnt} cifs _netdev 0 0\n`, mountinfo: '22 1 0:1 / / rw - ext4 /dev/x rw\n' };
    const file = backup(s.local, 2);
    const err = await new FolderDestination(folder, tables).put(file, 'pos-copy.sqlite', sha256(file)).catch((e: unknown) => e);
    expect((err as LifeboatError).message).toMatch(/is on .*mnt\/nas, which \/etc\/fstab mounts but is not mounted now/);
    expect((err as LifeboatError).hint).toMatch(/Mount it \(e\.g\. `mount .*mnt\/nas`\)/);
    expect(readdirSync(folder).sort()).toEqual(before);
    await expect(prepareCopyFolder(join(mnt, 'other'), tables)).rejects.toThrow(/not mounted now/);
    expect(existsSync(join(mnt, 'other'))).toBe(false);
    const mounted = { ...tables, mountinfo: `${tables.mountinfo}23 22 0:2 / ${mnt} rw - cifs //nas/backups rw\n` };
    await new FolderDestination(folder, mounted).put(file, 'pos-copy.sqlite', sha256(file));
    expect(readdirSync(folder)).toContain('pos-copy.sqlite');
  });
});
