import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Destination as DestinationConfig, Job, Settings } from '../config/job.js';
import { LifeboatError } from '../engine/errors.js';
import type { Destination } from './destination.js';
import { FolderDestination } from './folder.js';
import { driveSettings } from './gdrive/settings.js';
import { TokenStore } from './gdrive/token-store.js';

/** A stable key for a destination of a job (pending uploads are recorded under it). */
export function destinationKey(d: DestinationConfig): string {
  return d.kind === 'folder' ? `folder:${d.path}` : 'gdrive';
}

export function describeDestination(d: DestinationConfig): string {
  const extras = [d.gzip ? 'gzip' : '', d.encrypt ? 'encrypted' : ''].filter(Boolean).join(', ');
  return `${d.kind === 'folder' ? d.path : 'Google Drive'}${extras ? ` (${extras})` : ''}`;
}

/**
 * The one place that knows which module serves which kind of destination. The Google client
 * libraries are loaded only when a job has a Drive destination: they cost the idle agent about
 * 15 MiB of RSS otherwise.
 */
export async function openDestination(d: DestinationConfig, job: Job, ctx: { home: string; settings: Settings; env?: NodeJS.ProcessEnv }): Promise<Destination> {
  if (d.kind === 'folder') return new FolderDestination(d.path);
  const s = driveSettings(ctx.env ?? process.env, ctx.settings.drive);
  if (!s) {
    throw new LifeboatError('config', 'Google Drive is not set up (no OAuth client id).',
      'Run `lifeboat drive setup --client-id ID --client-secret SECRET` with a "Desktop app" client from Google Cloud console, then `lifeboat drive login`.');
  }
  const { authorizedClient } = await import('./gdrive/auth.js');
  const { DriveDestination } = await import('./gdrive/drive-destination.js');
  const auth = authorizedClient(s, new TokenStore(ctx.home));
  if (!auth) throw new LifeboatError('auth', 'Google Drive is not connected.', 'Run `lifeboat drive login` to connect it.');
  return new DriveDestination({
    auth,
    rootUrl: s.apiRootUrl,
    folderPath: ['Lifeboat', hostname(), job.id],
    stateFile: join(ctx.home, `drive-folder-${job.id}.json`),
  });
}
