import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decryptFile, encryptFile } from '../../agent/engine/crypto.js';
import type { Manifest } from '../../agent/engine/manifest.js';
import { plainDatabase } from '../../agent/engine/verify-backup.js';
import { CLI, tempDir } from '../helpers/fixtures.js';

const t = tempDir('encryption');
afterAll(() => t.cleanup());
const PASS = 'correct horse battery staple';
const mode = (p: string): number => statSync(p).mode & 0o777;

describe('encryption keeps the plaintext and the passphrase to this user', () => {
  it('`passphrase set` makes an existing, world-readable passphrase file 0600', () => {
    const home = join(t.dir, 'home');
    const file = join(home, 'passphrase');
    mkdirSync(home, { recursive: true });
    writeFileSync(file, 'old one\n', { mode: 0o644 });
    const r = spawnSync(process.execPath, [CLI, 'passphrase', 'set'], { input: `${PASS}\n`, env: { ...process.env, LIFEBOAT_HOME: home }, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/mode 0600/);
    expect(readFileSync(file, 'utf8')).toBe(`${PASS}\n`);
    expect(mode(file)).toBe(0o600);
    const fresh = join(t.dir, 'fresh-home', 'not-made-yet');
    const first = spawnSync(process.execPath, [CLI, 'passphrase', 'set'], { input: `${PASS}\n`, env: { ...process.env, LIFEBOAT_HOME: fresh }, encoding: 'utf8' });
    expect(first.status, first.stderr).toBe(0);
    expect(mode(join(fresh, 'passphrase'))).toBe(0o600);
    const short = spawnSync(process.execPath, [CLI, 'passphrase', 'set'], { input: 'short\n', env: { ...process.env, LIFEBOAT_HOME: fresh }, encoding: 'utf8' });
    expect(short.status).toBe(2);
    expect(short.stderr).toMatch(/too short.*at least 8 characters/);
  });

  it('a decrypted backup is written into a folder only this user can enter, and removed afterwards', async () => {
    const plain = join(t.dir, 'db.sqlite');
    writeFileSync(plain, Buffer.alloc(1 << 20, 3));
    const enc = join(t.dir, 'db.sqlite.enc');
    await encryptFile(plain, enc, PASS);
    const passFile = join(t.dir, 'pass');
    writeFileSync(passFile, PASS);
    const out = await plainDatabase(enc, { encryption: 'aes-256-gcm', compression: 'none' } as Manifest, { passphraseFile: passFile });
    try {
      expect(readFileSync(out.path).equals(readFileSync(plain))).toBe(true);
      expect(mode(dirname(out.path))).toBe(0o700);
      expect(mode(out.path)).toBe(0o600);
    } finally {
      await out.cleanup();
    }
    expect(existsSync(dirname(out.path))).toBe(false);
  });

  it('a crafted header asking for a huge scrypt cost is refused at once, not obeyed', async () => {
    const plain = join(t.dir, 'small.bin');
    writeFileSync(plain, 'hello');
    const enc = join(t.dir, 'small.bin.enc');
    await encryptFile(plain, enc, PASS);
    const bytes = readFileSync(enc);
    bytes[9] = 40; // N = 2^40
    writeFileSync(enc, bytes);
    await expect(decryptFile(enc, join(t.dir, 'out.bin'), PASS)).rejects.toThrow(/does not accept \(scrypt cost N=2\^40/);
    expect(existsSync(join(t.dir, 'out.bin'))).toBe(false);
  });
});
