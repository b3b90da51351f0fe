import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { authorizedClient, loginFlow } from '../../agent/destinations/gdrive/auth.js';
import { DriveDestination } from '../../agent/destinations/gdrive/drive-destination.js';
import { driveSettings, type DriveSettings } from '../../agent/destinations/gdrive/settings.js';
import { TokenStore } from '../../agent/destinations/gdrive/token-store.js';
import { LifeboatError } from '../../agent/engine/errors.js';
import { FakeDrive } from '../../tools/fake-drive.js';
import { tempDir } from '../helpers/fixtures.js';

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
  Object.assign(fake.faults, { dropAfterBytes: undefined, statusBurst: undefined, wrongMd5: false, quotaExceeded: false });
});

let n = 0;
function destination(refreshToken = 'good-refresh'): DriveDestination {
  const store = new TokenStore(join(t.dir, `home-${++n}`));
  mkdirSync(join(t.dir, `home-${n}`), { recursive: true });
  store.write({ refresh_token: refreshToken });
  const auth = authorizedClient(settings, store);
  if (!auth) throw new Error('no client');
  return new DriveDestination({
    auth, rootUrl: settings.apiRootUrl, folderPath: ['Lifeboat', 'till-1', 'pos'], stateFile: join(t.dir, `home-${n}`, 'drive-state.json'),
    upload: { chunkBytes: 1024 * 1024, baseDelayMs: 5 },
  });
}

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

  it('a connection dropped mid-upload resumes from the server\'s range, not from byte 0', async () => {
    const d = destination();
    const before = fake.stats.bytesReceived;
    fake.faults.dropAfterBytes = 600 * 1024; // part of the first 1 MiB chunk arrives, then the line drops
    const obj = await d.put(file, 'dropped.sqlite', 'unused');
    expect(fake.files.get(obj.id)?.content.equals(CONTENT)).toBe(true);
    expect(fake.stats.resumedAt.length).toBeGreaterThan(0);
    // What was stored before the drop was not sent again.
    expect(fake.stats.bytesReceived - before).toBe(CONTENT.length);
  });

  it('429 and 503 bursts are retried with backoff', async () => {
    const d = destination();
    fake.faults.statusBurst = [429, 503, 503, 429];
    const obj = await d.put(file, 'bursty.sqlite', 'unused');
    expect(fake.files.get(obj.id)?.md5).toBe(md5);
    expect(fake.faults.statusBurst).toEqual([]);
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
    const d = destination('revoked-refresh');
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
});
