import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { drive_v3 } from '@googleapis/drive';
import type { OAuth2Client } from 'google-auth-library';
import { LifeboatError } from '../../engine/errors.js';
import type { ByteProgress } from '../../engine/file-ops.js';
import type { Destination, StoredObject } from '../destination.js';
import { driveError } from './auth.js';
import { FOLDER_MIME, children, downloadFile, driveApi, quote } from './browse.js';
import { resumableUpload, type UploadOptions } from './resumable.js';
import { UploadSessions } from './upload-sessions.js';

export interface DriveDestinationOptions {
  auth: OAuth2Client;
  rootUrl: string;
  /** Folder path under My Drive, e.g. ["Lifeboat", "till-1", "pos"]. */
  folderPath: string[];
  /** Where the folder's id is remembered, so it is found again by id (names can repeat on Drive). */
  stateFile: string;
  /** Where unfinished uploads' sessions are kept between runs; drive-uploads.json beside stateFile unless set. */
  sessionsFile?: string;
  upload?: UploadOptions;
}

async function md5File(path: string): Promise<string> {
  const hash = createHash('md5');
  await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), async function* (src: AsyncIterable<Buffer>) {
    for await (const chunk of src) hash.update(chunk);
  });
  return hash.digest('hex');
}

/**
 * Google Drive, through the per-API client (@googleapis/drive) for listing, reading and deleting,
 * and the resumable protocol for uploads. After an upload, Drive's md5Checksum must equal the
 * local file's MD5, or the upload failed (and the bad copy is deleted).
 */
export class DriveDestination implements Destination {
  readonly kind = 'gdrive';
  private readonly api: drive_v3.Drive;
  private folderId: string | null = null;
  /**
   * Name -> id from the last listing, kept up to date by put and delete: a prune lists once and
   * deletes many files, and looking each id up by listing again made that O(N) list calls.
   */
  private ids: Map<string, string> | null = null;
  private readonly sessions: UploadSessions;

  constructor(private readonly o: DriveDestinationOptions) {
    this.api = driveApi(o.auth, o.rootUrl);
    this.sessions = new UploadSessions(o.sessionsFile ?? join(dirname(o.stateFile), 'drive-uploads.json'));
  }

  get label(): string {
    return `Google Drive ${this.o.folderPath.join('/')}`;
  }

  /** The job's folder: found again by its remembered id, else by name, else created. */
  async folder(): Promise<string> {
    if (this.folderId) return this.folderId;
    try {
      const remembered = await readFile(this.o.stateFile, 'utf8').then((t) => (JSON.parse(t) as { folderId?: string }).folderId).catch(() => undefined);
      if (remembered) {
        const f = await this.api.files.get({ fileId: remembered, fields: 'id,trashed' }).catch(() => null);
        if (f?.data.id && !f.data.trashed) return (this.folderId = remembered);
      }
      let parent = 'root';
      for (const name of this.o.folderPath) {
        const found = await this.api.files.list({ q: `name = ${quote(name)} and mimeType = '${FOLDER_MIME}' and ${quote(parent)} in parents and trashed = false`, fields: 'files(id,name)', spaces: 'drive' });
        const existing = found.data.files?.[0]?.id;
        if (existing) {
          parent = existing;
          continue;
        }
        const created = await this.api.files.create({ requestBody: { name, mimeType: FOLDER_MIME, parents: [parent] }, fields: 'id' });
        if (!created.data.id) throw new Error('Drive created a folder without an id');
        parent = created.data.id;
      }
      await writeFile(this.o.stateFile, JSON.stringify({ folderId: parent }), { mode: 0o600 });
      return (this.folderId = parent);
    } catch (err) {
      throw driveError(err);
    }
  }

  async put(localPath: string, name: string, sha256: string, onProgress?: ByteProgress): Promise<StoredObject> {
    const parent = await this.folder();
    const localMd5 = await md5File(localPath);
    const memory = this.sessions.forUpload({ localPath, size: (await stat(localPath)).size, sha256, name, folderId: parent });
    let file;
    try {
      file = await resumableUpload(this.o.auth, this.o.rootUrl, { name, parents: [parent] }, localPath, { ...this.o.upload, onProgress, memory });
    } catch (err) {
      throw driveError(err);
    }
    if (file.md5Checksum !== localMd5) {
      await this.api.files.delete({ fileId: file.id }).catch(() => {});
      throw new LifeboatError('destination', `The copy on Google Drive does not match the backup (MD5 ${file.md5Checksum ?? 'missing'} instead of ${localMd5}).`,
        'The upload was damaged on the way and was deleted; it is retried on the next run.');
    }
    this.ids?.set(file.name ?? name, file.id);
    return { name: file.name ?? name, bytes: Number(file.size ?? 0), id: file.id };
  }

  async list(): Promise<StoredObject[]> {
    const parent = await this.folder();
    let out: StoredObject[];
    try {
      out = (await children(this.api, parent, false)).map(({ name, bytes, id }) => ({ name, bytes, id }));
    } catch (err) {
      throw driveError(err);
    }
    // Drive allows two files of one name; the first listed wins, as it did before the cache.
    this.ids = new Map();
    for (const o of [...out].reverse()) this.ids.set(o.name, o.id);
    return out;
  }

  /** NAME's id from the last listing, or from a new one when NAME is not in it (or FRESH is asked for). */
  private async idOf(name: string, fresh = false): Promise<string> {
    if (fresh || !this.ids?.has(name)) await this.list();
    const id = this.ids?.get(name);
    if (!id) throw new LifeboatError('source', `${name} is not on Google Drive (${this.label}).`, 'Check the name with `lifeboat prune --dry-run` or in Drive.');
    return id;
  }

  /** Runs FN with NAME's id; an id from the cache that Drive no longer knows (404) is looked up once more. */
  private async withId<T>(name: string, fn: (id: string) => Promise<T>): Promise<T> {
    const cached = this.ids?.has(name) ?? false;
    try {
      return await fn(await this.idOf(name));
    } catch (err) {
      if (!cached || (err as { status?: number }).status !== 404) throw err instanceof LifeboatError ? err : driveError(err);
    }
    try {
      return await fn(await this.idOf(name, true));
    } catch (err) {
      throw driveError(err);
    }
  }

  async get(name: string, toPath: string): Promise<void> {
    await this.withId(name, (id) => downloadFile(this.api, id, toPath));
  }

  async delete(name: string): Promise<void> {
    await this.withId(name, (id) => this.api.files.delete({ fileId: id }));
    this.ids?.delete(name);
  }
}

export interface DriveAccess {
  /** The Google account's address (or name, when Drive gives no address). */
  account: string;
  /** The id of the top "Lifeboat" folder in My Drive, or null when no copy has made it yet. */
  folderId: string | null;
}

/**
 * Proves that Drive access works now, for `drive status`. A cached access token keeps working for
 * up to an hour after the refresh token was revoked, so the token is refreshed first (a revoked
 * one gives invalid_grant), then Drive is asked two cheap questions with the new token: whose
 * Drive this is (about.get) and whether Lifeboat's folder is there (files.list, pageSize 1).
 */
export async function checkDriveAccess(auth: OAuth2Client, rootUrl: string, topFolder = 'Lifeboat'): Promise<DriveAccess> {
  try {
    await auth.refreshAccessToken();
    const api = driveApi(auth, rootUrl);
    const about = await api.about.get({ fields: 'user(displayName,emailAddress)' });
    const found = await api.files.list({ q: `name = ${quote(topFolder)} and mimeType = '${FOLDER_MIME}' and 'root' in parents and trashed = false`, fields: 'files(id)', pageSize: 1, spaces: 'drive' });
    return { account: about.data.user?.emailAddress ?? about.data.user?.displayName ?? 'an unnamed account', folderId: found.data.files?.[0]?.id ?? null };
  } catch (err) {
    throw driveError(err);
  }
}
