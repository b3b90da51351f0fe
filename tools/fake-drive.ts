import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for Google's OAuth token endpoint and the Drive v3 calls Lifeboat uses, on
 * 127.0.0.1 only, speaking the documented protocol: files.create (folders, and uploadType=resumable
 * with its Location / PUT Content-Range / 308 Range exchange), files.list, files.get (metadata and
 * alt=media), files.delete, about.get, /token (authorization_code with PKCE, refresh_token) and
 * /revoke (RFC 7009). Faults are switched on per test, and every request that matters to a test is
 * counted or recorded, wanted or not: a client that resends what the server already had must show.
 */
export interface DriveFile {
  id: string;
  name: string;
  mimeType: string;
  parents: string[];
  content: Buffer;
  md5: string;
}

interface Session {
  id: string;
  name: string;
  parents: string[];
  total: number;
  data: Buffer[];
  offset: number;
  md5: ReturnType<typeof createHash>;
}

/** An error answer: a bare status, or Drive's error body with a reason and a Retry-After header. */
export type FaultReply = number | { status: number; reason?: string; retryAfter?: string };

export interface Faults {
  /** The next PUT with data stores this many bytes of its body (rounded down to 256 KiB), then the connection drops. */
  dropAfterBytes?: number;
  /** Data PUTs let through untouched before dropAfterBytes applies. */
  dropAfterPuts?: number;
  /** Answers to the next data PUTs, one each, before any data is stored. */
  putFaults?: FaultReply[];
  /** Answers to the next session-opening POSTs (uploadType=resumable). */
  openFaults?: FaultReply[];
  /** Answers to the next status queries (PUT with `Content-Range: bytes *\/N`). */
  queryFaults?: FaultReply[];
  /** Report this md5Checksum instead of the real one for the next finished upload. */
  wrongMd5?: boolean;
  /** Refuse new uploads with storageQuotaExceeded. */
  quotaExceeded?: boolean;
  /** The next download (alt=media) of a file this big or bigger sends half of it, then the connection drops. */
  dropDownloadOver?: number;
  /** The next download of a file this big or bigger arrives whole but with one byte changed (a bad line or disk). */
  corruptDownloadOver?: number;
}

/** One PUT that carried data: where it said it starts, and what the server had committed when it came. */
export interface DataPut {
  session: string;
  start: number;
  end: number;
  /** The server's offset when the PUT arrived: a correct client sends start === committed. */
  committed: number;
  outcome: 'stored' | 'wrong-offset' | 'dropped' | 'fault';
}

/** A dropped connection: the offset the server had committed after it, and which data PUT it was (index into dataPuts). */
export interface Drop {
  session: string;
  committed: number;
  dataPut: number;
}

const QUANTUM = 256 * 1024;

const REASON_MESSAGES: Record<string, string> = {
  rateLimitExceeded: 'Rate Limit Exceeded',
  userRateLimitExceeded: 'User Rate Limit Exceeded',
  storageQuotaExceeded: "The user's Drive storage quota has been exceeded.",
  insufficientPermissions: 'Insufficient Permission: Request had insufficient authentication scopes.',
};

export class FakeDrive {
  /** false: uploads are hashed, not kept (the benchmark's multi-GiB uploads). */
  constructor(private readonly keepContent = true) {}

  readonly files = new Map<string, DriveFile>();
  readonly sessions = new Map<string, Session>();
  readonly faults: Faults = {};
  readonly validRefreshTokens = new Set(['good-refresh']);
  /** The account about.get reports. */
  account = { displayName: 'Corner Shop', emailAddress: 'shop@example.com' };
  readonly stats = {
    /** Every PUT body byte that arrived, stored or not (rejected, wrong offset, cut off by a drop). */
    bytesReceived: 0,
    puts: 0,
    statusQueries: 0,
    /** Session-opening POSTs, answered with a session or with a fault. */
    sessionOpens: 0,
    sessionsOpened: 0,
    tokenRefreshes: 0,
    /** files.list calls (folder lookups and listings alike). */
    listRequests: 0,
    aboutRequests: 0,
    dataPuts: [] as DataPut[],
    drops: [] as Drop[],
    /** Tokens posted to /revoke, and whether they came in the form body (RFC 7009) or the URL. */
    revocations: [] as { token: string; via: 'body' | 'query' }[],
  };
  private readonly accessTokens = new Set<string>();
  private readonly codes = new Map<string, { challenge: string; redirectUri: string }>();
  private server: Server | null = null;
  private seq = 0;
  url = '';

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500).end(String(err));
      });
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()));
  }

  filesIn(parentName: string): DriveFile[] {
    const parent = [...this.files.values()].find((f) => f.name === parentName && f.mimeType.endsWith('folder'));
    return [...this.files.values()].filter((f) => parent && f.parents.includes(parent.id));
  }

  private newId(prefix: string): string {
    return `${prefix}${++this.seq}`;
  }

  private json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  }

  private async body(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  private authorized(req: IncomingMessage): boolean {
    const h = req.headers.authorization ?? '';
    return h.startsWith('Bearer ') && this.accessTokens.has(h.slice(7));
  }

  private issueAccessToken(): string {
    const t = `at-${randomBytes(6).toString('hex')}`;
    this.accessTokens.add(t);
    return t;
  }

  private fileJson(f: DriveFile): Record<string, unknown> {
    return { id: f.id, name: f.name, mimeType: f.mimeType, parents: f.parents, size: String(f.content.length), md5Checksum: f.md5, trashed: false };
  }

  /** Drive's error body for STATUS with REASON (see developers.google.com/drive/api/guides/handle-errors). */
  private fault(res: ServerResponse, reply: FaultReply): void {
    const { status, reason, retryAfter } = typeof reply === 'number' ? { status: reply, reason: undefined, retryAfter: undefined } : reply;
    const message = (reason && REASON_MESSAGES[reason]) ?? (status === 429 ? 'Rate Limit Exceeded' : status >= 500 ? 'Backend Error' : 'Forbidden');
    const errors = reason ? [{ domain: 'usageLimits', reason, message }] : [];
    this.json(res, status, { error: { code: status, message, errors } }, retryAfter ? { 'retry-after': retryAfter } : {});
  }

  /** Reads and counts a PUT body nobody will store. */
  private async discard(req: IncomingMessage): Promise<void> {
    const data = await this.body(req).catch(() => Buffer.alloc(0));
    this.stats.bytesReceived += data.length;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const path = url.pathname;

    if (path === '/auth' && req.method === 'GET') {
      const code = `code-${randomBytes(4).toString('hex')}`;
      const redirectUri = url.searchParams.get('redirect_uri') ?? '';
      this.codes.set(code, { challenge: url.searchParams.get('code_challenge') ?? '', redirectUri });
      const to = new URL(redirectUri);
      to.searchParams.set('code', code);
      to.searchParams.set('state', url.searchParams.get('state') ?? '');
      res.writeHead(302, { location: to.toString() }).end();
      return;
    }
    if (path === '/token' && req.method === 'POST') {
      const form = new URLSearchParams((await this.body(req)).toString());
      if (form.get('grant_type') === 'authorization_code') {
        const entry = this.codes.get(form.get('code') ?? '');
        const verifier = form.get('code_verifier') ?? '';
        const challenge = createHash('sha256').update(verifier).digest('base64url');
        if (!entry || entry.challenge !== challenge || entry.redirectUri !== form.get('redirect_uri')) {
          return this.json(res, 400, { error: 'invalid_grant', error_description: 'Bad code, verifier or redirect_uri.' });
        }
        this.codes.delete(form.get('code') ?? '');
        return this.json(res, 200, { access_token: this.issueAccessToken(), refresh_token: 'good-refresh', expires_in: 3599, token_type: 'Bearer', scope: 'https://www.googleapis.com/auth/drive.file' });
      }
      if (form.get('grant_type') === 'refresh_token') {
        this.stats.tokenRefreshes++;
        if (!this.validRefreshTokens.has(form.get('refresh_token') ?? '')) {
          return this.json(res, 400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
        }
        return this.json(res, 200, { access_token: this.issueAccessToken(), expires_in: 3599, token_type: 'Bearer' });
      }
      return this.json(res, 400, { error: 'unsupported_grant_type' });
    }

    if (path === '/revoke' && req.method === 'POST') {
      const body = new URLSearchParams((await this.body(req)).toString()).get('token');
      const token = body ?? url.searchParams.get('token') ?? '';
      this.stats.revocations.push({ token, via: body === null ? 'query' : 'body' });
      if (!this.validRefreshTokens.delete(token) && !this.accessTokens.delete(token)) {
        return this.json(res, 400, { error: 'invalid_token', error_description: 'Token expired or revoked' });
      }
      return this.json(res, 200, {});
    }

    if (!this.authorized(req)) return this.json(res, 401, { error: { code: 401, message: 'Invalid Credentials' } });

    if (path === '/upload/drive/v3/files' && req.method === 'POST' && url.searchParams.get('uploadType') === 'resumable') {
      const meta = JSON.parse((await this.body(req)).toString() || '{}') as { name: string; parents?: string[] };
      this.stats.sessionOpens++;
      const reply = this.faults.openFaults?.shift();
      if (reply !== undefined) return this.fault(res, reply);
      if (this.faults.quotaExceeded) return this.fault(res, { status: 403, reason: 'storageQuotaExceeded' });
      const s: Session = { id: this.newId('up'), name: meta.name, parents: meta.parents ?? ['root'], total: Number(req.headers['x-upload-content-length'] ?? 0), data: [], offset: 0, md5: createHash('md5') };
      this.sessions.set(s.id, s);
      this.stats.sessionsOpened++;
      res.writeHead(200, { location: `${this.url}/upload/drive/v3/files?uploadType=resumable&upload_id=${s.id}` }).end();
      return;
    }
    if (path === '/upload/drive/v3/files' && req.method === 'PUT') {
      const range = String(req.headers['content-range'] ?? '');
      // Counted before the session is looked up: a query about a forgotten session is a query too.
      if (range.startsWith('bytes */')) this.stats.statusQueries++;
      const s = this.sessions.get(url.searchParams.get('upload_id') ?? '');
      if (!s) {
        await this.discard(req);
        return this.json(res, 404, { error: { code: 404, message: 'No such upload session.' } });
      }
      const rangeHeader = (): Record<string, string> => (s.offset > 0 ? { range: `bytes=0-${s.offset - 1}` } : {});
      if (range.startsWith('bytes */')) {
        await this.discard(req);
        const reply = this.faults.queryFaults?.shift();
        if (reply !== undefined) return this.fault(res, reply);
        if (s.offset === s.total) return this.finish(s, res);
        res.writeHead(308, rangeHeader()).end();
        return;
      }
      this.stats.puts++;
      const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(range);
      if (!m) {
        await this.discard(req);
        return this.json(res, 400, { error: { code: 400, message: `Bad Content-Range ${range}` } });
      }
      const put: DataPut = { session: s.id, start: Number(m[1]), end: Number(m[2]), committed: s.offset, outcome: 'stored' };
      this.stats.dataPuts.push(put);
      const reply = this.faults.putFaults?.shift();
      if (reply !== undefined) {
        put.outcome = 'fault';
        await this.discard(req);
        return this.fault(res, reply);
      }
      if (put.start !== s.offset) {
        // Drive answers a PUT that does not start where it stands with where it stands; the body is wasted.
        put.outcome = 'wrong-offset';
        await this.discard(req);
        res.writeHead(308, rangeHeader()).end();
        return;
      }
      if (this.faults.dropAfterBytes !== undefined && this.faults.dropAfterPuts) this.faults.dropAfterPuts--;
      else if (this.faults.dropAfterBytes !== undefined) {
        const keep = Math.floor(this.faults.dropAfterBytes / QUANTUM) * QUANTUM;
        this.faults.dropAfterBytes = undefined;
        let got = 0;
        const kept: Buffer[] = [];
        await new Promise<void>((resolve) => {
          const cut = (): void => {
            this.store(s, Buffer.concat(kept));
            s.offset += got;
            put.outcome = 'dropped';
            this.stats.drops.push({ session: s.id, committed: s.offset, dataPut: this.stats.dataPuts.indexOf(put) });
            req.socket.destroy();
            resolve();
          };
          if (keep === 0) return cut();
          req.on('data', (c: Buffer) => {
            this.stats.bytesReceived += c.length;
            if (got >= keep) return;
            const take = c.subarray(0, Math.min(c.length, keep - got));
            kept.push(take);
            got += take.length;
            if (got >= keep) cut();
          });
          req.on('end', () => {
            // The body was shorter than the drop point: take it whole, as a normal chunk.
            this.store(s, Buffer.concat(kept));
            s.offset += got;
            res.writeHead(308, rangeHeader()).end();
            resolve();
          });
        });
        return;
      }
      const data = await this.body(req);
      this.stats.bytesReceived += data.length;
      this.store(s, data);
      s.offset += data.length;
      if (s.offset >= s.total) return this.finish(s, res);
      res.writeHead(308, rangeHeader()).end();
      return;
    }

    if (path === '/drive/v3/about' && req.method === 'GET') {
      this.stats.aboutRequests++;
      if (!url.searchParams.get('fields')) return this.json(res, 400, { error: { code: 400, message: "The 'fields' parameter is required for this method." } });
      return this.json(res, 200, { user: { kind: 'drive#user', ...this.account } });
    }
    if (path === '/drive/v3/files' && req.method === 'GET') {
      this.stats.listRequests++;
      const q = url.searchParams.get('q') ?? '';
      const name = /name = '((?:[^'\\]|\\.)*)'/.exec(q)?.[1];
      const parent = /'([^']+)' in parents/.exec(q)?.[1];
      const folderOnly = q.includes("mimeType = 'application/vnd.google-apps.folder'");
      const files = [...this.files.values()].filter((f) => (!name || f.name === name) && (!parent || f.parents.includes(parent)) && (!folderOnly || f.mimeType.endsWith('folder')));
      return this.json(res, 200, { files: files.map((f) => this.fileJson(f)) });
    }
    if (path === '/drive/v3/files' && req.method === 'POST') {
      const meta = JSON.parse((await this.body(req)).toString()) as { name: string; mimeType?: string; parents?: string[] };
      const f: DriveFile = { id: this.newId('f'), name: meta.name, mimeType: meta.mimeType ?? 'application/octet-stream', parents: meta.parents ?? ['root'], content: Buffer.alloc(0), md5: '' };
      this.files.set(f.id, f);
      return this.json(res, 200, this.fileJson(f));
    }
    const idMatch = /^\/drive\/v3\/files\/([^/]+)$/.exec(path);
    if (idMatch) {
      const f = this.files.get(decodeURIComponent(idMatch[1] ?? ''));
      if (!f) return this.json(res, 404, { error: { code: 404, message: 'File not found.' } });
      if (req.method === 'DELETE') {
        this.files.delete(f.id);
        res.writeHead(204).end();
        return;
      }
      if (url.searchParams.get('alt') === 'media') {
        if (this.faults.dropDownloadOver !== undefined && f.content.length >= this.faults.dropDownloadOver) {
          this.faults.dropDownloadOver = undefined;
          res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(f.content.length) });
          res.write(f.content.subarray(0, f.content.length >> 1), () => res.destroy());
          return;
        }
        if (this.faults.corruptDownloadOver !== undefined && f.content.length >= this.faults.corruptDownloadOver) {
          this.faults.corruptDownloadOver = undefined;
          const bad = Buffer.from(f.content);
          bad[bad.length >> 1] = (bad[bad.length >> 1] ?? 0) ^ 0xff;
          res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(bad);
          return;
        }
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(f.content);
        return;
      }
      return this.json(res, 200, this.fileJson(f));
    }
    this.json(res, 404, { error: { code: 404, message: `Not implemented: ${req.method} ${path}` } });
  }

  private store(s: Session, chunk: Buffer): void {
    s.md5.update(chunk);
    if (this.keepContent) s.data.push(chunk);
  }

  private finish(s: Session, res: ServerResponse): void {
    const content = Buffer.concat(s.data);
    const real = s.md5.digest('hex');
    const md5 = this.faults.wrongMd5 ? '0'.repeat(32) : real;
    this.faults.wrongMd5 = false;
    const f: DriveFile = { id: this.newId('f'), name: s.name, mimeType: 'application/octet-stream', parents: s.parents, content, md5 };
    this.files.set(f.id, f);
    this.sessions.delete(s.id);
    this.json(res, 200, { ...this.fileJson(f), size: String(s.total) });
  }
}
