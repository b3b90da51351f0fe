import { createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { drive, type drive_v3 } from '@googleapis/drive';
import type { OAuth2Client } from 'google-auth-library';
import { MANIFEST_SUFFIX } from '../../engine/manifest.js';
import { parseBackupName } from '../destination.js';
import { driveError } from './auth.js';

export const FOLDER_MIME = 'application/vnd.google-apps.folder';

export const quote = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export function driveApi(auth: OAuth2Client, rootUrl: string): drive_v3.Drive {
  return drive({ version: 'v3', auth, rootUrl: rootUrl.endsWith('/') ? rootUrl : `${rootUrl}/` });
}

export interface DriveItem {
  id: string;
  name: string;
  bytes: number;
  folder: boolean;
}

/** Everything in folder PARENT that is not in the trash (only its folders with FOLDERS_ONLY), over all pages. */
export async function children(api: drive_v3.Drive, parent: string, foldersOnly: boolean): Promise<DriveItem[]> {
  const out: DriveItem[] = [];
  let pageToken: string | undefined;
  do {
    const r = await api.files.list({
      q: `${quote(parent)} in parents and trashed = false${foldersOnly ? ` and mimeType = '${FOLDER_MIME}'` : ''}`,
      fields: 'nextPageToken,files(id,name,size,mimeType)', pageSize: 1000, pageToken, spaces: 'drive',
    });
    for (const f of r.data.files ?? []) {
      if (f.id && f.name) out.push({ id: f.id, name: f.name, bytes: Number(f.size ?? 0), folder: f.mimeType === FOLDER_MIME });
    }
    pageToken = r.data.nextPageToken ?? undefined;
  } while (pageToken);
  return out;
}

export interface RemoteBackup {
  host: string;
  job: string;
  name: string;
  id: string;
  bytes: number;
  /** The snapshot time, from the name. */
  time: Date;
  /** The id of the manifest beside it; null when it is missing (the upload never finished). */
  manifestId: string | null;
}

/**
 * The backups under Lifeboat/<host>/<job> in My Drive, newest first, without creating anything:
 * what `drive list` shows and `drive fetch` picks from, also on a new PC after the old one died
 * (drive.file lets the same OAuth client see the files it made from any machine).
 */
export async function findRemoteBackups(auth: OAuth2Client, rootUrl: string, filter: { host?: string; job?: string } = {}): Promise<RemoteBackup[]> {
  const api = driveApi(auth, rootUrl);
  const out: RemoteBackup[] = [];
  try {
    const top = (await children(api, 'root', true)).filter((f) => f.name === 'Lifeboat');
    for (const t of top) {
      for (const host of (await children(api, t.id, true)).filter((h) => !filter.host || h.name === filter.host)) {
        for (const job of (await children(api, host.id, true)).filter((j) => !filter.job || j.name === filter.job)) {
          const files = (await children(api, job.id, false)).filter((f) => !f.folder);
          const manifests = new Map(files.filter((f) => f.name.endsWith(MANIFEST_SUFFIX)).map((f) => [f.name, f.id]));
          for (const f of files) {
            const parsed = parseBackupName(f.name);
            if (!parsed) continue;
            out.push({ host: host.name, job: job.name, name: f.name, id: f.id, bytes: f.bytes, time: parsed.time, manifestId: manifests.get(`${f.name}${MANIFEST_SUFFIX}`) ?? null });
          }
        }
      }
    }
  } catch (err) {
    throw driveError(err);
  }
  return out.sort((a, b) => b.time.getTime() - a.time.getTime() || a.host.localeCompare(b.host));
}

/** Streams one Drive file into TO_PATH, which must not exist yet. */
export async function downloadFile(api: drive_v3.Drive, fileId: string, toPath: string, onBytes?: (done: number) => void): Promise<void> {
  const r = await api.files.get({ fileId, alt: 'media' }, { responseType: 'stream' });
  let done = 0;
  const body = r.data as unknown as Readable;
  if (onBytes) body.on('data', (c: Buffer) => onBytes((done += c.length)));
  await pipeline(body, createWriteStream(toPath, { flags: 'wx' }));
}
