import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { drive_v3 } from '@googleapis/drive';
import type { OAuth2Client } from 'google-auth-library';
import { readPassphrase } from '../config/passphrase.js';
import type { RemoteBackup, downloadFile as DownloadFile } from '../destinations/gdrive/browse.js';
import { lifeboatHome } from '../config/paths.js';
import type { DriveSettings } from '../destinations/gdrive/settings.js';
import { TokenStore } from '../destinations/gdrive/token-store.js';
import { formatBytes } from '../engine/backup.js';
import { EXIT_CODES, LifeboatError } from '../engine/errors.js';
import { tempName } from '../engine/file-ops.js';
import { MANIFEST_SUFFIX, type Manifest } from '../engine/manifest.js';
import { verifyBackup } from '../engine/verify-backup.js';
import { printJson, progressReporter, reportError, say } from './output.js';

interface Filter {
  host?: string;
  job?: string;
  json?: boolean;
}

async function connected(settings: () => Promise<DriveSettings>): Promise<{ auth: OAuth2Client; rootUrl: string }> {
  const { authorizedClient } = await import('../destinations/gdrive/auth.js');
  const s = await settings();
  const auth = authorizedClient(s, new TokenStore(lifeboatHome()));
  if (!auth) throw new LifeboatError('auth', 'Google Drive is set up but not connected.', 'Run `lifeboat drive login` with the Google account that holds the backups.');
  return { auth, rootUrl: s.apiRootUrl };
}

/**
 * Downloads a backup and its manifest under temp names and renames them into place only when
 * both arrived (manifest first, as for every backup), so a dropped line leaves nothing that blocks
 * the next try. An encrypted copy needs the passphrase: that is checked before the big download.
 */
async function fetchInto(api: drive_v3.Drive, pick: RemoteBackup, target: string, o: { passphraseFile?: string; json: boolean; downloadFile: typeof DownloadFile }): Promise<void> {
  const manifestPath = `${target}${MANIFEST_SUFFIX}`;
  for (const p of [target, manifestPath]) {
    if (existsSync(p)) throw new LifeboatError('destination', `${p} exists already.`, 'Fetch into an empty folder, or move the old files away.');
  }
  const dir = dirname(target);
  const tmpManifest = join(dir, tempName(basename(manifestPath)));
  const tmp = join(dir, tempName(pick.name));
  const bar = progressReporter(process.stderr.isTTY && !o.json);
  try {
    await o.downloadFile(api, pick.manifestId ?? '', tmpManifest);
    const manifest = JSON.parse(await readFile(tmpManifest, 'utf8')) as Partial<Manifest>;
    if (manifest.encryption === 'aes-256-gcm') readPassphrase(lifeboatHome(), o.passphraseFile);
    say(`Fetching ${pick.host}/${pick.job}/${pick.name} (${formatBytes(pick.bytes)})…`);
    await o.downloadFile(api, pick.id, tmp, (done) => bar.update({ phase: 'downloading', done, total: pick.bytes }));
    await rename(tmpManifest, manifestPath);
    await rename(tmp, target);
  } catch (err) {
    await Promise.all([rm(tmp, { force: true }), rm(tmpManifest, { force: true })]);
    if (err instanceof LifeboatError) throw err;
    const { driveError } = await import('../destinations/gdrive/auth.js');
    const e = driveError(err);
    // driveError speaks of uploads; here nothing was kept, and the same fetch simply runs again.
    throw e.kind === 'auth' ? e : new LifeboatError(e.kind, e.message, 'Nothing was kept; run the same `lifeboat drive fetch` again once the connection is back.');
  } finally {
    bar.stop();
  }
}

/**
 * `drive list` and `drive fetch`: the way back from Drive when the PC's disk died. On a new PC,
 * `drive setup` with the same OAuth client and `drive login` with the same account see every
 * backup the old one uploaded (Lifeboat/<host>/<job>); fetch downloads one with its manifest and
 * verifies it, ready for `lifeboat restore`.
 */
export function registerDriveFetch(drive: Command, settings: () => Promise<DriveSettings>): void {
  drive.command('list')
    .description('List the backups on Google Drive (every PC and job, or --host / --job), newest first.')
    .option('--host <name>', 'only this PC\'s backups (the folder under Lifeboat/)')
    .option('--job <id>', 'only this job\'s backups')
    .option('--json', 'print the list as JSON')
    .action(async (f: Filter) => {
      try {
        const { findRemoteBackups } = await import('../destinations/gdrive/browse.js');
        const c = await connected(settings);
        const found = await findRemoteBackups(c.auth, c.rootUrl, f);
        if (f.json) printJson({ ok: true, backups: found.map((b) => ({ ...b, time: b.time.toISOString(), complete: b.manifestId !== null })) });
        if (found.length === 0) say(`No Lifeboat backups on this Google Drive${f.host || f.job ? ' for that host or job' : ''}.`);
        for (const b of found) say(`${b.host}/${b.job}  ${b.name}  ${formatBytes(b.bytes)}${b.manifestId ? '' : '  (incomplete: no manifest)'}`);
      } catch (err) {
        process.exitCode = reportError(err, Boolean(f.json));
      }
    });

  drive.command('fetch')
    .description('Download a backup from Google Drive with its manifest and verify it (the newest one unless NAME is given).')
    .argument('[name]', 'the backup file name, as `drive list` shows it')
    .requiredOption('--to <dir>', 'the folder to put it in (created if missing)')
    .option('--host <name>', 'the PC whose backups to look in')
    .option('--job <id>', 'the job whose backups to look in')
    .option('--passphrase-file <path>', 'for an encrypted copy: a file holding the passphrase (or LIFEBOAT_PASSPHRASE)')
    .option('--json', 'print the result as JSON')
    .action(async (name: string | undefined, f: Filter & { to: string; passphraseFile?: string }) => {
      try {
        const { findRemoteBackups, downloadFile, driveApi } = await import('../destinations/gdrive/browse.js');
        const c = await connected(settings);
        const found = (await findRemoteBackups(c.auth, c.rootUrl, f)).filter((b) => (name ? b.name === name : b.manifestId !== null));
        const pick = found[0];
        if (!pick) {
          throw new LifeboatError('source', name ? `${name} is not among the backups on Google Drive${f.host || f.job ? ' for that host or job' : ''}.` : 'There is no complete backup on Google Drive to fetch.',
            'See what there is with `lifeboat drive list`.');
        }
        if (found.length > 1 && name) say(`lifeboat: note: ${found.length} backups are named ${name}; fetching the one of ${pick.host}/${pick.job} (use --host and --job to choose).`);
        if (!pick.manifestId) {
          throw new LifeboatError('source', `${pick.name} has no manifest on Google Drive, so its upload never finished and it cannot be vouched for.`, 'Fetch another backup (see `lifeboat drive list`).');
        }
        const dir = resolve(f.to);
        await mkdir(dir, { recursive: true });
        const target = join(dir, pick.name);
        await fetchInto(driveApi(c.auth, c.rootUrl), pick, target, { passphraseFile: f.passphraseFile, json: Boolean(f.json), downloadFile });
        let v;
        try {
          v = await verifyBackup(target, 'quick', { passphraseFile: f.passphraseFile });
        } catch (err) {
          // A wrong passphrase, say: the download itself is fine and worth keeping.
          say(`lifeboat: the download is kept: ${target}. Check it with \`lifeboat verify ${target} --passphrase-file FILE\`.`);
          throw err;
        }
        if (f.json) printJson({ ok: v.ok, file: target, host: pick.host, job: pick.job, bytes: v.bytes, problems: v.problems, snapshotAt: v.manifest.snapshotAt });
        if (!v.ok) {
          await Promise.all([rm(target, { force: true }), rm(`${target}${MANIFEST_SUFFIX}`, { force: true })]);
          say(`lifeboat: ${pick.name} arrived damaged (${v.problems.join('; ')}), so it was not kept. Fetch it again, or another backup (see \`lifeboat drive list\`).`);
          process.exitCode = EXIT_CODES.check;
          return;
        }
        say(`Fetched and verified: ${target} (taken ${v.manifest.snapshotAt} from ${v.manifest.source.path} on ${pick.host}).`);
        say(`Restore it with: lifeboat restore --from ${target} --to PATH-OF-THE-POS-DATABASE${v.manifest.encryption === 'aes-256-gcm' ? ' --passphrase-file FILE' : ''}`);
      } catch (err) {
        process.exitCode = reportError(err, Boolean(f.json));
      }
    });
}
