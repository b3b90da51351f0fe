import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { authorizedClient, loginFlow } from '../../agent/destinations/gdrive/auth.js';
import { DriveDestination } from '../../agent/destinations/gdrive/drive-destination.js';
import { MAX_RETRY_AFTER_MS, retryAfterMs, type UploadOptions } from '../../agent/destinations/gdrive/resumable.js';
import { driveSettings, type DriveSettings } from '../../agent/destinations/gdrive/settings.js';
import { TokenStore } from '../../agent/destinations/gdrive/token-store.js';
import { encryptFile } from '../../agent/engine/crypto.js';
import { LifeboatError } from '../../agent/engine/errors.js';
import { FakeDrive } from '../../tools/fake-drive.js';
import { makePosDb, runCli, sha256, tempDir } from '../helpers/fixtures.js';
import { checkPosConsistency } from '../../agent/demo/pos-schema.js';

const t = tempDir('gdrive');
const fake = new FakeDrive();
let settings: DriveSettings;
const file = join(t.dir, 'pos-2026-11-26T230000Z.sqlite');
const CONTENT = randomBytes(3 * 1024 * 1024 + 12345);
const md5 = createHash('md5').update(CONTENT).digest('hex');

beforeAll(async () => {
  const url = await fake.start();
  settings = driveSettings({}, { clientId: 'test-client.apps.googleusercontent.com', clientSecret: 'shh', apiRootUrl: `${url}/`, tokenUrl: `${url}/token`, authUrl: `${url}/auth` }) as DriveSettings;
  writeFileSync(file, CONTENT);
});
afterAll(async () => {
  await fake.stop();
  t.cleanup();
});
afterEach(() => {
  Object.assign(fake.faults, { dropAfterBytes: undefined, dropAfterPuts: undefined, dropDownloadOver: undefined, corruptDownloadOver: undefined, putFaults: undefined, openFaults: undefined, queryFaults: undefined, wrongMd5: false, quotaExceeded: false });
});

const CHUNK = 1024 * 1024;
let n = 0;

/** A destination in its own LIFEBOAT_HOME (or HOME's), whose waits are recorded in `delays` instead of slept. */
function destination(o: { refreshToken?: string; home?: string; folder?: string; upload?: UploadOptions } = {}): DriveDestination & { delays: number[]; home: string } {
  const home = o.home ?? join(t.dir, `home-${++n}`);
  mkdirSync(home, { recursive: true });
  const store = new TokenStore(home);
  store.write({ refresh_token: o.refreshToken ?? 'good-refresh' });
  const auth = authorizedClient(settings, store);
  if (!auth) throw new Error('no client');
  const delays: number[] = [];
  const d = new DriveDestination({
    auth, rootUrl: settings.apiRootUrl, folderPath: ['Lifeboat', 'till-1', o.folder ?? 'pos'], stateFile: join(home, 'drive-state.json'),
    upload: { chunkBytes: CHUNK, baseDelayMs: 100, sleep: async (ms) => void delays.push(ms), ...o.upload },
  });
  return Object.assign(d, { delays, home });
}

/** The numbers a test wants from Math.random, in turn. */
const sequence = (values: number[]): (() => number) => {
  let i = 0;
  return () => values[i++ % values.length] ?? 0;
};

/** The data PUTs of the upload session opened most recently. */
const lastSessionPuts = (): typeof fake.stats.dataPuts => {
  const session = fake.stats.dataPuts.at(-1)?.session;
  return fake.stats.dataPuts.filter((p) => p.session === session);
};

describe('Google Drive destination: the real @googleapis/drive and google-auth-library clients against a local Drive v3 stand-in on 127.0.0.1', () => {
  it('uploads with a resumable session into a folder per machine and database, and the md5 matches', async () => {
    const d = destination();
    const obj = await d.put(file, 'pos-2026-11-26T230000Z.sqlite', 'unused');
    expect(obj.bytes).toBe(CONTENT.length);
    const stored = fake.files.get(obj.id);
    expect(stored?.md5).toBe(md5);
    expect(stored?.content.equals(CONTENT)).toBe(true);
    const folders = [...fake.files.values()].filter((f) => f.mimeType.endsWith('folder')).map((f) => f.name);
    expect(folders).toEqual(['Lifeboat', 'till-1', 'pos']);
    // A second upload finds the folder again by its remembered id instead of making another.
    await d.put(file, 'pos-2026-11-27T230000Z.sqlite', 'unused');
    expect([...fake.files.values()].filter((f) => f.mimeType.endsWith('folder'))).toHaveLength(3);
    expect((await d.list()).map((f) => f.name).sort()).toEqual(['pos-2026-11-26T230000Z.sqlite', 'pos-2026-11-27T230000Z.sqlite']);
  });

  it.each([
    { where: 'in the first chunk', dropAfterPuts: 0, committed: 512 * 1024 },
    { where: 'in the middle of the file', dropAfterPuts: 2, committed: 2 * CHUNK + 512 * 1024 },
  ])('a connection dropped $where resumes at exactly the offset the server committed, not from byte 0', async ({ dropAfterPuts, committed }) => {
    const d = destination();
    await d.folder();
    const before = fake.stats.bytesReceived;
    const drops = fake.stats.drops.length;
    // Part of a 1 MiB chunk arrives (600 KiB, of which Drive commits whole 256 KiB units), then the line drops.
    Object.assign(fake.faults, { dropAfterPuts, dropAfterBytes: 600 * 1024 });
    const obj = await d.put(file, `dropped-${dropAfterPuts}.sqlite`, 'unused');
    expect(fake.files.get(obj.id)?.content.equals(CONTENT)).toBe(true);

    expect(fake.stats.drops.length).toBe(drops + 1);
    const drop = fake.stats.drops.at(-1);
    expect(drop?.committed).toBe(committed);
    const puts = fake.stats.dataPuts;
    const next = puts.slice((drop?.dataPut ?? 0) + 1).find((p) => p.session === drop?.session);
    // The first data PUT after the drop starts where the server stands: no byte the server had is sent again.
    expect(next).toMatchObject({ start: committed, committed, outcome: 'stored' });
    expect(lastSessionPuts().filter((p) => p.outcome === 'wrong-offset')).toEqual([]);
    // Everything the server received, wasted bytes included: the file once, plus at most the chunk the drop cut.
    expect(fake.stats.bytesReceived - before).toBeLessThanOrEqual(CONTENT.length + CHUNK);
    expect(d.delays).toHaveLength(1);
  });

  it('429 and 503 on data PUTs are retried with backoff, after asking the server where it stands', async () => {
    const d = destination();
    fake.faults.putFaults = [429, 503, 503, 429];
    const obj = await d.put(file, 'bursty.sqlite', 'unused');
    expect(fake.files.get(obj.id)?.md5).toBe(md5);
    expect(fake.faults.putFaults).toEqual([]);
    expect(d.delays).toHaveLength(4);
  });

  it('429 and 503 on the session-opening POST and on the status query are retried too', async () => {
    const d = destination();
    await d.folder();
    const opens = fake.stats.sessionOpens;
    const queries = fake.stats.statusQueries;
    Object.assign(fake.faults, { openFaults: [429, 503], putFaults: [503], queryFaults: [429, 503] });
    const obj = await d.put(file, 'bursty-open.sqlite', 'unused');
    expect(fake.files.get(obj.id)?.md5).toBe(md5);
    expect(fake.stats.sessionOpens - opens).toBe(3);
    expect(fake.stats.statusQueries - queries).toBe(3);
    expect([fake.faults.openFaults, fake.faults.queryFaults]).toEqual([[], []]);
    // Two waits opening, one after the refused chunk, two for the refused status queries.
    expect(d.delays).toHaveLength(5);
  });

  it('backoff grows exponentially with jitter: each wait is in [base*2^(n-1)/2, base*2^(n-1)], and other random numbers give other waits', async () => {
    const runs: number[][] = [];
    for (const random of [sequence([0.9, 0.1, 0.6, 0.3, 0.8]), sequence([0.2, 0.7, 0.05, 0.95, 0.4])]) {
      const d = destination({ upload: { random } });
      await d.folder();
      fake.faults.openFaults = [503, 503, 429, 503, 503];
      await d.put(file, `backoff-${runs.length}.sqlite`, 'unused');
      runs.push(d.delays);
    }
    for (const delays of runs) {
      expect(delays).toHaveLength(5);
      delays.forEach((ms, i) => {
        const cap = 100 * 2 ** i;
        expect(ms).toBeGreaterThanOrEqual(cap / 2);
        expect(ms).toBeLessThanOrEqual(cap);
        if (i > 0) expect(ms).toBeGreaterThanOrEqual(delays[i - 1] ?? 0);
      });
      expect(delays[4]).toBeGreaterThan(4 * (delays[0] ?? 0));
    }
    expect(runs[0]).not.toEqual(runs[1]);
  });

  it('a 403 with reason rateLimitExceeded or userRateLimitExceeded is retried, and Retry-After (seconds or a date) is honoured up to a cap', async () => {
    const d = destination();
    await d.folder();
    fake.faults.openFaults = [{ status: 403, reason: 'rateLimitExceeded', retryAfter: '7' }, { status: 403, reason: 'userRateLimitExceeded', retryAfter: '100000' }];
    fake.faults.putFaults = [{ status: 403, reason: 'userRateLimitExceeded' }];
    fake.faults.queryFaults = [{ status: 429, retryAfter: '2' }];
    const obj = await d.put(file, 'rate-limited.sqlite', 'unused');
    expect(fake.files.get(obj.id)?.md5).toBe(md5);
    // 7 s as asked; 100000 s capped; the data PUT's 403 without Retry-After backs off; the query's 429 waits 2 s.
    expect(d.delays).toHaveLength(4);
    expect(d.delays.slice(0, 2)).toEqual([7000, MAX_RETRY_AFTER_MS]);
    expect(d.delays[2]).toBeGreaterThanOrEqual(50);
    expect(d.delays[2]).toBeLessThanOrEqual(100);
    expect(d.delays[3]).toBe(2000);
    const now = Date.parse('2026-11-26T23:00:00Z');
    expect(retryAfterMs('Thu, 26 Nov 2026 23:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Thu, 26 Nov 2026 22:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBeUndefined();
  });

  it.each([
    { reason: 'storageQuotaExceeded', kind: 'destination', says: /Google Drive is full/ },
    { reason: 'insufficientPermissions', kind: 'auth', says: /insufficient permissions.*lifeboat drive login/ },
  ])('a 403 with reason $reason is final: no retry, no wait', async ({ reason, kind, says }) => {
    for (const where of ['openFaults', 'putFaults'] as const) {
      const d = destination();
      await d.folder();
      const opens = fake.stats.sessionOpens;
      const queries = fake.stats.statusQueries;
      fake.faults[where] = [{ status: 403, reason }];
      const err = (await d.put(file, `refused-${reason}.sqlite`, 'unused').catch((e: unknown) => e)) as LifeboatError;
      expect(err).toBeInstanceOf(LifeboatError);
      expect(err.kind).toBe(kind);
      expect(err.toLine()).toMatch(says);
      expect(d.delays).toEqual([]);
      expect(fake.stats.sessionOpens - opens).toBe(1);
      expect(fake.stats.statusQueries - queries).toBe(0);
    }
  });

  it('an upload cut off on one run goes on from the committed offset on the next, through the session kept in LIFEBOAT_HOME', async () => {
    const firstRun = destination({ folder: 'resumed', upload: { maxRetries: 0 } });
    await firstRun.folder();
    // One chunk arrives whole; the line drops at the start of the second, and this run has no retries left.
    Object.assign(fake.faults, { dropAfterPuts: 1, dropAfterBytes: 0 });
    const err = (await firstRun.put(file, 'across-runs.sqlite', 'sha-of-the-file').catch((e: unknown) => e)) as LifeboatError;
    expect(err).toBeInstanceOf(LifeboatError);
    const kept = JSON.parse(readFileSync(join(firstRun.home, 'drive-uploads.json'), 'utf8')) as Record<string, { uri: string }>;
    expect(Object.values(kept)).toHaveLength(1);
    expect(statSync(join(firstRun.home, 'drive-uploads.json')).mode & 0o777).toBe(0o600);

    const opens = fake.stats.sessionOpens;
    const before = fake.stats.bytesReceived;
    const firstPut = fake.stats.dataPuts.length;
    const nextRun = destination({ home: firstRun.home, folder: 'resumed' });
    const obj = await nextRun.put(file, 'across-runs.sqlite', 'sha-of-the-file');
    expect(fake.files.get(obj.id)?.content.equals(CONTENT)).toBe(true);
    expect(fake.stats.sessionOpens - opens).toBe(0);
    expect(fake.stats.dataPuts[firstPut]).toMatchObject({ start: CHUNK, committed: CHUNK, outcome: 'stored' });
    expect(fake.stats.bytesReceived - before).toBe(CONTENT.length - CHUNK);
    // Done: nothing is left to resume.
    expect(JSON.parse(readFileSync(join(firstRun.home, 'drive-uploads.json'), 'utf8'))).toEqual({});
  });

  it('a kept session Drive no longer knows (404) is given up for a new one; another file\'s session is never used', async () => {
    const firstRun = destination({ folder: 'expired', upload: { maxRetries: 0 } });
    await firstRun.folder();
    Object.assign(fake.faults, { dropAfterPuts: 1, dropAfterBytes: 0 });
    await expect(firstRun.put(file, 'expired.sqlite', 'sha-a')).rejects.toBeInstanceOf(LifeboatError);
    const stale = fake.stats.dataPuts.at(-1)?.session ?? '';
    expect(fake.sessions.get(stale)?.offset).toBe(CHUNK);

    // The same path and size with another SHA-256 is another file: a new session from byte 0.
    let opens = fake.stats.sessionOpens;
    let firstPut = fake.stats.dataPuts.length;
    await destination({ home: firstRun.home, folder: 'expired' }).put(file, 'expired.sqlite', 'sha-b');
    expect(fake.stats.sessionOpens - opens).toBe(1);
    expect(fake.stats.dataPuts[firstPut]).toMatchObject({ start: 0 });
    expect(fake.stats.dataPuts[firstPut]?.session).not.toBe(stale);

    fake.sessions.delete(stale); // a week later, Drive has forgotten it
    opens = fake.stats.sessionOpens;
    firstPut = fake.stats.dataPuts.length;
    const queries = fake.stats.statusQueries;
    const obj = await destination({ home: firstRun.home, folder: 'expired' }).put(file, 'expired.sqlite', 'sha-a');
    expect(fake.files.get(obj.id)?.content.equals(CONTENT)).toBe(true);
    expect(fake.stats.statusQueries - queries).toBe(1);
    expect(fake.stats.sessionOpens - opens).toBe(1);
    expect(fake.stats.dataPuts[firstPut]).toMatchObject({ start: 0, outcome: 'stored' });
  });

  it('a wrong md5Checksum is a failed upload, and the bad copy is deleted', async () => {
    const d = destination();
    fake.faults.wrongMd5 = true;
    const err = await d.put(file, 'garbled.sqlite', 'unused').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LifeboatError);
    expect((err as LifeboatError).message).toMatch(/does not match the backup \(MD5/);
    expect([...fake.files.values()].some((f) => f.name === 'garbled.sqlite')).toBe(false);
  });

  it('an expired or revoked refresh token (invalid_grant) says to reconnect Google Drive', async () => {
    const d = destination({ refreshToken: 'revoked-refresh' });
    const err = (await d.put(file, 'x.sqlite', 'unused').catch((e: unknown) => e)) as LifeboatError;
    expect(err.kind).toBe('auth');
    expect(err.toLine()).toMatch(/expired or was revoked.*lifeboat drive login.*publish it/);
  });

  it('quota exceeded (storageQuotaExceeded) says Drive is full', async () => {
    const d = destination();
    await d.folder();
    fake.faults.quotaExceeded = true;
    const err = (await d.put(file, 'big.sqlite', 'unused').catch((e: unknown) => e)) as LifeboatError;
    expect(err.kind).toBe('destination');
    expect(err.toLine()).toMatch(/Google Drive is full/);
  });

  it('reads back and deletes', async () => {
    const d = destination();
    await d.put(file, 'readback.sqlite', 'unused');
    const back = join(t.dir, 'readback.sqlite');
    await d.get('readback.sqlite', back);
    expect(readFileSync(back).equals(CONTENT)).toBe(true);
    await d.delete('readback.sqlite');
    expect((await d.list()).some((f) => f.name === 'readback.sqlite')).toBe(false);
  });

  it('a prune (one listing, then many deletes) lists the folder once, not once per file', async () => {
    const first = destination({ folder: 'pruned' });
    const small = join(t.dir, 'small.sqlite');
    writeFileSync(small, 'a small backup');
    const names = Array.from({ length: 6 }, (_, i) => `pos-2026-11-${10 + i}T230000Z.sqlite`);
    for (const name of names) {
      await first.put(small, name, 'unused');
      await first.put(small, `${name}.manifest.json`, 'unused');
    }
    // As pruneJob does: a destination opened for the prune (the folder found again by its remembered id), one list, then a delete per file and manifest.
    const d = destination({ home: first.home, folder: 'pruned' });
    const lists = fake.stats.listRequests;
    const objects = await d.list();
    expect(objects).toHaveLength(12);
    for (const name of names) {
      await d.delete(name);
      await d.delete(`${name}.manifest.json`);
    }
    expect(fake.stats.listRequests - lists).toBe(1);
    expect(await d.list()).toEqual([]);
  });

  it('a cached id that Drive no longer knows is looked up again once, and a name not on Drive says so', async () => {
    const d = destination();
    const small = join(t.dir, 'small.sqlite');
    writeFileSync(small, 'a small backup');
    await d.put(small, 'replaced.sqlite', 'unused');
    await d.list();
    // Someone else replaces the file behind this destination's back: same name, new id.
    const other = destination({ home: d.home });
    await other.delete('replaced.sqlite');
    const again = await other.put(small, 'replaced.sqlite', 'unused');
    await d.delete('replaced.sqlite');
    expect(fake.files.has(again.id)).toBe(false);
    const err = (await d.delete('never-there.sqlite').catch((e: unknown) => e)) as LifeboatError;
    expect(err.kind).toBe('source');
    expect(err.message).toMatch(/never-there\.sqlite is not on Google Drive/);
  });

  it('drive login: loopback redirect on 127.0.0.1, PKCE checked by the token endpoint, tokens stored 0600', async () => {
    const home = join(t.dir, 'login-home');
    mkdirSync(home, { recursive: true });
    const store = new TokenStore(home);
    const lines: string[] = [];
    const done = loginFlow(settings, store, {
      openBrowser: false,
      say: (l) => {
        lines.push(l);
        // Play the browser: follow the printed address; the stand-in consents and redirects back.
        const url = /https?:\/\/\S+/.exec(l)?.[0];
        if (url) void fetch(url, { redirect: 'follow' });
      },
    });
    await done;
    expect(lines.join('\n')).toMatch(/code_challenge_method=S256/);
    expect(lines.join('\n')).toMatch(/redirect_uri=http%3A%2F%2F127\.0\.0\.1%3A\d+/);
    expect(lines.join('\n')).toMatch(/scope=https%3A%2F%2Fwww\.googleapis\.com%2Fauth%2Fdrive\.file/);
    expect(store.read()?.refresh_token).toBe('good-refresh');
    expect(statSync(store.path).mode & 0o777).toBe(0o600);
  });

  describe('the drive commands (the built CLI, configured for the stand-in)', () => {
    /** A LIFEBOAT_HOME with the stand-in's endpoints set by `drive setup` and the given tokens stored. */
    async function cliHome(tokens: Record<string, unknown>, revokeUrl?: string): Promise<{ home: string; env: NodeJS.ProcessEnv; store: TokenStore }> {
      const home = join(t.dir, `cli-home-${++n}`);
      mkdirSync(home, { recursive: true });
      const env = { LIFEBOAT_HOME: home };
      const setup = await runCli(['drive', 'setup', '--client-id', settings.clientId, '--client-secret', 'shh', '--api-url', settings.apiRootUrl,
        '--token-url', settings.tokenUrl, '--auth-url', settings.authUrl, ...(revokeUrl ? ['--revoke-url', revokeUrl] : [])], { env });
      expect(setup.code, setup.stderr).toBe(0);
      const store = new TokenStore(home);
      store.write(tokens);
      return { home, env, store };
    }

    /** A real backup (with its manifest) of a fresh POS database, made by the built CLI. */
    async function realBackup(label: string): Promise<string> {
      const db = join(t.dir, `${label}.db`);
      makePosDb(db, 1 << 20, 'wal');
      const made = await runCli(['backup', '--db', db, '--dest', join(t.dir, `${label}-local`), '--json']);
      expect(made.code, made.stderr).toBe(0);
      return made.json.file as string;
    }

    it('a new PC lists another PC\'s backups on Drive, fetches the newest complete one with its manifest, verifies it, and it restores', async () => {
      const backup = await realBackup('fetch-src');
      const name = basename(backup);
      const old = destination({ folder: 'fetch-job' });
      await old.put(backup, name, sha256(backup));
      await old.put(`${backup}.manifest.json`, `${name}.manifest.json`, sha256(`${backup}.manifest.json`));
      const unfinished = 'fetch-src-2099-01-01T000000Z.sqlite'; // newer, but its manifest never arrived
      await old.put(backup, unfinished, sha256(backup));

      const { env } = await cliHome({ refresh_token: 'good-refresh' });
      const list = await runCli(['drive', 'list', '--job', 'fetch-job', '--json'], { env });
      expect(list.code, list.stderr).toBe(0);
      expect((list.json.backups as Array<{ host: string; name: string; complete: boolean }>).map((b) => [b.host, b.name, b.complete]))
        .toEqual([['till-1', unfinished, false], ['till-1', name, true]]);

      const to = join(t.dir, 'fetched');
      const fetched = await runCli(['drive', 'fetch', '--to', to, '--host', 'till-1', '--job', 'fetch-job'], { env });
      expect(fetched.code, fetched.stderr).toBe(0);
      expect(fetched.stderr).toMatch(/Fetched and verified: .*fetched.*Restore it with: lifeboat restore --from/s);
      expect(readFileSync(join(to, name)).equals(readFileSync(backup))).toBe(true);
      const target = join(t.dir, 'restored-from-drive.db');
      const restored = await runCli(['restore', '--from', join(to, name), '--to', target], { env });
      expect(restored.code, restored.stderr).toBe(0);
      expect(checkPosConsistency(target).broken).toBe(0);

      // A line that drops mid-download leaves nothing behind that blocks the next try.
      const dropTo = join(t.dir, 'fetched-dropped');
      fake.faults.dropDownloadOver = 1 << 20;
      const dropped = await runCli(['drive', 'fetch', name, '--to', dropTo, '--job', 'fetch-job'], { env });
      expect(dropped.code, dropped.stderr).toBe(6);
      expect(readdirSync(dropTo)).toEqual([]);
      const retried = await runCli(['drive', 'fetch', name, '--to', dropTo, '--job', 'fetch-job'], { env });
      expect(retried.code, retried.stderr).toBe(0);
      expect(readdirSync(dropTo).sort()).toEqual([name, `${name}.manifest.json`]);
      expect(dropped.stderr).toMatch(/Nothing was kept; run the same `lifeboat drive fetch` again/);

      // A download that arrives damaged fails its check and is not kept.
      const badTo = join(t.dir, 'fetched-damaged');
      fake.faults.corruptDownloadOver = 1 << 20;
      const damaged = await runCli(['drive', 'fetch', name, '--to', badTo, '--job', 'fetch-job'], { env });
      expect(damaged.code).toBe(5);
      expect(damaged.stderr).toMatch(/arrived damaged \(.*SHA-256.*\), so it was not kept\. Fetch it again/);
      expect(readdirSync(badTo)).toEqual([]);

      const again = await runCli(['drive', 'fetch', name, '--to', to, '--job', 'fetch-job'], { env });
      expect(again.code).toBe(6);
      expect(again.stderr).toMatch(/exists already.*empty folder/);
      const half = await runCli(['drive', 'fetch', unfinished, '--to', join(t.dir, 'fetched-2'), '--job', 'fetch-job'], { env });
      expect(half.code).toBe(3);
      expect(half.stderr).toMatch(/no manifest on Google Drive, so its upload never finished/);
      expect(existsSync(join(t.dir, 'fetched-2', unfinished))).toBe(false);
    });

    it('fetching an encrypted copy asks for the passphrase before the download, and verifies with it', async () => {
      const backup = await realBackup('fetch-enc');
      const enc = `${backup}.enc`;
      const passFile = join(t.dir, 'fetch-pass');
      writeFileSync(passFile, 'correct horse battery staple\n');
      await encryptFile(backup, enc, 'correct horse battery staple');
      const digest = sha256(enc);
      const manifest = { ...JSON.parse(readFileSync(`${backup}.manifest.json`, 'utf8')) as Record<string, unknown>, file: basename(enc), sha256: digest, bytes: statSync(enc).size, encryption: 'aes-256-gcm' };
      writeFileSync(`${enc}.manifest.json`, JSON.stringify(manifest));
      const old = destination({ folder: 'fetch-enc' });
      await old.put(enc, basename(enc), digest);
      await old.put(`${enc}.manifest.json`, `${basename(enc)}.manifest.json`, sha256(`${enc}.manifest.json`));

      const { env } = await cliHome({ refresh_token: 'good-refresh' });
      const noPass = join(t.dir, 'fetch-enc-nopass');
      const refused = await runCli(['drive', 'fetch', '--to', noPass, '--job', 'fetch-enc'], { env: { ...env, LIFEBOAT_PASSPHRASE: '' } });
      expect(refused.code).toBe(7);
      expect(refused.stderr).toMatch(/No encryption passphrase is set/);
      expect(refused.stderr).not.toMatch(/Fetching/);
      expect(readdirSync(noPass)).toEqual([]);
      const wrongFile = join(t.dir, 'fetch-wrong-pass');
      writeFileSync(wrongFile, 'not the passphrase\n');
      const wrong = await runCli(['drive', 'fetch', '--to', noPass, '--job', 'fetch-enc', '--passphrase-file', wrongFile], { env: { ...env, LIFEBOAT_PASSPHRASE: '' } });
      expect(wrong.code).toBe(5);
      expect(wrong.stderr).toMatch(/the download is kept: .*\.enc\. Check it with `lifeboat verify .* --passphrase-file FILE`[\s\S]*wrong passphrase, or the file was damaged/);
      const kept = join(noPass, basename(enc));
      const verified = await runCli(['verify', kept, '--passphrase-file', passFile], { env });
      expect(verified.code, verified.stderr).toBe(0);
      const ok = await runCli(['drive', 'fetch', '--to', join(t.dir, 'fetch-enc-ok'), '--job', 'fetch-enc', '--passphrase-file', passFile], { env: { ...env, LIFEBOAT_PASSPHRASE: '' } });
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stderr).toMatch(/Fetched and verified: .*\.enc .*Restore it with: .*--passphrase-file FILE/s);
    });

    it('drive logout revokes the refresh token at the configured revoke URL (in the form body) and deletes the token file', async () => {
      fake.validRefreshTokens.add('logout-refresh');
      const { env, store } = await cliHome({ refresh_token: 'logout-refresh', access_token: 'at-whatever' }, `${fake.url}/revoke`);
      const r = await runCli(['drive', 'logout'], { env });
      expect(r.code, r.stderr).toBe(0);
      expect(existsSync(store.path)).toBe(false);
      expect(fake.stats.revocations).toContainEqual({ token: 'logout-refresh', via: 'body' });
      expect(fake.validRefreshTokens.has('logout-refresh')).toBe(false);
      expect(r.stderr).toMatch(/Google Drive is disconnected/);
      expect(r.stderr).not.toMatch(/warning/);
    });

    it('drive logout while the revoke endpoint cannot be reached still deletes the local token, with a warning that says what to do', async () => {
      const closed = createServer();
      await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
      const port = (closed.address() as AddressInfo).port;
      await new Promise<void>((r) => closed.close(() => r()));
      const { env, store } = await cliHome({ refresh_token: 'offline-refresh' }, `http://127.0.0.1:${port}/revoke`);
      const r = await runCli(['drive', 'logout'], { env });
      expect(r.code, r.stderr).toBe(0);
      expect(existsSync(store.path)).toBe(false);
      expect(r.stderr).toMatch(/warning: could not revoke Lifeboat's access at Google .*deleted from this computer anyway.*myaccount\.google\.com\/permissions/);
      expect(r.stderr).toMatch(/Google Drive is disconnected/);
    });

    it('drive status with a revoked refresh token but a cached, unexpired access token: exit 9, "reconnect Google Drive"', async () => {
      const { env } = await cliHome({ refresh_token: 'revoked-refresh', access_token: 'at-cached', expiry_date: Date.now() + 50 * 60_000, token_type: 'Bearer' });
      const refreshes = fake.stats.tokenRefreshes;
      const r = await runCli(['drive', 'status'], { env });
      expect(r.code, r.stderr).toBe(9);
      expect(r.stderr).toMatch(/expired or was revoked.*Reconnect Google Drive with `lifeboat drive login`/);
      expect(r.stderr).not.toMatch(/access works/);
      expect(fake.stats.tokenRefreshes - refreshes).toBe(1);
    });

    it('drive status with a good token: exit 0, after a real refresh and a Drive call, naming the account and the folder', async () => {
      const { env } = await cliHome({ refresh_token: 'good-refresh', access_token: 'at-stale-but-unexpired', expiry_date: Date.now() + 50 * 60_000, token_type: 'Bearer' });
      const refreshes = fake.stats.tokenRefreshes;
      const abouts = fake.stats.aboutRequests;
      const r = await runCli(['drive', 'status', '--json'], { env });
      expect(r.code, r.stderr).toBe(0);
      expect(fake.stats.tokenRefreshes - refreshes).toBe(1);
      expect(fake.stats.aboutRequests - abouts).toBe(1);
      expect(r.stderr).toMatch(/connected as shop@example\.com, and the access works/);
      expect(r.stderr).toContain(`Lifeboat/${hostname()}`);
      expect(r.json).toMatchObject({ ok: true, account: 'shop@example.com', folder: `Lifeboat/${hostname()}` });
    });
  });
});
