import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import type { ByteProgress } from './file-ops.js';

/** Level 1: the measured size gain of higher levels on POS data is small and costs several times the CPU. */
const GZIP_LEVEL = 1;

function progressTap(total: number, onProgress?: ByteProgress): Transform {
  let done = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      done += chunk.length;
      onProgress?.(done, total);
      cb(null, chunk);
    },
  });
}

/** Streams SRC through gzip into DST (created exclusively). Memory stays at a few stream buffers. */
export async function gzipFile(src: string, dst: string, onProgress?: ByteProgress): Promise<void> {
  const total = (await stat(src)).size;
  await pipeline(
    createReadStream(src, { highWaterMark: 1 << 20 }),
    progressTap(total, onProgress),
    createGzip({ level: GZIP_LEVEL }),
    createWriteStream(dst, { flags: 'wx' }),
  );
}

/** SHA-256 and size of what a gzip file decompresses to, without writing it anywhere. */
export async function gunzipDigest(src: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  await pipeline(
    createReadStream(src, { highWaterMark: 1 << 20 }),
    createGunzip(),
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        bytes += chunk.length;
        cb();
      },
    }),
  );
  return { sha256: hash.digest('hex'), bytes };
}

export async function gunzipFile(src: string, dst: string): Promise<void> {
  await pipeline(createReadStream(src, { highWaterMark: 1 << 20 }), createGunzip(), createWriteStream(dst, { flags: 'wx' }));
}
