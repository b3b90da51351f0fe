import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CodeChallengeMethod, gaxios, OAuth2Client } from 'google-auth-library';
import { LifeboatError } from '../../engine/errors.js';
import { DRIVE_SCOPE, type DriveSettings } from './settings.js';
import type { TokenStore } from './token-store.js';

export function oauthClient(s: DriveSettings, redirectUri?: string): OAuth2Client {
  return new OAuth2Client({
    clientId: s.clientId,
    clientSecret: s.clientSecret,
    redirectUri,
    endpoints: { oauth2TokenUrl: s.tokenUrl, oauth2AuthBaseUrl: s.authUrl, oauth2RevokeUrl: s.revokeUrl },
  });
}

/** A client with the stored tokens that saves refreshed ones; null when Drive was never connected. */
export function authorizedClient(s: DriveSettings, store: TokenStore): OAuth2Client | null {
  const tokens = store.read();
  if (!tokens?.refresh_token) return null;
  const client = oauthClient(s);
  client.setCredentials(tokens);
  client.on('tokens', (t) => store.write(t));
  return client;
}

/**
 * Revokes TOKEN at REVOKE_URL the way RFC 7009 and Google's docs describe: a POST with the token in
 * the form body. (OAuth2Client.revokeToken puts it in the query string, where proxies and server
 * logs keep it.) 'already-invalid' is Google's 400 invalid_token: nothing left to revoke.
 */
export async function revokeToken(revokeUrl: string, token: string, timeoutMs = 15_000): Promise<'revoked' | 'already-invalid'> {
  const res = await gaxios.request<unknown>({
    url: revokeUrl,
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    data: new URLSearchParams({ token }).toString(),
    timeout: timeoutMs,
    retry: false,
    validateStatus: () => true,
  });
  if (res.status === 200) return 'revoked';
  if (res.status === 400 && /invalid_token/.test(JSON.stringify(res.data ?? ''))) return 'already-invalid';
  throw new Error(`HTTP ${res.status} from ${revokeUrl}`);
}

/** Opens URL in the person's browser; on a machine without one, the printed URL is the way. */
function openBrowser(url: string): void {
  const [cmd, args] = process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url.replace(/&/g, '^&')]]
    : process.platform === 'darwin' ? ['open', [url]] : ['xdg-open', [url]];
  try {
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
  } catch {
    // No opener: the URL was printed for the person to open by hand.
  }
}

const PAGE = (title: string, body: string): string =>
  `<!doctype html><meta charset="utf-8"><title>${title}</title><body style="font-family:sans-serif;max-width:36em;margin:4em auto"><h1>${title}</h1><p>${body}</p></body>`;

/**
 * The OAuth desktop flow (RFC 8252): a one-shot HTTP server on 127.0.0.1 receives the redirect,
 * PKCE (S256) binds the code to this process, `state` to this attempt. Scope drive.file only.
 */
export async function loginFlow(s: DriveSettings, store: TokenStore, opts: { say: (line: string) => void; openBrowser?: boolean; timeoutMs?: number }): Promise<void> {
  const state = randomBytes(16).toString('hex');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const redirectUri = `http://127.0.0.1:${port}/`;
  const client = oauthClient(s, redirectUri);
  const { codeVerifier, codeChallenge } = await client.generateCodeVerifierAsync();
  const url = client.generateAuthUrl({
    access_type: 'offline', prompt: 'consent', scope: [DRIVE_SCOPE], state,
    code_challenge_method: CodeChallengeMethod.S256, code_challenge: codeChallenge,
  });
  try {
    const code = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new LifeboatError('auth', 'No answer from the browser within 5 minutes.', 'Run `lifeboat drive login` again and finish the sign-in in the browser.')), opts.timeoutMs ?? 300_000);
      server.on('request', (req, res) => {
        const q = new URL(req.url ?? '/', redirectUri).searchParams;
        if (!q.has('code') && !q.has('error')) {
          res.writeHead(404).end();
          return;
        }
        clearTimeout(timer);
        if (q.get('state') !== state) {
          res.writeHead(400, { 'content-type': 'text/html' }).end(PAGE('Lifeboat: sign-in refused', 'This answer does not belong to the sign-in Lifeboat started. Start again from Lifeboat.'));
          reject(new LifeboatError('auth', 'The browser answered for another sign-in (state mismatch).', 'Run `lifeboat drive login` again.'));
          return;
        }
        const error = q.get('error');
        if (error) {
          res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE('Lifeboat was not connected', `Google said: ${error}. You can close this tab.`));
          reject(new LifeboatError('auth', `Google Drive was not connected (${error}).`, 'Run `lifeboat drive login` again and allow access.'));
          return;
        }
        res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE('Lifeboat is connected to Google Drive', 'You can close this tab.'));
        resolve(q.get('code') ?? '');
      });
      opts.say(`Open this address to connect Google Drive (a browser should open by itself):\n  ${url}`);
      if (opts.openBrowser !== false) openBrowser(url);
    });
    const { tokens } = await client.getToken({ code, codeVerifier, redirect_uri: redirectUri });
    if (!tokens.refresh_token) {
      throw new LifeboatError('auth', 'Google gave no refresh token, so Lifeboat could not stay connected.',
        'Remove Lifeboat\'s access at myaccount.google.com/permissions, then run `lifeboat drive login` again.');
    }
    store.write(tokens);
  } finally {
    server.close();
  }
}

/** Turns what Google's libraries throw into a failure that says what to do. */
export function driveError(err: unknown): LifeboatError {
  if (err instanceof LifeboatError) return err;
  const e = err as { message?: string; status?: number; response?: { status?: number; data?: unknown }; code?: string };
  const data = e.response?.data;
  const text = `${e.message ?? ''} ${typeof data === 'string' ? data : JSON.stringify(data ?? '')}`;
  if (/invalid_grant/.test(text)) {
    return new LifeboatError('auth', 'Google Drive access has expired or was revoked, so the copy to Drive failed.',
      'Reconnect Google Drive with `lifeboat drive login` (if it expires every 7 days, the OAuth client is still in "Testing": publish it). The local backup is kept.');
  }
  if (/insufficientPermissions|insufficientFilePermissions|ACCESS_TOKEN_SCOPE_INSUFFICIENT/.test(text)) {
    return new LifeboatError('auth', 'Google Drive refused Lifeboat access (insufficient permissions), so the copy to Drive failed.',
      'Reconnect with `lifeboat drive login` and allow Lifeboat to keep its own files on Drive. The local backup is kept.');
  }
  if (/userRateLimitExceeded|rateLimitExceeded/.test(text)) {
    return new LifeboatError('destination', 'Google Drive kept refusing requests as too many (rate limit exceeded), so the copy to Drive failed.',
      'Nothing needs doing: the local backup is kept and the upload is retried on the next run. If it keeps happening, raise the Drive API quota in Google Cloud console.');
  }
  if (/storageQuotaExceeded|quotaExceeded/.test(text)) {
    return new LifeboatError('destination', 'Google Drive is full (storage quota exceeded), so the copy to Drive failed.',
      'Free space in Google Drive or buy more storage; the local backup is kept and the upload is retried on the next run.');
  }
  const status = e.response?.status ?? e.status;
  return new LifeboatError('destination', `Google Drive could not be reached or refused the request${status ? ` (HTTP ${status})` : ''}: ${e.message ?? String(err)}`,
    'Check the internet connection; the local backup is kept and the upload is retried on the next run.');
}
