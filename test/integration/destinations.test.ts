import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_JOB_FIELDS, type Job } from '../../agent/config/job.js';
import { checkPosConsistency } from '../../agent/demo/pos-schema.js';
import { FOLDER_MARKER, FolderDestination, prepareCopyFolder } from '../../agent/destinations/folder.js';
import { TokenStore } from '../../agent/destinations/gdrive/token-store.js';
import { LifeboatError } from '../../agent/engine/errors.js';
import { FakeDrive } from '../../tools/fake-drive.js';
import { CLI, makePosDb, runCli, sleep, tempDir } from '../helpers/fixtures.js';

const t = tempDir('destinations');
const db = join(t.dir, 'pos.db');
const fake = new FakeDrive();
const home = join(t.dir, 'home');
const local = join(t.dir, 'local');
const nas = join(t.dir, 'nas');
const passFile = join(t.dir, 'pass.txt');
let agent: ChildProcess | null = null;
let agentOut = '';
const env = { env: { LIFEBOAT_HOME: home, LIFEBOAT_PASSPHRASE: '' } };

function writeJob(over: Partial<Job> = {}): void {
  const job: Job = {
    ...structuredClone(DEFAULT_JOB_FIELDS), id: 'pos', name: 'POS', db, schedule: { cron: '0 3 * * *', timezone: 'UTC' },
    destinations: [{ kind: 'folder', path: local }, { kind: 'folder', path: nas, gzip: true, encrypt: true }, { kind: 'gdrive', gzip: true }],
    quietSeconds: 0, createdAt: new Date().toISOString(), ...over,
  };
  writeFileSync(join(home, 'config.json'), JSON.stringify({
    jobs: [job],
    settings: { catchUpDelaySeconds: 3600, drive: { clientId: 'test.apps.googleusercontent.com', clientSecret: 'x', apiRootUrl: `${fake.url}/`, tokenUrl: `${fake.url}/token`, authUrl: `${fake.url}/auth` } },
  }, null, 2));
}

async function nowWait(): Promise<Record<string, unknown>> {
  const r = await runCli(['now', 'pos', '--wait', '--json'], { ...env, timeoutMs: 60_000 });
  expect(r.code).toBe(0);
  return r.json;
}

async function lastRun(): Promise<{ outcome: string; warnings: string[]; file: string }> {
  const h = await runCli(['history', '--json', '--limit', '1'], env);
  return (h.json.runs as Array<{ outcome: string; warnings: string[]; file: string }>)[0] as { outcome: string; warnings: string[]; file: string };
}

beforeAll(async () => {
  await fake.start();
  makePosDb(db, 4 << 20, 'wal');
  mkdirSync(home, { recursive: true });
  await prepareCopyFolder(nas);
  writeFileSync(join(home, 'passphrase'), 'correct horse battery staple\n', { mode: 0o600 });
  writeFileSync(passFile, 'correct horse battery staple\n');
  new TokenStore(home).write({ refresh_token: 'good-refresh' });
  writeJob();
  agent = spawn(process.execPath, [CLI, 'start', '--headless'], { env: { ...process.env, LIFEBOAT_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  agent.stderr?.on('data', (d: Buffer) => (agentOut += d.toString()));
  for (let i = 0; i < 100 && !agentOut.includes('agent running'); i++) await sleep(100);
});
afterAll(async () => {
  agent?.kill('SIGTERM');
  await new Promise((r) => (agent?.exitCode !== null ? r(null) : agent?.once('exit', r)));
  await fake.stop();
  t.cleanup();
});

describe('off-site copies through the one pipeline (real agent process; Google Drive is a local stand-in on 127.0.0.1)', () => {
  it('one run stores the backup locally, gzip+encrypted on the NAS folder and gzipped on Drive, each with its manifest', async () => {
    await nowWait();
    const run = await lastRun();
    expect(run).toMatchObject({ outcome: 'success', warnings: [] });
    const name = run.file.split('/').pop() ?? '';
    expect(readdirSync(local).sort()).toEqual([name, `${name}.manifest.json`]);
    expect(JSON.parse(readFileSync(join(local, `${name}.manifest.json`), 'utf8'))).toMatchObject({ jobId: 'pos', source: { path: db }, hostname: hostname() });
    expect(readdirSync(nas).sort()).toEqual([FOLDER_MARKER, `${name}.gz.enc`, `${name}.gz.enc.manifest.json`]);
    const driveFiles = fake.filesIn('pos').map((f) => f.name).sort();
    expect(driveFiles).toEqual([`${name}.gz`, `${name}.gz.manifest.json`]);
    expect(fake.filesIn(hostname()).length).toBeGreaterThan(0);
    // The encrypted copy holds no plaintext SQLite header.
    expect(readFileSync(join(nas, `${name}.gz.enc`)).includes(Buffer.from('SQLite format 3'))).toBe(false);
  });

  it('an encrypted copy restores with the passphrase, and a wrong one is a clear error (exit 5)', async () => {
    const enc = readdirSync(nas).find((n) => n.endsWith('.enc')) ?? '';
    const target = join(t.dir, 'restored.db');
    const wrong = join(t.dir, 'wrong.txt');
    writeFileSync(wrong, 'not the passphrase\n');
    const bad = await runCli(['restore', '--from', join(nas, enc), '--to', target, '--passphrase-file', wrong], env);
    expect(bad.code).toBe(5);
    expect(bad.stderr).toMatch(/wrong passphrase, or the file was damaged/);
    expect(existsSync(target)).toBe(false);
    const ok = await runCli(['restore', '--from', join(nas, enc), '--to', target, '--passphrase-file', passFile, '--json'], env);
    expect(ok.code).toBe(0);
    expect(checkPosConsistency(target).broken).toBe(0);
    const v = await runCli(['verify', join(nas, enc), '--passphrase-file', passFile], env);
    expect(v.code).toBe(0);
  });

  it('Drive access revoked: the run still succeeds locally, warns "reconnect", keeps the upload pending, and catches up once reconnected', async () => {
    new TokenStore(home).write({ refresh_token: 'revoked-refresh', access_token: undefined, expiry_date: 0 });
    const before = fake.filesIn('pos').length;
    const reply = await nowWait();
    expect(JSON.stringify(reply.results)).toMatch(/"warnings":\[".*Reconnect Google Drive/);
    const run = await lastRun();
    expect(run.outcome).toBe('success');
    expect(run.warnings.join('\n')).toMatch(/Google Drive.*expired or was revoked.*lifeboat drive login/);
    const status = await runCli(['status', '--json'], env);
    expect(status.json).toMatchObject({ jobs: [{ id: 'pos', pendingUploads: 1 }] });
    expect(fake.filesIn('pos').length).toBe(before);

    new TokenStore(home).write({ refresh_token: 'good-refresh' });
    await nowWait();
    const after = await lastRun();
    expect(after.warnings).toEqual([]);
    // The pending copy and the new one both arrived (two files, two manifests).
    expect(fake.filesIn('pos').length).toBe(before + 4);
    expect((await runCli(['status', '--json'], env)).json).toMatchObject({ jobs: [{ id: 'pos', pendingUploads: 0 }] });
  });

  it('an unplugged copy drive is a warning, not a failed run', async () => {
    rmSync(nas, { recursive: true, force: true });
    const gone = join(t.dir, 'unplugged', 'nas');
    writeJob({ destinations: [{ kind: 'folder', path: local }, { kind: 'folder', path: gone }] });
    await runCli(['status'], env);
    await sleep(500);
    const human = await runCli(['now', 'pos', '--wait'], { ...env, timeoutMs: 60_000 });
    expect(human.code).toBe(0);
    expect(human.stderr).toMatch(/pos: backup OK → .*\npos: warning: Copy .*cannot be reached/);
    const run = await lastRun();
    expect(run.outcome).toBe('success');
    expect(run.warnings.join('\n')).toMatch(/cannot be reached \(its drive or network share is not there\)/);
    expect(existsSync(gone)).toBe(false);
  });
});

describe('folder destination', () => {
  it('a path that disappears mid-copy: a clear error, nothing half-written under the final name', async () => {
    const src = join(t.dir, 'big.bin');
    writeFileSync(src, Buffer.alloc(40 << 20, 7));
    const target = join(t.dir, 'vanishing');
    await prepareCopyFolder(target);
    const d = new FolderDestination(target);
    let removed = false;
    const err = await d.put(src, 'pos-2026-11-26T230000Z.sqlite', 'x', (done) => {
      if (!removed && done > 8 << 20) {
        removed = true;
        rmSync(target, { recursive: true, force: true });
      }
    }).catch((e: unknown) => e);
    expect(removed).toBe(true);
    expect(err).toBeInstanceOf(LifeboatError);
    expect((err as LifeboatError).kind).toBe('destination');
    expect(existsSync(join(target, 'pos-2026-11-26T230000Z.sqlite'))).toBe(false);
  });
});

describe('prune', () => {
  it('--dry-run shows what would go; only files with this job\'s Lifeboat manifest are ever candidates', async () => {
    const dir = join(t.dir, 'prune-local');
    mkdirSync(dir);
    const m = (file: string): string => JSON.stringify({
      format: 'lifeboat-backup', formatVersion: 1, file, sha256: 'x', source: { path: db }, hostname: hostname(), check: { level: 'quick', ok: true, durationMs: 1 },
    });
    for (let i = 1; i <= 12; i++) {
      const name = `pos-2026-10-${String(i).padStart(2, '0')}T230000Z.sqlite`;
      writeFileSync(join(dir, name), 'db');
      writeFileSync(join(dir, `${name}.manifest.json`), m(name));
    }
    writeFileSync(join(dir, 'pos-2026-09-01T230000Z.sqlite'), 'not ours: no manifest');
    writeFileSync(join(dir, 'pos-2026-09-02T230000Z.sqlite'), 'made on the old PC');
    writeFileSync(join(dir, 'pos-2026-09-02T230000Z.sqlite.manifest.json'), m('pos-2026-09-02T230000Z.sqlite').replace(hostname(), 'old-till'));
    writeFileSync(join(dir, 'notes.txt'), 'hello');
    const phome = join(t.dir, 'prune-home');
    mkdirSync(phome);
    writeFileSync(join(phome, 'config.json'), JSON.stringify({ jobs: [{
      ...structuredClone(DEFAULT_JOB_FIELDS), id: 'pos', name: 'POS', db, schedule: { cron: '0 3 * * *' }, destinations: [{ kind: 'folder', path: dir }],
      retention: { keepLast: 3, daily: 0, weekly: 0, monthly: 0, maxAgeDays: null }, createdAt: '2026-10-01T00:00:00Z',
    }], settings: {} }));
    const dry = await runCli(['prune', '--dry-run', '--json'], { env: { LIFEBOAT_HOME: phome } });
    expect(dry.code).toBe(0);
    const plan = (dry.json.jobs as Array<{ destinations: Array<{ plan: { keep: Array<{ name: string }>; remove: string[] } }> }>)[0]?.destinations[0]?.plan;
    expect(plan?.keep.map((k) => k.name)).toEqual(['pos-2026-10-12T230000Z.sqlite', 'pos-2026-10-11T230000Z.sqlite', 'pos-2026-10-10T230000Z.sqlite']);
    expect(plan?.remove).toHaveLength(9);
    expect(dry.stderr).toMatch(/left alone pos-2026-09-02T230000Z\.sqlite  \(it was made on old-till; delete it by hand when it is no longer needed\)/);
    expect(readdirSync(dir)).toHaveLength(12 * 2 + 4);
    const real = await runCli(['prune'], { env: { LIFEBOAT_HOME: phome } });
    expect(real.code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual([
      'notes.txt', 'pos-2026-09-01T230000Z.sqlite', 'pos-2026-09-02T230000Z.sqlite', 'pos-2026-09-02T230000Z.sqlite.manifest.json',
      'pos-2026-10-10T230000Z.sqlite', 'pos-2026-10-10T230000Z.sqlite.manifest.json',
      'pos-2026-10-11T230000Z.sqlite', 'pos-2026-10-11T230000Z.sqlite.manifest.json',
      'pos-2026-10-12T230000Z.sqlite', 'pos-2026-10-12T230000Z.sqlite.manifest.json',
    ]);
  });
});
