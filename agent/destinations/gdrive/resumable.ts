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
  /** Attempts at one request before giving up (each waits longer, with jitter). */
  maxRetries?: number;
  baseDelayMs?: number;
  /** How to wait between attempts; tests pass one that records the delay and returns at once. */
  sleep?: (ms: number) => Promise<void>;
  /** The jitter's source of numbers in [0, 1); Math.random unless a test fixes it. */
  random?: () => number;
  onProgress?: ByteProgress;
  /** Longest wait for one request: a server that takes a chunk and never answers must not hang the agent. */
  requestTimeoutMs?: number;
  /** Told each time the upload resumes after a failure, with the offset the server had. */
  onResume?: (offset: number, reason: string) => void;
  /** Where this upload's session address is kept, so a later run can go on where this one stopped. */
  memory?: SessionMemory;
}

/** One upload's session address, kept across runs (Drive keeps an unfinished session about a week). */
export interface SessionMemory {
  load(): Promise<string | undefined>;
  save(sessionUri: string): Promise<void>;
  clear(): Promise<void>;
}

/** A failure worth another attempt, with the wait the server asked for, if it did. */
class Transient extends Error {
  constructor(message: string, readonly retryAfterMs?: number) {
    super(message);
  }
}

/**
 * Longest Retry-After honoured: above the backoff's own cap, so a server that asks for a minute
 * gets it, but a proxy that says "come back tomorrow" does not stall the copy step for hours
 * (the next run retries the upload anyway).
 */
export const MAX_RETRY_AFTER_MS = 120_000;

/** Drive's documented rate-limit refusals: 403 with one of these reasons means "slow down", not "no". */
const RATE_LIMIT_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded']);

function reasonsOf(data: unknown): string[] {
  let body = data;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body) as unknown;
    } catch {
      return [];
    }
  }
  const errors = (body as { error?: { errors?: { reason?: unknown }[] } } | null)?.error?.errors;
  return Array.isArray(errors) ? errors.map((e) => (typeof e.reason === 'string' ? e.reason : '')) : [];
}

/** Retry-After in seconds or as an HTTP date (RFC 9110 10.2.3), capped; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const text = header.trim();
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text) - now;
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS) : undefined;
}

/** An answer that is not what was wanted: Transient when it may pass (429, 5xx, a rate-limit 403), else final. */
function failure(what: string, status: number, headers: Headers, data: unknown): Error {
  if (status === 429 || status >= 500 || (status === 403 && reasonsOf(data).some((r) => RATE_LIMIT_REASONS.has(r)))) {
    return new Transient(`HTTP ${status} ${what}`, retryAfterMs(headers.get('retry-after')));
  }
  return Object.assign(new Error(`HTTP ${status} ${what}`), { response: { status, data } });
}

type Where = { offset: number } | { file: DriveFileInfo } | { expired: true };

/**
 * Drive's resumable upload protocol (https://developers.google.com/drive/api/guides/manage-uploads#resumable):
 * POST opens a session (its URL comes back in Location); PUTs send chunks with Content-Range;
 * 308 plus a Range header says how much arrived. After a dropped connection, a 429, a 5xx or a
 * rate-limit 403, it asks the server where it is (`Content-Range: bytes *\/SIZE`) and goes on from
 * there instead of from byte 0. Each chunk is read fresh from the file, because a consumed stream
 * cannot be resent (and gaxios retries no POST/PUT by itself). With `memory`, a session left by an
 * earlier run is asked first and continued.
 */
export async function resumableUpload(client: OAuth2Client, rootUrl: string, metadata: { name: string; parents: string[] }, path: string, opts: UploadOptions = {}): Promise<DriveFileInfo> {
  const chunk = opts.chunkBytes ?? CHUNK_BYTES;
  const timeout = opts.requestTimeoutMs ?? 120_000;
  const retry = retrier(opts);
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
      if (res.status !== 200) throw failure('opening the upload', res.status, res.headers, res.data);
      const location = res.headers.get('location');
      if (!location) throw new Error('Drive opened no upload session (no Location header)');
      return location;
    };

    const interpret = (statusCode: number, headers: Headers, data: unknown): Where => {
      if (statusCode === 200 || statusCode === 201) return { file: data as DriveFileInfo };
      if (statusCode === 308) {
        const m = /bytes=0-(\d+)/.exec(headers.get('range') ?? '');
        return { offset: m ? Number(m[1]) + 1 : 0 };
      }
      if (statusCode === 404 || statusCode === 410) return { expired: true };
      throw failure('during the upload', statusCode, headers, data);
    };

    /** Where the server is: the next byte it wants, or the finished file. */
    const status = async (session: string): Promise<Where> => {
      const res = await client.request<DriveFileInfo>({ url: session, method: 'PUT', headers: { 'Content-Range': `bytes */${size}` }, retry: false, timeout, validateStatus: () => true });
      return interpret(res.status, res.headers, res.data);
    };

    const fresh = async (): Promise<string> => {
      const uri = await retry(initiate);
      await opts.memory?.save(uri);
      return uri;
    };

    const done = async (file: DriveFileInfo): Promise<DriveFileInfo> => {
      await opts.memory?.clear();
      opts.onProgress?.(size, size);
      return file;
    };

    let session: string | undefined;
    let offset = 0;
    const saved = await opts.memory?.load();
    if (saved) {
      let r: Where | undefined;
      try {
        r = await retry(() => status(saved));
      } catch (err) {
        // The line is down: a new session would fail the same way. Anything else: the old session is of no use.
        if (isTransient(err)) throw err;
      }
      if (r && 'file' in r) return done(r.file);
      if (r && 'offset' in r) {
        session = saved;
        offset = r.offset;
        opts.onResume?.(offset, 'an upload left unfinished by an earlier run');
      }
    }
    session ??= await fresh();

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
        const r = interpret(res.status, res.headers, res.data);
        if ('file' in r) return await done(r.file);
        if ('expired' in r) {
          session = await fresh();
          offset = 0;
          continue;
        }
        offset = r.offset;
        failures = 0;
        opts.onProgress?.(offset, size);
      } catch (err) {
        if (!isTransient(err) || ++failures > (opts.maxRetries ?? 8)) throw err;
        await retry.wait(err, failures);
        // Ask before resending: part of the chunk may have arrived.
        const current = session;
        const r = await retry(() => status(current));
        if ('file' in r) return await done(r.file);
        if ('expired' in r) {
          session = await fresh();
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

/**
 * Exponential backoff with "equal jitter": the n-th wait is drawn from [cap/2, cap] with
 * cap = base * 2^(n-1) (at most 64 s), so waits always grow while many agents behind one flaky
 * line still do not retry in step.
 */
export function backoff(failures: number, baseMs: number, random: () => number = Math.random): number {
  const cap = Math.min(baseMs * 2 ** (failures - 1), 64_000);
  return Math.round(cap / 2 + random() * (cap / 2));
}

/** Runs a request again after transient failures, waiting as the server asked or else with backoff. */
function retrier(opts: UploadOptions): (<T>(fn: () => Promise<T>) => Promise<T>) & { wait: (err: unknown, failures: number) => Promise<void> } {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const maxRetries = opts.maxRetries ?? 8;
  const wait = (err: unknown, failures: number): Promise<void> =>
    sleep((err instanceof Transient ? err.retryAfterMs : undefined) ?? backoff(failures, opts.baseDelayMs ?? 1000, opts.random));
  const run = async <T>(fn: () => Promise<T>): Promise<T> => {
    for (let failures = 0; ; ) {
      try {
        return await fn();
      } catch (err) {
        if (!isTransient(err) || ++failures > maxRetries) throw err;
        await wait(err, failures);
      }
    }
  };
  return Object.assign(run, { wait });
}
