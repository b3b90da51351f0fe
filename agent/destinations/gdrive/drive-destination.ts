import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { drive, type drive_v3 } from '@googleapis/drive';
import type { OAuth2Client } from 'google-auth-library';
import { LifeboatError } from '../../engine/errors.js';
import type { ByteProgress } from '../../engine/file-ops.js';
import type { Destination, StoredObject } from '../destination.js';
import { driveError } from './auth.js';
import { resumableUpload, type UploadOptions } from './resumable.js';

const FOLDER_MIME = 'application/vnd.google-apps.folder';

export interface DriveDestinationOptions {
  auth: OAuth2Client;
  rootUrl: string;
  /** Folder path under My Drive, e.g. ["Lifeboat", "till-1", "pos"]. */
  folderPath: string[];
  /** Where the folder's id is remembered, so it is found again by id (names can repeat on Drive). */
  stateFile: string;
  upload?: UploadOptions;
}

async function md5File(path: string): Promise<string> {
  const hash = createHash('md5');
  await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), async function* (src: AsyncIterable<Buffer>) {
    for await (const chunk of src) hash.update(chunk);
  });
  return hash.digest('hex');
}

const quote = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/**
 * Google Drive, through the per-API client (@googleapis/drive) for listing, reading and deleting,
 * and the resumable protocol for uploads. After an upload, Drive's md5Checksum must equal the
 * local file's MD5, or the upload failed (and the bad copy is deleted).
 */
export class DriveDestination implements Destination {
  readonly kind = 'gdrive';
  private readonly api: drive_v3.Drive;
  private folderId: string | null = null;

  constructor(private readonly o: DriveDestinationOptions) {
    this.api = drive({ version: 'v3', auth: o.auth, rootUrl: o.rootUrl.endsWith('/') ? o.rootUrl : `${o.rootUrl}/` });
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

  async put(localPath: string, name: string, _sha256: string, onProgress?: ByteProgress): Promise<StoredObject> {
    const parent = await this.folder();
    const localMd5 = await md5File(localPath);
    let file;
    try {
      file = await resumableUpload(this.o.auth, this.o.rootUrl, { name, parents: [parent] }, localPath, { ...this.o.upload, onProgress });
    } catch (err) {
      throw driveError(err);
    }
    if (file.md5Checksum !== localMd5) {
      await this.api.files.delete({ fileId: file.id }).catch(() => {});
      throw new LifeboatError('destination', `The copy on Google Drive does not match the backup (MD5 ${file.md5Checksum ?? 'missing'} instead of ${localMd5}).`,
        'The upload was damaged on the way and was deleted; it is retried on the next run.');
    }
    return { name: file.name ?? name, bytes: Number(file.size ?? 0), id: file.id };
  }

  async list(): Promise<StoredObject[]> {
    const parent = await this.folder();
    const out: StoredObject[] = [];
    let pageToken: string | undefined;
    try {
      do {
        const r = await this.api.files.list({ q: `${quote(parent)} in parents and trashed = false`, fields: 'nextPageToken,files(id,name,size)', pageSize: 1000, pageToken });
        for (const f of r.data.files ?? []) if (f.id && f.name) out.push({ name: f.name, bytes: Number(f.size ?? 0), id: f.id });
        pageToken = r.data.nextPageToken ?? undefined;
      } while (pageToken);
    } catch (err) {
      throw driveError(err);
    }
    return out;
  }

  private async idOf(name: string): Promise<string> {
    const hit = (await this.list()).find((f) => f.name === name);
    if (!hit) throw new LifeboatError('source', `${name} is not on Google Drive (${this.label}).`, 'Check the name with `lifeboat prune --dry-run` or in Drive.');
    return hit.id;
  }

  async get(name: string, toPath: string): Promise<void> {
    const id = await this.idOf(name);
    try {
      const r = await this.api.files.get({ fileId: id, alt: 'media' }, { responseType: 'stream' });
      await pipeline(r.data as unknown as Readable, createWriteStream(toPath, { flags: 'wx' }));
    } catch (err) {
      throw driveError(err);
    }
  }

  async delete(name: string): Promise<void> {
    const id = await this.idOf(name);
    try {
      await this.api.files.delete({ fileId: id });
    } catch (err) {
      throw driveError(err);
    }
  }
}
