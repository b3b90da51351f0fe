import { hostname } from 'node:os';
import type { Command } from 'commander';
import { lifeboatHome } from '../config/paths.js';
import { driveSettings, revokeUrlOf } from '../destinations/gdrive/settings.js';
import { TokenStore } from '../destinations/gdrive/token-store.js';
import { LifeboatError } from '../engine/errors.js';
import { registerDriveFetch } from './drive-fetch.js';
import { configStore } from './load-store.js';
import { printJson, reportError, say } from './output.js';

/** Loaded on use: every `lifeboat` process, the agent too, would otherwise carry the Google client libraries. */
const auth = (): Promise<typeof import('../destinations/gdrive/auth.js')> => import('../destinations/gdrive/auth.js');

async function settingsOrThrow(): Promise<NonNullable<ReturnType<typeof driveSettings>>> {
  const s = driveSettings(process.env, (await configStore(lifeboatHome())).load().settings.drive);
  if (!s) {
    throw new LifeboatError('config', 'Google Drive is not set up: there is no OAuth client id.',
      'Create a "Desktop app" OAuth client in Google Cloud console (and publish it, or its tokens expire after 7 days), then run `lifeboat drive setup --client-id ID --client-secret SECRET`.');
  }
  return s;
}

export function registerDrive(program: Command): void {
  const drive = program.command('drive').description('Connect Lifeboat to Google Drive for off-site copies.');

  drive.command('setup')
    .description('Store the OAuth client (a "Desktop app" client from Google Cloud console) and, if needed, other endpoints.')
    .requiredOption('--client-id <id>', 'the OAuth client id')
    .option('--client-secret <secret>', 'the OAuth client secret', '')
    .option('--api-url <url>', 'Drive API root (default https://www.googleapis.com/)')
    .option('--token-url <url>', 'OAuth token endpoint (default https://oauth2.googleapis.com/token)')
    .option('--auth-url <url>', 'OAuth consent page (default https://accounts.google.com/o/oauth2/v2/auth)')
    .option('--revoke-url <url>', 'OAuth token revocation endpoint, used by `drive logout` (default https://oauth2.googleapis.com/revoke)')
    .action(async (f: { clientId: string; clientSecret: string; apiUrl?: string; tokenUrl?: string; authUrl?: string; revokeUrl?: string }) => {
      try {
        (await configStore(lifeboatHome())).updateSettings({
          drive: {
            clientId: f.clientId, clientSecret: f.clientSecret,
            ...(f.apiUrl ? { apiRootUrl: f.apiUrl } : {}), ...(f.tokenUrl ? { tokenUrl: f.tokenUrl } : {}), ...(f.authUrl ? { authUrl: f.authUrl } : {}), ...(f.revokeUrl ? { revokeUrl: f.revokeUrl } : {}),
          },
        });
        say('Google Drive client stored. Next: `lifeboat drive login`.');
      } catch (err) {
        process.exitCode = reportError(err, false);
      }
    });

  drive.command('login')
    .description('Sign in to Google in the browser and allow Lifeboat to keep its own files on Drive (scope drive.file).')
    .option('--no-browser', 'only print the address to open (for a machine without a browser)')
    .action(async (f: { browser: boolean }) => {
      const { driveError, loginFlow } = await auth();
      try {
        const store = new TokenStore(lifeboatHome());
        await loginFlow(await settingsOrThrow(), store, { say, openBrowser: f.browser });
        say(`Google Drive is connected. The tokens are in ${store.path} (readable by this user only).`);
      } catch (err) {
        process.exitCode = reportError(driveError(err), false);
      }
    });

  drive.command('logout')
    .description('Forget the Google Drive tokens (and revoke them at Google where possible).')
    .action(async () => {
      try {
        const { revokeToken } = await auth();
        const store = new TokenStore(lifeboatHome());
        const revokeUrl = revokeUrlOf(process.env, (await configStore(lifeboatHome())).load().settings.drive);
        const token = store.read()?.refresh_token;
        if (token) {
          try {
            if (await revokeToken(revokeUrl, token) === 'already-invalid') say('Google had already revoked this access (or it had expired).');
          } catch (err) {
            // The local copy goes anyway: logging out must work offline, and a kept token would be worse.
            say(`lifeboat: warning: could not revoke Lifeboat's access at Google (${err instanceof Error ? err.message : String(err)}). `
              + 'The token is deleted from this computer anyway; to cut off access at Google too, remove Lifeboat at https://myaccount.google.com/permissions.');
          }
        }
        store.clear();
        say(`Google Drive is disconnected: the tokens were deleted (${store.path}).`);
      } catch (err) {
        process.exitCode = reportError(err, false);
      }
    });

  drive.command('status')
    .description('Whether Google Drive is set up and connected, and whether the connection still works.')
    .option('--json', 'print the result as JSON')
    .action(async (f: { json?: boolean }) => {
      const { authorizedClient } = await auth();
      const { checkDriveAccess } = await import('../destinations/gdrive/drive-destination.js');
      try {
        const s = await settingsOrThrow();
        const store = new TokenStore(lifeboatHome());
        const client = authorizedClient(s, store);
        if (!client) throw new LifeboatError('auth', 'Google Drive is set up but not connected.', 'Run `lifeboat drive login`.');
        const access = await checkDriveAccess(client, s.apiRootUrl);
        const folder = `Lifeboat/${hostname()}`;
        if (f.json) printJson({ ok: true, connected: true, account: access.account, folder, folderId: access.folderId, clientId: s.clientId, apiRootUrl: s.apiRootUrl });
        say(`Google Drive is connected as ${access.account}, and the access works (checked with Google just now).`);
        say(access.folderId ? `Backups go to ${folder}/<job> in My Drive.` : `Backups will go to ${folder}/<job> in My Drive; the folder is made with the first copy.`);
      } catch (err) {
        process.exitCode = reportError(err, Boolean(f.json));
      }
    });

  registerDriveFetch(drive, settingsOrThrow);
}
