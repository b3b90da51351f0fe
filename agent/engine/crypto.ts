import { createCipheriv, createDecipheriv, randomBytes, scrypt as scryptCb, type ScryptOptions } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { LifeboatError } from './errors.js';

/**
 * AES-256-GCM for off-site copies, streamed, with the key from a passphrase by scrypt.
 * File layout: a 40-byte header (magic, version, scrypt cost, salt, IV) that is also the GCM
 * associated data, so changing any of it fails authentication; the ciphertext; the 16-byte tag.
 */
const MAGIC = Buffer.from('LBENC1\0\0', 'latin1');
const HEADER = 40;
const TAG = 16;
const LOG2_N = 15; // 32 MiB of memory and ~0.1 s per key: cheap for us, expensive for a guesser
const R = 8;
const P = 1;

function deriveKey(passphrase: string, salt: Buffer, log2n: number, r: number, p: number): Promise<Buffer> {
  const options: ScryptOptions = { N: 2 ** log2n, r, p, maxmem: 256 * 2 ** log2n * r };
  return new Promise((resolve, reject) => scryptCb(passphrase, salt, 32, options, (err, key) => (err ? reject(err) : resolve(key))));
}

export function isEncryptedName(name: string): boolean {
  return name.endsWith('.enc');
}

export async function encryptFile(src: string, dst: string, passphrase: string): Promise<void> {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const header = Buffer.concat([MAGIC, Buffer.from([1, LOG2_N, R, P]), salt, iv]);
  const key = await deriveKey(passphrase, salt, LOG2_N, R, P);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(header);
  const out = createWriteStream(dst, { flags: 'wx' });
  out.write(header);
  await pipeline(createReadStream(src, { highWaterMark: 1 << 20 }), cipher, out, { end: false });
  const tag = cipher.getAuthTag();
  await new Promise<void>((resolve, reject) => out.end(tag, () => resolve()).once('error', reject));
}

/**
 * Decrypts into DST and keeps it only when the tag checks out: a wrong passphrase and a damaged
 * file look the same to GCM, and neither may leave plaintext behind.
 */
export async function decryptFile(src: string, dst: string, passphrase: string): Promise<void> {
  const size = (await stat(src)).size;
  const fh = await open(src, 'r');
  const header = Buffer.alloc(HEADER);
  const tag = Buffer.alloc(TAG);
  try {
    await fh.read(header, 0, HEADER, 0);
    await fh.read(tag, 0, TAG, size - TAG);
  } finally {
    await fh.close();
  }
  if (size < HEADER + TAG || !header.subarray(0, 8).equals(MAGIC) || header[8] !== 1) {
    throw new LifeboatError('check', `${src} is not a Lifeboat encrypted backup.`, 'Check the file name; only .enc files made by Lifeboat can be decrypted.');
  }
  const [log2n, r, p] = [header[9] ?? 0, header[10] ?? 0, header[11] ?? 0];
  // The cost comes from the file: a crafted header must not make us allocate gigabytes or spin for hours.
  if (log2n < 10 || log2n > 20 || r < 1 || r > 16 || p < 1 || p > 4) {
    throw new LifeboatError('check', `${src} has an encryption header Lifeboat does not accept (scrypt cost N=2^${log2n}, r=${r}, p=${p}).`, 'The file is damaged or was not made by Lifeboat; use another backup.');
  }
  const key = await deriveKey(passphrase, header.subarray(12, 28), log2n, r, p);
  const decipher = createDecipheriv('aes-256-gcm', key, header.subarray(28, 40));
  decipher.setAAD(header);
  decipher.setAuthTag(tag);
  try {
    await pipeline(createReadStream(src, { start: HEADER, end: size - TAG - 1, highWaterMark: 1 << 20 }), decipher, createWriteStream(dst, { flags: 'wx', mode: 0o600 }));
  } catch (err) {
    await rm(dst, { force: true });
    if (/auth|unable to authenticate/i.test((err as Error).message)) {
      throw new LifeboatError('check', `Cannot decrypt ${src}: wrong passphrase, or the file was damaged.`,
        'Try the passphrase again (LIFEBOAT_PASSPHRASE or --passphrase-file); if it is right, use another backup.');
    }
    throw err;
  }
}
