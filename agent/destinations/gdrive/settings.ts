/**
 * How Lifeboat reaches Google: the OAuth client (made by whoever sets Lifeboat up, in Google
 * Cloud console, type "Desktop app") and the endpoints. The endpoints are settings so that tests,
 * and people behind a proxy, can point them elsewhere.
 */
export interface DriveSettings {
  clientId: string;
  /** Google calls a desktop client's secret "not secret"; it is still never logged. */
  clientSecret: string;
  apiRootUrl: string;
  tokenUrl: string;
  authUrl: string;
  /** Where `drive logout` revokes the refresh token (RFC 7009). */
  revokeUrl: string;
}

export const GOOGLE_ENDPOINTS = {
  apiRootUrl: 'https://www.googleapis.com/',
  tokenUrl: 'https://oauth2.googleapis.com/token',
  authUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
  revokeUrl: 'https://oauth2.googleapis.com/revoke',
};

/** Only files Lifeboat creates: no Google security review needed, and no access to the rest of the Drive. */
export const DRIVE_SCOPE = 'https://www.googleapis.com/auth/drive.file';

export function driveSettings(env: NodeJS.ProcessEnv, stored: Partial<DriveSettings> | undefined): DriveSettings | null {
  const clientId = env.LIFEBOAT_DRIVE_CLIENT_ID ?? stored?.clientId;
  const clientSecret = env.LIFEBOAT_DRIVE_CLIENT_SECRET ?? stored?.clientSecret ?? '';
  if (!clientId) return null;
  return {
    clientId,
    clientSecret,
    apiRootUrl: env.LIFEBOAT_DRIVE_API_URL ?? stored?.apiRootUrl ?? GOOGLE_ENDPOINTS.apiRootUrl,
    tokenUrl: env.LIFEBOAT_DRIVE_TOKEN_URL ?? stored?.tokenUrl ?? GOOGLE_ENDPOINTS.tokenUrl,
    authUrl: env.LIFEBOAT_DRIVE_AUTH_URL ?? stored?.authUrl ?? GOOGLE_ENDPOINTS.authUrl,
    revokeUrl: revokeUrlOf(env, stored),
  };
}

/** Apart from the other settings: a token can be revoked even when the OAuth client is gone from the config. */
export function revokeUrlOf(env: NodeJS.ProcessEnv, stored: Partial<DriveSettings> | undefined): string {
  return env.LIFEBOAT_DRIVE_REVOKE_URL ?? stored?.revokeUrl ?? GOOGLE_ENDPOINTS.revokeUrl;
}
