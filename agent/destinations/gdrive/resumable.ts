import { open } from 'node:fs/promises';
import type { OAuth2Client } from 'google-auth-library';
import type { ByteProgress } from '../../engine/file-ops.js';

/** Drive wants chunks in multiples of 256 KiB; 8 MiB keeps memory flat and requests few. */
export const CHUNK_BYTES = 8 << 20;

export interface DriveFileInfo {
  id: string;
  name: string;
  md5Checksum?: string;
  size?: string;
}

export interface UploadOptions {
  chunkBytes?: number;
  /** Attempts at one chunk before giving up (each waits longer, with jitter). */
  maxRetries?: number;
  baseDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  onProgress?: ByteProgress;
  /** Longest wait for one request: a server that takes a chunk and never answers must not hang the agent. */
  requestTimeoutMs?: number;
  /** Told each time the upload resumes after a failure, with the offset the server had. */
  onResume?: (offset: number, reason: string) => void;
}

class Transient extends Error {}

/**
 * Drive's resumable upload protocol (https://developers.google.com/drive/api/guides/manage-uploads#resumable):
 * POST opens a session (its URL comes back in Location); PUTs send chunks with Content-Range;
 * 308 plus a Range header says how much arrived. After a dropped connection, a 429 or a 5xx, it
 * asks the server where it is (`Content-Range: bytes *\/SIZE`) and goes on from there instead of
 * from byte 0. Each chunk is read fresh from the file, because a consumed stream cannot be resent
 * (and gaxios retries no POST/PUT by itself).
 */
export async function resumableUpload(client: OAuth2Client, rootUrl: string, metadata: { name: string; parents: string[] }, path: string, opts: UploadOptions = {}): Promise<DriveFileInfo> {
  const chunk = opts.chunkBytes ?? CHUNK_BYTES;
  const maxRetries = opts.maxRetries ?? 8;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const timeout = opts.requestTimeoutMs ?? 120_000;
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const base = rootUrl.replace(/\/+$/, '');

    const initiate = async (): Promise<string> => {
      const res = await client.request<unknown>({
        url: `${base}/upload/drive/v3/files?uploadType=resumable&fields=id,name,md5Checksum,size`,
        method: 'POST',
        headers: { 'Content-Type': 'application/json; charset=UTF-8', 'X-Upload-Content-Type': 'application/octet-stream', 'X-Upload-Content-Length': String(size) },
        data: metadata,
        retry: false,
        timeout,
        validateStatus: () => true,
      });
      if (res.status === 429 || res.status >= 500) throw new Transient(`HTTP ${res.status} opening the upload`);
      if (res.status !== 200) throw Object.assign(new Error(`HTTP ${res.status} opening the upload`), { response: { status: res.status, data: res.data } });
      const location = res.headers.get('location');
      if (!location) throw new Error('Drive opened no upload session (no Location header)');
      return location;
    };

    /** Where the server is: the next byte it wants, or the finished file. */
    const status = async (session: string): Promise<{ offset: number } | { file: DriveFileInfo } | { expired: true }> => {
      const res = await client.request<DriveFileInfo>({ url: session, method: 'PUT', headers: { 'Content-Range': `bytes */${size}` }, retry: false, timeout, validateStatus: () => true });
      return interpret(res.status, res.headers.get('range'), res.data);
    };

    const interpret = (statusCode: number, range: string | null, data: unknown): { offset: number } | { file: DriveFileInfo } | { expired: true } => {
      if (statusCode === 200 || statusCode === 201) return { file: data as DriveFileInfo };
      if (statusCode === 308) {
        const m = /bytes=0-(\d+)/.exec(range ?? '');
        return { offset: m ? Number(m[1]) + 1 : 0 };
      }
      if (statusCode === 404 || statusCode === 410) return { expired: true };
      if (statusCode === 429 || statusCode >= 500) throw new Transient(`HTTP ${statusCode}`);
      throw Object.assign(new Error(`HTTP ${statusCode} during the upload`), { response: { status: statusCode, data } });
    };

    let session = await withRetries(initiate, maxRetries, opts, sleep);
    let offset = 0;
    let failures = 0;
    const buf = Buffer.allocUnsafe(Math.min(chunk, Math.max(size, 1)));
    for (;;) {
      try {
        const len = Math.min(chunk, size - offset);
        const { bytesRead } = await fh.read(buf, 0, len, offset);
        if (bytesRead !== len) throw new Error('the backup file changed during the upload');
        const res = await client.request<DriveFileInfo>({
          url: session,
          method: 'PUT',
          headers: { 'Content-Range': size === 0 ? 'bytes */0' : `bytes ${offset}-${offset + len - 1}/${size}`, 'Content-Type': 'application/octet-stream' },
          data: buf.subarray(0, len),
          retry: false,
          timeout,
          validateStatus: () => true,
        });
        const r = interpret(res.status, res.headers.get('range'), res.data);
        if ('file' in r) {
          opts.onProgress?.(size, size);
          return r.file;
        }
        if ('expired' in r) {
          session = await withRetries(initiate, maxRetries, opts, sleep);
          offset = 0;
          continue;
        }
        offset = r.offset;
        failures = 0;
        opts.onProgress?.(offset, size);
      } catch (err) {
        if (!isTransient(err) || ++failures > maxRetries) throw err;
        await sleep(backoff(failures, opts.baseDelayMs ?? 1000));
        // Ask before resending: part of the chunk may have arrived.
        const r = await withRetries(() => status(session), maxRetries, opts, sleep);
        if ('file' in r) return r.file;
        if ('expired' in r) {
          session = await withRetries(initiate, maxRetries, opts, sleep);
          offset = 0;
        } else offset = r.offset;
        opts.onResume?.(offset, (err as Error).message);
      }
    }
  } finally {
    await fh.close();
  }
}

function isTransient(err: unknown): boolean {
  if (err instanceof Transient) return true;
  const e = err as { code?: string; message?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code ?? '';
  return ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'ECONNABORTED', 'ABORT_ERR'].includes(code)
    || /socket hang up|fetch failed|network|terminated|other side closed|aborted|timeout/i.test(e.message ?? '');
}

/** Exponential backoff with full jitter: many agents behind one flaky line do not retry in step. */
function backoff(failures: number, baseMs: number): number {
  const cap = Math.min(baseMs * 2 ** (failures - 1), 64_000);
  return Math.round(cap / 2 + Math.random() * (cap / 2));
}

async function withRetries<T>(fn: () => Promise<T>, maxRetries: number, opts: UploadOptions, sleep: (ms: number) => Promise<void>): Promise<T> {
  for (let failures = 0; ; ) {
    try {
      return await fn();
    } catch (err) {
      if (!isTransient(err) || ++failures > maxRetries) throw err;
      await sleep(backoff(failures, opts.baseDelayMs ?? 1000));
    }
  }
}
